package workflows_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
)

// budgetHarness runs one workflow with the given ID in the test
// environment, with the real activities on store.
func budgetHarness(t *testing.T, store houqin.EventStore, id string) *harness {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
	h := &harness{t: t, env: s.NewTestWorkflowEnvironment(), store: store}
	h.env.SetStartTime(start)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
	h.env.RegisterWorkflow(workflows.Budget)
	h.env.RegisterWorkflow(workflows.Procurement)
	h.env.RegisterActivity(&activities.Activities{Store: store, Org: demoOrg(t)})
	return h
}

func budgetPolicy(t *testing.T) houqin.KindPolicy {
	t.Helper()
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := p.Kind(houqin.KindBudget)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// draft2026 is the 2026 budget the tests activate: MKT office supplies
// 10 000.00 (stop, 5 %), MKT travel 5 000.00 (warn).
func draft2026() *houqin.BudgetDraft {
	return &houqin.BudgetDraft{Year: 2026, Lines: []houqin.BudgetLineDraft{
		{Department: "MKT", Category: "office_supplies", Amount: 1_000_000},
		{Department: "MKT", Category: "travel", Amount: 500_000, Control: houqin.ControlWarn},
	}}
}

// runBudget runs a budget process id by zhang.wei, approved (or rejected)
// by chen.jing (finance).
func runBudget(t *testing.T, store houqin.EventStore, in workflows.BudgetInput, action string) workflows.BudgetResult {
	t.Helper()
	h := budgetHarness(t, store, in.ProcessID)
	act := houqin.TaskAction{TaskID: in.ProcessID + ".finance_approval.1", Action: action, Actor: "chen.jing"}
	if action == houqin.ActionReject {
		act.Comment = "再议"
	}
	u := h.do(time.Hour, act)
	h.env.ExecuteWorkflow(workflows.Budget, in)
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatalf("budget %s failed: %v", in.ProcessID, err)
	}
	var res workflows.BudgetResult
	if err := h.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	wantDone(t, u)
	if u.outcome.Position != res.Position {
		t.Errorf("the approval answered position %d, want the process's last %d", u.outcome.Position, res.Position)
	}
	return res
}

func budgetInput(t *testing.T, id string, d *houqin.BudgetDraft, adj *houqin.BudgetAdjustment) workflows.BudgetInput {
	kp := budgetPolicy(t)
	return workflows.BudgetInput{ProcessID: id, Requester: "zhang.wei", Draft: d, Adjustment: adj, Policy: kp, PolicyHash: kp.Hash()}
}

