package houqin

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// The budget categories of the annual logistics budget (年度后勤预算).
const (
	CategoryOfficeSupplies = "office_supplies" // 办公用品
	CategoryEquipment      = "equipment"       // 设备
	CategoryTravel         = "travel"          // 差旅
	CategoryEvents         = "events"          // 活动与会议
	CategoryFacilities     = "facilities"      // 设施维护
	CategoryServices       = "services"        // 服务
	CategoryOther          = "other"           // 其他
)

// BudgetCategories lists the budget categories in report order.
var BudgetCategories = []string{
	CategoryOfficeSupplies, CategoryEquipment, CategoryTravel, CategoryEvents,
	CategoryFacilities, CategoryServices, CategoryOther,
}

// The controls of a budget line: what happens to spending beyond the plan.
const (
	ControlStop   = "stop"   // beyond plan + tolerance is refused unless an exception is approved
	ControlWarn   = "warn"   // beyond the plan passes with a warning
	ControlIgnore = "ignore" // the line is tracked, never enforced
)

// BudgetLineStream returns the stream of one budget line, an event-sourced
// aggregate written with optimistic concurrency:
// "budget-2026-MKT-office_supplies".
func BudgetLineStream(year int, dept, category string) string {
	return fmt.Sprintf("budget-%04d-%s-%s", year, dept, category)
}

// The events of a budget line's stream. Amounts are in the currency's
// minor unit; the month an amount counts in is its event's OccurredAt.

