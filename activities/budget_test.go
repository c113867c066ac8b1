package activities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/postgres"
	"github.com/houqin/houqin/postgres/pgtest"
	"github.com/houqin/houqin/storetest"
)

var line = activities.BudgetLineRef{Year: 2026, Department: "MKT", Category: "office_supplies"}

// activate activates a 2026 budget with the MKT office_supplies line.
func activate(t *testing.T, a *activities.Activities, amount int64, control string) {
	t.Helper()
	res, err := a.ActivateBudget(context.Background(), activities.ActivateBudgetInput{ProcessID: "BU-2026-000001",
		Draft: houqin.BudgetDraft{Year: 2026, Lines: []houqin.BudgetLineDraft{
			{Department: "MKT", Category: "office_supplies", Amount: amount, Control: control},
			{Department: "MKT", Category: "travel", Amount: 1000},
		}},
		Meta: houqin.Metadata{Actor: "chen.jing", OccurredAt: when}})
	if err != nil || res.Refused != "" || res.Lines != 2 {
		t.Fatalf("ActivateBudget = %+v, %v", res, err)
	}
}

func mustLine(t *testing.T, a *activities.Activities) *houqin.BudgetLine {
	t.Helper()
	l, err := activities.ReadBudgetLine(context.Background(), a.Store, line.Stream())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestActivateBudgetOnce(t *testing.T) {
	a := newActivities(t)
	activate(t, a, 1_000_000, "")
	activate(t, a, 1_000_000, "") // a retry: nothing more
	l := mustLine(t, a)
	if l.Plan != 1_000_000 || l.Version != 0 || l.Control != houqin.ControlStop || l.ToleranceBP != 500 {
		t.Errorf("line after two activations = %+v", l)
	}
	res, err := a.ActivateBudget(context.Background(), activities.ActivateBudgetInput{ProcessID: "BU-2026-000002",
		Draft: houqin.BudgetDraft{Year: 2026, Lines: []houqin.BudgetLineDraft{{Department: "MKT", Category: "office_supplies", Amount: 5}}}})
	if err != nil || res.Refused != "BU-2026-000001" {
		t.Errorf("a second budget for 2026: %+v, %v; want refused by BU-2026-000001", res, err)
	}
	if l := mustLine(t, a); l.Version != 0 {
		t.Errorf("the refused budget wrote to the line: version %d", l.Version)
	}
}

func TestReserveBudgetRetriedOnce(t *testing.T) {
	a := newActivities(t)
	activate(t, a, 1_000_000, "")
	in := activities.ReserveBudgetInput{ProcessID: "PR-2026-000001", Line: line, Amount: 400_000, Allow: houqin.BudgetWithin,
		Meta: houqin.Metadata{Actor: "liu.yang", OccurredAt: when}}
	var got []activities.ReserveBudgetResult
	for range 3 { // the first attempt and two retries
		res, err := a.ReserveBudget(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res)
	}
	if l := mustLine(t, a); l.Reserved != 400_000 || l.Version != 1 {
		t.Errorf("after three attempts reserved %d at version %d, want 400000 once", l.Reserved, l.Version)
	}
	for i, r := range got {
		if r.Reserved != 400_000 || r.Refused {
			t.Errorf("attempt %d: %+v", i, r)
		}
	}

	// The under-spend: an invoice of 350 000 consumes it and releases 50 000,
	// once however often it is retried.
	for range 2 {
		res, err := a.ConsumeBudget(context.Background(), activities.ConsumeBudgetInput{ProcessID: "PR-2026-000001", Line: line,
			Amount: 350_000, Document: "INV-1", Meta: houqin.Metadata{Actor: "li.na", OccurredAt: when}})
		if err != nil {
			t.Fatal(err)
		}
		if want := (activities.ConsumeBudgetResult{Line: line.Stream(), Consumed: 350_000, Released: 50_000, Planned: true}); res != want {
			t.Errorf("ConsumeBudget = %+v, want %+v", res, want)
		}
	}
	l := mustLine(t, a)
	if l.Reserved != 0 || l.Actual != 350_000 || l.Version != 3 {
		t.Errorf("after the invoice: reserved %d actual %d version %d", l.Reserved, l.Actual, l.Version)
	}
	// Nothing left to release when the process ends.
	if res, err := a.ReleaseBudget(context.Background(), activities.ReleaseBudgetInput{ProcessID: "PR-2026-000001", Line: line, Reason: "x"}); err != nil || res.Released != 0 {
		t.Errorf("ReleaseBudget after the invoice = %+v, %v", res, err)
	}
	var types []string
	for _, e := range storetest.MustReadStream(t, a.Store, line.Stream()) {
		types = append(types, e.Type)
	}
	if diff := cmp.Diff([]string{"budget.line_planned", "budget.reserved", "budget.consumed", "budget.released"}, types); diff != "" {
		t.Errorf("line events (-want +got):\n%s", diff)
	}
}

func TestReserveBudgetRefusedWhenTheLineMoved(t *testing.T) {
	a := newActivities(t)
	activate(t, a, 1_000_000, "")
	reserve := func(pid string, amount int64, allow string) activities.ReserveBudgetResult {
		t.Helper()
		res, err := a.ReserveBudget(context.Background(), activities.ReserveBudgetInput{ProcessID: pid, Line: line, Amount: amount, Allow: allow})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if r := reserve("PR-1", 900_000, houqin.BudgetWithin); r.Refused || r.Check.Status != houqin.BudgetWithin {
		t.Fatalf("first: %+v", r)
	}
	// Approved as within, now in the band: refused.
	if r := reserve("PR-2", 120_000, houqin.BudgetWithin); !r.Refused || r.Check.Status != houqin.BudgetWarn || r.Reserved != 0 {
		t.Errorf("within-approved into the band: %+v", r)
	}
	// Reviewed by finance (warn): passes.
	if r := reserve("PR-2", 120_000, houqin.BudgetWarn); r.Refused || r.Reserved != 120_000 {
		t.Errorf("warn-approved into the band: %+v", r)
	}
	// Past the band without an exception: refused; with one: reserved, marked.
	if r := reserve("PR-3", 100_000, houqin.BudgetWarn); !r.Refused || r.Check.Status != houqin.BudgetExceeded {
		t.Errorf("warn-approved past the band: %+v", r)
	}
	if r := reserve("PR-3", 100_000, houqin.BudgetExceeded); r.Refused || !r.Exception {
		t.Errorf("exception past the band: %+v", r)
	}
	// Releasing gives back what the process holds, once.
	for range 2 {
		res, err := a.ReleaseBudget(context.Background(), activities.ReleaseBudgetInput{ProcessID: "PR-3", Line: line, Reason: "cancelled"})
		if err != nil || res.Released != 100_000 {
			t.Errorf("ReleaseBudget = %+v, %v", res, err)
		}
	}
	if l := mustLine(t, a); l.Reserved != 1_020_000 {
		t.Errorf("reserved %d, want 1 020 000", l.Reserved)
	}
	// No active line: nothing is reserved, the status is none.
	r, err := a.ReserveBudget(context.Background(), activities.ReserveBudgetInput{ProcessID: "PR-4", Amount: 5, Allow: houqin.BudgetWithin,
		Line: activities.BudgetLineRef{Year: 2026, Department: "HR", Category: "travel"}})
	if err != nil || r.Check.Status != houqin.BudgetNone || r.Refused || r.Reserved != 0 {
		t.Errorf("no line: %+v, %v", r, err)
	}
}

// TestConcurrentReservations reserves from 50 goroutines at once against
// one line of plan 10 000.00 and a 5 % band, each 300.00 approved up to
// the band (warn): exactly 35 fit (10 500.00), the rest are refused, and the
// line never passes its band.
func TestConcurrentReservations(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) houqin.EventStore{
		"sqlite": func(t *testing.T) houqin.EventStore { return mustOpenStore(t) },
		"postgres": func(t *testing.T) houqin.EventStore {
			s, err := postgres.OpenEventStore(context.Background(), pgtest.MustDSN(t), postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := &activities.Activities{Store: open(t), Now: func() time.Time { return when }}
			activate(t, a, 1_000_000, "")
			const n = 50
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				reserved int
				refused  int
			)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res, err := a.ReserveBudget(context.Background(), activities.ReserveBudgetInput{
						ProcessID: fmt.Sprintf("PR-2026-%06d", i+1), Line: line, Amount: 30_000, Allow: houqin.BudgetWarn})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						t.Errorf("reservation %d: %v", i, err)
					case res.Refused:
						refused++
					default:
						reserved++
					}
				}()
			}
			close(start)
			wg.Wait()
			l := mustLine(t, a)
			if reserved != 35 || refused != 15 || l.Reserved != 35*30_000 || l.Reserved > l.Plan+l.Band() {
				t.Errorf("reserved %d, refused %d; the line holds %d of plan %d + band %d", reserved, refused, l.Reserved, l.Plan, l.Band())
			}
			// Every reservation is at its own version: 1 plan + 35 reservations.
			if l.Version != 35 {
				t.Errorf("line version %d, want 35", l.Version)
			}
		})
	}
}
