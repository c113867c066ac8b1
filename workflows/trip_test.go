package workflows_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
)

const tid = "TR-2026-000001"

func ttask(step string, n int) string { return tid + "." + step + "." + string(rune('0'+n)) }

// The trip of tripInput, in UTC: it departs on 2026-12-10 (00:00 in
// Shanghai: 9 December 16:00 UTC) and is back on the 12th (the claim opens
// on 12 December 16:00 UTC).
var (
	departAt = time.Date(2026, 12, 9, 16, 0, 0, 0, time.UTC)
	returnAt = time.Date(2026, 12, 12, 16, 0, 0, 0, time.UTC)
)

// tripInput is wang.fang's trip Shanghai → Beijing, 3 days, 3500.00
// estimated, under the default policy; the MKT travel line of budgetStore
// has a plan of 5000.00.
func tripInput(t *testing.T) workflows.TripInput {
	t.Helper()
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := p.Kind(houqin.KindTrip)
	if err != nil {
		t.Fatal(err)
	}
	return workflows.TripInput{
		ProcessID: tid, Requester: "wang.fang", TravelerManager: "liu.yang", Policy: kp, PolicyHash: kp.Hash(),
		Logistics: []string{"li.na"},
		Request: houqin.TripRequest{Traveler: "wang.fang", Purpose: "客户拜访", BudgetCategory: "travel", EstimatedCost: 350000,
			Transport: "train", Lodging: true, Department: "MKT",
			Legs: []houqin.TripLeg{{From: "上海", To: "北京", Depart: "2026-12-10", Return: "2026-12-12"}}},
	}
}

func newTripHarness(t *testing.T) *harness {
	store, _ := budgetStore(t, 0)
	h := newHarness(t, store)
	h.env.RegisterWorkflow(workflows.Trip)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: tid})
	return h
}

func (h *harness) runTrip(in workflows.TripInput) (workflows.TripResult, error, []houqin.Event) {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.Trip, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var res workflows.TripResult
	err := h.env.GetWorkflowError()
	if err == nil {
		if err := h.env.GetWorkflowResult(&res); err != nil {
			h.t.Fatal(err)
		}
	}
	events := storetest.MustReadStream(h.t, h.store, houqin.TripStream(tid))
	if err := houqin.Verify(events); err != nil {
		h.t.Error(err)
	}
	return res, err, events
}

func booking() houqin.TripBooking {
	return houqin.TripBooking{
		Transport: []houqin.TripBookingItem{{Description: "G2 上海→北京 12-10", Reference: "E12345", Amount: 55300},
			{Description: "G5 北京→上海 12-12", Reference: "E12346", Amount: 55300}},
		Lodging: []houqin.TripBookingItem{{Description: "北京饭店 2 晚", Reference: "H-889", Amount: 120000}},
	}
}

func travelLine(t *testing.T, h *harness) *houqin.BudgetLine {
	t.Helper()
	return lineState(t, h.store, "MKT", "travel")
}

func (h *harness) tact(d time.Duration, taskID, action, actor string, data any) *update {
	h.t.Helper()
	act := houqin.TaskAction{TaskID: taskID, Action: action, Actor: actor}
	if data != nil {
		act.Data = mustJSON(h.t, data)
	}
	return h.do(d, act)
}

// occurred returns when the first event of a type happened.
func occurred(events []houqin.Event, typ string) time.Time {
	for _, e := range events {
		if e.Type == typ {
			return e.Meta.OccurredAt
		}
	}
	return time.Time{}
}

