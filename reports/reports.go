// Package reports builds houqin's management reports (工作成果) from the
// read models and writes each as JSON, CSV (UTF-8 with a byte order mark,
// so Excel reads Chinese) or XLSX (excelize), with zh-CN or en headers:
//
//   - the annual budget report (年度预算报告 / 费用分析报告): budget against
//     actual by department, category and month, with committed amounts,
//     overrun and a forecast to year end from the run rate;
//   - the purchase plan (物资采购计划): procurements by department, category
//     and month, requested, approved, ordered and received, with amounts.
//
// Amounts are integer minor units in JSON; CSV and XLSX show them in the
// major unit with two decimals.
package reports

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/xuri/excelize/v2"
)

// Formats are the formats a report is written in.
var Formats = []string{"json", "csv", "xlsx"}

// Languages are the languages of the headers of CSV and XLSX reports.
var Languages = []string{"zh-CN", "en"}

// CheckFormat reports an unknown format or language as EINVALID, naming
// the parameter.
func CheckFormat(format, lang string) error {
	if !slices.Contains(Formats, format) {
		return houqin.Errorf(houqin.EINVALID, "format: must be one of %s, got %q", strings.Join(Formats, ", "), format)
	}
	if !slices.Contains(Languages, lang) {
		return houqin.Errorf(houqin.EINVALID, "lang: must be one of %s, got %q", strings.Join(Languages, ", "), lang)
	}
	return nil
}

