package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The step a requester resubmits a returned process in.
const StepResubmit = "resubmit"

// resubmitSLA is how long a returned process waits for its requester.
const resubmitSLA = 7 * 24 * time.Hour

// maxEscalations bounds how often one task escalates on timeout.
const maxEscalations = 3

// approvalActions are the actions of an approval task.
var approvalActions = []string{
	houqin.ActionApprove, houqin.ActionReject, houqin.ActionReturn, houqin.ActionTransfer,
	houqin.ActionAddApprover, houqin.ActionComment, houqin.ActionRemind,
}

// route is the approval route of a process: its policy, and the request the
// conditions test, which a resubmission may amend.
type route struct {
	policy houqin.KindPolicy
	facts  func() houqin.Facts
	// checkAmend checks an amended request (the data of a resubmission)
	// without changing anything; amend applies it.
	checkAmend func(data json.RawMessage) error
	amend      func(data json.RawMessage) error
	// fixed, for processes started before the policy existed, is the one
	// approval step they run: no resolution, no deadlines.
	fixed *houqin.Resolution
	// resubmitter resubmits a process returned to its requester; "" is the
	// requester (a trip's claim goes back to the traveller who claimed).
	resubmitter string
	// resubmitted, if set, runs once an amended resubmission is recorded,
	// with the decision, so the process can record what the amendment means.
	resubmitted func(ctx workflow.Context, d *decision) error
}

// verdict is how an approval route ended, and the decision that ended it.
type verdict struct {
	Approved bool
	By       string
	Comment  string
	cause    string // the update that decided
	// approvers are the users whose approval of the request as it stands
	// counts, in the order they approved (for budget control before
	// approvalIntegrity: did finance, did a holder of budget_exception
	// approve?).
	approvers []string
	// steps are the steps that ran and were approved by a person (not
	// skipped, not approved by the system on timeout), since the last
	// return: what the approval covers (houqin.BudgetCover).
	steps []string
}

// appendNew appends u to list unless it is there already.
func appendNew(list []string, u string) []string {
	if slices.Contains(list, u) {
		return list
	}
	return append(list, u)
}

// approval is the state of a route being run: who approved under which
// revision of the request, for de-duplication (审批人去重).
type approval struct {
	p        *process
	r        route
	revision int            // increases when the request changes or a return starts the route afresh
	approved map[string]int // user → the revision they approved; only indexed
	order    []string       // the users of approved, in the order they first approved
	last     *decision      // the last decision taken
	steps    []string       // the steps approved by a person since the last return (verdict.steps)
}