func TestTripApprovedBookedClaimedOverCap(t *testing.T) {
	h := newTripHarness(t)
	approve := h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	book := h.tact(2*time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	noHotel := h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", houqin.TripBooking{Transport: booking().Transport})
	early := h.doProcess(3*24*time.Hour, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "liu.yang"})
	late := h.doProcess(departAt.Sub(start)+time.Hour, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang"})
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{
		{Category: "per_diem", Amount: 15000, Date: "2026-12-10"},
		{Category: "per_diem", Amount: 20000, Date: "2026-12-11"},
		{Category: "per_diem", Amount: 15000, Date: "2026-12-12"},
		{Category: "transport", Amount: 8600, Date: "2026-12-11", Receipt: "taxi-0311"},
	}}
	unjustified := h.tact(returnAt.Sub(start)+time.Hour, ttask("claim", 1), houqin.ActionComplete, "wang.fang", claim)
	claim.Lines[1].Justification = "客户晚宴后加班"
	notTraveler := h.tact(returnAt.Sub(start)+90*time.Minute, ttask("claim", 1), houqin.ActionComplete, "li.na", claim)
	submit := h.tact(returnAt.Sub(start)+2*time.Hour, ttask("claim", 1), houqin.ActionComplete, "wang.fang", claim)
	overCap := h.tact(returnAt.Sub(start)+3*time.Hour, ttask("claim_over_cap", 1), houqin.ActionApprove, "liu.yang", nil)
	finance := h.tact(returnAt.Sub(start)+4*time.Hour, ttask("claim_finance", 1), houqin.ActionApprove, "chen.jing", nil)

	res, err, events := h.runTrip(tripInput(t))
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	for _, u := range []*update{approve, book, submit, overCap, finance} {
		wantDone(t, u)
	}
	wantCode(t, noHotel, houqin.EINVALID, "data.lodging")
	wantCode(t, early, houqin.EFORBIDDEN, "only the requester")
	wantCode(t, late, houqin.ENOTALLOWED, "the traveller departed on 2026-12-10")
	wantCode(t, unjustified, houqin.EINVALID, "data.lines[1].justification")
	wantCode(t, notTraveler, houqin.EFORBIDDEN, "not an assignee")

	want := []string{"trip.requested", "trip.budget_checked",
		"approval.step_started", "task.opened", "task.completed", "approval.step_completed",
		"approval.step_skipped", "approval.step_skipped", "approval.step_skipped", "approval.step_skipped",
		"trip.budget_reserved", "trip.approved", "task.opened", "task.completed", "trip.booked",
		"trip.departed", "trip.returned", "task.opened", "task.completed", "trip.claim_submitted",
		"approval.step_started", "task.opened", "task.completed", "approval.step_completed",
		"approval.step_started", "task.opened", "task.completed", "approval.step_completed",
		// The claim stays within the reservation: no budget steps.
		"approval.step_skipped", "approval.step_skipped",
		"trip.reimbursed", "trip.completed", "process.copied"}
	if diff := cmp.Diff(want, types(events)); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
	if got := occurred(events, "trip.departed"); !got.Equal(departAt) {
		t.Errorf("departed at %s, want %s", got, departAt)
	}
	if got := occurred(events, "trip.returned"); !got.Equal(returnAt) {
		t.Errorf("returned at %s, want %s", got, returnAt)
	}
	const claimed, booked = 58600, 230600
	reimbursed := of[*houqin.TripReimbursed](t, events)
	if len(reimbursed) != 1 || *reimbursed[0] != (houqin.TripReimbursed{By: "chen.jing", Claim: claimed, Bookings: booked,
		Actual: claimed + booked, Released: 350000 - claimed - booked, Currency: "CNY"}) {
		t.Errorf("reimbursed %+v", reimbursed)
	}
	if res.Actual != claimed+booked {
		t.Errorf("result actual %d, want %d", res.Actual, claimed+booked)
	}
	if l := travelLine(t, h); l.Reserved != 0 || l.Actual != claimed+booked {
		t.Errorf("travel line: reserved %d, actual %d; want 0, %d", l.Reserved, l.Actual, claimed+booked)
	}
	sub := of[*houqin.TripClaimSubmitted](t, events)
	if len(sub) != 1 || len(sub[0].OverCap) != 1 || sub[0].OverCap[0] != (houqin.OverCap{Line: 1, City: "北京", Cap: 15000, Over: 5000}) ||
		!slices.Equal(sub[0].Caps, []int64{15000, 15000, 15000, 0}) {
		t.Errorf("claim submitted %+v", sub)
	}
	first := decode[*houqin.TripRequested](t, events[0])
	if first.Request.Department != "MKT" || first.Request.Legs[0].Depart != "2026-12-10" || first.Days != 3 {
		t.Errorf("first event %+v: the KPI projection needs request.department and request.legs[0].depart", first)
	}
}

