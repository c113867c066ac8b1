package houqin

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The transport modes of a business trip (出差).
var TransportModes = []string{"train", "plane", "car", "bus", "ship", "other"}

// The categories of an expense claim line (报销明细).
const (
	ClaimTransport = "transport" // tickets, taxis
	ClaimHotel     = "hotel"     // one night's lodging; capped by the city's tier
	ClaimPerDiem   = "per_diem"  // one day's allowance; capped by the city's tier
	ClaimOther     = "other"
)

// ClaimCategories lists the categories of an expense claim line.
var ClaimCategories = []string{ClaimTransport, ClaimHotel, ClaimPerDiem, ClaimOther}

// TravelBudgetCategory is the budget category every trip spends from.
const TravelBudgetCategory = "travel"

// Bounds of a trip request and of a claim.
const (
	maxLegs       = 20
	maxClaimLines = 200
	maxTripDays   = 366
	maxReference  = 200
	// maxTripAmount bounds every amount of a trip (1 000 000 000.00), so
	// that no sum of them overflows.
	maxTripAmount = 100_000_000_000
)

// TripLeg is one leg of an itinerary: from a city to another, leaving on
// Depart and coming back (or moving on) on Return, dates YYYY-MM-DD.
type TripLeg struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Depart string `json:"depart"`
	Return string `json:"return"`
}

// TripRequest is a business trip request (出差申请), submitted by the
// traveller or an assistant.
type TripRequest struct {
	Traveler       string    `json:"traveler"`
	Purpose        string    `json:"purpose"`
	BudgetCategory string    `json:"budget_category"` // always "travel"
	EstimatedCost  int64     `json:"estimated_cost"`  // minor units (fen)
	Currency       string    `json:"currency,omitempty"`
	Transport      string    `json:"transport"` // one of TransportModes
	Lodging        bool      `json:"lodging"`   // a hotel is to be booked
	Legs           []TripLeg `json:"legs"`
	// Department is the traveller's department, whose travel budget pays;
	// the API sets it from the organisation.
	Department string `json:"department,omitempty"`
	Note       string `json:"note,omitempty"`
}

// CurrencyOrDefault returns the request's currency, CNY if none.
func (r TripRequest) CurrencyOrDefault() string {
	if r.Currency == "" {
		return "CNY"
	}
	return r.Currency
}

func parseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "%s: must be a date YYYY-MM-DD, got %q", field, s)
	}
	return t, nil
}

// Validate reports the first rule r breaks as EINVALID, naming the field:
// a traveller, a purpose, budget category travel, a positive estimated
// cost, a known transport mode, and 1 to 20 legs in order, each returning
// on or after its departure. The traveller and the department are checked
// against the organisation by the caller.
func (r TripRequest) Validate() error {
	switch {
	case strings.TrimSpace(r.Traveler) == "":
		return Errorf(EINVALID, "traveler: required")
	case strings.TrimSpace(r.Purpose) == "":
		return Errorf(EINVALID, "purpose: required")
	case utf8.RuneCountInString(r.Purpose) > maxReasonLen:
		return Errorf(EINVALID, "purpose: longer than %d characters", maxReasonLen)
	case utf8.RuneCountInString(r.Note) > maxReasonLen:
		return Errorf(EINVALID, "note: longer than %d characters", maxReasonLen)
	case r.BudgetCategory != TravelBudgetCategory:
		return Errorf(EINVALID, "budget_category: must be %q, got %q", TravelBudgetCategory, r.BudgetCategory)
	case r.EstimatedCost <= 0:
		return Errorf(EINVALID, "estimated_cost: must be positive, got %d", r.EstimatedCost)
	case r.EstimatedCost > maxTripAmount:
		return Errorf(EINVALID, "estimated_cost: at most %d, got %d", int64(maxTripAmount), r.EstimatedCost)
	case r.Currency != "" && !currencyCode.MatchString(r.Currency):
		return Errorf(EINVALID, "currency: must be a three-letter ISO 4217 code such as CNY, got %q", r.Currency)
	case !slices.Contains(TransportModes, r.Transport):
		return Errorf(EINVALID, "transport: must be one of %s, got %q", strings.Join(TransportModes, ", "), r.Transport)
	case len(r.Legs) == 0:
		return Errorf(EINVALID, "legs: at least one leg is required")
	case len(r.Legs) > maxLegs:
		return Errorf(EINVALID, "legs: at most %d, got %d", maxLegs, len(r.Legs))
	}
	var prev time.Time
	for i, l := range r.Legs {
		field := fmt.Sprintf("legs[%d]", i)
		switch {
		case strings.TrimSpace(l.From) == "":
			return Errorf(EINVALID, "%s.from: required", field)
		case strings.TrimSpace(l.To) == "":
			return Errorf(EINVALID, "%s.to: required", field)
		case utf8.RuneCountInString(l.From) > maxNameLen || utf8.RuneCountInString(l.To) > maxNameLen:
			return Errorf(EINVALID, "%s: a city is at most %d characters", field, maxNameLen)
		case l.From == l.To:
			return Errorf(EINVALID, "%s.to: the leg goes nowhere (from and to are both %q)", field, l.To)
		}
		dep, err := parseDate(field+".depart", l.Depart)
		if err != nil {
			return err
		}
		ret, err := parseDate(field+".return", l.Return)
		if err != nil {
			return err
		}
		if ret.Before(dep) {
			return Errorf(EINVALID, "%s.return: %s is before the departure %s", field, l.Return, l.Depart)
		}
		if i > 0 && dep.Before(prev) {
			return Errorf(EINVALID, "%s.depart: %s is before legs[%d].depart %s; list the legs in order", field, l.Depart, i-1, r.Legs[i-1].Depart)
		}
		prev = dep
	}
	if d := r.Days(); d > maxTripDays {
		return Errorf(EINVALID, "legs: a trip lasts at most %d days, got %d", maxTripDays, d)
	}
	return nil
}