// approve runs the approval route r of p: step by step, each resolved when
// it starts (ResolveStep), skipped when its condition is false, decided in
// its mode; a return goes back to the requester or an earlier step. It ends
// on the first rejection or when every step approved. The caller records
// the business event of the verdict and flushes, which answers the
// deciding update.
func (p *process) approve(ctx workflow.Context, r route) (verdict, error) {
	ap := &approval{p: p, r: r, approved: map[string]int{}}
	steps := r.policy.Steps
	for i := 0; i < len(steps); {
		s := steps[i]
		res, err := ap.resolve(ctx, i)
		if err != nil {
			var ae *temporal.ApplicationError
			if p.integrity && errors.As(err, &ae) && (ae.Type() == houqin.ENOTALLOWED || ae.Type() == houqin.EINVALID) {
				return verdict{}, &unresolvable{step: s.ID, reason: ae.Message()}
			}
			return verdict{}, err
		}
		if !res.Applies || res.AutoApprove {
			p.log.Info("Step skipped", "step", s.ID, "reason", res.Explanation.Reason)
			if err := p.record(ctx, "system", "", houqin.StepSkipped{Step: s.ID, Name: s.Name, Explanation: res.Explanation}); err != nil {
				return verdict{}, err
			}
			i++
			continue
		}
		if r.fixed == nil {
			err := p.record(ctx, "system", "", houqin.StepStarted{Step: s.ID, Name: s.Name, Mode: s.Mode,
				Required: res.Required, Assignees: res.Assignees, Explanation: res.Explanation})
			if err != nil {
				return verdict{}, err
			}
		}
		out, err := ap.step(ctx, i, s, res)
		if err != nil {
			return verdict{}, err
		}
		if r.fixed == nil {
			err := p.record(ctx, "system", ap.cause(), houqin.StepCompleted{Step: s.ID, Outcome: out.outcome, Approvals: out.approvals})
			if err != nil {
				return verdict{}, err
			}
		}
		switch out.outcome {
		case "approved":
			if slices.ContainsFunc(out.approvals, func(u string) bool { return u != "system" }) {
				ap.steps = append(ap.steps, s.ID)
			}
			i++
		case "rejected":
			return ap.verdict(false), nil
		case "returned":
			d := ap.last
			err := p.recordFor(ctx, d.Actor, d.onBehalfOf, d.updateID, houqin.ProcessReturned{
				By: d.Actor, OnBehalfOf: d.onBehalfOf, FromStep: s.ID, ToStep: d.ToStep, Comment: d.Comment})
			if err != nil {
				return verdict{}, err
			}
			ap.revision++ // a return starts afresh: no approval carries over
			ap.steps = nil
			if d.ToStep != "" {
				i = r.policy.Step(d.ToStep)
				continue
			}
			if err := ap.resubmit(ctx); err != nil {
				return verdict{}, err
			}
			i = 0
		}
	}
	return ap.verdict(true), nil
}

// unresolvable is the error of a step that cannot be resolved when it
// starts (its approvers and fallback name nobody who may act, the
// organisation having changed since the start): the process ends failed,
// recorded as process.failed, and the workflow completes (see
// process.ended).
type unresolvable struct{ step, reason string }

func (u *unresolvable) Error() string {
	return fmt.Sprintf("step %s cannot be resolved: %s", u.step, u.reason)
}

// cause returns the update that caused the last decision, if any.
func (ap *approval) cause() string {
	if ap.last == nil {
		return ""
	}
	return ap.last.updateID
}

func (ap *approval) verdict(approved bool) verdict {
	v := verdict{Approved: approved, By: "system", steps: slices.Clone(ap.steps)}
	for _, u := range ap.order {
		if ap.approved[u] == ap.revision {
			v.approvers = append(v.approvers, u)
		}
	}
	if d := ap.last; d != nil {
		v.By, v.Comment, v.cause = d.Actor, d.Comment, d.updateID
	}
	return v
}

// resolve resolves step i: by the ResolveStep activity, which reads the
// organisation and the delegations in force now, or the fixed step.
func (ap *approval) resolve(ctx workflow.Context, i int) (houqin.Resolution, error) {
	if ap.r.fixed != nil {
		return *ap.r.fixed, nil
	}
	in := activities.ResolveStepInput{Policy: ap.r.policy, Step: i, Requester: ap.p.requester, Subject: ap.p.subject, Facts: ap.r.facts(), At: workflow.Now(ctx)}
	var res houqin.Resolution
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.ResolveStep, in).Get(ctx, &res); err != nil {
		return houqin.Resolution{}, fmt.Errorf("resolve step %s: %w", ap.r.policy.Steps[i].ID, err)
	}
	return res, nil
}