func TestTripRejected(t *testing.T) {
	h := newTripHarness(t)
	rej := h.do(time.Minute, houqin.TaskAction{TaskID: ttask("manager_approval", 1), Action: houqin.ActionReject, Actor: "liu.yang", Comment: "改为视频会议"})
	res, err, events := h.runTrip(tripInput(t))
	if err != nil || res.Status != houqin.StatusRejected {
		t.Fatalf("result %+v, %v; want rejected", res, err)
	}
	wantDone(t, rej)
	if r := of[*houqin.TripRejected](t, events); len(r) != 1 || r[0].By != "liu.yang" || r[0].Comment != "改为视频会议" {
		t.Errorf("rejected %+v", r)
	}
	if l := travelLine(t, h); l.Reserved != 0 || l.Actual != 0 {
		t.Errorf("travel line: reserved %d, actual %d; want nothing", l.Reserved, l.Actual)
	}
}

func TestTripLongAndExpensiveNeedsHRAndFinance(t *testing.T) {
	h := newTripHarness(t)
	in := tripInput(t)
	in.Request.Legs[0].Return = "2026-12-20" // 11 days
	in.Request.EstimatedCost = 1_200_000     // beyond the 5000.00 plan (control warn)
	h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(2*time.Minute, ttask("hr_approval", 1), houqin.ActionApprove, "zhao.lei", nil)
	h.tact(3*time.Minute, ttask("finance_approval", 1), houqin.ActionApprove, "chen.jing", nil)
	// budget_review (finance, dedup false) runs again for the overrun.
	h.tact(4*time.Minute, ttask("budget_review", 1), houqin.ActionApprove, "chen.jing", nil)
	h.cancelAt(time.Hour)
	_, _, events := h.runTrip(in)
	var steps []string
	for _, s := range of[*houqin.StepCompleted](t, events) {
		steps = append(steps, s.Step+" "+s.Outcome)
	}
	want := []string{"manager_approval approved", "hr_approval approved", "finance_approval approved", "budget_review approved"}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if r := of[*houqin.TripBudgetReserved](t, events); len(r) != 1 || r[0].Status != houqin.BudgetWarn || r[0].Amount != 1_200_000 {
		t.Errorf("reserved %+v, want 12000.00 warn", r)
	}
	// Cancelled (the workflow) while booking: the reservation is released.
	if l := travelLine(t, h); l.Reserved != 0 {
		t.Errorf("travel line: reserved %d after the cancellation, want 0", l.Reserved)
	}
}

func TestTripWithdrawn(t *testing.T) {
	h := newTripHarness(t)
	notYou := h.doProcess(time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "li.na"})
	w := h.doProcess(2*time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang", Comment: "行程取消"})
	res, err, events := h.runTrip(tripInput(t))
	if err != nil || res.Status != houqin.StatusWithdrawn {
		t.Fatalf("result %+v, %v; want withdrawn", res, err)
	}
	wantDone(t, w)
	wantCode(t, notYou, houqin.EFORBIDDEN, "only the requester")
	if got := types(events); !slices.Contains(got, "process.withdrawn") || slices.Contains(got, "trip.budget_released") {
		t.Errorf("stream %q: want withdrawn, nothing to release", got)
	}
}

