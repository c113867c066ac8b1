package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
)

// procurementLog appends, through the store, the events three procurements
// leave: PR-1 approved and waiting for its purchase order, PR-2 rejected,
// PR-3 cancelled with its approval still open; and 20 + 5 boxes of A4 paper
// stocked in.
func procurementLog(t *testing.T, s houqin.EventStore) {
	t.Helper()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	n := 0
	add := func(stream, actor string, data ...houqin.EventData) {
		t.Helper()
		var events []houqin.Event
		for _, d := range data {
			n++
			e, err := houqin.NewEvent(houqin.EventID("readmodels", fmt.Sprint(n)), d,
				houqin.Metadata{Actor: actor, OccurredAt: at.Add(time.Duration(n) * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
		storetest.MustAppend(t, s, stream, houqin.ExpectAny, events...)
	}
	req := houqin.ProcurementRequest{Department: "MKT", BudgetCategory: "office_supplies", Reason: "Q1 打印纸", NeededBy: "2026-12-15",
		Items: []houqin.ProcurementItem{{Name: "A4 paper", Quantity: 20, Unit: "box", UnitPrice: 4500}}}
	task := func(id, step string, who ...string) houqin.TaskOpened {
		return houqin.TaskOpened{Task: houqin.Task{ID: id + "." + step + ".1", ProcessID: id, Kind: houqin.KindProcurement, Step: step,
			Assignees: who, DueAt: at.Add(24 * time.Hour), Actions: []string{"approve", "reject"}}}
	}
	for _, id := range []string{"PR-2026-000001", "PR-2026-000002", "PR-2026-000003"} {
		add("procurement-"+id, "wang.fang",
			houqin.RequisitionSubmitted{ProcessID: id, Requester: "wang.fang", Request: req, Total: 90000, Currency: "CNY"},
			task(id, "dept_approval", "liu.yang"))
	}
	add("procurement-PR-2026-000001", "liu.yang",
		houqin.TaskCompleted{TaskID: "PR-2026-000001.dept_approval.1", Step: "dept_approval", Action: "approve", Actor: "liu.yang", Comment: "同意"},
		houqin.ProcurementApproved{By: "liu.yang"}, task("PR-2026-000001", "record_po", "li.na"))
	add("procurement-PR-2026-000002", "liu.yang",
		houqin.TaskCompleted{TaskID: "PR-2026-000002.dept_approval.1", Step: "dept_approval", Action: "reject", Actor: "liu.yang", Comment: "预算不足"},
		houqin.ProcurementRejected{By: "liu.yang", Comment: "预算不足"})
	storetest.MustAppend(t, s, "procurement-PR-2026-000003", houqin.ExpectAny, houqin.Event{
		ID: houqin.EventID("readmodels", "cancel"), Type: "procurement.cancelled", Data: []byte(`{}`), Meta: houqin.Metadata{Actor: "admin"}})
	add(houqin.InventoryStream("A4 paper"), "li.na", houqin.InventoryStockedIn{Item: "A4 paper", Unit: "box", Quantity: 20, ProcessID: "PR-2026-000001"})
	add(houqin.InventoryStream("A4 paper"), "li.na", houqin.InventoryStockedIn{Item: "A4 paper", Unit: "box", Quantity: 5, ProcessID: "PR-2026-000009"})
}

// TestBusinessReadModels folds the procurement log into the processes,
// tasks and inventory read models on SQLite and PostgreSQL, then rebuilds
// each and expects the same answers.
func TestBusinessReadModels(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		procurementLog(t, b.store)
		ps := []projections.Projection{projections.Processes{}, projections.Tasks{}, projections.Inventory{}}
		r := projections.NewRunner(b.store, b.db, ps, projections.Options{BatchSize: 4})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		check := func(t *testing.T) {
			all, err := projections.ListProcesses(ctx, b.db, projections.ProcessFilter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range all {
				got = append(got, p.ID+" "+string(p.Status)+" "+p.Requester+" "+p.Department+" "+p.Title+" "+fmt.Sprint(p.Amount))
			}
			want := []string{
				"PR-2026-000003 cancelled wang.fang MKT Q1 打印纸 90000",
				"PR-2026-000002 rejected wang.fang MKT Q1 打印纸 90000",
				"PR-2026-000001 running wang.fang MKT Q1 打印纸 90000",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("processes (-want +got):\n%s", diff)
			}
			page, err := projections.ListProcesses(ctx, b.db, projections.ProcessFilter{Limit: 2, Before: all[1].Position})
			if err != nil || len(page) != 1 || page[0].ID != "PR-2026-000001" {
				t.Errorf("page after PR-2 = %v, %v", page, err)
			}
			_, timeline, err := projections.GetProcess(ctx, b.db, "PR-2026-000001")
			if err != nil || len(timeline) != 5 || timeline[0].Type != "procurement.requisition_submitted" || timeline[0].Actor != "wang.fang" {
				t.Errorf("timeline of PR-1 = %v, %v", timeline, err)
			}
			if _, _, err := projections.GetProcess(ctx, b.db, "PR-2026-999999"); houqin.ErrorCode(err) != houqin.ENOTFOUND {
				t.Errorf("missing process = %v, want ENOTFOUND", err)
			}
			tasks := func(f projections.TaskFilter) []string {
				f.Limit = 10
				rows, err := projections.ListTasks(ctx, b.db, f)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range rows {
					out = append(out, r.ID+" "+r.Status+" "+r.Action)
				}
				return out
			}
			if diff := cmp.Diff([]string{"PR-2026-000001.record_po.1 pending "}, tasks(projections.TaskFilter{Assignee: "li.na", Status: "pending"})); diff != "" {
				t.Errorf("li.na's inbox (-want +got):\n%s", diff)
			}
			if got := tasks(projections.TaskFilter{Assignee: "liu.yang", Status: "pending"}); len(got) != 0 {
				t.Errorf("liu.yang's inbox = %v, want empty (one approved, one rejected, one cancelled)", got)
			}
			want = []string{"PR-2026-000003.dept_approval.1 cancelled ", "PR-2026-000002.dept_approval.1 done reject", "PR-2026-000001.dept_approval.1 done approve"}
			if diff := cmp.Diff(want, tasks(projections.TaskFilter{Assignee: "liu.yang"})); diff != "" {
				t.Errorf("liu.yang's tasks (-want +got):\n%s", diff)
			}
			stock, err := projections.ListInventory(ctx, b.db)
			if err != nil || len(stock) != 1 || stock[0].Item != "A4 paper" || stock[0].Quantity != 25 || stock[0].Unit != "box" {
				t.Errorf("inventory = %v, %v; want 25 boxes of A4 paper", stock, err)
			}
		}
		check(t)
		for _, p := range ps {
			if err := r.Rebuild(ctx, p.Name(), nil, 0); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("after rebuild", check)
	})
}
