package houqin_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

func validTrip() houqin.TripRequest {
	return houqin.TripRequest{
		Traveler: "wang.fang", Purpose: "客户拜访", BudgetCategory: "travel", EstimatedCost: 350000,
		Transport: "train", Lodging: true, Department: "MKT",
		Legs: []houqin.TripLeg{{From: "上海", To: "北京", Depart: "2026-12-01", Return: "2026-12-03"}},
	}
}

func TestTripRequestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *houqin.TripRequest)
		want   string
	}{
		{"valid", func(r *houqin.TripRequest) {}, ""},
		{"two legs", func(r *houqin.TripRequest) {
			r.Legs = append(r.Legs, houqin.TripLeg{From: "北京", To: "天津", Depart: "2026-12-03", Return: "2026-12-04"})
		}, ""},
		{"no traveler", func(r *houqin.TripRequest) { r.Traveler = " " }, "traveler: required"},
		{"no purpose", func(r *houqin.TripRequest) { r.Purpose = "" }, "purpose: required"},
		{"long purpose", func(r *houqin.TripRequest) { r.Purpose = strings.Repeat("因", 2001) }, "purpose: longer than 2000 characters"},
		{"other category", func(r *houqin.TripRequest) { r.BudgetCategory = "events" }, `budget_category: must be "travel", got "events"`},
		{"zero cost", func(r *houqin.TripRequest) { r.EstimatedCost = 0 }, "estimated_cost: must be positive, got 0"},
		{"huge cost", func(r *houqin.TripRequest) { r.EstimatedCost = 1 << 62 }, "estimated_cost: at most 100000000000, got 4611686018427387904"},
		{"bad currency", func(r *houqin.TripRequest) { r.Currency = "rmb" }, `currency: must be a three-letter ISO 4217 code such as CNY, got "rmb"`},
		{"bad transport", func(r *houqin.TripRequest) { r.Transport = "rocket" }, `transport: must be one of train, plane, car, bus, ship, other, got "rocket"`},
		{"no legs", func(r *houqin.TripRequest) { r.Legs = nil }, "legs: at least one leg is required"},
		{"no from", func(r *houqin.TripRequest) { r.Legs[0].From = "" }, "legs[0].from: required"},
		{"no to", func(r *houqin.TripRequest) { r.Legs[0].To = "" }, "legs[0].to: required"},
		{"nowhere", func(r *houqin.TripRequest) { r.Legs[0].To = "上海" }, `legs[0].to: the leg goes nowhere (from and to are both "上海")`},
		{"bad depart", func(r *houqin.TripRequest) { r.Legs[0].Depart = "2026-13-01" }, `legs[0].depart: must be a date YYYY-MM-DD, got "2026-13-01"`},
		{"bad return", func(r *houqin.TripRequest) { r.Legs[0].Return = "" }, `legs[0].return: must be a date YYYY-MM-DD, got ""`},
		{"return before depart", func(r *houqin.TripRequest) { r.Legs[0].Return = "2026-11-30" }, "legs[0].return: 2026-11-30 is before the departure 2026-12-01"},
		{"legs out of order", func(r *houqin.TripRequest) {
			r.Legs = append(r.Legs, houqin.TripLeg{From: "北京", To: "天津", Depart: "2026-11-20", Return: "2026-11-21"})
		}, "legs[1].depart: 2026-11-20 is before legs[0].depart 2026-12-01; list the legs in order"},
		{"too long", func(r *houqin.TripRequest) { r.Legs[0].Return = "2028-01-01" }, "legs: a trip lasts at most 366 days, got 397"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validTrip()
			tt.change(&r)
			err := r.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
				t.Fatalf("Validate = %v, want EINVALID %q", err, tt.want)
			}
		})
	}
}

