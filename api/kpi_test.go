package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
	"github.com/xuri/excelize/v2"
)

// kpiBatches are three moments of a department's June: each batch is
// appended, projected and answered live before the next.
func kpiBatches(t *testing.T, f *fixture) []func() {
	n := 0
	add := func(stream string, at time.Time, data houqin.EventData) {
		t.Helper()
		n++
		e, err := houqin.NewEvent(houqin.EventID("kpiapi", fmt.Sprint(n)), data, houqin.Metadata{Actor: "test", OccurredAt: at})
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustAppend(t, f.store, stream, houqin.ExpectAny, e)
	}
	june := func(day, hour int) time.Time { return time.Date(2026, 6, day, hour, 0, 0, 0, time.UTC) }
	const pr = "PR-2026-000001"
	req := houqin.ProcurementRequest{Department: "MKT", BudgetCategory: "office_supplies", Reason: "纸", NeededBy: "2026-06-20",
		Items: []houqin.ProcurementItem{{Name: "paper", Quantity: 1, Unit: "box", UnitPrice: 100}}}
	task := func(id string, due time.Time) houqin.TaskOpened {
		return houqin.TaskOpened{Task: houqin.Task{ID: id, ProcessID: pr, Kind: houqin.KindProcurement, Step: "s", Assignees: []string{"li.na"}, DueAt: due}}
	}
	line := houqin.BudgetLineStream(2026, "MKT", "office_supplies")
	return []func(){
		func() {
			add(houqin.ProcurementStream(pr), june(1, 4), houqin.RequisitionSubmitted{ProcessID: pr, Requester: "wang.fang", Request: req, Total: 100})
			add(houqin.ProcurementStream(pr), june(1, 4), task(pr+".a.1", june(2, 4)))
			add(houqin.ProcurementStream(pr), june(1, 8), houqin.TaskCompleted{TaskID: pr + ".a.1", Action: "complete"})
			add(line, june(1, 4), houqin.BudgetLinePlanned{Year: 2026, Department: "MKT", Category: "office_supplies", Amount: 1000, Currency: "CNY"})
		},
		func() {
			add(houqin.ProcurementStream(pr), june(2, 4), task(pr+".b.1", june(3, 4)))
			add(houqin.ProcurementStream(pr), june(5, 4), houqin.TaskCompleted{TaskID: pr + ".b.1", Action: "complete"}) // late
			add(houqin.ProcurementStream(pr), june(5, 4), houqin.ProcurementCompleted{})                                 // on time
			add(line, june(5, 4), houqin.BudgetConsumed{ProcessID: pr, Amount: 1100})
			add(houqin.SurveyStream("SV-"+pr), june(5, 5), houqin.SurveySent{ProcessID: "SV-" + pr, Requester: "wang.fang", Respondent: "wang.fang",
				Service: houqin.SurveyService{ID: pr, Kind: houqin.KindProcurement, Department: "MKT"}})
		},
		func() {
			add(houqin.SurveyStream("SV-"+pr), june(6, 5), houqin.SurveyAnswered{Respondent: "wang.fang", Score: 5})
			add(houqin.SurveyStream("SV-"+pr), june(6, 5), houqin.SurveyClosed{Answered: true, Reason: "answered"})
		},
	}
}

