package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestInspectionEndToEnd is the office safety inspection of the issue,
// through the HTTP API on the embedded Temporal server: the checklist with
// two findings, remediation by the property management company (郑浩
// zheng.hao) and security (吴敏 wu.min), one verification that fails and
// reopens its finding, then the report and the tracking record.
func TestInspectionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	// The form's choices: the checklists, and the route previewed.
	var templates []string
	for _, it := range d.must(t, 200, "wang.fang", "GET", "/v1/checklists", nil)["items"].([]any) {
		cl := it.(map[string]any)
		templates = append(templates, fmt.Sprintf("%s %d", cl["id"], len(cl["items"].([]any))))
	}
	if got := strings.Join(templates, ", "); got != "cleanliness_weekly 6, fire_safety_monthly 8" {
		t.Errorf("the checklists are %s", got)
	}
	route, _ := previewRoute(t, d, "zhang.wei", "/v1/inspections/preview", map[string]any{
		"template": "fire_safety_monthly", "location": "总部 5 楼 HQ 5F", "inspector": "li.na", "scheduled_for": "2026-12-01"})
	if got := strings.Join(route, "; "); got != "security_review true wu.min" {
		t.Errorf("the previewed route is %s", got)
	}
	d.must(t, 400, "zhang.wei", "POST", "/v1/inspections/preview", map[string]any{
		"template": "nosuch", "location": "x", "inspector": "li.na", "scheduled_for": "2026-12-01"})
	created := d.must(t, 201, "zhang.wei", "POST", "/v1/inspections", map[string]any{
		"template": "fire_safety_monthly", "location": "总部 5 楼 HQ 5F", "inspector": "li.na", "scheduled_for": "2026-12-01"})
	id := created["id"].(string)
	if id != "IN-2026-000001" && !strings.HasPrefix(id, "IN-") {
		t.Fatalf("id %q", id)
	}
	d.must(t, 400, "zhang.wei", "POST", "/v1/inspections", map[string]any{
		"template": "nosuch", "location": "x", "inspector": "li.na", "scheduled_for": "2026-12-01"})
	d.must(t, 403, "huang.xin", "POST", "/v1/inspections", map[string]any{})

	act := func(code int, user, taskID, action string, body any) map[string]any {
		t.Helper()
		return d.must(t, code, user, "POST", "/v1/tasks/"+taskID+"/"+action, body)
	}
	// An ad hoc inspection: security reviews it first.
	review := taskIn(t, d.inbox(t, "wu.min", "pending", created["position"]), id, "wu.min's review")
	out := act(200, "wu.min", review["id"].(string), "approve", map[string]any{"comment": "同意检查"})

	rec := taskIn(t, d.inbox(t, "li.na", "pending", out["position"]), id, "li.na's checklist")
	results := []map[string]any{}
	for _, item := range []string{"extinguishers", "hydrants", "exits", "exit_signs", "alarms", "wiring", "doors", "access"} {
		r := map[string]any{"item": item, "result": "pass"}
		switch item {
		case "extinguishers":
			r = map[string]any{"item": item, "result": "fail", "severity": "high", "note": "两具灭火器压力不足", "photos": []string{"photo-501.jpg"}}
		case "exit_signs":
			r = map[string]any{"item": item, "result": "fail", "severity": "medium", "note": "东侧疏散指示灯不亮"}
		}
		results = append(results, r)
	}
	act(400, "li.na", rec["id"].(string), "complete", map[string]any{"data": map[string]any{"results": results[:7]}})
	out = act(200, "li.na", rec["id"].(string), "complete", map[string]any{"data": map[string]any{"results": results, "summary": "5 楼两处问题"}})

	// Security fixes the extinguishers; the property company the exit signs.
	// The findings' own workflows start after the record's events: wait.
	f1 := map[string]any{"id": pendingStep(t, d, "wu.min", id, "remediate", out["position"]), "step": "remediate"}
	f2 := map[string]any{"id": pendingStep(t, d, "zheng.hao", id, "remediate", out["position"]), "step": "remediate"}
	if f1["step"] != "remediate" || f2["step"] != "remediate" || f1["id"] == f2["id"] {
		t.Fatalf("remediation tasks %v and %v", f1, f2)
	}
	act(403, "zheng.hao", f1["id"].(string), "complete", map[string]any{"data": map[string]any{"note": "x"}})
	out = act(200, "wu.min", f1["id"].(string), "complete", map[string]any{"data": map[string]any{"note": "已更换两具灭火器"}})
	v1 := pendingStep(t, d, "li.na", id, "verify", out["position"])
	out = act(200, "li.na", v1, "complete", map[string]any{"data": map[string]any{"passed": true, "note": "合格"}})

	out = act(200, "zheng.hao", f2["id"].(string), "complete", map[string]any{"data": map[string]any{"note": "已更换灯管"}})
	v2 := pendingStep(t, d, "li.na", id, "verify", out["position"])
	act(400, "li.na", v2, "complete", map[string]any{"data": map[string]any{"passed": false}})
	out = act(200, "li.na", v2, "complete", map[string]any{"data": map[string]any{"passed": false, "note": "仍有一处不亮"}})
	again := pendingStep(t, d, "zheng.hao", id, "remediate", out["position"])
	out = act(200, "zheng.hao", again, "complete", map[string]any{"data": map[string]any{"note": "更换整套应急灯"}})
	v3 := pendingStep(t, d, "li.na", id, "verify", out["position"])
	out = act(200, "li.na", v3, "complete", map[string]any{"data": map[string]any{"passed": true}})

	// The inspection completes with its last finding.
	var p map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for {
		p = d.must(t, 200, "zhang.wei", "GET", "/v1/processes/"+id+"?min_position="+pos(out["position"]), nil)
		if p["status"] == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p["status"] != "completed" {
		t.Fatalf("inspection status %v, want completed", p["status"])
	}

	// The documents.
	html := d.rawOK(t, 200, "zhang.wei", "/v1/inspections/"+id+"/report")
	for _, want := range []string{"安全检查报告", "Inspection report", "两具灭火器压力不足", id + "-F2", "李娜 Li Na", "已完成 Completed"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	book := d.rawOK(t, 200, "zheng.hao", "/v1/inspections/"+id+"/remediation?format=xlsx")
	f, err := excelize.OpenReader(bytes.NewReader([]byte(book)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("跟踪记录 Tracking")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[2][7] != "未通过 Failed" || rows[3][2] != "郑浩 Zheng Hao" {
		t.Errorf("tracking rows %q, want the header and three rounds, the second failed", rows)
	}
	d.rawOK(t, 403, "sun.li", "/v1/inspections/"+id+"/report")
	d.rawOK(t, 400, "zhang.wei", "/v1/inspections/"+id+"/report?format=pdf")

	exportHistory(t, d, id, "two-findings")
	exportHistory(t, d, id+"-F2", "reopened")
}

// pendingStep returns the ID of user's pending task of a step on process,
// waiting up to 20 s for it: a finding's task is opened by the finding's
// own workflow, after the action whose position the caller has.
func pendingStep(t *testing.T, d *devProcess, user, process, step string, position any) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, it := range d.inbox(t, user, "pending", position) {
			if it["process_id"] == process && it["step"] == step {
				return it["id"].(string)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no pending %s on %s", user, step, process)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pos formats a position from a JSON answer.
func pos(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}

// rawOK sends a GET as user and returns the body, failing unless the
// status is want.
func (d *devProcess) rawOK(t *testing.T, want int, user, path string) string {
	t.Helper()
	code, _, b := d.raw(t, user, path)
	if code != want {
		t.Fatalf("GET %s as %s = %d %s, want %d", path, user, code, b, want)
	}
	return string(b)
}

// TestInspectionScheduleEndToEnd makes a monthly inspection a Temporal
// Schedule through the API, triggers it, and pauses and resumes it.
func TestInspectionScheduleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	body := map[string]any{"name": "hq-5f-fire", "template": "fire_safety_monthly", "location": "总部 5 楼 HQ 5F",
		"inspector": "li.na", "every": "monthly"}
	d.must(t, 403, "wang.fang", "POST", "/v1/inspection-schedules", body)
	d.must(t, 400, "zhang.wei", "POST", "/v1/inspection-schedules", map[string]any{"name": "Bad Name", "template": "fire_safety_monthly"})
	d.must(t, 201, "zhang.wei", "POST", "/v1/inspection-schedules", body)
	d.must(t, 409, "zhang.wei", "POST", "/v1/inspection-schedules", body)

	list := func() map[string]any {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			out := d.must(t, 200, "huang.xin", "GET", "/v1/inspection-schedules", nil)
			for _, it := range out["items"].([]any) {
				if s := it.(map[string]any); s["name"] == "hq-5f-fire" {
					return s
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the schedule is not listed: %v", out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if s := list(); s["paused"] != false || len(s["next"].([]any)) == 0 {
		t.Fatalf("schedule = %v", s)
	}

	// Run now: an inspection starts with no security review (it is not ad hoc).
	d.must(t, 200, "wu.min", "POST", "/v1/inspection-schedules/hq-5f-fire/trigger", nil)
	d.must(t, 404, "wu.min", "POST", "/v1/inspection-schedules/nosuch/trigger", nil)
	d.must(t, 400, "wu.min", "POST", "/v1/inspection-schedules/hq-5f-fire/explode", nil)
	task := pendingStep(t, d, "li.na", "IN-2026-000001", "record", 0)
	if task != "IN-2026-000001.record.1" {
		t.Fatalf("the triggered inspection's first task is %s", task)
	}
	d.must(t, 200, "zhang.wei", "POST", "/v1/inspection-schedules/hq-5f-fire/pause", nil)
	s := list()
	if s["paused"] != true || len(s["recent"].([]any)) != 1 {
		t.Fatalf("after pause and one run: %v", s)
	}
	exportHistory(t, d, s["recent"].([]any)[0].(string), "triggered")
	d.must(t, 200, "zhang.wei", "POST", "/v1/inspection-schedules/hq-5f-fire/unpause", nil)
	if s := list(); s["paused"] != false {
		t.Fatalf("after unpause: %v", s)
	}
}
