package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

const (
	isID = "IS-2026-000001"
	stID = "ST-2026-000001"
)

// paper is the item the inventory tests use: reorder below 10, 20 at a
// time; 5 per issue without approval, 30 for ADM.
var paper = houqin.ItemSpec{Name: "A4 paper", Names: houqin.Text{Zh: "A4 打印纸", En: "A4 paper"}, Unit: "box",
	Location: "WH-A-01", ReorderPoint: 10, ReorderQuantity: 20, Quota: 5, DepartmentQuotas: map[string]int64{"ADM": 30},
	UnitPrice: 4500}

func kindPolicy(t *testing.T, kind houqin.ProcessKind) houqin.KindPolicy {
	t.Helper()
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := p.Kind(kind)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// stock defines spec and stocks onHand of it.
func stock(t *testing.T, store houqin.EventStore, spec houqin.ItemSpec, onHand int64) {
	t.Helper()
	meta := houqin.Metadata{Actor: "li.na", OccurredAt: start}
	def, err := houqin.NewEvent(houqin.EventID("define", spec.Name), houqin.ItemDefined{Item: spec}, meta)
	if err != nil {
		t.Fatal(err)
	}
	in, err := houqin.NewEvent(houqin.EventID("opening", spec.Name),
		houqin.InventoryStockedIn{Item: spec.Name, Unit: spec.Unit, Quantity: onHand, ProcessID: "PR-2026-000000"}, meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), houqin.InventoryStream(spec.Name), houqin.ExpectAny, def, in); err != nil {
		t.Fatal(err)
	}
}

func item(t *testing.T, store houqin.EventStore, name string) houqin.ItemState {
	t.Helper()
	s, err := houqin.ReadItem(context.Background(), store, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// issueHarness is the harness running an Issue.
func issueHarness(t *testing.T, onHand int64) *harness {
	store := mustOpenStore(t)
	stock(t, store, paper, onHand)
	h := newHarness(t, store)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: isID})
	h.env.RegisterWorkflow(workflows.Issue)
	return h
}

func issueInput(t *testing.T, requester, dept string, qty int64) workflows.IssueInput {
	kp := kindPolicy(t, houqin.KindIssue)
	req := houqin.IssueRequest{Department: dept, Reason: "会议用纸", Items: []houqin.IssueLine{{Item: "A4 paper", Quantity: qty}}}
	q := paper.QuotaFor(dept)
	return workflows.IssueInput{ProcessID: isID, Requester: requester, Request: req, Policy: kp, PolicyHash: kp.Hash(),
		Lines:     []houqin.IssueTerms{{Item: "A4 paper", Unit: "box", Quantity: qty, Quota: q, Excess: max(0, qty-q)}},
		Warehouse: []string{"zhou.qiang"}}
}

func (h *harness) runIssue(in workflows.IssueInput) (workflows.ProcessResult, error, []houqin.Event) {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.Issue, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var res workflows.ProcessResult
	err := h.env.GetWorkflowError()
	if err == nil {
		if err := h.env.GetWorkflowResult(&res); err != nil {
			h.t.Fatal(err)
		}
	}
	events := storetest.MustReadStream(h.t, h.store, houqin.IssueStream(in.ProcessID))
	wantChainOf(h.t, in.ProcessID, events)
	return res, err, events
}

func complete(h *harness, d time.Duration, taskID, actor string) *update {
	return h.do(d, houqin.TaskAction{TaskID: taskID, Action: houqin.ActionComplete, Actor: actor})
}

