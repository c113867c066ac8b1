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

// StepHandOut is the warehouse's step of an issue: handing the goods out.
const StepHandOut = "hand_out"

// DefaultHandOutSLA is how long the warehouse has to hand out an issue.
const DefaultHandOutSLA = 24 * time.Hour

// IssueID returns the ID of the seq-th issue of a year, "IS-2026-000001";
// it is also the workflow ID.
func IssueID(year int, seq int64) string { return fmt.Sprintf("IS-%04d-%06d", year, seq) }

var issueID = regexp.MustCompile(`^IS-[0-9]{4}-[0-9]{6,}$`)

// IssueInput starts an issue (物资发放). The terms of its lines — unit and
// the department's quota — are fixed when it starts, like its policy.
type IssueInput struct {
	ProcessID  string              `json:"process_id"`
	Requester  string              `json:"requester"`
	Request    houqin.IssueRequest `json:"request"`
	Lines      []houqin.IssueTerms `json:"lines"` // one per request item, in order
	Policy     houqin.KindPolicy   `json:"policy"`
	PolicyHash string              `json:"policy_hash"`
	Warehouse  []string            `json:"warehouse"`    // assignees of the hand-out: users with role warehouse
	HandOutSLA time.Duration       `json:"hand_out_sla"` // 0: DefaultHandOutSLA
}

// ProcessResult is how a process other than a procurement ended.
type ProcessResult struct {
	ProcessID string        `json:"process_id"`
	Status    houqin.Status `json:"status"`
	Version   int64         `json:"version"`
	Position  int64         `json:"position"`
}

// Issue runs one issue: approval when a line exceeds the department's quota
// (the policy's conditions on over_quota and excess), then the warehouse
// hands the goods out. Its stream, houqin.IssueStream(ID):
//
//	issue.requested, approval.step_skipped… | the approval route
//	issue.approved, task.opened(hand_out.1)                 (or: issue.rejected — the end)
//	task.completed, issue.handed_out, issue.completed
//
// and one inventory.issued per line on the items' streams, appended before
// the hand-out's events. A hand-out the stock cannot cover is refused
// (ENOTALLOWED) and the task stays open. Items left below their reorder
// point are reordered (TriggerReorder).
func Issue(ctx workflow.Context, in IssueInput) (ProcessResult, error) {
	wid := workflow.GetInfo(ctx).WorkflowExecution.ID
	if in.ProcessID == "" {
		in.ProcessID = wid
	}
	if err := in.validate(wid); err != nil {
		return ProcessResult{}, badInput(err)
	}
	if in.HandOutSLA <= 0 {
		in.HandOutSLA = DefaultHandOutSLA
	}
	p, err := newProcess(ctx, houqin.KindIssue, in.ProcessID, houqin.IssueStream(in.ProcessID), in.Requester, in.Policy, in.PolicyHash)
	if err != nil {
		return ProcessResult{}, err
	}
	w := &issue{in: in, p: p}
	if err := workflow.SetQueryHandler(ctx, QueryState, p.state); err != nil {
		return ProcessResult{}, err
	}
	res, err := w.run(ctx)
	return endRun(ctx, p, res, err, w.finish)
}

