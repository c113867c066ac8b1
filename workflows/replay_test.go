package workflows_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayHistories replays every recorded history in testdata/histories
// against the current workflow code, so a change that would break running
// workflows (non-determinism) fails here. The end-to-end test against the
// embedded Temporal server exports the histories; until it has, there is
// nothing to replay.
func TestReplayHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no histories in testdata/histories: run go test ./cmd/houqin -run TestProcurementEndToEnd -args -update-histories")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			for _, w := range workflows.All() {
				r.RegisterWorkflow(w)
			}
			logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
			file, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			h, err := client.HistoryFromJSON(file, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			// The workflow checks that its input names its own workflow
			// ID, which the history's first event records (a file name
			// cannot say it: an ID may hold dots).
			id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
			if prefix := id + "."; !strings.HasPrefix(filepath.Base(f), prefix) {
				t.Errorf("%s records workflow %s; name it %s<what>.json", f, id, prefix)
			}
			err = r.ReplayWorkflowHistoryWithOptions(logger, h, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: id}})
			if err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
