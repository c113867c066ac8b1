package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/audit"
	"github.com/houqin/houqin/sqlite"
	"github.com/xuri/excelize/v2"
)

const pid = "PR-2026-000007"

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// procurementStore stores a procurement's stream as the workflow writes it
// — submitted, routed (a type this package does not know, with a routing
// explanation), approved, purchase order recorded, completed — one event a
// minute from t0, in a real SQLite store.
func procurementStore(t *testing.T) houqin.EventStore {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.OpenEventStore(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	approval := houqin.Task{ID: pid + ".dept_approval.1", ProcessID: pid, Kind: houqin.KindProcurement, Step: "dept_approval",
		Assignees: []string{"liu.yang"}, DueAt: t0.Add(24 * time.Hour), Actions: []string{"approve", "reject"}}
	po := houqin.Task{ID: pid + ".record_po.1", ProcessID: pid, Kind: houqin.KindProcurement, Step: "record_po",
		Assignees: []string{"li.na"}, DueAt: t0.Add(48 * time.Hour), Actions: []string{"complete"}}
	req := houqin.ProcurementRequest{Department: "MKT", BudgetCategory: "office_supplies", Reason: "Q1 打印纸", NeededBy: "2026-12-15",
		Items: []houqin.ProcurementItem{{Name: "A4 paper", Quantity: 20, Unit: "box", UnitPrice: 4500}}}
	type step struct {
		data  any // houqin.EventData, or raw JSON for an unknown type
		typ   string
		actor string
		onBeh string
	}
	steps := []step{
		{data: houqin.RequisitionSubmitted{ProcessID: pid, Requester: "wang.fang", Request: req, Total: 90000, Currency: "CNY"}, actor: "wang.fang"},
		{data: houqin.TaskOpened{Task: approval}, actor: "system"},
		{data: `{"task_id":"` + approval.ID + `","explanation":"金额 ¥900 ≤ ¥5000：部门负责人审批 (rule dept_head_small)"}`, typ: "approval.routed", actor: "system"},
		{data: houqin.TaskCompleted{TaskID: approval.ID, Step: "dept_approval", Action: "approve", Actor: "liu.yang", Comment: "同意"}, actor: "liu.yang", onBeh: "zhang.wei"},
		{data: houqin.ProcurementApproved{By: "liu.yang", Comment: "同意"}, actor: "liu.yang"},
		{data: houqin.TaskOpened{Task: po}, actor: "system"},
		{data: houqin.TaskCompleted{TaskID: po.ID, Step: "record_po", Action: "complete", Actor: "li.na"}, actor: "li.na"},
		{data: houqin.ProcurementCompleted{}, actor: "system"},
	}
	for i, s := range steps {
		meta := houqin.Metadata{Actor: s.actor, OnBehalfOf: s.onBeh, CorrelationID: pid, CausationID: "update-" + string(rune('a'+i)),
			WorkflowID: pid, RunID: "run-1", OccurredAt: t0.Add(time.Duration(i) * time.Minute), PolicyHash: "sha256:policy-v1", Reason: ""}
		id := houqin.EventID(pid, "run-1", string(rune('0'+i)))
		var e houqin.Event
		if raw, ok := s.data.(string); ok {
			e = houqin.Event{ID: id, Type: s.typ, Data: []byte(raw), Meta: meta}
		} else {
			var err error
			if e, err = houqin.NewEvent(id, s.data.(houqin.EventData), meta); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := store.Append(ctx, houqin.ProcurementStream(pid), int64(i)-1, e); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func TestStateAt(t *testing.T) {
	store := procurementStore(t)
	events, err := audit.ReadProcess(context.Background(), store, pid)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		status    houqin.Status
		version   int64
		tasks     []string // "id:assignee,…"
		timeline  int
		requester string
	}
	for _, tt := range []struct {
		name string
		at   time.Time
		want want
	}{
		{"before the request", t0.Add(-time.Second), want{houqin.StatusRunning, -1, nil, 0, ""}},
		{"while liu.yang decides", t0.Add(2*time.Minute + 30*time.Second), want{houqin.StatusRunning, 2, []string{pid + ".dept_approval.1:liu.yang"}, 3, "wang.fang"}},
		{"the moment he approved", t0.Add(3 * time.Minute), want{houqin.StatusRunning, 3, nil, 4, "wang.fang"}},
		{"purchase order pending", t0.Add(5 * time.Minute), want{houqin.StatusRunning, 5, []string{pid + ".record_po.1:li.na"}, 6, "wang.fang"}},
		{"after completion", t0.Add(time.Hour), want{houqin.StatusCompleted, 7, nil, 8, "wang.fang"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := audit.StateAt(pid, events, tt.at)
			var tasks []string
			for _, task := range s.Tasks {
				tasks = append(tasks, task.ID+":"+strings.Join(task.Assignees, ","))
			}
			got := want{s.Status, s.Version, tasks, len(s.Timeline), s.Requester}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Fatalf("state at %s (-want +got):\n%s", tt.at, diff)
			}
			if s.Version >= 0 && !strings.Contains(string(s.Request), "Q1 打印纸") {
				t.Fatalf("request = %s, want the submitted request", s.Request)
			}
		})
	}
	if got := audit.Participants(events); !cmp.Equal(got, []string{"li.na", "liu.yang", "wang.fang"}) {
		t.Fatalf("participants = %v", got)
	}
}

func TestTrailExports(t *testing.T) {
	store := procurementStore(t)
	events, err := audit.ReadProcess(context.Background(), store, pid)
	if err != nil {
		t.Fatal(err)
	}
	trail := audit.NewTrail(pid, events)
	if !trail.ChainOK || len(trail.Events) != 8 {
		t.Fatalf("trail: chain ok %v (%s), %d events", trail.ChainOK, trail.ChainError, len(trail.Events))
	}
	approved := trail.Events[3]
	if approved.Actor != "liu.yang" || approved.OnBehalfOf != "zhang.wei" || approved.Comment != "同意" ||
		approved.PolicyHash != "sha256:policy-v1" || approved.CausationID != "update-d" || !approved.OccurredAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("approval entry = %+v", approved)
	}
	const explanation = "金额 ¥900 ≤ ¥5000：部门负责人审批 (rule dept_head_small)"
	var ex string
	if err := json.Unmarshal(trail.Events[2].Explanation, &ex); err != nil || ex != explanation {
		t.Fatalf("explanation = %s, %v", trail.Events[2].Explanation, err)
	}

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		if err := trail.Write(&buf, "json"); err != nil {
			t.Fatal(err)
		}
		var back audit.Trail
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if back.Events[3].OnBehalfOf != "zhang.wei" || back.Stream != "procurement-"+pid {
			t.Fatalf("round trip = %+v", back)
		}
	})
	t.Run("jsonl", func(t *testing.T) {
		var buf bytes.Buffer
		if err := trail.Write(&buf, "jsonl"); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 8 || !strings.Contains(lines[2], explanation) {
			t.Fatalf("jsonl = %d lines: %s", len(lines), lines[2])
		}
	})
	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := trail.Write(&buf, "csv"); err != nil {
			t.Fatal(err)
		}
		b, ok := bytes.CutPrefix(buf.Bytes(), []byte("\xef\xbb\xbf"))
		if !ok {
			t.Fatal("csv lacks the UTF-8 byte order mark Excel needs")
		}
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 9 || rows[0][0] != "position" {
			t.Fatalf("csv = %d rows, header %v", len(rows), rows[0])
		}
		col := map[string]int{}
		for i, c := range rows[0] {
			col[c] = i
		}
		if r := rows[3]; r[col["explanation"]] != explanation || r[col["type"]] != "approval.routed" {
			t.Fatalf("csv row 3 = %v", r)
		}
		if r := rows[4]; r[col["comment"]] != "同意" || r[col["on_behalf_of"]] != "zhang.wei" {
			t.Fatalf("csv row 4 = %v", r)
		}
	})
	t.Run("xlsx", func(t *testing.T) {
		var buf bytes.Buffer
		if err := trail.Write(&buf, "xlsx"); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("Audit")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 9 || rows[0][4] != "type" || rows[3][11] != explanation || rows[4][10] != "同意" {
			t.Fatalf("xlsx rows = %v", rows)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		err := trail.Write(&bytes.Buffer{}, "pdf")
		if houqin.ErrorCode(err) != houqin.EINVALID || !strings.HasPrefix(houqin.ErrorMessage(err), "format:") {
			t.Fatalf("pdf = %v, want EINVALID naming format", err)
		}
	})
}

