package workflows

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/workflow"
)

// The updates a process takes — task actions (UpdateTask), process actions
// (UpdateProcess: withdraw, revoke) and reassignments (UpdateReassign) —
// each a validator, which refuses without a trace in the history, and a
// handler, which queues the accepted action for the workflow to take up in
// order (see process.next).

// holds reports whether u takes part in t's step outside t (see
// openTask.holders), for processes under approvalIntegrity.
func (p *process) holds(t *openTask, u string) bool {
	return p.integrity && t.holders != nil && slices.Contains(t.holders(), u)
}

// actionReassign is the internal action of a Reassignment in the queue.
const actionReassign = "reassign"

// validateReassign is the UpdateReassign validator.
func (p *process) validateReassign(_ workflow.Context, r houqin.Reassignment) error {
	if err := p.checkReassign(r); err != nil {
		p.log.Info("Reassignment rejected", "task_id", r.TaskID, "from", r.From, "error", houqin.ErrorMessage(err))
		return applicationError(err)
	}
	return nil
}

// checkReassign checks a reassignment against the process as it stands:
// the task is open, From holds it, To may act on it and holds no other
// slot of its step.
func (p *process) checkReassign(r houqin.Reassignment) error {
	t := p.task(r.TaskID)
	switch {
	case t == nil || t.decided:
		return houqin.Errorf(houqin.ECONFLICT, "task_id: task %q is not open", r.TaskID)
	case p.stopping != nil:
		return houqin.Errorf(houqin.ECONFLICT, "task_id: the requester is stopping %s (%s)", p.id, p.stopping.Action)
	case !slices.Contains(t.task.Assignees, r.From):
		return houqin.Errorf(houqin.ECONFLICT, "from: %q is not an assignee of %s", r.From, r.TaskID)
	case r.To == "" || r.To == r.From:
		return houqin.Errorf(houqin.EINVALID, "to: a successor other than %q is required", r.From)
	case r.To == p.requester && !t.forRequester, p.isSubject(r.To) && !t.forSubject:
		return houqin.Errorf(houqin.EINVALID, "to: %q may not act on %s", r.To, p.id)
	case p.holds(t, r.To):
		return houqin.Errorf(houqin.EINVALID, "to: %q already takes part in step %s; one person holds one slot of a step", r.To, t.task.Step)
	}
	return nil
}

// reassign is the UpdateReassign handler: the workflow takes it in order
// with the users' actions and records task.transferred by system.
func (p *process) reassign(ctx workflow.Context, r houqin.Reassignment) (houqin.TaskOutcome, error) {
	if err := p.checkReassign(r); err != nil {
		return houqin.TaskOutcome{}, applicationError(err)
	}
	d := &decision{TaskAction: houqin.TaskAction{TaskID: r.TaskID, Action: actionReassign, Actor: "system", To: r.To, Comment: r.Reason},
		from: r.From, seq: p.accepted}
	p.accepted++
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		d.updateID = info.ID
	}
	p.queue = append(p.queue, d)
	if err := workflow.Await(ctx, func() bool { return d.done }); err != nil {
		return houqin.TaskOutcome{}, applicationError(err)
	}
	return d.outcome, d.err
}

// isSubject reports whether u is the process's subject (see process.subject).
func (p *process) isSubject(u string) bool { return p.subject != "" && u == p.subject }

// task returns the open task with an ID, nil if none.
func (p *process) task(id string) *openTask {
	for _, t := range p.open {
		if t.task.ID == id {
			return t
		}
	}
	return nil
}

// tasks returns the open tasks.
func (p *process) tasks() []houqin.Task {
	out := []houqin.Task{}
	for _, t := range p.open {
		if !t.decided {
			out = append(out, t.task)
		}
	}
	return out
}

// validate is the UpdateTask validator: it rejects an action before it
// enters the history, and must not change the workflow's state.
func (p *process) validate(ctx workflow.Context, act houqin.TaskAction) error {
	if err := p.check(ctx, act); err != nil {
		p.log.Info("Task action rejected", "task_id", act.TaskID, "action", act.Action, "actor", act.Actor, "error", houqin.ErrorMessage(err))
		return applicationError(err)
	}
	return nil
}