// BudgetLinePlanned records a line's plan when the year's budget is
// activated; ToleranceBP is the tolerance band in basis points (500 = 5 %).
type BudgetLinePlanned struct {
	Year        int    `json:"year"`
	Department  string `json:"department"`
	Category    string `json:"category"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	ToleranceBP int    `json:"tolerance_bp"`
	Control     string `json:"control"`
	ProcessID   string `json:"process_id"` // the budget process that activated it
}

// EventType implements EventData.
func (BudgetLinePlanned) EventType() string { return "budget.line_planned" }

// BudgetReserved records money committed to a spending process on its
// approval. Exception marks a reservation beyond the band that a holder of
// the budget_exception role approved.
type BudgetReserved struct {
	ProcessID string `json:"process_id"`
	Amount    int64  `json:"amount"`
	Exception bool   `json:"exception,omitempty"`
}

// EventType implements EventData.
func (BudgetReserved) EventType() string { return "budget.reserved" }

// BudgetReleased records reserved money given back: on cancellation, or
// what was reserved but not spent.
type BudgetReleased struct {
	ProcessID string `json:"process_id"`
	Amount    int64  `json:"amount"`
	Reason    string `json:"reason"`
}

// EventType implements EventData.
func (BudgetReleased) EventType() string { return "budget.released" }

// BudgetConsumed records an actual cost (invoice, receipt or
// reimbursement); it is reserved money becoming spent.
type BudgetConsumed struct {
	ProcessID string `json:"process_id"`
	Amount    int64  `json:"amount"`
	Document  string `json:"document"` // the invoice, receipt or reimbursement reference
}

// EventType implements EventData.
func (BudgetConsumed) EventType() string { return "budget.consumed" }

// BudgetAdjusted records an approved change of a line's plan.
type BudgetAdjusted struct {
	ProcessID string `json:"process_id"`
	Delta     int64  `json:"delta"`
	Reason    string `json:"reason"`
}

// EventType implements EventData.
func (BudgetAdjusted) EventType() string { return "budget.adjusted" }

func init() {
	RegisterEventType(BudgetLinePlanned{})
	RegisterEventType(BudgetReserved{})
	RegisterEventType(BudgetReleased{})
	RegisterEventType(BudgetConsumed{})
	RegisterEventType(BudgetAdjusted{})
	RegisterEventType(BudgetSubmitted{})
	RegisterEventType(BudgetAdjustmentSubmitted{})
	RegisterEventType(BudgetApproved{})
	RegisterEventType(BudgetRejected{})
	RegisterEventType(BudgetActivated{})
	RegisterEventType(BudgetAdjustmentApplied{})
	RegisterEventType(BudgetCompleted{})
	RegisterEventType(BudgetYearActivated{})
	RegisterFacts(KindBudget, BudgetDraft{}.Facts(""))
}

// DefaultToleranceBP is the tolerance band of a line that names none:
// 5 %, the department's target for overrun.
const DefaultToleranceBP = 500

// The outcomes of a budget check, ordered: a spending approved for one
// outcome may go ahead under any earlier one.
const (
	BudgetNone     = "none"     // no active budget line: not controlled
	BudgetWithin   = "within"   // reserved + actual stay within the plan
	BudgetWarn     = "warn"     // beyond the plan but within the band: extra finance approval
	BudgetExceeded = "exceeded" // beyond the band: refused unless an exception is approved
)

// BudgetStatusRank orders the outcomes of a check: none and within 0, warn
// 1, exceeded 2.
func BudgetStatusRank(status string) int {
	switch status {
	case BudgetWarn:
		return 1
	case BudgetExceeded:
		return 2
	}
	return 0
}

// BudgetLine is the state of one budget line, folded from its stream.
type BudgetLine struct {
	Stream      string `json:"stream"`
	Planned     bool   `json:"planned"` // a budget.line_planned was folded: the line is active
	Year        int    `json:"year"`
	Department  string `json:"department"`
	Category    string `json:"category"`
	Currency    string `json:"currency"`
	Control     string `json:"control"`
	ToleranceBP int    `json:"tolerance_bp"`
	Plan        int64  `json:"plan"`     // planned + adjusted
	Adjusted    int64  `json:"adjusted"` // the sum of approved adjustments
	Reserved    int64  `json:"reserved"` // committed: reserved − released − consumed
	Actual      int64  `json:"actual"`   // consumed
	Version     int64  `json:"version"`  // of the last event folded; ExpectNoStream if none
	// Open is what each spending process has reserved and not yet
	// released or consumed; only indexed.
	Open map[string]int64 `json:"open"`
	// Released is what each process released in all; only indexed.
	Released map[string]int64 `json:"released"`
	ids      map[string]bool  // the IDs of the events folded, for idempotent writers
}

// NewBudgetLine returns the state of a line whose stream holds nothing.
func NewBudgetLine(stream string) *BudgetLine {
	return &BudgetLine{Stream: stream, Version: ExpectNoStream, Open: map[string]int64{}, Released: map[string]int64{}, ids: map[string]bool{}}
}

// FoldBudgetLine folds the events of a line's stream, in version order.
func FoldBudgetLine(stream string, events []Event) (*BudgetLine, error) {
	l := NewBudgetLine(stream)
	for _, e := range events {
		if err := l.Apply(e); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Has reports whether the event with id was folded into l.
func (l *BudgetLine) Has(id string) bool { return l.ids[id] }

// Apply folds one event of the line's stream into l. Events of other types
// are skipped.
func (l *BudgetLine) Apply(e Event) error {
	d, err := e.Decode()
	if err != nil {
		return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
	}
	switch d := d.(type) {
	case *BudgetLinePlanned:
		l.Planned = true
		l.Year, l.Department, l.Category, l.Currency = d.Year, d.Department, d.Category, d.Currency
		l.Control, l.ToleranceBP = d.Control, d.ToleranceBP
		l.Plan = d.Amount + l.Adjusted
	case *BudgetReserved:
		l.Reserved += d.Amount
		l.Open[d.ProcessID] += d.Amount
	case *BudgetReleased:
		l.Reserved -= d.Amount
		l.Open[d.ProcessID] -= d.Amount
		l.Released[d.ProcessID] += d.Amount
	case *BudgetConsumed:
		l.Reserved -= d.Amount
		l.Open[d.ProcessID] -= d.Amount
		l.Actual += d.Amount
	case *BudgetAdjusted:
		l.Adjusted += d.Delta
		l.Plan += d.Delta
	}
	l.ids[e.ID] = true
	l.Version = e.Version
	return nil
}

// Band returns the tolerance band in minor units: ToleranceBP basis points
// of the plan, rounded down.
func (l *BudgetLine) Band() int64 {
	if l.Plan <= 0 {
		return 0
	}
	tol := int64(l.ToleranceBP)
	return l.Plan/10000*tol + l.Plan%10000*tol/10000
}

// BudgetCheck is the outcome of checking a spending against a line.
type BudgetCheck struct {
	Status    string `json:"status"`    // BudgetNone, BudgetWithin, BudgetWarn or BudgetExceeded
	Remaining int64  `json:"remaining"` // plan − reserved − actual before the spending; negative once overrun
	After     int64  `json:"after"`     // reserved + actual with the spending
	Limit     int64  `json:"limit"`     // plan + band: what the line may reach with an exception
	Reason    string `json:"reason"`    // for people, e.g. "12000.00 beyond the plan, within the 5.00 % band"
}

// Check says what spending amount more means for the line: within the plan,
// a warning (beyond the plan, within the tolerance band; or beyond the plan
// of a line whose control is warn), or exceeded (beyond the band of a line
// whose control is stop). A line under control ignore is always within; a
// line that is not planned is BudgetNone.
func (l *BudgetLine) Check(amount int64) BudgetCheck {
	if !l.Planned {
		return BudgetCheck{Status: BudgetNone, Reason: fmt.Sprintf("no active budget line %s: spending is not controlled", l.Stream)}
	}
	c := BudgetCheck{Remaining: l.Plan - l.Reserved - l.Actual, After: l.Reserved + l.Actual + amount, Limit: l.Plan + l.Band()}
	over := c.After - l.Plan
	switch {
	case l.Control == ControlIgnore:
		c.Status, c.Reason = BudgetWithin, "the line is tracked, not enforced (control ignore)"
	case over <= 0:
		c.Status, c.Reason = BudgetWithin, fmt.Sprintf("within the plan: %s of %s remain after it", Money(-over), Money(l.Plan))
	case l.Control == ControlWarn || c.After <= c.Limit:
		c.Status, c.Reason = BudgetWarn, fmt.Sprintf("%s beyond the plan of %s, within the %s band", Money(over), Money(l.Plan), Percent(int64(l.ToleranceBP)))
		if l.Control == ControlWarn {
			c.Reason = fmt.Sprintf("%s beyond the plan of %s (control warn)", Money(over), Money(l.Plan))
		}
	default:
		c.Status, c.Reason = BudgetExceeded, fmt.Sprintf("%s beyond the plan of %s, past the %s band (limit %s)", Money(over), Money(l.Plan), Percent(int64(l.ToleranceBP)), Money(c.Limit))
	}
	return c
}

// Money formats minor units as a decimal with two places: "12345.67".
func Money(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Percent formats basis points as a percentage: "5.00 %".
func Percent(bp int64) string {
	sign := ""
	if bp < 0 {
		sign, bp = "-", -bp
	}
	return fmt.Sprintf("%s%d.%02d %%", sign, bp/100, bp%100)
}

// BudgetLineDraft is one line of a budget draft.
type BudgetLineDraft struct {
	Department string `json:"department"`
	Category   string `json:"category"`
	Amount     int64  `json:"amount"` // minor units
	// ToleranceBP is the tolerance band in basis points (500 = 5 %); nil
	// means DefaultToleranceBP.
	ToleranceBP *int   `json:"tolerance_bp,omitempty"`
	Control     string `json:"control,omitempty"` // stop (default), warn or ignore
}

// Tolerance returns the line's tolerance in basis points.
func (d BudgetLineDraft) Tolerance() int {
	if d.ToleranceBP == nil {
		return DefaultToleranceBP
	}
	return *d.ToleranceBP
}

// ControlOrDefault returns the line's control, ControlStop if it names none.
func (d BudgetLineDraft) ControlOrDefault() string {
	if d.Control == "" {
		return ControlStop
	}
	return d.Control
}

// BudgetDraft is a year's logistics budget as drafted (年度后勤预算).
type BudgetDraft struct {
	Year     int               `json:"year"`
	Title    string            `json:"title,omitempty"`    // "" means "<year> 年度后勤预算"
	Currency string            `json:"currency,omitempty"` // "" means DefaultCurrency
	Reason   string            `json:"reason,omitempty"`
	Lines    []BudgetLineDraft `json:"lines"`
}

// Bounds of a budget draft.
const (
	maxBudgetLines = 500
	maxBudgetYear  = 2100
	minBudgetYear  = 2000
)

var departmentID = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// Validate reports the first rule d breaks as EINVALID, naming the field:
// "lines[3].amount: must be positive, got 0".
func (d BudgetDraft) Validate() error {
	switch {
	case d.Year < minBudgetYear || d.Year > maxBudgetYear:
		return Errorf(EINVALID, "year: must be between %d and %d, got %d", minBudgetYear, maxBudgetYear, d.Year)
	case utf8.RuneCountInString(d.Title) > maxNameLen:
		return Errorf(EINVALID, "title: longer than %d characters", maxNameLen)
	case utf8.RuneCountInString(d.Reason) > maxReasonLen:
		return Errorf(EINVALID, "reason: longer than %d characters", maxReasonLen)
	case d.Currency != "" && !currencyCode.MatchString(d.Currency):
		return Errorf(EINVALID, "currency: must be a three-letter ISO 4217 code such as CNY, got %q", d.Currency)
	case len(d.Lines) == 0:
		return Errorf(EINVALID, "lines: at least one line is required")
	case len(d.Lines) > maxBudgetLines:
		return Errorf(EINVALID, "lines: %d lines exceed the limit of %d", len(d.Lines), maxBudgetLines)
	}
	seen := map[string]int{}
	var total int64
	for i, l := range d.Lines {
		if err := l.validate(); err != nil {
			return Errorf(EINVALID, "lines[%d].%s", i, ErrorMessage(err))
		}
		key := l.Department + "/" + l.Category
		if j, dup := seen[key]; dup {
			return Errorf(EINVALID, "lines[%d]: %s %s repeats lines[%d]", i, l.Department, l.Category, j)
		}
		seen[key] = i
		if l.Amount > math.MaxInt64-total {
			return Errorf(EINVALID, "lines[%d].amount: the budget's total overflows", i)
		}
		total += l.Amount
	}
	return nil
}

func (l BudgetLineDraft) validate() error {
	switch {
	case l.Department == "":
		return Errorf(EINVALID, "department: required")
	case !departmentID.MatchString(l.Department):
		return Errorf(EINVALID, "department: must be a department ID such as MKT, got %q", l.Department)
	case l.Category == "":
		return Errorf(EINVALID, "category: required")
	case !slices.Contains(BudgetCategories, l.Category):
		return Errorf(EINVALID, "category: must be one of %s, got %q", strings.Join(BudgetCategories, ", "), l.Category)
	case l.Amount <= 0:
		return Errorf(EINVALID, "amount: must be positive, got %d", l.Amount)
	case l.Tolerance() < 0 || l.Tolerance() > 10000:
		return Errorf(EINVALID, "tolerance_bp: must be between 0 and 10000 basis points, got %d", l.Tolerance())
	}
	switch l.ControlOrDefault() {
	case ControlStop, ControlWarn, ControlIgnore:
	default:
		return Errorf(EINVALID, "control: must be stop, warn or ignore, got %q", l.Control)
	}
	return nil
}

// Total returns the sum of the lines' amounts.
func (d BudgetDraft) Total() int64 {
	var t int64
	for _, l := range d.Lines {
		t += l.Amount
	}
	return t
}

// CurrencyOrDefault returns d's currency, DefaultCurrency if it names none.
func (d BudgetDraft) CurrencyOrDefault() string {
	if d.Currency == "" {
		return DefaultCurrency
	}
	return d.Currency
}

// TitleOrDefault returns d's title, "<year> 年度后勤预算" if it names none.
func (d BudgetDraft) TitleOrDefault() string {
	if d.Title == "" {
		return fmt.Sprintf("%d 年度后勤预算", d.Year)
	}
	return d.Title
}

// BudgetAdjustmentLine changes one line's plan by Delta (positive or
// negative).
type BudgetAdjustmentLine struct {
	Department string `json:"department"`
	Category   string `json:"category"`
	Delta      int64  `json:"delta"`
}

// BudgetAdjustment is a change of an active budget (预算调整), a process of
// its own that needs approval.
type BudgetAdjustment struct {
	Year   int                    `json:"year"`
	Reason string                 `json:"reason"`
	Lines  []BudgetAdjustmentLine `json:"lines"`
}

// Validate reports the first rule a breaks as EINVALID, naming the field.
func (a BudgetAdjustment) Validate() error {
	switch {
	case a.Year < minBudgetYear || a.Year > maxBudgetYear:
		return Errorf(EINVALID, "year: must be between %d and %d, got %d", minBudgetYear, maxBudgetYear, a.Year)
	case strings.TrimSpace(a.Reason) == "":
		return Errorf(EINVALID, "reason: required")
	case utf8.RuneCountInString(a.Reason) > maxReasonLen:
		return Errorf(EINVALID, "reason: longer than %d characters", maxReasonLen)
	case len(a.Lines) == 0:
		return Errorf(EINVALID, "lines: at least one line is required")
	case len(a.Lines) > maxBudgetLines:
		return Errorf(EINVALID, "lines: %d lines exceed the limit of %d", len(a.Lines), maxBudgetLines)
	}
	seen := map[string]int{}
	for i, l := range a.Lines {
		switch {
		case !departmentID.MatchString(l.Department):
			return Errorf(EINVALID, "lines[%d].department: must be a department ID such as MKT, got %q", i, l.Department)
		case !slices.Contains(BudgetCategories, l.Category):
			return Errorf(EINVALID, "lines[%d].category: must be one of %s, got %q", i, strings.Join(BudgetCategories, ", "), l.Category)
		case l.Delta == 0:
			return Errorf(EINVALID, "lines[%d].delta: must not be zero", i)
		}
		key := l.Department + "/" + l.Category
		if j, dup := seen[key]; dup {
			return Errorf(EINVALID, "lines[%d]: %s %s repeats lines[%d]", i, l.Department, l.Category, j)
		}
		seen[key] = i
	}
	return nil
}

// Net returns the sum of the deltas.
func (a BudgetAdjustment) Net() int64 {
	var t int64
	for _, l := range a.Lines {
		t += l.Delta
	}
	return t
}

// BudgetProcessStream returns the stream of a budget or adjustment process:
// "budget-BU-2026-000001". (Line streams are "budget-<year>-…": their ID
// starts with a digit, a process ID with a letter.)
func BudgetProcessStream(processID string) string { return "budget-" + processID }

// BudgetRequest is what the first event of a budget process carries for
// lists: the department that owns the budget and a title.
type BudgetRequest struct {
	Department string `json:"department"`
	Title      string `json:"title"`
}

// BudgetSubmitted records a budget draft submitted for approval; it is the
// first event of a budget process ("BU-…").
type BudgetSubmitted struct {
	ProcessID string        `json:"process_id"`
	Requester string        `json:"requester"`
	Draft     BudgetDraft   `json:"draft"`
	Request   BudgetRequest `json:"request"`
	Total     int64         `json:"total"`
	Currency  string        `json:"currency"`
}

// EventType implements EventData.
func (BudgetSubmitted) EventType() string { return "budget.submitted" }

// BudgetAdjustmentSubmitted records a budget adjustment submitted for
// approval; it is the first event of an adjustment process ("BA-…").
// Total is the net change.
type BudgetAdjustmentSubmitted struct {
	ProcessID  string           `json:"process_id"`
	Requester  string           `json:"requester"`
	Adjustment BudgetAdjustment `json:"adjustment"`
	Request    BudgetRequest    `json:"request"`
	Total      int64            `json:"total"`
	Currency   string           `json:"currency"`
}

// EventType implements EventData.
func (BudgetAdjustmentSubmitted) EventType() string { return "budget.adjustment_submitted" }

// BudgetApproved records the approval of a budget or adjustment process.
type BudgetApproved struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (BudgetApproved) EventType() string { return "budget.approved" }

// BudgetRejected records the rejection of a budget or adjustment process;
// it ends it with status rejected. Reason says why when the system refused
// (e.g. the year is active already).
type BudgetRejected struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (BudgetRejected) EventType() string { return "budget.rejected" }

// BudgetActivated records that an approved budget's lines were planned on
// their streams.
type BudgetActivated struct {
	Year  int   `json:"year"`
	Lines int   `json:"lines"`
	Total int64 `json:"total"`
}

// EventType implements EventData.
func (BudgetActivated) EventType() string { return "budget.activated" }

// BudgetAdjustmentApplied records that an approved adjustment was applied
// to its lines.
type BudgetAdjustmentApplied struct {
	Year  int   `json:"year"`
	Lines int   `json:"lines"`
	Net   int64 `json:"net"`
}

// EventType implements EventData.
func (BudgetAdjustmentApplied) EventType() string { return "budget.adjustment_applied" }

// BudgetCompleted records the successful end of a budget or adjustment
// process.
type BudgetCompleted struct{}

// EventType implements EventData.
func (BudgetCompleted) EventType() string { return "budget.completed" }

// BudgetYearStream returns the stream that marks a year's budget active:
// its one event, budget.year_activated, is appended with ExpectNoStream,
// so a year is activated once.
func BudgetYearStream(year int) string { return fmt.Sprintf("budgetyear-%04d", year) }

// BudgetYearActivated marks the year's budget active; only one process
// can append it.
type BudgetYearActivated struct {
	Year      int    `json:"year"`
	ProcessID string `json:"process_id"`
}

// EventType implements EventData.
func (BudgetYearActivated) EventType() string { return "budget.year_activated" }

// Facts returns what a policy condition can test about a budget process:
// year, total (the budget's total, or the adjustment's net change, minor
// units), lines, currency, requester, and adjustment (false for a budget).
func (d BudgetDraft) Facts(requester string) Facts {
	return Facts{"year": int64(d.Year), "total": d.Total(), "lines": int64(len(d.Lines)),
		"currency": d.CurrencyOrDefault(), "requester": requester, "adjustment": false}
}

// Facts returns the facts of an adjustment process; see BudgetDraft.Facts.
func (a BudgetAdjustment) Facts(requester string) Facts {
	return Facts{"year": int64(a.Year), "total": a.Net(), "lines": int64(len(a.Lines)),
		"currency": DefaultCurrency, "requester": requester, "adjustment": true}
}
