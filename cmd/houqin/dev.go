package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/devserver"
	"github.com/houqin/houqin/metrics"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/web"
	"github.com/houqin/houqin/worker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
)

// runDev runs all of houqin in one process: an embedded Temporal server
// (SQLite under --data), the worker, the projector and the API.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("http", "127.0.0.1:8080", "API listen address (port 0 picks a free one)")
	temporalPort := fs.Int("temporal-port", 7233, "embedded Temporal frontend port (0 picks a free one)")
	uiPort := fs.Int("ui-port", 0, "Temporal Web UI port (0 picks a free one, -1 disables it)")
	orgFile := fs.String("org", "", "organisation YAML (default: the embedded demo organisation)")
	policyFile := fs.String("policy", "", "approval policy YAML (default: the embedded config/policy.yaml)")
	checklistsFile := fs.String("checklists", "", "inspection checklists YAML (default: the embedded config/checklists.yaml)")
	jwks := fs.String("jwks-url", "", "verify RS256 tokens against this JWKS URL instead of the dev HS256 key")
	withWorker := fs.Bool("worker", true, "run the Temporal worker in this process (false: run `houqin worker` separately)")
	reorderer := fs.String("reorderer", "", "user who requests reorders of items below their reorder point (default: the first user with role warehouse)")
	anchorEvery := fs.Duration("anchor-interval", time.Hour, "append an audit anchor at start and then this often (0: never)")
	maxTolerance := fs.Int("max-tolerance-bp", houqin.DefaultMaxToleranceBP, "widest tolerance band of a new budget line, in basis points")
	reassignEvery := fs.Duration("reassign-interval", time.Minute, "how often the open tasks of users who left the organisation move to their successors")
	retention := fs.Duration("retention", devserver.DefaultRetention, "how long the embedded Temporal server keeps closed workflows' histories")
	reconcileEvery := fs.Duration("reconcile-interval", 10*time.Second, "how often processes whose workflow ended outside houqin (terminated, timed out, failed) are recorded as terminated")
	histories := fs.String("histories", "", "directory of the kept copies of closed workflow histories (default DATA/histories)")
	keepEvery := fs.Duration("keep-interval", time.Minute, "how often the histories of newly closed processes are copied to --histories (0: never)")
	notifyFile := fs.String("notify-config", "", "notifications YAML: the public URL and the channels (docs/NOTIFICATIONS.md); default: the bell only, nothing sent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	org, err := loadOrg(*orgFile)
	if err != nil {
		return err
	}
	policy, err := loadPolicy(*policyFile)
	if err != nil {
		return err
	}
	checklists, err := loadChecklists(*checklistsFile)
	if err != nil {
		return err
	}
	kpi, err := sf.kpiConfig()
	if err != nil {
		return err
	}
	reg := newRegistry()
	store, db, closeStores, err := sf.openBoth(ctx, reg)
	if err != nil {
		return err
	}
	defer closeStores()
	runner := projections.NewRunner(store, db, allProjections(kpi), projections.Options{Registerer: reg, Logger: log})

	temporal, err := devserver.Start(ctx, devserver.Config{
		DataDir: filepath.Join(sf.data, "temporal"), Port: *temporalPort, UIPort: *uiPort, Logger: log, Retention: *retention})
	if err != nil {
		return fmt.Errorf("embedded temporal: %w", err)
	}
	defer temporal.Stop()
	tc, err := dialTemporal(ctx, temporal.FrontendAddr(), stderr, reg)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := worker.RegisterSearchAttributes(ctx, tc, temporal.Namespace()); err != nil {
		return err
	}
	acts := &activities.Activities{Store: store, Org: org, Now: time.Now, Temporal: tc, Policy: policy, Reorderer: *reorderer}
	if *withWorker {
		w := worker.New(tc, acts, sdkworker.Options{})
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		defer w.Stop()
	}

	auth, err := newAuthenticator(ctx, sf.data, *jwks, org)
	if err != nil {
		return err
	}
	var devKey []byte // the dev login signs in with the dev key; never beside a real identity provider
	if *jwks == "" {
		if devKey, err = api.LoadOrCreateDevKey(sf.data); err != nil {
			return err
		}
	}
	srv := api.NewServer(api.Config{Store: store, ReadModels: db, Progress: runner, Temporal: tc, Org: org, Policy: policy, Checklists: checklists,
		Auth: auth, Logger: log, Registry: reg, KPI: kpi, Scratch: sqlite.OpenScratch, MaxToleranceBP: *maxTolerance,
		DevKey: devKey, SessionKey: devKey, Web: web.Handler()})
	// Surveys after completed services: a runner of its own, so that a
	// Temporal outage never holds up the read models.
	trigger := projections.NewRunner(store, db, []projections.Projection{&worker.SurveyTrigger{
		Store: store, Temporal: tc, Org: org, Config: kpi.Survey, Logger: log}}, projections.Options{Logger: log})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	url := "http://" + ln.Addr().String()
	ui := "disabled"
	if temporal.UIAddr() != "" {
		ui = "http://" + temporal.UIAddr()
	}
	banner := fmt.Sprintf(`houqin dev
  temporal:     %s (namespace default), web UI %s
  events:       %s
  read models:  %s
  health:       %s/healthz  %s/readyz   metrics: %s/metrics   openapi: %s/openapi.json
  token:        go run ./cmd/houqin token --data %s wang.fang
`, temporal.FrontendAddr(), ui, sf.eventsDSN(), sf.readModelsDSN(), url, url, url, url, sf.data)
	reassigner := &worker.Reassigner{Org: org, ReadModels: db, Temporal: tc, Interval: *reassignEvery, Logger: log}
	reconciler := &worker.Reconciler{Store: store, Temporal: tc, Activities: acts, Interval: *reconcileEvery, Logger: log}
	loops := append(withAnchorer(runner.Run, store, *anchorEvery, log), trigger.Run, reassigner.Run, reconciler.Run)
	if *keepEvery > 0 {
		keeper := &worker.HistoryKeeper{Store: store, Temporal: tc, Dir: cmp.Or(*histories, filepath.Join(sf.data, "histories")), Interval: *keepEvery, Logger: log}
		loops = append(loops, keeper.Run)
	}
	if sender, err := newSender(ctx, *notifyFile, db, org, log, reg); err != nil {
		return err
	} else if sender != nil {
		loops = append(loops, sender.Run)
	}
	return serve(ctx, log, stdout, banner, url, ln, srv.Handler(), loops...)
}