func TestIssueWithinQuota(t *testing.T) {
	h := issueHarness(t, 12)
	u := complete(h, time.Hour, isID+".hand_out.1", "zhou.qiang")
	res, err, events := h.runIssue(issueInput(t, "wang.fang", "MKT", 3))
	if err != nil {
		t.Fatal(err)
	}
	wantDone(t, u)
	want := []string{"issue.requested", "approval.step_skipped", "approval.step_skipped", "issue.approved", "task.opened",
		"task.completed", "issue.handed_out", "issue.completed"}
	if diff := cmp.Diff(want, types(events)); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
	if res.Status != houqin.StatusCompleted || u.outcome.Position != events[len(events)-1].Position {
		t.Errorf("result %+v, outcome %+v", res, u.outcome)
	}
	out := decode[*houqin.IssueHandedOut](t, events[6])
	if diff := cmp.Diff([]houqin.HandedOutLine{{Item: "A4 paper", Unit: "box", Quantity: 3, OnHand: 9, BelowReorder: true}}, out.Lines); diff != "" {
		t.Errorf("handed out (-want +got):\n%s", diff)
	}
	s := item(t, h.store, "A4 paper")
	if s.OnHand != 9 {
		t.Errorf("on hand = %d, want 9", s.OnHand)
	}
	issued := storetest.MustReadStream(t, h.store, houqin.InventoryStream("A4 paper"))[2]
	p := decode[*houqin.InventoryIssued](t, issued)
	if *p != (houqin.InventoryIssued{Item: "A4 paper", Unit: "box", Quantity: 3, Department: "MKT", Requester: "wang.fang", ProcessID: isID, OnHand: 9}) ||
		issued.Meta.Actor != "zhou.qiang" || issued.Meta.CorrelationID != isID {
		t.Errorf("inventory.issued = %+v, meta %+v", p, issued.Meta)
	}
}

func TestIssueOverQuota(t *testing.T) {
	for _, tt := range []struct {
		name   string
		qty    int64
		acts   func(h *harness) []*update
		want   []string
		status houqin.Status
		left   int64
	}{
		{"approved by the department head", 8, func(h *harness) []*update {
			return []*update{h.approveBy(time.Hour, isID+".dept_approval.1", "liu.yang"), complete(h, 2*time.Hour, isID+".hand_out.1", "zhou.qiang")}
		}, []string{"open dept_approval.1 liu.yang", "approve dept_approval.1 by liu.yang", "dept_approval approved", "skip logistics_approval",
			"open hand_out.1 zhou.qiang", "complete hand_out.1 by zhou.qiang"}, houqin.StatusCompleted, 52},
		{"far over: the logistics manager too", 60, func(h *harness) []*update {
			return []*update{h.approveBy(time.Hour, isID+".dept_approval.1", "liu.yang"), h.approveBy(2*time.Hour, isID+".logistics_approval.1", "zhang.wei"),
				complete(h, 3*time.Hour, isID+".hand_out.1", "zhou.qiang")}
		}, []string{"open dept_approval.1 liu.yang", "approve dept_approval.1 by liu.yang", "dept_approval approved",
			"open logistics_approval.1 zhang.wei", "approve logistics_approval.1 by zhang.wei", "logistics_approval approved",
			"open hand_out.1 zhou.qiang", "complete hand_out.1 by zhou.qiang"}, houqin.StatusCompleted, 0},
		{"rejected", 8, func(h *harness) []*update {
			u := h.do(time.Hour, houqin.TaskAction{TaskID: isID + ".dept_approval.1", Action: houqin.ActionReject, Actor: "liu.yang", Comment: "上周刚领过"})
			return []*update{u}
		}, []string{"open dept_approval.1 liu.yang", "reject dept_approval.1 by liu.yang", "dept_approval rejected"}, houqin.StatusRejected, 60},
		{"withdrawn", 8, func(h *harness) []*update {
			u := &update{id: "withdraw"}
			h.at(time.Hour, func() {
				h.env.UpdateWorkflow(workflows.UpdateProcess, "withdraw", h.callback(u), houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang"})
			})
			return nil
		}, []string{"open dept_approval.1 liu.yang", "cancel dept_approval.1", "WITHDRAWN"}, houqin.StatusWithdrawn, 60},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := issueHarness(t, 60)
			us := tt.acts(h)
			res, err, events := h.runIssue(issueInput(t, "wang.fang", "MKT", tt.qty))
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range us {
				wantDone(t, u)
			}
			got := taskLog(t, events)
			for i := range got {
				got[i] = strings.ReplaceAll(got[i], isID+".", "")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tasks (-want +got):\n%s", diff)
			}
			if res.Status != tt.status {
				t.Errorf("status = %s, want %s", res.Status, tt.status)
			}
			if got := item(t, h.store, "A4 paper").OnHand; got != tt.left {
				t.Errorf("on hand = %d, want %d", got, tt.left)
			}
		})
	}
}

