package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Bounds of a task action, so that its events stay far below the store's
// per-event limit.
const (
	maxCommentLen = 2000     // characters
	maxDataSize   = 64 << 10 // bytes
	maxAdded      = 10       // users added by one add-approver
)

// The phases of a process, which decide what the requester may do to it.
const (
	phaseApproval = "approval" // withdraw (撤回) is allowed
	phaseWork     = "work"     // revoke (撤销) is allowed, if the policy says so
	phaseDone     = "done"
)

// approvalIntegrity is the version of the process machinery that checks
// every accepted action again when the workflow takes it up (the state may
// have moved since its validator ran: two updates accepted in one workflow
// task), takes a withdraw or revoke in the order it was accepted, keeps one
// person to one slot of a step, and never auto-approves a user added by
// 加签. Processes started before it run as they did.
const approvalIntegrity = 1

// errStopped is returned by waits when the requester withdrew or revoked
// the process; the workflow then ends it (see process.stop).
var errStopped = errors.New("process stopped by its requester")

// process is what every process workflow shares: its stream, which it alone
// writes, and its tasks, which users act on through UpdateTask.
//
// Events are recorded into pending and appended together by flush, so that
// an action's events — task.completed, the business event, the next
// task.opened — land in one append, and the action's outcome carries the
// position of the last of them.
type process struct {
	id        string
	kind      houqin.ProcessKind
	stream    string
	requester string
	// subject is the person the process is for when it is not the
	// requester (a trip's traveller when an assistant submits): like the
	// requester, they approve no step of it and act only on the tasks
	// meant for them.
	subject    string
	policyHash string
	// correlation is the CorrelationID of the events; "" = the process ID.
	// A finding's events correlate with their inspection.
	correlation string
	workflowID  string
	runID       string
	log         log.Logger

	// integrity is set for processes started under approvalIntegrity.
	integrity bool
	// searchable is set for processes started under searchAttributes;
	// indexed is what they last wrote to them.
	searchable bool
	indexed    indexed

	status houqin.Status
	phase  string
	revoke houqin.Revoke
	// revokeClosed, if set, says why the process can no longer be revoked
	// whatever its policy says (a trip once its traveller departed).
	revokeClosed string
	remind       time.Duration // least time between two reminders of a task
	seq          int           // events recorded by this run: the next event's sequence number
	version      int64         // version of the stream's last stored event; -1 (houqin.ExpectNoStream) before the first
	position     int64         // global position of the last stored event
	pending      []houqin.Event
	opened       map[string]int // tasks opened per step, for task IDs; only indexed, never ranged over
	done         map[string]int // tasks completed per step; only indexed

	open        []*openTask // tasks accepting actions, in the order they opened
	queue       []*decision // accepted actions the workflow has not taken up yet, in order
	stopping    *decision   // an accepted withdraw or revoke
	settling    []*decision // actions taken up whose events are still pending
	actors      []string    // users who acted on the process, for comments
	escalations []string    // the task ID of each escalation on timeout
	accepted    int         // actions accepted so far: the next decision's seq
}

// openTask is a task waiting for an action.
type openTask struct {
	task houqin.Task
	// check adds the step's own rules for the actions that end the task.
	check func(houqin.TaskAction) error
	// holders, if set, returns who else takes part in the task's step —
	// the assignees of its other slots and who approved it already — whom
	// a transfer or an add-approver may not bring into this task.
	holders func() []string
	// forRequester marks a task the requester acts on (resubmit); on any
	// other task the requester may not act. forSubject is the same for the
	// process's subject.
	forRequester bool
	forSubject   bool
	decided      bool      // an action that ends the task was accepted
	reminded     time.Time // when the requester last reminded its assignees
	deadlines    []deadline
}

// deadline is a moment at which something happens to an open task.
type deadline struct {
	at   time.Time
	what string // "remind", "escalate" or "timeout"
}

// decision is an accepted action on a task or the process, and what its
// update returns once its events are stored.
type decision struct {
	houqin.TaskAction
	onBehalfOf string // the approver the actor stands in for, if a delegate
	from       string // a reassignment's assignee who left
	updateID   string
	seq        int // the order in which the action was accepted
	outcome    houqin.TaskOutcome
	err        error
	done       bool
}

