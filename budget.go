package houqin

import "fmt"

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
}
