package main

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestTripStartEndToEnd starts the business trip of DESIGN.md through the
// HTTP API on the embedded Temporal server: bad input names its field,
// auditors and other departments may not submit, the traveller's manager
// approves and the booking task reaches logistics.
func TestTripStartEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	body := func() map[string]any {
		return map[string]any{"traveler": "wang.fang", "purpose": "客户拜访", "budget_category": "travel", "estimated_cost": 350000,
			"transport": "train", "lodging": true,
			"legs": []map[string]any{{"from": "上海", "to": "北京", "depart": "2027-01-11", "return": "2027-01-13"}}}
	}
	bad := body()
	bad["legs"] = []map[string]any{{"from": "上海", "to": "北京", "depart": "2027-01-11", "return": "2027-01-10"}}
	out := d.must(t, 400, "wang.fang", "POST", "/v1/trips", bad)
	if !strings.Contains(out["detail"].(string), "legs[0].return") {
		t.Errorf("400 %v does not name legs[0].return", out)
	}
	d.must(t, 403, "huang.xin", "POST", "/v1/trips", body())
	d.must(t, 403, "zhou.qiang", "POST", "/v1/trips", body())

	created := d.must(t, 201, "wang.fang", "POST", "/v1/trips", body())
	id := created["id"].(string)
	if !strings.HasPrefix(id, "TR-") || created["kind"] != "trip" {
		t.Fatalf("created %v", created)
	}
	// The claim form's caps, day by day, under the rules the trip started with.
	caps := d.must(t, 200, "wang.fang", "GET", "/v1/trips/"+id+"/caps?min_position="+pos(created["position"]), nil)
	if got, want := fmt.Sprint(caps["days"]), "[map[city:北京 date:2027-01-11 hotel:60000 per_diem:15000] "+
		"map[city:北京 date:2027-01-12 hotel:60000 per_diem:15000] map[city:北京 date:2027-01-13 hotel:60000 per_diem:15000]]"; got != want {
		t.Errorf("caps = %s, want %s", got, want)
	}
	d.must(t, 403, "zhou.qiang", "GET", "/v1/trips/"+id+"/caps", nil)
	review := taskIn(t, d.inbox(t, "liu.yang", "pending", created["position"]), id, "liu.yang's approval")
	out = d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+review["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	book := pendingStep(t, d, "li.na", id, "book", out["position"])
	d.must(t, 400, "li.na", "POST", "/v1/tasks/"+book+"/complete", map[string]any{"data": map[string]any{"transport": []any{}}})
	out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+book+"/complete", map[string]any{"data": map[string]any{
		"transport": []map[string]any{{"description": "G2 上海→北京", "reference": "E12345", "amount": 55300}},
		"lodging":   []map[string]any{{"description": "北京饭店 2 晚", "reference": "H-889", "amount": 120000}}}})
	// The confirmation letter follows the booking; the claim form the claim.
	letter := d.rawOK(t, 200, "wang.fang", "/v1/trips/"+id+"/confirmation?min_position="+pos(out["position"]))
	for _, want := range []string{"出差安排确认函", "E12345", "H-889", "1200.00", "刘洋 Liu Yang"} {
		if !strings.Contains(letter, want) {
			t.Errorf("the confirmation letter does not show %q", want)
		}
	}
	d.rawOK(t, 200, "wang.fang", "/v1/trips/"+id+"/confirmation?format=xlsx")
	d.rawOK(t, 422, "wang.fang", "/v1/trips/"+id+"/expense-claim")
	d.rawOK(t, 403, "zhou.qiang", "/v1/trips/"+id+"/confirmation")

	// Cancelled before travel.
	out = d.must(t, 200, "wang.fang", "POST", "/v1/processes/"+id+"/revoke", map[string]any{"comment": "客户改期"})
	if out["position"] == nil {
		t.Errorf("revoke answered %v", out)
	}
	exportHistory(t, d, id, "cancelled")
}