// Start returns the first departure day (a valid request).
func (r TripRequest) Start() string { return r.Legs[0].Depart }

// End returns the last return day (a valid request).
func (r TripRequest) End() string {
	end := r.Legs[0].Return
	for _, l := range r.Legs[1:] {
		end = max(end, l.Return) // YYYY-MM-DD sorts as text
	}
	return end
}

// Days returns how many calendar days the trip spans, both ends included.
func (r TripRequest) Days() int64 {
	s, err1 := time.Parse(time.DateOnly, r.Start())
	e, err2 := time.Parse(time.DateOnly, r.End())
	if err1 != nil || err2 != nil {
		return 0
	}
	return int64(e.Sub(s)/(24*time.Hour)) + 1
}

// Destinations returns the cities the legs go to, in order, each once.
func (r TripRequest) Destinations() []string {
	var out []string
	for _, l := range r.Legs {
		if !slices.Contains(out, l.To) {
			out = append(out, l.To)
		}
	}
	return out
}

// CityOn returns the city the traveller stays in on a day: the destination
// of the last leg departed on or before it and returning on or after it.
func (r TripRequest) CityOn(day string) (string, bool) {
	city := ""
	for _, l := range r.Legs {
		if l.Depart <= day && day <= l.Return {
			city = l.To
		}
	}
	return city, city != ""
}

// Title returns the title every process list shows: 出差 · purpose.
func (r TripRequest) Title() string {
	return "出差 · " + strings.Join(r.Destinations(), "、") + " · " + r.Purpose
}

// Facts returns what a policy condition can test about a trip: traveler,
// traveler_manager (resolved at the start), requester, department, days,
// estimated_cost, destinations, transport, lodging, and for the claim
// route claim_total, over_cap (a line above its cap) and over_cap_amount.
// Budget facts are added by BudgetCheck.Facts.
func (r TripRequest) Facts(requester, travelerManager string) Facts {
	return Facts{"traveler": r.Traveler, "traveler_manager": travelerManager, "requester": requester,
		"department": r.Department, "days": r.Days(), "estimated_cost": r.EstimatedCost,
		"destinations": r.Destinations(), "transport": r.Transport, "lodging": r.Lodging,
		"claim_total": int64(0), "over_cap": false, "over_cap_amount": int64(0)}
}

// TripBookingItem is one booking logistics made: a ticket or a hotel.
type TripBookingItem struct {
	Description string `json:"description"` // "G1 上海→北京 12-01", "北京饭店 2 晚"
	Reference   string `json:"reference"`   // the provider's booking reference
	Amount      int64  `json:"amount"`      // what the company paid, minor units
}

