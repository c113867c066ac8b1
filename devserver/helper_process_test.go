package devserver

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

const helperEnv = "DEVSERVER_HELPER_DIR"

// TestHelperProcess is not a real test: it runs a server in a child process
// for TestDurableAcrossKill and blocks until killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	s, err := Start(context.Background(), Config{DataDir: dir, UIPort: -1})
	if err != nil {
		os.Stdout.WriteString("ERR " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("ADDR " + s.FrontendAddr() + "\n")
	s = nil
	runtime.GC() // the DataDir lock must survive the *Server becoming garbage
	select {}
}

// TestDurableAcrossKill runs the first server in another process, SIGKILLs it
// while a workflow waits, and finishes the workflow on a server in this
// process: nothing is shared but the SQLite file.
func TestDurableAcrossKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var addr string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
		if strings.HasPrefix(sc.Text(), "ERR ") {
			t.Fatalf("helper: %s", sc.Text())
		}
	}
	if addr == "" {
		t.Fatalf("helper exited without address: %v", sc.Err())
	}
	t.Logf("child process server ready after %v at %s", time.Since(begin), addr)

	c1, w1 := dialAndWork(t, &Server{frontendAddr: addr})
	const wfID = "kill-wf"
	ctx := context.Background()
	run, err := c1.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wfID, TaskQueue: taskQueue}, waitWorkflow, "k")
	if err != nil {
		t.Fatal(err)
	}
	if got := update(t, c1, wfID, 3); got != 3 {
		t.Fatalf("update = %d, want 3", got)
	}
	w1.Stop()
	c1.Close()
	if s, err := Start(ctx, Config{DataDir: dir, UIPort: -1}); err == nil || !strings.Contains(err.Error(), "locked") {
		if s != nil {
			_ = s.Stop()
		}
		t.Fatalf("Start on a DataDir used by another process: err = %v, want lock error", err)
	} else {
		t.Logf("lock error as expected: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s := startServer(t, Config{DataDir: dir, UIPort: -1})
	defer s.Stop()
	c2, w2 := dialAndWork(t, s)
	defer c2.Close()
	defer w2.Stop()
	if got := update(t, c2, wfID, 4); got != 7 {
		t.Fatalf("update after kill = %d, want 7", got)
	}
	if err := c2.SignalWorkflow(ctx, wfID, run.GetRunID(), "finish", "end"); err != nil {
		t.Fatal(err)
	}
	var result string
	getCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c2.GetWorkflow(getCtx, wfID, run.GetRunID()).Get(getCtx, &result); err != nil {
		t.Fatal(err)
	}
	if result != "k:7:end" {
		t.Fatalf("result %q, want k:7:end", result)
	}
}
