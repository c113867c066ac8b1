package worker

import (
	"fmt"

	"github.com/houqin/houqin/workflows"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// WorkflowID returns the ID of the execution a history records, from its
// first event (WorkflowExecutionStarted): never from a file's name, since
// an ID may hold dots (a survey of liu.yang, SV-EV-2026-000001-liu.yang).
func WorkflowID(h *historypb.History) (string, error) {
	if len(h.GetEvents()) == 0 {
		return "", fmt.Errorf("the history has no events")
	}
	id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
	if id == "" {
		return "", fmt.Errorf("the history's first event names no workflow ID (event %s)", h.GetEvents()[0].GetEventType())
	}
	return id, nil
}

// ReplayHistory is Replay for the execution the history names (WorkflowID).
func ReplayHistory(logger log.Logger, h *historypb.History) error {
	id, err := WorkflowID(h)
	if err != nil {
		return err
	}
	return Replay(logger, h, id)
}

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
