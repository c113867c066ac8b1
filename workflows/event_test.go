package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
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

// eventsLine is MKT's 2026 events line of eventBudgetStore: a plan of
// 10 000.00, control stop, a 5 % band.
var eventsLine = activities.BudgetLineRef{Year: 2026, Department: "MKT", Category: "events"}

// eventBudgetStore returns a store with the 2026 budget active, MKT events
// 10 000.00.
func eventBudgetStore(t *testing.T) (houqin.EventStore, *activities.Activities) {
	t.Helper()
	store := mustOpenStore(t)
	a := &activities.Activities{Store: store, Org: demoOrg(t), Now: func() time.Time { return start }}
	draft := houqin.BudgetDraft{Year: 2026, Lines: []houqin.BudgetLineDraft{{Department: "MKT", Category: "events", Amount: 1_000_000}}}
	if res, err := a.ActivateBudget(context.Background(), activities.ActivateBudgetInput{ProcessID: "BU-2026-000001", Draft: draft}); err != nil || res.Refused != "" {
		t.Fatalf("activate: %+v, %v", res, err)
	}
	return store, a
}

func newEventHarness(t *testing.T) *harness {
	store, _ := eventBudgetStore(t)
	h := newHarness(t, store)
	h.env.RegisterWorkflow(workflows.Event)
	h.env.RegisterWorkflow(workflows.Survey)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: evid})
	return h
}

// eventBudgetLog lists the budget events of an event's stream.
func eventBudgetLog(t *testing.T, events []houqin.Event) []string {
	t.Helper()
	var out []string
	for _, e := range events {
		d, _ := e.Decode()
		switch v := d.(type) {
		case *houqin.EventBudgetChecked:
			out = append(out, "check "+v.Check.Status)
		case *houqin.EventBudgetReserved:
			out = append(out, fmt.Sprintf("reserve %d %s", v.Amount, v.Status))
		case *houqin.EventBudgetConsumed:
			out = append(out, fmt.Sprintf("consume %d released %d", v.Actual, v.Released))
		case *houqin.EventBudgetReleased:
			out = append(out, fmt.Sprintf("release %d: %s", v.Amount, v.Reason))
		}
	}
	return out
}

