// Package worker builds the Temporal worker that runs houqin's workflows and
// activities on workflows.TaskQueue.
package worker

import (
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// New returns a worker polling workflows.TaskQueue through c, with every
// workflow and the activities of a registered. The caller starts and stops
// it (Start/Stop, or Run).
func New(c client.Client, a *activities.Activities, opts worker.Options) worker.Worker {
	w := worker.New(c, workflows.TaskQueue, opts)
	for _, wf := range workflows.All() {
		w.RegisterWorkflow(wf)
	}
	w.RegisterActivity(a)
	return w
}