// TestIssueInsufficientStock: the stock is taken by another issue after
// the request; the hand-out is refused and the task stays open until goods
// came in.
func TestIssueInsufficientStock(t *testing.T) {
	h := issueHarness(t, 6)
	h.at(30*time.Minute, func() {
		e, _ := houqin.NewEvent(houqin.EventID("other"), houqin.InventoryIssued{Item: "A4 paper", Unit: "box", Quantity: 4, Department: "HR", ProcessID: "IS-2026-000002", OnHand: 2},
			houqin.Metadata{Actor: "zhou.qiang", OccurredAt: start})
		if _, err := h.store.Append(context.Background(), houqin.InventoryStream("A4 paper"), houqin.ExpectAny, e); err != nil {
			t.Error(err)
		}
	})
	first := complete(h, time.Hour, isID+".hand_out.1", "zhou.qiang")
	h.at(2*time.Hour, func() {
		e, _ := houqin.NewEvent(houqin.EventID("restock"), houqin.InventoryStockedIn{Item: "A4 paper", Unit: "box", Quantity: 20, ProcessID: "PR-2026-000009"},
			houqin.Metadata{Actor: "li.na", OccurredAt: start})
		if _, err := h.store.Append(context.Background(), houqin.InventoryStream("A4 paper"), houqin.ExpectAny, e); err != nil {
			t.Error(err)
		}
	})
	second := complete(h, 3*time.Hour, isID+".hand_out.1", "zhou.qiang")
	res, err, events := h.runIssue(issueInput(t, "wang.fang", "MKT", 5))
	if err != nil {
		t.Fatal(err)
	}
	var ae *temporal.ApplicationError
	if !first.accepted || !errors.As(first.err, &ae) || ae.Type() != houqin.ENOTALLOWED || !strings.Contains(ae.Message(), `5 box of "A4 paper" to hand out, 2 on hand`) {
		t.Errorf("first hand-out: accepted %v, err %v", first.accepted, first.err)
	}
	wantDone(t, second)
	if res.Status != houqin.StatusCompleted {
		t.Errorf("status = %s", res.Status)
	}
	if got := item(t, h.store, "A4 paper").OnHand; got != 17 {
		t.Errorf("on hand = %d, want 17", got)
	}
	if n := len(of[*houqin.TaskCompleted](t, events)); n != 1 {
		t.Errorf("%d task.completed, want 1 (the refused hand-out leaves no trace)", n)
	}
}

func stocktakeHarness(t *testing.T, onHand int64) *harness {
	store := mustOpenStore(t)
	stock(t, store, paper, onHand)
	h := newHarness(t, store)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: stID})
	h.env.RegisterWorkflow(workflows.Stocktake)
	return h
}

func (h *harness) runStocktake(counted int64) (workflows.ProcessResult, error, []houqin.Event) {
	h.t.Helper()
	kp := kindPolicy(h.t, houqin.KindStocktake)
	h.env.ExecuteWorkflow(workflows.Stocktake, workflows.StocktakeInput{ProcessID: stID, Requester: "li.na", Policy: kp, PolicyHash: kp.Hash(),
		Request: houqin.StocktakeRequest{Reason: "12 月盘点", Counts: []houqin.StocktakeCount{{Item: "a4 PAPER", Counted: counted}}}})
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var res workflows.ProcessResult
	err := h.env.GetWorkflowError()
	if err == nil {
		if err := h.env.GetWorkflowResult(&res); err != nil {
			h.t.Fatal(err)
		}
	}
	events := storetest.MustReadStream(h.t, h.store, houqin.StocktakeStream(stID))
	wantChainOf(h.t, stID, events)
	return res, err, events
}