func (in IssueInput) validate(workflowID string) error {
	switch {
	case !issueID.MatchString(in.ProcessID):
		return houqin.Errorf(houqin.EINVALID, "process_id: must look like IS-2026-000001, got %q", in.ProcessID)
	case in.ProcessID != workflowID:
		return houqin.Errorf(houqin.EINVALID, "process_id: %q is not the workflow ID %q", in.ProcessID, workflowID)
	case strings.TrimSpace(in.Requester) == "":
		return houqin.Errorf(houqin.EINVALID, "requester: required")
	case in.Policy.Kind != houqin.KindIssue:
		return houqin.Errorf(houqin.EINVALID, "policy.kind: must be issue, got %q", in.Policy.Kind)
	case in.PolicyHash != in.Policy.Hash():
		return houqin.Errorf(houqin.EINVALID, "policy_hash: %q is not the hash of the policy", in.PolicyHash)
	case len(in.Warehouse) == 0:
		return houqin.Errorf(houqin.EINVALID, "warehouse: at least one assignee is required")
	case len(in.Lines) != len(in.Request.Items):
		return houqin.Errorf(houqin.EINVALID, "lines: %d terms for %d items", len(in.Lines), len(in.Request.Items))
	}
	for i, l := range in.Lines {
		if it := in.Request.Items[i]; houqin.ItemSlug(l.Item) != houqin.ItemSlug(it.Item) || l.Quantity != it.Quantity {
			return houqin.Errorf(houqin.EINVALID, "lines[%d]: %d of %q are not the terms of request item %d (%d of %q)", i, l.Quantity, l.Item, i, it.Quantity, it.Item)
		}
	}
	if err := in.Request.Validate(); err != nil {
		return houqin.Errorf(houqin.EINVALID, "request.%s", houqin.ErrorMessage(err))
	}
	return nil
}

// issue is one running issue.
type issue struct {
	in IssueInput
	p  *process
}

func (w *issue) run(ctx workflow.Context) (ProcessResult, error) {
	facts := houqin.IssueFacts(w.in.Request, w.in.Lines, w.in.Requester)
	err := w.p.record(ctx, w.in.Requester, "", houqin.IssueRequested{ProcessID: w.in.ProcessID, Requester: w.in.Requester,
		Request: w.in.Request, Lines: w.in.Lines, OverQuota: facts["over_quota"].(bool)})
	if err != nil {
		return ProcessResult{}, err
	}
	v, err := w.p.approve(ctx, fixedRoute(w.in.Policy, facts))
	if err != nil {
		return ProcessResult{}, err
	}
	if !v.Approved {
		w.p.status, w.p.phase = houqin.StatusRejected, phaseDone
		if err := w.p.record(ctx, v.By, v.cause, houqin.IssueRejected{By: v.By, Comment: v.Comment}); err != nil {
			return ProcessResult{}, err
		}
		return w.finish(ctx)
	}
	w.p.phase = phaseWork
	if err := w.p.record(ctx, v.By, v.cause, houqin.IssueApproved{By: v.By, Comment: v.Comment}); err != nil {
		return ProcessResult{}, err
	}
	out, err := w.handOut(ctx)
	if err != nil {
		return ProcessResult{}, err
	}
	res, err := w.finish(ctx)
	if err != nil {
		return res, err
	}
	triggerReorders(ctx, w.p, out.belowReorder())
	return res, nil
}

// handOut waits for the warehouse to hand the goods out. The IssueStock
// activity runs when the task is completed, before its events; if the
// stock cannot cover a line the action fails with ENOTALLOWED and the task
// stays open, to be completed once stock came in, or the issue revoked by
// its requester where the policy allows.
func (w *issue) handOut(ctx workflow.Context) (handedOut, error) {
	check := func(act houqin.TaskAction) error { return decodeData(act.Data, &struct{}{}) }
	as := make([]houqin.Assignee, len(w.in.Warehouse))
	for i, u := range w.in.Warehouse {
		as[i] = houqin.Assignee{User: u, Rule: "role"}
	}
	t := w.p.openTask(ctx, taskSpec{step: StepHandOut, name: houqin.Text{Zh: "发放物资", En: "Hand out the goods"},
		assignees: as, sla: w.in.HandOutSLA, check: check,
		actions: []string{houqin.ActionComplete, houqin.ActionTransfer, houqin.ActionComment, houqin.ActionRemind}})
	if err := w.p.flush(ctx); err != nil {
		return nil, err
	}
	for {
		d, _, _, err := w.p.next(ctx)
		if err != nil {
			return nil, err
		}
		if d.Action != houqin.ActionComplete {
			w.p.notAllowed(d)
			continue
		}
		in := activities.IssueStockInput{ProcessID: w.in.ProcessID, Department: w.in.Request.Department, Requester: w.in.Requester,
			Lines: w.in.Lines, Meta: w.p.meta(ctx, d)}
		var res activities.IssueStockResult
		err = workflow.ExecuteActivity(withActivityOptions(ctx), a.IssueStock, in).Get(ctx, &res)
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == houqin.ENOTALLOWED {
			w.p.log.Info("Hand-out refused", "task_id", d.TaskID, "error", ae.Message())
			t.decided = false
			d.err, d.done = applicationError(err), true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("issue stock: %w", err)
		}
		if err := w.p.complete(ctx, t, d); err != nil {
			return nil, err
		}
		w.p.status, w.p.phase = houqin.StatusCompleted, phaseDone
		if err := w.p.record(ctx, d.Actor, d.updateID, houqin.IssueHandedOut{By: d.Actor, Lines: res.Lines}); err != nil {
			return nil, err
		}
		return res.Lines, w.p.record(ctx, "system", d.updateID, houqin.IssueCompleted{})
	}
}