// ends reports whether an action ends its task.
func ends(action string) bool {
	switch action {
	case houqin.ActionApprove, houqin.ActionReject, houqin.ActionReturn, houqin.ActionComplete, houqin.ActionResubmit, houqin.ActionNoClaim:
		return true
	}
	return false
}

// newProcess returns the process of the running workflow and registers its
// update handlers.
func newProcess(ctx workflow.Context, kind houqin.ProcessKind, id, stream, requester string, policy houqin.KindPolicy, policyHash string) (*process, error) {
	info := workflow.GetInfo(ctx)
	p := &process{
		id: id, kind: kind, stream: stream, requester: requester, policyHash: policyHash,
		workflowID: info.WorkflowExecution.ID, runID: info.WorkflowExecution.RunID,
		log:    log.With(workflow.GetLogger(ctx), "process_id", id),
		status: houqin.StatusRunning, phase: phaseApproval, revoke: policy.Revoke, remind: policy.RemindInterval.D(),
		version: houqin.ExpectNoStream, opened: map[string]int{}, done: map[string]int{},
	}
	if p.remind <= 0 {
		p.remind = houqin.DefaultRemindInterval
	}
	p.integrity = workflow.GetVersion(ctx, "approval-integrity", workflow.DefaultVersion, approvalIntegrity) >= approvalIntegrity
	p.searchable = workflow.GetVersion(ctx, "search-attributes", workflow.DefaultVersion, searchAttributes) >= searchAttributes
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateTask, p.act,
		workflow.UpdateHandlerOptions{Validator: p.validate})
	if err != nil {
		return nil, fmt.Errorf("set update handler: %w", err)
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateProcess, p.actOnProcess,
		workflow.UpdateHandlerOptions{Validator: p.validateProcess})
	if err != nil {
		return nil, fmt.Errorf("set update handler: %w", err)
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateReassign, p.reassign,
		workflow.UpdateHandlerOptions{Validator: p.validateReassign})
	if err != nil {
		return nil, fmt.Errorf("set update handler: %w", err)
	}
	return p, nil
}

// record adds an event to the pending ones, with the next deterministic ID.
// causation is the update that caused it, if any.
func (p *process) record(ctx workflow.Context, actor, causation string, data houqin.EventData) error {
	return p.recordFor(ctx, actor, "", causation, data)
}

// recordFor is record for an actor standing in for onBehalfOf.
func (p *process) recordFor(ctx workflow.Context, actor, onBehalfOf, causation string, data houqin.EventData) error {
	meta := houqin.Metadata{
		Actor:         actor,
		OnBehalfOf:    onBehalfOf,
		CorrelationID: cmp.Or(p.correlation, p.id),
		CausationID:   causation,
		WorkflowID:    p.workflowID,
		RunID:         p.runID,
		OccurredAt:    workflow.Now(ctx),
		PolicyHash:    p.policyHash,
	}
	e, err := houqin.NewEvent(houqin.EventID(p.workflowID, p.runID, fmt.Sprint(p.seq)), data, meta)
	if err != nil {
		return err
	}
	p.seq++
	p.pending = append(p.pending, e)
	return nil
}

// flush appends the pending events at the stream's exact version, then
// answers the actions that caused them with the position of the last one.
func (p *process) flush(ctx workflow.Context) error {
	if len(p.pending) == 0 {
		p.settle()
		return nil
	}
	var res activities.AppendResult
	in := activities.AppendInput{Stream: p.stream, Expected: p.version, Events: p.pending}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.AppendEvents, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("append %d events to %s at version %d: %w", len(p.pending), p.stream, p.version, err)
	}
	first := p.version == houqin.ExpectNoStream
	stored := p.pending
	p.version, p.position, p.pending = res.LastVersion, res.LastPosition, nil
	p.settle()
	if err := p.index(ctx, stored, first); err != nil {
		return fmt.Errorf("search attributes: %w", err)
	}
	return nil
}