func TestStocktake(t *testing.T) {
	t.Run("variance approved and adjusted", func(t *testing.T) {
		h := stocktakeHarness(t, 12)
		a := h.approveBy(time.Hour, stID+".warehouse_approval.1", "zhou.qiang")
		b := h.approveBy(2*time.Hour, stID+".logistics_approval.1", "zhang.wei")
		res, err, events := h.runStocktake(8)
		if err != nil {
			t.Fatal(err)
		}
		wantDone(t, a)
		wantDone(t, b)
		sub := decode[*houqin.StocktakeSubmitted](t, events[0])
		if diff := cmp.Diff([]houqin.StocktakeLine{{Item: "A4 paper", Unit: "box", OnHand: 12, Counted: 8, Variance: -4}}, sub.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		tail := types(events)[len(events)-4:]
		if diff := cmp.Diff([]string{"approval.step_completed", "stocktake.approved", "stocktake.adjusted", "stocktake.completed"}, tail); diff != "" {
			t.Errorf("stream end (-want +got):\n%s", diff)
		}
		adj := decode[*houqin.StocktakeAdjusted](t, events[len(events)-2])
		if diff := cmp.Diff([]houqin.AdjustedLine{{Item: "A4 paper", Delta: -4, OnHand: 8, BelowReorder: true}}, adj.Lines); diff != "" {
			t.Errorf("adjusted (-want +got):\n%s", diff)
		}
		if res.Status != houqin.StatusCompleted || item(t, h.store, "A4 paper").OnHand != 8 {
			t.Errorf("status %s, on hand %d", res.Status, item(t, h.store, "A4 paper").OnHand)
		}
		inv := storetest.MustReadStream(t, h.store, houqin.InventoryStream("A4 paper"))
		if p := decode[*houqin.InventoryAdjusted](t, inv[len(inv)-1]); p.ProcessID != stID || p.Delta != -4 || p.Counted != 8 {
			t.Errorf("inventory.adjusted = %+v", p)
		}
	})
	t.Run("variance rejected", func(t *testing.T) {
		h := stocktakeHarness(t, 12)
		u := h.do(time.Hour, houqin.TaskAction{TaskID: stID + ".warehouse_approval.1", Action: houqin.ActionReject, Actor: "zhou.qiang", Comment: "重新盘点"})
		res, err, _ := h.runStocktake(8)
		if err != nil {
			t.Fatal(err)
		}
		wantDone(t, u)
		if res.Status != houqin.StatusRejected || item(t, h.store, "A4 paper").OnHand != 12 {
			t.Errorf("status %s, on hand %d", res.Status, item(t, h.store, "A4 paper").OnHand)
		}
	})
	t.Run("no variance", func(t *testing.T) {
		h := stocktakeHarness(t, 12)
		res, err, events := h.runStocktake(12)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"stocktake.submitted", "approval.step_skipped", "approval.step_skipped", "stocktake.approved", "stocktake.adjusted", "stocktake.completed"}
		if diff := cmp.Diff(want, types(events)); diff != "" {
			t.Errorf("stream (-want +got):\n%s", diff)
		}
		if res.Status != houqin.StatusCompleted || len(storetest.MustReadStream(t, h.store, houqin.InventoryStream("A4 paper"))) != 2 {
			t.Errorf("status %s; an adjustment was appended", res.Status)
		}
	})
}

// TestReorderOnce sends many triggers to an item's reorder workflow, some
// at the same moment, while its procurement is open: one procurement is
// started, one number taken, one reorder recorded.
func TestReorderOnce(t *testing.T) {
	store := mustOpenStore(t)
	stock(t, store, paper, 4)
	h := newHarness(t, store)
	pol, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	h.env.RegisterActivity(&activities.Activities{Store: store, Org: demoOrg(t), Policy: pol})
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: houqin.ReorderWorkflowID("A4 paper")})
	h.env.RegisterWorkflow(workflows.Reorder)
	for i := range 20 {
		h.at(time.Duration(i/4)*time.Minute, func() {
			h.env.SignalWorkflow(activities.ReorderSignal, activities.ReorderTrigger{Item: "A4 paper", OnHand: 4, Process: "IS-2026-00000" + string(rune('0'+i%10))})
		})
	}
	h.cancelAt(time.Hour)
	h.env.ExecuteWorkflow(workflows.Reorder, activities.ReorderInput{Item: "A4 paper"})
	if !h.env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	numbers := storetest.MustReadStream(t, store, "sequence-PR-2026")
	if len(numbers) != 1 {
		t.Fatalf("%d numbers taken, want 1", len(numbers))
	}
	inv := storetest.MustReadStream(t, store, houqin.InventoryStream("A4 paper"))
	var reorders []*houqin.ReorderRequested
	for _, e := range inv {
		if e.Type == "inventory.reorder_requested" {
			reorders = append(reorders, decode[*houqin.ReorderRequested](t, e))
		}
	}
	want := []*houqin.ReorderRequested{{Item: "A4 paper", Quantity: 20, OnHand: 4, ReorderPoint: 10, ProcessID: "PR-2026-000001", Requester: "zhou.qiang"}}
	if diff := cmp.Diff(want, reorders); diff != "" {
		t.Errorf("reorders (-want +got):\n%s", diff)
	}
	pr := storetest.MustReadStream(t, store, houqin.ProcurementStream("PR-2026-000001"))
	sub := decode[*houqin.RequisitionSubmitted](t, pr[0])
	if sub.Requester != "zhou.qiang" || sub.Request.Department != "WH" || len(sub.Request.Items) != 1 ||
		sub.Request.Items[0] != (houqin.ProcurementItem{Name: "A4 paper", Quantity: 20, Unit: "box", UnitPrice: 4500}) {
		t.Errorf("requisition = %+v", sub)
	}
}