func TestTripCancelledBeforeTravel(t *testing.T) {
	h := newTripHarness(t)
	h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	var reserved int64
	h.at(2*time.Hour, func() { reserved = travelLine(t, h).Reserved })
	cancel := h.doProcess(3*24*time.Hour, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang", Comment: "客户改期"})
	res, err, events := h.runTrip(tripInput(t))
	if err != nil || res.Status != houqin.StatusCancelled {
		t.Fatalf("result %+v, %v; want cancelled", res, err)
	}
	wantDone(t, cancel)
	if reserved != 350000 {
		t.Errorf("reserved %d before the cancellation, want 350000", reserved)
	}
	tail := types(events)[len(events)-2:]
	if diff := cmp.Diff([]string{"process.revoked", "trip.budget_released"}, tail); diff != "" {
		t.Errorf("stream ends (-want +got):\n%s", diff)
	}
	if r := of[*houqin.TripBudgetReleased](t, events); len(r) != 1 || r[0].Amount != 350000 {
		t.Errorf("released %+v", r)
	}
	if l := travelLine(t, h); l.Reserved != 0 || l.Actual != 0 {
		t.Errorf("travel line: reserved %d, actual %d; want 0, 0", l.Reserved, l.Actual)
	}
}

func TestTripClaimRejectedThenClaimedAgain(t *testing.T) {
	h := newTripHarness(t)
	h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	back := returnAt.Sub(start)
	early := h.tact(back-time.Hour, ttask("claim", 1), houqin.ActionComplete, "wang.fang", nil)
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{{Category: "other", Amount: 30000, Date: "2026-12-11", Receipt: "礼品"}}}
	h.tact(back+time.Hour, ttask("claim", 1), houqin.ActionComplete, "wang.fang", claim)
	h.do(back+2*time.Hour, houqin.TaskAction{TaskID: ttask("claim_finance", 1), Action: houqin.ActionReject, Actor: "chen.jing", Comment: "礼品不可报销"})
	claim.Lines[0] = houqin.ClaimLine{Category: "transport", Amount: 6000, Date: "2026-12-11", Receipt: "taxi-1"}
	h.tact(back+3*time.Hour, ttask("claim", 2), houqin.ActionComplete, "wang.fang", claim)
	h.tact(back+4*time.Hour, ttask("claim_finance", 2), houqin.ActionApprove, "chen.jing", nil)
	res, err, events := h.runTrip(tripInput(t))
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	wantCode(t, early, houqin.ECONFLICT, "")
	if r := of[*houqin.TripClaimRejected](t, events); len(r) != 1 || r[0].Round != 1 || r[0].By != "chen.jing" {
		t.Errorf("claim rejected %+v", r)
	}
	if r := of[*houqin.TripReimbursed](t, events); len(r) != 1 || r[0].Claim != 6000 {
		t.Errorf("reimbursed %+v", r)
	}
	var skipped []string
	for _, s := range of[*houqin.StepSkipped](t, events) {
		skipped = append(skipped, s.Step)
	}
	if !slices.Contains(skipped, "claim_over_cap") {
		t.Errorf("skipped %q: a claim within the caps skips claim_over_cap", skipped)
	}
}

// An assistant of the department submits: the traveller's manager still
// approves, and the claim is the traveller's task, not the assistant's.
func TestTripSubmittedByAnAssistant(t *testing.T) {
	h := newTripHarness(t)
	in := tripInput(t)
	in.Requester = "li.na" // logistics staff arranges the trip
	h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{{Category: "transport", Amount: 6000, Date: "2026-12-11", Receipt: "taxi-1"}}}
	back := returnAt.Sub(start)
	assistant := h.tact(back+time.Hour, ttask("claim", 1), houqin.ActionComplete, "li.na", claim)
	traveller := h.tact(back+2*time.Hour, ttask("claim", 1), houqin.ActionComplete, "wang.fang", claim)
	h.tact(back+3*time.Hour, ttask("claim_finance", 1), houqin.ActionApprove, "chen.jing", nil)
	res, err, events := h.runTrip(in)
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	wantCode(t, assistant, houqin.EFORBIDDEN, "")
	wantDone(t, traveller)
	var claimTask houqin.Task
	for _, task := range openedTasks(t, events) {
		if task.Step == workflows.StepClaim {
			claimTask = task
		}
	}
	if !slices.Equal(claimTask.Assignees, []string{"wang.fang"}) {
		t.Errorf("claim task %+v, want wang.fang's", claimTask)
	}
	if first := decode[*houqin.TripRequested](t, events[0]); first.Requester != "li.na" || first.Request.Traveler != "wang.fang" || first.Subject != "wang.fang" {
		t.Errorf("first event %+v", first)
	}
}

