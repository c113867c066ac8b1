package houqin

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The travel rules of business trips (差旅标准: caps by city tier) and the
// expense claim (报销) checked against them; trip.go has the request, the
// booking and the events.

// TravelCaps are the daily caps of a city tier, minor units.
type TravelCaps struct {
	Hotel   int64 `json:"hotel" yaml:"hotel"`       // a night's lodging
	PerDiem int64 `json:"per_diem" yaml:"per_diem"` // a day's allowance
}

// CityTier is a tier of cities (一线城市 …) and its caps.
type CityTier struct {
	Name    Text     `json:"name" yaml:"name"`
	Cities  []string `json:"cities" yaml:"cities"`
	Hotel   int64    `json:"hotel" yaml:"hotel"`
	PerDiem int64    `json:"per_diem" yaml:"per_diem"`
}

// TravelRules are the expense caps of business trips (差旅标准), by city
// tier; a city in no tier has the caps of Other.
type TravelRules struct {
	Tiers []CityTier `json:"tiers" yaml:"tiers"`
	Other TravelCaps `json:"other" yaml:"other"`
}

// Validate reports as EINVALID, naming the field, what is wrong with t.
func (t TravelRules) Validate() error {
	seen := map[string]int{}
	for i, tier := range t.Tiers {
		field := fmt.Sprintf("tiers[%d]", i)
		switch {
		case strings.TrimSpace(tier.Name.Zh) == "" || strings.TrimSpace(tier.Name.En) == "":
			return Errorf(EINVALID, "%s.name: both zh and en are required", field)
		case len(tier.Cities) == 0:
			return Errorf(EINVALID, "%s.cities: at least one city is required", field)
		case tier.Hotel <= 0:
			return Errorf(EINVALID, "%s.hotel: must be positive, got %d", field, tier.Hotel)
		case tier.PerDiem <= 0:
			return Errorf(EINVALID, "%s.per_diem: must be positive, got %d", field, tier.PerDiem)
		}
		for k, c := range tier.Cities {
			if j, dup := seen[c]; dup {
				return Errorf(EINVALID, "%s.cities[%d]: %q is already in tiers[%d]", field, k, c, j)
			}
			seen[c] = i
		}
	}
	switch {
	case t.Other.Hotel <= 0:
		return Errorf(EINVALID, "other.hotel: must be positive, got %d", t.Other.Hotel)
	case t.Other.PerDiem <= 0:
		return Errorf(EINVALID, "other.per_diem: must be positive, got %d", t.Other.PerDiem)
	}
	return nil
}

// Caps returns the caps of a city: its tier's, else Other.
func (t TravelRules) Caps(city string) TravelCaps {
	for _, tier := range t.Tiers {
		if slices.Contains(tier.Cities, city) {
			return TravelCaps{Hotel: tier.Hotel, PerDiem: tier.PerDiem}
		}
	}
	return t.Other
}

// DayCaps are the caps of one day of a trip: the city the traveller is in
// that day (the destination of the leg covering it; "" between legs) and
// its caps — what a claim's hotel night or per-diem of that day is held to.
type DayCaps struct {
	Date string `json:"date"`
	City string `json:"city"`
	TravelCaps
}

// DayCaps returns the caps of every day of trip r under rules t, the first
// day first (a valid request).
func (r TripRequest) DayCaps(t TravelRules) []DayCaps {
	start, err := time.Parse(time.DateOnly, r.Start())
	if err != nil {
		return nil
	}
	days := make([]DayCaps, 0, r.Days())
	for i := range r.Days() {
		day := start.AddDate(0, 0, int(i)).Format(time.DateOnly)
		city, _ := r.CityOn(day)
		days = append(days, DayCaps{Date: day, City: city, TravelCaps: t.Caps(city)})
	}
	return days
}

// ClaimLine is one line of an expense claim (报销明细).
type ClaimLine struct {
	Category      string `json:"category"` // one of ClaimCategories
	Amount        int64  `json:"amount"`   // minor units, positive
	Date          string `json:"date"`     // YYYY-MM-DD, within the trip
	Receipt       string `json:"receipt,omitempty"`
	Justification string `json:"justification,omitempty"` // required above the cap
}

// ExpenseClaim is the data of the traveller's claim task.
type ExpenseClaim struct {
	Lines []ClaimLine `json:"lines"`
	Note  string      `json:"note,omitempty"`
}

// Total returns the claim's total.
func (c ExpenseClaim) Total() int64 {
	var t int64
	for _, l := range c.Lines {
		t += l.Amount
	}
	return t
}

