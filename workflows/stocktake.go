package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"
)

// StocktakeID returns the ID of the seq-th stocktake of a year,
// "ST-2026-000001"; it is also the workflow ID.
func StocktakeID(year int, seq int64) string { return fmt.Sprintf("ST-%04d-%06d", year, seq) }

var stocktakeID = regexp.MustCompile(`^ST-[0-9]{4}-[0-9]{6,}$`)

// StepCount is the counting step of a scheduled stocktake.
const StepCount = "count"

// QueryCountItems names the query of the items a scheduled stocktake's
// count task counts (none for a stocktake submitted with its counts): what
// the count form lists.
const QueryCountItems = "count_items"

// DefaultCountSLA is how long the counters of a scheduled stocktake have.
const DefaultCountSLA = 3 * 24 * time.Hour

// StocktakeInput starts a stocktake (盘点): with the counts in Request, or,
// for a scheduled one, with Request.Counts empty and the Items that
// Counters count in a count task.
type StocktakeInput struct {
	ProcessID  string                  `json:"process_id"`
	Requester  string                  `json:"requester"`
	Request    houqin.StocktakeRequest `json:"request"`
	Policy     houqin.KindPolicy       `json:"policy"`
	PolicyHash string                  `json:"policy_hash"`
	Items      []string                `json:"items,omitempty"`
	Counters   []string                `json:"counters,omitempty"`
	CountSLA   time.Duration           `json:"count_sla,omitempty"` // 0: DefaultCountSLA
}

// scheduled reports whether the stocktake counts in a task.
func (in StocktakeInput) scheduled() bool { return len(in.Request.Counts) == 0 }

// Stocktake runs one stocktake: the counts are compared with the stock on
// hand when it starts (ReadItems), the variances go through the policy's
// approval route (its steps apply when has_variance), and once approved
// each variance is added to the stock (AdjustStock). Its stream,
// houqin.StocktakeStream(ID):
//
//	stocktake.submitted, the approval route…
//	stocktake.approved, stocktake.adjusted, stocktake.completed   (or: stocktake.rejected — the end)
//
// and one inventory.adjusted per line with a variance on the items'
// streams, before stocktake.adjusted.
func Stocktake(ctx workflow.Context, in StocktakeInput) (ProcessResult, error) {
	wid := workflow.GetInfo(ctx).WorkflowExecution.ID
	if in.ProcessID == "" {
		in.ProcessID = wid
	}
	if err := in.validate(wid); err != nil {
		return ProcessResult{}, badInput(err)
	}
	p, err := newProcess(ctx, houqin.KindStocktake, in.ProcessID, houqin.StocktakeStream(in.ProcessID), in.Requester, in.Policy, in.PolicyHash)
	if err != nil {
		return ProcessResult{}, err
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, p.state); err != nil {
		return ProcessResult{}, err
	}
	if err := workflow.SetQueryHandler(ctx, QueryCountItems, func() ([]string, error) { return slices.Clone(in.Items), nil }); err != nil {
		return ProcessResult{}, err
	}
	w := &stocktake{in: in, p: p}
	res, err := w.run(ctx)
	return endRun(ctx, p, res, err, p.finishWith)
}

