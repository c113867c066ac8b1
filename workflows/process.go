package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
)

// process is what every process workflow shares: its stream, which it alone
// writes, and its tasks, which users act on through UpdateTask.
//
// Events are recorded into pending and appended together by flush, so that
// an action's events — task.completed, the business event, the next
// task.opened — land in one append, and the action's outcome carries the
// position of the last of them.
type process struct {
	id         string
	kind       houqin.ProcessKind
	stream     string
	requester  string
	policyHash string
	workflowID string
	runID      string
	log        log.Logger

	status   houqin.Status
	seq      int   // events recorded by this run: the next event's sequence number
	version  int64 // version of the stream's last stored event; -1 (houqin.ExpectNoStream) before the first
	position int64 // global position of the last stored event
	pending  []houqin.Event
	opened   map[string]int // tasks opened per step, for task IDs; only indexed, never ranged over

	open     *openTask   // the task accepting an action; nil between tasks
	taken    *decision   // an accepted action the workflow has not taken up yet
	settling []*decision // actions taken up whose events are still pending
}

// openTask is a task waiting for an action.
type openTask struct {
	task  houqin.Task
	check func(houqin.TaskAction) error // the step's own rules, after assignee and action; nil: none
	taken bool                          // an action was accepted
}

// decision is an accepted action on a task, and what its update returns
// once its events are stored.
type decision struct {
	houqin.TaskAction
	updateID string
	outcome  houqin.TaskOutcome
	err      error
	done     bool
}

// newProcess returns the process of the running workflow and registers the
// UpdateTask handler.
func newProcess(ctx workflow.Context, kind houqin.ProcessKind, id, stream, requester, policyHash string) (*process, error) {
	info := workflow.GetInfo(ctx)
	p := &process{
		id: id, kind: kind, stream: stream, requester: requester, policyHash: policyHash,
		workflowID: info.WorkflowExecution.ID, runID: info.WorkflowExecution.RunID,
		log:    log.With(workflow.GetLogger(ctx), "process_id", id),
		status: houqin.StatusRunning, version: houqin.ExpectNoStream, opened: map[string]int{},
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateTask, p.act,
		workflow.UpdateHandlerOptions{Validator: p.validate})
	if err != nil {
		return nil, fmt.Errorf("set update handler: %w", err)
	}
	return p, nil
}

// record adds an event to the pending ones, with the next deterministic ID.
// causation is the update that caused it, if any.
func (p *process) record(ctx workflow.Context, actor, causation string, data houqin.EventData) error {
	meta := houqin.Metadata{
		Actor:         actor,
		CorrelationID: p.id,
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
		return nil
	}
	var res activities.AppendResult
	in := activities.AppendInput{Stream: p.stream, Expected: p.version, Events: p.pending}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.AppendEvents, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("append %d events to %s at version %d: %w", len(p.pending), p.stream, p.version, err)
	}
	p.version, p.position, p.pending = res.LastVersion, res.LastPosition, nil
	for _, d := range p.settling {
		d.outcome = houqin.TaskOutcome{TaskID: d.TaskID, Status: p.status, Position: p.position}
		d.done = true
	}
	p.settling = nil
	return nil
}

// abort answers every action still waiting with err, ECONFLICT if the
// workflow was cancelled; the workflow is about to end.
func (p *process) abort(err error) {
	if temporal.IsCanceledError(err) {
		err = houqin.Errorf(houqin.ECONFLICT, "task_id: the process was cancelled")
	}
	err = applicationError(err)
	if p.taken != nil {
		p.settling = append(p.settling, p.taken)
		p.taken = nil
	}
	for _, d := range p.settling {
		d.err, d.done = err, true
	}
	p.settling, p.open = nil, nil
}

// openTask opens the next task of step for assignees, due after sla, and
// stores its task.opened event with whatever is pending. The task accepts
// actions from the moment it is opened; check adds the step's own rules.
func (p *process) openTask(ctx workflow.Context, step string, assignees, actions []string, sla time.Duration, check func(houqin.TaskAction) error) (houqin.Task, error) {
	p.opened[step]++
	t := houqin.Task{
		ID:        fmt.Sprintf("%s.%s.%d", p.id, step, p.opened[step]),
		ProcessID: p.id,
		Kind:      p.kind,
		Step:      step,
		Assignees: slices.Clone(assignees),
		DueAt:     workflow.Now(ctx).Add(sla),
		Actions:   actions,
	}
	p.open = &openTask{task: t, check: check}
	var cause string
	if n := len(p.settling); n > 0 {
		cause = p.settling[n-1].updateID
	}
	if err := p.record(ctx, "system", cause, houqin.TaskOpened{Task: t}); err != nil {
		return houqin.Task{}, err
	}
	p.log.Info("Task opened", "task_id", t.ID, "assignees", t.Assignees)
	return t, p.flush(ctx)
}