// OverCap is a claim line above its cap.
type OverCap struct {
	Line int    `json:"line"` // index in the claim
	City string `json:"city"`
	Cap  int64  `json:"cap"`
	Over int64  `json:"over"` // amount − cap
}

// CheckClaim reports as EINVALID, naming the field, how c fails as a claim
// for trip r under rules t, and lists the lines above their caps: every
// line of a known category, a positive amount, a date within the trip, a
// receipt (except a per-diem), at most one hotel night and one per-diem a
// day, and a justification where a hotel night or a per-diem passes the
// cap of the city the traveller was in that day.
func (r TripRequest) CheckClaim(c ExpenseClaim, t TravelRules) ([]OverCap, error) {
	switch {
	case len(c.Lines) == 0:
		return nil, Errorf(EINVALID, "lines: at least one line is required")
	case len(c.Lines) > maxClaimLines:
		return nil, Errorf(EINVALID, "lines: at most %d, got %d", maxClaimLines, len(c.Lines))
	case utf8.RuneCountInString(c.Note) > maxReasonLen:
		return nil, Errorf(EINVALID, "note: longer than %d characters", maxReasonLen)
	}
	var over []OverCap
	daily := map[string]int{} // category|date → first line
	for i, l := range c.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		switch {
		case !slices.Contains(ClaimCategories, l.Category):
			return nil, Errorf(EINVALID, "%s.category: must be one of %s, got %q", field, strings.Join(ClaimCategories, ", "), l.Category)
		case l.Amount <= 0:
			return nil, Errorf(EINVALID, "%s.amount: must be positive, got %d", field, l.Amount)
		case l.Amount > maxTripAmount:
			return nil, Errorf(EINVALID, "%s.amount: at most %d, got %d", field, int64(maxTripAmount), l.Amount)
		case l.Category != ClaimPerDiem && strings.TrimSpace(l.Receipt) == "":
			return nil, Errorf(EINVALID, "%s.receipt: required for %s", field, l.Category)
		case utf8.RuneCountInString(l.Receipt) > maxReference:
			return nil, Errorf(EINVALID, "%s.receipt: longer than %d characters", field, maxReference)
		case utf8.RuneCountInString(l.Justification) > maxReasonLen:
			return nil, Errorf(EINVALID, "%s.justification: longer than %d characters", field, maxReasonLen)
		}
		if _, err := parseDate(field+".date", l.Date); err != nil {
			return nil, err
		}
		if l.Date < r.Start() || l.Date > r.End() {
			return nil, Errorf(EINVALID, "%s.date: %s is outside the trip (%s to %s)", field, l.Date, r.Start(), r.End())
		}
		if l.Category != ClaimHotel && l.Category != ClaimPerDiem {
			continue
		}
		key := l.Category + "|" + l.Date
		if j, dup := daily[key]; dup {
			return nil, Errorf(EINVALID, "%s.date: one %s a day; lines[%d] already claims %s", field, l.Category, j, l.Date)
		}
		daily[key] = i
		city, _ := r.CityOn(l.Date)
		caps := t.Caps(city)
		limit := caps.PerDiem
		if l.Category == ClaimHotel {
			limit = caps.Hotel
		}
		if l.Amount > limit {
			if strings.TrimSpace(l.Justification) == "" {
				return nil, Errorf(EINVALID, "%s.justification: %s is above the %s cap of %s in %s; say why", field, Money(l.Amount), l.Category, Money(limit), cityName(city))
			}
			over = append(over, OverCap{Line: i, City: city, Cap: limit, Over: l.Amount - limit})
		}
	}
	return over, nil
}

// LineCaps returns the cap of each line of c under rules t: a hotel
// night's or a per-diem's in the city of its day, 0 for the categories
// without a cap.
func (r TripRequest) LineCaps(c ExpenseClaim, t TravelRules) []int64 {
	caps := make([]int64, len(c.Lines))
	for i, l := range c.Lines {
		city, _ := r.CityOn(l.Date)
		switch l.Category {
		case ClaimHotel:
			caps[i] = t.Caps(city).Hotel
		case ClaimPerDiem:
			caps[i] = t.Caps(city).PerDiem
		}
	}
	return caps
}

func cityName(city string) string {
	if city == "" {
		return "transit"
	}
	return city
}

// ClaimFacts returns the facts of the claim route: the request's facts
// with claim_total, over_cap and over_cap_amount.
func ClaimFacts(f Facts, c ExpenseClaim, over []OverCap) Facts {
	out := make(Facts, len(f)+3)
	for k, v := range f {
		out[k] = v
	}
	var amount int64
	for _, o := range over {
		amount += o.Over
	}
	out["claim_total"], out["over_cap"], out["over_cap_amount"] = c.Total(), len(over) > 0, amount
	return out
}