func (in StocktakeInput) validate(workflowID string) error {
	switch {
	case !stocktakeID.MatchString(in.ProcessID):
		return houqin.Errorf(houqin.EINVALID, "process_id: must look like ST-2026-000001, got %q", in.ProcessID)
	case in.ProcessID != workflowID:
		return houqin.Errorf(houqin.EINVALID, "process_id: %q is not the workflow ID %q", in.ProcessID, workflowID)
	case strings.TrimSpace(in.Requester) == "":
		return houqin.Errorf(houqin.EINVALID, "requester: required")
	case in.Policy.Kind != houqin.KindStocktake:
		return houqin.Errorf(houqin.EINVALID, "policy.kind: must be stocktake, got %q", in.Policy.Kind)
	case in.PolicyHash != in.Policy.Hash():
		return houqin.Errorf(houqin.EINVALID, "policy_hash: %q is not the hash of the policy", in.PolicyHash)
	case in.scheduled() && (len(in.Items) == 0 || len(in.Counters) == 0):
		return houqin.Errorf(houqin.EINVALID, "items: a stocktake without counts needs the items to count and their counters")
	case in.scheduled():
		counts := make([]houqin.StocktakeCount, len(in.Items))
		for i, it := range in.Items {
			counts[i] = houqin.StocktakeCount{Item: it}
		}
		if err := (houqin.StocktakeRequest{Reason: in.Request.Reason, Counts: counts}).Validate(); err != nil {
			return houqin.Errorf(houqin.EINVALID, "items: %s", houqin.ErrorMessage(err))
		}
		return nil
	}
	if err := in.Request.Validate(); err != nil {
		return houqin.Errorf(houqin.EINVALID, "request.%s", houqin.ErrorMessage(err))
	}
	return nil
}

type stocktake struct {
	in StocktakeInput
	p  *process
}

func (w *stocktake) run(ctx workflow.Context) (ProcessResult, error) {
	if w.in.scheduled() {
		return w.runScheduled(ctx)
	}
	names := make([]string, len(w.in.Request.Counts))
	for i, c := range w.in.Request.Counts {
		names[i] = c.Item
	}
	var items []houqin.ItemState
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.ReadItems, names).Get(ctx, &items); err != nil {
		return ProcessResult{}, fmt.Errorf("read items: %w", err)
	}
	lines, err := houqin.StocktakeLines(w.in.Request, items)
	if err != nil {
		return ProcessResult{}, badInput(err)
	}
	err = w.p.record(ctx, w.in.Requester, "", houqin.StocktakeSubmitted{ProcessID: w.in.ProcessID, Requester: w.in.Requester,
		Request: w.in.Request, Lines: lines})
	if err != nil {
		return ProcessResult{}, err
	}
	return w.decide(ctx, lines)
}

// runScheduled runs a stocktake whose counts are entered in a count task:
// the variances are against the stock when the counts are entered.
func (w *stocktake) runScheduled(ctx workflow.Context) (ProcessResult, error) {
	err := w.p.record(ctx, w.in.Requester, "", houqin.StocktakeSubmitted{ProcessID: w.in.ProcessID, Requester: w.in.Requester,
		Request: w.in.Request, Lines: []houqin.StocktakeLine{}})
	if err != nil {
		return ProcessResult{}, err
	}
	check := func(act houqin.TaskAction) error {
		var r houqin.StocktakeRequest
		if err := decodeData(act.Data, &r); err != nil {
			return err
		}
		return inData(houqin.CheckCounts(w.in.Items, r))
	}
	sla := w.in.CountSLA
	if sla <= 0 {
		sla = DefaultCountSLA
	}
	d, err := w.p.work(ctx, StepCount, houqin.Text{Zh: "盘点计数", En: "Count the stock"}, w.in.Counters, sla, check)
	if err != nil {
		return ProcessResult{}, err
	}
	var counted houqin.StocktakeRequest
	if err := decodeData(d.Data, &counted); err != nil {
		return ProcessResult{}, err
	}
	names := make([]string, len(counted.Counts))
	for i, c := range counted.Counts {
		names[i] = c.Item
	}
	var items []houqin.ItemState
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.ReadItems, names).Get(ctx, &items); err != nil {
		return ProcessResult{}, fmt.Errorf("read items: %w", err)
	}
	lines, err := houqin.StocktakeLines(counted, items)
	if err != nil {
		return ProcessResult{}, badInput(err)
	}
	if err := w.p.record(ctx, d.Actor, d.updateID, houqin.StocktakeCounted{By: d.Actor, Lines: lines}); err != nil {
		return ProcessResult{}, err
	}
	return w.decide(ctx, lines)
}