// TripBooking is the data of the booking task: the transport and lodging
// booked by logistics (paid by the company).
type TripBooking struct {
	Transport []TripBookingItem `json:"transport"`
	Lodging   []TripBookingItem `json:"lodging,omitempty"`
	Note      string            `json:"note,omitempty"`
}

// Total returns what the bookings cost.
func (b TripBooking) Total() int64 {
	var t int64
	for _, it := range slices.Concat(b.Transport, b.Lodging) {
		t += it.Amount
	}
	return t
}

// CheckBooking reports as EINVALID, naming the field, how b fails to book
// r: at least one transport booking, lodging iff the request asked for it,
// each with a description, a reference and a non-negative amount.
func (r TripRequest) CheckBooking(b TripBooking) error {
	switch {
	case len(b.Transport) == 0:
		return Errorf(EINVALID, "transport: at least one booking is required")
	case r.Lodging && len(b.Lodging) == 0:
		return Errorf(EINVALID, "lodging: the request asks for lodging; book at least one hotel")
	case !r.Lodging && len(b.Lodging) > 0:
		return Errorf(EINVALID, "lodging: the request asks for no lodging")
	case utf8.RuneCountInString(b.Note) > maxReasonLen:
		return Errorf(EINVALID, "note: longer than %d characters", maxReasonLen)
	}
	for name, items := range map[string][]TripBookingItem{"transport": b.Transport, "lodging": b.Lodging} {
		for i, it := range items {
			field := fmt.Sprintf("%s[%d]", name, i)
			switch {
			case strings.TrimSpace(it.Description) == "" || utf8.RuneCountInString(it.Description) > maxNameLen:
				return Errorf(EINVALID, "%s.description: 1 to %d characters", field, maxNameLen)
			case strings.TrimSpace(it.Reference) == "" || utf8.RuneCountInString(it.Reference) > maxReference:
				return Errorf(EINVALID, "%s.reference: 1 to %d characters", field, maxReference)
			case it.Amount < 0 || it.Amount > maxTripAmount:
				return Errorf(EINVALID, "%s.amount: must be between 0 and %d, got %d", field, int64(maxTripAmount), it.Amount)
			}
		}
	}
	return nil
}

// TripStream returns the stream of a trip.
func TripStream(id string) string { return "trip-" + id }

// TitledTripRequest is the request as the first event carries it, with
// the title and department every process list shows.
type TitledTripRequest struct {
	TripRequest
	Title string `json:"title"`
}

// TripRequested is the first event of a trip's stream.
type TripRequested struct {
	ProcessID string `json:"process_id"`
	Requester string `json:"requester"` // the traveller or an assistant
	// Subject is whom the process is for, the traveller: a first event
	// naming a subject makes them a reader of the process and the
	// respondent of its survey, whoever submitted it.
	Subject         string            `json:"subject,omitempty"`
	TravelerManager string            `json:"traveler_manager"`
	Request         TitledTripRequest `json:"request"`
	Days            int64             `json:"days"`
	Total           int64             `json:"total"` // the estimated cost, for process lists
	Currency        string            `json:"currency"`
}

// NewTripRequested returns the first event of a trip.
func NewTripRequested(id, requester, travelerManager string, r TripRequest) TripRequested {
	return TripRequested{ProcessID: id, Requester: requester, Subject: r.Traveler, TravelerManager: travelerManager,
		Request: TitledTripRequest{TripRequest: r, Title: r.Title()}, Days: r.Days(),
		Total: r.EstimatedCost, Currency: r.CurrencyOrDefault()}
}

// EventType implements EventData.
func (TripRequested) EventType() string { return "trip.requested" }

// TripBudgetChecked records the check of the estimated cost against the
// travel budget line at the start.
type TripBudgetChecked struct {
	Line  string      `json:"line"`
	Check BudgetCheck `json:"check"`
}

// EventType implements EventData.
func (TripBudgetChecked) EventType() string { return "trip.budget_checked" }

// TripBudgetReserved records the reservation of the estimated cost on
// approval.
type TripBudgetReserved struct {
	Line      string `json:"line"`
	Amount    int64  `json:"amount"`
	Status    string `json:"status"`
	Exception bool   `json:"exception,omitempty"`
}

// EventType implements EventData.
func (TripBudgetReserved) EventType() string { return "trip.budget_reserved" }

