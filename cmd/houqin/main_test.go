package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/postgres/pgtest"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/storetest"
)

// seed appends events to the store a DSN names and returns them as stored.
func seed(t *testing.T, dsn string, n int) []houqin.Event {
	t.Helper()
	s, err := openEventStore(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []houqin.Event
	for i := range n {
		out = append(out, storetest.MustAppend(t, s, fmt.Sprintf("procurement-PR-2026-%06d", i%3), houqin.ExpectAny, storetest.NewEvents(1)...)...)
	}
	return out
}

func run(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("houqin %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// eachDSN runs fn with an events DSN and a read-model DSN on SQLite and, if
// available, PostgreSQL.
func eachDSN(t *testing.T, fn func(t *testing.T, events, readmodels string)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		fn(t, "sqlite://"+filepath.Join(dir, "events.db"), "sqlite://"+filepath.Join(dir, "readmodels.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.MustDSN(t)
		fn(t, dsn, dsn)
	})
}

func TestEventsTail(t *testing.T) {
	eachDSN(t, func(t *testing.T, events, _ string) {
		want := seed(t, events, 7)
		out, _ := run(t, "events", "tail", "--events", events, "--from", fmt.Sprint(want[1].Position))
		var got []houqin.Event
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			e, err := houqin.DecodeEvent([]byte(line))
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			got = append(got, e)
		}
		if diff := cmp.Diff(want[2:], got); diff != "" {
			t.Fatalf("tail --from %d (-want +got):\n%s", want[1].Position, diff)
		}
	})
}

func TestEventsTailFollow(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite://" + filepath.Join(dir, "events.db")
	seed(t, dsn, 2)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error)
	go func() {
		done <- Run(ctx, []string{"events", "tail", "--follow", "--events", dsn}, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	for range 2 {
		if !lines.Scan() {
			t.Fatal("tail --follow ended early")
		}
	}
	more := seed(t, dsn, 1) // another process appends: found by polling
	if !lines.Scan() {
		t.Fatal("tail --follow did not print the new event")
	}
	e, err := houqin.DecodeEvent(lines.Bytes())
	if err != nil || e.ID != more[0].ID {
		t.Fatalf("followed event = %v, %v; want %s", e.ID, err, more[0].ID)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestProjectionsRebuildAndShow(t *testing.T) {
	eachDSN(t, func(t *testing.T, events, readmodels string) {
		seed(t, events, 9)
		out, _ := run(t, "projections", "rebuild", "--events", events, "--readmodels", readmodels, "event_counts")
		if !strings.Contains(out, "rebuilt event_counts: 9/9 events (100.0%)") || !strings.Contains(out, "events/s") {
			t.Fatalf("rebuild output:\n%s", out)
		}
		out, _ = run(t, "projections", "show", "--readmodels", readmodels, "event_counts")
		var row struct {
			Category string
			Type     string
			Events   int64
		}
		if err := json.Unmarshal([]byte(out), &row); err != nil {
			t.Fatalf("show output %q: %v", out, err)
		}
		if row.Category != "procurement" || row.Type != "test.happened" || row.Events != 9 {
			t.Fatalf("show = %+v, want procurement test.happened 9", row)
		}
		out, _ = run(t, "projections", "list", "--events", events, "--readmodels", readmodels)
		if !strings.Contains(out, "event_counts") || !strings.Contains(out, "lag 0") {
			t.Fatalf("list output:\n%s", out)
		}
	})
}

func TestEventsVerify(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	seed(t, "sqlite://"+path, 10)
	out, _ := run(t, "events", "verify", "--data", dir)
	if !strings.Contains(out, "ok: 10 events in 3 streams") {
		t.Fatalf("verify output: %s", out)
	}
	// Alter one payload behind the store's back: verify must find it.
	db, err := sqlite.OpenReadModels(path) // any read-write handle on the file
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET data = '{"n":42}' WHERE position = 5`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = Run(context.Background(), []string{"events", "verify", "--data", dir}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "TAMPERED") || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("verify of a tampered log = %v, want TAMPERED … altered", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	err := Run(context.Background(), []string{"frobnicate"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("Run(frobnicate) = %v, want an error naming it", err)
	}
	err = Run(context.Background(), []string{"events", "tail", "--events", "mysql://x"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DSN") {
		t.Fatalf("bad DSN = %v, want an error about the DSN", err)
	}
}

func TestDev(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error)
	go func() {
		done <- Run(ctx, []string{"dev", "--data", dir, "--http", "127.0.0.1:0", "--temporal-port", "0", "--ui-port", "-1"}, pw, io.Discard)
		pw.Close()
	}()
	var url string
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "api: "); ok {
			url = u
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		t.Fatal("houqin dev printed no api: line")
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get("/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s after 10s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// An append by the dev process's store reaches the projection and metrics.
	seed(t, "sqlite://"+filepath.Join(dir, "events.db"), 4)
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, body := get("/metrics")
		if strings.Contains(body, `houqin_projection_position{projection="event_counts"} 4`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("projection position did not reach 4 in /metrics:\n%s", grep(body, "houqin_"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("houqin dev: %v", err)
	}
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestBadPolicyRefused checks that houqin dev refuses to start on a bad
// policy file, naming the file, the process kind and the step.
func TestBadPolicyRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	bad := "version: 1\nprocesses:\n  procurement:\n    steps:\n      - id: finance_review\n        name: {zh: 财务, en: Finance}\n        approvers: [\"role:finance\"]\n        when: amount > 5\n"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), []string{"dev", "--data", t.TempDir(), "--policy", path}, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("houqin dev started on a bad policy")
	}
	for _, want := range []string{path, "procurement", "step finance_review", "when:", "amount"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
