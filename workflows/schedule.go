package workflows

import (
	"fmt"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"
)

// ScheduledInspection starts one run of a recurring inspection: a Temporal
// Schedule starts it with an input resolved when the schedule was made
// (the checklist, owners and policy pinned then). It takes the next
// inspection number, dates the request today (UTC+8), and starts the
// Inspection as a child that outlives it; it returns the inspection's ID.
func ScheduledInspection(ctx workflow.Context, in InspectionInput) (string, error) {
	now := workflow.Now(ctx).In(houqin.BusinessZone)
	var n int64
	take := activities.TakeNumberInput{Sequence: fmt.Sprintf("IN-%04d", now.Year()), Key: workflow.GetInfo(ctx).WorkflowExecution.ID}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.TakeNumber, take).Get(ctx, &n); err != nil {
		return "", fmt.Errorf("take an inspection number: %w", err)
	}
	in.ProcessID, in.Adhoc = InspectionID(now.Year(), n), false
	in.Request.ScheduledFor = now.Format(time.DateOnly)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        in.ProcessID,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
	})
	child := workflow.ExecuteChildWorkflow(cctx, Inspection, in)
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return "", fmt.Errorf("start inspection %s: %w", in.ProcessID, err)
	}
	workflow.GetLogger(ctx).Info("Scheduled inspection started", "process_id", in.ProcessID, "template", in.Request.Template)
	return in.ProcessID, nil
}

// ScheduleID returns the Temporal Schedule ID of a recurring inspection
// named name: "inspection-<name>".
func ScheduleID(name string) string { return "inspection-" + name }
