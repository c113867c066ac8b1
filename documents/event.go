package documents

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/xuri/excelize/v2"
)

// EventPlan is what an event's documents show: the event plan
// (活动策划方案), the meeting schedule (会议安排表) and the minutes and
// summary report (会议纪要及总结报告).
type EventPlan struct {
	ID           string
	Status       houqin.Status
	Request      houqin.EventRequest
	Requester    string
	Requested    time.Time
	Attendees    []string // invited; HR's confirmed list once confirmed
	Confirmed    bool     // HR confirmed the attendees
	Procurement  string   // the child procurement of the supplies stock lacks
	Short        []houqin.ItemQuantity
	Tasks        []ArrangementRecord // confirmations and arrangements, in the order they opened
	Readiness    time.Time           // when the readiness check ran, zero if not yet
	Held         time.Time
	Reserved     int64 // the estimate reserved on approval
	Actual       int64 // consumed when the event was held
	Released     int64 // given back: unspent, or the event ended before it was held
	Minutes      []MinutesRound
	Reviews      []houqin.EventMinutesReviewed
	AsOf         time.Time
	LastPosition int64
	Names
}

// ArrangementRecord is one confirmation or arrangement of an event.
type ArrangementRecord struct {
	TaskID    string
	Step      string
	Name      houqin.Text
	Owners    []string
	DueAt     time.Time
	Done      time.Time
	By        string
	Note      string
	Cost      int64    // the arrangement's recorded cost (fen)
	Escalated []string // added at the readiness check
}

// MinutesRound is one submission of the minutes and summary and, once
// reviewed, its review.
type MinutesRound struct {
	Round     int
	By        string
	Submitted time.Time
	Minutes   houqin.EventMinutes
	Review    *houqin.EventMinutesReviewed
	Reviewed  time.Time
}

// Money prints the estimated cost in major units with its currency.
func (p EventPlan) Money() string { return p.Amount(p.Request.EstimatedCost) }

// Amount prints an amount of the event's currency in major units.
func (p EventPlan) Amount(c int64) string {
	return fmt.Sprintf("%s %s", houqin.Money(c), p.Request.CurrencyOrDefault())
}

// Costs returns the sum of the arrangements' recorded costs.
func (p EventPlan) Costs() int64 {
	var n int64
	for _, t := range p.Tasks {
		n += t.Cost
	}
	return n
}

// LastMinutes returns the latest submission of the minutes, nil if none.
func (p EventPlan) LastMinutes() *MinutesRound {
	if len(p.Minutes) == 0 {
		return nil
	}
	return &p.Minutes[len(p.Minutes)-1]
}

// preparation reports whether a task step is a confirmation or an
// arrangement of an event (not an approval or a later step).
func preparation(step string) bool {
	return step == "confirm_attendees" || step == "confirm_publicity" || slices.Contains(houqin.Arrangements, step) ||
		strings.HasPrefix(step, houqin.ArrangeMaterials+"_")
}

// ReadEvent folds an event from the store; ENOTFOUND if there is none.
func ReadEvent(ctx context.Context, store Reader, id string) (EventPlan, error) {
	events, err := readAll(ctx, store, houqin.EventStream(id))
	if err != nil {
		return EventPlan{}, err
	}
	if len(events) == 0 {
		return EventPlan{}, houqin.Errorf(houqin.ENOTFOUND, "event: no event %q", id)
	}
	return FoldEvent(events)
}

