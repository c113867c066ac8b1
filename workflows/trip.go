package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"go.temporal.io/sdk/workflow"
)

// The work steps of a trip.
const (
	StepBook  = "book"  // logistics book the transport and lodging
	StepClaim = "claim" // the traveller claims the expenses (报销)
	// StepSettleClaim: after maxClaimRounds rejected claims, the logistics
	// manager claims for the traveller, once, or says there is nothing to
	// claim (version claim-rounds).
	StepSettleClaim = "settle_claim"
)

// maxClaimRounds is how many claims of a trip the traveller may have
// rejected before the logistics manager settles it.
const maxClaimRounds = 3

// claimRounds is the version of the Trip workflow whose claim task takes
// no-claim, and whose claims are bounded: maxClaimRounds by the traveller,
// then one by the logistics manager (TripInput.Settlers); a trip whose
// last claim is rejected completes with the claim waived.
const claimRounds = 1

// Task SLAs of a trip: a booking not done in bookSLA is reminded after
// bookRemind and escalates to the bookers' managers (the logistics
// manager) at its due time; the traveller is reminded of the claim at
// claimReminders, the last at its due time.
const (
	bookSLA    = 48 * time.Hour
	bookRemind = 24 * time.Hour
	claimSLA   = 30 * 24 * time.Hour
)

var claimReminders = []time.Duration{7 * 24 * time.Hour, 21 * 24 * time.Hour, claimSLA}

// TripID returns the ID of the seq-th trip of a year, "TR-2026-000001";
// it is also the workflow ID.
func TripID(year int, seq int64) string { return fmt.Sprintf("TR-%04d-%06d", year, seq) }

var tripID = regexp.MustCompile(`^TR-[0-9]{4}-[0-9]{6,}$`)

// TripInput starts a business trip (出差). Everything it decides by is
// resolved at the start: the policy (approval and claim routes, the caps by
// city tier), the traveller's manager and the logistics staff who book.
type TripInput struct {
	ProcessID       string             `json:"process_id"`
	Requester       string             `json:"requester"` // the traveller or an assistant
	Request         houqin.TripRequest `json:"request"`
	TravelerManager string             `json:"traveler_manager"`
	Policy          houqin.KindPolicy  `json:"policy"`
	PolicyHash      string             `json:"policy_hash"`
	Logistics       []string           `json:"logistics"` // who book: users with role logistics_staff
	// Settlers settle a claim the traveller had rejected maxClaimRounds
	// times: the logistics manager. Empty: the traveller claims on.
	Settlers []string `json:"settlers,omitempty"`
}

// TripResult is how a trip ended.
type TripResult struct {
	ProcessID string        `json:"process_id"`
	Status    houqin.Status `json:"status"`
	Actual    int64         `json:"actual"` // consumed from the budget
	Position  int64         `json:"position"`
}

func (in TripInput) validate(workflowID string) error {
	switch {
	case !tripID.MatchString(in.ProcessID):
		return houqin.Errorf(houqin.EINVALID, "process_id: must look like TR-2026-000001, got %q", in.ProcessID)
	case in.ProcessID != workflowID:
		return houqin.Errorf(houqin.EINVALID, "process_id: %q is not the workflow ID %q", in.ProcessID, workflowID)
	case strings.TrimSpace(in.Requester) == "":
		return houqin.Errorf(houqin.EINVALID, "requester: required")
	case in.Policy.Kind != houqin.KindTrip || in.PolicyHash != in.Policy.Hash():
		return houqin.Errorf(houqin.EINVALID, "policy: a trip policy and its hash are required")
	case in.Policy.Travel == nil || len(in.Policy.ClaimSteps) == 0:
		return houqin.Errorf(houqin.EINVALID, "policy: a trip policy needs travel caps and claim steps")
	case len(in.Logistics) == 0:
		return houqin.Errorf(houqin.EINVALID, "logistics: at least one assignee is required")
	case slices.Contains(in.Logistics, in.Request.Traveler):
		return houqin.Errorf(houqin.EINVALID, "logistics: the traveller %s does not book their own trip", in.Request.Traveler)
	case strings.TrimSpace(in.Request.Department) == "":
		return houqin.Errorf(houqin.EINVALID, "request.department: required")
	}
	if err := in.Request.Validate(); err != nil {
		return houqin.Errorf(houqin.EINVALID, "request.%s", houqin.ErrorMessage(err))
	}
	return nil
}