// settle answers the actions whose events are stored.
func (p *process) settle() {
	for _, d := range p.settling {
		d.outcome = houqin.TaskOutcome{TaskID: d.TaskID, Status: p.status, Position: p.position}
		d.done = true
	}
	p.settling = nil
}

// abort answers every action still waiting with err, ECONFLICT if the
// workflow was cancelled; the workflow is about to end.
func (p *process) abort(err error) {
	if temporal.IsCanceledError(err) {
		err = houqin.Errorf(houqin.ECONFLICT, "task_id: the process was cancelled")
	}
	err = applicationError(err)
	p.settling = append(p.settling, p.queue...)
	if p.stopping != nil {
		p.settling = append(p.settling, p.stopping)
	}
	for _, d := range p.settling {
		d.err, d.done = err, true
	}
	p.settling, p.queue, p.stopping, p.open = nil, nil, nil, nil
}

// taskSpec is what opening a task needs.
type taskSpec struct {
	step         string
	name         houqin.Text
	assignees    []houqin.Assignee
	actions      []string
	sla          time.Duration
	check        func(houqin.TaskAction) error
	holders      func() []string // see openTask.holders
	explanation  *houqin.Explanation
	forRequester bool
	forSubject   bool
	reminders    []time.Duration // offsets after opening
	escalate     time.Duration   // 0: never
	timeout      bool            // something happens at the due time
}

// openTask opens the next task of a step and records its task.opened
// event; the caller flushes. The task accepts actions from the moment it is
// opened.
func (p *process) openTask(ctx workflow.Context, s taskSpec) *openTask {
	p.opened[s.step]++
	now := workflow.Now(ctx)
	t := houqin.Task{
		ID:        fmt.Sprintf("%s.%s.%d", p.id, s.step, p.opened[s.step]),
		ProcessID: cmp.Or(p.correlation, p.id), // a finding's tasks belong to its inspection
		Kind:      p.kind,
		Step:      s.step,
		Name:      s.name,
		DueAt:     now.Add(s.sla),
		Actions:   s.actions,
	}
	for _, a := range s.assignees {
		t.Assignees = append(t.Assignees, a.User)
		if a.OnBehalfOf != "" {
			if t.OnBehalfOf == nil {
				t.OnBehalfOf = map[string]string{}
			}
			t.OnBehalfOf[a.User] = a.OnBehalfOf
		}
	}
	ot := &openTask{task: t, check: s.check, holders: s.holders, forRequester: s.forRequester, forSubject: s.forSubject}
	for _, r := range s.reminders {
		ot.deadlines = append(ot.deadlines, deadline{at: now.Add(r), what: "remind"})
	}
	if s.escalate > 0 {
		ot.deadlines = append(ot.deadlines, deadline{at: now.Add(s.escalate), what: "escalate"})
	}
	if s.timeout {
		ot.deadlines = append(ot.deadlines, deadline{at: t.DueAt, what: "timeout"})
	}
	slices.SortStableFunc(ot.deadlines, func(a, b deadline) int { return a.at.Compare(b.at) })
	p.open = append(p.open, ot)
	var cause string
	if n := len(p.settling); n > 0 {
		cause = p.settling[n-1].updateID
	}
	_ = p.record(ctx, "system", cause, houqin.TaskOpened{Task: t, Explanation: s.explanation})
	p.log.Info("Task opened", "task_id", t.ID, "assignees", t.Assignees)
	return ot
}

// close removes t from the open tasks.
func (p *process) close(t *openTask) {
	p.open = slices.DeleteFunc(p.open, func(o *openTask) bool { return o == t })
}

// complete closes t with the action of d and records task.completed; d's
// update returns when the events that follow are stored (the next flush).
func (p *process) complete(ctx workflow.Context, t *openTask, d *decision) error {
	p.close(t)
	p.done[t.task.Step]++
	p.settling = append(p.settling, d)
	if !slices.Contains(p.actors, d.Actor) {
		p.actors = append(p.actors, d.Actor)
	}
	p.log.Info("Task completed", "task_id", t.task.ID, "action", d.Action, "actor", d.Actor)
	return p.recordFor(ctx, d.Actor, d.onBehalfOf, d.updateID, houqin.TaskCompleted{
		TaskID: t.task.ID, Step: t.task.Step, Action: d.Action, Actor: d.Actor, OnBehalfOf: d.onBehalfOf,
		Comment: d.Comment, Data: d.Data,
	})
}

