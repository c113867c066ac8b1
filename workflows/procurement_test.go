package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

const pid = "PR-2026-000001"

var (
	start  = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	stream = houqin.ProcurementStream(pid)
)

func mustOpenStore(tb testing.TB) *sqlite.EventStore {
	tb.Helper()
	s, err := sqlite.OpenEventStore(context.Background(), filepath.Join(tb.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func input() workflows.ProcurementInput {
	return workflows.ProcurementInput{
		ProcessID: pid,
		Requester: "wang.fang",
		Approver:  "liu.yang",
		Logistics: []string{"li.na", "zhang.wei"},
		Request: houqin.ProcurementRequest{
			Department: "MKT", BudgetCategory: "office_supplies", Reason: "Q1 printing", NeededBy: "2026-12-15",
			Items: []houqin.ProcurementItem{
				{Name: "A4 paper", Quantity: 20, Unit: "box", UnitPrice: 4500},
				{Name: "toner", Quantity: 2, Unit: "piece", UnitPrice: 39900},
			},
		},
		SLA: workflows.SLA{Approval: 8 * time.Hour},
	}
}

// harness runs the Procurement workflow in Temporal's test environment with
// the real activities on a real SQLite store, and records what happens.
type harness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	store   houqin.EventStore
	appends []activities.AppendInput // every AppendEvents attempt, in order
	updates int
	// onAppend, if set, runs as each AppendEvents attempt starts, while the
	// workflow waits for it.
	onAppend func(activities.AppendInput)
}

func newHarness(t *testing.T, store houqin.EventStore) *harness {
	return newHarnessOrg(t, store, demoOrg(t))
}

// newHarnessOrg is newHarness with the activities reading org.
func newHarnessOrg(t *testing.T, store houqin.EventStore, org *houqin.Org) *harness {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
	h := &harness{t: t, env: s.NewTestWorkflowEnvironment(), store: store}
	h.env.SetStartTime(start)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: pid})
	h.env.RegisterWorkflow(workflows.Procurement)
	h.env.RegisterActivity(&activities.Activities{Store: store, Org: org})
	var mu sync.Mutex
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if info.ActivityType.Name != "AppendEvents" {
			return
		}
		var in activities.AppendInput
		if err := args.Get(&in); err != nil {
			t.Errorf("decode AppendEvents input: %v", err)
		}
		mu.Lock()
		h.appends = append(h.appends, in)
		mu.Unlock()
		if h.onAppend != nil {
			h.onAppend(in)
		}
	})
	return h
}

// testWriter sends the workflow's log to the test's, shown on failure or
// with -v.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// update is one UpdateTask call and what became of it.
type update struct {
	id       string
	action   houqin.TaskAction
	accepted bool
	rejected error // from the validator
	done     bool
	outcome  houqin.TaskOutcome
	err      error // from the handler
}

// at runs f after d of workflow time.
func (h *harness) at(d time.Duration, f func()) { h.env.RegisterDelayedCallback(f, d) }

// send acts on a task now; call it inside at. data is marshalled to JSON
// unless nil.
func (h *harness) send(taskID, action, actor, comment string, data any) *update {
	u := h.newUpdate(taskID, action, actor, comment, data)
	h.sendUpdate(u)
	return u
}

// act sends one action at d.
func (h *harness) act(d time.Duration, taskID, action, actor, comment string, data any) *update {
	u := h.newUpdate(taskID, action, actor, comment, data)
	h.at(d, func() { h.sendUpdate(u) })
	return u
}

func (h *harness) newUpdate(taskID, action, actor, comment string, data any) *update {
	h.t.Helper()
	h.updates++
	u := &update{id: fmt.Sprintf("update-%d", h.updates), action: houqin.TaskAction{TaskID: taskID, Action: action, Actor: actor, Comment: comment}}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			h.t.Fatal(err)
		}
		u.action.Data = b
	}
	return u
}

func (h *harness) sendUpdate(u *update) {
	// A task ID names its workflow: a child's tasks go to the child.
	if wf, _, ok := strings.Cut(u.action.TaskID, "."); ok && wf != "" && wf != pid && strings.Contains(wf, "-F") {
		if err := h.env.UpdateWorkflowByID(wf, workflows.UpdateTask, u.id, h.callback(u), u.action); err != nil {
			h.t.Errorf("%s: update %s: %v", u.id, wf, err)
		}
		return
	}
	h.env.UpdateWorkflow(workflows.UpdateTask, u.id, h.callback(u), u.action)
}