// FoldEvent folds the events of an event's stream into its documents'
// content.
func FoldEvent(events []houqin.Event) (EventPlan, error) {
	var p EventPlan
	p.Status = houqin.StatusRunning
	task := func(id string) *ArrangementRecord {
		for i := range p.Tasks {
			if p.Tasks[i].TaskID == id {
				return &p.Tasks[i]
			}
		}
		return nil
	}
	for _, e := range events {
		p.AsOf, p.LastPosition = laterOf(p.AsOf, at(e)), max(p.LastPosition, e.Position)
		d, err := e.Decode()
		if err != nil {
			if houqin.ErrorCode(err) == houqin.ENOTFOUND {
				continue
			}
			return EventPlan{}, err
		}
		switch v := d.(type) {
		case *houqin.EventRequested:
			p.ID, p.Request, p.Requester, p.Requested, p.Attendees = v.ProcessID, v.Request, v.Requester, at(e), v.Attendees
		case *houqin.EventSuppliesRequested:
			p.Procurement, p.Short = v.ProcurementID, v.Items
		case *houqin.TaskOpened:
			if preparation(v.Task.Step) {
				p.Tasks = append(p.Tasks, ArrangementRecord{TaskID: v.Task.ID, Step: v.Task.Step, Name: v.Task.Name,
					Owners: slices.Clone(v.Task.Assignees), DueAt: v.Task.DueAt})
			}
		case *houqin.TaskCompleted:
			if t := task(v.TaskID); t != nil {
				t.Done, t.By = at(e), v.Actor
				var note struct {
					Note string `json:"note"`
					Cost int64  `json:"cost"`
				}
				_ = json.Unmarshal(v.Data, &note)
				t.Note, t.Cost = note.Note, note.Cost
				if t.Note == "" {
					t.Note = v.Comment
				}
			}
		case *houqin.TaskEscalated:
			if t := task(v.TaskID); t != nil {
				t.Escalated = append(t.Escalated, v.Added...)
			}
		case *houqin.EventAttendeesConfirmed:
			p.Attendees, p.Confirmed = v.Attendees, true
		case *houqin.EventReadinessChecked:
			p.Readiness = at(e)
		case *houqin.EventHeld:
			p.Held = at(e)
		case *houqin.EventBudgetReserved:
			p.Reserved = v.Amount
		case *houqin.EventBudgetConsumed:
			p.Actual, p.Released = v.Actual, p.Released+v.Released
		case *houqin.EventBudgetReleased:
			p.Released += v.Amount
		case *houqin.EventMinutesSubmitted:
			p.Minutes = append(p.Minutes, MinutesRound{Round: v.Round, By: v.By, Submitted: at(e), Minutes: v.Minutes})
		case *houqin.EventMinutesReviewed:
			p.Reviews = append(p.Reviews, *v)
			for i := range p.Minutes {
				if p.Minutes[i].Round == v.Round {
					r := *v
					p.Minutes[i].Review, p.Minutes[i].Reviewed = &r, at(e)
				}
			}
		case *houqin.EventRejected:
			p.Status = houqin.StatusRejected
		case *houqin.ProcessWithdrawn:
			p.Status = houqin.StatusWithdrawn
		case *houqin.ProcessRevoked:
			p.Status = houqin.StatusCancelled
		case *houqin.EventCompleted:
			p.Status = houqin.StatusCompleted
		}
	}
	return p, nil
}

var eventLabels = map[string]string{
	houqin.EventAnnualMeeting: "年会 / 全员大会 Annual meeting", houqin.EventTraining: "培训 Training",
	houqin.EventTeamBuilding: "团建 Team building", houqin.EventCustomer: "客户活动 Customer event",
	houqin.OutcomeAccepted: "通过 Accepted", houqin.OutcomeMinorIssues: "小问题 Minor issues", houqin.OutcomeMajorError: "重大差错 Major error",
}

func eventLabel(s string) string {
	if l, ok := eventLabels[s]; ok {
		return l
	}
	return s
}

func eventTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return stamp(t)
}

func supplies(items []houqin.ItemQuantity) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = fmt.Sprintf("%s × %d", it.Name, it.Quantity)
	}
	return strings.Join(out, ", ")
}

func taskState(t ArrangementRecord) string {
	if t.Done.IsZero() {
		return "进行中 Open"
	}
	return "已完成 Done"
}