// autoComplete closes t with an action the system takes: why is "timeout",
// "dedup" or "fallback".
func (p *process) autoComplete(ctx workflow.Context, t *openTask, action, why, comment string) error {
	p.close(t)
	p.done[t.task.Step]++
	p.log.Info("Task completed by the system", "task_id", t.task.ID, "action", action, "why", why)
	return p.record(ctx, "system", "", houqin.TaskCompleted{
		TaskID: t.task.ID, Step: t.task.Step, Action: action, Actor: "system", Comment: comment, Auto: why,
	})
}

// cancel closes t without an action of its own.
func (p *process) cancel(ctx workflow.Context, t *openTask, reason string) error {
	p.close(t)
	return p.record(ctx, "system", "", houqin.TaskCancelled{TaskID: t.task.ID, Reason: reason})
}

// next waits for an action that ends a task or changes a step (approve,
// reject, return, complete, resubmit, add-approver) and returns it. On the
// way it takes care of what concerns one task only: comments, reminders
// and transfers, and the deadlines of the open tasks (reminders at their
// offsets); it returns fired = the task whose escalation or timeout is due.
// It returns errStopped once the requester withdrew or revoked the process.
func (p *process) next(ctx workflow.Context) (d *decision, fired *openTask, what string, err error) {
	for {
		if p.stopRequested() {
			return nil, nil, "", errStopped
		}
		if len(p.queue) > 0 {
			d := p.queue[0]
			p.queue = p.queue[1:]
			t := p.task(d.TaskID)
			if t == nil {
				// The task closed after the action was accepted: another
				// approver decided the step first.
				d.err, d.done = applicationError(houqin.Errorf(houqin.ECONFLICT, "task_id: task %q is no longer open", d.TaskID)), true
				continue
			}
			if d.Action == actionReassign {
				if err := p.checkReassign(houqin.Reassignment{TaskID: d.TaskID, From: d.from, To: d.To}); err != nil {
					p.refuse(d, err)
					continue
				}
			} else if p.integrity {
				// What was true when the action was accepted may no longer
				// be: an earlier action of the same workflow task moved
				// the task (a transfer) or the step (an approval).
				if err := p.rules(ctx, t, d.TaskAction); err != nil {
					p.refuse(d, err)
					continue
				}
			}
			switch d.Action {
			case houqin.ActionComment, houqin.ActionRemind, houqin.ActionTransfer, actionReassign:
				if err := p.minor(ctx, t, d); err != nil {
					return nil, nil, "", err
				}
				continue
			}
			return d, nil, "", nil
		}
		t, dl := p.nextDeadline()
		if t == nil {
			err := workflow.Await(ctx, func() bool { return len(p.queue) > 0 || p.stopping != nil })
			if err != nil {
				return nil, nil, "", err
			}
			continue
		}
		wait := dl.at.Sub(workflow.Now(ctx))
		if wait > 0 {
			ok, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return len(p.queue) > 0 || p.stopping != nil })
			if err != nil {
				return nil, nil, "", err
			}
			if ok {
				continue
			}
		}
		t.deadlines = t.deadlines[1:]
		if dl.what == "remind" {
			p.log.Info("Task reminder", "task_id", t.task.ID)
			if err := p.record(ctx, "system", "", houqin.TaskReminded{TaskID: t.task.ID, By: "system", Assignees: t.task.Assignees}); err != nil {
				return nil, nil, "", err
			}
			if err := p.flush(ctx); err != nil {
				return nil, nil, "", err
			}
			continue
		}
		return nil, t, dl.what, nil
	}
}

// nextDeadline returns the open task with the earliest deadline.
func (p *process) nextDeadline() (*openTask, deadline) {
	var best *openTask
	for _, t := range p.open {
		if len(t.deadlines) > 0 && (best == nil || t.deadlines[0].at.Before(best.deadlines[0].at)) {
			best = t
		}
	}
	if best == nil {
		return nil, deadline{}
	}
	return best, best.deadlines[0]
}

