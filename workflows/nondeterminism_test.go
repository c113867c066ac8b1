package workflows_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// changedProcurement is the procurement workflow with a change that was not
// put behind workflow.GetVersion: it waits a minute before doing what the
// recorded history says it did first (append the requisition).
func changedProcurement(ctx workflow.Context, in workflows.ProcurementInput) (workflows.ProcurementResult, error) {
	if err := workflow.Sleep(ctx, time.Minute); err != nil {
		return workflows.ProcurementResult{}, err
	}
	return workflows.Procurement(ctx, in)
}

// TestReplayCatchesNondeterminism proves the replay check works: a recorded
// history replays against the real workflow, and the same history against
// the changed copy registered under the same name fails with Temporal's
// non-determinism error.
func TestReplayCatchesNondeterminism(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "PR-*.json")) // procurement histories: changedProcurement replays them
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded procurement histories: %v", err)
	}
	f := files[0]
	id, _, _ := strings.Cut(filepath.Base(f), ".")
	logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	replay := func(register func(worker.WorkflowReplayer)) error {
		file, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		h, err := client.HistoryFromJSON(file, client.HistoryJSONOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := worker.NewWorkflowReplayer()
		register(r)
		return r.ReplayWorkflowHistoryWithOptions(logger, h, worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}})
	}
	if err := replay(func(r worker.WorkflowReplayer) {
		for _, w := range workflows.All() {
			r.RegisterWorkflow(w)
		}
	}); err != nil {
		t.Fatalf("the current code must replay %s: %v", f, err)
	}
	err = replay(func(r worker.WorkflowReplayer) {
		r.RegisterWorkflowWithOptions(changedProcurement, workflow.RegisterOptions{Name: "Procurement"})
	})
	if err == nil {
		t.Fatalf("the changed workflow replayed %s without error: the replay check is broken", f)
	}
	if !strings.Contains(err.Error(), "nondeterministic") && !strings.Contains(err.Error(), "TMPRL1100") {
		t.Fatalf("replay of the changed workflow = %v, want a non-determinism error", err)
	}
	t.Logf("caught: %v", err)
}
