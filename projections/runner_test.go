package projections_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/postgres"
	"github.com/houqin/houqin/postgres/pgtest"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// backend is an event store and a read-model database on one technology.
type backend struct {
	store houqin.EventStore
	db    *sql.DB
}

// eachBackend runs fn against SQLite files and, when available, PostgreSQL.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		s, err := sqlite.OpenEventStore(context.Background(), filepath.Join(dir, "events.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		db, err := sqlite.OpenReadModels(filepath.Join(dir, "readmodels.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, backend{s, db})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.MustDSN(t)
		s, err := postgres.OpenEventStore(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		db, err := postgres.OpenReadModels(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, backend{s, db})
	})
}

// appendMix appends n events of two types across streams of two categories
// and returns the counts a correct projection must hold.
func appendMix(t *testing.T, s houqin.EventStore, n int) map[string]int64 {
	t.Helper()
	want := map[string]int64{}
	for i := range n {
		cat := []string{"procurement", "trip"}[i%2]
		e := storetest.NewEvents(1)[0]
		e.Type = cat + []string{".submitted", ".approved", ".approved"}[i%3]
		storetest.MustAppend(t, s, fmt.Sprintf("%s-%d", cat, i%5), houqin.ExpectAny, e)
		want[cat+"/"+e.Type]++
	}
	return want
}

func counts(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	rows, err := projections.ListEventCounts(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Category+"/"+r.Type] = r.Events
	}
	return got
}

func TestCatchUpAndRestart(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		want := appendMix(t, b.store, 30)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.EventCounts{}}, projections.Options{BatchSize: 7})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, counts(t, b.db)); diff != "" {
			t.Fatalf("counts (-want +got):\n%s", diff)
		}
		head, _ := b.store.Head(ctx)
		if got := r.Position("event_counts"); got != head {
			t.Fatalf("position = %d, want head %d", got, head)
		}

		// A new runner (a restarted process) continues from the checkpoint:
		// nothing is applied twice.
		more := appendMix(t, b.store, 11)
		for k, v := range more {
			want[k] += v
		}
		r2 := projections.NewRunner(b.store, b.db, []projections.Projection{projections.EventCounts{}}, projections.Options{})
		if err := r2.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r2.Position("event_counts"); got != head {
			t.Fatalf("restarted runner starts at %d, want the checkpoint %d", got, head)
		}
		if err := r2.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, counts(t, b.db)); diff != "" {
			t.Fatalf("counts after restart (-want +got):\n%s", diff)
		}
	})
}

// failing wraps EventCounts and fails on the event at failAt, after writing
// its rows: the batch, rows and checkpoint must roll back together.
type failing struct {
	projections.EventCounts
	failAt int64
}

func (f *failing) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	if err := f.EventCounts.Apply(ctx, tx, events); err != nil {
		return err
	}
	for _, e := range events {
		if e.Position == f.failAt {
			return errors.New("simulated crash")
		}
	}
	return nil
}

func TestFailedBatchRollsBackRowsAndCheckpoint(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		want := appendMix(t, b.store, 20)
		f := &failing{failAt: 15}
		r := projections.NewRunner(b.store, b.db, []projections.Projection{f}, projections.Options{BatchSize: 10})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		err := r.CatchUp(ctx)
		if err == nil || !strings.Contains(err.Error(), "simulated crash") {
			t.Fatalf("CatchUp = %v, want the simulated crash", err)
		}
		if got := r.Position("event_counts"); got != 10 {
			t.Fatalf("position after failure = %d, want 10 (the first batch)", got)
		}
		var total int64
		for _, n := range counts(t, b.db) {
			total += n
		}
		if total != 10 {
			t.Fatalf("rows count %d events after failure, want exactly the 10 of the committed batch", total)
		}
		// The "fixed" projection resumes from the checkpoint: exact counts.
		f.failAt = -1
		r2 := projections.NewRunner(b.store, b.db, []projections.Projection{f}, projections.Options{BatchSize: 10})
		if err := r2.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r2.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, counts(t, b.db)); diff != "" {
			t.Fatalf("counts after resuming (-want +got):\n%s", diff)
		}
	})
}

