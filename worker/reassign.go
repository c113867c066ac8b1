package worker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Reassigner moves the open tasks of users who have left the organisation
// (left: true in its YAML) to their successors (Org.Successor: their
// fallback, else their manager): at start and then every Interval, it
// lists each departed user's pending tasks in the tasks read model and
// sends each task's workflow a Reassignment (workflows.UpdateReassign),
// which records task.transferred by system with the reason. The workflow
// checks each one as it stands, so a task already moved, decided or closed
// since the read model was written is left alone; a successor who may not
// act on the task (its requester, or the holder of another slot of its
// step) is logged and left to the task's escalation.
type Reassigner struct {
	Org        *houqin.Org
	ReadModels *sql.DB
	Temporal   client.Client
	Interval   time.Duration // default 1 minute
	Logger     *slog.Logger
}

// Run reassigns until ctx ends.
func (r *Reassigner) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	for {
		if _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.logger().Warn("reassigning the tasks of users who left failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// Once reassigns every pending task of every user who has left, and
// returns how many moved.
func (r *Reassigner) Once(ctx context.Context) (int, error) {
	moved := 0
	for _, u := range r.Org.Users() {
		if !u.Left {
			continue
		}
		tasks, err := projections.ListTasks(ctx, r.ReadModels, projections.TaskFilter{Assignee: u.ID, Status: "pending", Limit: 200})
		if err != nil {
			return moved, fmt.Errorf("tasks of %s: %w", u.ID, err)
		}
		if len(tasks) == 0 {
			continue
		}
		successor, chain, err := r.Org.Successor(u.ID)
		if err != nil {
			r.logger().Warn("a user who left holds tasks nobody can take over", "user", u.ID, "tasks", len(tasks), "err", houqin.ErrorMessage(err))
			continue
		}
		for _, t := range tasks {
			ok, err := r.move(ctx, t.ID, u.ID, successor, chain)
			if err != nil {
				return moved, err
			}
			if ok {
				moved++
			}
		}
	}
	return moved, nil
}

// move sends one reassignment; false if the workflow refused it (the task
// moved on, or the successor may not take it).
func (r *Reassigner) move(ctx context.Context, taskID, from, to string, chain []string) (bool, error) {
	processID, ok := houqin.TaskProcess(taskID)
	if !ok {
		return false, nil
	}
	reason := fmt.Sprintf("%s has left the organisation; their task goes to %s", from, to)
	if len(chain) > 2 {
		reason = fmt.Sprintf("%s has left the organisation; their task goes to %s (via %v)", from, to, chain[1:len(chain)-1])
	}
	h, err := r.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: processID, UpdateName: workflows.UpdateReassign, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{houqin.Reassignment{TaskID: taskID, From: from, To: to, Reason: reason}},
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var ae *temporal.ApplicationError
	switch {
	case err == nil:
		r.logger().Info("task reassigned from a user who left", "task_id", taskID, "from", from, "to", to)
		return true, nil
	case errors.As(err, &ae):
		r.logger().Warn("task of a user who left not reassigned", "task_id", taskID, "from", from, "to", to, "reason", ae.Message())
		return false, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	default:
		// The workflow may have closed since the read model was written.
		r.logger().Warn("task of a user who left not reassigned", "task_id", taskID, "err", err)
		return false, nil
	}
}

func (r *Reassigner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}
