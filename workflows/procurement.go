package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The steps of a procurement, in order; receive_goods repeats until every
// requested item has arrived.
const (
	StepDeptApproval = "dept_approval"
	StepRecordPO     = "record_po"
	StepReceiveGoods = "receive_goods"
	StepStockIn      = "stock_in"
)

// ProcessID returns the ID of the seq-th procurement of a year,
// "PR-2026-000001"; it is also the workflow ID.
func ProcessID(year int, seq int64) string { return fmt.Sprintf("PR-%04d-%06d", year, seq) }

var processID = regexp.MustCompile(`^PR-[0-9]{4}-[0-9]{6,}$`)

// SLA says how long each task of a procurement may stay open; it sets the
// tasks' due times. Zero durations take the defaults of DefaultSLA.
type SLA struct {
	Approval      time.Duration `json:"approval"`
	PurchaseOrder time.Duration `json:"purchase_order"`
	Receipt       time.Duration `json:"receipt"` // each receive_goods task
	StockIn       time.Duration `json:"stock_in"`
}

// DefaultSLA returns the SLAs a procurement uses unless its input says
// otherwise: a day to approve, two to order, a week per delivery, a day to
// stock in.
func DefaultSLA() SLA {
	return SLA{Approval: 24 * time.Hour, PurchaseOrder: 48 * time.Hour, Receipt: 7 * 24 * time.Hour, StockIn: 24 * time.Hour}
}

