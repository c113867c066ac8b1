package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/web"
)

// browserTests says whether the browser tests may run here; under `make
// test` (HOUQIN_BROWSER_TESTS=required) a missing piece fails the test
// instead of skipping it.
func browserTests(t *testing.T) (chromium string) {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv("HOUQIN_BROWSER_TESTS") == "required" {
			t.Fatalf("browser tests: %s", what)
		}
		t.Skipf("browser tests: %s (make test provides it)", what)
	}
	if testing.Short() {
		t.Skip("starts an embedded Temporal server and a browser")
	}
	if !web.Built() {
		missing("the web app is not built into this binary (make web)")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		missing("no chromium (scripts/ensure-browser.sh)")
	}
	if _, err := os.Stat(filepath.Join("..", "..", "web", "node_modules", "playwright-core")); err != nil {
		missing("no web/node_modules/playwright-core (make web)")
	}
	return chromium
}

// TestWebAppInBrowser runs web/e2e/smoke.mjs in headless Chromium against
// a real houqin dev: the login page in Chinese; wang.fang submits a
// requisition in the form, the route preview beside it; liu.yang finds it
// in his inbox beside another, a rejection without reason is refused, he
// approves with a comment; she withdraws another from 我的申请; li.na
// orders, receives, invoices and stocks in; wang.fang answers the survey;
// liu.yang transfers the other to zhang.wei, returns a third, which
// wang.fang resubmits; English by the switch, phone width,
// sign-out, and no request to any other host. Screenshots land in
// web/e2e/screenshots.
func TestWebAppInBrowser(t *testing.T) {
	chromium := browserTests(t)
	d := startDev(t)
	// This year's budget, with marketing's office supplies line that the
	// requisitions draw on.
	year := time.Now().In(houqin.BusinessZone).Year()
	bu := d.must(t, 201, "zhang.wei", "POST", "/v1/budgets", map[string]any{"year": year, "reason": "年度后勤预算",
		"lines": []map[string]any{{"department": "MKT", "category": "office_supplies", "amount": 1000000},
			{"department": "MKT", "category": "travel", "amount": 500000, "control": "warn"}}})
	d.must(t, 200, "chen.jing", "POST", "/v1/tasks/"+d.pendingTask(t, "chen.jing", bu["id"].(string), bu["position"])["id"].(string)+"/approve", map[string]any{})
	// The paper is an item of the warehouse's master data (so it can be
	// counted and issued).
	d.must(t, 201, "li.na", "POST", "/v1/inventory/items", map[string]any{"name": "A4 paper", "names": map[string]any{"zh": "A4 打印纸", "en": "A4 paper"}, "unit": "箱"})
	withdraw := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)["id"].(string)
	toReturn := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)["id"].(string)
	other := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	d.pendingTask(t, "liu.yang", other["id"].(string), other["position"]) // in his inbox before the browser looks
	// wang.fang's trip to Beijing, made three days ago to yesterday and
	// approved: li.na books it in the browser, then wang.fang claims.
	now := time.Now().In(houqin.BusinessZone)
	trip := d.must(t, 201, "wang.fang", "POST", "/v1/trips", map[string]any{"traveler": "wang.fang", "purpose": "北京客户拜访",
		"budget_category": "travel", "estimated_cost": 300000, "transport": "train", "lodging": true,
		"legs": []map[string]any{{"from": "上海", "to": "北京", "depart": now.AddDate(0, 0, -3).Format(time.DateOnly), "return": now.AddDate(0, 0, -1).Format(time.DateOnly)}}})
	tripID := trip["id"].(string)
	tripApproved := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+d.pendingTask(t, "liu.yang", tripID, trip["position"])["id"].(string)+"/approve", map[string]any{})
	pendingStep(t, d, "li.na", tripID, "book", tripApproved["position"])
	// The monthly fire check of the 5th floor, reviewed by security: li.na
	// records the checklist in the browser.
	inspection := d.must(t, 201, "zhang.wei", "POST", "/v1/inspections", map[string]any{"template": "fire_safety_monthly",
		"location": "总部 5 楼", "inspector": "li.na", "scheduled_for": now.Format(time.DateOnly)})
	inspectionID := inspection["id"].(string)
	reviewed := d.must(t, 200, "wu.min", "POST", "/v1/tasks/"+d.pendingTask(t, "wu.min", inspectionID, inspection["position"])["id"].(string)+"/approve", map[string]any{})
	pendingStep(t, d, "li.na", inspectionID, "record", reviewed["position"])
	// Marketing's training in a fortnight, approved: li.na arranges the
	// venue in the browser.
	starts := now.AddDate(0, 0, 14).Truncate(24 * time.Hour).Add(2 * time.Hour)
	training := d.must(t, 201, "wang.fang", "POST", "/v1/events", map[string]any{"type": "training", "title": "新产品培训",
		"starts_at": starts.Format(time.RFC3339), "ends_at": starts.Add(3 * time.Hour).Format(time.RFC3339),
		"attendee_departments": []string{"MKT"}, "venue": "30 人会议室", "budget_category": "events"})
	trainingID := training["id"].(string)
	eventApproved := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+d.pendingTask(t, "liu.yang", trainingID, training["position"])["id"].(string)+"/approve", map[string]any{})
	pendingStep(t, d, "li.na", trainingID, "venue", eventApproved["position"])
	// A requisition approved and waiting for its order: wang.fang revokes
	// (撤销) it from its page.
	toRevoke := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	revokeID := toRevoke["id"].(string)
	revokeApproved := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+d.pendingTask(t, "liu.yang", revokeID, toRevoke["position"])["id"].(string)+"/approve", map[string]any{})
	pendingStep(t, d, "li.na", revokeID, "record_po", revokeApproved["position"])
	// A projector: after the department head, finance and logistics
	// countersign; chen.jing sends it back to the department head.
	projector := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", map[string]any{"department": "MKT", "budget_category": "equipment",
		"reason": "会议室投影仪", "needed_by": "2026-12-20", "items": []map[string]any{{"name": "投影仪", "quantity": 1, "unit": "台", "unit_price": 450000}}})
	projectorID := projector["id"].(string)
	projectorApproved := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+d.pendingTask(t, "liu.yang", projectorID, projector["position"])["id"].(string)+"/approve", map[string]any{})
	pendingStep(t, d, "chen.jing", projectorID, "finance_review", projectorApproved["position"])

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shots, err := filepath.Abs(filepath.Join("..", "..", "web", "e2e", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "node", "e2e/smoke.mjs", d.url, shots)
	cmd.Dir = filepath.Join("..", "..", "web")
	cmd.Env = append(os.Environ(), "HOUQIN_OTHER_ID="+other["id"].(string), "HOUQIN_WITHDRAW_ID="+withdraw, "HOUQIN_RETURN_ID="+toReturn, "HOUQIN_TRIP_ID="+tripID, "HOUQIN_INSPECTION_ID="+inspectionID, "HOUQIN_EVENT_ID="+trainingID, "HOUQIN_REVOKE_ID="+revokeID, "HOUQIN_PROJECTOR_ID="+projectorID, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e/smoke.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
	// What the browser did is what the server holds: wang.fang's requisition
	// as she typed it, approved by liu.yang with his comment.
	var id string
	for _, it := range d.must(t, 200, "wang.fang", "GET", "/v1/processes?mine=true", nil)["items"].([]any) {
		if p := it.(map[string]any); p["title"] == "浏览器里提交的打印纸" {
			id = p["id"].(string)
			if p["amount"] != 9000.0 || p["department"] != "MKT" {
				t.Errorf("the requisition submitted in the browser: %v", p)
			}
		}
	}
	if id == "" {
		t.Fatal("no requisition submitted in the browser")
	}
	if p := d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+withdraw, nil); p["status"] != "withdrawn" {
		t.Errorf("%s withdrawn in the browser is %v", withdraw, p["status"])
	}
	var approved map[string]any
	for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id, nil)["timeline"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "task.completed" && approved == nil {
			approved = ev // the first: the department head's
		}
	}
	if approved == nil || approved["actor"] != "liu.yang" || approved["data"].(map[string]any)["comment"] != "同意，请尽快采购" {
		t.Errorf("after the browser the approval is %v", approved)
	}
	// liu.yang returned one, wang.fang resubmitted it: his approval again.
	var steps []string
	for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+toReturn, nil)["timeline"].([]any) {
		if ty := e.(map[string]any)["type"].(string); ty == "process.returned" || ty == "process.resubmitted" {
			steps = append(steps, ty)
		}
	}
	if len(steps) != 2 || steps[0] != "process.returned" || steps[1] != "process.resubmitted" {
		t.Errorf("%s after the browser: %v, want returned then resubmitted", toReturn, steps)
	}
	d.pendingTask(t, "liu.yang", toReturn, 0)
	// liu.yang transferred the other requisition: it waits for zhang.wei.
	d.pendingTask(t, "zhang.wei", other["id"].(string), 0)
	// li.na took it to stock-in, and wang.fang's survey answer is 5 stars.
	if p := d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id, nil); p["status"] != "completed" {
		t.Errorf("%s after li.na's work in the browser: %v", id, p["status"])
	}
	var answer map[string]any
	for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/SV-"+id, nil)["timeline"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "survey.answered" {
			answer = ev["data"].(map[string]any)
		}
	}
	if answer == nil || answer["score"] != 5.0 || answer["comment"] != "到货很快" {
		t.Errorf("the survey answer given in the browser: %v", answer)
	}
	// li.na booked the trip in the browser, and wang.fang claimed three
	// per-diems, the first above Beijing's cap of ¥150.00 and saying why.
	var booked, claimed map[string]any
	for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+tripID, nil)["timeline"].([]any) {
		switch ev := e.(map[string]any); ev["type"] {
		case "trip.booked":
			booked = ev["data"].(map[string]any)
		case "trip.claim_submitted":
			claimed = ev["data"].(map[string]any)
		}
	}
	if booked == nil || booked["total"] != 175300.0 {
		t.Errorf("the booking made in the browser: %v", booked)
	}
	if claimed == nil || claimed["total"] != 50000.0 || fmt.Sprint(claimed["over_cap"]) != "[map[cap:15000 city:北京 line:0 over:5000]]" {
		t.Errorf("the claim made in the browser: %v", claimed)
	}
	// li.na failed the extinguishers, high, saying why: a finding for
	// security to fix. zhang.wei started an inspection in the form.
	var recorded map[string]any
	for _, e := range d.must(t, 200, "zhang.wei", "GET", "/v1/processes/"+inspectionID, nil)["timeline"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "inspection.recorded" {
			recorded = ev["data"].(map[string]any)
		}
	}
	if recorded == nil || recorded["failed"] != 1.0 || fmt.Sprint(recorded["results"].([]any)[0]) != "map[item:extinguishers note:两具灭火器压力不足 result:fail severity:high]" {
		t.Errorf("the checklist recorded in the browser: %v", recorded)
	}
	pendingStep(t, d, "wu.min", inspectionID, "remediate", 0)
	// li.na arranged the training's room, at its cost.
	var arranged map[string]any
	for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+trainingID, nil)["timeline"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "event.arranged" {
			arranged = ev["data"].(map[string]any)
		}
	}
	if arranged == nil || arranged["step"] != "venue" || arranged["note"] != "已订 5 楼大会议室" || arranged["cost"] != 80000.0 {
		t.Errorf("the venue arranged in the browser: %v", arranged)
	}
	// wang.fang revoked one; chen.jing returned the projector to liu.yang's step.
	if p := d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+revokeID, nil); p["status"] != "cancelled" {
		t.Errorf("%s revoked in the browser is %v", revokeID, p["status"])
	}
	var returned map[string]any
	for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+projectorID, nil)["timeline"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "process.returned" {
			returned = ev["data"].(map[string]any)
		}
	}
	if returned == nil || returned["by"] != "chen.jing" || returned["to_step"] != "dept_approval" || returned["comment"] != "请部门确认型号" {
		t.Errorf("the projector returned in the browser: %v", returned)
	}
	if task := d.pendingTask(t, "liu.yang", projectorID, 0); task["step"] != "dept_approval" {
		t.Errorf("after the return liu.yang has %v", task)
	}
	// zhang.wei drafted next year's budget and scheduled a fire check, paused.
	if items := d.must(t, 200, "zhang.wei", "GET", "/v1/processes?mine=true&kind=budget", nil)["items"].([]any); len(items) != 2 {
		t.Errorf("zhang.wei's budgets after the browser: %v, want this year's and next", items)
	}
	var paused any
	for _, it := range d.must(t, 200, "zhang.wei", "GET", "/v1/inspection-schedules", nil)["items"].([]any) {
		if s := it.(map[string]any); s["name"] == "hq-5f-fire" {
			paused = s["paused"]
		}
	}
	if paused != true {
		t.Errorf("the schedule made in the browser: paused %v", paused)
	}
	// wang.fang wants no email, and quiet nights.
	if p := d.must(t, 200, "wang.fang", "GET", "/v1/me/preferences", nil); fmt.Sprint(p["channels"].(map[string]any)["email"]) != "false" ||
		fmt.Sprint(p["quiet_hours"]) != "map[from:22:00 to:08:00]" {
		t.Errorf("wang.fang's preferences set in the browser: %v", p)
	}
	// li.na counted a box of paper short; wang.fang asked for one.
	for who, kind := range map[string]string{"li.na": "stocktake", "wang.fang": "issue"} {
		items := d.must(t, 200, who, "GET", "/v1/processes?mine=true&kind="+kind, nil)["items"].([]any)
		if len(items) != 1 {
			t.Errorf("%s's %s processes after the browser: %v", who, kind, items)
		}
	}
	if n := len(d.must(t, 200, "zhang.wei", "GET", "/v1/processes?kind=inspection", nil)["items"].([]any)); n != 2 {
		t.Errorf("%d inspections after the browser, want 2 (one started in the form)", n)
	}
}
