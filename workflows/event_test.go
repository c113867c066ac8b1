package workflows_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
)

const evid = "EV-2026-000001"

func etask(step string, n int) string { return fmt.Sprintf("%s.%s.%d", evid, step, n) }

// eventStarts is 9 days after the harness's start: 2026-12-10 09:00 in
// Beijing; the event ends at 17:00.
const eventStarts = 216 * time.Hour

// eventInput is a training of marketing (2 attendees, 3000.00 CNY)
// organised by wang.fang: only her department head approves.
func eventInput(t *testing.T) workflows.EventInput {
	t.Helper()
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := p.Kind(houqin.KindEvent)
	if err != nil {
		t.Fatal(err)
	}
	r := houqin.EventRequest{Type: houqin.EventTraining, Title: "市场部产品培训",
		StartsAt: "2026-12-10T09:00:00+08:00", EndsAt: "2026-12-10T17:00:00+08:00",
		AttendeeDepartments: []string{"MKT"}, Venue: "20 人会议室", Equipment: []string{"投影"},
		Supplies: []houqin.ItemQuantity{{Name: "矿泉水", Quantity: 24}}, Catering: "午餐盒饭",
		BudgetCategory: "events", EstimatedCost: 300000, Department: "MKT"}
	ar := func(step string, owner string) houqin.Arrangement {
		return houqin.Arrangement{Step: step, Owners: []string{owner}, Name: houqin.Text{Zh: step, En: step}}
	}
	return workflows.EventInput{ProcessID: evid, Requester: "wang.fang", Request: r, Attendees: []string{"liu.yang", "wang.fang"},
		HR: []string{"zhao.lei"}, Marketing: []string{"liu.yang"}, Reviewers: []string{"zhang.wei"}, Escalate: []string{"zhang.wei"},
		Arrangements: []houqin.Arrangement{ar("venue", "li.na"), ar("equipment", "zheng.hao"), ar("supplies", "zhou.qiang"),
			ar("catering", "li.na"), {Step: "materials_MKT", Department: "MKT", Owners: []string{"liu.yang"}, Name: houqin.Text{Zh: "市场部材料", En: "Materials of MKT"}}},
		Policy: kp, PolicyHash: kp.Hash()}
}

func newEventHarness(t *testing.T) *harness {
	h := newHarness(t, mustOpenStore(t))
	h.env.RegisterWorkflow(workflows.Event)
	h.env.RegisterWorkflow(workflows.Survey)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: evid})
	return h
}

func (h *harness) runEvent(in workflows.EventInput) (workflows.EventResult, error) {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.Event, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var res workflows.EventResult
	err := h.env.GetWorkflowError()
	if err == nil {
		if err := h.env.GetWorkflowResult(&res); err != nil {
			h.t.Fatal(err)
		}
	}
	return res, err
}

func (h *harness) completeTask(d time.Duration, taskID, actor string, data any) *update {
	return h.do(d, houqin.TaskAction{TaskID: taskID, Action: houqin.ActionComplete, Actor: actor, Data: mustJSON(h.t, data)})
}

// arrange completes the confirmations and every arrangement but skip.
func (h *harness) arrange(d time.Duration, skip string) []*update {
	var us []*update
	us = append(us, h.completeTask(d, etask("confirm_attendees", 1), "zhao.lei", houqin.AttendeeConfirmation{Note: "名单无误"}))
	us = append(us, h.completeTask(d+time.Minute, etask("confirm_publicity", 1), "liu.yang", nil))
	for i, s := range [][2]string{{"venue", "li.na"}, {"equipment", "zheng.hao"}, {"supplies", "zhou.qiang"}, {"catering", "li.na"}, {"materials_MKT", "liu.yang"}} {
		if s[0] != skip {
			us = append(us, h.completeTask(d+time.Duration(i+2)*time.Minute, etask(s[0], 1), s[1], houqin.ArrangementReport{Note: s[0] + " 已安排"}))
		}
	}
	return us
}

