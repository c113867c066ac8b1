package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

// TestIntegrityEndToEnd checks, through the HTTP API on the embedded
// Temporal server, guarantees issue 27 found broken: li.na, the only
// logistics staff, files a requisition and it reaches the end (its work
// goes to the logistics manager, not to her); a 会签 cannot collapse onto
// one person by a transfer; a control character is refused.
func TestIntegrityEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)

	t.Run("a logistics staffer's own requisition", func(t *testing.T) {
		own := map[string]any{
			"department": "ADM", "budget_category": "office_supplies", "reason": "行政部打印纸", "needed_by": "2026-12-20",
			"items": []map[string]any{{"name": "A4 paper", "quantity": 2, "unit": "box", "unit_price": 4500}},
		}
		created := d.must(t, 201, "li.na", "POST", "/v1/procurements", own)
		id := created["id"].(string)
		dept := d.pendingTask(t, "zhang.wei", id, created["position"])
		out := d.must(t, 200, "zhang.wei", "POST", "/v1/tasks/"+dept["id"].(string)+"/approve", map[string]any{"comment": "同意"})
		// record_po is the logistics manager's: li.na has nothing to do on
		// her own request.
		po := d.pendingTask(t, "zhang.wei", id, out["position"])
		if po["step"] != "record_po" {
			t.Fatalf("task after approval = %v, want record_po", po)
		}
		if got := fmt.Sprint(po["assignees"]); got != "[zhang.wei]" {
			t.Errorf("record_po assignees %s, want [zhang.wei]", got)
		}
		inbox := d.must(t, 200, "li.na", "GET", fmt.Sprintf("/v1/tasks?assignee=me&status=pending&min_position=%v", out["position"]), nil)
		for _, it := range inbox["items"].([]any) {
			if it.(map[string]any)["process_id"] == id {
				t.Errorf("li.na has a task on her own requisition: %v", it)
			}
		}
		steps := []map[string]any{
			{"supplier": "得力办公", "lines": []map[string]any{{"name": "A4 paper", "quantity": 2, "unit_price": 4400}}},
			{"lines": []map[string]any{{"name": "A4 paper", "quantity": 2}}},
			{"number": "DL-0002", "amount": 8800},
			{},
		}
		for _, data := range steps {
			task := d.pendingTask(t, "zhang.wei", id, out["position"])
			out = d.must(t, 200, "zhang.wei", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": data})
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			p := d.must(t, 200, "li.na", "GET", fmt.Sprintf("/v1/processes/%s?min_position=%v", id, out["position"]), nil)
			if p["status"] == "completed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("li.na's requisition = %v, want completed", p["status"])
			}
			time.Sleep(50 * time.Millisecond)
		}
		waitClosed(t, d, id)
		exportHistory(t, d, id, "integrity-own-requisition")
	})

	t.Run("a countersign keeps two people", func(t *testing.T) {
		created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", bigRequisition)
		id := created["id"].(string)
		dept := d.pendingTask(t, "liu.yang", id, created["position"])
		out := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+dept["id"].(string)+"/approve", map[string]any{"comment": "同意"})
		fin := d.pendingTask(t, "chen.jing", id, out["position"])
		p := d.must(t, 400, "chen.jing", "POST", "/v1/tasks/"+fin["id"].(string)+"/transfer", map[string]any{"to": "zhang.wei"})
		if p["code"] != "EINVALID" || p["detail"] != `to: "zhang.wei" already takes part in step finance_review; one person holds one slot of a step` {
			t.Errorf("transfer onto the other countersigner = %v", p)
		}
		d.must(t, 200, "chen.jing", "POST", "/v1/tasks/"+fin["id"].(string)+"/transfer", map[string]any{"to": "ma.chao"})
		out = d.must(t, 200, "wang.fang", "POST", "/v1/processes/"+id+"/withdraw", map[string]any{"comment": "展会取消"})
		if out["status"] != "withdrawn" {
			t.Fatalf("withdraw = %v", out)
		}
		waitClosed(t, d, id)
		exportHistory(t, d, id, "integrity-transfer-withdrawn")
	})

	t.Run("control characters", func(t *testing.T) {
		bad := map[string]any{
			"department": "MKT", "budget_category": "office_supplies", "reason": "Q1 \u0000 打印纸", "needed_by": "2026-12-20",
			"items": []map[string]any{{"name": "A4 paper", "quantity": 2, "unit": "box", "unit_price": 4500}},
		}
		p := d.must(t, 400, "wang.fang", "POST", "/v1/procurements", bad)
		if p["code"] != "EINVALID" || p["detail"] != "reason: control character U+0000 at byte 3 is not allowed in text" {
			t.Errorf("a NUL in the reason = %v", p)
		}
	})
}

