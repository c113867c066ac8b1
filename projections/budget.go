package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/houqin/houqin"
)

// Budgets is the budget read model, folded from the events of the budget
// line streams ("budget-<year>-<dept>-<category>"): one row per line
// (plan, control, and the sums of reservations, releases, actuals and
// adjustments) and one row per line and month with the same flows.
type Budgets struct{}

var _ Projection = Budgets{}

// Name implements Projection.
func (Budgets) Name() string { return "budgets" }

// Version implements Projection.
func (Budgets) Version() int { return 1 }

var budgetsDDL = []string{
	`CREATE TABLE IF NOT EXISTS budget_lines (
		year          BIGINT NOT NULL,
		department    TEXT   NOT NULL,
		category      TEXT   NOT NULL,
		currency      TEXT   NOT NULL,
		control       TEXT   NOT NULL,
		tolerance_bp  BIGINT NOT NULL,
		planned       BIGINT NOT NULL, -- budget.line_planned
		adjusted      BIGINT NOT NULL, -- sum of budget.adjusted
		reserved      BIGINT NOT NULL, -- sum of budget.reserved
		released      BIGINT NOT NULL, -- sum of budget.released
		consumed      BIGINT NOT NULL, -- sum of budget.consumed: the actual
		activated_by  TEXT   NOT NULL,
		updated_at    TEXT   NOT NULL,
		last_position BIGINT NOT NULL,
		PRIMARY KEY (year, department, category)
	)`,
	`CREATE TABLE IF NOT EXISTS budget_months (
		year       BIGINT NOT NULL,
		department TEXT   NOT NULL,
		category   TEXT   NOT NULL,
		month      BIGINT NOT NULL, -- 1…12
		adjusted   BIGINT NOT NULL,
		reserved   BIGINT NOT NULL,
		released   BIGINT NOT NULL,
		consumed   BIGINT NOT NULL,
		PRIMARY KEY (year, department, category, month)
	)`,
}