func TestEventCompletedAfterMajorError(t *testing.T) {
	h := newEventHarness(t)
	approve := h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	updates := h.arrange(time.Hour, "")
	noNote := h.completeTask(30*time.Minute, etask("venue", 1), "li.na", houqin.ArrangementReport{})
	minutes1 := h.completeTask(eventStarts+10*time.Hour, etask("minutes", 1), "wang.fang", houqin.EventMinutes{Minutes: "纪要", Summary: "总结"})
	self := h.completeTask(eventStarts+10*time.Hour+time.Minute, etask("review_minutes", 1), "wang.fang", houqin.MinutesReview{Outcome: "accepted"})
	major := h.completeTask(eventStarts+11*time.Hour, etask("review_minutes", 1), "zhang.wei", houqin.MinutesReview{Outcome: "major_error", Comment: "缺少决议事项"})
	minutes2 := h.completeTask(eventStarts+12*time.Hour, etask("minutes", 2), "wang.fang", houqin.EventMinutes{Minutes: "纪要（含决议）", Summary: "总结"})
	accepted := h.completeTask(eventStarts+13*time.Hour, etask("review_minutes", 2), "zhang.wei", houqin.MinutesReview{Outcome: "accepted"})
	in := eventInput(t)
	in.SurveyRemindAfter, in.SurveyCloseAfter = 3*24*time.Hour, 7*24*time.Hour
	res, err := h.runEvent(in)
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	for _, u := range append(updates, approve, minutes1, major, minutes2, accepted) {
		wantDone(t, u)
	}
	wantCode(t, noNote, houqin.EINVALID, "data.note")
	wantCode(t, self, houqin.EFORBIDDEN, "")

	events := storetest.MustReadStream(t, h.store, houqin.EventStream(evid))
	if err := houqin.Verify(events); err != nil {
		t.Error(err)
	}
	got := types(events)
	for _, want := range []string{"event.requested", "event.budget_checked", "event.approved", "event.attendees_confirmed",
		"event.publicity_confirmed", "event.arranged", "event.held", "event.minutes_submitted", "event.minutes_reviewed", "event.completed", "process.copied"} {
		if !slices.Contains(got, want) {
			t.Errorf("stream %q has no %s", got, want)
		}
	}
	if slices.Contains(got, "event.readiness_checked") {
		t.Errorf("everything was ready, yet: %q", got)
	}
	if n := len(of[*houqin.EventArranged](t, events)); n != 5 {
		t.Errorf("%d arrangements recorded, want 5", n)
	}
	first := decode[*houqin.EventRequested](t, events[0])
	if first.Request.Department != "MKT" || first.Request.Title != "市场部产品培训" || first.Request.StartsAt != "2026-12-10T09:00:00+08:00" {
		t.Errorf("event.requested request = %+v: the process list and the KPI need department, title and starts_at", first.Request)
	}
	for _, e := range events {
		if e.Type == "event.held" {
			if want := start.Add(eventStarts + 8*time.Hour); !e.Meta.OccurredAt.Equal(want) || e.Meta.Actor != "system" {
				t.Errorf("held at %s by %s, want at the end %s by system", e.Meta.OccurredAt, e.Meta.Actor, want)
			}
		}
	}
	for _, tk := range openedTasks(t, events) {
		if slices.Contains([]string{"venue", "catering", "confirm_attendees"}, tk.Step) && !tk.DueAt.Equal(start.Add(eventStarts-24*time.Hour)) {
			t.Errorf("task %s due %s, want the day before the event", tk.ID, tk.DueAt)
		}
	}
	sent := of[*houqin.EventSurveysSent](t, events)
	if len(sent) != 1 || !slices.Equal(sent[0].Surveys, []string{"SV-" + evid + "-liu.yang"}) {
		t.Errorf("surveys sent %+v, want liu.yang's (the organiser's comes from the trigger)", sent)
	}
	survey := storetest.MustReadStream(t, h.store, houqin.SurveyStream("SV-"+evid+"-liu.yang"))
	if len(survey) == 0 || survey[0].Type != "survey.sent" {
		t.Errorf("liu.yang's survey stream %q", types(survey))
	}
	reviews := storetest.MustReadStream(t, h.store, houqin.DeliverableStream(evid))
	var outcomes []string
	for _, e := range reviews {
		r := decode[*houqin.DeliverableReviewed](t, e)
		if err := r.Validate(); err != nil || r.Department != "MKT" || r.Process != houqin.KindEvent || r.Reviewer != "zhang.wei" {
			t.Errorf("review %+v (%v)", r, err)
		}
		outcomes = append(outcomes, r.Outcome)
	}
	if want := []string{"major_error", "accepted"}; !slices.Equal(outcomes, want) {
		t.Errorf("deliverable reviews %q, want %q", outcomes, want)
	}
}