func lineState(t *testing.T, store houqin.EventStore, dept, cat string) *houqin.BudgetLine {
	t.Helper()
	l, err := activities.ReadBudgetLine(context.Background(), store, houqin.BudgetLineStream(2026, dept, cat))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestBudgetActivationAndAdjustment(t *testing.T) {
	store := mustOpenStore(t)

	res := runBudget(t, store, budgetInput(t, "BU-2026-000001", draft2026(), nil), houqin.ActionApprove)
	if res.Status != houqin.StatusCompleted {
		t.Fatalf("budget: %+v", res)
	}
	events := storetest.MustReadStream(t, store, houqin.BudgetProcessStream("BU-2026-000001"))
	want := []string{"budget.submitted", "approval.step_started", "task.opened",
		"task.completed", "approval.step_completed", "budget.approved", "budget.activated", "budget.completed"}
	if diff := cmp.Diff(want, types(events)); diff != "" {
		t.Errorf("process events (-want +got):\n%s", diff)
	}
	if err := houqin.Verify(events); err != nil {
		t.Error(err)
	}
	office, travel := lineState(t, store, "MKT", "office_supplies"), lineState(t, store, "MKT", "travel")
	if office.Plan != 1_000_000 || office.Control != houqin.ControlStop || office.ToleranceBP != 500 ||
		travel.Plan != 500_000 || travel.Control != houqin.ControlWarn {
		t.Errorf("lines: office %+v, travel %+v", office, travel)
	}

	// A second budget for 2026, approved too, is refused by the system.
	res = runBudget(t, store, budgetInput(t, "BU-2026-000002", draft2026(), nil), houqin.ActionApprove)
	if res.Status != houqin.StatusRejected || res.Reason != "the 2026 budget is active already: BU-2026-000001 activated it" {
		t.Errorf("second budget: %+v", res)
	}
	if l := lineState(t, store, "MKT", "office_supplies"); l.Version != 0 {
		t.Errorf("the second budget wrote to the line: version %d", l.Version)
	}

	// An approved adjustment moves the plan.
	adj := &houqin.BudgetAdjustment{Year: 2026, Reason: "展会追加", Lines: []houqin.BudgetAdjustmentLine{
		{Department: "MKT", Category: "office_supplies", Delta: 200_000},
		{Department: "MKT", Category: "travel", Delta: -100_000},
	}}
	res = runBudget(t, store, budgetInput(t, "BA-2026-000001", nil, adj), houqin.ActionApprove)
	if res.Status != houqin.StatusCompleted {
		t.Fatalf("adjustment: %+v", res)
	}
	if o, tr := lineState(t, store, "MKT", "office_supplies"), lineState(t, store, "MKT", "travel"); o.Plan != 1_200_000 || tr.Plan != 400_000 {
		t.Errorf("after the adjustment: office %d, travel %d", o.Plan, tr.Plan)
	}
	last := storetest.MustReadStream(t, store, houqin.BudgetProcessStream("BA-2026-000001"))
	if types(last)[0] != "budget.adjustment_submitted" || last[len(last)-2].Type != "budget.adjustment_applied" {
		t.Errorf("adjustment events: %v", types(last))
	}

	// A rejected adjustment changes nothing; a cut of a line without a
	// budget is refused on approval; a line added mid-year is planned.
	res = runBudget(t, store, budgetInput(t, "BA-2026-000002", nil, adj), houqin.ActionReject)
	if res.Status != houqin.StatusRejected {
		t.Errorf("rejected adjustment: %+v", res)
	}
	bad := &houqin.BudgetAdjustment{Year: 2026, Reason: "x", Lines: []houqin.BudgetAdjustmentLine{{Department: "HR", Category: "travel", Delta: -5}}}
	res = runBudget(t, store, budgetInput(t, "BA-2026-000003", nil, bad), houqin.ActionApprove)
	if res.Status != houqin.StatusRejected || res.Reason != "the adjustment no longer applies: lines[0]: HR has no active budget line for travel in 2026; a new line takes a positive delta" {
		t.Errorf("adjustment of a missing line: %+v", res)
	}
	added := &houqin.BudgetAdjustment{Year: 2026, Reason: "HR 差旅", Lines: []houqin.BudgetAdjustmentLine{{Department: "HR", Category: "travel", Delta: 80_000}}}
	res = runBudget(t, store, budgetInput(t, "BA-2026-000004", nil, added), houqin.ActionApprove)
	if hr := lineState(t, store, "HR", "travel"); res.Status != houqin.StatusCompleted || !hr.Planned || hr.Plan != 80_000 || hr.Adjusted != 80_000 {
		t.Errorf("a line added mid-year: %+v, line %+v", res, hr)
	}
	if o := lineState(t, store, "MKT", "office_supplies"); o.Plan != 1_200_000 {
		t.Errorf("after the refused adjustments: plan %d", o.Plan)
	}
}

func TestBudgetWithdrawn(t *testing.T) {
	store := mustOpenStore(t)
	h := budgetHarness(t, store, "BU-2026-000001")
	early := h.approveBy(time.Minute, "BU-2026-000001.finance_approval.1", "zhang.wei") // the requester
	w := h.doProcess(2*time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "zhang.wei", Comment: "重做"})
	h.env.ExecuteWorkflow(workflows.Budget, budgetInput(t, "BU-2026-000001", draft2026(), nil))
	var res workflows.BudgetResult
	if err := h.env.GetWorkflowResult(&res); err != nil || res.Status != houqin.StatusWithdrawn {
		t.Fatalf("result %+v, %v; want withdrawn", res, err)
	}
	wantCode(t, early, houqin.EFORBIDDEN, "requested BU-2026-000001")
	wantDone(t, w)
	if l := lineState(t, store, "MKT", "office_supplies"); l.Planned {
		t.Errorf("a withdrawn budget planned its line: %+v", l)
	}
}
