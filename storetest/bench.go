package storetest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/houqin/houqin"
)

// BenchAppendConcurrent measures durable appends of one event each from
// `writers` goroutines, each on its own stream with its exact expected
// version; b.N is the total number of events. Reports events/s.
func BenchAppendConcurrent(b *testing.B, s houqin.EventStore, writers int) {
	ctx := context.Background()
	var next atomic.Int64
	payload := NewEvents(1)[0]
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("bench-%d-%d", w, time.Now().UnixNano())
			expected := houqin.ExpectNoStream
			for next.Add(1) <= int64(b.N) {
				e := payload
				e.ID = houqin.EventID(stream, fmt.Sprint(expected))
				if _, err := s.Append(ctx, stream, expected, e); err != nil {
					b.Error(err)
					return
				}
				expected++
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	ReportRate(b, b.N)
}

// BenchAppendBatched measures appends of `batch` events each to fresh
// streams, from `writers` goroutines; b.N counts appends. Reports events/s.
func BenchAppendBatched(b *testing.B, s houqin.EventStore, batch, writers int) {
	ctx := context.Background()
	template := NewEvents(batch)
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				stream := fmt.Sprintf("bench-%d-%d-%d", w, i, time.Now().UnixNano())
				events := make([]houqin.Event, batch)
				for j := range events {
					events[j] = template[j]
					events[j].ID = houqin.EventID(stream, fmt.Sprint(j))
				}
				if _, err := s.Append(ctx, stream, houqin.ExpectNoStream, events...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	ReportRate(b, b.N*batch)
}

// BenchReadStream measures reading one whole stream of n events; it appends
// the stream first. Reports ms/read.
func BenchReadStream(b *testing.B, s houqin.EventStore, n int) {
	ctx := context.Background()
	stream := fmt.Sprintf("bench-read-%d", time.Now().UnixNano())
	for i := 0; i < n; i += 100 {
		MustAppend(b, s, stream, houqin.ExpectAny, NewEvents(min(100, n-i))...)
	}
	b.ResetTimer()
	for b.Loop() {
		events, err := s.ReadStream(ctx, stream, 0, houqin.Forward, n)
		if err != nil || len(events) != n {
			b.Fatalf("read %d events, %v", len(events), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/read")
}

// ReportRate reports events/s for n events over the benchmark's elapsed time.
func ReportRate(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// Seed appends total events in appends of batch to many streams, printing a
// progress line (rate, ETA) to stderr every two seconds.
func Seed(tb testing.TB, s houqin.EventStore, total, batch int) {
	tb.Helper()
	ctx := context.Background()
	start, last := time.Now(), time.Now()
	template := NewEvents(batch)
	var wg sync.WaitGroup
	var done atomic.Int64
	work := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range work {
				n := min(batch, total-i)
				events := make([]houqin.Event, n)
				for j := range events {
					events[j] = template[j]
					events[j].ID = houqin.EventID("seed", fmt.Sprint(i+j))
				}
				stream := fmt.Sprintf("%s-%d", []string{"procurement", "trip", "inspection", "event"}[(i/batch)%4], i/batch)
				if _, err := s.Append(ctx, stream, houqin.ExpectAny, events...); err != nil {
					tb.Error(err)
					return
				}
				done.Add(int64(n))
			}
		})
	}
	for i := 0; i < total; i += batch {
		work <- i
		if time.Since(last) > 2*time.Second {
			d := done.Load()
			rate := float64(d) / time.Since(start).Seconds()
			fmt.Fprintf(os.Stderr, "seeding: %d/%d events (%.0f%%), %.0f events/s, ETA %s\n", d, total,
				100*float64(d)/float64(total), rate, (time.Duration(float64(int64(total)-d)/rate) * time.Second).Round(time.Second))
			last = time.Now()
		}
	}
	close(work)
	wg.Wait()
}