// resubmit waits for the requester (or the route's resubmitter) to
// resubmit a returned process, with the request amended or not.
func (ap *approval) resubmit(ctx workflow.Context) error {
	p := ap.p
	who, rule := p.requester, "requester"
	if ap.r.resubmitter != "" {
		who, rule = ap.r.resubmitter, "resubmitter"
	}
	check := func(act houqin.TaskAction) error {
		if act.Action != houqin.ActionResubmit || len(act.Data) == 0 {
			return nil
		}
		return inData(ap.r.checkAmend(act.Data))
	}
	t := p.openTask(ctx, taskSpec{
		step: StepResubmit, name: houqin.Text{Zh: "重新提交", En: "Resubmit"},
		assignees: []houqin.Assignee{{User: who, Rule: rule}},
		actions:   []string{houqin.ActionResubmit, houqin.ActionComment}, sla: resubmitSLA,
		check: check, forRequester: true, forSubject: true,
	})
	if err := p.flush(ctx); err != nil {
		return err
	}
	for {
		d, _, _, err := p.next(ctx)
		if err != nil {
			return err
		}
		if d.Action != houqin.ActionResubmit {
			continue // resubmit tasks take no other action that ends them
		}
		if err := p.complete(ctx, t, d); err != nil {
			return err
		}
		ev := houqin.ProcessResubmitted{By: d.Actor, Comment: d.Comment}
		if len(d.Data) > 0 {
			if err := ap.r.amend(d.Data); err != nil {
				return err
			}
			ev.Request = d.Data
		}
		ap.last = d
		if err := p.record(ctx, d.Actor, d.updateID, ev); err != nil {
			return err
		}
		if len(d.Data) > 0 && ap.r.resubmitted != nil {
			return ap.r.resubmitted(ctx, d)
		}
		return nil
	}
}

// slot is one approver's part of a step: the groups who decide in turn
// (more than one once approvers are added before or after), the head
// deciding now. A group is one task; any of its assignees decides it.
type slot struct {
	groups [][]houqin.Assignee
	task   *openTask
	state  string // "", "open", "approved", "rejected"
}

// stepOutcome is how a step ended.
type stepOutcome struct {
	outcome   string // approved | rejected | returned
	approvals []string
}

