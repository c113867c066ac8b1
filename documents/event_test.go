package documents_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/documents"
)

// training is a marketing training: approved, the water bought by a child
// procurement, catering escalated the day before, held, minutes sent back
// once for a major error, then accepted.
func training(t *testing.T) documents.EventPlan {
	t.Helper()
	id := "EV-2026-000001"
	due := time.Date(2026, 12, 9, 1, 0, 0, 0, time.UTC)
	opened := func(step string, zh, en string, owners ...string) houqin.TaskOpened {
		return houqin.TaskOpened{Task: houqin.Task{ID: id + "." + step + ".1", ProcessID: id, Kind: houqin.KindEvent, Step: step,
			Name: houqin.Text{Zh: zh, En: en}, Assignees: owners, DueAt: due}}
	}
	done := func(step, actor, note string) houqin.TaskCompleted {
		data, _ := json.Marshal(houqin.ArrangementReport{Note: note})
		return houqin.TaskCompleted{TaskID: id + "." + step + ".1", Step: step, Action: houqin.ActionComplete, Actor: actor, Data: data}
	}
	doneCost := func(step, actor, note string, cost int64) houqin.TaskCompleted {
		c := done(step, actor, note)
		c.Data, _ = json.Marshal(houqin.ArrangementReport{Note: note, Cost: cost})
		return c
	}
	req := houqin.EventRequest{Type: houqin.EventTraining, Title: "市场部产品培训", StartsAt: "2026-12-10T09:00:00+08:00",
		EndsAt: "2026-12-10T17:00:00+08:00", AttendeeDepartments: []string{"MKT"}, Venue: "20 人会议室", Equipment: []string{"投影", "音响"},
		Supplies: []houqin.ItemQuantity{{Name: "矿泉水", Quantity: 24}}, Catering: "午餐盒饭", BudgetCategory: "events",
		EstimatedCost: 300050, Department: "MKT"}
	s := &events{at: t0}
	stream := s.stream(t, houqin.EventStream(id), id,
		houqin.EventRequested{ProcessID: id, Requester: "wang.fang", Request: req, Attendees: []string{"liu.yang", "wang.fang"}, Total: 300050, Currency: "CNY"},
		houqin.EventBudgetReserved{Line: "budget-2026-MKT-events", Amount: 300050, Status: houqin.BudgetWithin},
		houqin.EventApproved{By: "liu.yang"},
		houqin.EventSuppliesRequested{ProcurementID: "PR-2026-000007", Items: []houqin.ItemQuantity{{Name: "矿泉水", Quantity: 20}}},
		opened("confirm_attendees", "确认参会人员", "Confirm the attendees", "zhao.lei"),
		opened("venue", "场地安排", "Arrange the venue", "li.na"),
		opened("catering", "餐饮安排", "Arrange the catering", "li.na"),
		done("confirm_attendees", "zhao.lei", ""),
		houqin.EventAttendeesConfirmed{By: "zhao.lei", Attendees: []string{"liu.yang", "wang.fang"}},
		doneCost("venue", "li.na", "已订 3 楼会议室", 150000),
		houqin.EventArranged{Step: "venue", By: "li.na", Note: "已订 3 楼会议室", Cost: 150000},
		houqin.EventReadinessChecked{Unfinished: []string{"catering"}, Added: []string{"zhang.wei"}},
		houqin.TaskEscalated{TaskID: id + ".catering.1", Added: []string{"zhang.wei"}, Assignees: []string{"li.na", "zhang.wei"}, DueAt: due},
		doneCost("catering", "zhang.wei", "已订餐", 80000),
		houqin.EventHeld{By: "wang.fang"},
		houqin.EventBudgetConsumed{Line: "budget-2026-MKT-events", Actual: 230000, Released: 70050, Currency: "CNY"},
		houqin.EventMinutesSubmitted{By: "wang.fang", Minutes: houqin.EventMinutes{Minutes: "一、产品介绍\n二、问答", Summary: "培训顺利"}, Round: 1},
		houqin.EventMinutesReviewed{By: "zhang.wei", Outcome: houqin.OutcomeMajorError, Comment: "缺少决议事项", Round: 1},
		houqin.EventMinutesSubmitted{By: "wang.fang", Minutes: houqin.EventMinutes{Minutes: "一、产品介绍\n二、问答\n三、决议：每季度培训一次", Summary: "培训顺利，满意度高"}, Round: 2},
		houqin.EventMinutesReviewed{By: "zhang.wei", Outcome: houqin.OutcomeAccepted, Round: 2},
		houqin.EventCompleted{},
	)
	p, err := documents.FoldEvent(stream)
	if err != nil {
		t.Fatal(err)
	}
	p.Names = map[string]string{"wang.fang": "王芳 Wang Fang", "li.na": "李娜 Li Na", "zhang.wei": "张伟 Zhang Wei", "zhao.lei": "赵磊 Zhao Lei"}
	return p
}

func TestEventDocuments(t *testing.T) {
	p := training(t)
	if p.Status != houqin.StatusCompleted || len(p.Tasks) != 3 || !p.Confirmed || p.Procurement != "PR-2026-000007" || len(p.Reviews) != 2 {
		t.Fatalf("folded %+v", p)
	}
	if c := p.Tasks[2]; c.By != "zhang.wei" || c.Note != "已订餐" || len(c.Escalated) != 1 {
		t.Errorf("catering %+v, want done by zhang.wei after the escalation", c)
	}
	if got := p.Money(); got != "3000.50 CNY" {
		t.Errorf("money %q", got)
	}
	if p.Costs() != 230000 || p.Reserved != 300050 || p.Actual != 230000 || p.Released != 70050 {
		t.Errorf("costs %d, reserved %d, actual %d, released %d; want 230000, 300050, 230000, 70050", p.Costs(), p.Reserved, p.Actual, p.Released)
	}
	if m := p.LastMinutes(); len(p.Minutes) != 2 || m.Round != 2 || m.Review == nil || m.Review.Outcome != houqin.OutcomeAccepted ||
		p.Minutes[0].Review.Outcome != houqin.OutcomeMajorError {
		t.Errorf("minutes %+v", p.Minutes)
	}
	for _, tt := range []struct {
		name  string
		write func(*bytes.Buffer, string) error
	}{
		{"event_plan", func(b *bytes.Buffer, f string) error { return documents.WriteEventPlan(b, p, f) }},
		{"meeting_schedule", func(b *bytes.Buffer, f string) error { return documents.WriteMeetingSchedule(b, p, f) }},
		{"event_minutes", func(b *bytes.Buffer, f string) error { return documents.WriteEventMinutes(b, p, f) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var html, xlsx bytes.Buffer
			if err := tt.write(&html, documents.FormatHTML); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".golden.html", html.Bytes())
			if err := tt.write(&xlsx, documents.FormatXLSX); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".xlsx.golden.txt", cells(t, xlsx.Bytes()))
			if err := tt.write(&xlsx, "pdf"); houqin.ErrorCode(err) != houqin.EINVALID {
				t.Errorf("format pdf: %v, want EINVALID", err)
			}
		})
	}
}
