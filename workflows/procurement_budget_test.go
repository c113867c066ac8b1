package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/storetest"
	"go.temporal.io/sdk/activity"
)

// Under the default policy and the budget of budgetStore, MKT office
// supplies: plan 10 000.00, band 500.00.
var officeLine = activities.BudgetLineRef{Year: 2026, Department: "MKT", Category: "office_supplies"}

// budgetStore returns a store with the 2026 budget active and, if held > 0,
// that much already reserved on MKT office supplies by another process.
func budgetStore(t *testing.T, held int64) (houqin.EventStore, *activities.Activities) {
	t.Helper()
	store := mustOpenStore(t)
	a := &activities.Activities{Store: store, Org: demoOrg(t), Now: func() time.Time { return start }}
	res, err := a.ActivateBudget(context.Background(), activities.ActivateBudgetInput{ProcessID: "BU-2026-000001", Draft: *draft2026()})
	if err != nil || res.Refused != "" {
		t.Fatalf("activate: %+v, %v", res, err)
	}
	if held > 0 {
		hold(t, a, "PR-2026-000900", held)
	}
	return store, a
}

func hold(t *testing.T, a *activities.Activities, pid string, amount int64) {
	t.Helper()
	r, err := a.ReserveBudget(context.Background(), activities.ReserveBudgetInput{ProcessID: pid, Line: officeLine, Amount: amount, Allow: houqin.BudgetExceeded})
	if err != nil || r.Refused {
		t.Fatalf("hold %d: %+v, %v", amount, r, err)
	}
}

// budgetLog is taskLog with the budget events.
func budgetLog(t *testing.T, events []houqin.Event) []string {
	var out []string
	for _, e := range events {
		d, _ := e.Decode()
		switch v := d.(type) {
		case *houqin.ProcurementBudgetChecked:
			out = append(out, "budget "+v.Check.Status)
		case *houqin.ProcurementBudgetReserved:
			s := fmt.Sprintf("reserve %d %s", v.Amount, v.Status)
			if v.Exception {
				s += " exception"
			}
			out = append(out, s)
		case *houqin.ProcurementBudgetReleased:
			out = append(out, fmt.Sprintf("release %d", v.Amount))
		case *houqin.InvoiceRecorded:
			out = append(out, fmt.Sprintf("invoice %d released %d", v.Amount, v.Released))
		default:
			out = append(out, taskLog(t, []houqin.Event{e})...)
		}
	}
	return out
}

func wantBudgetLog(t *testing.T, events []houqin.Event, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, budgetLog(t, events)); diff != "" {
		t.Errorf("what happened (-want +got):\n%s", diff)
	}
}

func wantLine(t *testing.T, store houqin.EventStore, reserved, actual int64) *houqin.BudgetLine {
	t.Helper()
	l := lineState(t, store, "MKT", "office_supplies")
	if l.Reserved != reserved || l.Actual != actual {
		t.Errorf("line: reserved %d, actual %d; want %d, %d", l.Reserved, l.Actual, reserved, actual)
	}
	return l
}

// complete sends a work task's completion at d.
func (h *harness) complete(d time.Duration, step string, n int, data any) *update {
	h.t.Helper()
	act := houqin.TaskAction{TaskID: task(step, n), Action: houqin.ActionComplete, Actor: "li.na"}
	if data != nil {
		act.Data = mustJSON(h.t, data)
	}
	return h.do(d, act)
}

func oneItem(total int64) (houqin.PurchaseOrder, houqin.GoodsReceipt) {
	return houqin.PurchaseOrder{Supplier: "展览公司", Lines: []houqin.OrderLine{{Name: "展架", Quantity: 1, UnitPrice: total}}},
		houqin.GoodsReceipt{Lines: []houqin.ItemQuantity{{Name: "展架", Quantity: 1}}}
}

