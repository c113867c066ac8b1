package api

import (
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/projections"
)

// TestTripInput: the traveller's department and manager are resolved from
// the organisation; the traveller, someone of their department or an
// arranger may submit; others may not.
func TestTripInput(t *testing.T) {
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	policy, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{Org: org, Policy: policy, Now: func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }}}
	req := func() houqin.TripRequest {
		return houqin.TripRequest{Traveler: "wang.fang", Purpose: "客户拜访", BudgetCategory: "travel", EstimatedCost: 350000,
			Transport: "train", Lodging: true, Legs: []houqin.TripLeg{{From: "上海", To: "北京", Depart: "2026-12-01", Return: "2026-12-03"}}}
	}
	for _, requester := range []string{"wang.fang", "liu.yang", "li.na"} {
		in, err := s.tripInput(requester, req())
		if err != nil {
			t.Fatalf("%s submits: %v", requester, err)
		}
		if in.Request.Department != "MKT" || in.TravelerManager != "liu.yang" || in.Requester != requester ||
			in.PolicyHash != in.Policy.Hash() || in.Policy.Travel == nil || len(in.Logistics) != 1 || in.Logistics[0] != "li.na" {
			t.Errorf("%s submits: input %+v", requester, in)
		}
	}
	// li.na, the only logistics staffer, travels: the logistics manager books.
	r := req()
	r.Traveler = "li.na"
	if in, err := s.tripInput("li.na", r); err != nil || len(in.Logistics) != 1 || in.Logistics[0] != "zhang.wei" || in.Request.Department != "ADM" {
		t.Errorf("li.na travels: %+v, %v; want zhang.wei to book", in, err)
	}
	for _, tt := range []struct {
		name, requester string
		change          func(r *houqin.TripRequest)
		code, msg       string
	}{
		{"another department", "zhou.qiang", func(r *houqin.TripRequest) {}, houqin.EFORBIDDEN,
			"traveler: zhou.qiang may submit trips for themselves and their department (WH), not for wang.fang"},
		{"unknown traveller", "wang.fang", func(r *houqin.TripRequest) { r.Traveler = "no.body" }, houqin.EINVALID, `traveler: no user "no.body" in the organisation`},
		{"department given", "wang.fang", func(r *houqin.TripRequest) { r.Department = "FIN" }, houqin.EINVALID, "department: set from the traveller's department; leave it out"},
		{"bad leg", "wang.fang", func(r *houqin.TripRequest) { r.Legs[0].Return = "2026-11-30" }, houqin.EINVALID, "legs[0].return: 2026-11-30 is before the departure 2026-12-01"},
	} {
		r := req()
		tt.change(&r)
		_, err := s.tripInput(tt.requester, r)
		if houqin.ErrorCode(err) != tt.code || houqin.ErrorMessage(err) != tt.msg {
			t.Errorf("%s: %v, want %s %q", tt.name, err, tt.code, tt.msg)
		}
	}
}

// TestCanReadSubject: the traveller of a trip (its subject) reads it from
// the start, whoever submitted it; a process without a subject gives
// nobody more.
func TestCanReadSubject(t *testing.T) {
	trip := projections.ProcessRow{ID: "TR-2026-000001", Requester: "li.na", Subject: "wang.fang"}
	other := projections.ProcessRow{ID: "PR-2026-000001", Requester: "li.na"}
	for _, tt := range []struct {
		who  string
		p    projections.ProcessRow
		want bool
	}{
		{"wang.fang", trip, true},
		{"li.na", trip, true},
		{"zhou.qiang", trip, false},
		{"wang.fang", other, false},
		{"li.na", other, true},
	} {
		if got := canRead(houqin.Identity{UserID: tt.who}, tt.p, nil, nil); got != tt.want {
			t.Errorf("%s reads %+v: %v, want %v", tt.who, tt.p, got, tt.want)
		}
	}
}
