package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// refusing is a projection that cannot apply events of one type.
type refusing struct{ typ string }

func (refusing) Name() string                         { return "refusing" }
func (refusing) Version() int                         { return 1 }
func (refusing) Setup(context.Context, *sql.Tx) error { return nil }
func (refusing) Reset(context.Context, *sql.Tx) error { return nil }
func (p refusing) Apply(_ context.Context, _ *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		if e.Type == p.typ {
			return errors.New("cannot apply")
		}
	}
	return nil
}

// TestReadyzNamesAFailedProjection: /readyz is 503 and names a projection
// stopped at an event it cannot apply, with the stream and position.
func TestReadyzNamesAFailedProjection(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	events := storetest.NewEvents(3)
	events[1].Type = "test.refused"
	out := storetest.MustAppend(t, f.store, "procurement-PR-1", houqin.ExpectAny, events...)
	r := projections.NewRunner(f.store, f.db, []projections.Projection{refusing{typ: out[1].Type}},
		projections.Options{PollInterval: 10 * time.Millisecond, RetryInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for len(r.Failures()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the projection's failure was not reported within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv := api.NewServer(api.Config{Store: f.store, ReadModels: f.db, Progress: r, Temporal: f.temporal,
		Org: f.org, Policy: f.policy, Auth: api.NewHS256(f.key, f.org), Registry: prometheus.NewRegistry(),
		Now: f.clock, WaitLimit: time.Second}).Handler()
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var checks map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &checks); err != nil {
		t.Fatalf("status %d, body %q: %v", w.Code, w.Body, err)
	}
	want := fmt.Sprintf("refusing stopped at position %d (procurement-PR-1, %s)", out[1].Position, out[1].Type)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(checks["projections"], want) {
		t.Errorf("/readyz = %d %q, want 503 naming %q", w.Code, checks["projections"], want)
	}
}