// take waits for an action on task t, closes the task and records its
// task.completed event. The action's update returns when the events that
// follow are stored (the next flush).
func (p *process) take(ctx workflow.Context, t houqin.Task) (*decision, error) {
	if err := workflow.Await(ctx, func() bool { return p.taken != nil }); err != nil {
		return nil, err
	}
	d := p.taken
	p.taken, p.open = nil, nil
	p.settling = append(p.settling, d)
	p.log.Info("Task completed", "task_id", t.ID, "action", d.Action, "actor", d.Actor)
	return d, p.record(ctx, d.Actor, d.updateID, houqin.TaskCompleted{
		TaskID: t.ID, Step: t.Step, Action: d.Action, Actor: d.Actor, Comment: d.Comment, Data: d.Data,
	})
}

// work opens a work task of step for assignees — one action, complete — and
// takes the action on it.
func (p *process) work(ctx workflow.Context, step string, assignees []string, sla time.Duration, check func(houqin.TaskAction) error) (*decision, error) {
	t, err := p.openTask(ctx, step, assignees, []string{houqin.ActionComplete}, sla, check)
	if err != nil {
		return nil, err
	}
	return p.take(ctx, t)
}

// tasks returns the open tasks.
func (p *process) tasks() []houqin.Task {
	if p.open == nil || p.open.taken {
		return []houqin.Task{}
	}
	return []houqin.Task{p.open.task}
}

// validate is the UpdateTask validator: it rejects an action before it
// enters the history, and must not change the workflow's state.
func (p *process) validate(ctx workflow.Context, act houqin.TaskAction) error {
	if err := p.check(act); err != nil {
		p.log.Info("Task action rejected", "task_id", act.TaskID, "action", act.Action, "actor", act.Actor, "error", houqin.ErrorMessage(err))
		return applicationError(err)
	}
	return nil
}

// check applies the rules every task shares, then the task's own.
func (p *process) check(act houqin.TaskAction) error {
	t := p.open
	switch {
	case act.TaskID == "":
		return houqin.Errorf(houqin.EINVALID, "task_id: required")
	case t == nil || t.taken || t.task.ID != act.TaskID:
		return houqin.Errorf(houqin.ECONFLICT, "task_id: task %q is not open", act.TaskID)
	case !slices.Contains(t.task.Assignees, act.Actor):
		return houqin.Errorf(houqin.EFORBIDDEN, "actor: %q is not an assignee of task %s", act.Actor, act.TaskID)
	case !slices.Contains(t.task.Actions, act.Action):
		return houqin.Errorf(houqin.EINVALID, "action: %q is not allowed on task %s; it takes %s", act.Action, act.TaskID, strings.Join(t.task.Actions, ", "))
	case utf8.RuneCountInString(act.Comment) > maxCommentLen:
		return houqin.Errorf(houqin.EINVALID, "comment: longer than %d characters", maxCommentLen)
	case len(act.Data) > maxDataSize:
		return houqin.Errorf(houqin.EINVALID, "data: larger than %d bytes", maxDataSize)
	case t.check != nil:
		return t.check(act)
	}
	return nil
}

// act is the UpdateTask handler. It hands the action to the workflow, which
// takes it up in its own order, and returns once the action's events are
// stored.
func (p *process) act(ctx workflow.Context, act houqin.TaskAction) (houqin.TaskOutcome, error) {
	// Validators do not run on replay; the rules are checked again so a
	// handler never takes an action its validator would have refused.
	if err := p.check(act); err != nil {
		return houqin.TaskOutcome{}, applicationError(err)
	}
	d := &decision{TaskAction: act}
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		d.updateID = info.ID
	}
	p.open.taken, p.taken = true, d
	if err := workflow.Await(ctx, func() bool { return d.done }); err != nil {
		return houqin.TaskOutcome{}, applicationError(err)
	}
	return d.outcome, d.err
}
