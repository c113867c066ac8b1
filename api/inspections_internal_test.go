package api

import (
	"slices"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"go.temporal.io/sdk/client"
)

// TestInspectionOwners: each category's owners come from the checklists'
// rules, never the inspector, who verifies the fix: a security inspector's
// fire findings go to their manager.
func TestInspectionOwners(t *testing.T) {
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	policy, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	cls, err := houqin.ParseChecklists("checklists.yaml", config.DefaultChecklists())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{Org: org, Policy: policy, Checklists: cls, Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}}
	req := houqin.InspectionRequest{Template: "fire_safety_monthly", Location: "HQ", ScheduledFor: "2026-12-01"}
	for _, tt := range []struct {
		inspector string
		fire      []string
		building  []string
	}{
		{"li.na", []string{"wu.min"}, []string{"zheng.hao"}},
		{"wu.min", []string{"zhang.wei"}, []string{"zheng.hao"}},
	} {
		req.Inspector = tt.inspector
		in, err := s.inspectionInput("zhang.wei", req, true)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(in.Owners["fire"], tt.fire) || !slices.Equal(in.Owners["building"], tt.building) {
			t.Errorf("inspector %s: owners %v, want fire %v, building %v", tt.inspector, in.Owners, tt.fire, tt.building)
		}
		if !slices.Equal(in.Escalate, []string{"wu.min"}) || in.PolicyHash == "" || len(in.Checklist.Items) != 8 {
			t.Errorf("inspector %s: input %+v", tt.inspector, in)
		}
	}
	req.Inspector, req.Template = "li.na", "nosuch"
	if _, err := s.inspectionInput("zhang.wei", req, true); houqin.ErrorCode(err) != houqin.EINVALID {
		t.Errorf("unknown template: %v", err)
	}
	req.Template, req.Inspector = "fire_safety_monthly", "no.body"
	if _, err := s.inspectionInput("zhang.wei", req, true); houqin.ErrorCode(err) != houqin.EINVALID {
		t.Errorf("unknown inspector: %v", err)
	}
}

// TestCronOf: a schedule's calendar, as the server keeps a cron
// expression, is written back as that expression.
func TestCronOf(t *testing.T) {
	r := func(start, end, step int) client.ScheduleRange {
		return client.ScheduleRange{Start: start, End: end, Step: step}
	}
	for want, c := range map[string]client.ScheduleCalendarSpec{
		"0 1 1 * *": {Minute: []client.ScheduleRange{r(0, 0, 1)}, Hour: []client.ScheduleRange{r(1, 0, 1)},
			DayOfMonth: []client.ScheduleRange{r(1, 1, 1)}, Month: []client.ScheduleRange{r(1, 12, 1)}, DayOfWeek: []client.ScheduleRange{r(0, 6, 1)}},
		"*/15 9-17 * * 1-5": {Minute: []client.ScheduleRange{r(0, 59, 15)}, Hour: []client.ScheduleRange{r(9, 17, 1)}, DayOfWeek: []client.ScheduleRange{r(1, 5, 1)}},
		"30 8 * * 1,3":      {Minute: []client.ScheduleRange{r(30, 0, 0)}, Hour: []client.ScheduleRange{r(8, 0, 0)}, DayOfWeek: []client.ScheduleRange{r(1, 0, 0), r(3, 0, 0)}},
	} {
		if got := cronOf(c); got != want {
			t.Errorf("cronOf(%+v) = %q, want %q", c, got, want)
		}
	}
}
