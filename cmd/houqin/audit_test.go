package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/audit"
	"github.com/houqin/houqin/postgres"
)

// runErr runs a command that must fail and returns its error and stdout.
func runErr(t *testing.T, args ...string) (error, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), args, &stdout, &stderr)
	if err == nil {
		t.Fatalf("houqin %s succeeded, want an error; stdout:\n%s", strings.Join(args, " "), stdout.String())
	}
	return err, stdout.String()
}

// rawDB opens the database behind an events DSN for tampering.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	var (
		db  *sql.DB
		err error
	)
	if isPostgres(dsn) {
		db, err = postgres.OpenReadModels(context.Background(), dsn)
	} else {
		db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite://")+"?_pragma=busy_timeout(10000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestAuditVerifyCLI: audit anchor, audit verify, and the exit status and
// message when a whole stream is deleted, on SQLite and PostgreSQL.
func TestAuditVerifyCLI(t *testing.T) {
	eachDSN(t, func(t *testing.T, events, _ string) {
		seed(t, events, 6)
		if err, _ := runErr(t, "audit", "anchor", "--events", "sqlite://"+filepath.Join(t.TempDir(), "empty.db")); houqin.ErrorCode(err) != houqin.EINVALID {
			t.Fatalf("anchor of an empty store: %v, want EINVALID", err)
		}
		out, _ := run(t, "audit", "anchor", "--events", events)
		if !strings.Contains(out, "appended anchor 1: 3 streams") {
			t.Fatalf("audit anchor = %q", out)
		}
		hash, _ := run(t, "audit", "anchor", "--events", events, "--print")
		if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(hash) {
			t.Fatalf("audit anchor --print = %q, want one hash", hash)
		}
		out, _ = run(t, "audit", "verify", "--events", events, "--anchor", strings.TrimSpace(hash))
		if !strings.Contains(out, "ok: 7 events in 4 streams") || !strings.Contains(out, "anchor 1 ") {
			t.Fatalf("audit verify = %q", out)
		}
		if _, err := rawDB(t, events).Exec(`DELETE FROM events WHERE stream = 'procurement-PR-2026-000001'`); err != nil {
			t.Fatal(err)
		}
		err, out := runErr(t, "audit", "verify", "--events", events)
		if !strings.Contains(err.Error(), "first broken: stream procurement-PR-2026-000001 version 1") || !strings.Contains(out, "stream is missing") {
			t.Fatalf("verify after deleting a stream: %v\n%s", err, out)
		}
		err, out = runErr(t, "audit", "verify", "--events", events, "--json")
		var rep audit.Report
		if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil || rep.OK || rep.Findings[0].Stream != "procurement-PR-2026-000001" {
			t.Fatalf("verify --json = %v %v\n%s", err, jerr, out)
		}
	})
}

// TestAuditReplayCLI folds a stored process up to a moment, and exports its
// trail.
func TestAuditReplayCLI(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "events.db")
	store, err := openEventStore(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	const id = "PR-2026-000003"
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	task := houqin.Task{ID: id + ".dept_approval.1", ProcessID: id, Step: "dept_approval", Assignees: []string{"liu.yang"}}
	for i, d := range []houqin.EventData{
		houqin.RequisitionSubmitted{ProcessID: id, Requester: "wang.fang", Request: houqin.ProcurementRequest{Reason: "打印纸"}},
		houqin.TaskOpened{Task: task},
		houqin.TaskCompleted{TaskID: task.ID, Action: "reject", Actor: "liu.yang", Comment: "预算不足"},
		houqin.ProcurementRejected{By: "liu.yang", Comment: "预算不足"},
	} {
		e, err := houqin.NewEvent(houqin.EventID(id, string(rune('a'+i))), d, houqin.Metadata{Actor: "x", OccurredAt: t0.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(context.Background(), houqin.ProcurementStream(id), int64(i)-1, e); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	var before, after audit.State
	out, _ := run(t, "audit", "replay", "--events", dsn, "--process", id, "--at", "2026-11-20T18:30:00+08:00") // 10:30 UTC
	if err := json.Unmarshal([]byte(out), &before); err != nil {
		t.Fatal(err)
	}
	if before.Status != houqin.StatusRunning || len(before.Tasks) != 1 || before.Tasks[0].Assignees[0] != "liu.yang" || len(before.Timeline) != 2 {
		t.Fatalf("state before the decision = %s", out)
	}
	out, _ = run(t, "audit", "replay", "--events", dsn, "--process", id)
	if err := json.Unmarshal([]byte(out), &after); err != nil {
		t.Fatal(err)
	}
	if after.Status != houqin.StatusRejected || len(after.Tasks) != 0 {
		t.Fatalf("state now = %s", out)
	}
	if err, _ := runErr(t, "audit", "replay", "--events", dsn, "--process", id, "--at", "today"); !strings.HasPrefix(houqin.ErrorMessage(err), "at:") {
		t.Fatalf("bad --at: %v", err)
	}
	if err, _ := runErr(t, "audit", "replay", "--events", dsn); !strings.HasPrefix(houqin.ErrorMessage(err), "process:") {
		t.Fatalf("no --process: %v", err)
	}
	file := filepath.Join(t.TempDir(), "trail.csv")
	run(t, "audit", "trail", "--events", dsn, "--process", id, "--format", "csv", "--out", file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) || !strings.Contains(string(b), "预算不足") || strings.Count(string(b), "\n") != 5 {
		t.Fatalf("trail csv = %q", b)
	}
}

// TestReplayCLI replays the recorded histories, and fails (exit 1) on a
// history whose workflow ID the code does not accept.
func TestReplayCLI(t *testing.T) {
	dir := filepath.Join("..", "..", "workflows", "testdata", "histories")
	out, _ := run(t, "replay", "--dir", dir)
	if !strings.Contains(out, "ok   ") || strings.Contains(out, "FAIL") {
		t.Fatalf("replay --dir = %q", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	run(t, "replay", "--file", files[0])
	// A survey of liu.yang: its workflow ID has a dot, which the replay
	// takes from the history (a file name cut at its first dot would say
	// SV-EV-2026-000001-liu and fail).
	run(t, "replay", "--file", filepath.Join(dir, "SV-EV-2026-000001-liu.yang.answered.json"))
	// The same history of another workflow ID: the workflow refuses the
	// input (it names another process), so the code no longer makes the
	// recorded decisions. A file's name does not matter.
	b, err := os.ReadFile(filepath.Join(dir, "PR-2026-000001.invoiced.json"))
	if err != nil {
		t.Fatal(err)
	}
	started := regexp.MustCompile(`"workflowId":\s*"PR-2026-000001"`)
	loc := started.FindIndex(b)
	if loc == nil {
		t.Fatalf("the history records no workflowId PR-2026-000001")
	}
	other := slices.Concat(b[:loc[0]], []byte(`"workflowId": "PR-2026-999999"`), b[loc[1]:])
	bad := filepath.Join(t.TempDir(), "PR-2026-000001.other-id.json")
	if err := os.WriteFile(bad, other, 0o644); err != nil {
		t.Fatal(err)
	}
	err, out = runErr(t, "replay", "--file", bad)
	if !strings.Contains(err.Error(), "NONDETERMINISTIC") || !strings.Contains(out, "FAIL") {
		t.Fatalf("replay of a mismatching history: %v\n%s", err, out)
	}
	if err, _ := runErr(t, "replay"); houqin.ErrorCode(err) != houqin.EINVALID {
		t.Fatalf("replay without a source: %v", err)
	}
}

// TestAuditEndToEnd runs houqin dev with a short anchor interval, walks a
// procurement, and audits it: anchors cover its stream, the trail and
// verification answer over HTTP, and its Temporal history exports and
// replays against the current code.
func TestAuditEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t, "--anchor-interval", "100ms")
	id := runProcurement(t, d)
	events := checkStream(t, d.data, id)

	t.Run("anchored by houqin dev", func(t *testing.T) {
		store, err := openEventStore(context.Background(), "sqlite://"+filepath.Join(d.data, "events.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, heads, err := audit.LatestAnchor(context.Background(), store)
			if err != nil {
				t.Fatal(err)
			}
			covered := false
			for _, h := range heads {
				covered = covered || (h.Stream == houqin.ProcurementStream(id) && h.Version == events[len(events)-1].Version)
			}
			if covered {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no anchor covers %s after 30s: %+v", id, heads)
			}
			time.Sleep(50 * time.Millisecond)
		}
		out, _ := run(t, "audit", "verify", "--data", d.data)
		if !strings.Contains(out, "ok: ") || !strings.Contains(out, "anchor ") {
			t.Fatalf("audit verify = %q", out)
		}
	})
	t.Run("http", func(t *testing.T) {
		trail := d.must(t, 200, "huang.xin", "GET", "/v1/processes/"+id+"/audit", nil)
		if trail["chain_ok"] != true || len(trail["events"].([]any)) != len(events) {
			t.Fatalf("trail = %v", trail)
		}
		approval := "" // when liu.yang decided: his task.completed
		for _, e := range trail["events"].([]any) {
			if m := e.(map[string]any); m["type"] == "task.completed" && m["actor"] == "liu.yang" {
				approval = m["occurred_at"].(string)
			}
		}
		at, err := time.Parse(time.RFC3339Nano, approval)
		if err != nil {
			t.Fatal(err)
		}
		past := d.must(t, 200, "liu.yang", "GET", "/v1/processes/"+id+"?as_of="+at.Add(-time.Microsecond).Format(time.RFC3339Nano), nil)
		tasks := past["tasks"].([]any)
		if len(tasks) != 1 || tasks[0].(map[string]any)["step"] != "dept_approval" {
			t.Fatalf("what liu.yang saw before approving: %v", past)
		}
		rep := d.must(t, 200, "huang.xin", "GET", "/v1/audit/verify", nil)
		if rep["ok"] != true {
			t.Fatalf("verify = %v", rep)
		}
		d.must(t, 403, "wang.fang", "GET", "/v1/audit/verify", nil)
	})
	t.Run("history export and replay", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), id+".exported.json")
		run(t, "history", "export", "--address", d.temporal, "--workflow-id", id, "--out", file)
		out, _ := run(t, "replay", "--file", file)
		if !strings.Contains(out, "ok   "+file) {
			t.Fatalf("replay --file = %q", out)
		}
		out, _ = run(t, "replay", "--address", d.temporal, "--workflow-id", id)
		if !strings.HasPrefix(out, "ok: "+id) {
			t.Fatalf("replay --workflow-id = %q", out)
		}
	})
}
