package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// budgetLog writes, with the real budget activities, the 2026 budget (MKT
// office supplies 10 000.00, MKT travel 5 000.00), an adjustment in May and
// three procurements' reservations in March (UTC+8: 1 March 01:00 is still
// February in UTC), one invoiced in June with an under-spend, one released;
// and the procurement events the purchase plan reads.
func budgetLog(t *testing.T, s houqin.EventStore) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 2, 28, 17, 0, 0, 0, time.UTC) // 1 March 01:00 in UTC+8
	a := &activities.Activities{Store: s, Now: func() time.Time { return now }}
	office := activities.BudgetLineRef{Year: 2026, Department: "MKT", Category: "office_supplies"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.ActivateBudget(ctx, activities.ActivateBudgetInput{ProcessID: "BU-2026-000001", Draft: houqin.BudgetDraft{Year: 2026,
		Lines: []houqin.BudgetLineDraft{{Department: "MKT", Category: "office_supplies", Amount: 1_000_000}, {Department: "MKT", Category: "travel", Amount: 500_000, Control: "warn"}}}})
	must(err)
	for i, amount := range []int64{300_000, 200_000, 100_000} {
		_, err := a.ReserveBudget(ctx, activities.ReserveBudgetInput{ProcessID: fmt.Sprintf("PR-2026-%06d", i+1), Line: office, Amount: amount, Allow: houqin.BudgetWithin})
		must(err)
	}
	now = time.Date(2026, 5, 10, 2, 0, 0, 0, time.UTC)
	_, err = a.AdjustBudget(ctx, activities.AdjustBudgetInput{ProcessID: "BA-2026-000001", Adjustment: houqin.BudgetAdjustment{Year: 2026, Reason: "展会",
		Lines: []houqin.BudgetAdjustmentLine{{Department: "MKT", Category: "office_supplies", Delta: 150_000}}}})
	must(err)
	now = time.Date(2026, 6, 3, 2, 0, 0, 0, time.UTC)
	_, err = a.ConsumeBudget(ctx, activities.ConsumeBudgetInput{ProcessID: "PR-2026-000001", Line: office, Amount: 280_000, Document: "INV-1"})
	must(err)
	_, err = a.ReleaseBudget(ctx, activities.ReleaseBudgetInput{ProcessID: "PR-2026-000002", Line: office, Reason: "withdrawn"})
	must(err)

	at := time.Date(2026, 2, 28, 17, 0, 0, 0, time.UTC)
	n := 0
	add := func(id string, data ...houqin.EventData) {
		t.Helper()
		var events []houqin.Event
		for _, d := range data {
			n++
			e, err := houqin.NewEvent(houqin.EventID("budgetlog", fmt.Sprint(n)), d, houqin.Metadata{Actor: "x", OccurredAt: at})
			must(err)
			events = append(events, e)
		}
		storetest.MustAppend(t, s, houqin.ProcurementStream(id), houqin.ExpectAny, events...)
	}
	req := houqin.ProcurementRequest{Department: "MKT", BudgetCategory: "office_supplies", NeededBy: "2026-03-15",
		Items: []houqin.ProcurementItem{{Name: "paper", Quantity: 1, Unit: "box", UnitPrice: 300_000}}}
	sub := func(id string, total int64) houqin.RequisitionSubmitted {
		return houqin.RequisitionSubmitted{ProcessID: id, Requester: "wang.fang", Request: req, Total: total, Currency: "CNY"}
	}
	add("PR-2026-000001", sub("PR-2026-000001", 300_000), houqin.ProcurementApproved{By: "liu.yang"},
		houqin.PurchaseOrderRecorded{Supplier: "s", Total: 290_000},
		houqin.GoodsReceived{Outstanding: []houqin.ItemQuantity{}},
		houqin.InvoiceRecorded{Number: "INV-1", Amount: 280_000}, houqin.ProcurementCompleted{})
	add("PR-2026-000002", sub("PR-2026-000002", 200_000), houqin.ProcurementApproved{By: "liu.yang"}, houqin.ProcessWithdrawn{By: "wang.fang"})
	add("PR-2026-000003", sub("PR-2026-000003", 100_000), houqin.ProcurementRejected{By: "liu.yang"})
}

