package main

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin/devserver"
	"github.com/houqin/houqin/worker"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
)

// TestSearchAttributesEndToEnd: an operator finds processes in Temporal's
// visibility by their business keys. wang.fang has one procurement
// running and one withdrawn, zhao.lei one running; the query
// Requester='wang.fang' AND BusinessStatus='running' finds exactly hers
// that runs, and its workflow carries its department, amount, current step,
// needed-by date and a one-line summary.
func TestSearchAttributesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	c := temporalClient(t, d)
	ctx := context.Background()

	running := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)["id"].(string)
	withdrawn := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)["id"].(string)
	d.must(t, 200, "wang.fang", "POST", "/v1/processes/"+withdrawn+"/withdraw", map[string]any{})
	hr := maps.Clone(requisition)
	hr["department"] = "HR"
	other := d.must(t, 201, "zhao.lei", "POST", "/v1/procurements", hr)["id"].(string)

	// Visibility is eventually consistent: wait until each query answers as
	// expected, or report what it last found.
	find := func(query string, want ...string) {
		t.Helper()
		var got []string
		for deadline := time.Now().Add(15 * time.Second); ; {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			got = nil
			for _, e := range resp.GetExecutions() {
				got = append(got, e.GetExecution().GetWorkflowId())
			}
			slices.Sort(got)
			if slices.Equal(got, want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s found %v, want %v", query, got, want)
		}
	}
	find("Requester='wang.fang' AND BusinessStatus='running'", running)
	find("Requester='wang.fang' AND BusinessStatus='withdrawn'", withdrawn)
	find("ProcessKind='procurement' AND Department='HR'", other)
	find("CurrentStep='dept_approval' AND AmountFen=105000 AND NeededBy >= '2026-12-15T00:00:00+08:00' AND NeededBy < '2026-12-16T00:00:00+08:00'",
		slices.Sorted(slices.Values([]string{running, other}))...)
	find("NeededBy < '2026-12-15T00:00:00+08:00'") // needed by the start of 15 December, not before

	desc, err := c.DescribeWorkflowExecution(ctx, running, "")
	if err != nil {
		t.Fatal(err)
	}
	var summary string
	if err := converter.GetDefaultDataConverter().FromPayload(desc.GetExecutionConfig().GetUserMetadata().GetSummary(), &summary); err != nil {
		t.Fatal(err)
	}
	if summary != "采购申请 · 王芳 · ¥1050.00" {
		t.Errorf("summary %q", summary)
	}
	exportHistory(t, d, withdrawn, "search-attributes")

	// An ended process has no current step left.
	ended, err := c.DescribeWorkflowExecution(ctx, withdrawn, "")
	if err != nil {
		t.Fatal(err)
	}
	fields := ended.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	if _, ok := fields[workflows.SearchCurrentStep.GetName()]; ok {
		t.Errorf("withdrawn %s still has a current step", withdrawn)
	}
	if _, ok := fields[workflows.SearchRequester.GetName()]; !ok {
		t.Errorf("withdrawn %s search attributes %v lack its requester", withdrawn, slices.Collect(maps.Keys(fields)))
	}
}

// TestSearchAttributesOnACluster: a worker refuses a namespace that lacks
// the business search attributes, naming them and the command that
// registers them; after 'houqin search-attributes' (twice: it is
// idempotent) it has them all.
func TestSearchAttributesOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	ctx := context.Background()
	s, err := devserver.Start(ctx, devserver.Config{DataDir: t.TempDir(), UIPort: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	var out, errs bytes.Buffer
	err = Run(ctx, []string{"worker", "--data", t.TempDir(), "--temporal", s.FrontendAddr(), "--http", "127.0.0.1:0"}, &out, &errs)
	want := "namespace default lacks the search attributes AmountFen, BusinessStatus, CurrentStep, Department, NeededBy, ProcessKind, Requester, Subject: run 'houqin search-attributes"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("worker on a bare namespace: %v, want %q", err, want)
	}
	for range 2 {
		out.Reset()
		if err := Run(ctx, []string{"search-attributes", "--address", s.FrontendAddr()}, &out, &errs); err != nil {
			t.Fatalf("search-attributes: %v\n%s", err, errs.String())
		}
	}
	if !strings.Contains(out.String(), "AmountFen       Int") || !strings.Contains(out.String(), "namespace default has houqin's search attributes") {
		t.Errorf("search-attributes printed %q", out.String())
	}
	c := temporalClient(t, &devProcess{temporal: s.FrontendAddr()})
	if err := worker.CheckSearchAttributes(ctx, c, "default"); err != nil {
		t.Errorf("after registering: %v", err)
	}
}