func TestProcessStream(t *testing.T) {
	if s, err := audit.ProcessStream(pid); err != nil || s != "procurement-"+pid {
		t.Fatalf("ProcessStream = %q, %v", s, err)
	}
	if _, err := audit.ProcessStream("XX-1"); houqin.ErrorCode(err) != houqin.EINVALID {
		t.Fatalf("XX-1: %v, want EINVALID", err)
	}
	store := procurementStore(t)
	if _, err := audit.ReadProcess(context.Background(), store, "PR-2026-999999"); houqin.ErrorCode(err) != houqin.ENOTFOUND {
		t.Fatalf("unknown process: %v, want ENOTFOUND", err)
	}
}

// TestStateAtGenericTaskEvents: events this package has no type for — a
// transfer carrying the new assignees, a comment, a withdrawal by the
// approval engine — are folded by their shape, and appear in the timeline.
func TestStateAtGenericTaskEvents(t *testing.T) {
	task := `{"task":{"id":"` + pid + `.dept_approval.1","process_id":"` + pid + `","step":"dept_approval","assignees":["liu.yang"]}}`
	raw := []struct{ typ, data string }{
		{"procurement.requisition_submitted", `{"process_id":"` + pid + `","requester":"wang.fang","request":{"reason":"x"}}`},
		{"task.opened", task},
		{"task.commented", `{"task_id":"` + pid + `.dept_approval.1","by":"wang.fang","comment":"急"}`},
		{"task.transferred", `{"task_id":"` + pid + `.dept_approval.1","from":"liu.yang","to":"zhang.wei","assignees":["zhang.wei"]}`},
		{"process.withdrawn", `{"by":"wang.fang"}`},
	}
	var events []houqin.Event
	for i, r := range raw {
		events = append(events, houqin.Event{Stream: houqin.ProcurementStream(pid), Version: int64(i), Position: int64(i + 1),
			Type: r.typ, Data: []byte(r.data), Meta: houqin.Metadata{OccurredAt: t0.Add(time.Duration(i) * time.Minute)}})
	}
	for _, tt := range []struct {
		at        time.Duration
		status    houqin.Status
		assignees string
	}{
		{2 * time.Minute, houqin.StatusRunning, "liu.yang"},
		{3 * time.Minute, houqin.StatusRunning, "zhang.wei"},
		{4 * time.Minute, houqin.StatusWithdrawn, ""},
	} {
		s := audit.StateAt(pid, events, t0.Add(tt.at))
		var got []string
		for _, task := range s.Tasks {
			got = append(got, strings.Join(task.Assignees, ","))
		}
		if s.Status != tt.status || strings.Join(got, ";") != tt.assignees || len(s.Timeline) != int(tt.at/time.Minute)+1 {
			t.Errorf("at +%s: status %s, open tasks' assignees %q, %d timeline entries; want %s, %q, %d",
				tt.at, s.Status, got, len(s.Timeline), tt.status, tt.assignees, int(tt.at/time.Minute)+1)
		}
	}
}
