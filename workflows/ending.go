package workflows

import (
	"errors"
	"fmt"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// How a process's run ends: cancelled, failed on a step nobody can take,
// or done — and every accepted update answered before it does.

// endRun ends a process's run that returned res and err: a withdrawal or
// revocation by the requester (errStopped) is recorded and the process
// finished with finish; then see ended.
func endRun[R any](ctx workflow.Context, p *process, res R, err error, finish func(workflow.Context) (R, error)) (R, error) {
	if errors.Is(err, errStopped) {
		if err = p.stop(ctx); err == nil {
			res, err = finish(ctx)
		}
	}
	return res, p.ended(ctx, err)
}

// cancelRecorded is the version of the process machinery that records a
// cancellation of the workflow on the process's stream; runs cancelled
// before it ended with their stream open.
const cancelRecorded = 1

// cancelled records, on a disconnected context, that the workflow was
// cancelled while the process was running: its open tasks cancelled and
// process.cancelled, with whatever was pending (a budget release), so the
// read models end it. A process that had already ended records only what
// is pending.
func (p *process) cancelled(ctx workflow.Context, open []*openTask) error {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if workflow.GetVersion(dctx, "cancel-recorded", workflow.DefaultVersion, cancelRecorded) == workflow.DefaultVersion {
		return nil
	}
	if p.status == houqin.StatusRunning {
		const reason = "the workflow was cancelled"
		for _, t := range open {
			if err := p.record(dctx, "system", "", houqin.TaskCancelled{TaskID: t.task.ID, Reason: reason}); err != nil {
				return err
			}
		}
		p.status, p.phase = houqin.StatusCancelled, phaseDone
		if err := p.record(dctx, "system", "", houqin.ProcessCancelled{Reason: reason}); err != nil {
			return err
		}
	}
	return p.flush(dctx)
}

// fail ends a process whose step u cannot be resolved: its open tasks are
// cancelled and process.failed recorded with what is pending (the
// approval that led to the step), which answers the actions that caused
// it; the process's status is failed.
func (p *process) fail(ctx workflow.Context, u *unresolvable) error {
	p.log.Warn("Process failed: a step cannot be resolved", "step", u.step, "reason", u.reason)
	reason := fmt.Sprintf("step %s cannot be resolved", u.step)
	for len(p.open) > 0 {
		if err := p.cancel(ctx, p.open[0], reason); err != nil {
			return err
		}
	}
	p.status, p.phase = houqin.StatusFailed, phaseDone
	if err := p.record(ctx, "system", "", houqin.ProcessFailed{Step: u.step, Reason: u.reason}); err != nil {
		return err
	}
	return p.flush(ctx)
}

// ended answers what still waits when a run ends with err: after a
// cancellation or a failure every accepted action gets the error, and
// every accepted update returns its outcome before the run ends. It
// returns the error the workflow fails with (see failure).
func (p *process) ended(ctx workflow.Context, err error) error {
	var u *unresolvable
	if errors.As(err, &u) {
		err = p.fail(ctx, u) // nil: the process ended failed, the workflow completes
	}
	switch {
	case temporal.IsCanceledError(err):
		p.log.Info("Process cancelled")
		open := p.open
		p.abort(err)
		if rerr := p.cancelled(ctx, open); rerr != nil {
			p.log.Error("Recording the cancellation failed", "error", rerr)
		}
	case err != nil:
		p.log.Error("Process failed", "error", err)
		p.abort(err)
	default:
		// Actions accepted while the process was ending (an approval
		// racing the rejection that ended it, a revoke racing the last
		// task) are answered, so every update returns and the run ends.
		p.abort(houqin.Errorf(houqin.ECONFLICT, "task_id: %s has ended (%s)", p.id, p.status))
	}
	done, _ := workflow.NewDisconnectedContext(ctx)
	if werr := workflow.Await(done, func() bool { return workflow.AllHandlersFinished(done) }); werr != nil && err == nil {
		err = werr
	}
	return failure(err)
}
