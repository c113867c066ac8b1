package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildHouqin builds the houqin binary once per test run.
func buildHouqin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "houqin")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startWorker runs `houqin worker` as a separate process against dev's
// Temporal server and event store.
func startWorker(t *testing.T, bin string, d *devProcess) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "worker", "--data", d.data, "--temporal", d.temporal, "--keep-interval", "0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	return cmd
}

// TestWorkerCrash runs the worker as its own process, kills it with SIGKILL
// in the middle of a procurement — right after an action was sent, while its
// events are being appended — starts a new worker, and expects the process
// to complete with every event exactly once.
func TestWorkerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds houqin and starts an embedded Temporal server")
	}
	bin := buildHouqin(t)
	d := startDev(t, "--worker=false")
	w := startWorker(t, bin, d)

	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	id := created["id"].(string)
	task := d.pendingTask(t, "liu.yang", id, created["position"])

	// Kill the worker while the approval is in flight: the update is
	// accepted by the server, but its events may or may not be stored yet.
	approved := make(chan error, 1)
	go func() {
		code, out := d.do(t, "liu.yang", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "同意"})
		if code != 200 {
			approved <- fmt.Errorf("approve = %d %v", code, out)
			return
		}
		approved <- nil
	}()
	time.Sleep(20 * time.Millisecond)
	if err := w.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	w.Wait()
	startWorker(t, bin, d)
	if err := <-approved; err != nil {
		// The update was lost with the worker before it was accepted: the
		// client sees an error and retries, as API clients must.
		t.Logf("approve during the crash: %v; retrying", err)
		d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	}
	finishProcurement(t, d, id)
	events := checkStream(t, d.data, id)
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	if n := strings.Count(strings.Join(types, " "), "procurement.approved"); n != 1 {
		t.Fatalf("procurement.approved appears %d times: %v", n, types)
	}
}

// finishProcurement completes an approved procurement as li.na.
func finishProcurement(t *testing.T, d *devProcess, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	steps := []map[string]any{
		{"supplier": "得力办公", "lines": []map[string]any{{"name": "A4 paper", "quantity": 20, "unit_price": 4400}, {"name": "签字笔", "quantity": 50, "unit_price": 280}}},
		{"lines": []map[string]any{{"name": "A4 paper", "quantity": 20}, {"name": "签字笔", "quantity": 50}}},
		{"number": "DL-0001", "amount": 102000}, // record_invoice
		{},
	}
	pos := any(0)
	for _, data := range steps {
		var task map[string]any
		for task == nil && ctx.Err() == nil {
			out := d.must(t, 200, "li.na", "GET", fmt.Sprintf("/v1/tasks?assignee=me&status=pending&min_position=%v", pos), nil)
			for _, it := range out["items"].([]any) {
				if it.(map[string]any)["process_id"] == id {
					task = it.(map[string]any)
				}
			}
			if task == nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if task == nil {
			t.Fatalf("no pending task for li.na on %s", id)
		}
		out := d.must(t, 200, "li.na", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": data})
		pos = out["position"]
	}
	p := d.must(t, 200, "wang.fang", "GET", fmt.Sprintf("/v1/processes/%s?min_position=%v", id, pos), nil)
	if p["status"] != "completed" {
		t.Fatalf("process = %v, want completed", p["status"])
	}
}
