package documents

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/xuri/excelize/v2"
)

//go:embed templates
var templates embed.FS

// The formats a document renders to.
const (
	FormatHTML = "html"
	FormatXLSX = "xlsx"
)

var labels = map[string]string{
	"pass": "合格 Pass", "fail": "不合格 Fail", "na": "不适用 N/A",
	"critical": "严重 Critical", "high": "高 High", "medium": "中 Medium", "low": "低 Low",
	"open": "整改中 Open", "resolved": "已整改 Resolved",
	"running": "进行中 Running", "completed": "已完成 Completed", "rejected": "已驳回 Rejected",
	"withdrawn": "已撤回 Withdrawn", "cancelled": "已取消 Cancelled",
	"train": "火车 Train", "plane": "飞机 Plane", "car": "汽车 Car", "bus": "大巴 Bus", "ship": "轮船 Ship",
	"other": "其他 Other", "transport": "交通 Transport", "hotel": "住宿 Hotel", "per_diem": "出差补贴 Per diem",
}

func label(s string) string {
	if l, ok := labels[s]; ok {
		return l
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(houqin.BusinessZone).Format("2006-01-02 15:04")
}

func verdict(v *bool) string {
	switch {
	case v == nil:
		return ""
	case *v:
		return "通过 Passed"
	}
	return "未通过 Failed"
}

var funcs = template.FuncMap{
	"time": stamp, "result": label, "severity": label, "status": func(s houqin.Status) string { return label(string(s)) },
	"findingStatus": label, "verdict": verdict, "join": func(s []string) string { return strings.Join(s, ", ") },
	"inc": func(i int) int { return i + 1 }, "label": label, "money": houqin.Money,
	"eventLabel": eventLabel, "eventTime": eventTime, "supplies": supplies, "taskState": taskState,
}

var pages = template.Must(template.New("").Funcs(funcs).ParseFS(templates, "templates/*.html"))

// css is inlined into every page, so a saved page prints on its own.
var css = func() template.CSS {
	b, err := templates.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	return template.CSS(b)
}()

// WriteInspectionReport writes the inspection report (安全检查报告) as
// format, html or xlsx.
func WriteInspectionReport(w io.Writer, in Inspection, format string) error {
	switch format {
	case FormatHTML:
		return page(w, "inspection_report.html", in)
	case FormatXLSX:
		return inspectionReportXLSX(w, in)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be html or xlsx, got %q", format)
}

// WriteRemediation writes the remediation plan and tracking record
// (整改计划及跟踪记录) as format, html or xlsx.
func WriteRemediation(w io.Writer, in Inspection, format string) error {
	switch format {
	case FormatHTML:
		return page(w, "remediation.html", in)
	case FormatXLSX:
		return remediationXLSX(w, in)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be html or xlsx, got %q", format)
}

func page(w io.Writer, name string, in Inspection) error {
	return pages.ExecuteTemplate(w, name, struct {
		Inspection
		CSS template.CSS
	}{in, css})
}

// sheet is a workbook being written: rows appended to one sheet.
type sheet struct {
	f     *excelize.File
	name  string
	row   int
	err   error
	money int // the style of yuan cells; 0 until the first
}

// yuan is an amount in minor units (fen) written to a sheet as a number
// of yuan shown with two decimals ("2592.00"), so a spreadsheet sums it;
// the HTML pages show houqin.Money.
type yuan int64

func newSheet(f *excelize.File, name string, first bool) *sheet {
	s := &sheet{f: f, name: name}
	if first {
		s.err = f.SetSheetName("Sheet1", name)
	} else {
		_, s.err = f.NewSheet(name)
	}
	return s
}

// add appends a row; yuan cells become numbers with two decimals.
func (s *sheet) add(cells ...any) {
	if s.err != nil {
		return
	}
	s.row++
	var amounts []int
	for i, c := range cells {
		if v, ok := c.(yuan); ok {
			cells[i] = float64(v) / 100
			amounts = append(amounts, i+1)
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err == nil {
		err = s.f.SetSheetRow(s.name, cell, &cells)
	}
	if err == nil && len(amounts) > 0 && s.money == 0 {
		s.money, err = s.f.NewStyle(&excelize.Style{NumFmt: 2}) // 0.00
	}
	for _, col := range amounts {
		if err != nil {
			break
		}
		cell, err = excelize.CoordinatesToCellName(col, s.row)
		if err == nil {
			err = s.f.SetCellStyle(s.name, cell, cell, s.money)
		}
	}
	s.err = err
}

func inspectionReportXLSX(w io.Writer, in Inspection) error {
	f := excelize.NewFile()
	defer f.Close()
	s := newSheet(f, "检查报告 Report", true)
	s.add("安全检查报告 Inspection report", in.ID)
	s.add("检查表 Checklist", in.Checklist.Name.Zh+" / "+in.Checklist.Name.En)
	s.add("地点 Location", in.Request.Location)
	s.add("受检部门 Department", in.Request.Department)
	s.add("检查人 Inspector", in.Who(in.Inspector))
	s.add("计划日期 Scheduled for", in.Request.ScheduledFor)
	s.add("检查时间 Recorded (UTC+8)", stamp(in.Recorded))
	s.add("状态 Status", label(string(in.Status)))
	s.add()
	s.add("#", "检查项 Item", "Item (en)", "类别 Category", "结果 Result", "严重程度 Severity", "说明 Note", "照片 Photos", "整改项 Finding")
	for i, r := range in.Results {
		s.add(i+1, r.Item.Text.Zh, r.Item.Text.En, r.Item.Category, label(r.Result), label(r.Severity), r.Note, strings.Join(r.Photos, ", "), r.Finding)
	}
	s.add()
	s.add("总结 Summary", in.Summary)
	s.add("生成依据 Generated from events up to (UTC+8)", stamp(in.AsOf), fmt.Sprintf("position %d", in.LastPosition))
	if s.err != nil {
		return s.err
	}
	return writeBook(w, f)
}

func remediationXLSX(w io.Writer, in Inspection) error {
	f := excelize.NewFile()
	defer f.Close()
	plan := newSheet(f, "整改计划 Plan", true)
	plan.add("整改计划及跟踪记录 Remediation plan and tracking record", in.ID, in.Title)
	plan.add("编号 ID", "检查项 Item", "Item (en)", "严重程度 Severity", "问题 Problem", "责任方 Owners", "期限 Due (UTC+8)", "状态 Status", "完成时间 Resolved (UTC+8)", "逾期升级 Escalated to")
	for _, fd := range in.Findings {
		var escalated []string
		for _, e := range fd.Overdue {
			escalated = append(escalated, e.Added...)
		}
		plan.add(fd.ID, fd.Text.Zh, fd.Text.En, label(fd.Severity), fd.Note, in.WhoAll(fd.Owners), stamp(fd.DueAt),
			label(fd.Status), stamp(fd.Resolved), in.WhoAll(escalated))
	}
	track := newSheet(f, "跟踪记录 Tracking", false)
	track.add("编号 ID", "轮次 Round", "整改人 Fixed by", "整改时间 Fixed at (UTC+8)", "整改说明 Fix", "验收人 Verified by", "验收时间 Verified at (UTC+8)", "验收结果 Verdict", "验收意见 Note")
	for _, fd := range in.Findings {
		for _, r := range fd.Rounds {
			track.add(fd.ID, r.N, in.Who(r.FixedBy), stamp(r.FixedAt), r.Fix.Note, in.Who(r.VerifiedBy), stamp(r.VerifiedAt), verdict(r.Verified), r.Note)
		}
	}
	if plan.err != nil {
		return plan.err
	}
	if track.err != nil {
		return track.err
	}
	return writeBook(w, f)
}

func writeBook(w io.Writer, f *excelize.File) error {
	_, err := f.WriteTo(w)
	return err
}