// financeTraveller is the demo organisation where wang.fang, of MKT, holds
// the finance role.
func financeTraveller(t *testing.T) *houqin.Org {
	t.Helper()
	org, err := houqin.ParseOrg([]byte(strings.Replace(string(config.DefaultOrg()),
		"department: MKT, roles: [employee]", "department: MKT, roles: [employee, finance]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := org.User("wang.fang"); !u.HasRole("finance") {
		t.Fatal("wang.fang does not hold finance")
	}
	return org
}

// stepStarted returns the approval.step_started events of a step, in order.
func stepStarted(t *testing.T, events []houqin.Event, step string) []*houqin.StepStarted {
	var out []*houqin.StepStarted
	for _, s := range of[*houqin.StepStarted](t, events) {
		if s.Step == step {
			out = append(out, s)
		}
	}
	return out
}

// The separation of duties for the traveller: liu.yang, wang.fang's manager,
// submits her trip; wang.fang holds finance. Neither approves a step of the
// trip or of the claim: the manager steps go to liu.yang's manager
// zhang.wei, and the finance step of her claim to chen.jing alone (her own
// replacement, her manager, is the requester).
func TestTripTravellerNeverApprovesTheirOwnTrip(t *testing.T) {
	store, _ := budgetStore(t, 0)
	h := newHarnessOrg(t, store, financeTraveller(t))
	h.env.RegisterWorkflow(workflows.Trip)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: tid})
	in := tripInput(t)
	in.Requester = "liu.yang"

	requester := h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	traveller := h.tact(2*time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "wang.fang", nil)
	addTraveller := h.do(3*time.Minute, houqin.TaskAction{TaskID: ttask("manager_approval", 1), Action: houqin.ActionAddApprover,
		Actor: "zhang.wei", Users: []string{"wang.fang"}, Position: houqin.AddParallel})
	toTraveller := h.do(4*time.Minute, houqin.TaskAction{TaskID: ttask("manager_approval", 1), Action: houqin.ActionTransfer,
		Actor: "zhang.wei", To: "wang.fang"})
	remind := h.do(5*time.Minute, houqin.TaskAction{TaskID: ttask("manager_approval", 1), Action: houqin.ActionRemind, Actor: "wang.fang"})
	approve := h.tact(10*time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "zhang.wei", nil)
	h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	back := returnAt.Sub(start)
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{
		{Category: "per_diem", Amount: 20000, Date: "2026-12-11", Justification: "客户晚宴后加班"},
		{Category: "transport", Amount: 6000, Date: "2026-12-11", Receipt: "taxi-1"}}}
	byRequester := h.tact(back+time.Hour, ttask("claim", 1), houqin.ActionComplete, "liu.yang", claim)
	h.tact(back+2*time.Hour, ttask("claim", 1), houqin.ActionComplete, "wang.fang", claim)
	overCap := h.tact(back+3*time.Hour, ttask("claim_over_cap", 1), houqin.ActionApprove, "zhang.wei", nil)
	ownClaim := h.tact(back+4*time.Hour, ttask("claim_finance", 1), houqin.ActionApprove, "wang.fang", nil)
	finance := h.tact(back+5*time.Hour, ttask("claim_finance", 1), houqin.ActionApprove, "chen.jing", nil)

	res, err, events := h.runTrip(in)
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	for _, u := range []*update{remind, approve, overCap, finance} {
		wantDone(t, u)
	}
	wantCode(t, requester, houqin.EFORBIDDEN, `"liu.yang" requested`)
	wantCode(t, traveller, houqin.EFORBIDDEN, `is for "wang.fang", who may not act on its task`)
	wantCode(t, addTraveller, houqin.EINVALID, `users[0]: TR-2026-000001 is for "wang.fang", who may not approve it`)
	wantCode(t, toTraveller, houqin.EINVALID, `to: TR-2026-000001 is for "wang.fang"`)
	wantCode(t, byRequester, houqin.EFORBIDDEN, `"liu.yang" is not an assignee`)
	wantCode(t, ownClaim, houqin.EFORBIDDEN, `is for "wang.fang", who may not act on its task`)

	type got struct {
		Assignees []houqin.Assignee
		Rules     []string
	}
	want := map[string]got{
		"manager_approval": {[]houqin.Assignee{{User: "zhang.wei", Rule: "field:traveler_manager", Note: "separation of duties: the requester's manager"}},
			[]string{"field:traveler_manager → liu.yang (field traveler_manager)",
				"separation of duties: liu.yang requested this; routed to their manager zhang.wei"}},
		"claim_over_cap": {[]houqin.Assignee{{User: "zhang.wei", Rule: "field:traveler_manager", Note: "separation of duties: the requester's manager"}},
			[]string{"field:traveler_manager → liu.yang (field traveler_manager)",
				"separation of duties: liu.yang requested this; routed to their manager zhang.wei"}},
		"claim_finance": {[]houqin.Assignee{{User: "chen.jing", Rule: "role:finance"}},
			[]string{"role:finance → chen.jing, wang.fang",
				"separation of duties: wang.fang is the person this request is for; routed to their manager liu.yang",
				"separation of duties: the replacement of liu.yang is the requester; dropped"}},
	}
	for step, w := range want {
		s := stepStarted(t, events, step)
		if len(s) != 1 {
			t.Errorf("%s started %d times, want once", step, len(s))
			continue
		}
		if diff := cmp.Diff(w, got{s[0].Assignees, s[0].Explanation.Rules}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", step, diff)
		}
	}
	if r := of[*houqin.TripReimbursed](t, events); len(r) != 1 || r[0].By != "chen.jing" || r[0].Claim != 26000 {
		t.Errorf("reimbursed %+v", r)
	}
}

