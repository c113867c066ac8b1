// Package scorecard renders the department's documents from its KPIs: the
// service quality evaluation report (服务质量评估报告) and the support of
// the logistics management plan (后勤管理计划书), each as XLSX and as
// printable HTML, in zh-CN or en.
package scorecard

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"slices"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/xuri/excelize/v2"
)

// Formats and languages the reports come in.
var (
	Formats = []string{"xlsx", "html"}
	Langs   = []string{"zh-CN", "en"}
)

// ContentType returns the media type of format.
func ContentType(format string) string {
	if format == "xlsx" {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/html; charset=utf-8"
}

// labels are the fixed texts of the reports per language.
var labels = map[string]map[string]string{
	"zh-CN": {
		"quality.title": "服务质量评估报告", "plan.title": "后勤管理计划书（附表）",
		"period": "评估期间", "as_of": "数据截至", "position": "事件位置", "department": "部门", "kind": "流程类型", "all": "全部",
		"kpi": "指标", "value": "实际值", "numerator": "分子", "denominator": "分母", "target": "目标", "result": "结论",
		"pass": "达标", "fail": "未达标", "no_data": "无数据", "month": "月份", "trend": "月度趋势", "worst": "主要短板",
		"dimension": "维度", "key": "对象", "misses": "差距", "summary": "指标汇总", "details": "明细", "definitions": "指标口径",
		"year": "年度", "targets": "年度指标目标", "budget": "年度预算", "category": "预算科目", "plan": "预算金额",
		"actual": "已发生", "recurring": "计划性工作", "currency": "币种", "none": "（无）",
		"def.satisfaction":        "满意答卷数 / 答卷数；4 分及以上为满意，未作答关闭的问卷不计入分母。",
		"def.on_time":             "到期前完成的任务和流程 / 到期的任务和流程；按到期日所在期间统计，逾期未完成计为逾期。",
		"def.budget_overrun":      "max(0, 实际支出 − 预算) / 预算；预算 = 下达金额 + 调整。",
		"def.deliverable_quality": "无重大差错的评审 / 评审次数；轻微问题视为通过。",
		"dimension.department":    "部门", "dimension.kind": "流程类型", "dimension.budget_line": "预算科目",
	},
	"en": {
		"quality.title": "Service quality evaluation report", "plan.title": "Logistics management plan (annex)",
		"period": "Period", "as_of": "Data as of", "position": "Log position", "department": "Department", "kind": "Process kind", "all": "All",
		"kpi": "KPI", "value": "Value", "numerator": "Numerator", "denominator": "Denominator", "target": "Target", "result": "Result",
		"pass": "Pass", "fail": "Fail", "no_data": "No data", "month": "Month", "trend": "Monthly trend", "worst": "Worst contributors",
		"dimension": "Dimension", "key": "Who", "misses": "Misses", "summary": "Summary", "details": "Details", "definitions": "Definitions",
		"year": "Year", "targets": "KPI targets", "budget": "Budget", "category": "Category", "plan": "Plan",
		"actual": "Actual", "recurring": "Planned recurring work", "currency": "Currency", "none": "(none)",
		"def.satisfaction":        "Satisfied answers / answers; a score of 4 or 5 is satisfied; surveys closed unanswered are not counted.",
		"def.on_time":             "Tasks and processes done before their due time / those due; counted in the period they fall due; open past due is late.",
		"def.budget_overrun":      "max(0, actual − plan) / plan; plan = planned + adjustments.",
		"def.deliverable_quality": "Reviews without a major error / reviews; minor issues pass.",
		"dimension.department":    "Department", "dimension.kind": "Process kind", "dimension.budget_line": "Budget line",
	},
}

// L returns the label key in lang.
func L(lang, key string) string {
	if v, ok := labels[lang][key]; ok {
		return v
	}
	return key
}

func title(lang string, t houqin.Text) string {
	if lang == "en" {
		return t.En
	}
	return t.Zh
}

// ratioText formats a ratio as a percentage with one decimal, "—" if nil.
func ratioText(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", *v*100)
}

// money formats minor units as major units with two decimals.
func money(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// sheet is one table of a report: a name, a header and rows, rendered as
// an XLSX sheet or an HTML table.
type sheet struct {
	Name   string
	Header []string
	Rows   [][]string
}

// document is a report: a title, lines under it, and its tables.
type document struct {
	Lang   string
	Title  string
	Lines  []string
	Sheets []sheet
}

func (d document) write(w io.Writer, format string) error {
	switch format {
	case "xlsx":
		return d.writeXLSX(w)
	case "html":
		return page.Execute(w, d)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be xlsx or html, got %q", format)
}

func (d document) writeXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i, s := range d.Sheets {
		name := s.Name
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		r := 1
		if i == 0 {
			f.SetCellValue(name, "A1", d.Title)
			f.SetCellStyle(name, "A1", "A1", bold)
			r = 2
			for _, l := range d.Lines {
				f.SetCellValue(name, fmt.Sprintf("A%d", r), l)
				r++
			}
			r++
		}
		row := func(vals []string, style int) error {
			cells := make([]any, len(vals))
			for j, v := range vals {
				cells[j] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, r)
			if err := f.SetSheetRow(name, cell, &cells); err != nil {
				return err
			}
			if style != 0 {
				end, _ := excelize.CoordinatesToCellName(len(vals), r)
				f.SetCellStyle(name, cell, end, style)
			}
			r++
			return nil
		}
		if err := row(s.Header, bold); err != nil {
			return err
		}
		for _, vals := range s.Rows {
			if err := row(vals, 0); err != nil {
				return err
			}
		}
		f.SetColWidth(name, "A", "H", 18)
	}
	_, err = f.WriteTo(w)
	return err
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border: 1px solid #999; padding: .3em .5em; text-align: left; font-size: .9em; }
th { background: #eee; }
@media print { body { margin: 1cm; } h2 { page-break-after: avoid; } table { page-break-inside: avoid; } }
</style></head><body>
<h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>
{{end}}{{range .Sheets}}<h2>{{.Name}}</h2>
<table><thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{end}}</body></html>
`))

// ServiceQuality writes the service quality evaluation report of rep in
// format (xlsx or html) and lang (zh-CN or en): a summary of the four
// KPIs against their targets, the monthly trend, the worst contributors,
// the details and the definitions.
func ServiceQuality(w io.Writer, rep projections.KPIReport, format, lang string) error {
	l := func(k string) string { return L(lang, k) }
	orAll := func(s string) string {
		if s == "" {
			return l("all")
		}
		return s
	}
	d := document{Lang: lang, Title: l("quality.title"), Lines: []string{
		fmt.Sprintf("%s: %s – %s", l("period"), rep.From, rep.To),
		fmt.Sprintf("%s: %s (%s %d)", l("as_of"), rep.AsOf.Format("2006-01-02 15:04:05 MST"), l("position"), rep.Position),
		fmt.Sprintf("%s: %s   %s: %s", l("department"), orAll(rep.Department), l("kind"), orAll(rep.Kind)),
	}}
	summary := sheet{Name: l("summary"), Header: []string{l("kpi"), l("value"), l("numerator"), l("denominator"), l("target"), l("result")}}
	trend := sheet{Name: l("trend"), Header: []string{l("month")}}
	worst := sheet{Name: l("worst"), Header: []string{l("kpi"), l("dimension"), l("key"), l("value"), l("numerator"), l("denominator"), l("misses")}}
	details := sheet{Name: l("details"), Header: []string{l("kpi"), l("details"), l("value")}}
	defs := sheet{Name: l("definitions"), Header: []string{l("kpi"), l("definitions")}}
	months := map[string][]string{}
	var order []string
	for _, k := range rep.KPIs {
		name := title(lang, k.Title)
		target := fmt.Sprintf("%s %.1f%%", k.Comparison, k.Target*100)
		num, den := fmt.Sprint(k.Numerator), fmt.Sprint(k.Denominator)
		if k.Name == houqin.KPIBudgetOverrun {
			num, den = money(k.Numerator), money(k.Denominator)
		}
		summary.Rows = append(summary.Rows, []string{name, ratioText(k.Value), num, den, target, l(k.Status)})
		trend.Header = append(trend.Header, name)
		for _, p := range k.Trend {
			if _, ok := months[p.Month]; !ok {
				order = append(order, p.Month)
			}
			months[p.Month] = append(months[p.Month], fmt.Sprintf("%s (%d/%d)", ratioText(p.Value), p.Numerator, p.Denominator))
		}
		for _, c := range k.Worst {
			worst.Rows = append(worst.Rows, []string{name, l("dimension." + c.Dimension), c.Key, ratioText(c.Value),
				fmt.Sprint(c.Numerator), fmt.Sprint(c.Denominator), fmt.Sprint(c.Misses)})
		}
		keys := make([]string, 0, len(k.Details))
		for key := range k.Details {
			keys = append(keys, key)
		}
		sortStrings(keys)
		for _, key := range keys {
			details.Rows = append(details.Rows, []string{name, key, fmt.Sprint(k.Details[key])})
		}
		defs.Rows = append(defs.Rows, []string{name, l("def." + k.Name)})
	}
	for _, m := range order {
		trend.Rows = append(trend.Rows, append([]string{m}, months[m]...))
	}
	if len(worst.Rows) == 0 {
		worst.Rows = [][]string{{l("none")}}
	}
	d.Sheets = []sheet{summary, trend, worst, details, defs}
	return d.write(w, format)
}

// PlanInput is what the plan support lists: the year, the KPI targets and
// the budget lines planned for the year.
type PlanInput struct {
	Year   int
	Config houqin.KPIConfig
	Lines  []projections.KPIBudgetLine
}

// Plan writes the support of the logistics management plan (后勤管理计划书)
// of a year: the KPI targets, and the planned recurring work — the budget
// lines with plan and actual so far.
func Plan(w io.Writer, in PlanInput, format, lang string) error {
	l := func(k string) string { return L(lang, k) }
	d := document{Lang: lang, Title: fmt.Sprintf("%d %s", in.Year, l("plan.title")), Lines: []string{fmt.Sprintf("%s: %d", l("year"), in.Year)}}
	targets := sheet{Name: l("targets"), Header: []string{l("kpi"), l("target"), l("definitions")}}
	for _, name := range houqin.KPINames {
		t := in.Config.Targets[name]
		targets.Rows = append(targets.Rows, []string{title(lang, houqin.KPITitles[name]), fmt.Sprintf("%s %.1f%%", t.Comparison, t.Value*100), l("def." + name)})
	}
	budget := sheet{Name: l("budget"), Header: []string{l("department"), l("category"), l("plan"), l("actual"), l("currency")}}
	for _, b := range in.Lines {
		budget.Rows = append(budget.Rows, []string{b.Department, b.Category, money(b.Plan), money(b.Actual), b.Currency})
	}
	if len(budget.Rows) == 0 {
		budget.Rows = [][]string{{l("none")}}
	}
	d.Sheets = []sheet{targets, budget}
	return d.write(w, format)
}

// Render writes a report into a buffer, so that a failure leaves nothing
// half-written for the caller to send.
func Render(f func(io.Writer) error) ([]byte, error) {
	var buf bytes.Buffer
	if err := f(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sortStrings(s []string) { slices.Sort(s) }