// decide runs the approval of the variances and, once approved, adjusts
// the stock.
func (w *stocktake) decide(ctx workflow.Context, lines []houqin.StocktakeLine) (ProcessResult, error) {
	v, err := w.p.approve(ctx, fixedRoute(w.in.Policy, houqin.StocktakeFacts(lines, w.in.Requester)))
	if err != nil {
		return ProcessResult{}, err
	}
	if !v.Approved {
		w.p.status, w.p.phase = houqin.StatusRejected, phaseDone
		if err := w.p.record(ctx, v.By, v.cause, houqin.StocktakeRejected{By: v.By, Comment: v.Comment}); err != nil {
			return ProcessResult{}, err
		}
		return w.p.finishWith(ctx)
	}
	w.p.phase = phaseDone
	if err := w.p.record(ctx, v.By, v.cause, houqin.StocktakeApproved{By: v.By, Comment: v.Comment}); err != nil {
		return ProcessResult{}, err
	}
	m := w.p.meta(ctx, nil)
	m.Actor, m.CausationID = v.By, v.cause
	var adj activities.AdjustStockResult
	in := activities.AdjustStockInput{ProcessID: w.in.ProcessID, Lines: lines, Meta: m}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.AdjustStock, in).Get(ctx, &adj); err != nil {
		return ProcessResult{}, fmt.Errorf("adjust stock: %w", err)
	}
	w.p.status = houqin.StatusCompleted
	if err := w.p.record(ctx, "system", v.cause, houqin.StocktakeAdjusted{Lines: adj.Lines}); err != nil {
		return ProcessResult{}, err
	}
	if err := w.p.record(ctx, "system", v.cause, houqin.StocktakeCompleted{}); err != nil {
		return ProcessResult{}, err
	}
	res, err := w.p.finishWith(ctx)
	if err != nil {
		return res, err
	}
	var triggers []activities.ReorderTrigger
	for _, l := range adj.Lines {
		if l.BelowReorder {
			triggers = append(triggers, activities.ReorderTrigger{Item: l.Item, OnHand: l.OnHand})
		}
	}
	triggerReorders(ctx, w.p, triggers)
	return res, nil
}

// ScheduledStocktakeInput is what a stocktake schedule starts: who asks,
// why, which items, who counts. It is fixed when the schedule is made.
type ScheduledStocktakeInput struct {
	Requester string   `json:"requester"`
	Reason    string   `json:"reason"`
	Items     []string `json:"items"`
	Counters  []string `json:"counters"`
}

// ScheduledStocktake is the action of a stocktake schedule (a Temporal
// Schedule, see api): it numbers a stocktake ST-<year>-<seq> and starts it
// as a child whose counters count in a task, then ends; the stocktake
// lives on (parent-close policy ABANDON). It returns the stocktake's ID.
func ScheduledStocktake(ctx workflow.Context, in ScheduledStocktakeInput) (string, error) {
	info := workflow.GetInfo(ctx)
	var prep activities.PrepareStocktakeResult
	pin := activities.PrepareStocktakeInput{At: workflow.Now(ctx), Key: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.PrepareStocktake, pin).Get(ctx, &prep); err != nil {
		return "", fmt.Errorf("prepare stocktake: %w", err)
	}
	id := StocktakeID(prep.Year, prep.Number)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: id, TaskQueue: TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	child := workflow.ExecuteChildWorkflow(cctx, Stocktake, StocktakeInput{ProcessID: id, Requester: in.Requester,
		Request: houqin.StocktakeRequest{Reason: in.Reason}, Policy: prep.Policy, PolicyHash: prep.PolicyHash,
		Items: in.Items, Counters: in.Counters})
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return "", fmt.Errorf("start stocktake %s: %w", id, err)
	}
	workflow.GetLogger(ctx).Info("Scheduled stocktake started", "stocktake", id)
	return id, nil
}
