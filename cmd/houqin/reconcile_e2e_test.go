package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// TestTerminatedOutsideEndToEnd: an operator terminates a procurement's
// workflow with Temporal's own client while li.na holds its record_po
// task. houqin notices (the reconciler, every 200 ms here): the process
// shows terminated with the operator's reason, li.na's task is gone, the
// budget line's committed amount is back, and acting on the task names the
// real status.
func TestTerminatedOutsideEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t, "--reconcile-interval", "200ms")
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	y := strconv.Itoa(year)
	bu := d.must(t, 201, "zhang.wei", "POST", "/v1/budgets", map[string]any{"year": year, "reason": "年度后勤预算",
		"lines": []map[string]any{{"department": "MKT", "category": "office_supplies", "amount": 300000}}})
	out := d.must(t, 200, "chen.jing", "POST", "/v1/tasks/"+d.pendingTask(t, "chen.jing", bu["id"].(string), bu["position"])["id"].(string)+"/approve", map[string]any{})

	req := map[string]any{"department": "MKT", "budget_category": "office_supplies", "reason": "打印纸", "needed_by": "2026-12-31",
		"items": []map[string]any{{"name": "A4 paper", "quantity": 10, "unit": "box", "unit_price": 4500}}}
	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", req)
	id := created["id"].(string)
	out = d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+d.pendingTask(t, "liu.yang", id, created["position"])["id"].(string)+"/approve", map[string]any{})
	po := d.pendingTask(t, "li.na", id, out["position"])["id"].(string)
	line := func() map[string]any {
		return budgetLine(t, d.must(t, 200, "chen.jing", "GET", "/v1/budgets/"+y, nil), "MKT", "office_supplies")
	}
	if l := line(); l["committed"] != 45000.0 {
		t.Fatalf("after approval the line %v, want 450.00 committed", l)
	}

	if err := temporalClient(t, d).TerminateWorkflow(context.Background(), id, "", "供应商停产，运维终止"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var p map[string]any
	for {
		p = d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id, nil)
		if p["status"] == "terminated" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p["status"] != "terminated" {
		t.Fatalf("process %v, want terminated within 30 s", p["status"])
	}
	var reason any
	for _, e := range p["timeline"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "process.terminated" {
			reason = ev["data"].(map[string]any)["reason"]
		}
	}
	if reason != "供应商停产，运维终止" {
		t.Errorf("process.terminated reason %v, want the operator's", reason)
	}
	for _, it := range d.must(t, 200, "li.na", "GET", "/v1/tasks?assignee=me&status=pending", nil)["items"].([]any) {
		if it.(map[string]any)["id"] == po {
			t.Errorf("li.na still has %s", po)
		}
	}
	if l := line(); l["committed"] != 0.0 {
		t.Errorf("after the termination the line %v, want nothing committed", l)
	}
	if p := d.must(t, 409, "li.na", "POST", "/v1/tasks/"+po+"/complete", map[string]any{"data": map[string]any{}}); p["detail"] != fmt.Sprintf("process: %s has ended (terminated); nothing on it is open", id) {
		t.Errorf("acting on the terminated process: %v", p)
	}

	// The reconciler now lists only what closed since its checkpoint: a
	// second termination is recorded all the same.
	second := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", req)["id"].(string)
	if err := temporalClient(t, d).TerminateWorkflow(context.Background(), second, "", "重复申请"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if p := d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+second, nil); p["status"] == "terminated" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("second process %v, want terminated within 30 s", p["status"])
		}
	}
}