func TestProcurementBudgetWithinAndUnderSpend(t *testing.T) {
	store, _ := budgetStore(t, 0)
	h := newHarness(t, store)
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	po, rc := oneItem(small - 5000)
	h.complete(2*time.Minute, "record_po", 1, po)
	h.complete(3*time.Minute, "receive_goods", 1, rc)
	tooMuch := h.complete(4*time.Minute, "record_invoice", 1, houqin.Invoice{Number: "INV-9", Amount: small})
	inv := h.complete(5*time.Minute, "record_invoice", 1, houqin.Invoice{Number: "INV-1", Amount: small - 10000})
	h.complete(6*time.Minute, "stock_in", 1, map[string]any{})
	res, err, events := h.runTo(engineInput(policyOf(t, ""), small))
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v", res, err)
	}
	wantCode(t, tooMuch, houqin.EINVALID, "data.amount: 900.00 exceeds the purchase order's total 850.00")
	wantDone(t, inv)
	wantBudgetLog(t, events, []string{
		"budget within", "open dept_approval.1 liu.yang", "approve dept_approval.1 by liu.yang", "dept_approval approved",
		"skip finance_review", "skip director_approval", "skip budget_review", "skip budget_exception",
		"reserve 90000 within", "APPROVED", "open record_po.1 li.na,zhang.wei",
		"complete record_po.1 by li.na", "open receive_goods.1 li.na,zhang.wei",
		"complete receive_goods.1 by li.na", "open record_invoice.1 li.na,zhang.wei",
		"complete record_invoice.1 by li.na", "invoice 80000 released 10000", "open stock_in.1 li.na,zhang.wei",
		"complete stock_in.1 by li.na", "cc finish zhou.qiang",
	})
	wantLine(t, store, 0, 80000)
}

func TestProcurementBudgetWarnNeedsFinance(t *testing.T) {
	// 9 500.00 held: 900.00 more is 400.00 into the 500.00 band.
	store, _ := budgetStore(t, 950_000)
	h := newHarness(t, store)
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	h.approveBy(2*time.Minute, task("budget_review", 1), "chen.jing")
	h.cancelAt(3 * time.Minute) // cancelling after approval releases the reservation
	var during *houqin.BudgetLine
	h.at(150*time.Second, func() { during = lineState(t, store, "MKT", "office_supplies") })
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantBudgetLog(t, events, []string{
		"budget warn", "open dept_approval.1 liu.yang", "approve dept_approval.1 by liu.yang", "dept_approval approved",
		"skip finance_review", "skip director_approval",
		"open budget_review.1 chen.jing", "approve budget_review.1 by chen.jing", "budget_review approved",
		"skip budget_exception", "reserve 90000 warn", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
	if during == nil || during.Reserved != 950_000+small {
		t.Errorf("after approval the line holds %+v, want %d", during, 950_000+small)
	}
	wantLine(t, store, 950_000, 0)
}

func TestProcurementBudgetExceeded(t *testing.T) {
	const held = 1_000_000 // the whole plan: 900.00 more passes the 500.00 band
	for _, tt := range []struct {
		name   string
		action string
		want   []string
		line   int64
	}{
		{"exception approved", houqin.ActionApprove, []string{
			"open budget_exception.1 zhang.wei", "approve budget_exception.1 by zhang.wei", "budget_exception approved",
			"reserve 90000 exceeded exception", "APPROVED", "open record_po.1 li.na,zhang.wei",
		}, held + small},
		{"exception refused", houqin.ActionReject, []string{
			"open budget_exception.1 zhang.wei", "reject budget_exception.1 by zhang.wei", "budget_exception rejected",
			"REJECTED", "cc finish zhou.qiang",
		}, held},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store, _ := budgetStore(t, held)
			h := newHarness(t, store)
			h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
			h.approveBy(2*time.Minute, task("budget_review", 1), "chen.jing")
			h.do(3*time.Minute, houqin.TaskAction{TaskID: task("budget_exception", 1), Action: tt.action, Actor: "zhang.wei", Comment: "展会必需"})
			var line *houqin.BudgetLine
			h.at(4*time.Minute, func() { line = lineState(t, store, "MKT", "office_supplies") })
			h.cancelAt(5 * time.Minute)
			_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
			wantBudgetLog(t, events, append([]string{
				"budget exceeded", "open dept_approval.1 liu.yang", "approve dept_approval.1 by liu.yang", "dept_approval approved",
				"skip finance_review", "skip director_approval",
				"open budget_review.1 chen.jing", "approve budget_review.1 by chen.jing", "budget_review approved",
			}, tt.want...))
			if line == nil { // the process ended before
				line = lineState(t, store, "MKT", "office_supplies")
			}
			if line.Reserved != tt.line {
				t.Errorf("line %+v, want reserved %d", line, tt.line)
			}
		})
	}
}