// step runs step i until it is decided: approved once enough slots
// approved, rejected on a rejection (in n_of_m: once too few can still
// approve), returned on a return.
func (ap *approval) step(ctx workflow.Context, i int, s houqin.PolicyStep, res houqin.Resolution) (stepOutcome, error) {
	p := ap.p
	var slots []*slot
	if s.Mode == houqin.ModeAny {
		slots = []*slot{{groups: [][]houqin.Assignee{res.Assignees}}}
	} else {
		for _, a := range res.Assignees {
			slots = append(slots, &slot{groups: [][]houqin.Assignee{{a}}})
		}
	}
	required := res.Required
	if s.Mode == houqin.ModeAny {
		required = 1
	}
	var approvals []string
	explanation := res.Explanation

	check := func(act houqin.TaskAction) error {
		if p.integrity && act.Action == houqin.ActionApprove && slices.Contains(approvals, act.Actor) {
			return houqin.Errorf(houqin.ECONFLICT, "actor: %q already approved step %s; one person holds one slot of a step", act.Actor, s.ID)
		}
		if act.Action == houqin.ActionReturn && act.ToStep != "" {
			j := ap.r.policy.Step(act.ToStep)
			if ap.r.fixed != nil || j < 0 || j >= i {
				return houqin.Errorf(houqin.ENOTALLOWED, "to_step: %q is not an earlier step of this route; leave it empty to return to the requester", act.ToStep)
			}
		}
		return decodeData(act.Data, &struct{}{})
	}
	actions := approvalActions
	if ap.r.fixed != nil {
		actions = []string{houqin.ActionApprove, houqin.ActionReject}
	}
	spec := func(group []houqin.Assignee) taskSpec {
		ts := taskSpec{step: s.ID, name: s.Name, assignees: group, actions: actions, sla: s.SLA.D(),
			check: check, explanation: &explanation}
		if ap.r.fixed == nil {
			for _, r := range s.Reminders {
				ts.reminders = append(ts.reminders, r.D())
			}
			ts.escalate = s.EscalateAfter.D()
			ts.timeout = s.OnTimeout != houqin.TimeoutNone
		}
		return ts
	}
	// holders returns who takes part in the step outside task t: who
	// approved it, the assignees of the other slots' tasks, and the groups
	// still to decide in every slot.
	holders := func(t *openTask) []string {
		users := slices.Clone(approvals)
		for _, sl := range slots {
			for k, g := range sl.groups {
				if k == 0 && sl.task != nil {
					if sl.task != t {
						users = append(users, sl.task.task.Assignees...)
					}
					continue
				}
				for _, a := range g {
					users = append(users, a.User)
				}
			}
		}
		return users
	}
	// start opens the task of the slot's head group, or approves it at
	// once if one of the group approved this revision before (dedup); a
	// user added by 加签 always decides in person.
	var start func(sl *slot) error
	advance := func(sl *slot, by string) error {
		sl.groups = sl.groups[1:]
		approvals = append(approvals, by)
		if len(sl.groups) > 0 {
			return start(sl)
		}
		sl.state, sl.task = "approved", nil
		if s.Mode == houqin.ModeSequential {
			if k := slices.Index(slots, sl); k+1 < len(slots) {
				return start(slots[k+1])
			}
		}
		return nil
	}
	start = func(sl *slot) error {
		sl.state = "open"
		sl.task = p.openTask(ctx, spec(sl.groups[0]))
		t := sl.task
		t.holders = func() []string { return holders(t) }
		if ap.r.policy.DedupFor(s) && ap.r.fixed == nil {
			for _, a := range sl.groups[0] {
				if p.integrity && isAdded(a) {
					continue
				}
				if rev, ok := ap.approved[a.User]; ok && rev == ap.revision {
					comment := fmt.Sprintf("%s approved an earlier step of this request", a.User)
					if err := p.autoComplete(ctx, sl.task, houqin.ActionApprove, "dedup", comment); err != nil {
						return err
					}
					return advance(sl, a.User)
				}
			}
		}
		return nil
	}
	for k, sl := range slots {
		if s.Mode != houqin.ModeSequential || k == 0 {
			if err := start(sl); err != nil {
				return stepOutcome{}, err
			}
		}
	}
	// end cancels the step's tasks still open.
	end := func(outcome, reason string) (stepOutcome, error) {
		for _, sl := range slots {
			if sl.task != nil && p.task(sl.task.task.ID) != nil {
				if err := p.cancel(ctx, sl.task, reason); err != nil {
					return stepOutcome{}, err
				}
			}
		}
		return stepOutcome{outcome: outcome, approvals: approvals}, nil
	}
	slotOf := func(t *openTask) *slot {
		for _, sl := range slots {
			if sl.task == t {
				return sl
			}
		}
		return nil
	}

	for {
		open := 0
		for _, sl := range slots {
			if sl.state != "approved" && sl.state != "rejected" {
				open++
			}
		}
		switch {
		case countState(slots, "approved") >= required:
			return end("approved", "the step was approved")
		case countState(slots, "approved")+open < required:
			return end("rejected", "the step was rejected")
		}
		if err := p.flush(ctx); err != nil {
			return stepOutcome{}, err
		}
		d, fired, what, err := p.next(ctx)
		if err != nil {
			return stepOutcome{}, err
		}
		if fired != nil {
			if err := ap.deadline(ctx, s, slotOf(fired), fired, what, advance); err != nil {
				return stepOutcome{}, err
			}
			continue
		}
		t := p.task(d.TaskID)
		sl := slotOf(t)
		switch d.Action {
		case houqin.ActionApprove:
			if err := p.complete(ctx, t, d); err != nil {
				return stepOutcome{}, err
			}
			ap.last = d
			ap.approved[d.Actor] = ap.revision
			ap.order = appendNew(ap.order, d.Actor)
			if d.onBehalfOf != "" && !p.integrity {
				// Before approvalIntegrity a delegate's approval counted
				// as the principal's for de-duplication.
				ap.approved[d.onBehalfOf] = ap.revision
				ap.order = appendNew(ap.order, d.onBehalfOf)
			}
			if err := advance(sl, d.Actor); err != nil {
				return stepOutcome{}, err
			}
		case houqin.ActionReject:
			if err := p.complete(ctx, t, d); err != nil {
				return stepOutcome{}, err
			}
			ap.last = d
			sl.state, sl.task = "rejected", nil
			if s.Mode != houqin.ModeNofM {
				return end("rejected", fmt.Sprintf("%s rejected the step", d.Actor))
			}
		case houqin.ActionReturn:
			if err := p.complete(ctx, t, d); err != nil {
				return stepOutcome{}, err
			}
			ap.last = d
			sl.task = nil
			return end("returned", fmt.Sprintf("%s returned the process", d.Actor))
		case houqin.ActionAddApprover:
			if err := ap.add(ctx, s, sl, t, d, &slots, &required, start, spec); err != nil {
				return stepOutcome{}, err
			}
		default:
			// complete and resubmit are not actions of approval tasks; the
			// validator refused them.
			p.notAllowed(d)
		}
	}
}

