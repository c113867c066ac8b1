package workflows

import (
	"fmt"

	"github.com/houqin/houqin/activities"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"
)

// ReorderResult is what one run of an item's reorder workflow did.
type ReorderResult struct {
	Item         string   `json:"item"`
	Procurements []string `json:"procurements"` // started, in order
	Ignored      int      `json:"ignored"`      // triggers received while a procurement was open
}

// Reorder restocks one item (补货): the entity workflow of the item, ID
// houqin.ReorderWorkflowID, started or signalled by TriggerReorder with
// SignalWithStart, so every trigger of the item meets in one execution.
// On a trigger it checks that the item is still below its reorder point
// and starts a child Procurement of its reorder quantity (PrepareReorder
// takes the PR number and records inventory.reorder_requested), then waits
// for it to end, ignoring further triggers: exactly one open requisition
// per item. When the procurement ended and no trigger is pending, the run
// ends; the next trigger starts a new one.
func Reorder(ctx workflow.Context, in activities.ReorderInput) (ReorderResult, error) {
	info := workflow.GetInfo(ctx)
	log := workflow.GetLogger(ctx)
	res := ReorderResult{Item: in.Item, Procurements: []string{}}
	ch := workflow.GetSignalChannel(ctx, activities.ReorderSignal)
	var t activities.ReorderTrigger
	ch.Receive(ctx, &t)
	for n := 1; ; n++ {
		var prep activities.PrepareReorderResult
		pin := activities.PrepareReorderInput{Item: in.Item, At: workflow.Now(ctx),
			Key: fmt.Sprintf("%s/%s/%d", info.WorkflowExecution.ID, info.WorkflowExecution.RunID, n)}
		if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.PrepareReorder, pin).Get(ctx, &prep); err != nil {
			return res, fmt.Errorf("prepare reorder: %w", err)
		}
		if prep.Skip != "" {
			log.Info("No reorder needed", "item", in.Item, "why", prep.Skip)
		} else {
			id := ProcessID(prep.Year, prep.Number)
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID: id, TaskQueue: TaskQueue,
				ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
				WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			})
			child := workflow.ExecuteChildWorkflow(cctx, Procurement, ProcurementInput{ProcessID: id, Requester: prep.Requester,
				Request: prep.Request, Policy: prep.Policy, PolicyHash: prep.PolicyHash, Logistics: prep.Logistics})
			res.Procurements = append(res.Procurements, id)
			log.Info("Reorder started", "item", in.Item, "procurement", id)
			done := false
			sel := workflow.NewSelector(ctx)
			sel.AddFuture(child, func(f workflow.Future) {
				done = true
				var pr ProcurementResult
				if err := f.Get(ctx, &pr); err != nil {
					log.Warn("Reorder procurement failed", "procurement", id, "error", err)
					return
				}
				log.Info("Reorder procurement ended", "procurement", id, "status", pr.Status)
			})
			sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
				c.Receive(ctx, &t)
				res.Ignored++
			})
			for !done {
				sel.Select(ctx)
			}
		}
		// A trigger that came after the procurement ended is a new one.
		if !ch.ReceiveAsync(&t) {
			return res, nil
		}
	}
}