// serve runs the HTTP server and the background loops until ctx ends or one
// fails, then shuts down gracefully. It prints banner and "api: URL" once
// the server listens.
func serve(ctx context.Context, log *slog.Logger, stdout io.Writer, banner, url string, ln net.Listener, h http.Handler, loops ...func(context.Context) error) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(loops)+1)
	for _, loop := range loops {
		wg.Go(func() {
			if err := loop(ctx); err != nil {
				errc <- err
			}
		})
	}
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	})
	fmt.Fprintf(stdout, "%sapi: %s\n", banner, url)
	var err error
	select {
	case <-ctx.Done():
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

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func newAuthenticator(ctx context.Context, data, jwksURL string, org *houqin.Org, opts ...api.Option) (*api.Authenticator, error) {
	if jwksURL != "" {
		return api.NewJWKS(ctx, jwksURL, org, opts...)
	}
	key, err := api.LoadOrCreateDevKey(data)
	if err != nil {
		return nil, err
	}
	return api.NewHS256(key, org, opts...), nil
}

// dialTemporal connects an SDK client, with its metrics in reg and its
// warnings and errors on stderr.
func dialTemporal(ctx context.Context, hostPort string, stderr io.Writer, reg prometheus.Registerer) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort: hostPort, Namespace: "default",
		Logger:         sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
		MetricsHandler: metrics.NewTemporal(reg),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", hostPort, err)
	}
	return c, nil
}