// TestKPIAsOfEqualsLive: at three moments the live answer of GET /v1/kpi
// is recorded; afterwards the same query with as_of (that moment, and the
// position the live answer reported) answers exactly the same.
func TestKPIAsOfEqualsLive(t *testing.T) {
	f := newFixture(t, time.Now())
	const query = "/v1/kpi?from=2026-06-01&to=2026-06-30"
	type moment struct {
		at   time.Time
		live projections.KPIReport
	}
	var moments []moment
	for _, batch := range kpiBatches(t, f) {
		batch()
		f.catchUp()
		time.Sleep(2 * time.Millisecond) // the next batch is recorded strictly later
		now := time.Now()
		f.setNow(now)
		var live projections.KPIReport
		decodeOK(t, f.do("zhang.wei", http.MethodGet, query, ""), 200, &live)
		moments = append(moments, moment{now, live})
		time.Sleep(2 * time.Millisecond)
	}
	f.setNow(time.Now())
	last := moments[len(moments)-1].live
	if got := last.KPI(houqin.KPISatisfaction); got.Numerator != 1 || got.Denominator != 1 || got.Pass == nil || !*got.Pass {
		t.Errorf("satisfaction at the end: %+v", got)
	}
	if got := last.KPI(houqin.KPIOnTime); got.Numerator != 2 || got.Denominator != 3 {
		t.Errorf("on time at the end: %d/%d, want 2/3", got.Numerator, got.Denominator)
	}
	if got := last.KPI(houqin.KPIBudgetOverrun); got.Numerator != 100 || got.Denominator != 1000 || got.Pass == nil || *got.Pass {
		t.Errorf("budget at the end: %+v", got)
	}
	if got := moments[0].live.KPI(houqin.KPISatisfaction); got.Status != "no_data" || got.Value != nil {
		t.Errorf("satisfaction at the start: %+v", got)
	}
	for i, m := range moments {
		for _, asOf := range []string{m.at.Format(time.RFC3339Nano), fmt.Sprint(m.live.Position)} {
			var past projections.KPIReport
			decodeOK(t, f.do("huang.xin", http.MethodGet, query+"&as_of="+url.QueryEscape(asOf), ""), 200, &past)
			want := m.live
			if _, err := fmt.Sscan(asOf, new(int64)); err == nil {
				// As of a position, the moment judged at is when that
				// event was recorded, a little before the live answer:
				// nothing was due in between.
				want.AsOf = past.AsOf
			}
			if diff := cmp.Diff(want, past); diff != "" {
				t.Errorf("moment %d, as_of=%s (-live +as_of):\n%s", i, asOf, diff)
			}
		}
	}
}

// TestKPIRequests: who may read the KPIs, and bad parameters named.
func TestKPIRequests(t *testing.T) {
	f := newFixture(t, time.Date(2026, 7, 5, 4, 0, 0, 0, time.UTC))
	problem(t, f.do("wang.fang", http.MethodGet, "/v1/kpi", ""), 403, "the KPIs are for managers")
	for q, detail := range map[string]string{
		"from=2026-13-01":               `from: must be a date YYYY-MM-DD, got "2026-13-01"`,
		"to=June":                       `to: must be a date YYYY-MM-DD, got "June"`,
		"from=2026-07-01&to=2026-06-01": "to: must not be before from (2026-07-01)",
		"department=XYZ":                `department: no department "XYZ"`,
		"kind=party":                    "kind: must be one of procurement",
		"as_of=yesterday":               "as_of: must be an RFC 3339 time",
		"as_of=0":                       "as_of: a position must be positive",
		"as_of=2030-01-01T00:00:00Z":    "as_of: 2030-01-01T00:00:00Z is in the future",
		"as_of=99":                      "as_of: position 99 is beyond the end of the log (0)",
	} {
		problem(t, f.do("zhang.wei", http.MethodGet, "/v1/kpi?"+q, ""), 400, detail)
	}
	var rep projections.KPIReport
	w := f.do("liu.yang", http.MethodGet, "/v1/kpi", "")
	if strings.Contains(w.Body.String(), `"worst":null`) {
		t.Errorf("a KPI's worst is null, not an empty list: %s", w.Body)
	}
	decodeOK(t, w, 200, &rep)
	if rep.From != "2026-01-01" || rep.To != "2026-07-05" || len(rep.KPIs) != 4 {
		t.Errorf("default period %s..%s, %d KPIs", rep.From, rep.To, len(rep.KPIs))
	}
	for _, k := range rep.KPIs {
		if k.Status != "no_data" || k.Pass != nil || k.Value != nil || len(k.Trend) != 7 {
			t.Errorf("%s with no data: %+v", k.Name, k)
		}
	}
}

