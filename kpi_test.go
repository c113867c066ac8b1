package houqin_test

import (
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

func TestParseKPIConfig(t *testing.T) {
	c, err := houqin.ParseKPIConfig("kpi.yaml", config.DefaultKPI())
	if err != nil {
		t.Fatal(err)
	}
	if c.Targets[houqin.KPISatisfaction].Value != 0.85 || c.Targets[houqin.KPIBudgetOverrun].Comparison != "<=" ||
		c.Survey.CloseAfter.D() != 7*24*time.Hour || c.Survey.RemindAfter.D() != 72*time.Hour {
		t.Errorf("default config %+v", c)
	}
	if off := time.Date(2026, 6, 30, 20, 0, 0, 0, time.UTC).In(c.Location()).Format(time.DateOnly); off != "2026-07-01" {
		t.Errorf("20:00 UTC on 30 June is %s in the KPI zone, want 2026-07-01", off)
	}
	for yaml, want := range map[string]string{
		"targets: {speed: {value: 1, comparison: '>='}}":    "x.yaml: targets.speed: unknown KPI",
		"targets: {on_time: {value: 90, comparison: '>='}}": "x.yaml: targets.on_time.value: must be a ratio between 0 and 1, got 90",
		"targets: {on_time: {value: 0.9, comparison: '>'}}": `x.yaml: targets.on_time.comparison: must be >= or <=, got ">"`,
		"survey: {remind_after: 8d}":                        "x.yaml: survey.remind_after: must be before close_after",
		"timezone: Mars/Olympus":                            `x.yaml: timezone: unknown zone "Mars/Olympus"`,
		"colour: red":                                       "x.yaml: ",
	} {
		_, err := houqin.ParseKPIConfig("x.yaml", []byte(yaml))
		if houqin.ErrorCode(err) != houqin.EINVALID || len(houqin.ErrorMessage(err)) < len(want) || houqin.ErrorMessage(err)[:len(want)] != want {
			t.Errorf("%s: %v, want %s…", yaml, err, want)
		}
	}
}

func TestSurveyDomain(t *testing.T) {
	for q, want := range map[string]string{"2026-Q4": "SC-2026-Q4", "2026-Q5": "", "2026Q1": "", "26-Q1": "", "2026-Q1x": ""} {
		id, err := houqin.CampaignID(q)
		if id != want || (want == "") != (err != nil) {
			t.Errorf("CampaignID(%q) = %q, %v", q, id, err)
		}
	}
	for _, tt := range []struct {
		a    houqin.SurveyAnswer
		want string
	}{{houqin.SurveyAnswer{Score: 4}, ""}, {houqin.SurveyAnswer{Score: 0}, "score: must be 1 to 5, got 0"}, {houqin.SurveyAnswer{Score: 6}, "score: must be 1 to 5, got 6"}} {
		if got := houqin.ErrorMessage(tt.a.Validate()); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.a, got, tt.want)
		}
	}
	if (houqin.SurveyAnswer{Score: 3}).Satisfied() || !(houqin.SurveyAnswer{Score: 4}).Satisfied() {
		t.Error("satisfied means 4 or more")
	}
	if houqin.SurveyIDFor("PR-2026-000001") != "SV-PR-2026-000001" || houqin.SurveyIDInCampaign("SC-2026-Q4", "wang.fang") != "SV-SC-2026-Q4-wang.fang" {
		t.Error("survey IDs")
	}
}

func TestDeliverableReviewedValidate(t *testing.T) {
	ok := houqin.DeliverableReviewed{ProcessID: "PR-1", Kind: "minutes", Document: "M-1", Title: "纪要", Outcome: houqin.OutcomeMinorIssues, Reviewer: "zhang.wei"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		change func(*houqin.DeliverableReviewed)
		want   string
	}{
		{func(d *houqin.DeliverableReviewed) { d.ProcessID = "" }, "process_id: required"},
		{func(d *houqin.DeliverableReviewed) { d.Kind = "poem" }, `kind: must be one of report, minutes, letter, plan, other, got "poem"`},
		{func(d *houqin.DeliverableReviewed) { d.Document = " " }, "document: required"},
		{func(d *houqin.DeliverableReviewed) { d.Title = "" }, "title: required"},
		{func(d *houqin.DeliverableReviewed) { d.Outcome = "ok" }, `outcome: must be accepted, minor_issues or major_error, got "ok"`},
	} {
		d := ok
		tt.change(&d)
		if got := houqin.ErrorMessage(d.Validate()); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
