package houqin

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The types of event (活动/会议).
const (
	EventAnnualMeeting = "annual_meeting" // 年会 / 全员大会
	EventTraining      = "training"       // 培训
	EventTeamBuilding  = "team_building"  // 团建
	EventCustomer      = "customer_event" // 客户活动
)

// EventTypes lists the types of event.
var EventTypes = []string{EventAnnualMeeting, EventTraining, EventTeamBuilding, EventCustomer}

// AllDepartments in attendee_departments invites everyone.
const AllDepartments = "ALL"

// The arrangements of an event (活动筹备): each is a task with an owner
// and a due time; materials are collected from each attendee department.
const (
	ArrangeVenue     = "venue"     // 场地
	ArrangeEquipment = "equipment" // 设备 (音响, 投影 …)
	ArrangeSupplies  = "supplies"  // 物资
	ArrangeCatering  = "catering"  // 餐饮
	ArrangeMaterials = "materials" // 各部门材料
)

// Arrangements lists the arrangements every event has, besides the
// materials of each attendee department.
var Arrangements = []string{ArrangeVenue, ArrangeEquipment, ArrangeSupplies, ArrangeCatering}

// Bounds of an event request.
const (
	maxEventList      = 100
	maxEventAttendees = 100000
)

// EventRequest plans an event or meeting (活动/会议策划): what, when, who
// attends, and what it needs.
type EventRequest struct {
	Type                string         `json:"type"` // annual_meeting | training | team_building | customer_event
	Title               string         `json:"title"`
	StartsAt            string         `json:"starts_at"` // RFC 3339
	EndsAt              string         `json:"ends_at"`   // RFC 3339
	AttendeeDepartments []string       `json:"attendee_departments"`
	ExpectedAttendees   int64          `json:"expected_attendees,omitempty"` // 0: as many as the departments have
	Venue               string         `json:"venue,omitempty"`              // venue needs (场地需求)
	Equipment           []string       `json:"equipment,omitempty"`          // 音响, 投影 …
	Supplies            []ItemQuantity `json:"supplies,omitempty"`           // items from stock
	Catering            string         `json:"catering,omitempty"`
	BudgetCategory      string         `json:"budget_category"`
	EstimatedCost       int64          `json:"estimated_cost"`       // minor units (fen)
	Currency            string         `json:"currency,omitempty"`   // ISO 4217; "" means DefaultCurrency
	Department          string         `json:"department,omitempty"` // the organising department; "" = the requester's
	Note                string         `json:"note,omitempty"`
}

