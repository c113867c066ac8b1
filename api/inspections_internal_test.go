package api

import (
	"slices"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
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