// callback records what becomes of update u.
func (h *harness) callback(u *update) *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() { u.accepted = true },
		OnReject: func(err error) { u.rejected = err },
		OnComplete: func(v any, err error) {
			u.done, u.err = true, err
			switch v := v.(type) {
			case houqin.TaskOutcome:
				u.outcome = v
			case converter.EncodedValue:
				if err := v.Get(&u.outcome); err != nil {
					h.t.Errorf("%s: decode outcome: %v", u.id, err)
				}
			case nil:
			default:
				h.t.Errorf("%s: outcome of type %T", u.id, v)
			}
		},
	}
}

func (h *harness) run(in workflows.ProcurementInput) (workflows.ProcurementResult, error) {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.Procurement, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var res workflows.ProcurementResult
	err := h.env.GetWorkflowError()
	if err == nil {
		if err := h.env.GetWorkflowResult(&res); err != nil {
			h.t.Fatal(err)
		}
	}
	h.env.AssertExpectations(h.t)
	return res, err
}

func (h *harness) query() workflows.State {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.QueryState)
	if err != nil {
		h.t.Fatalf("query: %v", err)
	}
	var s workflows.State
	if err := v.Get(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

// wantOutcome checks that u was accepted and answered with status and the
// position of the event at version of the process's stream.
func wantOutcome(t *testing.T, u *update, status houqin.Status, events []houqin.Event, version int) {
	t.Helper()
	switch {
	case u.rejected != nil:
		t.Fatalf("%s (%s %s by %s) rejected: %v", u.id, u.action.Action, u.action.TaskID, u.action.Actor, u.rejected)
	case !u.accepted || !u.done:
		t.Fatalf("%s (%s %s): accepted %v, done %v", u.id, u.action.Action, u.action.TaskID, u.accepted, u.done)
	case u.err != nil:
		t.Fatalf("%s (%s %s) failed: %v", u.id, u.action.Action, u.action.TaskID, u.err)
	}
	want := houqin.TaskOutcome{TaskID: u.action.TaskID, Status: status, Position: events[version].Position}
	if u.outcome != want {
		t.Errorf("%s outcome = %+v, want %+v (the position of %s@%d, %s)", u.id, u.outcome, want, stream, version, events[version].Type)
	}
}

// wantRejected checks that u's validator refused it with code and message.
func wantRejected(t *testing.T, u *update, code, message string) {
	t.Helper()
	if u.accepted || u.done {
		t.Fatalf("%s (%s %s by %s) was accepted (outcome %+v, %v); want %s %q", u.id, u.action.Action, u.action.TaskID, u.action.Actor, u.outcome, u.err, code, message)
	}
	var ae *temporal.ApplicationError
	if !errors.As(u.rejected, &ae) {
		t.Fatalf("%s rejected with %v (%T), want an application error", u.id, u.rejected, u.rejected)
	}
	if ae.Type() != code || ae.Message() != message {
		t.Errorf("%s rejected with %s %q, want %s %q", u.id, ae.Type(), ae.Message(), code, message)
	}
}

func types(events []houqin.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

func decode[T houqin.EventData](t *testing.T, e houqin.Event) T {
	t.Helper()
	d, err := e.Decode()
	if err != nil {
		t.Fatalf("%s@%d: %v", e.Stream, e.Version, err)
	}
	p, ok := d.(T)
	if !ok {
		t.Fatalf("%s@%d is %T, want %T", e.Stream, e.Version, d, *new(T))
	}
	return p
}

// wantChain checks that a process stream holds its events at versions 0…n-1
// with intact hashes, each with the ID the workflow derives from its run and
// sequence number.
func wantChain(t *testing.T, events []houqin.Event) {
	t.Helper()
	if err := houqin.Verify(events); err != nil {
		t.Error(err)
	}
	for i, e := range events {
		if e.Meta.RunID == "" || e.Meta.WorkflowID != pid || e.Meta.CorrelationID != pid {
			t.Errorf("%s@%d meta = %+v", e.Stream, e.Version, e.Meta)
		}
		if want := houqin.EventID(pid, e.Meta.RunID, fmt.Sprint(i)); e.ID != want {
			t.Errorf("%s@%d has ID %s, want the deterministic %s", e.Stream, e.Version, e.ID, want)
		}
	}
}

var (
	order = houqin.PurchaseOrder{Supplier: "得力文具", Lines: []houqin.OrderLine{
		{Name: "A4 paper", Quantity: 20, UnitPrice: 4300}, {Name: "toner", Quantity: 2, UnitPrice: 38000},
	}}
	firstDelivery = houqin.GoodsReceipt{Lines: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 12}}}
	lastDelivery  = houqin.GoodsReceipt{Lines: []houqin.ItemQuantity{{Name: "toner", Quantity: 2}, {Name: "A4 paper", Quantity: 8}}}
	allDelivered  = houqin.GoodsReceipt{Lines: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 20}, {Name: "toner", Quantity: 2}}}
)