// waitClosed waits until the workflow of process id has closed.
func waitClosed(t *testing.T, d *devProcess, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := temporalClient(t, d).GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		t.Fatalf("workflow %s: %v", id, err)
	}
}

// TestUserWhoLeftEndToEnd: chen.jing holds her part of a countersign when
// she leaves. houqin restarts with an organisation that says so: her token
// is refused (401), her open task moves to her manager admin with a
// task.transferred by system saying why, and admin approves it.
func TestUserWhoLeftEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	data := t.TempDir()
	d := startDevIn(t, data)
	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", bigRequisition)
	id := created["id"].(string)
	dept := d.pendingTask(t, "liu.yang", id, created["position"])
	out := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+dept["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	fin := d.pendingTask(t, "chen.jing", id, out["position"])["id"].(string)
	d.stop()

	org := strings.Replace(string(config.DefaultOrg()), "{id: chen.jing,", "{id: chen.jing, left: true,", 1)
	if !strings.Contains(org, "left: true") {
		t.Fatal("config/org.yaml has no chen.jing to mark as left")
	}
	orgFile := filepath.Join(t.TempDir(), "org.yaml")
	if err := os.WriteFile(orgFile, []byte(org), 0o600); err != nil {
		t.Fatal(err)
	}
	d = startDevIn(t, data, "--org", orgFile, "--reassign-interval", "200ms")
	d.must(t, 401, "chen.jing", "GET", "/v1/tasks?assignee=me", nil)

	deadline := time.Now().Add(30 * time.Second)
	for moved := false; !moved; {
		inbox := d.must(t, 200, "admin", "GET", "/v1/tasks?assignee=me&status=pending", nil)
		for _, it := range inbox["items"].([]any) {
			moved = moved || it.(map[string]any)["id"] == fin && fmt.Sprint(it.(map[string]any)["assignees"]) == "[admin]"
		}
		if !moved && time.Now().After(deadline) {
			t.Fatalf("chen.jing's task %s is not in admin's inbox: %v", fin, inbox)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.must(t, 200, "admin", "POST", "/v1/tasks/"+fin+"/approve", map[string]any{"comment": "代陈静审批"})
	var moved *houqin.TaskTransferred
	for _, e := range checkStream(t, data, id) {
		if e.Type == "task.transferred" {
			v, err := e.Decode()
			if err != nil {
				t.Fatal(err)
			}
			moved = v.(*houqin.TaskTransferred)
			if e.Meta.Actor != "system" {
				t.Errorf("transferred by %q, want system", e.Meta.Actor)
			}
		}
	}
	if moved == nil || moved.From != "chen.jing" || moved.To != "admin" || !strings.Contains(moved.Reason, "chen.jing has left the organisation") {
		t.Errorf("task.transferred = %+v, want chen.jing's task moved to admin because she left", moved)
	}
}

// TestTripNoClaimEndToEnd: wang.fang's trip, already made, with nothing to
// claim: she says so (no-claim), and the trip completes with its bookings.
func TestTripNoClaimEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	body := map[string]any{"traveler": "wang.fang", "purpose": "客户拜访", "budget_category": "travel", "estimated_cost": 350000,
		"transport": "train", "lodging": false,
		"legs": []map[string]any{{"from": "上海", "to": "苏州", "depart": now.AddDate(0, 0, -2).Format(time.DateOnly), "return": now.AddDate(0, 0, -1).Format(time.DateOnly)}}}
	created := d.must(t, 201, "wang.fang", "POST", "/v1/trips", body)
	id := created["id"].(string)
	out := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+pendingStep(t, d, "liu.yang", id, "manager_approval", created["position"])+"/approve", map[string]any{})
	out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+pendingStep(t, d, "li.na", id, "book", out["position"])+"/complete", map[string]any{"data": map[string]any{
		"transport": []map[string]any{{"description": "G7001 上海→苏州", "reference": "E1", "amount": 4000}, {"description": "G7002 苏州→上海", "reference": "E2", "amount": 4000}}}})
	claim := pendingStep(t, d, "wang.fang", id, "claim", out["position"])
	d.must(t, 403, "li.na", "POST", "/v1/tasks/"+claim+"/no-claim", map[string]any{})
	out = d.must(t, 200, "wang.fang", "POST", "/v1/tasks/"+claim+"/no-claim", map[string]any{"comment": "无额外费用"})
	if out["status"] != "completed" {
		t.Fatalf("no-claim answered %v, want the trip completed", out)
	}
	waitClosed(t, d, id)
	exportHistory(t, d, id, "no-claim")
}