// TestTripFullEndToEnd runs a whole business trip through the HTTP API on
// houqin dev: finance activates the year's budget; li.na (logistics)
// submits wang.fang's trip, dated in the past so that the departure and
// return timers fire at once; wang.fang reads it before she has a task;
// her manager approves from the inbox; li.na books; the confirmation
// letter is served; wang.fang claims with a per-diem above its cap; her
// manager approves the over-cap line and finance the claim; the 报销单 is
// served in HTML and XLSX; the travel line shows the actual cost; the
// survey goes to wang.fang, not to li.na.
func TestTripFullEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	cst := time.FixedZone("CST", 8*3600)
	now := time.Now().In(cst)
	y := strconv.Itoa(now.Year())
	created := d.must(t, 201, "zhang.wei", "POST", "/v1/budgets", map[string]any{"year": now.Year(), "reason": "年度后勤预算",
		"lines": []map[string]any{{"department": "MKT", "category": "travel", "amount": 500000, "control": "warn"}}})
	task := d.pendingTask(t, "chen.jing", created["id"].(string), created["position"])
	d.must(t, 200, "chen.jing", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{})

	// Three days ago to yesterday (UTC+8): a trip already made. The
	// budget year is the year the trip is submitted in, whatever the dates.
	depart, middle, back := now.AddDate(0, 0, -3).Format(time.DateOnly), now.AddDate(0, 0, -2).Format(time.DateOnly),
		now.AddDate(0, 0, -1).Format(time.DateOnly)
	body := map[string]any{"traveler": "wang.fang", "purpose": "客户拜访", "budget_category": "travel", "estimated_cost": 350000,
		"transport": "train", "lodging": true,
		"legs": []map[string]any{{"from": "上海", "to": "北京", "depart": depart, "return": back}}}
	// 预览审批流程: li.na sees who will approve wang.fang's trip.
	route, preview := previewRoute(t, d, "li.na", "/v1/trips/preview", body)
	if want := []string{"manager_approval true liu.yang", "hr_approval false ", "finance_approval false ", "budget_review false ", "budget_exception false "}; !slices.Equal(route, want) || preview["subject"] != "wang.fang" {
		t.Errorf("preview route %q for %v, want %q for wang.fang", route, preview["subject"], want)
	}
	// A long, dear trip of chen.jing, the only one with the finance role,
	// submitted by li.na: chen.jing approves no step of it; her manager
	// (admin) takes the finance step.
	long := map[string]any{"traveler": "chen.jing", "purpose": "审计培训", "budget_category": "travel", "estimated_cost": 1200000,
		"transport": "plane", "lodging": true, "legs": []map[string]any{{"from": "上海", "to": "成都", "depart": "2027-03-01", "return": "2027-03-08"}}}
	if route, preview := previewRoute(t, d, "li.na", "/v1/trips/preview", long); !slices.Equal(route, []string{"manager_approval true admin",
		"hr_approval true zhao.lei", "finance_approval true admin", "budget_review false ", "budget_exception false "}) || preview["subject"] != "chen.jing" {
		t.Errorf("preview of chen.jing's trip %q for %v, want finance_approval by her manager admin", route, preview["subject"])
	}
	created = d.must(t, 201, "li.na", "POST", "/v1/trips", body)
	id := created["id"].(string)
	// The traveller reads her trip from the start; others do not.
	p := d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id+"?min_position="+pos(created["position"]), nil)
	if p["requester"] != "li.na" || p["subject"] != "wang.fang" || p["kind"] != "trip" {
		t.Errorf("process %v", p)
	}
	d.must(t, 403, "zhou.qiang", "GET", "/v1/processes/"+id, nil)
	// Her own list shows it, as li.na's does.
	for _, who := range []string{"wang.fang", "li.na"} {
		mine := d.must(t, 200, who, "GET", "/v1/processes?mine=true&kind=trip", nil)["items"].([]any)
		if !slices.ContainsFunc(mine, func(it any) bool { return it.(map[string]any)["id"] == id }) {
			t.Errorf("%s's trips %v lack %s", who, mine, id)
		}
	}

	review := taskIn(t, d.inbox(t, "liu.yang", "pending", created["position"]), id, "liu.yang's approval")
	out := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+review["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	book := pendingStep(t, d, "li.na", id, "book", out["position"])
	out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+book+"/complete", map[string]any{"data": map[string]any{
		"transport": []map[string]any{{"description": "G2 上海→北京", "reference": "E12345", "amount": 55300},
			{"description": "G5 北京→上海", "reference": "E12346", "amount": 55300}},
		"lodging": []map[string]any{{"description": "北京饭店 2 晚", "reference": "H-889", "amount": 120000}}}})
	letter := d.rawOK(t, 200, "wang.fang", "/v1/trips/"+id+"/confirmation?min_position="+pos(out["position"]))
	for _, want := range []string{"出差安排确认函", "王芳 Wang Fang", "E12346", "H-889", "2306.00"} {
		if !strings.Contains(letter, want) {
			t.Errorf("the confirmation letter does not show %q", want)
		}
	}
	xlsxCells(t, d, "wang.fang", "/v1/trips/"+id+"/confirmation?format=xlsx", "出差安排确认函 Trip confirmation letter", "王芳 Wang Fang", "2306.00")

	// The timers fire at once: the claim is wang.fang's task.
	claim := pendingStep(t, d, "wang.fang", id, "claim", out["position"])
	lines := []map[string]any{
		{"category": "per_diem", "amount": 20000, "date": middle},
		{"category": "transport", "amount": 8600, "date": middle, "receipt": "taxi-0311"}}
	if p := d.must(t, 400, "wang.fang", "POST", "/v1/tasks/"+claim+"/complete", map[string]any{"data": map[string]any{"lines": lines}}); !strings.Contains(p["detail"].(string), "lines[0].justification") {
		t.Errorf("unjustified over-cap line: %v", p)
	}
	d.must(t, 403, "li.na", "POST", "/v1/tasks/"+claim+"/complete", map[string]any{"data": map[string]any{"lines": lines}})
	lines[0]["justification"] = "客户晚宴后加班"
	out = d.must(t, 200, "wang.fang", "POST", "/v1/tasks/"+claim+"/complete", map[string]any{"data": map[string]any{"lines": lines}})
	overCap := pendingStep(t, d, "liu.yang", id, "claim_over_cap", out["position"])
	out = d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+overCap+"/approve", map[string]any{"comment": "同意超标"})
	finance := pendingStep(t, d, "chen.jing", id, "claim_finance", out["position"])
	out = d.must(t, 200, "chen.jing", "POST", "/v1/tasks/"+finance+"/approve", map[string]any{})
	if out["status"] != "completed" {
		t.Fatalf("finance's approval answered %v, want completed", out)
	}
	p = d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id+"?min_position="+pos(out["position"]), nil)
	var timeline []string
	for _, e := range p["timeline"].([]any) {
		timeline = append(timeline, e.(map[string]any)["type"].(string))
	}
	for _, want := range []string{"trip.booked", "trip.departed", "trip.returned", "trip.claim_submitted", "trip.reimbursed", "trip.completed"} {
		if !slices.Contains(timeline, want) {
			t.Errorf("timeline %q has no %s", timeline, want)
		}
	}

	// The 报销单: 286.00 claimed, 2306.00 booked, 2592.00 actual.
	form := d.rawOK(t, 200, "wang.fang", "/v1/trips/"+id+"/expense-claim?min_position="+pos(out["position"]))
	for _, want := range []string{"差旅费报销单", "王芳 Wang Fang", "200.00", "150.00", "86.00", "286.00", "2306.00", "2592.00", "客户晚宴后加班", "陈静 Chen Jing"} {
		if !strings.Contains(form, want) {
			t.Errorf("the expense claim form does not show %q", want)
		}
	}
	xlsxCells(t, d, "wang.fang", "/v1/trips/"+id+"/expense-claim?format=xlsx", "差旅费报销单 Travel expense claim", "王芳 Wang Fang",
		"200.00", "286.00", "2592.00", "客户晚宴后加班")

	budget := d.must(t, 200, "chen.jing", "GET", fmt.Sprintf("/v1/budgets/%s?min_position=%v", y, out["position"]), nil)
	if l := budgetLine(t, budget, "MKT", "travel"); l["actual"] != 259200.0 || l["committed"] != 0.0 {
		t.Errorf("travel line %v, want 2592.00 actual, nothing committed", l)
	}

	// The survey is the traveller's.
	sid := "SV-" + id
	deadline := time.Now().Add(30 * time.Second)
	for {
		items := d.must(t, 200, "wang.fang", "GET", "/v1/tasks?assignee=me&status=pending", nil)["items"].([]any)
		if slices.ContainsFunc(items, func(it any) bool { return it.(map[string]any)["process_id"] == sid }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no survey %s for wang.fang: %v", sid, items)
		}
		time.Sleep(100 * time.Millisecond)
	}
	items := d.must(t, 200, "li.na", "GET", "/v1/tasks?assignee=me&status=pending", nil)["items"].([]any)
	if slices.ContainsFunc(items, func(it any) bool { return it.(map[string]any)["process_id"] == sid }) {
		t.Errorf("li.na, who submitted the trip, has the survey %s", sid)
	}
	exportHistory(t, d, id, "reimbursed")
}

// xlsxCells fetches an XLSX document and checks that its first sheet shows
// each of want in some cell.
func xlsxCells(t *testing.T, d *devProcess, user, path string, want ...string) {
	t.Helper()
	code, ctype, body := d.raw(t, user, path)
	if code != 200 || !strings.Contains(ctype, "spreadsheetml") {
		t.Fatalf("GET %s: %d %s", path, code, ctype)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	var cells []string
	for _, r := range rows {
		cells = append(cells, r...)
	}
	for _, w := range want {
		if !slices.Contains(cells, w) {
			t.Errorf("%s: no cell %q in %q", path, w, cells)
		}
	}
}