func TestProcurementBudgetMovedSinceTheCheck(t *testing.T) {
	store, a := budgetStore(t, 0)
	h := newHarness(t, store)
	// Another procurement takes 9 500.00 while this one waits for its
	// department head: approved as within, it would now be in the band.
	h.at(30*time.Second, func() { hold(t, a, "PR-2026-000777", 950_000) })
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	res, err, events := h.runTo(engineInput(policyOf(t, ""), small))
	if err != nil || res.Status != houqin.StatusRejected {
		t.Fatalf("result %+v, %v; want rejected", res, err)
	}
	rej := of[*houqin.ProcurementRejected](t, events)
	want := "budget: budget-2026-MKT-office_supplies warn; the approval covers within, not warn (400.00 beyond the plan of 10000.00, within the 5.00 % band)"
	if len(rej) != 1 || rej[0].By != "system" || rej[0].Comment != want {
		t.Errorf("rejected = %+v, want by system: %q", rej, want)
	}
	wantLine(t, store, 950_000, 0)
}

func TestProcurementBudgetRevokeReleases(t *testing.T) {
	store, _ := budgetStore(t, 0)
	h := newHarness(t, store)
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	h.doProcess(2*time.Minute, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang", Comment: "不需要了"})
	res, err, events := h.runTo(engineInput(policyOf(t, ""), small))
	if err != nil || res.Status != houqin.StatusCancelled {
		t.Fatalf("result %+v, %v", res, err)
	}
	got := budgetLog(t, events)
	if want := []string{"cancel record_po.1", "REVOKED", "release 90000"}; !cmp.Equal(want, got[len(got)-3:]) {
		t.Errorf("ends with %q, want %q", got[len(got)-3:], want)
	}
	wantLine(t, store, 0, 0)
}

func TestProcurementNoBudgetLine(t *testing.T) {
	store := mustOpenStore(t) // no budget at all
	h := newHarness(t, store)
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	h.cancelAt(2 * time.Minute)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	checked := of[*houqin.ProcurementBudgetChecked](t, events)
	if len(checked) != 1 || checked[0].Check.Status != houqin.BudgetNone ||
		!strings.Contains(checked[0].Check.Reason, "no active budget line budget-2026-MKT-office_supplies") {
		t.Errorf("checked = %+v", checked)
	}
	if n := len(of[*houqin.ProcurementBudgetReserved](t, events)); n != 0 {
		t.Errorf("%d reservations without a line", n)
	}
	if l := lineState(t, store, "MKT", "office_supplies"); l.Version != houqin.ExpectNoStream {
		t.Errorf("the line stream was written: version %d", l.Version)
	}
}

func TestProcurementQuotesAboveThreshold(t *testing.T) {
	store, _ := budgetStore(t, 0)
	h := newHarness(t, store)
	kp := policyOf(t, `    quotes_above: 50000
    steps:
      - id: dept_approval
        name: {zh: 部门负责人审批, en: Department head approval}
        approvers: ["dept_head(requester)"]
`)
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	po, _ := oneItem(small)
	noQuotes := h.complete(2*time.Minute, "record_po", 1, po)
	po.Quotes = []houqin.Quote{{Supplier: "展览公司", Amount: small}, {Supplier: "会展服务", Amount: 95000}, {Supplier: "广告公司", Amount: 99000}}
	quoted := h.complete(3*time.Minute, "record_po", 1, po)
	dearer, _ := oneItem(small + 1)
	over := h.complete(150*time.Second, "record_po", 1, dearer)
	h.cancelAt(4 * time.Minute)
	_, _, events := h.runTo(engineInput(kp, small))
	wantCode(t, noQuotes, houqin.EINVALID, "data.quotes: 3 quotes are required for an order above 500.00, got 0")
	wantCode(t, over, houqin.EINVALID, "data.lines: the order's total 900.01 exceeds the approved 900.00")
	wantDone(t, quoted)
	if pos := of[*houqin.PurchaseOrderRecorded](t, events); len(pos) != 1 || len(pos[0].Quotes) != 3 {
		t.Errorf("po_recorded = %+v", pos)
	}
	// Cancelled after approval: the reservation is released.
	wantLine(t, store, 0, 0)
}

// TestProcurementReservationRetried loses the answer of the first
// ReserveBudget attempt after it appended (as when a worker dies between
// the append and the report): Temporal retries it, and the line holds one
// reservation.
func TestProcurementReservationRetried(t *testing.T) {
	store, real := budgetStore(t, 0)
	h := newHarness(t, store)
	attempts := 0
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.ReserveBudgetInput) (activities.ReserveBudgetResult, error) {
		attempts++
		res, err := real.ReserveBudget(ctx, in)
		if attempts == 1 && err == nil {
			return res, errors.New("connection reset after the append")
		}
		return res, err
	}, activity.RegisterOptions{Name: "ReserveBudget", DisableAlreadyRegisteredCheck: true})
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	h.cancelAt(2 * time.Minute)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	if attempts != 2 {
		t.Errorf("%d attempts, want 2", attempts)
	}
	if r := of[*houqin.ProcurementBudgetReserved](t, events); len(r) != 1 || r[0].Amount != small {
		t.Errorf("reserved = %+v", r)
	}
	var reserved int
	for _, e := range storetest.MustReadStream(t, store, officeLine.Stream()) {
		if e.Type == "budget.reserved" {
			reserved++
		}
	}
	if reserved != 1 {
		t.Errorf("%d budget.reserved on the line, want 1", reserved)
	}
	wantLine(t, store, 0, 0) // and the cancellation released it
}