// ContentType returns the media type of a format.
func ContentType(format string) string {
	switch format {
	case "csv":
		return "text/csv; charset=utf-8"
	case "xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "application/json"
}

// categoryNames are the names of the budget categories.
var categoryNames = map[string]houqin.Text{
	houqin.CategoryOfficeSupplies: {Zh: "办公用品", En: "Office supplies"},
	houqin.CategoryEquipment:      {Zh: "设备", En: "Equipment"},
	houqin.CategoryTravel:         {Zh: "差旅", En: "Travel"},
	houqin.CategoryEvents:         {Zh: "活动与会议", En: "Events and meetings"},
	houqin.CategoryFacilities:     {Zh: "设施维护", En: "Facilities maintenance"},
	houqin.CategoryServices:       {Zh: "服务", En: "Services"},
	houqin.CategoryOther:          {Zh: "其他", En: "Other"},
}

// CategoryName returns a category's name; an unknown one is named by its ID.
func CategoryName(cat string) houqin.Text {
	if n, ok := categoryNames[cat]; ok {
		return n
	}
	return houqin.Text{Zh: cat, En: cat}
}

// Names names departments; nil names them by their IDs.
type Names func(dept string) houqin.Text

// OrgNames returns the department names of an organisation.
func OrgNames(org *houqin.Org) Names {
	return func(id string) houqin.Text {
		if org != nil {
			if d, err := org.Department(id); err == nil {
				return houqin.Text{Zh: d.Name, En: d.NameEn}
			}
		}
		return houqin.Text{Zh: id, En: id}
	}
}

func (n Names) of(dept string) houqin.Text {
	if n == nil {
		return houqin.Text{Zh: dept, En: dept}
	}
	return n(dept)
}

// ratio returns num/den rounded to four decimals, 0 when den is not
// positive.
func ratio(num, den int64) float64 {
	if den <= 0 {
		return 0
	}
	return math.Round(float64(num)/float64(den)*10000) / 10000
}

// table is a report as rows of cells under headers, for CSV and XLSX.
type table struct {
	sheet   houqin.Text
	headers []houqin.Text
	rows    [][]any // string, int (counts), money (minor units), percent
}

// money is an amount in minor units, shown with two decimals.
type money int64

// percent is a ratio shown as a percentage with two decimals.
type percent float64

func pick(t houqin.Text, lang string) string {
	if lang == "en" {
		return t.En
	}
	return t.Zh
}

func cellText(v any) string {
	switch v := v.(type) {
	case money:
		return houqin.Money(int64(v))
	case percent:
		return strconv.FormatFloat(float64(v)*100, 'f', 2, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return v
	}
	return ""
}

// writeCSV writes the first table as CSV with a byte order mark.
func writeCSV(w io.Writer, t table, lang string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := make([]string, len(t.headers))
	for i, h := range t.headers {
		head[i] = pick(h, lang)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range t.rows {
		rec := make([]string, len(r))
		for i, v := range r {
			rec[i] = cellText(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeXLSX writes each table on its own sheet: a bold header row, money
// as numbers with two decimals, percentages as percentages.
func writeXLSX(w io.Writer, lang string, tables ...table) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	moneyStyle, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	pctStyle, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return err
	}
	for i, t := range tables {
		name := pick(t.sheet, lang)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		for c, h := range t.headers {
			cell, _ := excelize.CoordinatesToCellName(c+1, 1)
			if err := f.SetCellStr(name, cell, pick(h, lang)); err != nil {
				return err
			}
			if err := f.SetCellStyle(name, cell, cell, bold); err != nil {
				return err
			}
		}
		for r, row := range t.rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+2)
				var err error
				switch v := v.(type) {
				case money:
					if err = f.SetCellFloat(name, cell, float64(v)/100, 2, 64); err == nil {
						err = f.SetCellStyle(name, cell, cell, moneyStyle)
					}
				case percent:
					if err = f.SetCellFloat(name, cell, float64(v), 4, 64); err == nil {
						err = f.SetCellStyle(name, cell, cell, pctStyle)
					}
				case int:
					err = f.SetCellInt(name, cell, int64(v))
				case int64:
					err = f.SetCellInt(name, cell, v)
				default:
					err = f.SetCellStr(name, cell, cellText(v))
				}
				if err != nil {
					return err
				}
			}
		}
	}
	_, err = f.WriteTo(w)
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// BudgetLine is one line of the budget report.
type BudgetLine struct {
	Department     string      `json:"department"`
	DepartmentName houqin.Text `json:"department_name"`
	Category       string      `json:"category"`
	CategoryName   houqin.Text `json:"category_name"`
	Currency       string      `json:"currency"`
	Control        string      `json:"control"`
	ToleranceBP    int         `json:"tolerance_bp"`
	Planned        int64       `json:"planned"`   // as activated
	Adjusted       int64       `json:"adjusted"`  // approved adjustments
	Plan           int64       `json:"plan"`      // planned + adjusted
	Committed      int64       `json:"committed"` // reserved, not yet released or spent
	Actual         int64       `json:"actual"`    // spent (invoices)
	Available      int64       `json:"available"` // plan − committed − actual
	// Utilization is (committed + actual) / plan.
	Utilization float64 `json:"utilization"`
	// Overrun is how far the actual passed the plan: max(0, actual −
	// plan) / plan.
	Overrun float64 `json:"overrun"`
	// Forecast is the actual projected to year end from its run rate so
	// far, and at least actual + committed.
	Forecast        int64   `json:"forecast"`
	ForecastOverrun float64 `json:"forecast_overrun"`
	Status          string  `json:"status"` // within, warn or exceeded: the line's check now
}

// BudgetMonth is one line's flows in one month.
type BudgetMonth struct {
	Department string `json:"department"`
	Category   string `json:"category"`
	Month      int    `json:"month"`
	Adjusted   int64  `json:"adjusted"`
	Committed  int64  `json:"committed"` // reserved − released − consumed in the month
	Actual     int64  `json:"actual"`
	// CumulativeActual is the actual from January to the month.
	CumulativeActual int64 `json:"cumulative_actual"`
}

// BudgetReport is the annual budget report (年度预算报告 / 费用分析报告).
type BudgetReport struct {
	Year   int           `json:"year"`
	AsOf   time.Time     `json:"as_of"`
	Lines  []BudgetLine  `json:"lines"`
	Total  BudgetLine    `json:"total"` // of every line (Department "ALL")
	Months []BudgetMonth `json:"months"`
}

// NewBudgetReport computes the report of a year as of a moment from the
// budget read model's rows.
func NewBudgetReport(year int, asOf time.Time, lines []projections.BudgetLineRow, months []projections.BudgetMonthRow, names Names) BudgetReport {
	elapsed, days := elapsedDays(year, asOf)
	rep := BudgetReport{Year: year, AsOf: asOf.UTC(), Lines: []BudgetLine{}, Months: []BudgetMonth{}}
	total := projections.BudgetLineRow{Year: year, Department: "ALL", Category: "all", Currency: houqin.DefaultCurrency, Control: houqin.ControlStop}
	for _, r := range lines {
		if r.Year != year {
			continue
		}
		rep.Lines = append(rep.Lines, budgetLine(r, elapsed, days, names))
		total.Planned += r.Planned
		total.Adjusted += r.Adjusted
		total.Reserved += r.Reserved
		total.Released += r.Released
		total.Consumed += r.Consumed
		if len(rep.Lines) == 1 {
			total.Currency = r.Currency // a year's budget is in one currency
		}
	}
	rep.Total = budgetLine(total, elapsed, days, names)
	rep.Total.DepartmentName, rep.Total.CategoryName = houqin.Text{Zh: "合计", En: "Total"}, houqin.Text{Zh: "全部", En: "All"}
	rep.Total.Status, rep.Total.Control, rep.Total.ToleranceBP = "", "", 0
	var cum int64
	for i, m := range months {
		if i == 0 || m.Department != months[i-1].Department || m.Category != months[i-1].Category {
			cum = 0
		}
		cum += m.Consumed
		rep.Months = append(rep.Months, BudgetMonth{Department: m.Department, Category: m.Category, Month: m.Month,
			Adjusted: m.Adjusted, Committed: m.Reserved - m.Released - m.Consumed, Actual: m.Consumed, CumulativeActual: cum})
	}
	return rep
}

// elapsedDays returns the days of year gone by asOf (in the books' zone),
// and the days of the year.
func elapsedDays(year int, asOf time.Time) (elapsed, days int64) {
	start := time.Date(year, 1, 1, 0, 0, 0, 0, houqin.BusinessZone)
	end := start.AddDate(1, 0, 0)
	days = int64(end.Sub(start).Hours() / 24)
	switch {
	case !asOf.After(start):
		return 0, days
	case !asOf.Before(end):
		return days, days
	}
	return int64(math.Ceil(asOf.Sub(start).Hours() / 24)), days
}

func budgetLine(r projections.BudgetLineRow, elapsed, days int64, names Names) BudgetLine {
	l := BudgetLine{Department: r.Department, DepartmentName: names.of(r.Department), Category: r.Category, CategoryName: CategoryName(r.Category),
		Currency: r.Currency, Control: r.Control, ToleranceBP: r.ToleranceBP, Planned: r.Planned, Adjusted: r.Adjusted,
		Plan: r.Plan(), Committed: r.Committed(), Actual: r.Consumed}
	l.Available = l.Plan - l.Committed - l.Actual
	l.Utilization = ratio(l.Committed+l.Actual, l.Plan)
	l.Overrun = ratio(max(0, l.Actual-l.Plan), l.Plan)
	l.Forecast = l.Actual + l.Committed
	if elapsed > 0 && elapsed < days {
		if runRate := l.Actual/elapsed*days + l.Actual%elapsed*days/elapsed; runRate > l.Forecast {
			l.Forecast = runRate
		}
	}
	l.ForecastOverrun = ratio(max(0, l.Forecast-l.Plan), l.Plan)
	l.Status = r.Line().Check(0).Status
	return l
}

var budgetHeaders = []houqin.Text{
	{Zh: "部门", En: "Department"}, {Zh: "部门名称", En: "Department name"}, {Zh: "类别", En: "Category"}, {Zh: "类别名称", En: "Category name"},
	{Zh: "币种", En: "Currency"}, {Zh: "控制", En: "Control"}, {Zh: "容差(%)", En: "Tolerance (%)"},
	{Zh: "年初预算", En: "Planned"}, {Zh: "调整", En: "Adjusted"}, {Zh: "预算", En: "Plan"}, {Zh: "已占用", En: "Committed"},
	{Zh: "实际", En: "Actual"}, {Zh: "可用", En: "Available"}, {Zh: "使用率", En: "Utilization"}, {Zh: "超支率", En: "Overrun"},
	{Zh: "年末预测", En: "Forecast"}, {Zh: "预测超支率", En: "Forecast overrun"}, {Zh: "状态", En: "Status"},
}

var monthHeaders = []houqin.Text{
	{Zh: "部门", En: "Department"}, {Zh: "类别", En: "Category"}, {Zh: "月份", En: "Month"}, {Zh: "调整", En: "Adjusted"},
	{Zh: "新增占用", En: "Committed"}, {Zh: "实际", En: "Actual"}, {Zh: "累计实际", En: "Cumulative actual"},
}

func (l BudgetLine) row(lang string) []any {
	return []any{l.Department, pick(l.DepartmentName, lang), l.Category, pick(l.CategoryName, lang), l.Currency, l.Control,
		strings.TrimSuffix(houqin.Percent(int64(l.ToleranceBP)), " %"),
		money(l.Planned), money(l.Adjusted), money(l.Plan), money(l.Committed), money(l.Actual), money(l.Available),
		percent(l.Utilization), percent(l.Overrun), money(l.Forecast), percent(l.ForecastOverrun), l.Status}
}

func (r BudgetReport) tables(lang string) (table, table) {
	summary := table{sheet: houqin.Text{Zh: "预算执行", En: "Budget"}, headers: budgetHeaders}
	for _, l := range r.Lines {
		summary.rows = append(summary.rows, l.row(lang))
	}
	summary.rows = append(summary.rows, r.Total.row(lang))
	monthly := table{sheet: houqin.Text{Zh: "月度明细", En: "Monthly"}, headers: monthHeaders}
	for _, m := range r.Months {
		monthly.rows = append(monthly.rows, []any{m.Department, m.Category, m.Month, money(m.Adjusted), money(m.Committed), money(m.Actual), money(m.CumulativeActual)})
	}
	return summary, monthly
}

// Write writes the report in a format (json, csv, xlsx) with headers in
// lang (zh-CN, en). CSV holds the summary by line; XLSX a summary sheet
// and a monthly sheet.
func (r BudgetReport) Write(w io.Writer, format, lang string) error {
	if err := CheckFormat(format, lang); err != nil {
		return err
	}
	summary, monthly := r.tables(lang)
	switch format {
	case "csv":
		return writeCSV(w, summary, lang)
	case "xlsx":
		return writeXLSX(w, lang, summary, monthly)
	}
	return writeJSON(w, r)
}

// PurchasePlanRow is one department, category and month of the purchase
// plan.
type PurchasePlanRow struct {
	projections.PurchasePlanRow
	DepartmentName houqin.Text `json:"department_name"`
	CategoryName   houqin.Text `json:"category_name"`
}

// PurchasePlan is the purchase plan (物资采购计划) of a year.
type PurchasePlan struct {
	Year int               `json:"year"`
	AsOf time.Time         `json:"as_of"`
	Rows []PurchasePlanRow `json:"rows"`
}

// NewPurchasePlan names the rows of the purchase plan read model.
func NewPurchasePlan(year int, asOf time.Time, rows []projections.PurchasePlanRow, names Names) PurchasePlan {
	p := PurchasePlan{Year: year, AsOf: asOf.UTC(), Rows: []PurchasePlanRow{}}
	for _, r := range rows {
		p.Rows = append(p.Rows, PurchasePlanRow{PurchasePlanRow: r, DepartmentName: names.of(r.Department), CategoryName: CategoryName(r.Category)})
	}
	return p
}

var planHeaders = []houqin.Text{
	{Zh: "部门", En: "Department"}, {Zh: "部门名称", En: "Department name"}, {Zh: "类别", En: "Category"}, {Zh: "类别名称", En: "Category name"},
	{Zh: "月份", En: "Month"}, {Zh: "币种", En: "Currency"},
	{Zh: "申请数", En: "Requested"}, {Zh: "申请金额", En: "Requested amount"}, {Zh: "批准数", En: "Approved"}, {Zh: "批准金额", En: "Approved amount"},
	{Zh: "下单数", En: "Ordered"}, {Zh: "订单金额", En: "Ordered amount"}, {Zh: "到货数", En: "Received"}, {Zh: "到货金额", En: "Received amount"},
	{Zh: "发票金额", En: "Invoiced amount"},
}

// Write writes the plan in a format (json, csv, xlsx) with headers in lang.
func (p PurchasePlan) Write(w io.Writer, format, lang string) error {
	if err := CheckFormat(format, lang); err != nil {
		return err
	}
	t := table{sheet: houqin.Text{Zh: "物资采购计划", En: "Purchase plan"}, headers: planHeaders}
	for _, r := range p.Rows {
		t.rows = append(t.rows, []any{r.Department, pick(r.DepartmentName, lang), r.Category, pick(r.CategoryName, lang), r.Month, r.Currency,
			r.Requested, money(r.RequestedTotal), r.Approved, money(r.ApprovedTotal), r.Ordered, money(r.OrderedTotal),
			r.Received, money(r.ReceivedTotal), money(r.InvoicedTotal)})
	}
	switch format {
	case "csv":
		return writeCSV(w, t, lang)
	case "xlsx":
		return writeXLSX(w, lang, t)
	}
	return writeJSON(w, p)
}