// check applies the rules every task shares, then the task's own.
func (p *process) check(ctx workflow.Context, act houqin.TaskAction) error {
	if act.TaskID == "" {
		return houqin.Errorf(houqin.EINVALID, "task_id: required")
	}
	t := p.task(act.TaskID)
	if t == nil || t.decided {
		return houqin.Errorf(houqin.ECONFLICT, "task_id: task %q is not open", act.TaskID)
	}
	if p.stopping != nil {
		return houqin.Errorf(houqin.ECONFLICT, "task_id: the requester is stopping %s (%s)", p.id, p.stopping.Action)
	}
	return p.rules(ctx, t, act)
}

// rules applies the rules of an action on an open task that depend on
// where the task stands: who may take it, with which arguments.
func (p *process) rules(ctx workflow.Context, t *openTask, act houqin.TaskAction) error {
	assignee := slices.Contains(t.task.Assignees, act.Actor)
	switch act.Action {
	case houqin.ActionComment:
		if !assignee && act.Actor != p.requester && !p.isSubject(act.Actor) && !slices.Contains(p.actors, act.Actor) {
			return houqin.Errorf(houqin.EFORBIDDEN, "actor: %q takes no part in %s", act.Actor, p.id)
		}
	case houqin.ActionRemind:
		if act.Actor != p.requester && !p.isSubject(act.Actor) {
			return houqin.Errorf(houqin.EFORBIDDEN, "actor: only the requester %s may remind the assignees of %s", p.requester, act.TaskID)
		}
	default:
		switch {
		case act.Actor == p.requester && !t.forRequester:
			return houqin.Errorf(houqin.EFORBIDDEN, "actor: %q requested %s and may not act on its task %s", act.Actor, p.id, act.TaskID)
		case p.isSubject(act.Actor) && !t.forSubject:
			return houqin.Errorf(houqin.EFORBIDDEN, "actor: %s is for %q, who may not act on its task %s", p.id, act.Actor, act.TaskID)
		case !assignee:
			return houqin.Errorf(houqin.EFORBIDDEN, "actor: %q is not an assignee of task %s", act.Actor, act.TaskID)
		}
	}
	switch {
	case !slices.Contains(t.task.Actions, act.Action):
		return houqin.Errorf(houqin.ENOTALLOWED, "action: %q is not allowed on task %s; it takes %s", act.Action, act.TaskID, strings.Join(t.task.Actions, ", "))
	case utf8.RuneCountInString(act.Comment) > maxCommentLen:
		return houqin.Errorf(houqin.EINVALID, "comment: longer than %d characters", maxCommentLen)
	case len(act.Data) > maxDataSize:
		return houqin.Errorf(houqin.EINVALID, "data: larger than %d bytes", maxDataSize)
	}
	if err := p.checkArgs(ctx, t, act); err != nil {
		return err
	}
	if ends(act.Action) && t.check != nil {
		return t.check(act)
	}
	return nil
}