func TestTripDerived(t *testing.T) {
	r := validTrip()
	r.Legs = append(r.Legs,
		houqin.TripLeg{From: "北京", To: "天津", Depart: "2026-12-03", Return: "2026-12-05"},
		houqin.TripLeg{From: "天津", To: "北京", Depart: "2026-12-05", Return: "2026-12-06"})
	if r.Start() != "2026-12-01" || r.End() != "2026-12-06" || r.Days() != 6 {
		t.Errorf("start %s end %s days %d, want 2026-12-01, 2026-12-06, 6", r.Start(), r.End(), r.Days())
	}
	if diff := cmp.Diff([]string{"北京", "天津"}, r.Destinations()); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
	for day, want := range map[string]string{"2026-12-01": "北京", "2026-12-03": "天津", "2026-12-06": "北京", "2026-12-07": ""} {
		if got, _ := r.CityOn(day); got != want {
			t.Errorf("CityOn(%s) = %q, want %q", day, got, want)
		}
	}
	f := r.Facts("li.na", "liu.yang")
	if f["days"] != int64(6) || f["traveler_manager"] != "liu.yang" || f["estimated_cost"] != int64(350000) || f["over_cap"] != false {
		t.Errorf("facts = %v", f)
	}
	if got := r.Title(); got != "出差 · 北京、天津 · 客户拜访" {
		t.Errorf("title = %q", got)
	}
}

func travelRules(t *testing.T) houqin.TravelRules {
	t.Helper()
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := p.Kind(houqin.KindTrip)
	if err != nil {
		t.Fatal(err)
	}
	if kp.Travel == nil || len(kp.ClaimSteps) != 4 || len(kp.Steps) != 5 {
		t.Fatalf("trip policy: travel %v, %d claim steps, %d steps", kp.Travel, len(kp.ClaimSteps), len(kp.Steps))
	}
	return *kp.Travel
}

func TestTravelCaps(t *testing.T) {
	rules := travelRules(t)
	for city, want := range map[string]houqin.TravelCaps{
		"北京": {Hotel: 60000, PerDiem: 15000}, "杭州": {Hotel: 45000, PerDiem: 12000}, "大理": {Hotel: 35000, PerDiem: 10000},
	} {
		if got := rules.Caps(city); got != want {
			t.Errorf("Caps(%s) = %+v, want %+v", city, got, want)
		}
	}
	bad := rules
	bad.Tiers = append([]houqin.CityTier(nil), rules.Tiers...)
	bad.Tiers[1].Cities = []string{"北京"}
	if err := bad.Validate(); houqin.ErrorMessage(err) != `tiers[1].cities[0]: "北京" is already in tiers[0]` {
		t.Errorf("Validate of a city in two tiers = %v", err)
	}
	bad.Tiers = nil
	bad.Other.PerDiem = 0
	if err := bad.Validate(); houqin.ErrorMessage(err) != "other.per_diem: must be positive, got 0" {
		t.Errorf("Validate without other.per_diem = %v", err)
	}
}

// TestDayCaps: each day of a trip has the caps of the city the traveller is
// in; a day between legs has the caps of no tier.
func TestDayCaps(t *testing.T) {
	r := validTrip()
	r.Legs = []houqin.TripLeg{{From: "上海", To: "北京", Depart: "2026-12-01", Return: "2026-12-02"},
		{From: "北京", To: "杭州", Depart: "2026-12-04", Return: "2026-12-05"}}
	got := fmt.Sprint(r.DayCaps(travelRules(t)))
	want := "[{2026-12-01 北京 {60000 15000}} {2026-12-02 北京 {60000 15000}} {2026-12-03  {35000 10000}} " +
		"{2026-12-04 杭州 {45000 12000}} {2026-12-05 杭州 {45000 12000}}]"
	if got != want {
		t.Errorf("DayCaps = %s\nwant      %s", got, want)
	}
}