func TestBudgetReadModels(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		budgetLog(t, b.store)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.Budgets{}, projections.PurchasePlan{}, projections.Processes{}},
			projections.Options{BatchSize: 4})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		check := func(t *testing.T) {
			lines, err := projections.ListBudgetLines(ctx, b.db, 2026)
			if err != nil {
				t.Fatal(err)
			}
			want := []projections.BudgetLineRow{
				{Year: 2026, Department: "MKT", Category: "office_supplies", Currency: "CNY", Control: "stop", ToleranceBP: 500,
					Planned: 1_000_000, Adjusted: 150_000, Reserved: 600_000, Released: 220_000, Consumed: 280_000, ActivatedBy: "BU-2026-000001"},
				{Year: 2026, Department: "MKT", Category: "travel", Currency: "CNY", Control: "warn", ToleranceBP: 500,
					Planned: 500_000, ActivatedBy: "BU-2026-000001"},
			}
			if diff := cmp.Diff(want, lines); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if c := lines[0].Committed(); c != 100_000 {
				t.Errorf("committed %d, want the 1 000.00 of PR-3", c)
			}
			months, err := projections.ListBudgetMonths(ctx, b.db, 2026)
			if err != nil {
				t.Fatal(err)
			}
			wantMonths := []projections.BudgetMonthRow{
				{Department: "MKT", Category: "office_supplies", Month: 3, Reserved: 600_000},
				{Department: "MKT", Category: "office_supplies", Month: 5, Adjusted: 150_000},
				{Department: "MKT", Category: "office_supplies", Month: 6, Released: 220_000, Consumed: 280_000},
			}
			if diff := cmp.Diff(wantMonths, months); diff != "" {
				t.Errorf("months (-want +got):\n%s", diff)
			}
			plan, err := projections.ListPurchasePlan(ctx, b.db, 2026)
			if err != nil {
				t.Fatal(err)
			}
			wantPlan := []projections.PurchasePlanRow{{Department: "MKT", Category: "office_supplies", Month: 3, Currency: "CNY",
				Requested: 3, RequestedTotal: 600_000, Approved: 2, ApprovedTotal: 500_000, Ordered: 1, OrderedTotal: 290_000,
				Received: 1, ReceivedTotal: 290_000, InvoicedTotal: 280_000}}
			if diff := cmp.Diff(wantPlan, plan); diff != "" {
				t.Errorf("purchase plan (-want +got):\n%s", diff)
			}
			// Budget lines are not processes; the budget process would be.
			procs, err := projections.ListProcesses(ctx, b.db, projections.ProcessFilter{Kind: "budget", Limit: 10})
			if err != nil || len(procs) != 0 {
				t.Errorf("budget processes = %+v, %v; want none (only line streams were written)", procs, err)
			}
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		t.Run("caught up", check)
		for _, name := range []string{"budgets", "purchase_plan"} {
			if err := r.Rebuild(ctx, name, nil, 0); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("rebuilt", check)
	})
}

func TestBudgetGauges(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		budgetLog(t, b.store)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.Budgets{}}, projections.Options{})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(projections.NewBudgetGauges(b.db, func() time.Time { return time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC) }, 0, nil))
		got := gather(t, reg)
		want := map[string]float64{
			// (1 000.00 committed + 2 800.00 actual) / 11 500.00
			`houqin_budget_utilization_ratio{office_supplies,MKT}`: 380_000.0 / 1_150_000,
			`houqin_budget_overrun_ratio{office_supplies,MKT}`:     0,
			`houqin_budget_utilization_ratio{travel,MKT}`:          0,
			`houqin_budget_overrun_ratio{travel,MKT}`:              0,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("gauges (-want +got):\n%s", diff)
		}
	})
}
