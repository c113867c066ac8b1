package main

import (
	"bufio"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runPart runs a houqin command in-process until the test ends and returns
// the URL it prints on its "api: " line.
func runPart(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("houqin %s: %v", args[0], err)
		}
	})
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "api: "); ok {
			go io.Copy(io.Discard, pr)
			return u
		}
	}
	t.Fatalf("houqin %s printed no api: line", args[0])
	return ""
}

// TestSeparateParts runs `houqin projector` and `houqin api` as separate
// parts (here in-process, on their own read-model database) beside the
// embedded Temporal server and worker of a houqin dev, and takes a
// procurement through that API: the API answers min_position from the
// projector's checkpoints, not from a runner of its own.
func TestSeparateParts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	rm := "sqlite://" + filepath.Join(t.TempDir(), "readmodels.db")
	runPart(t, "projector", "--data", d.data, "--readmodels", rm, "--http", "127.0.0.1:0")
	url := runPart(t, "api", "--data", d.data, "--readmodels", rm, "--temporal", d.temporal, "--http", "127.0.0.1:0")
	api := &devProcess{url: url, data: d.data, temporal: d.temporal, key: d.key}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := api.do(t, "", "GET", "/readyz", nil); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("houqin api not ready within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	id := runProcurement(t, api)
	checkStream(t, d.data, id)
}