func task(step string, n int) string { return fmt.Sprintf("%s.%s.%d", pid, step, n) }

func TestProcurementHappyPath(t *testing.T) {
	store := mustOpenStore(t)
	h := newHarness(t, store)

	approved := h.act(time.Minute, task("dept_approval", 1), "approve", "liu.yang", "同意", nil)
	ordered := h.act(2*time.Minute, task("record_po", 1), "complete", "li.na", "", order)
	var afterOrder, afterFirst workflows.State
	h.at(150*time.Second, func() { afterOrder = h.query() })
	first := h.act(3*time.Minute, task("receive_goods", 1), "complete", "zhang.wei", "", firstDelivery)
	h.at(210*time.Second, func() { afterFirst = h.query() })
	last := h.act(4*time.Minute, task("receive_goods", 2), "complete", "li.na", "", lastDelivery)
	stocked := h.act(5*time.Minute, task("stock_in", 1), "complete", "li.na", "", map[string]any{})

	res, err := h.run(input())
	if err != nil {
		t.Fatalf("workflow failed: %v", err)
	}

	events := storetest.MustReadStream(t, store, stream)
	want := []string{
		"procurement.requisition_submitted", "task.opened",
		"task.completed", "procurement.approved", "task.opened",
		"task.completed", "procurement.po_recorded", "task.opened",
		"task.completed", "procurement.goods_received", "task.opened",
		"task.completed", "procurement.goods_received", "task.opened",
		"task.completed", "procurement.stocked_in", "procurement.completed",
	}
	if diff := cmp.Diff(want, types(events)); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
	wantChain(t, events)

	// One append per step, each at the exact version the previous one left.
	var expected []int64
	var sizes []int
	for _, in := range h.appends {
		if in.Stream != stream {
			t.Errorf("AppendEvents to %s", in.Stream)
		}
		expected, sizes = append(expected, in.Expected), append(sizes, len(in.Events))
	}
	if diff := cmp.Diff([]int64{houqin.ExpectNoStream, 1, 4, 7, 10, 13}, expected); diff != "" {
		t.Errorf("expected versions of the appends (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 3, 3, 3, 3, 3}, sizes); diff != "" {
		t.Errorf("events per append (-want +got):\n%s", diff)
	}

	if want := (workflows.ProcurementResult{ProcessID: pid, Status: houqin.StatusCompleted, Version: 16, Position: events[16].Position}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	wantOutcome(t, approved, houqin.StatusRunning, events, 4)
	wantOutcome(t, ordered, houqin.StatusRunning, events, 7)
	wantOutcome(t, first, houqin.StatusRunning, events, 10)
	wantOutcome(t, last, houqin.StatusRunning, events, 13)
	wantOutcome(t, stocked, houqin.StatusCompleted, events, 16)

	// The payloads.
	sub := decode[*houqin.RequisitionSubmitted](t, events[0])
	if sub.ProcessID != pid || sub.Requester != "wang.fang" || sub.Total != 20*4500+2*39900 || sub.Currency != "CNY" || !cmp.Equal(sub.Request, input().Request) {
		t.Errorf("requisition_submitted = %+v", sub)
	}
	if events[0].Meta.Actor != "wang.fang" || !events[0].Meta.OccurredAt.Equal(start) {
		t.Errorf("requisition_submitted meta = %+v", events[0].Meta)
	}
	opened := map[int]houqin.Task{}
	for _, v := range []int{1, 4, 7, 10, 13} {
		opened[v] = decode[*houqin.TaskOpened](t, events[v]).Task
	}
	work := []string{"complete", "transfer", "comment", "remind"}
	wantTasks := map[int]houqin.Task{
		1:  {ID: task("dept_approval", 1), Step: "dept_approval", Name: houqin.Text{Zh: "部门负责人审批", En: "Department head approval"}, Assignees: []string{"liu.yang"}, Actions: []string{"approve", "reject"}, DueAt: start.Add(8 * time.Hour)},
		4:  {ID: task("record_po", 1), Step: "record_po", Name: houqin.Text{Zh: "录入采购订单", En: "Record the purchase order"}, Assignees: []string{"li.na", "zhang.wei"}, Actions: work, DueAt: start.Add(time.Minute + 48*time.Hour)},
		7:  {ID: task("receive_goods", 1), Step: "receive_goods", Name: houqin.Text{Zh: "收货", En: "Receive the goods"}, Assignees: []string{"li.na", "zhang.wei"}, Actions: work, DueAt: start.Add(2*time.Minute + 7*24*time.Hour)},
		10: {ID: task("receive_goods", 2), Step: "receive_goods", Name: houqin.Text{Zh: "收货", En: "Receive the goods"}, Assignees: []string{"li.na", "zhang.wei"}, Actions: work, DueAt: start.Add(3*time.Minute + 7*24*time.Hour)},
		13: {ID: task("stock_in", 1), Step: "stock_in", Name: houqin.Text{Zh: "入库", En: "Put into stock"}, Assignees: []string{"li.na", "zhang.wei"}, Actions: work, DueAt: start.Add(4*time.Minute + 24*time.Hour)},
	}
	for v, tk := range wantTasks {
		tk.ProcessID, tk.Kind = pid, houqin.KindProcurement
		if diff := cmp.Diff(tk, opened[v]); diff != "" {
			t.Errorf("task.opened@%d (-want +got):\n%s", v, diff)
		}
	}
	for v, u := range map[int]*update{2: approved, 5: ordered, 8: first, 11: last, 14: stocked} {
		c := decode[*houqin.TaskCompleted](t, events[v])
		if c.TaskID != u.action.TaskID || c.Action != u.action.Action || c.Actor != u.action.Actor || c.Comment != u.action.Comment || c.Step != opened[v-1].Step {
			t.Errorf("task.completed@%d = %+v, want the action %+v", v, c, u.action)
		}
		if m := events[v].Meta; m.Actor != u.action.Actor || m.CausationID != u.id {
			t.Errorf("task.completed@%d meta = %+v, want actor %s caused by %s", v, m, u.action.Actor, u.id)
		}
	}
	if a := decode[*houqin.ProcurementApproved](t, events[3]); *a != (houqin.ProcurementApproved{By: "liu.yang", Comment: "同意"}) {
		t.Errorf("approved = %+v", a)
	}
	po := decode[*houqin.PurchaseOrderRecorded](t, events[6])
	if po.Supplier != order.Supplier || !cmp.Equal(po.Lines, order.Lines) || po.Total != 20*4300+2*38000 {
		t.Errorf("po_recorded = %+v", po)
	}
	rc1 := decode[*houqin.GoodsReceived](t, events[9])
	if diff := cmp.Diff(&houqin.GoodsReceived{Lines: firstDelivery.Lines, Outstanding: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 8}, {Name: "toner", Quantity: 2}}}, rc1); diff != "" {
		t.Errorf("first goods_received (-want +got):\n%s", diff)
	}
	rc2 := decode[*houqin.GoodsReceived](t, events[12])
	if diff := cmp.Diff(&houqin.GoodsReceived{Lines: lastDelivery.Lines, Outstanding: []houqin.ItemQuantity{}}, rc2); diff != "" {
		t.Errorf("last goods_received (-want +got):\n%s", diff)
	}
	si := decode[*houqin.ProcurementStockedIn](t, events[15])
	if diff := cmp.Diff([]houqin.StockLine{{Name: "A4 paper", Quantity: 20, Unit: "box"}, {Name: "toner", Quantity: 2, Unit: "piece"}}, si.Lines); diff != "" {
		t.Errorf("stocked_in lines (-want +got):\n%s", diff)
	}

	// The inventory, written between the stock-in decision and its events.
	for _, want := range []houqin.InventoryStockedIn{
		{Item: "A4 paper", Unit: "box", Quantity: 20, ProcessID: pid},
		{Item: "toner", Unit: "piece", Quantity: 2, ProcessID: pid},
	} {
		item := want.Item
		inv := storetest.MustReadStream(t, store, houqin.InventoryStream(item))
		if len(inv) != 1 {
			t.Fatalf("%s has %d events, want 1", houqin.InventoryStream(item), len(inv))
		}
		if got := decode[*houqin.InventoryStockedIn](t, inv[0]); *got != want {
			t.Errorf("%s@0 = %+v, want %+v", inv[0].Stream, got, want)
		}
		if inv[0].ID != houqin.EventID(pid, "stock_in", item) || inv[0].Meta.Actor != "li.na" || inv[0].Meta.CausationID != stocked.id {
			t.Errorf("%s@0: id %s, meta %+v", inv[0].Stream, inv[0].ID, inv[0].Meta)
		}
		if p := inv[0].Position; p <= events[13].Position || p >= events[14].Position {
			t.Errorf("%s@0 at position %d, want between %d and %d", inv[0].Stream, p, events[13].Position, events[14].Position)
		}
		if err := houqin.Verify(inv); err != nil {
			t.Error(err)
		}
	}
	if n := len(storetest.MustReadAll(t, store)); n != 19 {
		t.Errorf("store holds %d events, want 17 process + 2 inventory", n)
	}

	// The debugging query, between the steps.
	wantState := workflows.State{ProcessID: pid, Status: houqin.StatusRunning, Tasks: []houqin.Task{opened[7]},
		Outstanding: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 20}, {Name: "toner", Quantity: 2}}, Version: 7, Position: events[7].Position}
	if diff := cmp.Diff(wantState, afterOrder); diff != "" {
		t.Errorf("state after the order (-want +got):\n%s", diff)
	}
	wantState = workflows.State{ProcessID: pid, Status: houqin.StatusRunning, Tasks: []houqin.Task{opened[10]},
		Outstanding: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 8}, {Name: "toner", Quantity: 2}}, Version: 10, Position: events[10].Position}
	if diff := cmp.Diff(wantState, afterFirst); diff != "" {
		t.Errorf("state after the first delivery (-want +got):\n%s", diff)
	}
}