// minor takes an action that leaves the task open: comment, remind or
// transfer, and stores its event.
func (p *process) minor(ctx workflow.Context, t *openTask, d *decision) error {
	var data houqin.EventData
	switch d.Action {
	case houqin.ActionComment:
		data = houqin.TaskCommented{TaskID: t.task.ID, By: d.Actor, Comment: d.Comment}
	case houqin.ActionRemind:
		t.reminded = workflow.Now(ctx)
		data = houqin.TaskReminded{TaskID: t.task.ID, By: d.Actor, Assignees: t.task.Assignees, Comment: d.Comment}
	case houqin.ActionTransfer:
		i := slices.Index(t.task.Assignees, d.Actor)
		t.task.Assignees[i] = d.To
		if t.task.OnBehalfOf != nil {
			delete(t.task.OnBehalfOf, d.Actor)
		}
		data = houqin.TaskTransferred{TaskID: t.task.ID, From: d.Actor, To: d.To, OnBehalfOf: d.onBehalfOf,
			Comment: d.Comment, Assignees: slices.Clone(t.task.Assignees)}
	case actionReassign:
		i := slices.Index(t.task.Assignees, d.from)
		if slices.Contains(t.task.Assignees, d.To) {
			t.task.Assignees = slices.Delete(t.task.Assignees, i, i+1) // the successor holds it already
		} else {
			t.task.Assignees[i] = d.To
		}
		delete(t.task.OnBehalfOf, d.from)
		data = houqin.TaskTransferred{TaskID: t.task.ID, From: d.from, To: d.To, Reason: d.Comment, Assignees: slices.Clone(t.task.Assignees)}
	}
	p.settling = append(p.settling, d)
	if err := p.recordFor(ctx, d.Actor, d.onBehalfOf, d.updateID, data); err != nil {
		return err
	}
	return p.flush(ctx)
}

// work opens a work task of step for assignees — the action complete, and
// transfer, comment and remind — and waits until it is completed.
func (p *process) work(ctx workflow.Context, step string, name houqin.Text, assignees []string, sla time.Duration, check func(houqin.TaskAction) error) (*decision, error) {
	return p.workFor(ctx, step, name, assignees, sla, check, false)
}

// workFor is work; forRequester lets the requester, if an assignee, do the
// work too (a logistics staffer who arranged a colleague's trip books it).
func (p *process) workFor(ctx workflow.Context, step string, name houqin.Text, assignees []string, sla time.Duration, check func(houqin.TaskAction) error, forRequester bool) (*decision, error) {
	return p.workWith(ctx, taskSpec{step: step, name: name, sla: sla, check: check, forRequester: forRequester}, assignees, nil)
}

// workWith is work for a task of spec (its step, name, SLA, check,
// forRequester, reminders and escalation; the assignees and actions are
// work's); overdue, if set, handles the task's escalation when it fires.
func (p *process) workWith(ctx workflow.Context, spec taskSpec, assignees []string, overdue func(workflow.Context, *openTask) error) (*decision, error) {
	spec.assignees = make([]houqin.Assignee, len(assignees))
	for i, u := range assignees {
		spec.assignees[i] = houqin.Assignee{User: u, Rule: "role"}
	}
	spec.actions = []string{houqin.ActionComplete, houqin.ActionTransfer, houqin.ActionComment, houqin.ActionRemind}
	t := p.openTask(ctx, spec)
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	return p.completion(ctx, t, overdue)
}

// completion waits for the action that completes t, the process's one
// open task, refusing any other (notAllowed), and records it (complete).
// A deadline that fires on the way goes to overdue, if given.
func (p *process) completion(ctx workflow.Context, t *openTask, overdue func(workflow.Context, *openTask) error) (*decision, error) {
	for {
		d, fired, _, err := p.next(ctx)
		if err != nil {
			return nil, err
		}
		if fired != nil {
			if overdue != nil {
				if err := overdue(ctx, fired); err != nil {
					return nil, err
				}
			}
			continue
		}
		if d.Action == houqin.ActionComplete {
			return d, p.complete(ctx, t, d)
		}
		p.notAllowed(d)
	}
}
