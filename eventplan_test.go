package houqin_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
)

// designEvent is the body of DESIGN.md's example.
func designEvent() houqin.EventRequest {
	return houqin.EventRequest{Type: houqin.EventAnnualMeeting, Title: "2026 全员大会",
		StartsAt: "2027-01-15T09:00:00+08:00", EndsAt: "2027-01-15T17:00:00+08:00",
		AttendeeDepartments: []string{"ALL"}, BudgetCategory: "events", EstimatedCost: 8000000,
		Equipment: []string{"音响", "投影"}, Supplies: []houqin.ItemQuantity{{Name: "矿泉水", Quantity: 200}}}
}

func TestEventRequestValidate(t *testing.T) {
	if err := designEvent().Validate(); err != nil {
		t.Fatalf("DESIGN.md's example: %v", err)
	}
	tests := []struct {
		name   string
		change func(*houqin.EventRequest)
		want   string
	}{
		{"type", func(r *houqin.EventRequest) { r.Type = "party" }, `type: must be one of annual_meeting, training, team_building, customer_event, got "party"`},
		{"title", func(r *houqin.EventRequest) { r.Title = " " }, "title: required"},
		{"starts_at", func(r *houqin.EventRequest) { r.StartsAt = "2027-01-15" }, `starts_at: must be an RFC 3339 time such as 2027-01-15T09:00:00+08:00, got "2027-01-15"`},
		{"ends_at", func(r *houqin.EventRequest) { r.EndsAt = "tomorrow" }, `ends_at: must be an RFC 3339 time such as 2027-01-15T17:00:00+08:00, got "tomorrow"`},
		{"ends before", func(r *houqin.EventRequest) { r.EndsAt = "2027-01-15T09:00:00+08:00" }, "ends_at: must be after starts_at (2027-01-15T09:00:00+08:00), got 2027-01-15T09:00:00+08:00"},
		{"no departments", func(r *houqin.EventRequest) { r.AttendeeDepartments = nil }, "attendee_departments: at least one department, or ALL"},
		{"ALL with others", func(r *houqin.EventRequest) { r.AttendeeDepartments = []string{"MKT", "ALL"} }, "attendee_departments[1]: ALL invites everyone and stands alone"},
		{"repeated department", func(r *houqin.EventRequest) { r.AttendeeDepartments = []string{"MKT", "MKT"} }, `attendee_departments[1]: "MKT" repeats an earlier department`},
		{"attendees", func(r *houqin.EventRequest) { r.ExpectedAttendees = -1 }, "expected_attendees: must be between 0 and 100000, got -1"},
		{"equipment", func(r *houqin.EventRequest) { r.Equipment = []string{"音响", ""} }, "equipment[1]: a name of 1 to 200 characters"},
		{"supply quantity", func(r *houqin.EventRequest) { r.Supplies = []houqin.ItemQuantity{{Name: "纸杯", Quantity: 0}} }, "supplies[0].quantity: must be positive, got 0"},
		{"supply repeated", func(r *houqin.EventRequest) {
			r.Supplies = []houqin.ItemQuantity{{Name: "纸杯", Quantity: 1}, {Name: "纸杯", Quantity: 2}}
		}, `supplies[1].name: "纸杯" repeats an earlier item`},
		{"category", func(r *houqin.EventRequest) { r.BudgetCategory = "party" }, "budget_category: must be one of"},
		{"cost", func(r *houqin.EventRequest) { r.EstimatedCost = -1 }, "estimated_cost: must not be negative, got -1"},
		{"currency", func(r *houqin.EventRequest) { r.Currency = "yuan" }, `currency: must be a three-letter ISO 4217 code such as CNY, got "yuan"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := designEvent()
			tc.change(&r)
			err := r.Validate()
			if houqin.ErrorCode(err) != houqin.EINVALID {
				t.Fatalf("Validate() = %v, want EINVALID", err)
			}
			if got := houqin.ErrorMessage(err); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
				t.Errorf("Validate() = %q, want it to start %q", got, tc.want)
			}
		})
	}
}

func TestEventAttendees(t *testing.T) {
	o := demoOrg(t)
	all, err := houqin.EventAttendees(o, []string{"ALL"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(o.Users()) {
		t.Errorf("ALL invites %d users, want every one of %d", len(all), len(o.Users()))
	}
	mkt, err := houqin.EventAttendees(o, []string{"MKT"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"liu.yang", "wang.fang"}, mkt); diff != "" {
		t.Errorf("MKT attendees (-want +got):\n%s", diff)
	}
	_, err = houqin.EventAttendees(o, []string{"MKT", "XYZ"})
	if got, want := houqin.ErrorMessage(err), `attendee_departments[1]: no department "XYZ"`; got != want {
		t.Errorf("unknown department: %q, want %q", got, want)
	}
}

func TestMinutesReviewCheck(t *testing.T) {
	for _, tc := range []struct {
		r    houqin.MinutesReview
		want string
	}{
		{houqin.MinutesReview{Outcome: "accepted"}, ""},
		{houqin.MinutesReview{Outcome: "minor_issues"}, ""},
		{houqin.MinutesReview{Outcome: "major_error"}, "comment: say what is wrong when the minutes have a major error"},
		{houqin.MinutesReview{Outcome: "fine"}, `outcome: must be accepted, minor_issues or major_error, got "fine"`},
	} {
		if got := houqin.ErrorMessage(tc.r.Check()); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
	if got := houqin.ErrorMessage(houqin.EventMinutes{Minutes: "x"}.Check()); got != "summary: required" {
		t.Errorf("minutes without summary: %q", got)
	}
}
