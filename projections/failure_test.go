package projections_test

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// poison is a projection with no tables that cannot apply the event at
// failAt (0: it applies everything).
type poison struct{ failAt atomic.Int64 }

func (*poison) Name() string                         { return "poison" }
func (*poison) Version() int                         { return 1 }
func (*poison) Setup(context.Context, *sql.Tx) error { return nil }
func (*poison) Reset(context.Context, *sql.Tx) error { return nil }
func (p *poison) Apply(_ context.Context, _ *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		if e.Position == p.failAt.Load() {
			return errors.New("cannot store this text")
		}
	}
	return nil
}

// failedGauge returns houqin_projection_failed for a projection.
func failedGauge(t *testing.T, reg *prometheus.Registry, projection string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "houqin_projection_failed" {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "projection" && l.GetValue() == projection {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("houqin_projection_failed{projection=%q} not found", projection)
	return 0
}

// TestFailedProjectionIsReportedAndIsolated: an event one projection cannot
// apply stops that projection at the event — reported by Failures, the
// metric and the log — while the others go on; once the cause is fixed it
// catches up by itself.
func TestFailedProjectionIsReportedAndIsolated(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := storetest.MustAppend(t, b.store, "procurement-PR-1", houqin.ExpectAny, storetest.NewEvents(5)...)
		bad := out[2]
		p := &poison{}
		p.failAt.Store(bad.Position)
		reg := prometheus.NewRegistry()
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.EventCounts{}, p},
			projections.Options{PollInterval: 10 * time.Millisecond, RetryInterval: 20 * time.Millisecond, Registerer: reg})
		if got := failedGauge(t, reg, "poison"); got != 0 {
			t.Fatalf("failed gauge before running = %v, want 0", got)
		}
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		defer func() { cancel(); <-done }()

		waitFor(t, "event_counts to reach the head", func() bool { return r.Position("event_counts") == out[4].Position })
		waitFor(t, "poison to be reported", func() bool { return len(r.Failures()) == 1 })
		f := r.Failures()[0]
		got := []any{f.Projection, f.Position, f.Stream, f.Type}
		if diff := cmp.Diff([]any{"poison", bad.Position, bad.Stream, bad.Type}, got); diff != "" {
			t.Errorf("failure (-want +got):\n%s", diff)
		}
		if pos := r.Position("poison"); pos != out[1].Position {
			t.Errorf("poison's checkpoint = %d, want %d, just before the event it cannot apply", pos, out[1].Position)
		}
		if v := failedGauge(t, reg, "poison"); v != 1 {
			t.Errorf("houqin_projection_failed{poison} = %v, want 1", v)
		}
		if v := failedGauge(t, reg, "event_counts"); v != 0 {
			t.Errorf("houqin_projection_failed{event_counts} = %v, want 0", v)
		}
		// New events keep flowing into the healthy projection.
		more := storetest.MustAppend(t, b.store, "procurement-PR-2", houqin.ExpectAny, storetest.NewEvents(2)...)
		waitFor(t, "event_counts to take new events", func() bool { return r.Position("event_counts") == more[1].Position })

		p.failAt.Store(0) // the cause is fixed: the retry catches up
		waitFor(t, "poison to recover", func() bool { return r.Position("poison") == more[1].Position })
		if n := len(r.Failures()); n != 0 {
			t.Errorf("%d failures after recovery, want none", n)
		}
		if v := failedGauge(t, reg, "poison"); v != 0 {
			t.Errorf("houqin_projection_failed{poison} after recovery = %v, want 0", v)
		}
	})
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