// bookingProvider arranges a trip's transport and lodging. The default,
// taskBooking, is a human task for the logistics staff; a provider that
// books through a travel agency's API would run activities instead.
type bookingProvider interface {
	book(ctx workflow.Context, w *trip) (b houqin.TripBooking, actor, cause string, err error)
}

// taskBooking books by a task of the logistics staff, who record each
// booking's reference and cost.
type taskBooking struct{}

func (taskBooking) book(ctx workflow.Context, w *trip) (houqin.TripBooking, string, string, error) {
	check := func(act houqin.TaskAction) error {
		var b houqin.TripBooking
		if err := decodeData(act.Data, &b); err != nil {
			return err
		}
		return inData(w.in.Request.CheckBooking(b))
	}
	// An arranger who submitted a colleague's trip may book it; nobody
	// books their own trip (the API leaves the traveller out of Logistics).
	spec := taskSpec{step: StepBook, name: houqin.Text{Zh: "预订交通与住宿", En: "Book transport and lodging"}, sla: bookSLA, check: check,
		forRequester: w.in.Requester != w.in.Request.Traveler, reminders: []time.Duration{bookRemind}, escalate: bookSLA}
	d, err := w.p.workWith(ctx, spec, w.in.Logistics, w.overdue)
	if err != nil {
		return houqin.TripBooking{}, "", "", err
	}
	var b houqin.TripBooking
	if err := decodeData(d.Data, &b); err != nil {
		return houqin.TripBooking{}, "", "", err
	}
	return b, d.Actor, d.updateID, nil
}

// Trip runs one business trip (出差): the approval route of its policy
// (the traveller's manager, HR for a long trip, finance for a large one,
// the budget steps), the budget reservation, the bookings by logistics, a
// durable wait until the traveller is back, the expense claim and its
// route (an extra approval for lines above their caps, finance), then the
// reimbursement, which consumes the actual cost from the budget and
// releases the rest. The requester may withdraw it under approval and
// revoke (cancel) it until the first departure day; either releases the
// reservation. On its stream:
//
//	trip.requested, trip.budget_checked, [approval…], trip.budget_reserved, trip.approved | trip.rejected (end)
//	task.opened(book), task.completed, trip.booked
//	trip.departed (00:00 of the first departure day, UTC+8), trip.returned (the end of the last return day)
//	task.opened(claim), task.completed, trip.claim_submitted, [claim approval…], trip.claim_rejected → claim again
//	  a return of the claim: process.returned, task.opened(resubmit, the traveller), process.resubmitted,
//	  trip.claim_submitted{amended} if amended, the claim route again
//	trip.reimbursed, trip.completed
//
// When an assistant submits, the traveller is the process's subject: they
// approve nothing of their trip or claim (separation of duties), as the
// requester. A booking is reminded after a day and escalates to the
// bookers' managers at its due time; the claim reminds the traveller.
func Trip(ctx workflow.Context, in TripInput) (TripResult, error) {
	if err := in.validate(workflow.GetInfo(ctx).WorkflowExecution.ID); err != nil {
		return TripResult{}, badInput(err)
	}
	p, err := newProcess(ctx, houqin.KindTrip, in.ProcessID, houqin.TripStream(in.ProcessID), in.Requester, in.Policy, in.PolicyHash)
	if err != nil {
		return TripResult{}, err
	}
	if in.Request.Traveler != in.Requester {
		// An assistant submitted: the traveller approves no step of their
		// own trip or claim either.
		p.subject = in.Request.Traveler
	}
	w := &trip{in: in, p: p, booking: taskBooking{}}
	w.budget = budgetHold{p: p, events: holdEvents{
		checked: func(r activities.BudgetCheckResult) houqin.EventData {
			return houqin.TripBudgetChecked{Line: r.Line, Check: r.Check}
		},
		reserved: func(r activities.ReserveBudgetResult) houqin.EventData {
			return houqin.TripBudgetReserved{Line: r.Line, Amount: r.Reserved, Status: r.Check.Status, Exception: r.Exception}
		},
		refused: func(comment string) houqin.EventData { return houqin.TripRejected{By: "system", Comment: comment} },
		released: func(r activities.ReleaseBudgetResult, reason string) houqin.EventData {
			return houqin.TripBudgetReleased{Line: r.Line, Amount: r.Released, Reason: reason}
		},
	}}
	if err := workflow.SetQueryHandler(ctx, QueryState, w.state); err != nil {
		return TripResult{}, err
	}
	if err := workflow.SetQueryHandler(ctx, QueryTravelCaps, w.travelCaps); err != nil {
		return TripResult{}, err
	}
	res, err := w.run(ctx)
	if errors.Is(err, errStopped) {
		res, err = w.stop(ctx)
	}
	// Cancelled or failed before the reimbursement: give back the
	// reservation, whatever became of the workflow.
	w.budget.giveBack(ctx, err, "the trip was cancelled")
	return res, p.ended(ctx, err)
}

