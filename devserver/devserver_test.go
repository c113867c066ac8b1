package devserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

const taskQueue = "devserver-test"

// waitWorkflow accumulates values sent by the "add" update and completes
// when it receives the "finish" signal.
func waitWorkflow(ctx workflow.Context, prefix string) (string, error) {
	total := 0
	if err := workflow.SetUpdateHandler(ctx, "add", func(ctx workflow.Context, n int) (int, error) {
		total += n
		return total, nil
	}); err != nil {
		return "", err
	}
	var suffix string
	workflow.GetSignalChannel(ctx, "finish").Receive(ctx, &suffix)
	return fmt.Sprintf("%s:%d:%s", prefix, total, suffix), nil
}

func quietSDKLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	begin := time.Now()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start() took %v (frontend %s, ui %q)", time.Since(begin), s.FrontendAddr(), s.UIAddr())
	return s
}

func dialAndWork(t *testing.T, s *Server) (client.Client, worker.Worker) {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: s.FrontendAddr(), Namespace: "default", Logger: quietSDKLogger()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(waitWorkflow)
	if err := w.Start(); err != nil {
		t.Fatalf("worker start: %v", err)
	}
	return c, w
}

func update(t *testing.T, c client.Client, wfID string, n int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   wfID,
		UpdateName:   "add",
		Args:         []any{n},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		t.Fatalf("UpdateWorkflow: %v", err)
	}
	var total int
	if err := h.Get(ctx, &total); err != nil {
		t.Fatalf("update result: %v", err)
	}
	return total
}

func TestDurableAcrossRestart(t *testing.T) {
	dir := t.TempDir()

	// 1st server: fresh file.
	s1 := startServer(t, Config{DataDir: dir, UIPort: -1})
	if s1.UIAddr() != "" {
		t.Fatalf("UIAddr = %q, want empty with UIPort -1", s1.UIAddr())
	}
	if _, err := os.Stat(filepath.Join(dir, DBFileName)); err != nil {
		t.Fatalf("db file: %v", err)
	}
	port1 := s1.FrontendAddr()[strings.LastIndex(s1.FrontendAddr(), ":")+1:]

	c1, w1 := dialAndWork(t, s1)
	const wfID = "restart-wf"
	ctx := context.Background()
	run, err := c1.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wfID, TaskQueue: taskQueue}, waitWorkflow, "hello")
	if err != nil {
		t.Fatalf("ExecuteWorkflow: %v", err)
	}
	if got := update(t, c1, wfID, 5); got != 5 {
		t.Fatalf("first update = %d, want 5", got)
	}
	w1.Stop()
	c1.Close()
	begin := time.Now()
	if err := s1.Stop(); err != nil {
		t.Fatalf("Stop 1: %v", err)
	}
	t.Logf("Stop() took %v", time.Since(begin))

	// 2nd server: same file, same frontend port (reused right after stop), with UI.
	var port int
	fmt.Sscan(port1, &port)
	s2 := startServer(t, Config{DataDir: dir, Port: port})
	defer func() {
		if err := s2.Stop(); err != nil {
			t.Errorf("Stop 2: %v", err)
		}
	}()
	if s2.FrontendAddr() != s1.FrontendAddr() {
		t.Fatalf("frontend %s, want %s", s2.FrontendAddr(), s1.FrontendAddr())
	}
	c2, w2 := dialAndWork(t, s2)
	defer c2.Close()
	defer w2.Stop()

	// The workflow state (total=5) must come back from history.
	if got := update(t, c2, wfID, 7); got != 12 {
		t.Fatalf("update after restart = %d, want 12", got)
	}
	if err := c2.SignalWorkflow(ctx, wfID, run.GetRunID(), "finish", "bye"); err != nil {
		t.Fatalf("SignalWorkflow: %v", err)
	}
	var result string
	getCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c2.GetWorkflow(getCtx, wfID, run.GetRunID()).Get(getCtx, &result); err != nil {
		t.Fatalf("workflow result: %v", err)
	}
	if result != "hello:12:bye" {
		t.Fatalf("result %q, want hello:12:bye", result)
	}

	// Web UI on the restarted server.
	base := "http://" + s2.UIAddr()
	body := httpGet(t, base+"/")
	if !strings.Contains(strings.ToLower(body), "<html") {
		t.Fatalf("UI / does not look like HTML: %.200s", body)
	}
	body = httpGet(t, base+"/api/v1/namespaces/default")
	var ns struct {
		NamespaceInfo struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"namespaceInfo"`
	}
	if err := json.Unmarshal([]byte(body), &ns); err != nil || ns.NamespaceInfo.Name != "default" {
		t.Fatalf("UI namespace API: err=%v body=%.300s", err, body)
	}
	body = httpGet(t, base+"/api/v1/namespaces/default/workflows/"+wfID)
	if !strings.Contains(body, "WORKFLOW_EXECUTION_STATUS_COMPLETED") {
		t.Fatalf("UI workflow API does not show completion: %.300s", body)
	}
}

func TestOtherNamespaceOnExistingFile(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Config{DataDir: dir, UIPort: -1})
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, Config{DataDir: dir, UIPort: -1, Namespace: "second"})
	defer s.Stop()
	c, err := client.Dial(client.Options{HostPort: s.FrontendAddr(), Namespace: "second", Logger: quietSDKLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, name := range []string{"default", "second"} {
		if _, err := c.WorkflowService().DescribeNamespace(context.Background(), describeNS(name)); err != nil {
			t.Fatalf("namespace %s: %v", name, err)
		}
	}
}

func TestPortInUse(t *testing.T) {
	s := startServer(t, Config{DataDir: t.TempDir(), UIPort: -1})
	defer s.Stop()
	port := s.FrontendAddr()[strings.LastIndex(s.FrontendAddr(), ":")+1:]
	var p int
	fmt.Sscan(port, &p)
	if _, err := Start(context.Background(), Config{DataDir: t.TempDir(), Port: p, UIPort: -1}); err == nil {
		t.Fatal("Start on a busy port succeeded")
	} else {
		t.Logf("busy port error: %v", err)
	}
}

func TestSameDataDirTwice(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Config{DataDir: dir, UIPort: -1})
	defer s.Stop()
	if _, err := Start(context.Background(), Config{DataDir: dir, UIPort: -1}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Start on same DataDir: err = %v", err)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %.300s", url, resp.StatusCode, b)
	}
	return string(b)
}

func describeNS(name string) *workflowservice.DescribeNamespaceRequest {
	return &workflowservice.DescribeNamespaceRequest{Namespace: name}
}

// TestRetention: the namespace keeps closed histories a year by default,
// and an existing namespace takes the configured retention at start.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	retention := func(s *Server) time.Duration {
		t.Helper()
		c, err := client.Dial(client.Options{HostPort: s.FrontendAddr(), Logger: quietSDKLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		d, err := c.WorkflowService().DescribeNamespace(context.Background(), describeNS("default"))
		if err != nil {
			t.Fatal(err)
		}
		return d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	}
	s := startServer(t, Config{DataDir: dir, UIPort: -1})
	if got := retention(s); got != DefaultRetention {
		t.Errorf("retention %s, want %s", got, DefaultRetention)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, Config{DataDir: dir, UIPort: -1, Retention: 3 * 365 * 24 * time.Hour})
	defer s.Stop()
	if got := retention(s); got != 3*365*24*time.Hour {
		t.Errorf("retention after restart %s, want three years", got)
	}
}
