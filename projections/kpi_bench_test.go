package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/sqlite"
)

// seedTraffic appends about total events of realistic process traffic
// over 2026: processes of four kinds in eight departments, each with four
// tasks (one in ten done late, one in fifty still open), a completion, and
// a survey (sent, answered with a score of 1–5 or left to expire); one
// process in ten has a deliverable review and a budget consumption on its
// department's line. It prints progress (rate, ETA) every two seconds and
// returns the position of the last event of the first half of the year.
func seedTraffic(tb testing.TB, s houqin.EventStore, total int) {
	tb.Helper()
	ctx := context.Background()
	depts := []string{"ADM", "MKT", "FIN", "HR", "PUR", "WH", "SEC", "PMO"}
	kinds := []houqin.ProcessKind{houqin.KindProcurement, houqin.KindTrip, houqin.KindInspection, houqin.KindEvent}
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type appendCall struct {
		stream string
		events []houqin.Event
	}
	work := make(chan []appendCall, 64)
	var done atomic.Int64
	var wg sync.WaitGroup
	for range 16 { // concurrent appenders share commits (group commit)
		wg.Go(func() {
			for calls := range work {
				for _, c := range calls {
					if _, err := s.Append(ctx, c.stream, houqin.ExpectAny, c.events...); err != nil {
						tb.Error(err)
						return
					}
					done.Add(int64(len(c.events)))
				}
			}
		})
	}
	// Budget lines first.
	var calls []appendCall
	for _, d := range depts {
		e, _ := houqin.NewEvent(houqin.EventID("bench-line", d), houqin.BudgetLinePlanned{Year: 2026, Department: d, Category: "services",
			Amount: 50_000_000, Currency: "CNY"}, houqin.Metadata{Actor: "admin", OccurredAt: year})
		calls = append(calls, appendCall{houqin.BudgetLineStream(2026, d, "services"), []houqin.Event{e}})
	}
	work <- calls
	rng := rand.New(rand.NewPCG(1, 2))
	start, last := time.Now(), time.Now()
	seq, emitted := 0, 0
	for emitted < total {
		seq++
		n := 0
		var evs []houqin.Event
		ev := func(at time.Time, data houqin.EventData) houqin.Event {
			n++
			e, err := houqin.NewEvent(houqin.EventID("bench", strconv.Itoa(seq), strconv.Itoa(n)), data, houqin.Metadata{Actor: "bench", OccurredAt: at})
			if err != nil {
				tb.Fatal(err)
			}
			return e
		}
		kind, dept := kinds[seq%len(kinds)], depts[rng.IntN(len(depts))]
		id := fmt.Sprintf("B-%07d", seq)
		stream := string(kind) + "-" + id
		at := year.Add(time.Duration(float64(365*24*time.Hour) * float64(emitted) / float64(total)))
		needed := at.Add(time.Duration(5+rng.IntN(20)) * 24 * time.Hour).Format(time.DateOnly)
		req := houqin.ProcurementRequest{Department: dept, BudgetCategory: "services", Reason: "bench", NeededBy: needed,
			Items: []houqin.ProcurementItem{{Name: "x", Quantity: 1, Unit: "set", UnitPrice: 1000}}}
		evs = append(evs, ev(at, houqin.RequisitionSubmitted{ProcessID: id, Requester: "wang.fang", Request: req, Total: 1000}))
		open := false
		for step := range 4 {
			tid := fmt.Sprintf("%s.s%d.1", id, step)
			due := at.Add(24 * time.Hour)
			evs = append(evs, ev(at, houqin.TaskOpened{Task: houqin.Task{ID: tid, ProcessID: id, Kind: kind, Step: fmt.Sprint("s", step),
				Assignees: []string{"li.na"}, DueAt: due, Actions: []string{"complete"}}}))
			if rng.IntN(50) == 0 {
				open = true
				break
			}
			took := time.Duration(1+rng.IntN(20)) * time.Hour
			if rng.IntN(10) == 0 {
				took = 30 * time.Hour // late
			}
			at = at.Add(took)
			evs = append(evs, ev(at, houqin.TaskCompleted{TaskID: tid, Step: fmt.Sprint("s", step), Action: "complete", Actor: "li.na"}))
		}
		calls := []appendCall{}
		if !open {
			evs = append(evs, ev(at, houqin.ProcurementCompleted{}))
			evs[len(evs)-1].Type = string(kind) + ".completed"
			sid := "SV-" + id
			sv := []houqin.Event{ev(at, houqin.SurveySent{ProcessID: sid, Requester: "wang.fang", Respondent: "wang.fang",
				Service: houqin.SurveyService{ID: id, Kind: kind, Department: dept}})}
			if rng.IntN(4) > 0 {
				sv = append(sv, ev(at.Add(24*time.Hour), houqin.SurveyAnswered{Respondent: "wang.fang", Score: 1 + min(4, rng.IntN(6))}),
					ev(at.Add(24*time.Hour), houqin.SurveyClosed{Answered: true, Reason: "answered"}))
			} else {
				sv = append(sv, ev(at.Add(7*24*time.Hour), houqin.SurveyClosed{Reason: "expired"}))
			}
			calls = append(calls, appendCall{houqin.SurveyStream(sid), sv})
			if seq%10 == 0 {
				outcome := []string{houqin.OutcomeAccepted, houqin.OutcomeAccepted, houqin.OutcomeMinorIssues, houqin.OutcomeMajorError}[rng.IntN(4)]
				calls = append(calls, appendCall{houqin.DeliverableStream(id), []houqin.Event{ev(at, houqin.DeliverableReviewed{ProcessID: id,
					Kind: "report", Document: "R-1", Title: "report", Outcome: outcome, Reviewer: "zhang.wei", Department: dept, Process: kind})}},
					appendCall{houqin.BudgetLineStream(2026, dept, "services"), []houqin.Event{ev(at, houqin.BudgetConsumed{ProcessID: id, Amount: 400_000})}})
			}
		}
		calls = slices.Insert(calls, 0, appendCall{stream, evs})
		for _, c := range calls {
			emitted += len(c.events)
		}
		work <- calls
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

// BenchmarkKPI seeds HOUQIN_BENCH_KPI_EVENTS (default 1,000,000) events of
// process traffic into SQLite and measures: the rebuild of the kpi
// projection (events/s; baseline: a raw scan of the log); the KPI query of
// the whole year, p50 and p99 over 500 queries (baseline: one of its five
// aggregate queries alone); and an as_of answer at mid-year, projected into
// a scratch in-memory database (seconds; baseline: the raw scan of the
// same prefix). Run with -benchtime=1x.
func BenchmarkKPI(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("HOUQIN_BENCH_KPI_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	dir := b.TempDir()
	store, err := sqlite.OpenEventStore(ctx, filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	seedTraffic(b, store, n)
	head, err := store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := sqlite.OpenReadModels(filepath.Join(dir, "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	scan := func(b *testing.B, upTo int64) int {
		rows, err := raw.Query(`SELECT * FROM events WHERE position <= $1 ORDER BY position`, upTo)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
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
		return count
	}
	b.Run(fmt.Sprintf("events=%d/rebuild/baseline=raw-scan", head), func(b *testing.B) {
		for b.Loop() {
			scan(b, head)
		}
		b.ReportMetric(float64(int64(b.N)*head)/b.Elapsed().Seconds(), "events/s")
	})
	db, err := sqlite.OpenReadModels(filepath.Join(dir, "readmodels.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := projections.NewRunner(store, db, []projections.Projection{projections.KPI{}}, projections.Options{})
	b.Run(fmt.Sprintf("events=%d/rebuild/houqin", head), func(b *testing.B) {
		peak := watchHeap()
		for b.Loop() {
			if err := r.Rebuild(ctx, "kpi", os.Stderr, 2*time.Second); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(int64(b.N)*head)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
	})
	cst := houqin.DefaultKPIConfig().Location()
	q := projections.KPIQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, cst), To: time.Date(2027, 1, 1, 0, 0, 0, 0, cst),
		Now: time.Date(2027, 1, 1, 0, 0, 0, 0, cst), Config: houqin.DefaultKPIConfig()}
	latencies := func(b *testing.B, f func()) {
		var d []time.Duration
		for range 500 {
			t0 := time.Now()
			f()
			d = append(d, time.Since(t0))
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.Run(fmt.Sprintf("events=%d/query/baseline=one-aggregate", head), func(b *testing.B) {
		for b.Loop() {
			latencies(b, func() {
				var x, y sql0
				if err := db.QueryRow(`SELECT SUM(on_time), SUM(late) FROM kpi_ontime WHERE day >= $1 AND day < $2`, "2026-01-01", "2027-01-01").Scan(&x, &y); err != nil {
					b.Fatal(err)
				}
			})
		}
	})
	var rep projections.KPIReport
	b.Run(fmt.Sprintf("events=%d/query/houqin", head), func(b *testing.B) {
		for b.Loop() {
			latencies(b, func() {
				if rep, err = projections.ComputeKPIs(ctx, db, q); err != nil {
					b.Fatal(err)
				}
			})
		}
	})
	for _, k := range rep.KPIs {
		b.Logf("%s: %d/%d", k.Name, k.Numerator, k.Denominator)
	}
	mid := head / 2
	b.Run(fmt.Sprintf("events=%d/as_of=%d/baseline=raw-scan", head, mid), func(b *testing.B) {
		for b.Loop() {
			scan(b, mid)
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/answer")
	})
	b.Run(fmt.Sprintf("events=%d/as_of=%d/houqin", head, mid), func(b *testing.B) {
		for b.Loop() {
			scratch, err := sqlite.OpenScratch()
			if err != nil {
				b.Fatal(err)
			}
			_, at, err := projections.ProjectAsOf(ctx, store, scratch, []projections.Projection{projections.KPI{}}, projections.Bound{Position: mid})
			if err != nil {
				b.Fatal(err)
			}
			q := q
			q.Now = at
			if _, err := projections.ComputeKPIs(ctx, scratch, q); err != nil {
				b.Fatal(err)
			}
			scratch.Close()
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/answer")
	})
}

// sql0 scans a possibly NULL integer.
type sql0 struct{ v *int64 }

func (s *sql0) Scan(v any) error {
	if n, ok := v.(int64); ok {
		s.v = &n
	}
	return nil
}