// trip is one running trip.
type trip struct {
	in      TripInput
	p       *process
	booking bookingProvider

	budget budgetHold
	booked int64 // the bookings' total
	actual int64
	// claimCheck, under claim-budget, is the check of what a claim spends
	// beyond the reservation: the budget facts of the claim route.
	claimCheck *houqin.BudgetCheck
}

// claimBudget is the version of the Trip workflow that checks a claim
// against the budget line like a new request: what the bookings and the
// claim spend beyond the reservation, so the claim route runs the budget
// steps of the policy (budget_review, budget_exception) when it passes the
// plan or the band, instead of the overrun being reserved silently.
const claimBudget = 1

func (w *trip) run(ctx workflow.Context) (TripResult, error) {
	p, in := w.p, w.in
	if err := p.record(ctx, in.Requester, "", houqin.NewTripRequested(in.ProcessID, in.Requester, in.TravelerManager, in.Request)); err != nil {
		return TripResult{}, err
	}
	if err := w.checkBudget(ctx); err != nil {
		return TripResult{}, err
	}
	rt := w.route()
	if err := p.copy(ctx, rt, in.Policy.CC.Start, "start"); err != nil {
		return TripResult{}, err
	}
	v, err := p.approve(ctx, rt)
	if err != nil {
		return TripResult{}, err
	}
	if !v.Approved {
		p.status, p.phase = houqin.StatusRejected, phaseDone
		if err := p.record(ctx, v.By, v.cause, houqin.TripRejected{By: v.By, Comment: v.Comment}); err != nil {
			return TripResult{}, err
		}
		return w.finish(ctx)
	}
	if refused, err := w.budget.reserve(ctx, v, in.Request.EstimatedCost); err != nil || refused {
		if err != nil {
			return TripResult{}, err
		}
		return w.finish(ctx)
	}
	p.phase = phaseWork
	if err := p.record(ctx, v.By, v.cause, houqin.TripApproved{By: v.By, Comment: v.Comment}); err != nil {
		return TripResult{}, err
	}

	b, actor, cause, err := w.booking.book(ctx, w)
	if err != nil {
		return TripResult{}, err
	}
	w.booked = b.Total()
	if err := p.record(ctx, actor, cause, houqin.TripBooked{By: actor, Booking: b, Total: b.Total()}); err != nil {
		return TripResult{}, err
	}
	if err := p.flush(ctx); err != nil {
		return TripResult{}, err
	}

	// Durable timers: the first departure day closes cancellation; the
	// end of the last return day opens the claim.
	r := in.Request
	depart, _ := time.ParseInLocation(time.DateOnly, r.Start(), houqin.BusinessZone)
	if err := w.waitUntil(ctx, depart); err != nil {
		return TripResult{}, err
	}
	p.revokeClosed = "the traveller departed on " + r.Start()
	if err := p.record(ctx, "system", "", houqin.TripDeparted{Day: r.Start()}); err != nil {
		return TripResult{}, err
	}
	if err := p.flush(ctx); err != nil {
		return TripResult{}, err
	}
	back, _ := time.ParseInLocation(time.DateOnly, r.End(), houqin.BusinessZone)
	if err := w.waitUntil(ctx, back.AddDate(0, 0, 1)); err != nil {
		return TripResult{}, err
	}
	if err := p.record(ctx, "system", "", houqin.TripReturned{Day: r.End()}); err != nil {
		return TripResult{}, err
	}
	return w.claim(ctx)
}

// waitUntil waits, durably, until a moment; it returns errStopped if the
// requester revoked the trip meanwhile.
func (w *trip) waitUntil(ctx workflow.Context, at time.Time) error {
	for {
		if w.p.stopRequested() {
			return errStopped
		}
		wait := at.Sub(workflow.Now(ctx))
		if wait <= 0 {
			return nil
		}
		if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return w.p.stopping != nil }); err != nil {
			return err
		}
	}
}

