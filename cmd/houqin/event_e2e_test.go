package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestEventEndToEnd walks a marketing training (活动/会议) through the HTTP
// API on the embedded Temporal server: the department head approves, HR
// and marketing confirm, every arrangement is done, the organiser says it
// was held and submits the minutes, which the logistics manager accepts.
// DESIGN.md's company meeting starts too, with its first approval.
func TestEventEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	design := d.must(t, 201, "wang.fang", "POST", "/v1/events", map[string]any{
		"type": "annual_meeting", "title": "2026 全员大会", "starts_at": "2027-01-15T09:00:00+08:00",
		"ends_at": "2027-01-15T17:00:00+08:00", "attendee_departments": []string{"ALL"},
		"budget_category": "events", "estimated_cost": 8000000})
	taskIn(t, d.inbox(t, "liu.yang", "pending", design["position"]), design["id"].(string), "liu.yang's approval of the meeting")
	d.must(t, 400, "wang.fang", "POST", "/v1/events", map[string]any{
		"type": "annual_meeting", "title": "x", "starts_at": "2027-01-15", "ends_at": "2027-01-15T17:00:00+08:00",
		"attendee_departments": []string{"ALL"}, "budget_category": "events", "estimated_cost": 1})
	d.must(t, 400, "wang.fang", "POST", "/v1/events", map[string]any{
		"type": "training", "title": "x", "starts_at": "2027-01-15T09:00:00+08:00", "ends_at": "2027-01-15T17:00:00+08:00",
		"attendee_departments": []string{"NOPE"}, "budget_category": "events", "estimated_cost": 1})
	d.must(t, 403, "huang.xin", "POST", "/v1/events", map[string]any{})

	created := d.must(t, 201, "wang.fang", "POST", "/v1/events", map[string]any{
		"type": "training", "title": "市场部产品培训", "starts_at": "2027-01-10T09:00:00+08:00",
		"ends_at": "2027-01-10T17:00:00+08:00", "attendee_departments": []string{"MKT"}, "equipment": []string{"投影"},
		"supplies": []map[string]any{{"name": "矿泉水", "quantity": 24}}, "budget_category": "events", "estimated_cost": 300000})
	id := created["id"].(string)
	act := func(code int, user, taskID, action string, body any) map[string]any {
		t.Helper()
		return d.must(t, code, user, "POST", "/v1/tasks/"+taskID+"/"+action, body)
	}
	out := act(200, "liu.yang", pendingStep(t, d, "liu.yang", id, "dept_approval", created["position"]), "approve", map[string]any{"comment": "同意"})
	note := func(s string) map[string]any { return map[string]any{"data": map[string]any{"note": s}} }
	for _, w := range []struct{ user, step string }{
		{"zhao.lei", "confirm_attendees"}, {"liu.yang", "confirm_publicity"}, {"li.na", "venue"}, {"zheng.hao", "equipment"},
		{"zhou.qiang", "supplies"}, {"li.na", "catering"}, {"liu.yang", "materials_MKT"},
	} {
		task := pendingStep(t, d, w.user, id, w.step, out["position"])
		if w.step == "venue" {
			act(400, w.user, task, "complete", note(""))
		}
		out = act(200, w.user, task, "complete", note(w.step+" 已完成"))
	}
	out = act(200, "wang.fang", pendingStep(t, d, "wang.fang", id, "hold", out["position"]), "complete", map[string]any{})
	out = act(200, "wang.fang", pendingStep(t, d, "wang.fang", id, "minutes", out["position"]), "complete",
		map[string]any{"data": map[string]any{"minutes": "培训纪要", "summary": "培训总结"}})
	review := pendingStep(t, d, "zhang.wei", id, "review_minutes", out["position"])
	act(400, "zhang.wei", review, "complete", map[string]any{"data": map[string]any{"outcome": "fine"}})
	out = act(200, "zhang.wei", review, "complete", map[string]any{"data": map[string]any{"outcome": "accepted"}})

	// The water stock cannot cover is bought by a child procurement of the
	// organiser's, which her department head approves.
	procs := d.must(t, 200, "wang.fang", "GET", "/v1/processes?kind=procurement&min_position="+pos(out["position"]), nil)
	items, _ := procs["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("procurements %v, want the one of the supplies", procs)
	}
	if pr := items[0].(map[string]any); pr["requester"] != "wang.fang" || pr["department"] != "MKT" || pr["status"] != "running" {
		t.Errorf("the supplies' procurement %v", pr)
	}

	var p map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for {
		p = d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id+"?min_position="+pos(out["position"]), nil)
		if p["status"] == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p["status"] != "completed" || p["title"] != "市场部产品培训" || p["department"] != "MKT" || p["kind"] != "event" {
		t.Fatalf("process %v, want the completed training of MKT", p)
	}

	// liu.yang attended: he has a survey (the organiser's comes from the
	// survey trigger).
	pendingStep(t, d, "liu.yang", "SV-"+id+"-liu.yang", "respond", out["position"])
	pendingStep(t, d, "wang.fang", "SV-"+id, "respond", out["position"])

	// The documents.
	plan := d.rawOK(t, 200, "wang.fang", "/v1/events/"+id+"/plan")
	for _, want := range []string{"活动策划方案", "Event plan", "市场部产品培训", "李娜 Li Na", "已完成 Completed"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	book := d.rawOK(t, 200, "zhang.wei", "/v1/events/"+id+"/schedule?format=xlsx")
	f, err := excelize.OpenReader(bytes.NewReader([]byte(book)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("安排表 Schedule")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 9 || rows[2][4] != "已完成 Done" {
		t.Errorf("schedule rows %q, want every confirmation and arrangement done", rows)
	}
	d.rawOK(t, 403, "sun.li", "/v1/events/"+id+"/plan")
}