// checkArgs checks the arguments of an action: the fields each action takes
// and no others.
func (p *process) checkArgs(ctx workflow.Context, t *openTask, act houqin.TaskAction) error {
	takes := map[string]bool{}
	switch act.Action {
	case houqin.ActionReject, houqin.ActionReturn:
		if strings.TrimSpace(act.Comment) == "" {
			return houqin.Errorf(houqin.EINVALID, "comment: a reason is required to %s", act.Action)
		}
		takes["to_step"] = act.Action == houqin.ActionReturn
	case houqin.ActionComment:
		if strings.TrimSpace(act.Comment) == "" {
			return houqin.Errorf(houqin.EINVALID, "comment: required")
		}
	case houqin.ActionRemind:
		if next := t.reminded.Add(p.remind); !t.reminded.IsZero() && workflow.Now(ctx).Before(next) {
			return houqin.Errorf(houqin.ENOTALLOWED, "action: task %s was reminded at %s; remind again after %s",
				act.TaskID, t.reminded.Format(time.RFC3339), next.Format(time.RFC3339))
		}
	case houqin.ActionTransfer:
		takes["to"] = true
		switch {
		case act.To == "":
			return houqin.Errorf(houqin.EINVALID, "to: required")
		case act.To == p.requester:
			return houqin.Errorf(houqin.EINVALID, "to: %q requested %s and may not act on it", act.To, p.id)
		case p.isSubject(act.To):
			return houqin.Errorf(houqin.EINVALID, "to: %s is for %q, who may not act on it", p.id, act.To)
		case slices.Contains(t.task.Assignees, act.To):
			return houqin.Errorf(houqin.EINVALID, "to: %q is already an assignee of %s", act.To, act.TaskID)
		case p.holds(t, act.To):
			return houqin.Errorf(houqin.EINVALID, "to: %q already takes part in step %s; one person holds one slot of a step", act.To, t.task.Step)
		}
	case houqin.ActionAddApprover:
		takes["users"], takes["position"] = true, true
		switch act.Position {
		case houqin.AddBefore, houqin.AddAfter, houqin.AddParallel:
		default:
			return houqin.Errorf(houqin.EINVALID, "position: must be before, after or parallel, got %q", act.Position)
		}
		if len(act.Users) == 0 || len(act.Users) > maxAdded {
			return houqin.Errorf(houqin.EINVALID, "users: between 1 and %d users, got %d", maxAdded, len(act.Users))
		}
		for i, u := range act.Users {
			switch {
			case u == p.requester:
				return houqin.Errorf(houqin.EINVALID, "users[%d]: %q requested %s and may not approve it", i, u, p.id)
			case p.isSubject(u):
				return houqin.Errorf(houqin.EINVALID, "users[%d]: %s is for %q, who may not approve it", i, p.id, u)
			case slices.Contains(t.task.Assignees, u):
				return houqin.Errorf(houqin.EINVALID, "users[%d]: %q is already an assignee of %s", i, u, act.TaskID)
			case slices.Index(act.Users, u) != i:
				return houqin.Errorf(houqin.EINVALID, "users[%d]: %q repeats", i, u)
			case p.holds(t, u):
				return houqin.Errorf(houqin.EINVALID, "users[%d]: %q already takes part in step %s; one person holds one slot of a step", i, u, t.task.Step)
			}
		}
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"to", act.To != ""}, {"users", len(act.Users) > 0}, {"position", act.Position != ""}, {"to_step", act.ToStep != ""}} {
		if f.set && !takes[f.name] {
			return houqin.Errorf(houqin.EINVALID, "%s: %s takes no %s", f.name, act.Action, f.name)
		}
	}
	return nil
}

// act is the UpdateTask handler. It hands the action to the workflow, which
// takes it up in its own order, and returns once the action's events are
// stored.
func (p *process) act(ctx workflow.Context, act houqin.TaskAction) (houqin.TaskOutcome, error) {
	// Validators do not run on replay; the rules are checked again so a
	// handler never takes an action its validator would have refused.
	if err := p.check(ctx, act); err != nil {
		return houqin.TaskOutcome{}, applicationError(err)
	}
	t := p.task(act.TaskID)
	d := &decision{TaskAction: act, onBehalfOf: t.task.OnBehalfOf[act.Actor], seq: p.accepted}
	p.accepted++
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		d.updateID = info.ID
	}
	if ends(act.Action) || act.Action == houqin.ActionAddApprover {
		t.decided = true
	}
	p.queue = append(p.queue, d)
	if err := workflow.Await(ctx, func() bool { return d.done }); err != nil {
		return houqin.TaskOutcome{}, applicationError(err)
	}
	return d.outcome, d.err
}

// refuse answers an accepted action with err and leaves its task open for
// another action: for rules checked when the workflow takes the action
// (they read something outside it, by an activity), not in the validator.
func (p *process) refuse(d *decision, err error) {
	if t := p.task(d.TaskID); t != nil {
		t.decided = false
	}
	d.err, d.done = applicationError(err), true
}

// notAllowed refuses an action the step does not take where the workflow
// stands (the validator lets through what the task's actions list).
func (p *process) notAllowed(d *decision) {
	p.refuse(d, houqin.Errorf(houqin.ENOTALLOWED, "action: %q is not allowed on task %s", d.Action, d.TaskID))
}

// validateProcess is the UpdateProcess validator.
func (p *process) validateProcess(ctx workflow.Context, act houqin.ProcessAction) error {
	if err := p.checkProcess(act); err != nil {
		p.log.Info("Process action rejected", "action", act.Action, "actor", act.Actor, "error", houqin.ErrorMessage(err))
		return applicationError(err)
	}
	return nil
}

