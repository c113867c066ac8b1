package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
)

// TestHistoryKeptPastRetention: with a retention of seconds, Temporal
// deletes a withdrawn procurement's history; houqin kept a copy first, its
// SHA-256 on the process's stream, and `houqin replay --workflow-id`
// replays the copy. A copy changed afterwards is refused as tampered.
func TestHistoryKeptPastRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t, "--retention", "3s", "--keep-interval", "200ms")
	id := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)["id"].(string)
	d.must(t, 200, "wang.fang", "POST", "/v1/processes/"+id+"/withdraw", map[string]any{})

	var kept map[string]any
	for deadline := time.Now().Add(30 * time.Second); kept == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id, nil)["timeline"].([]any) {
			if ev := e.(map[string]any); ev["type"] == "process.history_kept" {
				kept = ev["data"].(map[string]any)
			}
		}
	}
	if kept == nil {
		t.Fatal("no process.history_kept within 30 s")
	}
	file := filepath.Join(d.data, "histories", filepath.FromSlash(kept["file"].(string)))
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("kept copy: %v", err)
	}

	// Temporal deletes the history once the retention has passed.
	c := temporalClient(t, d)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		_, err := c.DescribeWorkflowExecution(context.Background(), id, "")
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Temporal still has %s 60 s after it closed with a 3 s retention (%v)", id, err)
		}
	}

	replay := func() (string, error) {
		var out, errs bytes.Buffer
		err := Run(context.Background(), []string{"replay", "--workflow-id", id, "--address", d.temporal, "--data", d.data}, &out, &errs)
		return out.String(), err
	}
	out, err := replay()
	if err != nil {
		t.Fatalf("replay after retention: %v", err)
	}
	if !strings.Contains(out, "ok: "+id) || !strings.Contains(out, "the copy kept in") || !strings.Contains(out, kept["sha256"].(string)) {
		t.Errorf("replay printed %q", out)
	}

	// Rounds went on meanwhile (every 200 ms, each listing again the last
	// minute's closes): the run was kept once.
	n := 0
	for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id, nil)["timeline"].([]any) {
		if e.(map[string]any)["type"] == "process.history_kept" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d process.history_kept events, want 1", n)
	}

	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// protojson varies its spacing on purpose: match any.
	changed := regexp.MustCompile(`"eventId":\s*"1"`).ReplaceAll(b, []byte(`"eventId": "7"`))
	if bytes.Equal(changed, b) {
		t.Fatalf("the kept copy has no first event: %.200s", b)
	}
	if err := os.WriteFile(file, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := replay(); err == nil || !strings.Contains(err.Error(), "TAMPERED") {
		t.Errorf("replay of a changed copy: %v, want TAMPERED", err)
	}
}
