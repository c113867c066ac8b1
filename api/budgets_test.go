package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
)

func TestBudgetRoutes(t *testing.T) {
	f := newFixture(t, time.Date(2026, 7, 1, 4, 0, 0, 0, time.UTC))
	draft := `{"year":2026,"lines":[{"department":"MKT","category":"office_supplies","amount":300000},{"department":"MKT","category":"travel","amount":0}]}`

	t.Run("drafting refused", func(t *testing.T) {
		problem(t, f.do("wang.fang", "POST", "/v1/budgets", draft), 403, "budget: wang.fang holds none of the roles")
		problem(t, f.do("huang.xin", "POST", "/v1/budgets", draft), 403, "")
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets", draft), 400, "lines[1].amount: must be positive, got 0")
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets", `{"year":2026,"lines":[{"department":"XYZ","category":"travel","amount":1}]}`),
			400, `lines[0].department: unknown department "XYZ"`)
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets", `{"year":2026,"lines":[],"extra":1}`), 400, "extra: unknown field")
		// A band wider than 20 % would make the plan meaningless.
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets", `{"year":2026,"lines":[{"department":"MKT","category":"travel","amount":100,"tolerance_bp":2001}]}`),
			400, "lines[0].tolerance_bp: at most 2000 basis points (20.00 %), got 2001")
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets/20x6/adjustments", `{}`), 400, `year: must be a year between 2000 and 2100, got "20x6"`)
	})

	// The 2026 budget is activated (as its workflow's activity does).
	a := &activities.Activities{Store: f.store, Now: f.clock}
	_, err := a.ActivateBudget(context.Background(), activities.ActivateBudgetInput{ProcessID: "BU-2026-000001", Draft: houqin.BudgetDraft{Year: 2026,
		Lines: []houqin.BudgetLineDraft{{Department: "MKT", Category: "office_supplies", Amount: 300_000}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.ReserveBudget(context.Background(), activities.ReserveBudgetInput{ProcessID: "PR-2026-000001", Amount: 310_000, Allow: houqin.BudgetWarn,
		Line: activities.BudgetLineRef{Year: 2026, Department: "MKT", Category: "office_supplies"}})
	if err != nil {
		t.Fatal(err)
	}
	f.catchUp()

	t.Run("active year", func(t *testing.T) {
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets", strings.Replace(draft, `"amount":0`, `"amount":1`, 1)),
			409, "year: the 2026 budget is active (BU-2026-000001); change it with an adjustment")
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets/2026/adjustments", `{"reason":"x","lines":[{"department":"HR","category":"travel","delta":-5}]}`),
			422, "lines[0]: HR has no active budget line for travel in 2026; a new line takes a positive delta")
		// A line is added mid-year to an active budget only.
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets/2027/adjustments", `{"reason":"x","lines":[{"department":"HR","category":"travel","delta":5}]}`),
			422, "lines[0]: the 2027 budget is not active; a line is added to an active budget")
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets/2026/adjustments", `{"reason":"x","lines":[{"department":"XYZ","category":"travel","delta":5}]}`),
			400, `lines[0].department: unknown department "XYZ"`)
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets/2026/adjustments", `{"reason":"x","lines":[{"department":"MKT","category":"office_supplies","delta":-300001}]}`),
			422, "lines[0].delta: the plan of budget-2026-MKT-office_supplies would fall below zero")
		// 310 000 are committed: the plan may go down to that, not below.
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets/2026/adjustments", `{"reason":"x","lines":[{"department":"MKT","category":"office_supplies","delta":-1}]}`),
			422, "lines[0].delta: the plan of budget-2026-MKT-office_supplies would fall below what it has committed and spent (3100.00 reserved, 0.00 spent")
		problem(t, f.do("zhang.wei", "POST", "/v1/budgets/2026/adjustments", `{"reason":"","lines":[]}`), 400, "reason: required")
	})

	t.Run("read", func(t *testing.T) {
		var b struct {
			Active      bool   `json:"active"`
			ActivatedBy string `json:"activated_by"`
			Lines       []struct {
				Plan, Committed, Available int64
				Utilization                float64
				Status                     string
				DepartmentName             houqin.Text `json:"department_name"`
			} `json:"lines"`
		}
		decodeOK(t, f.do("chen.jing", "GET", "/v1/budgets/2026", ""), 200, &b)
		if !b.Active || b.ActivatedBy != "BU-2026-000001" || len(b.Lines) != 1 {
			t.Fatalf("budget = %+v", b)
		}
		if l := b.Lines[0]; l.Plan != 300_000 || l.Committed != 310_000 || l.Available != -10_000 || l.Utilization != 1.0333 ||
			l.Status != houqin.BudgetWarn || l.DepartmentName.Zh != "市场部" {
			t.Errorf("line = %+v", l)
		}
		decodeOK(t, f.do("huang.xin", "GET", "/v1/budgets/2027", ""), 200, &b)
		if b.Active || len(b.Lines) != 0 {
			t.Errorf("2027 = %+v", b)
		}
		problem(t, f.do("wang.fang", "GET", "/v1/budgets/2026", ""), 403, "budget: wang.fang holds none of the roles")
	})

	t.Run("reports", func(t *testing.T) {
		w := f.do("zhang.wei", "GET", "/v1/reports/budget?format=csv&lang=en", "")
		if w.Code != 200 || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
			w.Header().Get("Content-Disposition") != `attachment; filename="budget-2026.csv"` ||
			!strings.HasPrefix(w.Body.String(), "\ufeffDepartment,Department name,Category") {
			t.Errorf("csv: %d %v %.60q", w.Code, w.Header(), w.Body)
		}
		w = f.do("huang.xin", "GET", "/v1/reports/purchase-plan?year=2026&format=xlsx", "")
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), "spreadsheetml") {
			t.Errorf("xlsx: %d %v", w.Code, w.Header())
		}
		problem(t, f.do("chen.jing", "GET", "/v1/reports/budget?format=pdf", ""), 400, `format: must be one of json, csv, xlsx, got "pdf"`)
		problem(t, f.do("chen.jing", "GET", "/v1/reports/purchase-plan?lang=de", ""), 400, `lang: must be one of zh-CN, en, got "de"`)
		problem(t, f.do("chen.jing", "GET", "/v1/reports/budget?year=abc", ""), 400, `year: must be a year between 2000 and 2100, got "abc"`)
		problem(t, f.do("li.na", "GET", "/v1/reports/purchase-plan", ""), 403, "report: li.na holds none of the roles")
	})
}