// A claim returned by finance goes back to the traveller, not to the
// assistant who submitted the trip; the amended claim is recorded as the
// round's claim (amended) and is what is reimbursed.
func TestTripClaimReturnedToTheTraveller(t *testing.T) {
	h := newTripHarness(t)
	in := tripInput(t)
	in.Requester = "li.na"
	h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	back := returnAt.Sub(start)
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{
		{Category: "transport", Amount: 6000, Date: "2026-12-11", Receipt: "taxi-1"},
		{Category: "other", Amount: 30000, Date: "2026-12-11", Receipt: "礼品"}}}
	h.tact(back+time.Hour, ttask("claim", 1), houqin.ActionComplete, "wang.fang", claim)
	ret := h.do(back+2*time.Hour, houqin.TaskAction{TaskID: ttask("claim_finance", 1), Action: houqin.ActionReturn, Actor: "chen.jing", Comment: "礼品不可报销，请删除"})
	amended := houqin.ExpenseClaim{Lines: claim.Lines[:1], Note: "删除礼品"}
	byAssistant := h.tact(back+3*time.Hour, ttask("resubmit", 1), houqin.ActionResubmit, "li.na", amended)
	badAmend := h.tact(back+3*time.Hour+time.Minute, ttask("resubmit", 1), houqin.ActionResubmit, "wang.fang",
		houqin.ExpenseClaim{Lines: []houqin.ClaimLine{{Category: "hotel", Amount: 1, Date: "2026-12-11"}}})
	resubmit := h.tact(back+4*time.Hour, ttask("resubmit", 1), houqin.ActionResubmit, "wang.fang", amended)
	finance := h.tact(back+5*time.Hour, ttask("claim_finance", 2), houqin.ActionApprove, "chen.jing", nil)
	res, err, events := h.runTrip(in)
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	for _, u := range []*update{ret, resubmit, finance} {
		wantDone(t, u)
	}
	wantCode(t, byAssistant, houqin.EFORBIDDEN, `"li.na" is not an assignee`)
	wantCode(t, badAmend, houqin.EINVALID, "data.lines[0].receipt")
	var resubmitTask houqin.Task
	for _, task := range openedTasks(t, events) {
		if task.Step == workflows.StepResubmit {
			resubmitTask = task
		}
	}
	if !slices.Equal(resubmitTask.Assignees, []string{"wang.fang"}) {
		t.Errorf("resubmit task %+v, want wang.fang's", resubmitTask)
	}
	tail := types(events)
	i := slices.Index(tail, "process.resubmitted")
	if i < 0 || i+1 >= len(tail) || tail[i+1] != "trip.claim_submitted" {
		t.Errorf("stream %q: want trip.claim_submitted right after process.resubmitted", tail)
	}
	sub := of[*houqin.TripClaimSubmitted](t, events)
	if len(sub) != 2 || sub[0].Amended || sub[0].Total != 36000 ||
		!sub[1].Amended || sub[1].Round != 1 || sub[1].By != "wang.fang" || sub[1].Total != 6000 || len(sub[1].Claim.Lines) != 1 ||
		!slices.Equal(sub[1].Caps, []int64{0}) {
		t.Errorf("claims submitted %+v, want the first then the amended one", sub)
	}
	if r := of[*houqin.TripReimbursed](t, events); len(r) != 1 || r[0].Claim != 6000 || r[0].Actual != 6000+230600 {
		t.Errorf("reimbursed %+v, want the amended 60.00", r)
	}
}

// overdueLog lists the reminders and escalations of a stream: "<offset from
// start> remind|escalate <task> <assignees>".
func overdueLog(t *testing.T, events []houqin.Event) []string {
	var out []string
	for _, e := range events {
		d, _ := e.Decode()
		switch v := d.(type) {
		case *houqin.TaskReminded:
			out = append(out, fmt.Sprintf("%s remind %s %s by %s", e.Meta.OccurredAt.Sub(start), v.TaskID, strings.Join(v.Assignees, ","), v.By))
		case *houqin.TaskEscalated:
			out = append(out, fmt.Sprintf("%s escalate %s +%s = %s (%s)", e.Meta.OccurredAt.Sub(start), v.TaskID,
				strings.Join(v.Added, ","), strings.Join(v.Assignees, ","), v.Reason))
		}
	}
	return out
}