// WriteEventPlan writes the event plan (活动策划方案) as format, html or
// xlsx.
func WriteEventPlan(w io.Writer, p EventPlan, format string) error {
	switch format {
	case FormatHTML:
		return eventPage(w, "event_plan.html", p)
	case FormatXLSX:
		return eventPlanXLSX(w, p)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be html or xlsx, got %q", format)
}

// WriteMeetingSchedule writes the meeting schedule (会议安排表) as
// format, html or xlsx.
func WriteMeetingSchedule(w io.Writer, p EventPlan, format string) error {
	switch format {
	case FormatHTML:
		return eventPage(w, "event_schedule.html", p)
	case FormatXLSX:
		return meetingScheduleXLSX(w, p)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be html or xlsx, got %q", format)
}

// WriteEventMinutes writes the minutes and summary report
// (会议纪要及总结报告) as format, html or xlsx: the latest submission and
// every round's review.
func WriteEventMinutes(w io.Writer, p EventPlan, format string) error {
	switch format {
	case FormatHTML:
		return eventPage(w, "event_minutes.html", p)
	case FormatXLSX:
		return eventMinutesXLSX(w, p)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be html or xlsx, got %q", format)
}

func eventPage(w io.Writer, name string, p EventPlan) error {
	return pages.ExecuteTemplate(w, name, struct {
		EventPlan
		CSS template.CSS
	}{p, css})
}

func eventPlanXLSX(w io.Writer, p EventPlan) error {
	f := excelize.NewFile()
	defer f.Close()
	s := newSheet(f, "策划方案 Plan", true)
	s.add("活动策划方案 Event plan", p.ID, p.Request.Title)
	s.add("类型 Type", eventLabel(p.Request.Type))
	s.add("开始 Starts (UTC+8)", eventTime(p.Request.StartsAt))
	s.add("结束 Ends (UTC+8)", eventTime(p.Request.EndsAt))
	s.add("主办部门 Organising department", p.Request.Department)
	s.add("组织人 Organiser", p.Who(p.Requester))
	s.add("参会部门 Attendee departments", strings.Join(p.Request.AttendeeDepartments, ", "))
	s.add("参会人数 Attendees", len(p.Attendees))
	s.add("场地需求 Venue", p.Request.Venue)
	s.add("设备 Equipment", strings.Join(p.Request.Equipment, ", "))
	s.add("物资 Supplies", supplies(p.Request.Supplies))
	s.add("餐饮 Catering", p.Request.Catering)
	s.add("预算科目 Budget category", p.Request.BudgetCategory)
	s.add("预计费用 Estimated cost", p.Money())
	s.add("已预留 Reserved", p.Amount(p.Reserved))
	s.add("实际费用 Actual cost", p.Amount(p.Actual))
	s.add("已释放 Released", p.Amount(p.Released))
	s.add("物资采购 Supplies procurement", p.Procurement, supplies(p.Short))
	s.add("状态 Status", label(string(p.Status)))
	s.add("生成依据 Generated from events up to (UTC+8)", stamp(p.AsOf), fmt.Sprintf("position %d", p.LastPosition))
	if s.err != nil {
		return s.err
	}
	return writeBook(w, f)
}

func meetingScheduleXLSX(w io.Writer, p EventPlan) error {
	f := excelize.NewFile()
	defer f.Close()
	s := newSheet(f, "安排表 Schedule", true)
	s.add("会议安排表 Meeting schedule", p.ID, p.Request.Title, eventTime(p.Request.StartsAt)+" – "+eventTime(p.Request.EndsAt))
	s.add("事项 Task", "Task (en)", "负责人 Owners", "期限 Due (UTC+8)", "状态 Status", "完成人 Done by", "完成时间 Done at (UTC+8)", "说明 Note", "升级 Escalated to", "费用 Cost")
	for _, t := range p.Tasks {
		s.add(t.Name.Zh, t.Name.En, p.WhoAll(t.Owners), stamp(t.DueAt), taskState(t), p.Who(t.By), stamp(t.Done), t.Note, p.WhoAll(t.Escalated), yuan(t.Cost))
	}
	s.add("合计 Total", "", "", "", "", "", "", "", "", yuan(p.Costs()))
	s.add()
	s.add("就绪检查 Readiness check (UTC+8)", stamp(p.Readiness))
	s.add("举办 Held (UTC+8)", stamp(p.Held))
	for _, r := range p.Reviews {
		s.add(fmt.Sprintf("纪要审核 Minutes review %d", r.Round), eventLabel(r.Outcome), p.Who(r.By), r.Comment)
	}
	if s.err != nil {
		return s.err
	}
	return writeBook(w, f)
}

func eventMinutesXLSX(w io.Writer, p EventPlan) error {
	f := excelize.NewFile()
	defer f.Close()
	s := newSheet(f, "会议纪要 Minutes", true)
	s.add("会议纪要及总结报告 Minutes and summary report", p.ID, p.Request.Title)
	s.add("类型 Type", eventLabel(p.Request.Type))
	s.add("时间 When (UTC+8)", eventTime(p.Request.StartsAt)+" – "+eventTime(p.Request.EndsAt))
	s.add("场地 Venue", p.Request.Venue)
	s.add("组织人 Organiser", p.Who(p.Requester))
	s.add("参会人数 Attendees", len(p.Attendees))
	s.add("举办 Held (UTC+8)", stamp(p.Held))
	if m := p.LastMinutes(); m != nil {
		s.add("提交 Submitted (UTC+8)", p.Who(m.By), stamp(m.Submitted), fmt.Sprintf("第 %d 稿 round %d", m.Round, m.Round))
		s.add("会议纪要 Minutes", m.Minutes.Minutes)
		s.add("总结报告 Summary report", m.Minutes.Summary)
	} else {
		s.add("会议纪要 Minutes", "尚未提交 Not submitted yet")
	}
	s.add()
	s.add("轮次 Round", "提交人 Submitted by", "提交时间 Submitted at (UTC+8)", "审核结果 Outcome", "审核人 Reviewer", "审核时间 Reviewed at (UTC+8)", "意见 Comment")
	for _, m := range p.Minutes {
		outcome, reviewer, comment := "待审核 Pending", "", ""
		if r := m.Review; r != nil {
			outcome, reviewer, comment = eventLabel(r.Outcome), p.Who(r.By), r.Comment
		}
		s.add(m.Round, p.Who(m.By), stamp(m.Submitted), outcome, reviewer, stamp(m.Reviewed), comment)
	}
	s.add()
	s.add("状态 Status", label(string(p.Status)))
	s.add("生成依据 Generated from events up to (UTC+8)", stamp(p.AsOf), fmt.Sprintf("position %d", p.LastPosition))
	if s.err != nil {
		return s.err
	}
	return writeBook(w, f)
}