// TestProcurementBudgetCoverComesFromSteps: finance countersigning the
// request (finance_review) is not a budget review. The line moves into its
// band while the route runs without budget steps: the reservation is
// refused, whoever approved, whatever their roles.
func TestProcurementBudgetCoverComesFromSteps(t *testing.T) {
	store, a := budgetStore(t, 0)
	h := newHarness(t, store)
	// 9 000.00 is within the plan at the start; 1 200.00 taken meanwhile
	// puts it 200.00 into the 500.00 band.
	h.at(30*time.Second, func() { hold(t, a, "PR-2026-000777", 120_000) })
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	h.approveBy(2*time.Minute, task("finance_review", 1), "chen.jing")
	h.approveBy(3*time.Minute, task("finance_review", 2), "zhang.wei")
	res, err, events := h.runTo(engineInput(policyOf(t, ""), medium))
	if err != nil || res.Status != houqin.StatusRejected {
		t.Fatalf("result %+v, %v; want rejected", res, err)
	}
	rej := of[*houqin.ProcurementRejected](t, events)
	if len(rej) != 1 || rej[0].By != "system" || !strings.Contains(rej[0].Comment, "the approval covers within, not warn") {
		t.Errorf("rejected = %+v, want by system: the approval covers within, not warn", rej)
	}
	wantLine(t, store, 120_000, 0)
}

// TestProcurementAmendmentRechecksBudget: a request within its line is
// returned and resubmitted for more, into the band: the budget is checked
// again, and the new route runs the budget review that covers it.
func TestProcurementAmendmentRechecksBudget(t *testing.T) {
	store, _ := budgetStore(t, 0)
	h := newHarness(t, store)
	h.do(time.Minute, houqin.TaskAction{TaskID: task("dept_approval", 1), Action: houqin.ActionReturn, Actor: "liu.yang", Comment: "数量不够"})
	amended := engineInput(policyOf(t, ""), 1_020_000).Request // 10 200.00: 200.00 into the 500.00 band
	resub := h.do(2*time.Minute, houqin.TaskAction{TaskID: task("resubmit", 1), Action: houqin.ActionResubmit, Actor: "wang.fang",
		Comment: "已加量", Data: mustJSON(t, amended)})
	h.approveBy(3*time.Minute, task("dept_approval", 2), "liu.yang")
	h.approveBy(4*time.Minute, task("finance_review", 1), "chen.jing")
	h.approveBy(5*time.Minute, task("finance_review", 2), "zhang.wei")
	review := h.approveBy(6*time.Minute, task("budget_review", 1), "chen.jing")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantDone(t, resub)
	wantDone(t, review)
	wantBudgetLog(t, events, []string{
		"budget within", "open dept_approval.1 liu.yang", "return dept_approval.1 by liu.yang", "dept_approval returned", "returned to requester",
		"open resubmit.1 wang.fang", "resubmit resubmit.1 by wang.fang", "resubmitted", "budget warn",
		"open dept_approval.2 liu.yang", "approve dept_approval.2 by liu.yang", "dept_approval approved",
		"open finance_review.1 chen.jing", "open finance_review.2 zhang.wei",
		"approve finance_review.1 by chen.jing", "approve finance_review.2 by zhang.wei", "finance_review approved",
		"skip director_approval",
		"open budget_review.1 chen.jing", "approve budget_review.1 by chen.jing", "budget_review approved",
		"skip budget_exception", "reserve 1020000 warn", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
}