// Validate reports the first rule r breaks as EINVALID, naming the field;
// departments are checked against the organisation by the caller.
func (r EventRequest) Validate() error {
	switch {
	case !slices.Contains(EventTypes, r.Type):
		return Errorf(EINVALID, "type: must be one of %s, got %q", strings.Join(EventTypes, ", "), r.Type)
	case strings.TrimSpace(r.Title) == "":
		return Errorf(EINVALID, "title: required")
	case utf8.RuneCountInString(r.Title) > maxNameLen:
		return Errorf(EINVALID, "title: longer than %d characters", maxNameLen)
	}
	start, err := time.Parse(time.RFC3339, r.StartsAt)
	if err != nil {
		return Errorf(EINVALID, "starts_at: must be an RFC 3339 time such as 2027-01-15T09:00:00+08:00, got %q", r.StartsAt)
	}
	end, err := time.Parse(time.RFC3339, r.EndsAt)
	if err != nil {
		return Errorf(EINVALID, "ends_at: must be an RFC 3339 time such as 2027-01-15T17:00:00+08:00, got %q", r.EndsAt)
	}
	if !end.After(start) {
		return Errorf(EINVALID, "ends_at: must be after starts_at (%s), got %s", r.StartsAt, r.EndsAt)
	}
	switch {
	case len(r.AttendeeDepartments) == 0:
		return Errorf(EINVALID, "attendee_departments: at least one department, or ALL")
	case len(r.AttendeeDepartments) > maxEventList:
		return Errorf(EINVALID, "attendee_departments: at most %d", maxEventList)
	}
	for i, d := range r.AttendeeDepartments {
		switch {
		case strings.TrimSpace(d) == "":
			return Errorf(EINVALID, "attendee_departments[%d]: empty", i)
		case slices.Index(r.AttendeeDepartments, d) != i:
			return Errorf(EINVALID, "attendee_departments[%d]: %q repeats an earlier department", i, d)
		case d == AllDepartments && len(r.AttendeeDepartments) > 1:
			return Errorf(EINVALID, "attendee_departments[%d]: ALL invites everyone and stands alone", i)
		}
	}
	switch {
	case r.ExpectedAttendees < 0 || r.ExpectedAttendees > maxEventAttendees:
		return Errorf(EINVALID, "expected_attendees: must be between 0 and %d, got %d", maxEventAttendees, r.ExpectedAttendees)
	case utf8.RuneCountInString(r.Venue) > maxReasonLen:
		return Errorf(EINVALID, "venue: longer than %d characters", maxReasonLen)
	case utf8.RuneCountInString(r.Catering) > maxReasonLen:
		return Errorf(EINVALID, "catering: longer than %d characters", maxReasonLen)
	case utf8.RuneCountInString(r.Note) > maxReasonLen:
		return Errorf(EINVALID, "note: longer than %d characters", maxReasonLen)
	case len(r.Equipment) > maxEventList:
		return Errorf(EINVALID, "equipment: at most %d", maxEventList)
	case len(r.Supplies) > maxEventList:
		return Errorf(EINVALID, "supplies: at most %d", maxEventList)
	}
	for i, e := range r.Equipment {
		if strings.TrimSpace(e) == "" || utf8.RuneCountInString(e) > maxNameLen {
			return Errorf(EINVALID, "equipment[%d]: a name of 1 to %d characters", i, maxNameLen)
		}
	}
	for i, s := range r.Supplies {
		switch {
		case strings.TrimSpace(s.Name) == "" || utf8.RuneCountInString(s.Name) > maxNameLen:
			return Errorf(EINVALID, "supplies[%d].name: a name of 1 to %d characters", i, maxNameLen)
		case s.Quantity <= 0:
			return Errorf(EINVALID, "supplies[%d].quantity: must be positive, got %d", i, s.Quantity)
		case slices.IndexFunc(r.Supplies, func(o ItemQuantity) bool { return o.Name == s.Name }) != i:
			return Errorf(EINVALID, "supplies[%d].name: %q repeats an earlier item", i, s.Name)
		}
	}
	switch {
	case !slices.Contains(BudgetCategories, r.BudgetCategory):
		return Errorf(EINVALID, "budget_category: must be one of %s, got %q", strings.Join(BudgetCategories, ", "), r.BudgetCategory)
	case r.EstimatedCost < 0:
		return Errorf(EINVALID, "estimated_cost: must not be negative, got %d", r.EstimatedCost)
	case r.Currency != "" && !currencyCode.MatchString(r.Currency):
		return Errorf(EINVALID, "currency: must be a three-letter ISO 4217 code such as CNY, got %q", r.Currency)
	}
	return nil
}

// Start returns the start of the event; the request must be valid.
func (r EventRequest) Start() time.Time { t, _ := time.Parse(time.RFC3339, r.StartsAt); return t }

// End returns the end of the event; the request must be valid.
func (r EventRequest) End() time.Time { t, _ := time.Parse(time.RFC3339, r.EndsAt); return t }

// CurrencyOrDefault returns the request's currency, DefaultCurrency if none.
func (r EventRequest) CurrencyOrDefault() string {
	if r.Currency == "" {
		return DefaultCurrency
	}
	return r.Currency
}

// EventFacts returns what a policy condition can test about an event:
// type, estimated_cost (fen), category, attendees (the number invited),
// department, requester, budget_status (none | within | warn | exceeded)
// and budget_remaining (fen).
func (r EventRequest) EventFacts(requester string, attendees int64, budgetStatus string, budgetRemaining int64) Facts {
	return Facts{"type": r.Type, "estimated_cost": r.EstimatedCost, "category": r.BudgetCategory,
		"attendees": attendees, "department": r.Department, "requester": requester,
		"budget_status": budgetStatus, "budget_remaining": budgetRemaining}
}