func (s SLA) withDefaults() SLA {
	d := DefaultSLA()
	for _, f := range []struct{ v, def *time.Duration }{
		{&s.Approval, &d.Approval}, {&s.PurchaseOrder, &d.PurchaseOrder}, {&s.Receipt, &d.Receipt}, {&s.StockIn, &d.StockIn},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return s
}

// ProcurementInput starts a procurement. Everything the process decides by
// is resolved before it starts, so a running process keeps the rules it
// started under.
type ProcurementInput struct {
	ProcessID string                    `json:"process_id"` // "" means the workflow ID
	Requester string                    `json:"requester"`
	Request   houqin.ProcurementRequest `json:"request"`
	// Policy is the approval policy of procurements in force at the start
	// (houqin.Policy.Kind); the process keeps it to the end.
	Policy houqin.KindPolicy `json:"policy"`
	// Approver is the one approver of a procurement started without a
	// policy (before the approval engine): kept so those still replay.
	Approver   string   `json:"approver,omitempty"`
	Logistics  []string `json:"logistics"`             // users with role logistics_staff: assignees of the work tasks
	SLA        SLA      `json:"sla"`                   // of the work steps; the policy sets the approval steps'
	PolicyHash string   `json:"policy_hash,omitempty"` // Policy.Hash(), recorded in every event's metadata
	// BudgetYear is the year whose budget line the procurement spends
	// from; 0 is the year of its start in UTC+8. An event's supplies spend
	// from the year the event takes place, as the event does.
	BudgetYear int `json:"budget_year,omitempty"`
}

// ProcurementResult is how a procurement ended.
type ProcurementResult struct {
	ProcessID string        `json:"process_id"`
	Status    houqin.Status `json:"status"`   // completed or rejected
	Version   int64         `json:"version"`  // version of the last event in the process's stream
	Position  int64         `json:"position"` // global position of that event
}

// State is what QueryState returns: a snapshot for debugging.
type State struct {
	ProcessID   string                `json:"process_id"`
	Status      houqin.Status         `json:"status"`
	Tasks       []houqin.Task         `json:"tasks"`       // open tasks
	Outstanding []houqin.ItemQuantity `json:"outstanding"` // goods still due
	Version     int64                 `json:"version"`     // of the last stored event
	Position    int64                 `json:"position"`
}

// Procurement runs one procurement (采购): department approval, purchase
// order, goods receipts until everything arrived, stock-in. It appends,
// on stream houqin.ProcurementStream(ID):
//
//	procurement.requisition_submitted, task.opened(dept_approval)
//	task.completed, procurement.approved, task.opened(record_po)      (or: task.completed, procurement.rejected — the end)
//	task.completed, procurement.po_recorded, task.opened(receive_goods)
//	task.completed, procurement.goods_received, task.opened(receive_goods | stock_in)   (per delivery)
//	task.completed, procurement.stocked_in, procurement.completed
//
// and, before the last line, one inventory.stocked_in per item on the item's
// inventory stream. An invalid input fails the workflow with EINVALID.
func Procurement(ctx workflow.Context, in ProcurementInput) (ProcurementResult, error) {
	if in.ProcessID == "" {
		in.ProcessID = workflow.GetInfo(ctx).WorkflowExecution.ID
	}
	if err := in.validate(workflow.GetInfo(ctx).WorkflowExecution.ID); err != nil {
		return ProcurementResult{}, badInput(err)
	}
	p, err := newProcess(ctx, houqin.KindProcurement, in.ProcessID, houqin.ProcurementStream(in.ProcessID), in.Requester, in.Policy, in.PolicyHash)
	if err != nil {
		return ProcurementResult{}, err
	}
	w := &procurement{in: in, sla: in.SLA.withDefaults(), p: p, outstanding: in.Request.Quantities()}
	w.budget = budgetHold{p: p, events: holdEvents{
		checked: func(r activities.BudgetCheckResult) houqin.EventData {
			return houqin.ProcurementBudgetChecked{Line: r.Line, Check: r.Check}
		},
		reserved: func(r activities.ReserveBudgetResult) houqin.EventData {
			return houqin.ProcurementBudgetReserved{Line: r.Line, Amount: r.Reserved, Status: r.Check.Status, Exception: r.Exception}
		},
		refused: func(comment string) houqin.EventData {
			return houqin.ProcurementRejected{By: "system", Comment: comment}
		},
		released: func(r activities.ReleaseBudgetResult, reason string) houqin.EventData {
			return houqin.ProcurementBudgetReleased{Line: r.Line, Amount: r.Released, Reason: reason}
		},
	}}
	if err := workflow.SetQueryHandler(ctx, QueryState, w.state); err != nil {
		return ProcurementResult{}, err
	}

	res, err := w.run(ctx)
	if errors.Is(err, errStopped) {
		res, err = w.stop(ctx)
	}
	// Cancelled or failed before the invoice: give back what the process
	// holds on its line, whatever became of the workflow.
	w.budget.giveBack(ctx, err, "the procurement was cancelled")
	return res, p.ended(ctx, err)
}

// failure returns the error a workflow fails with: an error caused by a
// business failure becomes a non-retryable application error typed with its
// houqin code, keeping the whole message for operators.
func failure(err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae != err {
		return temporal.NewNonRetryableApplicationError(err.Error(), ae.Type(), err)
	}
	return err
}

func (in ProcurementInput) validate(workflowID string) error {
	switch {
	case !processID.MatchString(in.ProcessID):
		return houqin.Errorf(houqin.EINVALID, "process_id: must look like PR-2026-000001, got %q", in.ProcessID)
	case in.ProcessID != workflowID:
		return houqin.Errorf(houqin.EINVALID, "process_id: %q is not the workflow ID %q", in.ProcessID, workflowID)
	case strings.TrimSpace(in.Requester) == "":
		return houqin.Errorf(houqin.EINVALID, "requester: required")
	case len(in.Policy.Steps) == 0 && strings.TrimSpace(in.Approver) == "":
		return houqin.Errorf(houqin.EINVALID, "approver: required: the input has neither a policy nor an approver")
	case len(in.Policy.Steps) > 0 && in.Policy.Kind != houqin.KindProcurement:
		return houqin.Errorf(houqin.EINVALID, "policy.kind: must be procurement, got %q", in.Policy.Kind)
	case len(in.Policy.Steps) > 0 && in.PolicyHash != in.Policy.Hash():
		return houqin.Errorf(houqin.EINVALID, "policy_hash: %q is not the hash of the policy", in.PolicyHash)
	case len(in.Logistics) == 0:
		return houqin.Errorf(houqin.EINVALID, "logistics: at least one assignee is required")
	}
	if err := in.Request.Validate(); err != nil {
		return houqin.Errorf(houqin.EINVALID, "request.%s", houqin.ErrorMessage(err))
	}
	return nil
}

// procurement is one running procurement.
type procurement struct {
	in          ProcurementInput
	sla         SLA
	p           *process
	outstanding []houqin.ItemQuantity // per requested item, what has not arrived

	// Budget control (version budgetControl of the workflow; see
	// docs/BUDGET.md): the line, the check at the start, what is reserved.
	budgeted bool
	budget   budgetHold
	order    int64 // the purchase order's total
}

// budgetControl is the version of the procurement workflow that checks,
// reserves and consumes its budget line, asks for quotes above the policy's
// threshold and records the invoice; histories recorded before it replay
// without.
const budgetControl = 1

func (w *procurement) run(ctx workflow.Context) (ProcurementResult, error) {
	r := w.in.Request
	err := w.p.record(ctx, w.in.Requester, "", houqin.RequisitionSubmitted{
		ProcessID: w.in.ProcessID, Requester: w.in.Requester, Request: r, Total: r.Total(), Currency: r.CurrencyOrDefault(),
	})
	if err != nil {
		return ProcurementResult{}, err
	}
	if len(w.in.Policy.Steps) > 0 && workflow.GetVersion(ctx, "budget-control", workflow.DefaultVersion, budgetControl) == budgetControl {
		if err := w.checkBudget(ctx); err != nil {
			return ProcurementResult{}, err
		}
	}
	rt := w.route()
	if err := w.p.copy(ctx, rt, w.in.Policy.CC.Start, "start"); err != nil {
		return ProcurementResult{}, err
	}
	v, err := w.p.approve(ctx, rt)
	if err != nil {
		return ProcurementResult{}, err
	}
	if !v.Approved {
		w.p.status, w.p.phase = houqin.StatusRejected, phaseDone
		if err := w.p.record(ctx, v.By, v.cause, houqin.ProcurementRejected{By: v.By, Comment: v.Comment}); err != nil {
			return ProcurementResult{}, err
		}
		return w.finish(ctx)
	}
	if w.budgeted {
		refused, err := w.budget.reserve(ctx, v, w.in.Request.Total())
		if err != nil {
			return ProcurementResult{}, err
		}
		if refused {
			return w.finish(ctx)
		}
	}
	w.p.phase = phaseWork
	if err := w.p.record(ctx, v.By, v.cause, houqin.ProcurementApproved{By: v.By, Comment: v.Comment}); err != nil {
		return ProcurementResult{}, err
	}

	if err := w.recordPO(ctx); err != nil {
		return ProcurementResult{}, err
	}
	for len(houqin.Due(w.outstanding)) > 0 {
		if err := w.receiveGoods(ctx); err != nil {
			return ProcurementResult{}, err
		}
	}
	if w.budgeted {
		if err := w.recordInvoice(ctx); err != nil {
			return ProcurementResult{}, err
		}
	}
	if err := w.stockIn(ctx); err != nil {
		return ProcurementResult{}, err
	}
	return w.finish(ctx)
}

// route returns the approval route of the procurement: its policy, or for
// a procurement started without one, the single approval by in.Approver.
func (w *procurement) route() route {
	rt := route{
		policy: w.in.Policy,
		facts: func() houqin.Facts {
			if w.budgeted {
				return w.budget.check.Facts(w.in.Request.Facts(w.in.Requester))
			}
			return w.in.Request.Facts(w.in.Requester)
		},
		checkAmend: func(data json.RawMessage) error {
			_, err := w.amended(data)
			return err
		},
		amend: func(data json.RawMessage) error {
			req, err := w.amended(data)
			if err != nil {
				return err
			}
			w.in.Request, w.outstanding = req, req.Quantities()
			return nil
		},
		resubmitted: func(ctx workflow.Context, _ *decision) error {
			if !w.p.integrity || !w.budgeted {
				return nil
			}
			// An amended request is checked again: the route that
			// follows depends on its budget status.
			line := w.budget.line
			line.Category = w.in.Request.BudgetCategory
			return w.budget.checkAgainst(ctx, line, w.in.Request.Total())
		},
	}
	if len(w.in.Policy.Steps) == 0 {
		rt.fixed = &houqin.Resolution{Step: StepDeptApproval, Name: houqin.Text{Zh: "部门负责人审批", En: "Department head approval"},
			Mode: houqin.ModeAny, Applies: true, Required: 1,
			Assignees: []houqin.Assignee{{User: w.in.Approver, Rule: "input"}}}
		rt.policy.Steps = []houqin.PolicyStep{{ID: StepDeptApproval, Name: rt.fixed.Name, Mode: houqin.ModeAny,
			SLA: houqin.Duration(w.sla.Approval), OnTimeout: houqin.TimeoutNone}}
	}
	return rt
}

// amended decodes and checks an amended request: it must stay in the same
// department.
func (w *procurement) amended(data json.RawMessage) (houqin.ProcurementRequest, error) {
	var req houqin.ProcurementRequest
	if err := decodeData(data, &req); err != nil {
		return req, err
	}
	if err := req.Validate(); err != nil {
		return req, err
	}
	if req.Department != w.in.Request.Department {
		return req, houqin.Errorf(houqin.EINVALID, "department: an amended request stays in %s", w.in.Request.Department)
	}
	return req, nil
}

// stop ends a procurement its requester withdrew or revoked.
func (w *procurement) stop(ctx workflow.Context) (ProcurementResult, error) {
	reason := "the requester withdrew the procurement"
	if w.p.stopping != nil && w.p.stopping.Action == houqin.ActionRevoke {
		reason = "the requester revoked the procurement"
	}
	if err := w.p.stop(ctx); err != nil {
		return ProcurementResult{}, err
	}
	if err := w.budget.release(ctx, reason, true); err != nil {
		return ProcurementResult{}, err
	}
	return w.finish(ctx)
}

// recordPO waits for logistics to record the purchase order.
func (w *procurement) recordPO(ctx workflow.Context) error {
	check := func(act houqin.TaskAction) error {
		var po houqin.PurchaseOrder
		if err := decodeData(act.Data, &po); err != nil {
			return err
		}
		if err := w.in.Request.CheckPurchaseOrder(po); err != nil || !w.budgeted {
			return inData(err)
		}
		if t, approved := po.Total(), w.in.Request.Total(); t > approved {
			return houqin.Errorf(houqin.EINVALID, "data.lines: the order's total %s exceeds the approved %s; amend the request instead", houqin.Money(t), houqin.Money(approved))
		}
		return inData(houqin.CheckQuotes(po, w.in.Policy.QuotesAbove))
	}
	d, err := w.p.work(ctx, StepRecordPO, houqin.Text{Zh: "录入采购订单", En: "Record the purchase order"}, w.in.Logistics, w.sla.PurchaseOrder, check)
	if err != nil {
		return err
	}
	var po houqin.PurchaseOrder
	if err := decodeData(d.Data, &po); err != nil {
		return err
	}
	w.order = po.Total()
	return w.p.record(ctx, d.Actor, d.updateID, houqin.PurchaseOrderRecorded{Supplier: po.Supplier, Lines: po.Lines, Total: po.Total(), Quotes: po.Quotes})
}

// receiveGoods waits for logistics to record one delivery.
func (w *procurement) receiveGoods(ctx workflow.Context) error {
	check := func(act houqin.TaskAction) error {
		var rc houqin.GoodsReceipt
		if err := decodeData(act.Data, &rc); err != nil {
			return err
		}
		return inData(houqin.CheckReceipt(w.outstanding, rc))
	}
	d, err := w.p.work(ctx, StepReceiveGoods, houqin.Text{Zh: "收货", En: "Receive the goods"}, w.in.Logistics, w.sla.Receipt, check)
	if err != nil {
		return err
	}
	var rc houqin.GoodsReceipt
	if err := decodeData(d.Data, &rc); err != nil {
		return err
	}
	w.outstanding = houqin.Receive(w.outstanding, rc)
	return w.p.record(ctx, d.Actor, d.updateID, houqin.GoodsReceived{Lines: rc.Lines, Outstanding: houqin.Due(w.outstanding)})
}

// stockIn waits for logistics to put the goods into stock, then adds them to
// the inventory and ends the procurement.
func (w *procurement) stockIn(ctx workflow.Context) error {
	check := func(act houqin.TaskAction) error { return decodeData(act.Data, &struct{}{}) }
	d, err := w.p.work(ctx, StepStockIn, houqin.Text{Zh: "入库", En: "Put into stock"}, w.in.Logistics, w.sla.StockIn, check)
	if err != nil {
		return err
	}
	lines := make([]houqin.StockLine, len(w.in.Request.Items))
	for i, it := range w.in.Request.Items {
		lines[i] = houqin.StockLine{Name: it.Name, Quantity: it.Quantity, Unit: it.Unit}
	}
	// The inventory events go first, so the position the update returns
	// (procurement.completed) is past them.
	in := activities.StockInInput{ProcessID: w.in.ProcessID, Lines: lines, Meta: houqin.Metadata{
		Actor: d.Actor, CorrelationID: w.in.ProcessID, CausationID: d.updateID,
		WorkflowID: w.p.workflowID, RunID: w.p.runID, OccurredAt: workflow.Now(ctx), PolicyHash: w.in.PolicyHash,
	}}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.StockIn, in).Get(ctx, nil); err != nil {
		return fmt.Errorf("stock in: %w", err)
	}
	w.p.status, w.p.phase = houqin.StatusCompleted, phaseDone
	if err := w.p.record(ctx, d.Actor, d.updateID, houqin.ProcurementStockedIn{Lines: lines}); err != nil {
		return err
	}
	return w.p.record(ctx, "system", d.updateID, houqin.ProcurementCompleted{})
}