func (p *process) checkProcess(act houqin.ProcessAction) error {
	switch {
	case act.Action != houqin.ActionWithdraw && act.Action != houqin.ActionRevoke:
		return houqin.Errorf(houqin.EINVALID, "action: must be withdraw or revoke, got %q", act.Action)
	case act.Actor != p.requester:
		return houqin.Errorf(houqin.EFORBIDDEN, "actor: only the requester %s may %s %s", p.requester, act.Action, p.id)
	case utf8.RuneCountInString(act.Comment) > maxCommentLen:
		return houqin.Errorf(houqin.EINVALID, "comment: longer than %d characters", maxCommentLen)
	case p.status != houqin.StatusRunning || p.phase == phaseDone || p.stopping != nil:
		return houqin.Errorf(houqin.ECONFLICT, "action: %s has ended (%s)", p.id, p.status)
	case act.Action == houqin.ActionWithdraw && p.phase != phaseApproval:
		return houqin.Errorf(houqin.ENOTALLOWED, "action: %s is approved; it can no longer be withdrawn, only revoked where the policy allows", p.id)
	case act.Action == houqin.ActionRevoke && p.phase != phaseWork:
		return houqin.Errorf(houqin.ENOTALLOWED, "action: %s is not approved yet; withdraw it instead", p.id)
	case act.Action == houqin.ActionRevoke && p.revokeClosed != "":
		return houqin.Errorf(houqin.ENOTALLOWED, "action: %s can no longer be revoked: %s", p.id, p.revokeClosed)
	case act.Action == houqin.ActionRevoke && !p.revoke.Allowed:
		return houqin.Errorf(houqin.ENOTALLOWED, "action: the policy of %s does not allow revoking it", p.kind)
	case act.Action == houqin.ActionRevoke && p.revoke.UntilStep != "" && p.done[p.revoke.UntilStep] > 0:
		return houqin.Errorf(houqin.ENOTALLOWED, "action: %s can no longer be revoked: step %s has been done", p.id, p.revoke.UntilStep)
	}
	return nil
}

// actOnProcess is the UpdateProcess handler: it stops the process; the
// workflow records why and ends.
func (p *process) actOnProcess(ctx workflow.Context, act houqin.ProcessAction) (houqin.TaskOutcome, error) {
	if err := p.checkProcess(act); err != nil {
		return houqin.TaskOutcome{}, applicationError(err)
	}
	d := &decision{TaskAction: houqin.TaskAction{Action: act.Action, Actor: act.Actor, Comment: act.Comment}, seq: p.accepted}
	p.accepted++
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		d.updateID = info.ID
	}
	p.stopping = d
	if err := workflow.Await(ctx, func() bool { return d.done }); err != nil {
		return houqin.TaskOutcome{}, applicationError(err)
	}
	return d.outcome, d.err
}

// stopRequested reports whether the process is to stop now for the
// requester's withdraw or revoke. Under approvalIntegrity the actions
// accepted before it are taken first, and it is checked again against
// where the process stands then: a withdraw accepted while the last
// approval was on its way is refused (the process is approved), as the
// validator refuses one sent a moment later.
func (p *process) stopRequested() bool {
	s := p.stopping
	if s == nil || !p.integrity {
		return s != nil
	}
	if slices.ContainsFunc(p.queue, func(d *decision) bool { return d.seq < s.seq }) {
		return false
	}
	p.stopping = nil
	if err := p.checkProcess(houqin.ProcessAction{Action: s.Action, Actor: s.Actor, Comment: s.Comment}); err != nil {
		p.log.Info("Process action refused when taken", "action", s.Action, "error", houqin.ErrorMessage(err))
		s.err, s.done = applicationError(err), true
		return false
	}
	p.stopping = s
	return true
}

// stop ends a process its requester withdrew or revoked: every open task is
// cancelled and the process.withdrawn or process.revoked event recorded.
func (p *process) stop(ctx workflow.Context) error {
	d := p.stopping
	p.stopping = nil
	reason := "the requester withdrew the process"
	var data houqin.EventData = houqin.ProcessWithdrawn{By: d.Actor, Comment: d.Comment}
	p.status = houqin.StatusWithdrawn
	if d.Action == houqin.ActionRevoke {
		reason = "the requester revoked the process"
		data = houqin.ProcessRevoked{By: d.Actor, Comment: d.Comment}
		p.status = houqin.StatusCancelled
	}
	for _, q := range p.queue {
		q.err, q.done = applicationError(houqin.Errorf(houqin.ECONFLICT, "task_id: %s", reason)), true
	}
	p.queue = nil
	for len(p.open) > 0 {
		if err := p.cancel(ctx, p.open[0], reason); err != nil {
			return err
		}
	}
	p.phase = phaseDone
	p.settling = append(p.settling, d)
	p.log.Info("Process stopped", "action", d.Action, "actor", d.Actor)
	return p.record(ctx, d.Actor, d.updateID, data)
}