// handedOut is what an issue handed out.
type handedOut []houqin.HandedOutLine

func (h handedOut) belowReorder() []activities.ReorderTrigger {
	var out []activities.ReorderTrigger
	for _, l := range h {
		if l.BelowReorder {
			out = append(out, activities.ReorderTrigger{Item: l.Item, OnHand: l.OnHand})
		}
	}
	return out
}

func (w *issue) finish(ctx workflow.Context) (ProcessResult, error) {
	return w.p.finishWith(ctx)
}

// fixedRoute is the approval route of a process whose request cannot be
// amended on resubmission: the facts are those it started with.
func fixedRoute(policy houqin.KindPolicy, facts houqin.Facts) route {
	noAmend := func(json.RawMessage) error {
		return houqin.Errorf(houqin.EINVALID, "a %s cannot be amended; resubmit it as it is, or withdraw it and start another", policy.Kind)
	}
	return route{policy: policy, facts: func() houqin.Facts { return facts }, checkAmend: noAmend, amend: noAmend}
}

// meta is the metadata of an event an activity appends on behalf of the
// process, caused by decision d.
func (p *process) meta(ctx workflow.Context, d *decision) houqin.Metadata {
	m := houqin.Metadata{CorrelationID: p.id, WorkflowID: p.workflowID, RunID: p.runID, OccurredAt: workflow.Now(ctx), PolicyHash: p.policyHash, Actor: "system"}
	if d != nil {
		m.Actor, m.OnBehalfOf, m.CausationID = d.Actor, d.onBehalfOf, d.updateID
	}
	return m
}

// state is the QueryState handler of processes without goods due.
func (p *process) state() (State, error) {
	return State{ProcessID: p.id, Status: p.status, Tasks: p.tasks(), Version: p.version, Position: p.position}, nil
}

// finishWith stores what is pending and returns the result.
func (p *process) finishWith(ctx workflow.Context) (ProcessResult, error) {
	if err := p.flush(ctx); err != nil {
		return ProcessResult{}, err
	}
	p.log.Info("Process ended", "status", p.status, "position", p.position)
	return ProcessResult{ProcessID: p.id, Status: p.status, Version: p.version, Position: p.position}, nil
}

// triggerReorders signals the reorder workflows of the items left below
// their reorder point. A failure is logged, not the process's: the goods
// were handed out, and the next movement of the item triggers again.
func triggerReorders(ctx workflow.Context, p *process, triggers []activities.ReorderTrigger) {
	if len(triggers) == 0 {
		return
	}
	for i := range triggers {
		triggers[i].Process = p.id
	}
	opts := workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10}}
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.TriggerReorder, triggers).Get(ctx, nil); err != nil {
		p.log.Warn("Reorder not triggered", "error", err)
	}
}