// wantChainOf checks a process stream's hash chain and deterministic IDs.
func wantChainOf(t *testing.T, id string, events []houqin.Event) {
	t.Helper()
	if err := houqin.Verify(events); err != nil {
		t.Error(err)
	}
	for i, e := range events {
		if e.Meta.RunID == "" || e.Meta.WorkflowID != id || e.Meta.CorrelationID != id {
			t.Errorf("%s@%d meta = %+v", e.Stream, e.Version, e.Meta)
		}
		if want := houqin.EventID(id, e.Meta.RunID, fmt.Sprint(i)); e.ID != want {
			t.Errorf("%s@%d has ID %s, want the deterministic %s", e.Stream, e.Version, e.ID, want)
		}
	}
}

// TestReorderNames: TriggerReorder starts the reorder workflow by name on
// the task queue the worker polls.
func TestReorderNames(t *testing.T) {
	if activities.ReorderTaskQueue != workflows.TaskQueue {
		t.Errorf("activities.ReorderTaskQueue = %q, want %q", activities.ReorderTaskQueue, workflows.TaskQueue)
	}
	name := runtime.FuncForPC(reflect.ValueOf(workflows.Reorder).Pointer()).Name()
	if !strings.HasSuffix(name, "."+activities.ReorderWorkflow) {
		t.Errorf("the reorder workflow is %s, activities start %q", name, activities.ReorderWorkflow)
	}
}

