package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/audit"
	"github.com/houqin/houqin/projections"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"
)

// Reconciler records the processes whose workflow ended outside houqin —
// terminated by an operator, timed out, failed — which their workflow could
// not record itself: every Interval it lists such executions in Temporal's
// visibility and, for a process whose stream has not ended and whose
// workflow has no newer run (a reset starts one), releases its budget hold
// (ReleaseBudget, exactly once), then appends its open tasks cancelled and
// process.terminated with Temporal's status, reason and identity, at the
// stream's exact version. Read models, inboxes and KPIs follow the stream.
// A stream that has ended is never touched, so a round repeats nothing.
// Each round lists only the executions closed since a minute before the
// newest close the last complete round saw (its checkpoint, kept in
// memory: the first round after a start lists them all).
type Reconciler struct {
	Store      houqin.EventStore
	Temporal   client.Client
	Activities *activities.Activities // releases the budget holds
	Interval   time.Duration          // default 10 s
	Logger     *slog.Logger

	closed closedSince
}

// Run reconciles until ctx ends.
func (r *Reconciler) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	for {
		if _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.logger().Warn("reconciling executions ended outside houqin failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// endedOutside are the execution statuses houqin never ends a workflow with.
var endedOutside = map[enumspb.WorkflowExecutionStatus]string{
	enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED: "terminated",
	enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:  "timed_out",
	enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:     "failed",
}

// Once reconciles every execution ended outside houqin, and returns how
// many processes it recorded as terminated.
func (r *Reconciler) Once(ctx context.Context) (int, error) {
	queries := []string{"ExecutionStatus = 'Terminated'", "ExecutionStatus = 'TimedOut'", "ExecutionStatus = 'Failed'"}
	return r.closed.round(ctx, r.Temporal, queries, func(ex *workflowpb.WorkflowExecutionInfo) (roundResult, error) {
		return r.reconcile(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId(), endedOutside[ex.GetStatus()], ex.GetCloseTime().AsTime())
	})
}

// reconcile records one execution ended outside houqin, if its process
// has not ended: doneNow if it did, tryAgain if the stream moved
// meanwhile.
func (r *Reconciler) reconcile(ctx context.Context, processID, runID, status string, closed time.Time) (roundResult, error) {
	stream, err := audit.ProcessStream(processID)
	if err != nil || status == "" {
		return nothingToDo, nil // not a process houqin knows (a schedule, a survey, a reorder)
	}
	events, err := audit.ReadProcess(ctx, r.Store, processID)
	if houqin.ErrorCode(err) == houqin.ENOTFOUND {
		return nothingToDo, nil
	} else if err != nil {
		return nothingToDo, err
	}
	if slices.ContainsFunc(events, func(e houqin.Event) bool { return projections.ProcessEnding(e) != "" }) {
		return nothingToDo, nil
	}
	// A reset ends the old run and starts a new one: the process lives on.
	d, err := r.Temporal.DescribeWorkflowExecution(ctx, processID, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nothingToDo, nil
		}
		return nothingToDo, fmt.Errorf("describe %s: %w", processID, err)
	}
	if d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING ||
		d.GetWorkflowExecutionInfo().GetExecution().GetRunId() != runID {
		return nothingToDo, nil
	}
	reason, identity := r.why(ctx, processID, runID)
	meta := houqin.Metadata{Actor: "system", CorrelationID: processID, WorkflowID: processID, RunID: runID, OccurredAt: closed}
	for _, line := range holds(events) {
		in := activities.ReleaseBudgetInput{ProcessID: processID, Line: line, Meta: meta,
			Reason: fmt.Sprintf("the workflow was %s outside houqin", strings.ReplaceAll(status, "_", " "))}
		if _, err := r.Activities.ReleaseBudget(ctx, in); err != nil {
			return nothingToDo, fmt.Errorf("release the budget of %s: %w", processID, err)
		}
	}
	var out []houqin.Event
	add := func(data houqin.EventData) error {
		e, err := houqin.NewEvent(houqin.EventID(processID, runID, "terminated", strconv.Itoa(len(out))), data, meta)
		out = append(out, e)
		return err
	}
	why := fmt.Sprintf("the workflow was %s outside houqin", strings.ReplaceAll(status, "_", " "))
	for _, id := range openTasks(events) {
		if err := add(houqin.TaskCancelled{TaskID: id, Reason: why}); err != nil {
			return nothingToDo, err
		}
	}
	if err := add(houqin.ProcessTerminated{Status: status, Reason: reason, Identity: identity, RunID: runID}); err != nil {
		return nothingToDo, err
	}
	if _, err := r.Store.Append(ctx, stream, events[len(events)-1].Version, out...); err != nil {
		if houqin.ErrorCode(err) == houqin.ECONFLICT {
			return tryAgain, nil // written meanwhile: the next round sees it
		}
		return nothingToDo, fmt.Errorf("record %s %s: %w", processID, status, err)
	}
	r.logger().Info("process ended outside houqin recorded", "process_id", processID, "status", status, "reason", reason, "identity", identity)
	return doneNow, nil
}

// why returns Temporal's reason and identity for the close of a run.
func (r *Reconciler) why(ctx context.Context, workflowID, runID string) (reason, identity string) {
	it := r.Temporal.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return "", ""
		}
		if a := e.GetWorkflowExecutionTerminatedEventAttributes(); a != nil {
			return a.GetReason(), a.GetIdentity()
		}
		if a := e.GetWorkflowExecutionFailedEventAttributes(); a != nil {
			return a.GetFailure().GetMessage(), ""
		}
		if e.GetWorkflowExecutionTimedOutEventAttributes() != nil {
			return "the workflow's execution timeout passed", ""
		}
	}
	return "", ""
}

// openTasks returns the tasks opened and not closed, in order.
func openTasks(events []houqin.Event) []string {
	var open []string
	for _, e := range events {
		var t struct {
			TaskID string `json:"task_id"`
			Task   struct {
				ID string `json:"id"`
			} `json:"task"`
		}
		switch e.Type {
		case "task.opened":
			if json.Unmarshal(e.Data, &t) == nil {
				open = append(open, t.Task.ID)
			}
		case "task.completed", "task.cancelled":
			if json.Unmarshal(e.Data, &t) == nil {
				for i, id := range open {
					if id == t.TaskID {
						open = append(open[:i], open[i+1:]...)
						break
					}
				}
			}
		}
	}
	return open
}

// holds returns the budget lines a process checked (<kind>.budget_checked
// {line}): where it may hold a reservation.
func holds(events []houqin.Event) []activities.BudgetLineRef {
	var out []activities.BudgetLineRef
	for _, e := range events {
		if !strings.HasSuffix(e.Type, ".budget_checked") {
			continue
		}
		var c struct {
			Line string `json:"line"`
		}
		if json.Unmarshal(e.Data, &c) != nil {
			continue
		}
		parts := strings.SplitN(strings.TrimPrefix(c.Line, "budget-"), "-", 3)
		if len(parts) != 3 {
			continue
		}
		y, err := strconv.Atoi(parts[0])
		if err != nil {
			continue
		}
		ref := activities.BudgetLineRef{Year: y, Department: parts[1], Category: parts[2]}
		if ref.Stream() == c.Line && !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

func (r *Reconciler) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}