func TestRebuild(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		want := appendMix(t, b.store, 25)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.EventCounts{}}, projections.Options{RebuildBatchSize: 4})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		// Corrupt the read model; a rebuild must restore it from the log.
		if _, err := b.db.ExecContext(ctx, `UPDATE event_counts SET events = events + 100`); err != nil {
			t.Fatal(err)
		}
		var progress bytes.Buffer
		if err := r.Rebuild(ctx, "event_counts", &progress, 0); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, counts(t, b.db)); diff != "" {
			t.Fatalf("counts after rebuild (-want +got):\n%s", diff)
		}
		out := progress.String()
		for _, s := range []string{"rebuilding event_counts", "events/s", "ETA", "rebuilt event_counts: 25/25 events (100.0%)"} {
			if !strings.Contains(out, s) {
				t.Errorf("progress output lacks %q:\n%s", s, out)
			}
		}
		if err := r.Rebuild(ctx, "nope", nil, 0); houqin.ErrorCode(err) != houqin.ENOTFOUND {
			t.Errorf("Rebuild(nope) = %v, want ENOTFOUND", err)
		}
	})
}

// countsV2 is EventCounts with a new version: the runner must rebuild it.
type countsV2 struct{ projections.EventCounts }

func (countsV2) Version() int { return 2 }

func TestVersionChangeRebuilds(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		want := appendMix(t, b.store, 12)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.EventCounts{}}, projections.Options{})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		r2 := projections.NewRunner(b.store, b.db, []projections.Projection{countsV2{}}, projections.Options{})
		if err := r2.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r2.Position("event_counts"); got != 0 {
			t.Fatalf("position after a version change = %d, want 0", got)
		}
		if err := r2.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, counts(t, b.db)); diff != "" {
			t.Fatalf("counts (-want +got):\n%s", diff)
		}
	})
}

// Two runners on one read-model database (a misconfigured deployment) must
// still apply every event exactly once.
func TestConcurrentRunnersApplyOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		want := appendMix(t, b.store, 200)
		var wg sync.WaitGroup
		for range 2 {
			r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.EventCounts{}}, projections.Options{BatchSize: 3})
			if err := r.Setup(ctx); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				for {
					err := r.CatchUp(ctx)
					switch {
					case err == nil:
						return
					case houqin.ErrorCode(err) == houqin.ECONFLICT || isBusy(err):
						continue // the other runner won this batch
					default:
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if diff := cmp.Diff(want, counts(t, b.db)); diff != "" {
			t.Fatalf("counts (-want +got):\n%s", diff)
		}
	})
}

// isBusy reports a transient lock error between two runners on PostgreSQL
// (serialization) or SQLite (busy); the runner retries those.
func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "could not serialize")
}

func TestRunWakesOnAppendAndWaitFor(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		reg := prometheus.NewRegistry()
		// A poll interval of an hour: only the store's wake-up can make the
		// runner see the append in time.
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.EventCounts{}},
			projections.Options{PollInterval: time.Hour, Registerer: reg})
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		waitCtx, stop := context.WithTimeout(ctx, 10*time.Second)
		defer stop()
		for !r.Ready() {
			select {
			case <-waitCtx.Done():
				t.Fatal("runner not ready within 10s")
			case <-time.After(5 * time.Millisecond):
			}
		}
		out := storetest.MustAppend(t, b.store, "procurement-PR-1", houqin.ExpectAny, storetest.NewEvents(3)...)
		if err := r.WaitFor(waitCtx, out[2].Position); err != nil {
			t.Fatalf("WaitFor(%d): %v", out[2].Position, err)
		}
		if got := counts(t, b.db)["procurement/test.happened"]; got != 3 {
			t.Fatalf("count = %d, want 3", got)
		}
		short, stop2 := context.WithTimeout(ctx, 50*time.Millisecond)
		defer stop2()
		if err := r.WaitFor(short, out[2].Position+100); houqin.ErrorCode(err) != houqin.EUNAVAILABLE {
			t.Fatalf("WaitFor a future position = %v, want EUNAVAILABLE", err)
		}
		if got := gaugeValue(t, reg, "houqin_projection_position"); got != float64(out[2].Position) {
			t.Errorf("position gauge = %v, want %d", got, out[2].Position)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

// gaugeValue returns the value of the one series of gauge name in reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}
