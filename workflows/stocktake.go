package workflows

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// StocktakeID returns the ID of the seq-th stocktake of a year,
// "ST-2026-000001"; it is also the workflow ID.
func StocktakeID(year int, seq int64) string { return fmt.Sprintf("ST-%04d-%06d", year, seq) }

var stocktakeID = regexp.MustCompile(`^ST-[0-9]{4}-[0-9]{6,}$`)

// StocktakeInput starts a stocktake (盘点).
type StocktakeInput struct {
	ProcessID  string                  `json:"process_id"`
	Requester  string                  `json:"requester"`
	Request    houqin.StocktakeRequest `json:"request"`
	Policy     houqin.KindPolicy       `json:"policy"`
	PolicyHash string                  `json:"policy_hash"`
}

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
		return ProcessResult{}, temporal.NewNonRetryableApplicationError(houqin.ErrorMessage(err), houqin.ErrorCode(err), nil)
	}
	p, err := newProcess(ctx, houqin.KindStocktake, in.ProcessID, houqin.StocktakeStream(in.ProcessID), in.Requester, in.Policy, in.PolicyHash)
	if err != nil {
		return ProcessResult{}, err
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, p.state); err != nil {
		return ProcessResult{}, err
	}
	w := &stocktake{in: in, p: p}
	res, err := w.run(ctx)
	return p.end(ctx, res, err, p.finishWith)
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
		return ProcessResult{}, temporal.NewNonRetryableApplicationError(houqin.ErrorMessage(err), houqin.ErrorCode(err), nil)
	}
	err = w.p.record(ctx, w.in.Requester, "", houqin.StocktakeSubmitted{ProcessID: w.in.ProcessID, Requester: w.in.Requester,
		Request: w.in.Request, Lines: lines})
	if err != nil {
		return ProcessResult{}, err
	}
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
