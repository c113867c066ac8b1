package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// runDev runs houqin in one process: the event store and read models (SQLite
// under --data unless DSNs say otherwise), the projector, and the HTTP
// server with health, readiness and metrics. The embedded Temporal server,
// worker and process API join it as they land (see docs/ARCHITECTURE.md).
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("http", "127.0.0.1:8080", "HTTP listen address (port 0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	store, err := openEventStore(ctx, sf.eventsDSN(), reg)
	if err != nil {
		return err
	}
	defer store.Close()
	db, err := openReadModels(ctx, sf.readModelsDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	runner := projections.NewRunner(store, db, allProjections(), projections.Options{Registerer: reg, Logger: log})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: devRouter(store, runner, reg), ReadHeaderTimeout: 10 * time.Second}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() {
		if err := runner.Run(ctx); err != nil {
			errc <- fmt.Errorf("projector: %w", err)
		}
	})
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	})
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "houqin dev\n  events:      %s\n  read models: %s\n  health:      %s/healthz  %s/readyz\n  metrics:     %s/metrics\napi: %s\n",
		sf.eventsDSN(), sf.readModelsDSN(), url, url, url, url)

	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}
	log.Info("shutting down")
	shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if serr := srv.Shutdown(shutdown); serr != nil && err == nil {
		err = serr
	}
	cancel()
	wg.Wait()
	return err
}

// devRouter serves health, readiness and metrics.
func devRouter(store houqin.EventStore, runner *projections.Runner, reg *prometheus.Registry) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]string{"event_store": "ok", "projections": "ok"}
		status := http.StatusOK
		if _, err := store.Head(r.Context()); err != nil {
			checks["event_store"], status = "unavailable", http.StatusServiceUnavailable
		}
		if !runner.Ready() {
			checks["projections"], status = "catching up", http.StatusServiceUnavailable
		}
		writeJSON(w, status, checks)
	})
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return r
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