func TestProcurementRejected(t *testing.T) {
	store := mustOpenStore(t)
	h := newHarness(t, store)
	var noReason, rejected, late *update
	h.at(time.Minute, func() {
		noReason = h.send(task("dept_approval", 1), "reject", "liu.yang", "  ", nil)
		rejected = h.send(task("dept_approval", 1), "reject", "liu.yang", "超出预算", nil)
		late = h.send(task("dept_approval", 1), "approve", "liu.yang", "", nil)
	})

	res, err := h.run(input())
	if err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	events := storetest.MustReadStream(t, store, stream)
	want := []string{"procurement.requisition_submitted", "task.opened", "task.completed", "procurement.rejected"}
	if diff := cmp.Diff(want, types(events)); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
	wantChain(t, events)
	if want := (workflows.ProcurementResult{ProcessID: pid, Status: houqin.StatusRejected, Version: 3, Position: events[3].Position}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	wantRejected(t, noReason, houqin.EINVALID, "comment: a reason is required to reject")
	wantOutcome(t, rejected, houqin.StatusRejected, events, 3)
	wantRejected(t, late, houqin.ECONFLICT, `task_id: task "PR-2026-000001.dept_approval.1" is not open`)
	if r := decode[*houqin.ProcurementRejected](t, events[3]); *r != (houqin.ProcurementRejected{By: "liu.yang", Comment: "超出预算"}) {
		t.Errorf("rejected = %+v", r)
	}
	var expected []int64
	for _, in := range h.appends {
		expected = append(expected, in.Expected)
	}
	if diff := cmp.Diff([]int64{houqin.ExpectNoStream, 1}, expected); diff != "" {
		t.Errorf("expected versions of the appends (-want +got):\n%s", diff)
	}
}

// TestProcurementConcurrentDecisions: two decisions arrive together, while
// the approval task's task.opened is still being stored. The task takes
// actions from the moment it is opened; the first decision is taken, the
// second refused.
func TestProcurementConcurrentDecisions(t *testing.T) {
	store := mustOpenStore(t)
	h := newHarness(t, store)
	var first, second *update
	h.onAppend = func(in activities.AppendInput) {
		if in.Expected == houqin.ExpectNoStream {
			first = h.send(task("dept_approval", 1), "reject", "liu.yang", "not now", nil)
			second = h.send(task("dept_approval", 1), "approve", "liu.yang", "", nil)
		}
	}
	res, err := h.run(input())
	if err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	if first == nil || second == nil {
		t.Fatal("the decisions were not sent")
	}
	events := storetest.MustReadStream(t, store, stream)
	if diff := cmp.Diff([]string{"procurement.requisition_submitted", "task.opened", "task.completed", "procurement.rejected"}, types(events)); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
	if res.Status != houqin.StatusRejected {
		t.Errorf("status %s, want rejected", res.Status)
	}
	wantOutcome(t, first, houqin.StatusRejected, events, 3)
	wantRejected(t, second, houqin.ECONFLICT, `task_id: task "PR-2026-000001.dept_approval.1" is not open`)
}

// TestProcurementUpdateValidation sends, at each step, the actions the
// validator must refuse, then the right one; the refused ones leave nothing
// in the store.
func TestProcurementUpdateValidation(t *testing.T) {
	store := mustOpenStore(t)
	h := newHarness(t, store)
	type rejection struct {
		name          string
		u             *update
		code, message string
	}
	var rejections []rejection
	refuse := func(name string, u *update, code, message string) {
		rejections = append(rejections, rejection{name, u, code, message})
	}
	var accepted []*update

	h.at(time.Minute, func() {
		approval := task("dept_approval", 1)
		refuse("non-assignee", h.send(approval, "approve", "li.na", "", nil), houqin.EFORBIDDEN,
			`actor: "li.na" is not an assignee of task PR-2026-000001.dept_approval.1`)
		refuse("no actor", h.send(approval, "approve", "", "", nil), houqin.EFORBIDDEN,
			`actor: "" is not an assignee of task PR-2026-000001.dept_approval.1`)
		refuse("wrong action", h.send(approval, "complete", "liu.yang", "", nil), houqin.ENOTALLOWED,
			`action: "complete" is not allowed on task PR-2026-000001.dept_approval.1; it takes approve, reject`)
		refuse("unknown task", h.send(task("record_po", 1), "complete", "li.na", "", order), houqin.ECONFLICT,
			`task_id: task "PR-2026-000001.record_po.1" is not open`)
		refuse("no task", h.send("", "approve", "liu.yang", "", nil), houqin.EINVALID, "task_id: required")
		refuse("approval with data", h.send(approval, "approve", "liu.yang", "", map[string]int{"amount": 1}), houqin.EINVALID,
			`data: unknown field "amount"`)
		refuse("long comment", h.send(approval, "approve", "liu.yang", string(make([]byte, 2001)), nil), houqin.EINVALID,
			"comment: longer than 2000 characters")
		accepted = append(accepted, h.send(approval, "approve", "liu.yang", "", nil))
		refuse("double decision", h.send(approval, "reject", "liu.yang", "changed my mind", nil), houqin.ECONFLICT,
			`task_id: task "PR-2026-000001.dept_approval.1" is not open`)
	})
	h.at(2*time.Minute, func() {
		po := task("record_po", 1)
		refuse("approver on a work task", h.send(po, "complete", "liu.yang", "", order), houqin.EFORBIDDEN,
			`actor: "liu.yang" is not an assignee of task PR-2026-000001.record_po.1`)
		refuse("approve a work task", h.send(po, "approve", "li.na", "", order), houqin.ENOTALLOWED,
			`action: "approve" is not allowed on task PR-2026-000001.record_po.1; it takes complete, transfer, comment, remind`)
		refuse("decided task", h.send(task("dept_approval", 1), "approve", "liu.yang", "", nil), houqin.ECONFLICT,
			`task_id: task "PR-2026-000001.dept_approval.1" is not open`)
		refuse("no PO data", h.send(po, "complete", "li.na", "", nil), houqin.EINVALID, "data.supplier: required")
		refuse("PO not JSON object", h.send(po, "complete", "li.na", "", []string{"x"}), houqin.EINVALID,
			"data: cannot unmarshal array into Go value of type houqin.PurchaseOrder")
		refuse("PO unknown field", h.send(po, "complete", "li.na", "", map[string]any{"supplier": "x", "vendor": "y"}), houqin.EINVALID,
			`data: unknown field "vendor"`)
		refuse("PO unknown item", h.send(po, "complete", "li.na", "", houqin.PurchaseOrder{Supplier: "x", Lines: []houqin.OrderLine{{Name: "stapler", Quantity: 1}}}),
			houqin.EINVALID, `data.lines[0].name: "stapler" is not a requested item`)
		refuse("PO short", h.send(po, "complete", "li.na", "", houqin.PurchaseOrder{Supplier: "x", Lines: order.Lines[:1]}),
			houqin.EINVALID, `data.lines: requested item "toner" is not ordered`)
		refuse("PO quantity", h.send(po, "complete", "li.na", "", houqin.PurchaseOrder{Supplier: "x", Lines: []houqin.OrderLine{order.Lines[0], {Name: "toner", Quantity: 3}}}),
			houqin.EINVALID, "data.lines[1].quantity: must be the requested 2, got 3")
		accepted = append(accepted, h.send(po, "complete", "li.na", "", order))
	})
	h.at(3*time.Minute, func() {
		rc := task("receive_goods", 1)
		refuse("over-receipt", h.send(rc, "complete", "li.na", "", houqin.GoodsReceipt{Lines: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 21}}}),
			houqin.EINVALID, `data.lines[0].quantity: 21 of "A4 paper" exceed the 20 outstanding`)
		refuse("empty receipt", h.send(rc, "complete", "li.na", "", houqin.GoodsReceipt{}), houqin.EINVALID,
			"data.lines: at least one line is required")
		refuse("stock in early", h.send(task("stock_in", 1), "complete", "li.na", "", nil), houqin.ECONFLICT,
			`task_id: task "PR-2026-000001.stock_in.1" is not open`)
		accepted = append(accepted, h.send(rc, "complete", "zhang.wei", "", allDelivered))
	})
	h.at(4*time.Minute, func() {
		refuse("over-receipt after all arrived", h.send(task("receive_goods", 2), "complete", "li.na", "", firstDelivery), houqin.ECONFLICT,
			`task_id: task "PR-2026-000001.receive_goods.2" is not open`)
		refuse("stock-in with data", h.send(task("stock_in", 1), "complete", "li.na", "", map[string]int{"quantity": 1}), houqin.EINVALID,
			`data: unknown field "quantity"`)
		accepted = append(accepted, h.send(task("stock_in", 1), "complete", "li.na", "", nil))
	})

	res, err := h.run(input())
	if err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	if res.Status != houqin.StatusCompleted {
		t.Errorf("status %s, want completed", res.Status)
	}
	for _, r := range rejections {
		t.Run(r.name, func(t *testing.T) { wantRejected(t, r.u, r.code, r.message) })
	}
	events := storetest.MustReadStream(t, store, stream)
	want := []string{
		"procurement.requisition_submitted", "task.opened",
		"task.completed", "procurement.approved", "task.opened",
		"task.completed", "procurement.po_recorded", "task.opened",
		"task.completed", "procurement.goods_received", "task.opened",
		"task.completed", "procurement.stocked_in", "procurement.completed",
	}
	if diff := cmp.Diff(want, types(events)); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
	wantChain(t, events)
	for i, v := range []int{4, 7, 10, 13} {
		status := houqin.StatusRunning
		if v == 13 {
			status = houqin.StatusCompleted
		}
		wantOutcome(t, accepted[i], status, events, v)
	}
}