// EventAttendees returns the users the request invites: everyone for ALL,
// else the users of each department, in the organisation's order; an
// unknown department is EINVALID naming the field.
func EventAttendees(o *Org, depts []string) ([]string, error) {
	for i, d := range depts {
		if d == AllDepartments {
			continue
		}
		if _, err := o.Department(d); err != nil {
			return nil, Errorf(EINVALID, "attendee_departments[%d]: no department %q", i, d)
		}
	}
	var out []string
	for _, u := range o.Users() {
		if slices.Contains(depts, AllDepartments) || slices.Contains(depts, u.Department) {
			out = append(out, u.ID)
		}
	}
	return out, nil
}

// ArrangementTaskStep returns the task step of an arrangement; materials
// are one step per department, "materials_MKT".
func ArrangementTaskStep(arrangement, dept string) string {
	if dept == "" {
		return arrangement
	}
	return fmt.Sprintf("%s_%s", arrangement, dept)
}

// EventStream returns the stream of an event process, "event-EV-2026-000001".
func EventStream(id string) string { return "event-" + id }

// Arrangement is one arrangement task of an event as the workflow pins it.
type Arrangement struct {
	Step       string   `json:"step"`                 // venue, equipment, supplies, catering, materials_<dept>
	Department string   `json:"department,omitempty"` // materials: the department that provides them
	Owners     []string `json:"owners"`
	Name       Text     `json:"name"`
}

// ArrangementReport is the data of an arrangement task: what was arranged
// and, optionally, what it actually cost (fen, in the event's currency).
// The cost of supplies a child procurement bought is that procurement's,
// not the arrangement's (docs/BUDGET.md).
type ArrangementReport struct {
	Note string `json:"note"`
	Cost int64  `json:"cost,omitempty"`
}

// maxArrangementCost bounds one arrangement's cost: 100 000 000.00.
const maxArrangementCost = 10_000_000_000

// Check reports as EINVALID, naming the field, what is wrong with r.
func (r ArrangementReport) Check() error {
	switch {
	case strings.TrimSpace(r.Note) == "":
		return Errorf(EINVALID, "note: required, what was arranged")
	case utf8.RuneCountInString(r.Note) > maxReasonLen:
		return Errorf(EINVALID, "note: longer than %d characters", maxReasonLen)
	case r.Cost < 0:
		return Errorf(EINVALID, "cost: must not be negative, got %d", r.Cost)
	case r.Cost > maxArrangementCost:
		return Errorf(EINVALID, "cost: at most %d (fen), got %d", int64(maxArrangementCost), r.Cost)
	}
	return nil
}

// EventMinutes is the data of the organiser's minutes task: the minutes
// (会议纪要) and the summary report (总结报告).
type EventMinutes struct {
	Minutes string `json:"minutes"`
	Summary string `json:"summary"`
}

// Check reports as EINVALID, naming the field, what is wrong with m.
func (m EventMinutes) Check() error {
	const maxDoc = 20000
	switch {
	case strings.TrimSpace(m.Minutes) == "":
		return Errorf(EINVALID, "minutes: required")
	case utf8.RuneCountInString(m.Minutes) > maxDoc:
		return Errorf(EINVALID, "minutes: longer than %d characters", maxDoc)
	case strings.TrimSpace(m.Summary) == "":
		return Errorf(EINVALID, "summary: required")
	case utf8.RuneCountInString(m.Summary) > maxDoc:
		return Errorf(EINVALID, "summary: longer than %d characters", maxDoc)
	}
	return nil
}

// MinutesReview is the data of the reviewer's task on the minutes and
// summary: accepted, minor_issues or major_error (sent back to the
// organiser, who submits again).
type MinutesReview struct {
	Outcome string `json:"outcome"`
	Comment string `json:"comment,omitempty"`
}