// finish copies whom the policy names at the finish of a completed or
// rejected procurement, stores what is pending and returns the result.
func (w *procurement) finish(ctx workflow.Context) (ProcurementResult, error) {
	if w.p.status == houqin.StatusCompleted || w.p.status == houqin.StatusRejected {
		if err := w.p.copy(ctx, w.route(), w.in.Policy.CC.Finish, "finish"); err != nil {
			return ProcurementResult{}, err
		}
	}
	if err := w.p.flush(ctx); err != nil {
		return ProcurementResult{}, err
	}
	w.p.log.Info("Procurement ended", "status", w.p.status, "position", w.p.position)
	return ProcurementResult{ProcessID: w.in.ProcessID, Status: w.p.status, Version: w.p.version, Position: w.p.position}, nil
}

func (w *procurement) state() (State, error) {
	return State{
		ProcessID: w.in.ProcessID, Status: w.p.status, Tasks: w.p.tasks(),
		Outstanding: houqin.Due(w.outstanding), Version: w.p.version, Position: w.p.position,
	}, nil
}

// StepRecordInvoice is the step, after the last delivery, in which
// logistics records the supplier's invoice: the actual cost.
const StepRecordInvoice = "record_invoice"

// checkBudget checks the request against its budget line (BudgetYear, or
// the year of now in UTC+8; the request's department and category) and records
// the outcome; the approval route's conditions see it as budget_status and
// budget_remaining.
func (w *procurement) checkBudget(ctx workflow.Context) error {
	w.budgeted = true
	year := w.in.BudgetYear
	if year == 0 {
		year = workflow.Now(ctx).In(houqin.BusinessZone).Year()
	}
	line := activities.BudgetLineRef{Year: year, Department: w.in.Request.Department, Category: w.in.Request.BudgetCategory}
	return w.budget.checkAgainst(ctx, line, w.in.Request.Total())
}

// recordInvoice waits for logistics to record the invoice, then consumes
// the actual cost from the budget line and releases what was reserved but
// not spent.
func (w *procurement) recordInvoice(ctx workflow.Context) error {
	check := func(act houqin.TaskAction) error {
		var inv houqin.Invoice
		if err := decodeData(act.Data, &inv); err != nil {
			return err
		}
		return inData(houqin.CheckInvoice(inv, w.order))
	}
	d, err := w.p.work(ctx, StepRecordInvoice, houqin.Text{Zh: "登记发票", En: "Record the invoice"}, w.in.Logistics, w.sla.PurchaseOrder, check)
	if err != nil {
		return err
	}
	var inv houqin.Invoice
	if err := decodeData(d.Data, &inv); err != nil {
		return err
	}
	res, err := w.budget.consume(ctx, inv.Amount, inv.Number, d.Actor, d.updateID)
	if err != nil {
		return err
	}
	return w.p.record(ctx, d.Actor, d.updateID, houqin.InvoiceRecorded{Number: inv.Number, Amount: inv.Amount,
		Currency: w.in.Request.CurrencyOrDefault(), Released: res.Released})
}
