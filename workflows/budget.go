package workflows

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"go.temporal.io/sdk/workflow"
)

// BudgetProcessID returns the ID of the seq-th budget process of a year,
// "BU-2026-000001"; it is also the workflow ID.
func BudgetProcessID(year int, seq int64) string { return fmt.Sprintf("BU-%04d-%06d", year, seq) }

// AdjustmentProcessID returns the ID of the seq-th budget adjustment of a
// year, "BA-2026-000001"; it is also the workflow ID.
func AdjustmentProcessID(year int, seq int64) string { return fmt.Sprintf("BA-%04d-%06d", year, seq) }

var (
	budgetProcessID     = regexp.MustCompile(`^BU-[0-9]{4}-[0-9]{6,}$`)
	adjustmentProcessID = regexp.MustCompile(`^BA-[0-9]{4}-[0-9]{6,}$`)
)

// BudgetInput starts a budget process: a year's budget (Draft, process
// "BU-…") or an adjustment of an active one (Adjustment, process "BA-…").
// Both are of kind budget and follow the budget policy.
type BudgetInput struct {
	ProcessID  string                   `json:"process_id"` // "" means the workflow ID
	Requester  string                   `json:"requester"`
	Draft      *houqin.BudgetDraft      `json:"draft,omitempty"`
	Adjustment *houqin.BudgetAdjustment `json:"adjustment,omitempty"`
	Policy     houqin.KindPolicy        `json:"policy"`
	PolicyHash string                   `json:"policy_hash"`
}

// BudgetResult is how a budget process ended.
type BudgetResult struct {
	ProcessID string        `json:"process_id"`
	Status    houqin.Status `json:"status"` // completed, rejected, withdrawn
	Reason    string        `json:"reason,omitempty"`
	Version   int64         `json:"version"`
	Position  int64         `json:"position"`
}

// Budget runs a budget process (年度后勤预算 or 预算调整). On stream
// houqin.BudgetProcessStream(ID) it appends:
//
//	budget.submitted | budget.adjustment_submitted, the approval route's events
//	budget.approved, budget.activated | budget.adjustment_applied, budget.completed
//	(or: budget.rejected — by an approver, or by the system when the year's
//	budget is active already, or the adjustment no longer applies)
//
// On approval a budget plans each of its lines (budget.line_planned on the
// line streams, once per year: activities.ActivateBudget); an adjustment
// appends budget.adjusted to each of its lines (activities.AdjustBudget).
func Budget(ctx workflow.Context, in BudgetInput) (BudgetResult, error) {
	if in.ProcessID == "" {
		in.ProcessID = workflow.GetInfo(ctx).WorkflowExecution.ID
	}
	if err := in.validate(workflow.GetInfo(ctx).WorkflowExecution.ID); err != nil {
		return BudgetResult{}, badInput(err)
	}
	p, err := newProcess(ctx, houqin.KindBudget, in.ProcessID, houqin.BudgetProcessStream(in.ProcessID), in.Requester, in.Policy, in.PolicyHash)
	if err != nil {
		return BudgetResult{}, err
	}
	w := &budget{in: in, p: p}
	if err := workflow.SetQueryHandler(ctx, QueryState, w.state); err != nil {
		return BudgetResult{}, err
	}
	res, err := w.run(ctx)
	return endRun(ctx, p, res, err, w.finish)
}

