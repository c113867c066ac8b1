package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin/api"
	"github.com/xuri/excelize/v2"
)

// raw sends a GET as user and returns the status, content type and body.
func (d *devProcess) raw(t *testing.T, user, path string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", d.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := api.IssueDevToken(d.key, user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// budgetLine returns the line of a GET /v1/budgets/{year} answer.
func budgetLine(t *testing.T, budget map[string]any, dept, category string) map[string]any {
	t.Helper()
	for _, l := range budget["lines"].([]any) {
		line := l.(map[string]any)
		if line["department"] == dept && line["category"] == category {
			return line
		}
	}
	t.Fatalf("no line %s %s in %v", dept, category, budget)
	return nil
}

// TestBudgetEndToEnd activates a year's budget through the HTTP API on
// the embedded Temporal server (finance approves), runs a procurement into
// the tolerance band — warn, an extra finance approval, the purchase order,
// the receipt, the invoice with an under-spend, stock-in — adjusts the
// budget, and reads the budget, the reports and the gauges.
func TestBudgetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	y := strconv.Itoa(year)
	draft := map[string]any{"year": year, "reason": "年度后勤预算", "lines": []map[string]any{
		{"department": "MKT", "category": "office_supplies", "amount": 300000}, // 3 000.00, stop, 5 %
		{"department": "MKT", "category": "travel", "amount": 500000, "control": "warn"},
		{"department": "ADM", "category": "facilities", "amount": 2000000, "tolerance_bp": 1000},
	}}

	// Refusals: a reader who may not draft, a field named, an unknown department.
	d.must(t, 403, "wang.fang", "POST", "/v1/budgets", draft)
	d.must(t, 403, "huang.xin", "POST", "/v1/budgets", draft)
	bad := map[string]any{"year": year, "lines": []map[string]any{{"department": "MKT", "category": "travel", "amount": 1}, {"department": "MKT", "category": "events", "amount": 0}}}
	if p := d.must(t, 400, "zhang.wei", "POST", "/v1/budgets", bad); p["detail"] != "lines[1].amount: must be positive, got 0" {
		t.Fatalf("bad draft = %v", p)
	}
	unknown := map[string]any{"year": year, "lines": []map[string]any{{"department": "XYZ", "category": "travel", "amount": 1}}}
	if p := d.must(t, 400, "zhang.wei", "POST", "/v1/budgets", unknown); p["detail"] != `lines[0].department: unknown department "XYZ"` {
		t.Fatalf("unknown department = %v", p)
	}

	// The budget process: finance approves, the lines are planned.
	created := d.must(t, 201, "zhang.wei", "POST", "/v1/budgets", draft)
	bu := created["id"].(string)
	if bu != fmt.Sprintf("BU-%d-000001", year) || created["kind"] != "budget" {
		t.Fatalf("created = %v", created)
	}
	task := d.pendingTask(t, "chen.jing", bu, created["position"])
	if task["step"] != "finance_approval" {
		t.Fatalf("budget task = %v", task)
	}
	out := d.must(t, 200, "chen.jing", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	if out["status"] != "completed" {
		t.Fatalf("approval answered %v, want completed", out)
	}
	budget := d.must(t, 200, "chen.jing", "GET", fmt.Sprintf("/v1/budgets/%s?min_position=%v", y, out["position"]), nil)
	if budget["active"] != true || budget["activated_by"] != bu || len(budget["lines"].([]any)) != 3 {
		t.Fatalf("budget = %v", budget)
	}
	if l := budgetLine(t, budget, "ADM", "facilities"); l["plan"] != 2000000.0 || l["tolerance_bp"] != 1000.0 || l["status"] != "within" {
		t.Fatalf("facilities = %v", l)
	}
	d.must(t, 409, "zhang.wei", "POST", "/v1/budgets", draft) // a year is activated once
	d.must(t, 403, "wang.fang", "GET", "/v1/budgets/"+y, nil)
	d.must(t, 200, "huang.xin", "GET", "/v1/budgets/"+y, nil)

	// A procurement of 3 100.00 against 3 000.00: within the 5 % band, so
	// finance reviews the overrun after the department head.
	req := map[string]any{"department": "MKT", "budget_category": "office_supplies", "reason": "展会物料", "needed_by": fmt.Sprintf("%d-12-28", year),
		"items": []map[string]any{{"name": "展架", "quantity": 1, "unit": "套", "unit_price": 310000}}}
	preview := d.must(t, 200, "wang.fang", "POST", "/v1/procurements/preview", req)
	var route []string
	for _, s := range preview["steps"].([]any) {
		if step := s.(map[string]any); step["applies"] == true {
			route = append(route, step["step"].(string))
		}
	}
	if strings.Join(route, ",") != "dept_approval,budget_review" {
		t.Fatalf("previewed route %v, want dept_approval,budget_review", route)
	}
	created = d.must(t, 201, "wang.fang", "POST", "/v1/procurements", req)
	pr := created["id"].(string)
	task = d.pendingTask(t, "liu.yang", pr, created["position"])
	out = d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	task = d.pendingTask(t, "chen.jing", pr, out["position"])
	if task["step"] != "budget_review" {
		t.Fatalf("after the department head chen.jing has %v, want budget_review", task)
	}
	out = d.must(t, 200, "chen.jing", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "超支在容差内，同意"})
	budget = d.must(t, 200, "chen.jing", "GET", fmt.Sprintf("/v1/budgets/%s?min_position=%v", y, out["position"]), nil)
	if l := budgetLine(t, budget, "MKT", "office_supplies"); l["committed"] != 310000.0 || l["status"] != "warn" || l["available"] != -10000.0 {
		t.Fatalf("after approval office supplies = %v", l)
	}

	// The work: the order at the agreed price, the receipt, the invoice.
	task = d.pendingTask(t, "li.na", pr, out["position"])
	complete := func(task map[string]any, data any) map[string]any {
		t.Helper()
		return d.must(t, 200, "li.na", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": data})
	}
	out = complete(task, map[string]any{"supplier": "上海展览服务公司", "lines": []map[string]any{{"name": "展架", "quantity": 1, "unit_price": 300000}}})
	out = complete(d.pendingTask(t, "li.na", pr, out["position"]), map[string]any{"lines": []map[string]any{{"name": "展架", "quantity": 1}}})
	task = d.pendingTask(t, "li.na", pr, out["position"])
	if task["step"] != "record_invoice" {
		t.Fatalf("after the receipt li.na has %v, want record_invoice", task)
	}
	if p := d.must(t, 400, "li.na", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": map[string]any{"number": "INV-1", "amount": 300001}}); !strings.Contains(p["detail"].(string), "data.amount") {
		t.Fatalf("invoice above the order = %v", p)
	}
	out = complete(task, map[string]any{"number": "SH-2026-0815", "amount": 295000})
	out = complete(d.pendingTask(t, "li.na", pr, out["position"]), map[string]any{})
	if out["status"] != "completed" {
		t.Fatalf("stock-in answered %v", out)
	}
	budget = d.must(t, 200, "chen.jing", "GET", fmt.Sprintf("/v1/budgets/%s?min_position=%v", y, out["position"]), nil)
	office := budgetLine(t, budget, "MKT", "office_supplies")
	if office["actual"] != 295000.0 || office["committed"] != 0.0 || office["status"] != "within" || office["utilization"] != 0.9833 || office["overrun"] != 0.0 {
		t.Fatalf("after the invoice office supplies = %v", office)
	}

	// An adjustment: +500.00 on office supplies, and a travel line for HR
	// added mid-year (1 000.00), approved by finance. A line that does not
	// exist cannot be cut.
	d.must(t, 422, "zhang.wei", "POST", "/v1/budgets/"+y+"/adjustments", map[string]any{"reason": "x",
		"lines": []map[string]any{{"department": "HR", "category": "travel", "delta": -100}}})
	created = d.must(t, 201, "zhang.wei", "POST", "/v1/budgets/"+y+"/adjustments", map[string]any{"reason": "展会追加",
		"lines": []map[string]any{{"department": "MKT", "category": "office_supplies", "delta": 50000}, {"department": "HR", "category": "travel", "delta": 100000}}})
	ba := created["id"].(string)
	task = d.pendingTask(t, "chen.jing", ba, created["position"])
	out = d.must(t, 200, "chen.jing", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{})
	budget = d.must(t, 200, "chen.jing", "GET", fmt.Sprintf("/v1/budgets/%s?min_position=%v", y, out["position"]), nil)
	if l := budgetLine(t, budget, "MKT", "office_supplies"); l["plan"] != 350000.0 || l["adjusted"] != 50000.0 {
		t.Fatalf("after the adjustment office supplies = %v", l)
	}
	if l := budgetLine(t, budget, "HR", "travel"); l["plan"] != 100000.0 || l["adjusted"] != 100000.0 || l["control"] != "stop" {
		t.Fatalf("the HR travel line added mid-year = %v", l)
	}
	if p := d.must(t, 200, "zhang.wei", "GET", "/v1/processes/"+ba, nil); p["kind"] != "budget" || p["status"] != "completed" {
		t.Fatalf("adjustment process = %v", p)
	}
	d.must(t, 200, "huang.xin", "GET", "/v1/processes/"+ba+"/audit", nil)
	d.must(t, 200, "huang.xin", "GET", "/v1/processes/"+bu+"/audit", nil)

	t.Run("reports", func(t *testing.T) {
		pos := fmt.Sprint(out["position"])
		code, ctype, body := d.raw(t, "huang.xin", "/v1/reports/budget?year="+y+"&format=xlsx&lang=en&min_position="+pos)
		if code != 200 || !strings.Contains(ctype, "spreadsheetml") {
			t.Fatalf("budget xlsx: %d %s %s", code, ctype, body)
		}
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("Budget")
		if err != nil {
			t.Fatal(err)
		}
		if rows[0][0] != "Department" || len(rows) != 6 { // header, 3 lines and the one added mid-year, total
			t.Fatalf("budget sheet rows = %v", rows)
		}
		found := false
		for _, r := range rows {
			if r[0] == "MKT" && r[2] == "office_supplies" {
				found = r[9] == "3,500.00" && r[11] == "2,950.00"
			}
		}
		if !found {
			t.Errorf("no office supplies row with plan 3,500.00 and actual 2,950.00 in %v", rows)
		}
		code, ctype, body = d.raw(t, "chen.jing", "/v1/reports/budget?year="+y+"&format=csv")
		if code != 200 || !strings.HasPrefix(ctype, "text/csv") || !strings.HasPrefix(string(body), "\ufeff部门,部门名称") {
			t.Fatalf("budget csv: %d %s %.80s", code, ctype, body)
		}
		plan := d.must(t, 200, "zhang.wei", "GET", "/v1/reports/purchase-plan?year="+y+"&min_position="+pos, nil)
		rowsJSON := plan["rows"].([]any)
		if len(rowsJSON) != 1 {
			t.Fatalf("purchase plan = %v", plan)
		}
		r := rowsJSON[0].(map[string]any)
		if r["requested_amount"] != 310000.0 || r["ordered_amount"] != 300000.0 || r["received_amount"] != 300000.0 || r["invoiced_amount"] != 295000.0 {
			t.Fatalf("purchase plan row = %v", r)
		}
		d.must(t, 403, "wang.fang", "GET", "/v1/reports/purchase-plan", nil)
		d.must(t, 400, "chen.jing", "GET", "/v1/reports/budget?format=pdf", nil)
	})

	t.Run("gauges", func(t *testing.T) {
		resp, err := http.Get(d.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, want := range []string{
			`houqin_budget_utilization_ratio{category="office_supplies",dept="MKT"} 0.842857`,
			`houqin_budget_overrun_ratio{category="office_supplies",dept="MKT"} 0`,
			`houqin_budget_utilization_ratio{category="facilities",dept="ADM"} 0`,
		} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	exportHistory(t, d, bu, "activated")
	exportHistory(t, d, ba, "adjusted")
	exportHistory(t, d, pr, "budget-warn-invoiced")
}