func countState(slots []*slot, state string) int {
	n := 0
	for _, sl := range slots {
		if sl.state == state {
			n++
		}
	}
	return n
}

// deadline handles a task's escalation or timeout.
func (ap *approval) deadline(ctx workflow.Context, s houqin.PolicyStep, sl *slot, t *openTask, what string, advance func(*slot, string) error) error {
	p := ap.p
	if what == "timeout" {
		switch s.OnTimeout {
		case houqin.TimeoutApprove:
			ap.last = &decision{TaskAction: houqin.TaskAction{Actor: "system", Comment: "approved automatically: the task passed its due time"}}
			if err := p.autoComplete(ctx, t, houqin.ActionApprove, "timeout", "approved automatically: the task passed its due time"); err != nil {
				return err
			}
			return advance(sl, "system")
		case houqin.TimeoutReject:
			ap.last = &decision{TaskAction: houqin.TaskAction{Actor: "system", Comment: "rejected automatically: the task passed its due time"}}
			sl.state, sl.task = "rejected", nil
			return p.autoComplete(ctx, t, houqin.ActionReject, "timeout", "rejected automatically: the task passed its due time")
		}
	}
	// Escalate: the assignees' managers join the task.
	var managers []string
	in := activities.ManagersInput{Users: t.task.Assignees, Requester: p.requester, Subject: p.subject}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.Managers, in).Get(ctx, &managers); err != nil {
		return fmt.Errorf("escalate %s: %w", t.task.ID, err)
	}
	var added []string
	for _, m := range managers {
		if !slices.Contains(t.task.Assignees, m) && !p.holds(t, m) {
			added = append(added, m)
			t.task.Assignees = append(t.task.Assignees, m)
		}
	}
	reason := fmt.Sprintf("open longer than %s", s.EscalateAfter.D())
	if what == "timeout" {
		reason = "passed its due time"
		t.task.DueAt = workflow.Now(ctx).Add(s.SLA.D())
		escalations := 0
		for _, n := range p.escalations {
			if n == t.task.ID {
				escalations++
			}
		}
		p.escalations = append(p.escalations, t.task.ID)
		if escalations+1 < maxEscalations {
			t.deadlines = append(t.deadlines, deadline{at: t.task.DueAt, what: "timeout"})
			slices.SortStableFunc(t.deadlines, func(a, b deadline) int { return a.at.Compare(b.at) })
		}
	}
	p.log.Info("Task escalated", "task_id", t.task.ID, "added", added)
	return p.record(ctx, "system", "", houqin.TaskEscalated{TaskID: t.task.ID, Added: added,
		Assignees: slices.Clone(t.task.Assignees), DueAt: t.task.DueAt, Reason: reason})
}

// copy copies the users the rules name (抄送), at "start" or "finish".
func (p *process) copy(ctx workflow.Context, r route, rules []string, at string) error {
	if len(rules) == 0 {
		return nil
	}
	var users []string
	in := activities.ResolveUsersInput{Kind: r.policy.Kind, Rules: rules, Requester: p.requester, Facts: r.facts()}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.ResolveUsers, in).Get(ctx, &users); err != nil {
		return fmt.Errorf("resolve cc: %w", err)
	}
	if len(users) == 0 {
		return nil
	}
	return p.record(ctx, "system", "", houqin.ProcessCopied{Users: users, At: at, Rules: rules})
}