func (in BudgetInput) validate(workflowID string) error {
	switch {
	case in.ProcessID != workflowID:
		return houqin.Errorf(houqin.EINVALID, "process_id: %q is not the workflow ID %q", in.ProcessID, workflowID)
	case strings.TrimSpace(in.Requester) == "":
		return houqin.Errorf(houqin.EINVALID, "requester: required")
	case (in.Draft == nil) == (in.Adjustment == nil):
		return houqin.Errorf(houqin.EINVALID, "draft: exactly one of draft and adjustment is required")
	case in.Draft != nil && !budgetProcessID.MatchString(in.ProcessID):
		return houqin.Errorf(houqin.EINVALID, "process_id: must look like BU-2026-000001, got %q", in.ProcessID)
	case in.Adjustment != nil && !adjustmentProcessID.MatchString(in.ProcessID):
		return houqin.Errorf(houqin.EINVALID, "process_id: must look like BA-2026-000001, got %q", in.ProcessID)
	case len(in.Policy.Steps) == 0 || in.Policy.Kind != houqin.KindBudget:
		return houqin.Errorf(houqin.EINVALID, "policy: the budget policy is required, got kind %q with %d steps", in.Policy.Kind, len(in.Policy.Steps))
	case in.PolicyHash != in.Policy.Hash():
		return houqin.Errorf(houqin.EINVALID, "policy_hash: %q is not the hash of the policy", in.PolicyHash)
	}
	if in.Draft != nil {
		if err := in.Draft.Validate(); err != nil {
			return houqin.Errorf(houqin.EINVALID, "draft.%s", houqin.ErrorMessage(err))
		}
		return nil
	}
	if err := in.Adjustment.Validate(); err != nil {
		return houqin.Errorf(houqin.EINVALID, "adjustment.%s", houqin.ErrorMessage(err))
	}
	return nil
}

// budget is one running budget process.
type budget struct {
	in BudgetInput
	p  *process
}

func (w *budget) facts() houqin.Facts {
	if w.in.Draft != nil {
		return w.in.Draft.Facts(w.in.Requester)
	}
	return w.in.Adjustment.Facts(w.in.Requester)
}

func (w *budget) run(ctx workflow.Context) (BudgetResult, error) {
	var first houqin.EventData
	if d := w.in.Draft; d != nil {
		first = houqin.BudgetSubmitted{ProcessID: w.in.ProcessID, Requester: w.in.Requester, Draft: *d,
			Request: houqin.BudgetRequest{Department: "ADM", Title: d.TitleOrDefault()}, Total: d.Total(), Currency: d.CurrencyOrDefault()}
	} else {
		adj := w.in.Adjustment
		first = houqin.BudgetAdjustmentSubmitted{ProcessID: w.in.ProcessID, Requester: w.in.Requester, Adjustment: *adj,
			Request: houqin.BudgetRequest{Department: "ADM", Title: fmt.Sprintf("%d 预算调整: %s", adj.Year, adj.Reason)},
			Total:   adj.Net(), Currency: houqin.DefaultCurrency}
	}
	if err := w.p.record(ctx, w.in.Requester, "", first); err != nil {
		return BudgetResult{}, err
	}
	rt := route{policy: w.in.Policy, facts: w.facts, checkAmend: w.checkAmend, amend: w.amend}
	if err := w.p.copy(ctx, rt, w.in.Policy.CC.Start, "start"); err != nil {
		return BudgetResult{}, err
	}
	v, err := w.p.approve(ctx, rt)
	if err != nil {
		return BudgetResult{}, err
	}
	if !v.Approved {
		return w.reject(ctx, v.By, v.cause, v.Comment)
	}
	w.p.phase = phaseDone
	if err := w.p.record(ctx, v.By, v.cause, houqin.BudgetApproved{By: v.By, Comment: v.Comment}); err != nil {
		return BudgetResult{}, err
	}
	meta := houqin.Metadata{Actor: v.By, CausationID: v.cause, WorkflowID: w.p.workflowID, RunID: w.p.runID,
		OccurredAt: workflow.Now(ctx), PolicyHash: w.in.PolicyHash}
	actx := withActivityOptions(ctx)
	if d := w.in.Draft; d != nil {
		var res activities.ActivateBudgetResult
		if err := workflow.ExecuteActivity(actx, a.ActivateBudget, activities.ActivateBudgetInput{ProcessID: w.in.ProcessID, Draft: *d, Meta: meta}).Get(ctx, &res); err != nil {
			return BudgetResult{}, fmt.Errorf("activate: %w", err)
		}
		if res.Refused != "" {
			return w.reject(ctx, "system", v.cause, fmt.Sprintf("the %d budget is active already: %s activated it", d.Year, res.Refused))
		}
		if err := w.p.record(ctx, "system", v.cause, houqin.BudgetActivated{Year: d.Year, Lines: res.Lines, Total: d.Total()}); err != nil {
			return BudgetResult{}, err
		}
	} else {
		adj := w.in.Adjustment
		var res activities.AdjustBudgetResult
		if err := workflow.ExecuteActivity(actx, a.AdjustBudget, activities.AdjustBudgetInput{ProcessID: w.in.ProcessID, Adjustment: *adj, Meta: meta}).Get(ctx, &res); err != nil {
			return BudgetResult{}, fmt.Errorf("adjust: %w", err)
		}
		if res.Refused != "" {
			return w.reject(ctx, "system", v.cause, "the adjustment no longer applies: "+res.Refused)
		}
		if err := w.p.record(ctx, "system", v.cause, houqin.BudgetAdjustmentApplied{Year: adj.Year, Lines: res.Lines, Net: adj.Net()}); err != nil {
			return BudgetResult{}, err
		}
	}
	w.p.status = houqin.StatusCompleted
	if err := w.p.record(ctx, "system", v.cause, houqin.BudgetCompleted{}); err != nil {
		return BudgetResult{}, err
	}
	return w.finish(ctx)
}

