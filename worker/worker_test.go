package worker_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/worker"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
)

// TestNewRegisters checks that New registers the workflows and activities:
// registering any of them again must panic as a duplicate.
func TestNewRegisters(t *testing.T) {
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := &activities.Activities{}
	w := worker.New(c, a, sdkworker.Options{})

	for name, register := range map[string]func(){
		"Procurement":    func() { w.RegisterWorkflow(workflows.Procurement) },
		"AppendEvents":   func() { w.RegisterActivity(a.AppendEvents) },
		"StockIn":        func() { w.RegisterActivity(a.StockIn) },
		"Issue":          func() { w.RegisterWorkflow(workflows.Issue) },
		"Stocktake":      func() { w.RegisterWorkflow(workflows.Stocktake) },
		"Reorder":        func() { w.RegisterWorkflow(workflows.Reorder) },
		"IssueStock":     func() { w.RegisterActivity(a.IssueStock) },
		"AdjustStock":    func() { w.RegisterActivity(a.AdjustStock) },
		"TriggerReorder": func() { w.RegisterActivity(a.TriggerReorder) },
		"PrepareReorder": func() { w.RegisterActivity(a.PrepareReorder) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "already registered") {
					t.Errorf("registering %s again: panic %v, want \"already registered\" (New did not register it)", name, r)
				}
			}()
			register()
		})
	}
}