func TestCheckClaim(t *testing.T) {
	rules := travelRules(t)
	r := validTrip()
	r.Legs = append(r.Legs, houqin.TripLeg{From: "北京", To: "大理", Depart: "2026-12-03", Return: "2026-12-04"})
	valid := func() houqin.ExpenseClaim {
		return houqin.ExpenseClaim{Lines: []houqin.ClaimLine{
			{Category: "transport", Amount: 55300, Date: "2026-12-01", Receipt: "G1-ticket"},
			{Category: "hotel", Amount: 60000, Date: "2026-12-01", Receipt: "INV-1"},
			{Category: "per_diem", Amount: 15000, Date: "2026-12-02"},
			{Category: "hotel", Amount: 35000, Date: "2026-12-04", Receipt: "INV-2"}, // 大理: other
		}}
	}
	if over, err := r.CheckClaim(valid(), rules); err != nil || len(over) != 0 {
		t.Fatalf("CheckClaim(valid) = %v, %v", over, err)
	}
	tests := []struct {
		name   string
		change func(c *houqin.ExpenseClaim)
		want   string
	}{
		{"no lines", func(c *houqin.ExpenseClaim) { c.Lines = nil }, "lines: at least one line is required"},
		{"bad category", func(c *houqin.ExpenseClaim) { c.Lines[0].Category = "gifts" }, `lines[0].category: must be one of transport, hotel, per_diem, other, got "gifts"`},
		{"zero amount", func(c *houqin.ExpenseClaim) { c.Lines[2].Amount = 0 }, "lines[2].amount: must be positive, got 0"},
		{"no receipt", func(c *houqin.ExpenseClaim) { c.Lines[1].Receipt = "" }, "lines[1].receipt: required for hotel"},
		{"bad date", func(c *houqin.ExpenseClaim) { c.Lines[0].Date = "12/01" }, `lines[0].date: must be a date YYYY-MM-DD, got "12/01"`},
		{"outside the trip", func(c *houqin.ExpenseClaim) { c.Lines[0].Date = "2026-12-05" }, "lines[0].date: 2026-12-05 is outside the trip (2026-12-01 to 2026-12-04)"},
		{"two hotels a night", func(c *houqin.ExpenseClaim) { c.Lines[3].Date = "2026-12-01" }, "lines[3].date: one hotel a day; lines[1] already claims 2026-12-01"},
		{"over cap unjustified", func(c *houqin.ExpenseClaim) { c.Lines[3].Amount = 35001 }, "lines[3].justification: 350.01 is above the hotel cap of 350.00 in 大理; say why"},
		{"per diem over cap", func(c *houqin.ExpenseClaim) { c.Lines[2].Amount = 20000 }, "lines[2].justification: 200.00 is above the per_diem cap of 150.00 in 北京; say why"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			_, err := r.CheckClaim(c, rules)
			if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
				t.Fatalf("CheckClaim = %v, want EINVALID %q", err, tt.want)
			}
		})
	}
	c := valid()
	c.Lines[1].Amount, c.Lines[1].Justification = 80000, "会议酒店"
	over, err := r.CheckClaim(c, rules)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]houqin.OverCap{{Line: 1, City: "北京", Cap: 60000, Over: 20000}}, over); diff != "" {
		t.Errorf("over cap (-want +got):\n%s", diff)
	}
	if caps := r.LineCaps(c, rules); !cmp.Equal(caps, []int64{0, 60000, 15000, 35000}) {
		t.Errorf("caps %v, want transport uncapped, 北京 hotel and per diem, 大理 hotel", caps)
	}
	f := houqin.ClaimFacts(r.Facts("wang.fang", "liu.yang"), c, over)
	if f["over_cap"] != true || f["over_cap_amount"] != int64(20000) || f["claim_total"] != c.Total() || f["traveler"] != "wang.fang" {
		t.Errorf("claim facts = %v", f)
	}
}

func TestCheckBooking(t *testing.T) {
	r := validTrip()
	b := houqin.TripBooking{
		Transport: []houqin.TripBookingItem{{Description: "G2 上海→北京", Reference: "E123", Amount: 55300}},
		Lodging:   []houqin.TripBookingItem{{Description: "北京饭店 2 晚", Reference: "H9", Amount: 120000}},
	}
	if err := r.CheckBooking(b); err != nil || b.Total() != 175300 {
		t.Fatalf("CheckBooking = %v, total %d", err, b.Total())
	}
	for name, tc := range map[string]struct {
		change func(b *houqin.TripBooking)
		want   string
	}{
		"no transport": {func(b *houqin.TripBooking) { b.Transport = nil }, "transport: at least one booking is required"},
		"no hotel":     {func(b *houqin.TripBooking) { b.Lodging = nil }, "lodging: the request asks for lodging; book at least one hotel"},
		"no reference": {func(b *houqin.TripBooking) { b.Lodging[0].Reference = "" }, "lodging[0].reference: 1 to 200 characters"},
		"negative":     {func(b *houqin.TripBooking) { b.Transport[0].Amount = -1 }, "transport[0].amount: must be between 0 and 100000000000, got -1"},
	} {
		c := b
		c.Transport = append([]houqin.TripBookingItem(nil), b.Transport...)
		c.Lodging = append([]houqin.TripBookingItem(nil), b.Lodging...)
		tc.change(&c)
		if err := r.CheckBooking(c); houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tc.want {
			t.Errorf("%s: CheckBooking = %v, want %q", name, err, tc.want)
		}
	}
}