// Check reports as EINVALID, naming the field, what is wrong with r.
func (r MinutesReview) Check() error {
	switch {
	case r.Outcome != OutcomeAccepted && r.Outcome != OutcomeMinorIssues && r.Outcome != OutcomeMajorError:
		return Errorf(EINVALID, "outcome: must be accepted, minor_issues or major_error, got %q", r.Outcome)
	case r.Outcome == OutcomeMajorError && strings.TrimSpace(r.Comment) == "":
		return Errorf(EINVALID, "comment: say what is wrong when the minutes have a major error")
	case utf8.RuneCountInString(r.Comment) > maxReasonLen:
		return Errorf(EINVALID, "comment: longer than %d characters", maxReasonLen)
	}
	return nil
}

// EventRequested is the first event of an event process's stream. Its
// request carries the title and department every process list shows, and
// starts_at, the process's due time in the KPIs.
type EventRequested struct {
	ProcessID string       `json:"process_id"`
	Requester string       `json:"requester"`
	Request   EventRequest `json:"request"`
	Attendees []string     `json:"attendees"` // invited, from the organisation
	Total     int64        `json:"total"`     // the estimated cost, for the process list's amount
	Currency  string       `json:"currency"`
}

// EventType implements EventData.
func (EventRequested) EventType() string { return "event.requested" }

// EventBudgetChecked records the check of the estimated cost against the
// organising department's budget line, before the approval route.
type EventBudgetChecked struct {
	Line  string      `json:"line"`
	Check BudgetCheck `json:"check"`
}

// EventType implements EventData.
func (EventBudgetChecked) EventType() string { return "event.budget_checked" }

// EventBudgetReserved records the reservation of the estimated cost on the
// organising department's line on approval.
type EventBudgetReserved struct {
	Line      string `json:"line"`
	Amount    int64  `json:"amount"`
	Status    string `json:"status"`
	Exception bool   `json:"exception,omitempty"`
}

// EventType implements EventData.
func (EventBudgetReserved) EventType() string { return "event.budget_reserved" }

// EventBudgetReleased records what an event gave back to its line without
// spending it: revoked before it was held, or held with no recorded cost.
type EventBudgetReleased struct {
	Line   string `json:"line"`
	Amount int64  `json:"amount"`
	Reason string `json:"reason"`
}

// EventType implements EventData.
func (EventBudgetReleased) EventType() string { return "event.budget_released" }

// EventBudgetConsumed records, when the event is held, the actual cost
// (the arrangements' recorded costs) consumed from the line and what was
// reserved but not spent, released.
type EventBudgetConsumed struct {
	Line     string `json:"line"`
	Actual   int64  `json:"actual"`
	Released int64  `json:"released"`
	Currency string `json:"currency"`
}

// EventType implements EventData.
func (EventBudgetConsumed) EventType() string { return "event.budget_consumed" }

// EventApproved records that an event may be prepared.
type EventApproved struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (EventApproved) EventType() string { return "event.approved" }

// EventRejected ends an event whose approval was refused.
type EventRejected struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (EventRejected) EventType() string { return "event.rejected" }

// EventSuppliesRequested records the child procurement of the supplies
// stock cannot cover (its workflow ID is the procurement's ID).
type EventSuppliesRequested struct {
	ProcurementID string         `json:"procurement_id"`
	Items         []ItemQuantity `json:"items"` // what stock lacks
}

// EventType implements EventData.
func (EventSuppliesRequested) EventType() string { return "event.supplies_requested" }

// EventAttendeesConfirmed records HR's confirmation of the attendee list.
type EventAttendeesConfirmed struct {
	By        string   `json:"by"`
	Attendees []string `json:"attendees"`
	Note      string   `json:"note,omitempty"`
}

// EventType implements EventData.
func (EventAttendeesConfirmed) EventType() string { return "event.attendees_confirmed" }

// AttendeeConfirmation is the data of HR's confirm_attendees task: the
// final list, or none to confirm the invited one.
type AttendeeConfirmation struct {
	Attendees []string `json:"attendees,omitempty"`
	Note      string   `json:"note,omitempty"`
}