// TestProcurementSelfApproval: a department head who requests, and is
// resolved as the approver, still may not approve.
func TestProcurementSelfApproval(t *testing.T) {
	store := mustOpenStore(t)
	h := newHarness(t, store)
	in := input()
	in.Requester = "liu.yang"
	var self, selfReject *update
	h.at(time.Minute, func() {
		self = h.send(task("dept_approval", 1), "approve", "liu.yang", "", nil)
		selfReject = h.send(task("dept_approval", 1), "reject", "liu.yang", "never mind", nil)
	})
	var state workflows.State
	h.at(2*time.Minute, func() {
		state = h.query()
		h.env.CancelWorkflow()
	})

	_, err := h.run(in)
	var canceled *temporal.CanceledError
	if !errors.As(err, &canceled) {
		t.Errorf("workflow error %v, want cancelled", err)
	}
	wantRejected(t, self, houqin.EFORBIDDEN, `actor: "liu.yang" requested PR-2026-000001 and may not act on its task PR-2026-000001.dept_approval.1`)
	wantRejected(t, selfReject, houqin.EFORBIDDEN, `actor: "liu.yang" requested PR-2026-000001 and may not act on its task PR-2026-000001.dept_approval.1`)
	if len(state.Tasks) != 1 || state.Tasks[0].ID != task("dept_approval", 1) {
		t.Errorf("open tasks %+v, want the approval still open", state.Tasks)
	}
	// The cancellation is recorded: the open task cancelled, then the
	// process, so the read models end it.
	events := storetest.MustReadStream(t, store, stream)
	if got := types(events); !cmp.Equal(got, []string{"procurement.requisition_submitted", "task.opened", "task.cancelled", "process.cancelled"}) {
		t.Errorf("events %v", got)
	}
	if c := of[*houqin.TaskCancelled](t, events); len(c) != 1 || c[0].TaskID != task("dept_approval", 1) || c[0].Reason != "the workflow was cancelled" {
		t.Errorf("tasks cancelled %+v", c)
	}
}

