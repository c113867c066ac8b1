package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/storetest"
)

// TestSurveyAndKPIEndToEnd: a procurement completes on houqin dev; the
// survey trigger sends its requester a survey, which she answers through
// the HTTP API; GET /v1/kpi then shows satisfaction 1/1, a deliverable
// review counts in the quality KPI, /metrics exports both, and a
// quarterly campaign starts one survey per employee. The survey's
// history is exported for the replay test.
func TestSurveyAndKPIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	id := runProcurement(t, d)
	sid := "SV-" + id

	// The survey arrives in wang.fang's inbox shortly after.
	var task map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for task == nil {
		out := d.must(t, 200, "wang.fang", "GET", "/v1/tasks?assignee=me&status=pending", nil)
		for _, it := range out["items"].([]any) {
			if it.(map[string]any)["process_id"] == sid {
				task = it.(map[string]any)
			}
		}
		if task == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no survey %s for wang.fang: %v", sid, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if task["kind"] != "survey" || task["step"] != "respond" {
		t.Errorf("survey task = %v", task)
	}
	complete := "/v1/tasks/" + task["id"].(string) + "/complete"
	d.must(t, 403, "liu.yang", "POST", complete, map[string]any{"data": map[string]any{"score": 5}})
	d.must(t, 400, "wang.fang", "POST", complete, map[string]any{"data": map[string]any{"score": 0}})
	out := d.must(t, 200, "wang.fang", "POST", complete, map[string]any{"data": map[string]any{"score": 5, "comment": "到货及时"}})
	d.must(t, 409, "wang.fang", "POST", complete, map[string]any{"data": map[string]any{"score": 4}})

	d.must(t, 403, "wang.fang", "GET", "/v1/kpi", nil)
	kpi := d.must(t, 200, "zhang.wei", "GET", fmt.Sprintf("/v1/kpi?min_position=%v", out["position"]), nil)
	sat := kpiNamed(t, kpi, "satisfaction")
	if sat["numerator"] != 1.0 || sat["denominator"] != 1.0 || sat["value"] != 1.0 || sat["pass"] != true {
		t.Errorf("satisfaction = %v, want 1/1", sat)
	}
	// Items count in the period they fall due: the procurement's tasks
	// (due within days) and the procurement itself (needed by 15
	// December) were all done before their due times.
	year := d.must(t, 200, "zhang.wei", "GET", "/v1/kpi?to=2026-12-31", nil)
	if ot := kpiNamed(t, year, "on_time"); ot["denominator"].(float64) < 6 || ot["numerator"] != ot["denominator"] {
		t.Errorf("on time this year = %v: the procurement and its tasks were done on time", ot)
	}

	rv := d.must(t, 201, "zhang.wei", "POST", "/v1/deliverables/reviews", map[string]any{
		"process_id": id, "kind": "report", "document": "验收单-1", "title": "验收报告", "outcome": "accepted"})
	kpi = d.must(t, 200, "zhang.wei", "GET", fmt.Sprintf("/v1/kpi?min_position=%v", rv["position"]), nil)
	if q := kpiNamed(t, kpi, "deliverable_quality"); q["numerator"] != 1.0 || q["denominator"] != 1.0 {
		t.Errorf("deliverable quality = %v, want 1/1", q)
	}
	// The same answer as of the position of the survey's answer.
	past := d.must(t, 200, "huang.xin", "GET", fmt.Sprintf("/v1/kpi?as_of=%v", out["position"]), nil)
	if s := kpiNamed(t, past, "satisfaction"); s["numerator"] != 1.0 || s["denominator"] != 1.0 {
		t.Errorf("satisfaction as of %v = %v", out["position"], s)
	}
	if q := kpiNamed(t, past, "deliverable_quality"); q["denominator"] != 0.0 {
		t.Errorf("deliverable quality as of %v = %v: the review came later", out["position"], q)
	}

	metrics := get(t, d.url+"/metrics")
	for _, want := range []string{`houqin_kpi_satisfaction_ratio{department="MKT",kind="procurement"} 1`,
		`houqin_kpi_satisfaction_ratio{department="all",kind="all"} 1`, `houqin_kpi_target_ratio{kpi="on_time"} 0.9`,
		`houqin_kpi_deliverable_quality_ratio{department="MKT",kind="procurement"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	d.must(t, 403, "wang.fang", "POST", "/v1/surveys/campaigns", map[string]any{"quarter": "2026-Q4"})
	d.must(t, 400, "zhang.wei", "POST", "/v1/surveys/campaigns", map[string]any{"quarter": "2026-Q5"})
	c := d.must(t, 201, "zhang.wei", "POST", "/v1/surveys/campaigns", map[string]any{"quarter": "2026-Q4"})
	if n := len(c["surveys"].([]any)); n != 9 {
		t.Errorf("campaign surveys = %d, want 9 (every internal user but admin and the logistics staff, li.na and zhang.wei): %v", n, c)
	}
	again := d.must(t, 200, "zhang.wei", "POST", "/v1/surveys/campaigns", map[string]any{"quarter": "2026-Q4"})
	if len(again["surveys"].([]any)) != 9 || again["campaign_id"] != "SC-2026-Q4" {
		t.Errorf("repeated campaign = %v", again)
	}
	d.pendingTask(t, "zhou.qiang", "SV-SC-2026-Q4-zhou.qiang", c["position"])

	exportHistory(t, d, sid, "answered")
}

func kpiNamed(t *testing.T, rep map[string]any, name string) map[string]any {
	t.Helper()
	for _, k := range rep["kpis"].([]any) {
		if k.(map[string]any)["name"] == name {
			return k.(map[string]any)
		}
	}
	t.Fatalf("no KPI %s in %v", name, rep)
	return nil
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	io.Copy(&b, resp.Body)
	return b.String()
}

// TestSurveyTrigger appends, from outside, the events of services that
// ended in several ways into houqin dev's event store and checks which get
// a survey: a procurement completed now does; one completed 40 days ago
// (beyond survey.max_age), a rejected one and an inspection whose survey
// stream already exists do not.
func TestSurveyTrigger(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	s, err := openEventStore(context.Background(), "sqlite://"+filepath.Join(d.data, "events.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	service := func(kind houqin.ProcessKind, id string, at time.Time, end houqin.EventData) {
		t.Helper()
		req := houqin.ProcurementRequest{Department: "MKT", BudgetCategory: "office_supplies", Reason: "trigger " + id, NeededBy: "2026-12-31",
			Items: []houqin.ProcurementItem{{Name: "x", Quantity: 1, Unit: "box", UnitPrice: 100}}}
		var events []houqin.Event
		for _, data := range []houqin.EventData{houqin.RequisitionSubmitted{ProcessID: id, Requester: "wang.fang", Request: req, Total: 100}, end} {
			n++
			e, err := houqin.NewEvent(houqin.EventID("trigger", fmt.Sprint(n)), data, houqin.Metadata{Actor: "test", OccurredAt: at})
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
		events[1].Type = string(kind) + "." + strings.SplitN(events[1].Type, ".", 2)[1]
		storetest.MustAppend(t, s, string(kind)+"-"+id, houqin.ExpectNoStream, events...)
	}
	// The inspection's survey exists already (sent by an earlier run).
	e, err := houqin.NewEvent(houqin.EventID("trigger", "sv"), houqin.SurveySent{ProcessID: "SV-IN-2026-000001", Requester: "wang.fang",
		Respondent: "wang.fang", Service: houqin.SurveyService{ID: "IN-2026-000001", Kind: houqin.KindInspection}}, houqin.Metadata{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustAppend(t, s, houqin.SurveyStream("SV-IN-2026-000001"), houqin.ExpectNoStream, e)
	now := time.Now()
	service(houqin.KindProcurement, "PR-2026-000801", now.Add(-40*24*time.Hour), houqin.ProcurementCompleted{})
	service(houqin.KindProcurement, "PR-2026-000802", now, houqin.ProcurementRejected{By: "liu.yang", Comment: "no"})
	service(houqin.KindInspection, "IN-2026-000001", now, houqin.ProcurementCompleted{})
	service(houqin.KindProcurement, "PR-2026-000803", now, houqin.ProcurementCompleted{}) // the only one

	var surveys []string
	deadline := time.Now().Add(30 * time.Second)
	for len(surveys) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		out := d.must(t, 200, "wang.fang", "GET", "/v1/tasks?assignee=me&status=pending", nil)
		surveys = nil
		for _, it := range out["items"].([]any) {
			if task := it.(map[string]any); task["kind"] == "survey" {
				surveys = append(surveys, task["process_id"].(string))
			}
		}
	}
	// The trigger applies events in order: once the last one's survey is
	// there, the others have been passed over.
	if want := []string{"SV-PR-2026-000803"}; !slices.Equal(surveys, want) {
		t.Errorf("surveys = %v, want %v", surveys, want)
	}
	for _, id := range []string{"SV-PR-2026-000801", "SV-PR-2026-000802"} {
		if events := storetest.MustReadStream(t, s, houqin.SurveyStream(id)); len(events) != 0 {
			t.Errorf("%s has %d events, want none", id, len(events))
		}
	}
	if events := storetest.MustReadStream(t, s, houqin.SurveyStream("SV-IN-2026-000001")); len(events) != 1 {
		t.Errorf("SV-IN-2026-000001 has %d events, want the 1 appended by the test", len(events))
	}
}