// EventPublicityConfirmed records marketing's confirmation of the publicity.
type EventPublicityConfirmed struct {
	By   string `json:"by"`
	Note string `json:"note,omitempty"`
}

// EventType implements EventData.
func (EventPublicityConfirmed) EventType() string { return "event.publicity_confirmed" }

// EventArranged records an arrangement done and its actual cost (fen),
// which the event consumes from its budget line when it is held.
type EventArranged struct {
	Step string `json:"step"`
	By   string `json:"by"`
	Note string `json:"note"`
	Cost int64  `json:"cost,omitempty"`
}

// EventType implements EventData.
func (EventArranged) EventType() string { return "event.arranged" }

// EventReadinessChecked records the readiness check the day before the
// event: the arrangements still unfinished, escalated to their owners'
// managers and the escalation users.
type EventReadinessChecked struct {
	Unfinished []string `json:"unfinished"` // steps
	Added      []string `json:"added"`
}

// EventType implements EventData.
func (EventReadinessChecked) EventType() string { return "event.readiness_checked" }

// EventReady records that every confirmation and arrangement of the event
// is done: the department's promise before the event starts. Late says it
// came at or after the start.
type EventReady struct {
	Arrangements int  `json:"arrangements"`
	Late         bool `json:"late,omitempty"`
}

// EventType implements EventData.
func (EventReady) EventType() string { return "event.ready" }

// EventHeld records that the event took place: the organiser said so, or
// its end passed.
type EventHeld struct {
	By string `json:"by"`
}

// EventType implements EventData.
func (EventHeld) EventType() string { return "event.held" }

// EventMinutesSubmitted records the minutes and the summary.
type EventMinutesSubmitted struct {
	By      string       `json:"by"`
	Minutes EventMinutes `json:"minutes"`
	Round   int          `json:"round"`
}

// EventType implements EventData.
func (EventMinutesSubmitted) EventType() string { return "event.minutes_submitted" }

// EventMinutesReviewed records, on the event's stream, the review of the
// minutes; the deliverable.reviewed event on the deliverable stream is the
// one the KPI counts.
type EventMinutesReviewed struct {
	By      string `json:"by"`
	Outcome string `json:"outcome"`
	Comment string `json:"comment,omitempty"`
	Round   int    `json:"round"`
}

// EventType implements EventData.
func (EventMinutesReviewed) EventType() string { return "event.minutes_reviewed" }

// EventSurveysSent records the satisfaction surveys sent to the attendees
// (the organiser's comes from the survey trigger on event.completed).
type EventSurveysSent struct {
	Surveys []string `json:"surveys"` // survey IDs, "SV-EV-2026-000001-wang.fang"
}

// EventType implements EventData.
func (EventSurveysSent) EventType() string { return "event.surveys_sent" }

// EventCompleted ends an event process: held, minutes accepted.
type EventCompleted struct{}

// EventType implements EventData.
func (EventCompleted) EventType() string { return "event.completed" }

func init() {
	RegisterEventType(EventRequested{})
	RegisterEventType(EventBudgetChecked{})
	RegisterEventType(EventBudgetReserved{})
	RegisterEventType(EventBudgetReleased{})
	RegisterEventType(EventBudgetConsumed{})
	RegisterEventType(EventApproved{})
	RegisterEventType(EventRejected{})
	RegisterEventType(EventSuppliesRequested{})
	RegisterEventType(EventAttendeesConfirmed{})
	RegisterEventType(EventPublicityConfirmed{})
	RegisterEventType(EventArranged{})
	RegisterEventType(EventReadinessChecked{})
	RegisterEventType(EventReady{})
	RegisterEventType(EventHeld{})
	RegisterEventType(EventMinutesSubmitted{})
	RegisterEventType(EventMinutesReviewed{})
	RegisterEventType(EventSurveysSent{})
	RegisterEventType(EventCompleted{})
	RegisterFacts(KindEvent, EventRequest{}.EventFacts("", 0, "", 0))
}
