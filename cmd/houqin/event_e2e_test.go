package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin/config"
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

	// The training starts in a few seconds, so that it can be held during
	// the test: nobody confirms an event held before it starts.
	starts, startsAt, endsAt := soon(20 * time.Second)
	created := d.must(t, 201, "wang.fang", "POST", "/v1/events", map[string]any{
		"type": "training", "title": "市场部产品培训", "starts_at": startsAt,
		"ends_at": endsAt, "attendee_departments": []string{"MKT"}, "equipment": []string{"投影"},
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
	hold := pendingStep(t, d, "wang.fang", id, "hold", out["position"])
	if time.Now().Before(starts) {
		act(422, "wang.fang", hold, "complete", map[string]any{})
	}
	time.Sleep(time.Until(starts) + 100*time.Millisecond)
	out = act(200, "wang.fang", hold, "complete", map[string]any{})
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

// TestEventAnnualMeetingEndToEnd is the seed case of events through the
// HTTP API on houqin dev: the annual all-hands meeting (DESIGN.md's
// body, every department) under the 2027 budget; its approval route
// (department head, logistics manager; the director's step carried over);
// marketing confirms the publicity, HR the attendee list with an edit;
// the venue and the equipment (音响, 投影) arranged with their costs, every
// other arrangement done; the meeting held (the actual consumed, the rest
// released); the minutes and summary sent back once, then accepted;
// several attendees answer their satisfaction surveys, which the KPI of
// MKT's events reflects exactly, and the unanswered ones close after the
// configured time; the plan, the schedule and the minutes are served.
func TestEventAnnualMeetingEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	// The surveys stay open 12 s (config/kpi.yaml survey, via --kpi).
	kpiYAML := strings.Replace(string(config.DefaultKPI()), "remind_after: 3d\n  close_after: 7d", "remind_after: 4s\n  close_after: 12s", 1)
	if !strings.Contains(kpiYAML, "close_after: 12s") {
		t.Fatal("config/kpi.yaml has no survey timers to shorten")
	}
	kpiFile := filepath.Join(t.TempDir(), "kpi.yaml")
	if err := os.WriteFile(kpiFile, []byte(kpiYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDev(t, "--kpi", kpiFile)
	act := func(code int, user, taskID, action string, body any) map[string]any {
		t.Helper()
		return d.must(t, code, user, "POST", "/v1/tasks/"+taskID+"/"+action, body)
	}

	// The meeting starts in a few seconds, so that it can be held during
	// the test, under this year's budget: MKT events 100 000.00.
	starts, startsAt, endsAt := soon(20 * time.Second)
	year := starts.In(time.FixedZone("CST", 8*3600)).Year()
	bu := d.must(t, 201, "zhang.wei", "POST", "/v1/budgets", map[string]any{"year": year, "reason": fmt.Sprintf("%d 年度后勤预算", year),
		"lines": []map[string]any{{"department": "MKT", "category": "events", "amount": 10000000}}})
	out := act(200, "chen.jing", d.pendingTask(t, "chen.jing", bu["id"].(string), bu["position"])["id"].(string), "approve", map[string]any{})
	eventsLine := func(at any) map[string]any {
		t.Helper()
		return budgetLine(t, d.must(t, 200, "chen.jing", "GET", fmt.Sprintf("/v1/budgets/%d?min_position=%s", year, pos(at)), nil), "MKT", "events")
	}
	if l := eventsLine(out["position"]); l["plan"] != 10000000.0 {
		t.Fatalf("MKT events %d %v", year, l)
	}

	meeting := map[string]any{
		"type": "annual_meeting", "title": "2026 全员大会", "starts_at": startsAt,
		"ends_at": endsAt, "attendee_departments": []string{"ALL"},
		"budget_category": "events", "estimated_cost": 8000000,
		"venue": "总部大礼堂（300 人）", "equipment": []string{"音响", "投影"}, "catering": "茶歇与午餐", "expected_attendees": 11}
	// 预览审批流程, before submitting: the route below.
	if route, _ := previewRoute(t, d, "wang.fang", "/v1/events/preview", meeting); !slices.Equal(route, []string{"dept_approval true liu.yang",
		"logistics_review true zhang.wei", "director_approval true zhang.wei", "budget_review false ", "budget_exception false "}) {
		t.Errorf("preview route %q", route)
	}
	created := d.must(t, 201, "wang.fang", "POST", "/v1/events", meeting)
	id := created["id"].(string)

	// The approval route of the policy: liu.yang (MKT head), zhang.wei
	// (logistics manager: an annual meeting); the director's step (80
	// 000.00 ≥ 50 000.00) is zhang.wei again, whose approval carries over.
	out = act(200, "liu.yang", pendingStep(t, d, "liu.yang", id, "dept_approval", created["position"]), "approve", map[string]any{"comment": "同意"})
	out = act(200, "zhang.wei", pendingStep(t, d, "zhang.wei", id, "logistics_review", out["position"]), "approve", map[string]any{"comment": "同意，注意控制费用"})
	hrTask := pendingStep(t, d, "zhao.lei", id, "confirm_attendees", out["position"])
	p := d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id+"?min_position="+pos(out["position"]), nil)
	var route []string
	for _, e := range p["timeline"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == "approval.step_completed" || ev["type"] == "event.budget_reserved" || ev["type"] == "event.approved" {
			data := ev["data"].(map[string]any)
			route = append(route, fmt.Sprintf("%v %v %v", ev["type"], data["step"], data["amount"]))
		}
	}
	if want := []string{"approval.step_completed dept_approval <nil>", "approval.step_completed logistics_review <nil>",
		"approval.step_completed director_approval <nil>", "event.budget_reserved <nil> 8e+06", "event.approved <nil> <nil>"}; !slices.Equal(route, want) {
		t.Errorf("route %q, want %q", route, want)
	}
	if l := eventsLine(out["position"]); l["committed"] != 8000000.0 || l["actual"] != 0.0 {
		t.Errorf("MKT events after the approval %v, want 80 000.00 committed", l)
	}

	// HR confirms the list: everyone but the administrator and the
	// property company's staff (external).
	attendees := []string{"zhang.wei", "li.na", "wang.fang", "liu.yang", "chen.jing", "zhao.lei", "sun.li", "zhou.qiang", "wu.min", "ma.chao", "huang.xin"}
	act(400, "zhao.lei", hrTask, "complete", map[string]any{"data": map[string]any{"attendees": []string{"li.na", "li.na"}}})
	if p := act(400, "zhao.lei", hrTask, "complete", map[string]any{"data": map[string]any{"attendees": []string{"li.na", "li.ma"}}}); !strings.Contains(fmt.Sprint(p["detail"]), `data.attendees[1]: no user "li.ma"`) {
		t.Errorf("a stranger on the list: %v", p)
	}
	out = act(200, "zhao.lei", hrTask, "complete", map[string]any{"data": map[string]any{"attendees": attendees, "note": "不含系统管理员与物业外包人员"}})
	out = act(200, "liu.yang", pendingStep(t, d, "liu.yang", id, "confirm_publicity", out["position"]), "complete", map[string]any{"comment": "海报与内网通知已发布"})

	// The arrangements, with the costs of the venue, the equipment and
	// the catering: 53 000.00 of the 80 000.00 estimated.
	arrange := func(user, step, note string, cost int64) {
		t.Helper()
		task := pendingStep(t, d, user, id, step, out["position"])
		data := map[string]any{"note": note}
		if cost > 0 {
			data["cost"] = cost
		}
		out = act(200, user, task, "complete", map[string]any{"data": data})
	}
	venue := pendingStep(t, d, "li.na", id, "venue", out["position"])
	if pr := act(400, "li.na", venue, "complete", map[string]any{"data": map[string]any{"note": "已订", "cost": -5}}); pr["detail"] != "data.cost: must not be negative, got -5" {
		t.Errorf("negative cost = %v", pr)
	}
	arrange("li.na", "venue", "总部大礼堂已预订，含舞台布置", 3000000)
	arrange("zheng.hao", "equipment", "音响、投影已调试，备用麦克风 4 支", 800000)
	arrange("li.na", "catering", "茶歇与午餐 300 份", 1500000)
	arrange("zhou.qiang", "supplies", "库存物资已备齐", 0)
	for dept, head := range map[string]string{"ADM": "zhang.wei", "MKT": "liu.yang", "FIN": "chen.jing", "HR": "zhao.lei", "PUR": "sun.li",
		"WH": "zhou.qiang", "SEC": "wu.min", "PMO": "ma.chao", "AUD": "admin"} { // the head of AUD is an auditor: their manager collects
		arrange(head, "materials_"+dept, dept+" 年度汇报材料已提交", 0)
	}

	// Held once it started: the 53 000.00 consumed, the other 27 000.00
	// released.
	hold := pendingStep(t, d, "wang.fang", id, "hold", out["position"])
	time.Sleep(time.Until(starts) + 100*time.Millisecond)
	out = act(200, "wang.fang", hold, "complete", map[string]any{})
	if l := eventsLine(out["position"]); l["committed"] != 0.0 || l["actual"] != 5300000.0 {
		t.Errorf("MKT events after the meeting %v, want 53 000.00 actual, nothing committed", l)
	}

	// The minutes and summary report: a major error, then accepted.
	minutes := func(text string) {
		t.Helper()
		out = act(200, "wang.fang", pendingStep(t, d, "wang.fang", id, "minutes", out["position"]), "complete",
			map[string]any{"data": map[string]any{"minutes": text, "summary": "全员大会顺利召开，到会 11 人。"}})
	}
	minutes("一、总经理致辞\n二、各部门年度汇报")
	out = act(200, "zhang.wei", pendingStep(t, d, "zhang.wei", id, "review_minutes", out["position"]), "complete",
		map[string]any{"data": map[string]any{"outcome": "major_error", "comment": "缺少 2027 年工作部署"}})
	minutes("一、总经理致辞\n二、各部门年度汇报\n三、2027 年工作部署")
	out = act(200, "zhang.wei", pendingStep(t, d, "zhang.wei", id, "review_minutes", out["position"]), "complete",
		map[string]any{"data": map[string]any{"outcome": "accepted"}})

	// Every confirmed attendee but the organiser and the logistics staff
	// (who would rate their own service) is surveyed; four answer.
	answers := map[string]int{"liu.yang": 5, "zhao.lei": 4, "sun.li": 3, "chen.jing": 5}
	var last any
	for _, u := range []string{"liu.yang", "zhao.lei", "sun.li", "chen.jing"} {
		task := pendingStep(t, d, u, "SV-"+id+"-"+u, "respond", out["position"])
		last = act(200, u, task, "complete", map[string]any{"data": map[string]any{"score": answers[u], "comment": "安排周到"}})["position"]
	}
	pendingStep(t, d, "ma.chao", "SV-"+id+"-ma.chao", "respond", out["position"])
	for _, u := range []string{"admin", "zhang.wei", "li.na"} {
		for _, it := range d.must(t, 200, u, "GET", "/v1/tasks?assignee=me&status=pending", nil)["items"].([]any) {
			if it.(map[string]any)["process_id"] == "SV-"+id+"-"+u {
				t.Errorf("%s surveyed: admin was left off the list by HR; zhang.wei and li.na serve logistics", u)
			}
		}
	}

	// The satisfaction KPI of MKT's events is exactly those answers: 3 of
	// 4 satisfied (a score of 4 or 5), score sum 17; 9 surveys sent (8
	// attendees and the organiser's, from the trigger).
	kpi := d.must(t, 200, "zhang.wei", "GET", "/v1/kpi?kind=event&department=MKT&min_position="+pos(last.(float64)), nil)
	sat := kpiNamed(t, kpi, "satisfaction")
	details, _ := sat["details"].(map[string]any)
	if sat["numerator"] != 3.0 || sat["denominator"] != 4.0 || sat["value"] != 0.75 || sat["pass"] != false || details["score_sum"] != 17.0 {
		t.Errorf("satisfaction of MKT's events = %v, want 3/4, score sum 17", sat)
	}
	if q := kpiNamed(t, kpi, "deliverable_quality"); q["numerator"] != 1.0 || q["denominator"] != 2.0 {
		t.Errorf("deliverable quality of MKT's events = %v, want 1/2 (one major error, then accepted)", q)
	}
	// The surveys close unanswered after 12 s; the answers stand.
	deadline := time.Now().Add(60 * time.Second)
	for {
		sat = kpiNamed(t, d.must(t, 200, "zhang.wei", "GET", "/v1/kpi?kind=event&department=MKT", nil), "satisfaction")
		details, _ = sat["details"].(map[string]any)
		if details["unanswered_closed"] == 5.0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if details["sent"] != 9.0 || details["unanswered_closed"] != 5.0 || sat["numerator"] != 3.0 || sat["denominator"] != 4.0 {
		t.Errorf("satisfaction after the close = %v, want 9 sent, 5 closed unanswered, 3/4", sat)
	}
	for _, it := range d.must(t, 200, "ma.chao", "GET", "/v1/tasks?assignee=me&status=pending", nil)["items"].([]any) {
		if it.(map[string]any)["process_id"] == "SV-"+id+"-ma.chao" {
			t.Error("ma.chao's survey is still open after the close")
		}
	}

	p = d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id, nil)
	if p["status"] != "completed" || p["title"] != "2026 全员大会" || p["kind"] != "event" {
		t.Errorf("process %v, want the completed annual meeting", p)
	}

	// The documents: the plan, the schedule, the minutes.
	plan := d.rawOK(t, 200, "wang.fang", "/v1/events/"+id+"/plan")
	for _, want := range []string{"活动策划方案", "2026 全员大会", "年会 / 全员大会 Annual meeting", "音响, 投影", "总部大礼堂（300 人）",
		"11（人事已确认", "80000.00 CNY", "53000.00 CNY", "27000.00 CNY", "已完成 Completed"} {
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
	costs, done := map[string]string{}, 0
	for _, r := range rows {
		if len(r) >= 10 {
			costs[r[0]] = r[9]
		}
		if len(r) > 4 && r[4] == "已完成 Done" {
			done++
		}
	}
	if costs["场地安排"] != "30000.00" || costs["设备准备（音响、投影等）"] != "8000.00" || costs["合计 Total"] != "53000.00" {
		t.Errorf("schedule costs %v", costs)
	}
	if done != 2+4+9 {
		t.Errorf("schedule has %d tasks done, want 2 confirmations, 4 arrangements and 9 departments' materials: %q", done, rows)
	}
	mins := d.rawOK(t, 200, "huang.xin", "/v1/events/"+id+"/minutes")
	for _, want := range []string{"会议纪要及总结报告", "三、2027 年工作部署", "全员大会顺利召开", "重大差错 Major error", "缺少 2027 年工作部署", "通过 Accepted"} {
		if !strings.Contains(mins, want) {
			t.Errorf("minutes lack %q", want)
		}
	}
	if _, err := excelize.OpenReader(bytes.NewReader([]byte(d.rawOK(t, 200, "wang.fang", "/v1/events/"+id+"/minutes?format=xlsx")))); err != nil {
		t.Errorf("minutes xlsx: %v", err)
	}
	d.rawOK(t, 404, "zhang.wei", "/v1/events/EV-2026-999999/minutes")
	d.rawOK(t, 400, "zhang.wei", "/v1/events/"+id+"/minutes?format=pdf")
	exportHistory(t, d, id, "annual-meeting-held-after-start")
	// liu.yang's survey: a workflow ID with a dot, which replay takes from
	// the history, not from the file's name.
	exportHistory(t, d, "SV-"+id+"-liu.yang", "answered")
}

// soon returns a moment d from now and an event's starts_at then and
// ends_at eight hours later, RFC 3339 in China Standard Time.
func soon(d time.Duration) (starts time.Time, startsAt, endsAt string) {
	cst := time.FixedZone("CST", 8*3600)
	starts = time.Now().Add(d).Truncate(time.Second)
	return starts, starts.In(cst).Format(time.RFC3339), starts.Add(8 * time.Hour).In(cst).Format(time.RFC3339)
}