// The overdue path: liu.yang lets the approval pass its 24 hours (reminded
// after 4, then escalated to his manager zhang.wei, who approves); li.na
// lets the booking pass its 48 hours (reminded after 24, then escalated to
// her manager, the logistics manager zhang.wei, who books); wang.fang is
// reminded of her claim after 7 and 21 days and at its due time (30 days),
// then claims.
func TestTripOverdue(t *testing.T) {
	h := newTripHarness(t)
	in := tripInput(t)
	// Leave on 2027-01-10, back on the 12th, so that the booking's 48
	// hours pass before the departure.
	in.Request.Legs[0].Depart, in.Request.Legs[0].Return = "2027-01-10", "2027-01-12"
	day := 24 * time.Hour
	approve := h.tact(25*time.Hour, ttask("manager_approval", 1), houqin.ActionApprove, "zhang.wei", nil)
	// Approved at 25h: the booking opens then.
	bookNotYet := h.tact(26*time.Hour, ttask("book", 1), houqin.ActionComplete, "zhang.wei", booking())
	book := h.tact(25*time.Hour+50*time.Hour, ttask("book", 1), houqin.ActionComplete, "zhang.wei", booking())
	backAt := time.Date(2027, 1, 12, 16, 0, 0, 0, time.UTC).Sub(start)
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{{Category: "transport", Amount: 6000, Date: "2027-01-11", Receipt: "taxi-1"}}}
	h.tact(backAt+31*day, ttask("claim", 1), houqin.ActionComplete, "wang.fang", claim)
	h.tact(backAt+31*day+time.Hour, ttask("claim_finance", 1), houqin.ActionApprove, "chen.jing", nil)

	res, err, events := h.runTrip(in)
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	wantDone(t, approve)
	wantDone(t, book)
	wantCode(t, bookNotYet, houqin.EFORBIDDEN, `"zhang.wei" is not an assignee`)
	ma, bk, cl := ttask("manager_approval", 1), ttask("book", 1), ttask("claim", 1)
	want := []string{
		"4h0m0s remind " + ma + " liu.yang by system",
		"24h0m0s escalate " + ma + " +zhang.wei = liu.yang,zhang.wei (passed its due time)",
		"49h0m0s remind " + bk + " li.na by system",
		"73h0m0s escalate " + bk + " +zhang.wei = li.na,zhang.wei (passed its due time)",
		fmt.Sprintf("%s remind %s wang.fang by system", backAt+7*day, cl),
		fmt.Sprintf("%s remind %s wang.fang by system", backAt+21*day, cl),
		fmt.Sprintf("%s remind %s wang.fang by system", backAt+30*day, cl),
	}
	if diff := cmp.Diff(want, overdueLog(t, events)); diff != "" {
		t.Errorf("reminders and escalations (-want +got):\n%s", diff)
	}
	if r := of[*houqin.TripBooked](t, events); len(r) != 1 || r[0].By != "zhang.wei" {
		t.Errorf("booked %+v, want by zhang.wei", r)
	}
	if r := of[*houqin.TripReimbursed](t, events); len(r) != 1 || r[0].Claim != 6000 {
		t.Errorf("reimbursed %+v", r)
	}
}

// TestTripNoClaim: a traveller with nothing to claim says so; the trip
// completes, spending only what was booked.
func TestTripNoClaim(t *testing.T) {
	h := newTripHarness(t)
	h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	none := h.do(returnAt.Sub(start)+time.Hour, houqin.TaskAction{TaskID: ttask("claim", 1), Action: houqin.ActionNoClaim, Actor: "wang.fang", Comment: "无额外费用"})
	res, err, events := h.runTrip(tripInput(t))
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	wantDone(t, none)
	if w := of[*houqin.TripClaimWaived](t, events); len(w) != 1 || w[0].By != "wang.fang" || w[0].Rounds != 0 {
		t.Errorf("claim waived %+v, want by wang.fang after no rejected round", w)
	}
	if r := of[*houqin.TripReimbursed](t, events); len(r) != 0 {
		t.Errorf("reimbursed %+v, want nothing", r)
	}
	if l := travelLine(t, h); l.Reserved != 0 || l.Actual != res.Actual || res.Actual == 0 {
		t.Errorf("travel line: reserved %d, actual %d; want 0 and the bookings (%d)", l.Reserved, l.Actual, res.Actual)
	}
}