func TestProcurementInvalidInput(t *testing.T) {
	tests := []struct {
		name    string
		change  func(in *workflows.ProcurementInput)
		message string
	}{
		{"bad item", func(in *workflows.ProcurementInput) { in.Request.Items[1].Quantity = 0 }, "request.items[1].quantity: must be positive, got 0"},
		{"no approver", func(in *workflows.ProcurementInput) { in.Approver = "" }, "approver: required: the input has neither a policy nor an approver"},
		{"no requester", func(in *workflows.ProcurementInput) { in.Requester = "" }, "requester: required"},
		{"no logistics", func(in *workflows.ProcurementInput) { in.Logistics = nil }, "logistics: at least one assignee is required"},
		{"other process ID", func(in *workflows.ProcurementInput) { in.ProcessID = "PR-2026-000002" },
			`process_id: "PR-2026-000002" is not the workflow ID "PR-2026-000001"`},
		{"malformed process ID", func(in *workflows.ProcurementInput) { in.ProcessID = "PR-1" }, `process_id: must look like PR-2026-000001, got "PR-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := mustOpenStore(t)
			h := newHarness(t, store)
			in := input()
			tt.change(&in)
			_, err := h.run(in)
			var ae *temporal.ApplicationError
			if !errors.As(err, &ae) || ae.Type() != houqin.EINVALID || ae.Message() != tt.message {
				t.Fatalf("workflow error %v, want EINVALID %q", err, tt.message)
			}
			if n := len(storetest.MustReadAll(t, store)); n != 0 {
				t.Errorf("%d events stored, want none", n)
			}
		})
	}
}

// lossyStore is the real store, except that the first attempt of every
// append is stored and then answered with an error, as when the connection
// drops after the commit. The activity retries, and must not write twice.
type lossyStore struct {
	houqin.EventStore
	mu   sync.Mutex
	seen map[string]bool // first event IDs of appends answered once
	lost int
}

func (s *lossyStore) Append(ctx context.Context, stream string, expected int64, events ...houqin.Event) ([]houqin.Event, error) {
	out, err := s.EventStore.Append(ctx, stream, expected, events...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && !s.seen[events[0].ID] {
		s.seen[events[0].ID] = true
		s.lost++
		return nil, houqin.Errorf(houqin.EUNAVAILABLE, "connection lost after commit")
	}
	return out, err
}

func TestProcurementRetriedAppends(t *testing.T) {
	store := mustOpenStore(t)
	lossy := &lossyStore{EventStore: store, seen: map[string]bool{}}
	h := newHarness(t, lossy)
	approved := h.act(time.Minute, task("dept_approval", 1), "approve", "liu.yang", "", nil)
	ordered := h.act(2*time.Minute, task("record_po", 1), "complete", "li.na", "", order)
	received := h.act(3*time.Minute, task("receive_goods", 1), "complete", "li.na", "", allDelivered)
	stocked := h.act(4*time.Minute, task("stock_in", 1), "complete", "li.na", "", nil)

	res, err := h.run(input())
	if err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	events := storetest.MustReadStream(t, store, stream)
	if len(events) != 14 {
		t.Fatalf("%d events on %s, want 14: %v", len(events), stream, types(events))
	}
	wantChain(t, events)
	if lossy.lost != 7 { // five process appends, two inventory lines
		t.Errorf("%d responses lost, want 7", lossy.lost)
	}
	if len(h.appends) != 10 {
		t.Errorf("%d AppendEvents attempts, want 10 (each of 5 twice)", len(h.appends))
	}
	wantOutcome(t, approved, houqin.StatusRunning, events, 4)
	wantOutcome(t, ordered, houqin.StatusRunning, events, 7)
	wantOutcome(t, received, houqin.StatusRunning, events, 10)
	wantOutcome(t, stocked, houqin.StatusCompleted, events, 13)
	if res.Position != events[13].Position {
		t.Errorf("result position %d, want %d", res.Position, events[13].Position)
	}
	for item, qty := range map[string]int64{"A4 paper": 20, "toner": 2} {
		inv := storetest.MustReadStream(t, store, houqin.InventoryStream(item))
		if len(inv) != 1 || decode[*houqin.InventoryStockedIn](t, inv[0]).Quantity != qty {
			t.Errorf("%s: %d events, want one of %d", houqin.InventoryStream(item), len(inv), qty)
		}
	}
}

// TestProcurementStreamConflict: someone else writes to the process's
// stream. The workflow's next append fails with ECONFLICT, which no retry
// can fix: the waiting update gets the error and the workflow fails.
func TestProcurementStreamConflict(t *testing.T) {
	store := mustOpenStore(t)
	h := newHarness(t, store)
	approved := h.act(time.Minute, task("dept_approval", 1), "approve", "liu.yang", "", nil)
	h.at(90*time.Second, func() {
		e, err := houqin.NewEvent(houqin.EventID("intruder"), houqin.ProcurementCompleted{}, houqin.Metadata{Actor: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustAppend(t, store, stream, 4, e)
	})
	ordered := h.act(2*time.Minute, task("record_po", 1), "complete", "li.na", "", order)

	_, err := h.run(input())
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != houqin.ECONFLICT {
		t.Fatalf("workflow error %v, want an ECONFLICT application error", err)
	}
	events := storetest.MustReadStream(t, store, stream)
	wantOutcome(t, approved, houqin.StatusRunning, events, 4)
	if !ordered.accepted || !ordered.done || !errors.As(ordered.err, &ae) || ae.Type() != houqin.ECONFLICT ||
		ae.Message() != "expected_version: expected procurement-PR-2026-000001 at version 4, found version 5" {
		t.Errorf("the waiting update: accepted %v, done %v, error %v; want ECONFLICT naming the versions", ordered.accepted, ordered.done, ordered.err)
	}
	if len(events) != 6 {
		t.Errorf("%d events, want the 5 of the workflow and the intruder's", len(events))
	}
}
