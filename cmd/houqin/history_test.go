package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/houqin/houqin/worker"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"
)

var updateHistories = flag.Bool("update-histories", false, "write the e2e workflow histories to workflows/testdata/histories")

// exportHistory fetches a finished workflow's history from the dev server
// and replays it against the current workflow code (a non-deterministic
// change fails here). With -update-histories it also stores it as
// workflows/testdata/histories/<workflow ID>.<name>.json for the workflows
// package's replay test.
func exportHistory(t *testing.T, d *devProcess, workflowID, name string) {
	t.Helper()
	ctx := context.Background()
	c := temporalClient(t, d)
	quiet := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	var h historypb.History
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	if err := worker.Replay(quiet, &h, workflowID); err != nil {
		t.Fatal(err)
	}
	if *updateHistories {
		b, err := protojson.MarshalOptions{Indent: " "}.Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "workflows", "testdata", "histories", workflowID+"."+name+".json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// temporalClient dials the dev server's Temporal frontend, quietly; the
// test closes it.
func temporalClient(t *testing.T, d *devProcess) client.Client {
	t.Helper()
	quiet := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	c, err := client.DialContext(context.Background(), client.Options{HostPort: d.temporal, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