func TestEventOverdueArrangementEscalated(t *testing.T) {
	h := newEventHarness(t)
	h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	h.arrange(time.Hour, "catering")
	boss := h.completeTask(eventStarts-20*time.Hour, etask("catering", 1), "zhang.wei", houqin.ArrangementReport{Note: "已订餐"})
	held := h.completeTask(eventStarts+2*time.Hour, etask("hold", 1), "wang.fang", nil)
	h.cancelAt(eventStarts + 3*time.Hour)
	h.runEvent(eventInput(t))
	wantDone(t, boss)
	wantDone(t, held)
	events := storetest.MustReadStream(t, h.store, houqin.EventStream(evid))
	checks := of[*houqin.EventReadinessChecked](t, events)
	if len(checks) != 1 || !slices.Equal(checks[0].Unfinished, []string{"catering"}) || !slices.Equal(checks[0].Added, []string{"zhang.wei"}) {
		t.Fatalf("readiness checks %+v, want one escalating catering to zhang.wei", checks)
	}
	for _, e := range events {
		if e.Type == "event.readiness_checked" {
			if want := start.Add(eventStarts - 24*time.Hour); !e.Meta.OccurredAt.Equal(want) {
				t.Errorf("readiness checked at %s, want the day before, %s", e.Meta.OccurredAt, want)
			}
		}
	}
	esc := of[*houqin.TaskEscalated](t, events)
	if len(esc) != 1 || esc[0].TaskID != etask("catering", 1) || !slices.Equal(esc[0].Assignees, []string{"li.na", "zhang.wei"}) {
		t.Errorf("escalations %+v", esc)
	}
	if got := types(events); !slices.Contains(got, "event.held") || slices.Contains(got, "event.completed") {
		t.Errorf("stream %q: want held, not completed", got)
	}
}

func TestEventRejectedWithdrawnRevoked(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		h := newEventHarness(t)
		rej := h.do(time.Minute, houqin.TaskAction{TaskID: etask("dept_approval", 1), Action: houqin.ActionReject, Actor: "liu.yang", Comment: "本月已有培训"})
		res, err := h.runEvent(eventInput(t))
		if err != nil || res.Status != houqin.StatusRejected {
			t.Fatalf("result %+v, %v; want rejected", res, err)
		}
		wantDone(t, rej)
		if got := streamLog(t, h, houqin.EventStream(evid)); !slices.Contains(got, "event.rejected") || slices.Contains(got, "event.approved") {
			t.Errorf("stream %q", got)
		}
	})
	t.Run("withdrawn", func(t *testing.T) {
		h := newEventHarness(t)
		w := h.doProcess(time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang"})
		res, err := h.runEvent(eventInput(t))
		if err != nil || res.Status != houqin.StatusWithdrawn {
			t.Fatalf("result %+v, %v; want withdrawn", res, err)
		}
		wantDone(t, w)
	})
	t.Run("revoked while arranging", func(t *testing.T) {
		h := newEventHarness(t)
		h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
		h.completeTask(time.Hour, etask("venue", 1), "li.na", houqin.ArrangementReport{Note: "已订"})
		notOrganiser := h.doProcess(2*time.Hour, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "liu.yang"})
		rv := h.doProcess(3*time.Hour, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang", Comment: "培训取消"})
		late := h.completeTask(4*time.Hour, etask("catering", 1), "li.na", houqin.ArrangementReport{Note: "x"})
		res, err := h.runEvent(eventInput(t))
		if err != nil || res.Status != houqin.StatusCancelled {
			t.Fatalf("result %+v, %v; want cancelled", res, err)
		}
		wantDone(t, rv)
		wantCode(t, notOrganiser, houqin.EFORBIDDEN, "")
		if late.done && late.err == nil {
			t.Error("an arrangement was completed after the event was cancelled")
		}
		events := storetest.MustReadStream(t, h.store, houqin.EventStream(evid))
		if n := len(of[*houqin.TaskCancelled](t, events)); n != 6 {
			t.Errorf("%d tasks cancelled, want the 6 still open", n)
		}
		if got := types(events); got[len(got)-1] != "process.revoked" {
			t.Errorf("stream %q does not end revoked", got)
		}
	})
}

func TestEventSuppliesShortStartProcurement(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput(t)
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if in.ProcurementPolicy, err = p.Kind(houqin.KindProcurement); err != nil {
		t.Fatal(err)
	}
	h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	var pr []houqin.Event
	h.at(time.Hour, func() { pr = storetest.MustReadStream(t, h.store, houqin.ProcurementStream("PR-2026-000001")) })
	h.cancelAt(2 * time.Hour)
	h.runEvent(in)
	events := storetest.MustReadStream(t, h.store, houqin.EventStream(evid))
	req := of[*houqin.EventSuppliesRequested](t, events)
	if len(req) != 1 || req[0].ProcurementID != "PR-2026-000001" || !slices.Equal(req[0].Items, []houqin.ItemQuantity{{Name: "矿泉水", Quantity: 24}}) {
		t.Fatalf("supplies requested %+v, want 24 矿泉水 on PR-2026-000001", req)
	}
	if len(pr) == 0 || pr[0].Type != "procurement.requisition_submitted" {
		t.Fatalf("the child procurement's stream %q", types(pr))
	}
	first := decode[*houqin.RequisitionSubmitted](t, pr[0])
	if first.Requester != "wang.fang" || first.Request.Department != "MKT" || first.Request.BudgetCategory != "events" || first.Request.NeededBy != "2026-12-09" {
		t.Errorf("procurement.requested %+v", first)
	}
}