// TestTripClaimRoundsBounded: after three rejected claims the logistics
// manager settles the claim; when that one is rejected too the trip
// completes with the claim waived by system.
func TestTripClaimRoundsBounded(t *testing.T) {
	h := newTripHarness(t)
	h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	back := returnAt.Sub(start)
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{{Category: "other", Amount: 30000, Date: "2026-12-11", Receipt: "礼品"}}}
	for round := 1; round <= 3; round++ {
		at := back + time.Duration(round)*2*time.Hour
		h.tact(at, ttask("claim", round), houqin.ActionComplete, "wang.fang", claim)
		h.do(at+time.Hour, houqin.TaskAction{TaskID: ttask("claim_finance", round), Action: houqin.ActionReject, Actor: "chen.jing", Comment: "礼品不可报销"})
	}
	fourth := h.tact(back+8*time.Hour, ttask("claim", 4), houqin.ActionComplete, "wang.fang", claim)
	settled := h.tact(back+9*time.Hour, ttask("settle_claim", 1), houqin.ActionComplete, "zhang.wei", claim)
	h.do(back+10*time.Hour, houqin.TaskAction{TaskID: ttask("claim_finance", 4), Action: houqin.ActionReject, Actor: "chen.jing", Comment: "仍不可报销"})
	in := tripInput(t)
	in.Settlers = []string{"zhang.wei"}
	res, err, events := h.runTrip(in)
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	wantCode(t, fourth, houqin.ECONFLICT, "") // no fourth claim by the traveller
	wantDone(t, settled)
	if r := of[*houqin.TripClaimRejected](t, events); len(r) != 4 {
		t.Errorf("%d claims rejected, want 4 (three by wang.fang, one by zhang.wei)", len(r))
	}
	if w := of[*houqin.TripClaimWaived](t, events); len(w) != 1 || w[0].By != "system" || w[0].Rounds != 4 {
		t.Errorf("claim waived %+v, want by system after 4 rounds", w)
	}
	var settle []houqin.Task
	for _, tk := range openedTasks(t, events) {
		if tk.Step == "settle_claim" {
			settle = append(settle, tk)
		}
	}
	if len(settle) != 1 || !slices.Equal(settle[0].Assignees, []string{"zhang.wei"}) {
		t.Errorf("settle_claim tasks %+v, want one for zhang.wei", settle)
	}
}

// TestTripClaimBeyondBudgetReviewed: the bookings and a claim spend
// 1 806.00 beyond the 3 500.00 reserved, which takes MKT's travel line past
// its plan: the claim is checked like a new request and its route runs
// finance's budget review before it is reimbursed.
func TestTripClaimBeyondBudgetReviewed(t *testing.T) {
	h := newTripHarness(t)
	h.tact(time.Minute, ttask("manager_approval", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(time.Hour, ttask("book", 1), houqin.ActionComplete, "li.na", booking())
	back := returnAt.Sub(start)
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{{Category: "other", Amount: 300000, Date: "2026-12-11", Receipt: "会务费"}}}
	h.tact(back+time.Hour, ttask("claim", 1), houqin.ActionComplete, "wang.fang", claim)
	h.tact(back+2*time.Hour, ttask("claim_over_cap", 1), houqin.ActionApprove, "liu.yang", nil)
	h.tact(back+3*time.Hour, ttask("claim_finance", 1), houqin.ActionApprove, "chen.jing", nil)
	review := h.tact(back+4*time.Hour, ttask("claim_budget_review", 1), houqin.ActionApprove, "chen.jing", nil)
	res, err, events := h.runTrip(tripInput(t))
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v; want completed", res, err)
	}
	wantDone(t, review)
	checks := of[*houqin.TripBudgetChecked](t, events)
	if len(checks) != 2 || checks[1].Check.Status != houqin.BudgetWarn {
		t.Errorf("budget checks %+v, want the start's and the claim's, warn", checks)
	}
	if r := of[*houqin.TripReimbursed](t, events); len(r) != 1 || r[0].Claim != 300000 {
		t.Errorf("reimbursed %+v", r)
	}
}