// route returns the approval route of the trip request.
func (w *trip) route() route {
	rt := route{
		policy: w.in.Policy,
		facts: func() houqin.Facts {
			return w.budget.check.Facts(w.in.Request.Facts(w.in.Requester, w.in.TravelerManager))
		},
		checkAmend: func(data json.RawMessage) error {
			_, err := w.amended(data)
			return err
		},
		amend: func(data json.RawMessage) error {
			req, err := w.amended(data)
			if err != nil {
				return err
			}
			w.in.Request = req
			return nil
		},
		resubmitted: func(ctx workflow.Context, _ *decision) error {
			if !w.p.integrity {
				return nil
			}
			// An amended estimate is checked again: the route that
			// follows depends on its budget status.
			return w.budget.checkAgainst(ctx, w.budget.line, w.in.Request.EstimatedCost)
		},
	}
	rt.policy.ClaimSteps = nil
	return rt
}

// amended decodes and checks an amended request: the same traveller, in
// the same department.
func (w *trip) amended(data json.RawMessage) (houqin.TripRequest, error) {
	var req houqin.TripRequest
	if err := decodeData(data, &req); err != nil {
		return req, err
	}
	if req.Department == "" {
		req.Department = w.in.Request.Department
	}
	if err := req.Validate(); err != nil {
		return req, err
	}
	switch {
	case req.Traveler != w.in.Request.Traveler:
		return req, houqin.Errorf(houqin.EINVALID, "traveler: an amended request keeps the traveller %s", w.in.Request.Traveler)
	case req.Department != w.in.Request.Department:
		return req, houqin.Errorf(houqin.EINVALID, "department: an amended request stays in %s", w.in.Request.Department)
	}
	return req, nil
}

// overdue escalates a booking past its due time: the managers of its
// assignees (the logistics manager) join the task, once.
func (w *trip) overdue(ctx workflow.Context, t *openTask) error {
	p := w.p
	var managers []string
	in := activities.ManagersInput{Users: t.task.Assignees, Requester: p.requester, Subject: p.subject}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.Managers, in).Get(ctx, &managers); err != nil {
		return fmt.Errorf("escalate %s: %w", t.task.ID, err)
	}
	var added []string
	for _, m := range managers {
		if !slices.Contains(t.task.Assignees, m) && m != w.in.Request.Traveler {
			added = append(added, m)
			t.task.Assignees = append(t.task.Assignees, m)
		}
	}
	p.log.Info("Task escalated", "task_id", t.task.ID, "added", added)
	if err := p.record(ctx, "system", "", houqin.TaskEscalated{TaskID: t.task.ID, Added: added,
		Assignees: slices.Clone(t.task.Assignees), DueAt: t.task.DueAt, Reason: "passed its due time"}); err != nil {
		return err
	}
	return p.flush(ctx)
}

// checkBudget checks the estimated cost against the travel line of the
// traveller's department (the year of now in UTC+8) and records it.
func (w *trip) checkBudget(ctx workflow.Context) error {
	line := activities.BudgetLineRef{Year: workflow.Now(ctx).In(houqin.BusinessZone).Year(), Department: w.in.Request.Department, Category: houqin.TravelBudgetCategory}
	return w.budget.checkAgainst(ctx, line, w.in.Request.EstimatedCost)
}

// stop ends a trip its requester withdrew (under approval) or revoked
// (cancelled before the departure), releasing the reservation.
func (w *trip) stop(ctx workflow.Context) (TripResult, error) {
	reason := "the requester withdrew the trip"
	if w.p.stopping != nil && w.p.stopping.Action == houqin.ActionRevoke {
		reason = "the requester cancelled the trip before departure"
	}
	if err := w.p.stop(ctx); err != nil {
		return TripResult{}, err
	}
	if err := w.budget.release(ctx, reason, true); err != nil {
		return TripResult{}, err
	}
	return w.finish(ctx)
}

// finish copies whom the policy names at the finish of a completed or
// rejected trip, stores what is pending and returns the result.
func (w *trip) finish(ctx workflow.Context) (TripResult, error) {
	p := w.p
	if p.status == houqin.StatusCompleted || p.status == houqin.StatusRejected {
		if err := p.copy(ctx, w.route(), w.in.Policy.CC.Finish, "finish"); err != nil {
			return TripResult{}, err
		}
	}
	if err := p.flush(ctx); err != nil {
		return TripResult{}, err
	}
	return TripResult{ProcessID: w.in.ProcessID, Status: p.status, Actual: w.actual, Position: p.position}, nil
}

func (w *trip) state() (State, error) {
	return State{ProcessID: w.in.ProcessID, Status: w.p.status, Tasks: w.p.tasks(), Outstanding: []houqin.ItemQuantity{},
		Version: w.p.version, Position: w.p.position}, nil
}
