package projections_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/storetest"
)

// BenchmarkRebuild rebuilds event_counts from a log of N events in SQLite
// (N from HOUQIN_BENCH_REBUILD_EVENTS, default 100,000 and 1,000,000) and
// reports events/s and the peak heap, which must not grow with N. Baseline:
// a raw scan of the same log (SELECT of every column, no decoding, no
// writes). Run with -benchtime=1x: seeding a million events takes a while
// and prints its progress.
func BenchmarkRebuild(b *testing.B) {
	sizes := []int{100_000, 1_000_000}
	if s := os.Getenv("HOUQIN_BENCH_REBUILD_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		sizes = []int{n}
	}
	for _, n := range sizes {
		dir := b.TempDir()
		store, err := sqlite.OpenEventStore(context.Background(), filepath.Join(dir, "events.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		storetest.Seed(b, store, n, 1000)
		b.Run(fmt.Sprintf("events=%d/baseline=raw-scan", n), func(b *testing.B) {
			raw, err := sqlite.OpenReadModels(filepath.Join(dir, "events.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			b.ResetTimer()
			for b.Loop() {
				rows, err := raw.Query(`SELECT * FROM events ORDER BY position`)
				if err != nil {
					b.Fatal(err)
				}
				cols, _ := rows.Columns()
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				count := 0
				for rows.Next() {
					if err := rows.Scan(ptrs...); err != nil {
						b.Fatal(err)
					}
					count++
				}
				rows.Close()
				if count != n {
					b.Fatalf("scanned %d rows, want %d", count, n)
				}
			}
			storetest.ReportRate(b, b.N*n)
		})
		b.Run(fmt.Sprintf("events=%d/houqin", n), func(b *testing.B) {
			db, err := sqlite.OpenReadModels(filepath.Join(b.TempDir(), "readmodels.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			r := projections.NewRunner(store, db, []projections.Projection{projections.EventCounts{}}, projections.Options{})
			peak := watchHeap()
			b.ResetTimer()
			for b.Loop() {
				if err := r.Rebuild(context.Background(), "event_counts", os.Stderr, 2*time.Second); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			storetest.ReportRate(b, b.N*n)
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
		})
		store.Close()
	}
}

// watchHeap samples the live heap every 10ms until the returned function is
// called, which returns the peak seen.
func watchHeap() func() uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	return func() uint64 {
		close(stop)
		wg.Wait()
		return peak.Load()
	}
}