// TestDeliverableReview: the logistics manager records reviews; the
// deliverable-quality KPI counts them; requesters, employees and auditors
// cannot, and bad bodies are named.
func TestDeliverableReview(t *testing.T) {
	f := newFixture(t, time.Date(2026, 6, 10, 4, 0, 0, 0, time.UTC))
	const pr = "PR-2026-000007"
	e, err := houqin.NewEvent(houqin.EventID("dr", "1"), houqin.RequisitionSubmitted{ProcessID: pr, Requester: "li.na",
		Request: houqin.ProcurementRequest{Department: "ADM", NeededBy: "2026-06-30"}}, houqin.Metadata{Actor: "li.na", OccurredAt: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustAppend(t, f.store, houqin.ProcurementStream(pr), houqin.ExpectNoStream, e)
	f.catchUp()
	body := func(doc, outcome string) string {
		return fmt.Sprintf(`{"process_id":%q,"kind":"minutes","document":%q,"title":"会议纪要","outcome":%q}`, pr, doc, outcome)
	}
	problem(t, f.do("wang.fang", http.MethodPost, "/v1/deliverables/reviews", body("M-1", "accepted")), 403, "only the logistics manager")
	problem(t, f.do("huang.xin", http.MethodPost, "/v1/deliverables/reviews", body("M-1", "accepted")), 403, "")
	problem(t, f.do("zhang.wei", http.MethodPost, "/v1/deliverables/reviews", body("M-1", "great")), 400, `outcome: must be accepted, minor_issues or major_error, got "great"`)
	problem(t, f.do("zhang.wei", http.MethodPost, "/v1/deliverables/reviews", `{"process_id":"PR-2026-999999","kind":"report","document":"x","title":"x","outcome":"accepted"}`), 400, `process_id: no process "PR-2026-999999"`)
	problem(t, f.do("zhang.wei", http.MethodPost, "/v1/deliverables/reviews", `{"process_id":"x","colour":"red"}`), 400, "colour: unknown field")
	var got struct {
		houqin.DeliverableReviewed
		Position int64 `json:"position"`
	}
	decodeOK(t, f.do("zhang.wei", http.MethodPost, "/v1/deliverables/reviews", body("M-1", "accepted")), 201, &got)
	if got.Department != "ADM" || got.Process != houqin.KindProcurement || got.Reviewer != "zhang.wei" || got.Position == 0 {
		t.Errorf("review %+v", got)
	}
	decodeOK(t, f.do("admin", http.MethodPost, "/v1/deliverables/reviews", body("M-2", "major_error")), 201, &got)
	f.catchUp()
	var rep projections.KPIReport
	decodeOK(t, f.do("zhang.wei", http.MethodGet, "/v1/kpi?from=2026-06-01&to=2026-06-30", ""), 200, &rep)
	k := rep.KPI(houqin.KPIDeliverableQuality)
	if k.Numerator != 1 || k.Denominator != 2 || k.Pass == nil || *k.Pass || k.Details["major_error"] != 1 {
		t.Errorf("deliverable quality %+v", k)
	}
	if len(k.Worst) == 0 || k.Worst[0].Key != "ADM" {
		t.Errorf("worst %+v", k.Worst)
	}
}

// TestReports: the service quality report as XLSX and HTML in both
// languages, and the plan; who may read them and bad parameters.
func TestReports(t *testing.T) {
	f := newFixture(t, time.Now())
	for _, batch := range kpiBatches(t, f) {
		batch()
	}
	f.catchUp()
	const q = "/v1/reports/service-quality?from=2026-06-01&to=2026-06-30"
	problem(t, f.do("wang.fang", http.MethodGet, q, ""), 403, "the KPIs are for managers")
	problem(t, f.do("zhang.wei", http.MethodGet, q+"&format=pdf", ""), 400, `format: must be xlsx or html, got "pdf"`)
	problem(t, f.do("zhang.wei", http.MethodGet, q+"&lang=fr", ""), 400, `lang: must be zh-CN or en, got "fr"`)
	w := f.do("zhang.wei", http.MethodGet, q+"&format=xlsx", "")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "service-quality-2026-06-01-2026-06-30.xlsx") {
		t.Fatalf("xlsx: %d %v", w.Code, w.Header())
	}
	x, err := excelize.OpenReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows(x.GetSheetList()[0])
	if len(rows) < 7 || rows[0][0] != "服务质量评估报告" || rows[6][0] != "服务满意度" || rows[6][2] != "1" || rows[6][3] != "1" {
		t.Errorf("xlsx rows %v", rows)
	}
	w = f.do("huang.xin", http.MethodGet, q+"&lang=en", "")
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, `<html lang="en">`) ||
		!strings.Contains(body, "<td>Logistics budget overrun</td><td>10.0%</td><td>1.00</td><td>10.00</td><td>&lt;= 5.0%</td><td>Fail</td>") {
		t.Errorf("html: %d %s", w.Code, body)
	}
	w = f.do("zhang.wei", http.MethodGet, "/v1/reports/plan?year=2026", "")
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "<td>MKT</td><td>office_supplies</td><td>10.00</td><td>11.00</td><td>CNY</td>") {
		t.Errorf("plan: %d %s", w.Code, body)
	}
	problem(t, f.do("zhang.wei", http.MethodGet, "/v1/reports/plan?year=twenty", ""), 400, `year: must be a year such as 2026, got "twenty"`)
	problem(t, f.do("li.na", http.MethodGet, "/v1/reports/plan", ""), 403, "the plan is for managers")
}