// reject ends the process rejected.
func (w *budget) reject(ctx workflow.Context, by, cause, comment string) (BudgetResult, error) {
	w.p.status, w.p.phase = houqin.StatusRejected, phaseDone
	if err := w.p.record(ctx, by, cause, houqin.BudgetRejected{By: by, Comment: comment}); err != nil {
		return BudgetResult{}, err
	}
	res, err := w.finish(ctx)
	if by == "system" {
		res.Reason = comment
	}
	return res, err
}

// checkAmend checks a resubmitted draft or adjustment: the same year.
func (w *budget) checkAmend(data json.RawMessage) error {
	if w.in.Draft != nil {
		var d houqin.BudgetDraft
		if err := decodeData(data, &d); err != nil {
			return err
		}
		if err := d.Validate(); err != nil {
			return err
		}
		if d.Year != w.in.Draft.Year {
			return houqin.Errorf(houqin.EINVALID, "year: an amended budget stays in %d", w.in.Draft.Year)
		}
		return nil
	}
	var adj houqin.BudgetAdjustment
	if err := decodeData(data, &adj); err != nil {
		return err
	}
	if err := adj.Validate(); err != nil {
		return err
	}
	if adj.Year != w.in.Adjustment.Year {
		return houqin.Errorf(houqin.EINVALID, "year: an amended adjustment stays in %d", w.in.Adjustment.Year)
	}
	return nil
}

func (w *budget) amend(data json.RawMessage) error {
	if err := w.checkAmend(data); err != nil {
		return err
	}
	if w.in.Draft != nil {
		var d houqin.BudgetDraft
		_ = decodeData(data, &d)
		w.in.Draft = &d
		return nil
	}
	var adj houqin.BudgetAdjustment
	_ = decodeData(data, &adj)
	w.in.Adjustment = &adj
	return nil
}

func (w *budget) finish(ctx workflow.Context) (BudgetResult, error) {
	if w.p.status == houqin.StatusCompleted || w.p.status == houqin.StatusRejected {
		rt := route{policy: w.in.Policy, facts: w.facts}
		if err := w.p.copy(ctx, rt, w.in.Policy.CC.Finish, "finish"); err != nil {
			return BudgetResult{}, err
		}
	}
	if err := w.p.flush(ctx); err != nil {
		return BudgetResult{}, err
	}
	w.p.log.Info("Budget process ended", "status", w.p.status, "position", w.p.position)
	return BudgetResult{ProcessID: w.in.ProcessID, Status: w.p.status, Version: w.p.version, Position: w.p.position}, nil
}

func (w *budget) state() (State, error) {
	return State{ProcessID: w.in.ProcessID, Status: w.p.status, Tasks: w.p.tasks(), Outstanding: []houqin.ItemQuantity{},
		Version: w.p.version, Position: w.p.position}, nil
}
