package workflows

import (
	"strings"
	"time"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/workflow"
)

// approval is one approval step of a process: who decides, and by when.
type approval struct {
	Step      string
	Approvers []string
	SLA       time.Duration
}

// verdict is the decision an approval step reached.
type verdict struct {
	Approved bool
	By       string
	Comment  string
	cause    string // the update that decided
}

// approve runs an approval step of p: it opens a task with actions approve
// and reject for the approvers, waits for one of them to decide, and records
// the task.completed event. The caller records the business event of the
// verdict, and the verdict's update returns once that is stored.
//
// The requester of the process may not decide on it (EFORBIDDEN), even as
// an approver; a rejection needs a reason in its comment (EINVALID); neither
// action takes data (EINVALID).
//
// This is the whole approval logic of a process, so that the approval engine
// (routes from the policy, several levels, transfer, add-approver, return)
// can replace this one function.
func approve(ctx workflow.Context, p *process, in approval) (verdict, error) {
	check := func(act houqin.TaskAction) error {
		switch {
		case act.Actor == p.requester:
			return houqin.Errorf(houqin.EFORBIDDEN, "actor: %q requested %s and may not decide on it", act.Actor, p.id)
		case act.Action == houqin.ActionReject && strings.TrimSpace(act.Comment) == "":
			return houqin.Errorf(houqin.EINVALID, "comment: a reason is required to reject")
		}
		return decodeData(act.Data, &struct{}{})
	}
	t, err := p.openTask(ctx, in.Step, in.Approvers, []string{houqin.ActionApprove, houqin.ActionReject}, in.SLA, check)
	if err != nil {
		return verdict{}, err
	}
	d, err := p.take(ctx, t)
	if err != nil {
		return verdict{}, err
	}
	return verdict{Approved: d.Action == houqin.ActionApprove, By: d.Actor, Comment: d.Comment, cause: d.updateID}, nil
}