// wantEventBudget checks the budget events of the event's stream and the
// figures of the MKT events line.
func wantEventBudget(t *testing.T, h *harness, log []string, reserved, actual int64) {
	t.Helper()
	events := storetest.MustReadStream(t, h.store, houqin.EventStream(evid))
	if diff := cmp.Diff(log, eventBudgetLog(t, events)); diff != "" {
		t.Errorf("budget events (-want +got):\n%s", diff)
	}
	if l := lineState(t, h.store, "MKT", "events"); l.Reserved != reserved || l.Actual != actual {
		t.Errorf("MKT events line: reserved %d, actual %d; want %d, %d", l.Reserved, l.Actual, reserved, actual)
	}
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

// arrange completes the confirmations and every arrangement but skip,
// each with its cost in costs (fen; none if absent).
func (h *harness) arrange(d time.Duration, skip string, costs map[string]int64) []*update {
	var us []*update
	us = append(us, h.completeTask(d, etask("confirm_attendees", 1), "zhao.lei", houqin.AttendeeConfirmation{Note: "名单无误"}))
	us = append(us, h.completeTask(d+time.Minute, etask("confirm_publicity", 1), "liu.yang", nil))
	for i, s := range [][2]string{{"venue", "li.na"}, {"equipment", "zheng.hao"}, {"supplies", "zhou.qiang"}, {"catering", "li.na"}, {"materials_MKT", "liu.yang"}} {
		if s[0] != skip {
			us = append(us, h.completeTask(d+time.Duration(i+2)*time.Minute, etask(s[0], 1), s[1], houqin.ArrangementReport{Note: s[0] + " 已安排", Cost: costs[s[0]]}))
		}
	}
	return us
}

// trainingCosts are the arrangements' costs of the training: 2300.00 of
// the 3000.00 estimated.
var trainingCosts = map[string]int64{"venue": 100000, "equipment": 50000, "catering": 80000}

func TestEventCompletedAfterMajorError(t *testing.T) {
	h := newEventHarness(t)
	approve := h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	stranger := h.completeTask(50*time.Minute, etask("confirm_attendees", 1), "zhao.lei", houqin.AttendeeConfirmation{Attendees: []string{"liu.yang", "ghost.user"}})
	updates := h.arrange(time.Hour, "", trainingCosts)
	noNote := h.completeTask(30*time.Minute, etask("venue", 1), "li.na", houqin.ArrangementReport{})
	negative := h.completeTask(40*time.Minute, etask("venue", 1), "li.na", houqin.ArrangementReport{Note: "已订", Cost: -1})
	var beforeHeld *houqin.BudgetLine
	h.at(eventStarts, func() { beforeHeld = lineState(t, h.store, "MKT", "events") })
	minutes1 := h.completeTask(eventStarts+10*time.Hour, etask("minutes", 1), "wang.fang", houqin.EventMinutes{Minutes: "纪要", Summary: "总结"})
	self := h.completeTask(eventStarts+10*time.Hour+time.Minute, etask("review_minutes", 1), "wang.fang", houqin.MinutesReview{Outcome: "accepted"})
	major := h.completeTask(eventStarts+11*time.Hour, etask("review_minutes", 1), "zhang.wei", houqin.MinutesReview{Outcome: "major_error", Comment: "缺少决议事项"})
	minutes2 := h.completeTask(eventStarts+12*time.Hour, etask("minutes", 2), "wang.fang", houqin.EventMinutes{Minutes: "纪要（含决议）", Summary: "总结"})
	accepted := h.completeTask(eventStarts+13*time.Hour, etask("review_minutes", 2), "zhang.wei", houqin.MinutesReview{Outcome: "accepted"})
	in := eventInput(t)
	in.SurveyRemindAfter, in.SurveyCloseAfter = 3*24*time.Hour, 7*24*time.Hour
	// li.na attends, but serves logistics: she would rate her own work.
	in.Attendees, in.NoSurvey = append(in.Attendees, "li.na"), []string{"li.na"}
	res, err := h.runEvent(in)
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	for _, u := range append(updates, approve, minutes1, major, minutes2, accepted) {
		wantDone(t, u)
	}
	wantFailed(t, stranger, houqin.EINVALID, `data.attendees[1]: no user "ghost.user" in the organisation`)
	wantCode(t, noNote, houqin.EINVALID, "data.note")
	wantCode(t, negative, houqin.EINVALID, "data.cost: must not be negative, got -1")
	wantCode(t, self, houqin.EFORBIDDEN, "")

	// 3000.00 reserved on approval, held until the event is held; then
	// the 2300.00 recorded consumed and 700.00 released.
	if beforeHeld == nil || beforeHeld.Reserved != 300000 || beforeHeld.Actual != 0 {
		t.Errorf("MKT events line before the event %+v, want 300000 reserved", beforeHeld)
	}
	wantEventBudget(t, h, []string{"check within", "reserve 300000 within", "consume 230000 released 70000"}, 0, 230000)
	if res.Actual != 230000 {
		t.Errorf("result actual %d, want 230000", res.Actual)
	}

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
	var costs int64
	for _, a := range of[*houqin.EventArranged](t, events) {
		costs += a.Cost
	}
	if n := len(of[*houqin.EventArranged](t, events)); n != 5 || costs != 230000 {
		t.Errorf("%d arrangements recorded costing %d, want 5 costing 230000", n, costs)
	}
	if confirmed := of[*houqin.EventAttendeesConfirmed](t, events); len(confirmed) != 1 || slices.Contains(confirmed[0].Attendees, "ghost.user") {
		t.Errorf("attendees confirmed %+v, want once, without the stranger refused before", confirmed)
	}
	if ready := of[*houqin.EventReady](t, events); len(ready) != 1 || ready[0].Arrangements != 5 || ready[0].Late ||
		slices.Index(got, "event.ready") > slices.Index(got, "event.held") {
		t.Errorf("event.ready %+v in %q, want one, before the hold, on time, with 5 arrangements", ready, got)
	}
	if i := slices.Index(got, "event.held"); i < 0 || got[i+1] != "event.budget_consumed" {
		t.Errorf("stream %q: the budget is consumed when the event is held", got)
	}
	if i := slices.Index(got, "event.budget_reserved"); i < 0 || got[i+1] != "event.approved" {
		t.Errorf("stream %q: the estimate is reserved on approval", got)
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
		t.Errorf("surveys sent %+v, want liu.yang's (the organiser's comes from the trigger; li.na serves logistics)", sent)
	}
	survey := storetest.MustReadStream(t, h.store, houqin.SurveyStream("SV-"+evid+"-liu.yang"))
	if len(survey) == 0 || survey[0].Type != "survey.sent" {
		t.Errorf("liu.yang's survey stream %q", types(survey))
	}
	// Unanswered, it is reminded after the configured 3 days and closed
	// after 7, counted from the acceptance of the minutes.
	var timeline []string
	for _, e := range survey {
		timeline = append(timeline, fmt.Sprintf("%s@%s", e.Type, e.Meta.OccurredAt.Sub(start.Add(eventStarts+13*time.Hour))))
	}
	if want := []string{"survey.sent@0s", "task.opened@0s", "task.reminded@72h0m0s", "survey.reminded@72h0m0s",
		"task.cancelled@168h0m0s", "survey.closed@168h0m0s"}; !slices.Equal(timeline, want) {
		t.Errorf("liu.yang's survey %q, want %q", timeline, want)
	}
	if c := of[*houqin.SurveyClosed](t, survey); len(c) != 1 || c[0].Answered {
		t.Errorf("survey closed %+v, want closed unanswered", c)
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
	h.arrange(time.Hour, "catering", nil)
	boss := h.completeTask(eventStarts-20*time.Hour, etask("catering", 1), "zhang.wei", houqin.ArrangementReport{Note: "已订餐"})
	early := h.completeTask(eventStarts-time.Hour, etask("hold", 1), "wang.fang", nil)
	held := h.completeTask(eventStarts+2*time.Hour, etask("hold", 1), "wang.fang", nil)
	h.cancelAt(eventStarts + 3*time.Hour)
	h.runEvent(eventInput(t))
	wantDone(t, boss)
	// Not held before it starts; once it started, held.
	wantCode(t, early, houqin.ENOTALLOWED, "confirm it was held once it has started")
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
	for _, e := range events {
		if e.Type == "event.ready" {
			if want := start.Add(eventStarts - 20*time.Hour); !e.Meta.OccurredAt.Equal(want) || decode[*houqin.EventReady](t, e).Late {
				t.Errorf("ready at %s (%+v), want when the escalated catering was done, %s, before the start", e.Meta.OccurredAt, e.Data, want)
			}
		}
	}
	if got := types(events); !slices.Contains(got, "event.ready") || !slices.Contains(got, "event.held") || slices.Contains(got, "event.completed") {
		t.Errorf("stream %q: want held, not completed", got)
	}
	// Held with no recorded cost: the whole reservation goes back; the
	// cancellation afterwards has nothing left to release.
	wantEventBudget(t, h, []string{"check within", "reserve 300000 within", "release 300000: the event was held with no recorded cost"}, 0, 0)
}

// TestEventOverdueConfirmationsEscalated: every arrangement is done but
// neither HR nor marketing has confirmed the day before: the readiness
// check escalates both confirmations to their managers (zhao.lei's is
// zhang.wei; liu.yang's is zhang.wei) and the logistics manager; the event
// is ready only when HR confirms.
func TestEventOverdueConfirmationsEscalated(t *testing.T) {
	h := newEventHarness(t)
	h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	for i, s := range [][2]string{{"venue", "li.na"}, {"equipment", "zheng.hao"}, {"supplies", "zhou.qiang"}, {"catering", "li.na"}, {"materials_MKT", "liu.yang"}} {
		h.completeTask(time.Hour+time.Duration(i)*time.Minute, etask(s[0], 1), s[1], houqin.ArrangementReport{Note: s[0] + " 已安排"})
	}
	publicity := h.completeTask(eventStarts-20*time.Hour, etask("confirm_publicity", 1), "liu.yang", nil)
	attendees := h.completeTask(eventStarts-19*time.Hour, etask("confirm_attendees", 1), "zhang.wei", houqin.AttendeeConfirmation{Note: "代为确认"})
	h.cancelAt(eventStarts - 18*time.Hour)
	h.runEvent(eventInput(t))
	wantDone(t, publicity)
	wantDone(t, attendees) // zhang.wei joined HR's task at the readiness check
	events := storetest.MustReadStream(t, h.store, houqin.EventStream(evid))
	checks := of[*houqin.EventReadinessChecked](t, events)
	if len(checks) != 1 || !slices.Equal(checks[0].Unfinished, []string{"confirm_attendees", "confirm_publicity"}) {
		t.Fatalf("readiness checks %+v, want one escalating both confirmations", checks)
	}
	esc := of[*houqin.TaskEscalated](t, events)
	if len(esc) != 2 || !slices.Contains(esc[0].Assignees, "zhang.wei") || !slices.Contains(esc[1].Assignees, "zhang.wei") {
		t.Errorf("escalations %+v, want both confirmations with zhang.wei", esc)
	}
	ready := -1
	for i, e := range events {
		if e.Type == "event.ready" {
			ready = i
			if want := start.Add(eventStarts - 19*time.Hour); !e.Meta.OccurredAt.Equal(want) {
				t.Errorf("ready at %s, want when HR's list was confirmed, %s", e.Meta.OccurredAt, want)
			}
		}
	}
	if ready < 0 {
		t.Errorf("stream %q: never ready", types(events))
	}
}

// TestEventCostAboveEstimate: the arrangements cost more than the
// estimate; the difference is reserved and everything consumed when the
// event is held; the workflow cancelled during the minutes leaves the line
// as it is.
func TestEventCostAboveEstimate(t *testing.T) {
	h := newEventHarness(t)
	h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	h.arrange(time.Hour, "", map[string]int64{"venue": 200000, "catering": 150000})
	h.completeTask(eventStarts+time.Hour, etask("hold", 1), "wang.fang", nil)
	h.cancelAt(eventStarts + 2*time.Hour)
	_, err := h.runEvent(eventInput(t))
	if !temporal.IsCanceledError(err) {
		t.Fatalf("err %v, want cancelled", err)
	}
	wantEventBudget(t, h, []string{"check within", "reserve 300000 within", "consume 350000 released 0"}, 0, 350000)
}

// TestEventCancelledReleasesBudget: the workflow cancelled while the
// arrangements are under way gives back the reservation on a disconnected
// context; the line records it, and the event's stream the release, the
// open tasks cancelled and process.cancelled.
func TestEventCancelledReleasesBudget(t *testing.T) {
	h := newEventHarness(t)
	h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	h.completeTask(time.Hour, etask("venue", 1), "li.na", houqin.ArrangementReport{Note: "已订", Cost: 100000})
	var reserved int64
	h.at(90*time.Minute, func() { reserved = lineState(t, h.store, "MKT", "events").Reserved })
	h.cancelAt(2 * time.Hour)
	if _, err := h.runEvent(eventInput(t)); !temporal.IsCanceledError(err) {
		t.Fatalf("err %v, want cancelled", err)
	}
	if reserved != 300000 {
		t.Errorf("reserved %d before the cancellation, want 300000", reserved)
	}
	wantEventBudget(t, h, []string{"check within", "reserve 300000 within", "release 300000: the event was cancelled"}, 0, 0)
	events := storetest.MustReadStream(t, h.store, houqin.EventStream(evid))
	if got := types(events); got[len(got)-1] != "process.cancelled" {
		t.Errorf("stream %q, want it to end with process.cancelled", got)
	}
	line := storetest.MustReadStream(t, h.store, eventsLine.Stream())
	if got := types(line); !slices.Equal(got, []string{"budget.line_planned", "budget.reserved", "budget.released"}) {
		t.Errorf("line stream %q", got)
	}
}

// TestEventBudgetMovedSinceTheCheck: another process takes most of the
// line between the check and the approval; the reservation is refused and
// the event ends rejected by system, nothing held.
func TestEventBudgetMovedSinceTheCheck(t *testing.T) {
	store, a := eventBudgetStore(t)
	h := newHarness(t, store)
	h.env.RegisterWorkflow(workflows.Event)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: evid})
	h.at(30*time.Second, func() {
		r, err := a.ReserveBudget(context.Background(), activities.ReserveBudgetInput{ProcessID: "PR-2026-000900", Line: eventsLine, Amount: 900000, Allow: houqin.BudgetExceeded})
		if err != nil || r.Refused {
			t.Errorf("hold: %+v, %v", r, err)
		}
	})
	h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	res, err := h.runEvent(eventInput(t))
	if err != nil || res.Status != houqin.StatusRejected {
		t.Fatalf("result %+v, %v; want rejected", res, err)
	}
	events := storetest.MustReadStream(t, h.store, houqin.EventStream(evid))
	rej := of[*houqin.EventRejected](t, events)
	if len(rej) != 1 || rej[0].By != "system" || !strings.Contains(rej[0].Comment, "budget-2026-MKT-events exceeded") {
		t.Errorf("rejected %+v", rej)
	}
	wantEventBudget(t, h, []string{"check within"}, 900000, 0)
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
		wantEventBudget(t, h, []string{"check within"}, 0, 0)
	})
	t.Run("withdrawn", func(t *testing.T) {
		h := newEventHarness(t)
		w := h.doProcess(time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang"})
		res, err := h.runEvent(eventInput(t))
		if err != nil || res.Status != houqin.StatusWithdrawn {
			t.Fatalf("result %+v, %v; want withdrawn", res, err)
		}
		wantDone(t, w)
		wantEventBudget(t, h, []string{"check within"}, 0, 0)
	})
	t.Run("revoked while arranging", func(t *testing.T) {
		h := newEventHarness(t)
		h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
		h.completeTask(time.Hour, etask("venue", 1), "li.na", houqin.ArrangementReport{Note: "已订", Cost: 50000})
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
		if got := types(events); !slices.Equal(got[len(got)-2:], []string{"process.revoked", "event.budget_consumed"}) {
			t.Errorf("stream %q does not end revoked, the budget settled", got)
		}
		// The venue's deposit was paid though the event never took place:
		// it is consumed, the rest of the reservation goes back.
		wantEventBudget(t, h, []string{"check within", "reserve 300000 within", "consume 50000 released 250000"}, 0, 50000)
		if res.Actual != 50000 {
			t.Errorf("result actual %d, want the venue's 50000", res.Actual)
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

// TestEventSuppliesSpendFromTheEventYear: a meeting in January 2027
// planned in December 2026 spends from its 2027 line, and so does the
// procurement of its supplies, started in 2026.
func TestEventSuppliesSpendFromTheEventYear(t *testing.T) {
	h := newEventHarness(t)
	in := eventInput(t)
	in.Request.StartsAt, in.Request.EndsAt = "2027-01-15T09:00:00+08:00", "2027-01-15T17:00:00+08:00"
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
	own := of[*houqin.EventBudgetChecked](t, events)
	child := of[*houqin.ProcurementBudgetChecked](t, pr)
	var lines []string
	for _, c := range own {
		lines = append(lines, "event "+c.Line)
	}
	for _, c := range child {
		lines = append(lines, "supplies "+c.Line)
	}
	if len(own) != 1 || len(child) != 1 || own[0].Line != child[0].Line || !strings.Contains(child[0].Line, "2027") {
		t.Errorf("lines checked %q; want the event and its supplies on the 2027 line", lines)
	}
}

// TestEventCostPastBandRefused: the costs may pass the estimate, but not
// take MKT's events line past its band: the catering that would is
// refused (422) and its task stays open; a cost that fits is taken.
func TestEventCostPastBandRefused(t *testing.T) {
	h := newEventHarness(t)
	h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	h.arrange(time.Hour, "catering", map[string]int64{"venue": 800000})
	// 8 000.00 + 4 000.00 recorded against 3 000.00 reserved: the line
	// would hold 12 000.00, past its 10 000.00 plan and 500.00 band.
	past := h.completeTask(2*time.Hour, etask("catering", 1), "li.na", houqin.ArrangementReport{Note: "已订餐", Cost: 400000})
	fits := h.completeTask(3*time.Hour, etask("catering", 1), "li.na", houqin.ArrangementReport{Note: "已订餐（简餐）", Cost: 200000})
	h.completeTask(eventStarts+time.Hour, etask("hold", 1), "wang.fang", nil)
	h.cancelAt(eventStarts + 2*time.Hour)
	h.runEvent(eventInput(t))
	wantFailed(t, past, houqin.ENOTALLOWED, "data.cost: 4000.00 takes the event's costs 9000.00 beyond its reservation")
	wantDone(t, fits)
	wantEventBudget(t, h, []string{"check within", "reserve 300000 within", "consume 1000000 released 0"}, 0, 1000000)
}

// TestEventExceptionCoversItsAmount: MKT's events line is spent when the
// training asks for 3 000.00; finance reviews and zhang.wei grants the
// exception for that amount, and no more: an arrangement that would spend
// beyond it is refused, one within it is taken.
func TestEventExceptionCoversItsAmount(t *testing.T) {
	store, a := eventBudgetStore(t)
	if r, err := a.ReserveBudget(context.Background(), activities.ReserveBudgetInput{ProcessID: "PR-2026-000900", Line: eventsLine,
		Amount: 1_000_000, Allow: houqin.BudgetExceeded}); err != nil || r.Refused {
		t.Fatalf("hold the line: %+v, %v", r, err)
	}
	h := newHarness(t, store)
	h.env.RegisterWorkflow(workflows.Event)
	h.env.RegisterWorkflow(workflows.Survey)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: evid})
	h.approveBy(time.Minute, etask("dept_approval", 1), "liu.yang")
	h.approveBy(2*time.Minute, etask("budget_review", 1), "chen.jing")
	h.approveBy(3*time.Minute, etask("budget_exception", 1), "zhang.wei")
	h.arrange(time.Hour, "venue", nil)
	beyond := h.completeTask(2*time.Hour, etask("venue", 1), "li.na", houqin.ArrangementReport{Note: "已订", Cost: 300001})
	within := h.completeTask(3*time.Hour, etask("venue", 1), "li.na", houqin.ArrangementReport{Note: "已订", Cost: 300000})
	h.cancelAt(eventStarts - time.Hour)
	h.runEvent(eventInput(t))
	wantFailed(t, beyond, houqin.ENOTALLOWED, "data.cost: 3000.01 takes the event's costs 0.01 beyond its reservation")
	wantDone(t, within)
	reserved := of[*houqin.EventBudgetReserved](t, storetest.MustReadStream(t, store, houqin.EventStream(evid)))
	if len(reserved) != 1 || !reserved[0].Exception || reserved[0].Amount != 300000 {
		t.Errorf("reserved %+v, want an exception for 3000.00", reserved)
	}
}
