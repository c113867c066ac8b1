// Package workflows holds houqin's Temporal workflows: one durable workflow
// execution per process instance, whose workflow ID is the process ID.
//
// A workflow is the only writer of its process's stream ("procurement-" +
// ID). Every state change it makes is appended there by the AppendEvents
// activity, with deterministic event IDs (houqin.EventID over workflow ID,
// run ID and a workflow-local sequence number) and the exact expected
// version, so a retried or replayed append never writes twice.
//
// Human steps are tasks: a task.opened event, then one Workflow Update named
// UpdateTask that approves, rejects or completes it. The update's validator
// rejects, before anything enters the history, an actor who is not an
// assignee or who requested the process (EFORBIDDEN), a task that is not open
// (ECONFLICT), and an action or data the task does not take (EINVALID). Its
// errors are temporal.ApplicationErrors whose type is the houqin error code.
// An accepted update returns once the task's events — task.completed, the
// business event, the next task.opened — are stored, with the position of
// the last of them.
//
// Workflow code never does I/O, never reads the wall clock, never ranges
// over a map and never starts goroutines; a change of behaviour goes behind
// workflow.GetVersion and comes with a new history in testdata/histories.
package workflows

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TaskQueue is the task queue houqin's workers poll.
const TaskQueue = "houqin"

// UpdateTask is the name of the Workflow Update that acts on a task: its
// argument is a houqin.TaskAction, its result a houqin.TaskOutcome.
const UpdateTask = "task"

// UpdateProcess is the name of the Workflow Update by which the requester
// withdraws (撤回) or revokes (撤销) a process: its argument is a
// houqin.ProcessAction, its result a houqin.TaskOutcome without task ID.
const UpdateProcess = "process"

// UpdateReassign is the name of the Workflow Update by which the system
// moves an open task from an assignee who left the organisation to their
// successor: its argument is a houqin.Reassignment, its result a
// houqin.TaskOutcome. No user sends it (the API has no route for it).
const UpdateReassign = "reassign"

// QueryState is the name of the query that returns a process's State, for
// debugging; user interfaces read projections.
const QueryState = "state"

// a references the activities; workflows only use its methods' names.
var a *activities.Activities

// withActivityOptions sets what every activity call of a workflow uses: the
// activities are idempotent, so they retry without limit while the store is
// unreachable, and give up at once on a business failure.
func withActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{houqin.EINVALID, houqin.ECONFLICT},
		},
	})
}

// applicationError returns err as it crosses Temporal to the caller of an
// update or workflow: an application error typed with the houqin code. An
// application error from an activity keeps its type and message; any error
// that is not a houqin.Error is EINTERNAL with a generic message.
func applicationError(err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return temporal.NewApplicationError(ae.Message(), ae.Type())
	}
	return temporal.NewApplicationError(houqin.ErrorMessage(err), houqin.ErrorCode(err))
}

// badInput is how a workflow refuses its input: a non-retryable
// application error typed with the houqin code (EINVALID naming the field).
func badInput(err error) error {
	return temporal.NewNonRetryableApplicationError(houqin.ErrorMessage(err), houqin.ErrorCode(err), nil)
}

// decodeData decodes a task's data strictly into v: unknown fields are
// EINVALID. Empty data and null leave v as it is.
func decodeData(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return houqin.Errorf(houqin.EINVALID, "data: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return houqin.Errorf(houqin.EINVALID, "data: trailing data after the JSON value")
	}
	return nil
}

// inData prefixes the field an EINVALID error names with "data.".
func inData(err error) error {
	if err == nil {
		return nil
	}
	return houqin.Errorf(houqin.ErrorCode(err), "data.%s", houqin.ErrorMessage(err))
}