// Setup implements Projection.
func (Budgets) Setup(ctx context.Context, tx *sql.Tx) error {
	for _, ddl := range budgetsDDL {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements Projection.
func (Budgets) Reset(ctx context.Context, tx *sql.Tx) error {
	for _, table := range []string{"budget_months", "budget_lines"} {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+table); err != nil {
			return err
		}
	}
	return Budgets{}.Setup(ctx, tx)
}

// ParseBudgetLineStream splits a line stream into year, department and
// category; ok is false for any other stream.
func ParseBudgetLineStream(stream string) (year int, dept, category string, ok bool) {
	rest, found := strings.CutPrefix(stream, "budget-")
	if !found || len(rest) < 6 || rest[4] != '-' {
		return 0, "", "", false
	}
	y, err := strconv.Atoi(rest[:4])
	if err != nil {
		return 0, "", "", false
	}
	dept, category, found = strings.Cut(rest[5:], "-")
	if !found || dept == "" || category == "" {
		return 0, "", "", false
	}
	return y, dept, category, true
}

// monthOf returns the month (1…12) of year an event counts in: the month of
// its moment in houqin.BusinessZone, clamped into year.
func monthOf(e houqin.Event, year int) int {
	t := e.Meta.OccurredAt
	if t.IsZero() {
		t = e.RecordedAt
	}
	t = t.In(houqin.BusinessZone)
	switch {
	case t.Year() < year:
		return 1
	case t.Year() > year:
		return 12
	}
	return int(t.Month())
}

// Apply implements Projection.
func (Budgets) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		if !strings.HasPrefix(e.Type, "budget.") {
			continue
		}
		year, dept, cat, ok := ParseBudgetLineStream(e.Stream)
		if !ok {
			continue
		}
		var f struct {
			Amount      int64  `json:"amount"`
			Delta       int64  `json:"delta"`
			Currency    string `json:"currency"`
			Control     string `json:"control"`
			ToleranceBP int64  `json:"tolerance_bp"`
			ProcessID   string `json:"process_id"`
		}
		if err := json.Unmarshal(e.Data, &f); err != nil {
			return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
		}
		var planned, adjusted, reserved, released, consumed int64
		switch e.Type {
		case "budget.line_planned":
			planned = f.Amount
		case "budget.adjusted":
			adjusted = f.Delta
		case "budget.reserved":
			reserved = f.Amount
		case "budget.released":
			released = f.Amount
		case "budget.consumed":
			consumed = f.Amount
		default:
			continue
		}
		at := eventTime(e)
		if _, err := tx.ExecContext(ctx, `INSERT INTO budget_lines (year, department, category, currency, control, tolerance_bp,
				planned, adjusted, reserved, released, consumed, activated_by, updated_at, last_position)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT (year, department, category) DO UPDATE SET
				currency = CASE WHEN excluded.activated_by <> '' THEN excluded.currency ELSE budget_lines.currency END,
				control = CASE WHEN excluded.activated_by <> '' THEN excluded.control ELSE budget_lines.control END,
				tolerance_bp = CASE WHEN excluded.activated_by <> '' THEN excluded.tolerance_bp ELSE budget_lines.tolerance_bp END,
				activated_by = CASE WHEN excluded.activated_by <> '' THEN excluded.activated_by ELSE budget_lines.activated_by END,
				planned = budget_lines.planned + excluded.planned,
				adjusted = budget_lines.adjusted + excluded.adjusted,
				reserved = budget_lines.reserved + excluded.reserved,
				released = budget_lines.released + excluded.released,
				consumed = budget_lines.consumed + excluded.consumed,
				updated_at = excluded.updated_at, last_position = excluded.last_position`,
			year, dept, cat, firstNonEmpty(f.Currency, houqin.DefaultCurrency), firstNonEmpty(f.Control, houqin.ControlStop), f.ToleranceBP,
			planned, adjusted, reserved, released, consumed, activatedBy(e.Type, f.ProcessID), at, e.Position); err != nil {
			return fmt.Errorf("budget line %s: %w", e.Stream, err)
		}
		if e.Type == "budget.line_planned" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO budget_months (year, department, category, month, adjusted, reserved, released, consumed)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (year, department, category, month) DO UPDATE SET
				adjusted = budget_months.adjusted + excluded.adjusted,
				reserved = budget_months.reserved + excluded.reserved,
				released = budget_months.released + excluded.released,
				consumed = budget_months.consumed + excluded.consumed`,
			year, dept, cat, monthOf(e, year), adjusted, reserved, released, consumed); err != nil {
			return fmt.Errorf("budget month %s: %w", e.Stream, err)
		}
	}
	return nil
}

func activatedBy(typ, processID string) string {
	if typ == "budget.line_planned" {
		return processID
	}
	return ""
}

// BudgetLineRow is one budget line of the read model, with its sums.
type BudgetLineRow struct {
	Year        int    `json:"year"`
	Department  string `json:"department"`
	Category    string `json:"category"`
	Currency    string `json:"currency"`
	Control     string `json:"control"`
	ToleranceBP int    `json:"tolerance_bp"`
	Planned     int64  `json:"planned"`
	Adjusted    int64  `json:"adjusted"`
	Reserved    int64  `json:"reserved"`
	Released    int64  `json:"released"`
	Consumed    int64  `json:"consumed"`
	ActivatedBy string `json:"activated_by"`
}

// Plan returns the line's plan: planned + adjusted.
func (r BudgetLineRow) Plan() int64 { return r.Planned + r.Adjusted }

// Committed returns what is reserved and not yet released or spent.
func (r BudgetLineRow) Committed() int64 { return r.Reserved - r.Released - r.Consumed }

// Line returns the row as a houqin.BudgetLine, for its band and check.
func (r BudgetLineRow) Line() *houqin.BudgetLine {
	l := houqin.NewBudgetLine(houqin.BudgetLineStream(r.Year, r.Department, r.Category))
	l.Planned = r.ActivatedBy != ""
	l.Year, l.Department, l.Category, l.Currency = r.Year, r.Department, r.Category, r.Currency
	l.Control, l.ToleranceBP = r.Control, r.ToleranceBP
	l.Plan, l.Adjusted, l.Reserved, l.Actual = r.Plan(), r.Adjusted, r.Committed(), r.Consumed
	return l
}

// BudgetMonthRow is the flows of one line in one month.
type BudgetMonthRow struct {
	Department string `json:"department"`
	Category   string `json:"category"`
	Month      int    `json:"month"`
	Adjusted   int64  `json:"adjusted"`
	Reserved   int64  `json:"reserved"`
	Released   int64  `json:"released"`
	Consumed   int64  `json:"consumed"`
}

// ListBudgetLines returns the lines of a year (every year if year is 0), by
// year, department and category.
func ListBudgetLines(ctx context.Context, db *sql.DB, year int) ([]BudgetLineRow, error) {
	q := `SELECT year, department, category, currency, control, tolerance_bp, planned, adjusted, reserved, released, consumed, activated_by
		FROM budget_lines`
	var args []any
	if year != 0 {
		q += ` WHERE year = $1`
		args = append(args, year)
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY year, department, category`, args...)
	if err != nil {
		return nil, fmt.Errorf("list budget lines: %w", err)
	}
	defer rows.Close()
	out := []BudgetLineRow{}
	for rows.Next() {
		var r BudgetLineRow
		if err := rows.Scan(&r.Year, &r.Department, &r.Category, &r.Currency, &r.Control, &r.ToleranceBP,
			&r.Planned, &r.Adjusted, &r.Reserved, &r.Released, &r.Consumed, &r.ActivatedBy); err != nil {
			return nil, fmt.Errorf("list budget lines: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListBudgetMonths returns the monthly flows of a year's lines, by
// department, category and month.
func ListBudgetMonths(ctx context.Context, db *sql.DB, year int) ([]BudgetMonthRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT department, category, month, adjusted, reserved, released, consumed
		FROM budget_months WHERE year = $1 ORDER BY department, category, month`, year)
	if err != nil {
		return nil, fmt.Errorf("list budget months: %w", err)
	}
	defer rows.Close()
	out := []BudgetMonthRow{}
	for rows.Next() {
		var r BudgetMonthRow
		if err := rows.Scan(&r.Department, &r.Category, &r.Month, &r.Adjusted, &r.Reserved, &r.Released, &r.Consumed); err != nil {
			return nil, fmt.Errorf("list budget months: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PurchasePlan is the purchase plan read model (物资采购计划): one row per
// procurement with its department, category, the year and month it was
// requested (houqin.BusinessZone), its status, and the amounts requested, approved,
// ordered, received and invoiced.
type PurchasePlan struct{}

var _ Projection = PurchasePlan{}

// Name implements Projection.
func (PurchasePlan) Name() string { return "purchase_plan" }

// Version implements Projection.
func (PurchasePlan) Version() int { return 1 }

// Setup implements Projection.
func (PurchasePlan) Setup(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS purchase_plan (
		process_id    TEXT PRIMARY KEY,
		year          BIGINT NOT NULL,
		month         BIGINT NOT NULL,
		department    TEXT   NOT NULL,
		category      TEXT   NOT NULL,
		currency      TEXT   NOT NULL,
		status        TEXT   NOT NULL,
		requested     BIGINT NOT NULL,
		approved      BIGINT NOT NULL,
		ordered       BIGINT NOT NULL,
		received      BIGINT NOT NULL, -- the order's total once every item arrived
		invoiced      BIGINT NOT NULL,
		last_position BIGINT NOT NULL
	)`)
	return err
}

// Reset implements Projection.
func (PurchasePlan) Reset(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS purchase_plan`); err != nil {
		return err
	}
	return PurchasePlan{}.Setup(ctx, tx)
}

// Apply implements Projection.
func (PurchasePlan) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		id, ok := strings.CutPrefix(e.Stream, "procurement-")
		if !ok {
			continue
		}
		set := func(q string, args ...any) error {
			args = append(args, e.Position, id)
			n := len(args)
			_, err := tx.ExecContext(ctx, `UPDATE purchase_plan SET `+q+fmt.Sprintf(`, last_position = $%d WHERE process_id = $%d`, n-1, n), args...)
			if err != nil {
				return fmt.Errorf("purchase plan %s: %w", id, err)
			}
			return nil
		}
		var err error
		switch e.Type {
		case "procurement.requisition_submitted":
			var s houqin.RequisitionSubmitted
			if err := json.Unmarshal(e.Data, &s); err != nil {
				return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
			}
			t := e.Meta.OccurredAt
			if t.IsZero() {
				t = e.RecordedAt
			}
			t = t.In(houqin.BusinessZone)
			_, err = tx.ExecContext(ctx, `INSERT INTO purchase_plan (process_id, year, month, department, category, currency, status,
					requested, approved, ordered, received, invoiced, last_position)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, 0, $9) ON CONFLICT (process_id) DO NOTHING`,
				id, t.Year(), int(t.Month()), s.Request.Department, s.Request.BudgetCategory, firstNonEmpty(s.Currency, houqin.DefaultCurrency),
				string(houqin.StatusRunning), s.Total, e.Position)
		case "process.resubmitted":
			var r struct {
				Request *houqin.ProcurementRequest `json:"request"`
			}
			if json.Unmarshal(e.Data, &r) == nil && r.Request != nil {
				err = set(`requested = $1`, r.Request.Total())
			}
		case "procurement.approved":
			err = set(`approved = requested`)
		case "procurement.po_recorded":
			var po houqin.PurchaseOrderRecorded
			if err := json.Unmarshal(e.Data, &po); err != nil {
				return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
			}
			err = set(`ordered = $1`, po.Total)
		case "procurement.goods_received":
			var g houqin.GoodsReceived
			if err := json.Unmarshal(e.Data, &g); err != nil {
				return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
			}
			if len(g.Outstanding) == 0 {
				err = set(`received = ordered`)
			}
		case "procurement.invoice_recorded":
			var inv houqin.InvoiceRecorded
			if err := json.Unmarshal(e.Data, &inv); err != nil {
				return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
			}
			err = set(`invoiced = $1`, inv.Amount)
		default:
			if s := ProcessEnding(e); s != "" {
				err = set(`status = $1`, string(s))
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// PurchasePlanRow is the procurements of one department, category and
// month: how many and how much were requested, approved, ordered, received
// and invoiced.
type PurchasePlanRow struct {
	Department     string `json:"department"`
	Category       string `json:"category"`
	Month          int    `json:"month"`
	Currency       string `json:"currency"`
	Requested      int64  `json:"requested"` // number of procurements
	RequestedTotal int64  `json:"requested_amount"`
	Approved       int64  `json:"approved"`
	ApprovedTotal  int64  `json:"approved_amount"`
	Ordered        int64  `json:"ordered"`
	OrderedTotal   int64  `json:"ordered_amount"`
	Received       int64  `json:"received"`
	ReceivedTotal  int64  `json:"received_amount"`
	InvoicedTotal  int64  `json:"invoiced_amount"`
}

// ListPurchasePlan returns a year's purchase plan by department, category,
// month and currency.
func ListPurchasePlan(ctx context.Context, db *sql.DB, year int) ([]PurchasePlanRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT department, category, month, currency,
			COUNT(*), COALESCE(SUM(requested), 0),
			COALESCE(SUM(CASE WHEN approved > 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(approved), 0),
			COALESCE(SUM(CASE WHEN ordered > 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(ordered), 0),
			COALESCE(SUM(CASE WHEN received > 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(received), 0),
			COALESCE(SUM(invoiced), 0)
		FROM purchase_plan WHERE year = $1
		GROUP BY department, category, month, currency
		ORDER BY department, category, month, currency`, year)
	if err != nil {
		return nil, fmt.Errorf("list purchase plan: %w", err)
	}
	defer rows.Close()
	out := []PurchasePlanRow{}
	for rows.Next() {
		var r PurchasePlanRow
		if err := rows.Scan(&r.Department, &r.Category, &r.Month, &r.Currency, &r.Requested, &r.RequestedTotal,
			&r.Approved, &r.ApprovedTotal, &r.Ordered, &r.OrderedTotal, &r.Received, &r.ReceivedTotal, &r.InvoicedTotal); err != nil {
			return nil, fmt.Errorf("list purchase plan: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
