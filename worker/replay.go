package worker

import (
	"fmt"

	"github.com/houqin/houqin/workflows"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Replay replays one recorded workflow history against the current code of
// every workflow in workflows.All. It returns an error if the code no
// longer makes the decisions the history recorded (non-determinism) or
// cannot run it. workflowID is the original execution's ID (the procurement
// workflow checks that its input names it).
func Replay(logger log.Logger, h *historypb.History, workflowID string) error {
	r := worker.NewWorkflowReplayer()
	for _, w := range workflows.All() {
		r.RegisterWorkflow(w)
	}
	if err := r.ReplayWorkflowHistoryWithOptions(logger, h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: workflowID}}); err != nil {
		return fmt.Errorf("replay %s: %w", workflowID, err)
	}
	return nil
}