// TestIssueRevoked: an approved issue waiting for goods is revoked (撤销)
// by its requester; nothing is handed out.
func TestIssueRevoked(t *testing.T) {
	h := issueHarness(t, 12)
	u := &update{id: "revoke"}
	h.at(time.Hour, func() {
		h.env.UpdateWorkflow(workflows.UpdateProcess, "revoke", h.callback(u), houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang", Comment: "不需要了"})
	})
	res, err, events := h.runIssue(issueInput(t, "wang.fang", "MKT", 3))
	if err != nil {
		t.Fatal(err)
	}
	if !u.accepted || !u.done || u.err != nil {
		t.Fatalf("revoke: accepted %v, done %v, err %v, rejected %v", u.accepted, u.done, u.err, u.rejected)
	}
	tail := types(events)[len(events)-2:]
	if res.Status != houqin.StatusCancelled || !cmp.Equal(tail, []string{"task.cancelled", "process.revoked"}) {
		t.Errorf("status %s, stream ends %v", res.Status, tail)
	}
	if got := item(t, h.store, "A4 paper").OnHand; got != 12 {
		t.Errorf("on hand = %d, want 12", got)
	}
}

// TestScheduledStocktake: a stocktake without counts opens a count task
// for its counters; the counts are checked against the items to count, and
// the variances against the stock when they are entered.
func TestScheduledStocktake(t *testing.T) {
	h := stocktakeHarness(t, 12)
	kp := kindPolicy(t, houqin.KindStocktake)
	in := workflows.StocktakeInput{ProcessID: stID, Requester: "li.na", Policy: kp, PolicyHash: kp.Hash(),
		Request: houqin.StocktakeRequest{Reason: "月度盘点"}, Items: []string{"A4 paper"}, Counters: []string{"zhou.qiang"}}
	count := func(d time.Duration, actor string, counts ...houqin.StocktakeCount) *update {
		u := h.newUpdate(stID+".count.1", houqin.ActionComplete, actor, "", houqin.StocktakeRequest{Counts: counts})
		h.at(d, func() { h.sendUpdate(u) })
		return u
	}
	wrongItem := count(time.Hour, "zhou.qiang", houqin.StocktakeCount{Item: "toner", Counted: 1})
	missing := count(time.Hour, "zhou.qiang")
	notCounter := count(time.Hour, "zhang.wei", houqin.StocktakeCount{Item: "A4 paper", Counted: 11})
	ok := count(2*time.Hour, "zhou.qiang", houqin.StocktakeCount{Item: "A4 paper", Counted: 11})
	a := h.approveBy(3*time.Hour, stID+".warehouse_approval.1", "zhou.qiang")
	b := h.approveBy(4*time.Hour, stID+".logistics_approval.1", "zhang.wei")
	h.env.ExecuteWorkflow(workflows.Stocktake, in)
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	wantCode(t, wrongItem, houqin.EINVALID, `data.counts[0].item: "toner" is not to be counted in this stocktake`)
	wantCode(t, missing, houqin.EINVALID, "data.counts: at least one count is required")
	wantCode(t, notCounter, houqin.EFORBIDDEN, "is not an assignee")
	for _, u := range []*update{ok, a, b} {
		wantDone(t, u)
	}
	events := storetest.MustReadStream(t, h.store, houqin.StocktakeStream(stID))
	wantChainOf(t, stID, events)
	var counted *houqin.StocktakeCounted
	for _, e := range events {
		if e.Type == "stocktake.counted" {
			counted = decode[*houqin.StocktakeCounted](t, e)
		}
	}
	if counted == nil || counted.By != "zhou.qiang" || !cmp.Equal(counted.Lines, []houqin.StocktakeLine{{Item: "A4 paper", Unit: "box", OnHand: 12, Counted: 11, Variance: -1}}) {
		t.Errorf("counted = %+v", counted)
	}
	if got := item(t, h.store, "A4 paper").OnHand; got != 11 {
		t.Errorf("on hand = %d, want 11", got)
	}
}

// TestScheduledStocktakeLauncher: the schedule's workflow numbers a
// stocktake and starts it.
func TestScheduledStocktakeLauncher(t *testing.T) {
	store := mustOpenStore(t)
	stock(t, store, paper, 12)
	h := newHarness(t, store)
	pol, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	h.env.RegisterActivity(&activities.Activities{Store: store, Org: demoOrg(t), Policy: pol})
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "stocktake-monthly-2026-12-01T01:00:00Z"})
	h.env.RegisterWorkflow(workflows.ScheduledStocktake)
	h.env.RegisterWorkflow(workflows.Stocktake)
	// The stocktake outlives the launcher; zhou.qiang counts, no variance.
	u := h.newUpdate("ST-2026-000001.count.1", houqin.ActionComplete, "zhou.qiang", "",
		houqin.StocktakeRequest{Counts: []houqin.StocktakeCount{{Item: "A4 paper", Counted: 12}}})
	h.at(time.Hour, func() {
		if err := h.env.UpdateWorkflowByID("ST-2026-000001", workflows.UpdateTask, u.id, h.callback(u), u.action); err != nil {
			t.Error(err)
		}
	})
	h.env.ExecuteWorkflow(workflows.ScheduledStocktake, workflows.ScheduledStocktakeInput{Requester: "li.na", Reason: "月度盘点",
		Items: []string{"A4 paper"}, Counters: []string{"zhou.qiang"}})
	var id string
	if err := h.env.GetWorkflowResult(&id); err != nil {
		t.Fatal(err)
	}
	if id != "ST-2026-000001" || len(storetest.MustReadStream(t, store, "sequence-ST-2026")) != 1 {
		t.Errorf("started %q", id)
	}
	wantDone(t, u)
	events := storetest.MustReadStream(t, store, houqin.StocktakeStream(id))
	if last := events[len(events)-1]; last.Type != "stocktake.completed" || events[0].Meta.Actor != "li.na" {
		t.Errorf("the scheduled stocktake ended with %s, requested by %s", last.Type, events[0].Meta.Actor)
	}
}