// TripBudgetReleased records what a trip gave back to its line when it
// ended before reimbursement.
type TripBudgetReleased struct {
	Line   string `json:"line"`
	Amount int64  `json:"amount"`
	Reason string `json:"reason"`
}

// EventType implements EventData.
func (TripBudgetReleased) EventType() string { return "trip.budget_released" }

// TripApproved records that the trip may go ahead.
type TripApproved struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (TripApproved) EventType() string { return "trip.approved" }

// TripRejected ends a trip whose approval was refused.
type TripRejected struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (TripRejected) EventType() string { return "trip.rejected" }

// TripBooked records the bookings logistics made; the confirmation letter
// (出差安排确认函) is issued from it.
type TripBooked struct {
	By      string      `json:"by"`
	Booking TripBooking `json:"booking"`
	Total   int64       `json:"total"`
}

// EventType implements EventData.
func (TripBooked) EventType() string { return "trip.booked" }

// TripDeparted records the first departure day: the trip can no longer be
// cancelled.
type TripDeparted struct {
	Day string `json:"day"`
}

// EventType implements EventData.
func (TripDeparted) EventType() string { return "trip.departed" }

// TripReturned records the end of the return day: the traveller claims.
type TripReturned struct {
	Day string `json:"day"`
}

// EventType implements EventData.
func (TripReturned) EventType() string { return "trip.returned" }

// TripClaimSubmitted records the traveller's expense claim.
type TripClaimSubmitted struct {
	By      string       `json:"by"`
	Claim   ExpenseClaim `json:"claim"`
	Total   int64        `json:"total"`
	OverCap []OverCap    `json:"over_cap,omitempty"`
	Caps    []int64      `json:"caps"` // per line, as in force at the start; 0: no cap
	Round   int          `json:"round"`
	// Amended: the traveller amended the claim of this round when the
	// claim route returned it; this claim replaces the round's earlier one.
	Amended bool `json:"amended,omitempty"`
}

// EventType implements EventData.
func (TripClaimSubmitted) EventType() string { return "trip.claim_submitted" }

// TripClaimWaived records that a trip ends with no expense claim: the
// traveller (or, after too many rejected rounds, the logistics manager)
// said there is nothing to claim, or the last round allowed was rejected
// (By is system then). Only the bookings are spent.
type TripClaimWaived struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
	Rounds  int    `json:"rounds"` // claims rejected before
}

// EventType implements EventData.
func (TripClaimWaived) EventType() string { return "trip.claim_waived" }

// TripClaimRejected records a claim refused; the traveller claims again.
type TripClaimRejected struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
	Round   int    `json:"round"`
}

// EventType implements EventData.
func (TripClaimRejected) EventType() string { return "trip.claim_rejected" }

// TripReimbursed records the approved claim reimbursed (报销) and the
// actual cost — bookings and claim — consumed from the budget line.
type TripReimbursed struct {
	By       string `json:"by"`
	Claim    int64  `json:"claim"`    // reimbursed to the traveller
	Bookings int64  `json:"bookings"` // paid by the company
	Actual   int64  `json:"actual"`   // claim + bookings, consumed from the budget
	Released int64  `json:"released"` // reserved but not spent
	Currency string `json:"currency"`
}

// EventType implements EventData.
func (TripReimbursed) EventType() string { return "trip.reimbursed" }

// TripCompleted ends a trip; the survey trigger sends its survey.
type TripCompleted struct{}

// EventType implements EventData.
func (TripCompleted) EventType() string { return "trip.completed" }

func init() {
	RegisterEventType(TripRequested{})
	RegisterEventType(TripBudgetChecked{})
	RegisterEventType(TripBudgetReserved{})
	RegisterEventType(TripBudgetReleased{})
	RegisterEventType(TripApproved{})
	RegisterEventType(TripRejected{})
	RegisterEventType(TripBooked{})
	RegisterEventType(TripDeparted{})
	RegisterEventType(TripReturned{})
	RegisterEventType(TripClaimSubmitted{})
	RegisterEventType(TripClaimRejected{})
	RegisterEventType(TripClaimWaived{})
	RegisterEventType(TripReimbursed{})
	RegisterEventType(TripCompleted{})
	RegisterFacts(KindTrip, BudgetCheck{}.Facts(TripRequest{Legs: []TripLeg{{}}}.Facts("", "")))
}
