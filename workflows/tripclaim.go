package workflows

import (
	"encoding/json"
	"fmt"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/workflow"
)

// A trip's expense claim (报销): its route, its rounds, its budget check,
// and the reimbursement or the claim waived; the caps the claim form shows.
// trip.go has the rest of the trip.

// claimRoute returns the approval route of an expense claim: the policy's
// claim steps over the claim's facts.
func (w *trip) claimRoute(c houqin.ExpenseClaim, over []houqin.OverCap, round int) route {
	kp := w.in.Policy
	kp.Steps, kp.ClaimSteps = kp.ClaimSteps, nil
	rt := route{
		policy: kp,
		// A claim returned to be resubmitted goes back to the traveller
		// who claimed, not to an assistant who submitted the trip.
		resubmitter: w.in.Request.Traveler,
		facts: func() houqin.Facts {
			check := w.budget.check
			if w.claimCheck != nil {
				check = *w.claimCheck
			}
			return houqin.ClaimFacts(check.Facts(w.in.Request.Facts(w.in.Requester, w.in.TravelerManager)), c, over)
		},
		checkAmend: func(data json.RawMessage) error {
			_, _, err := w.checkClaim(data)
			return err
		},
	}
	rt.amend = func(data json.RawMessage) error {
		c2, over2, err := w.checkClaim(data)
		if err != nil {
			return err
		}
		c, over = c2, over2
		return nil
	}
	// The amended claim is recorded as the round's claim, so the 报销单
	// shows what is approved and reimbursed.
	rt.resubmitted = func(ctx workflow.Context, d *decision) error {
		if err := w.p.recordFor(ctx, d.Actor, d.onBehalfOf, d.updateID, w.claimSubmitted(d.Actor, c, over, round, true)); err != nil {
			return err
		}
		if w.claimCheck == nil {
			return nil
		}
		return w.checkClaimBudget(ctx, c)
	}
	return rt
}

// claimSubmitted returns the trip.claim_submitted of a claim.
func (w *trip) claimSubmitted(by string, c houqin.ExpenseClaim, over []houqin.OverCap, round int, amended bool) houqin.TripClaimSubmitted {
	return houqin.TripClaimSubmitted{By: by, Claim: c, Total: c.Total(), OverCap: over,
		Caps: w.in.Request.LineCaps(c, *w.in.Policy.Travel), Round: round, Amended: amended}
}

func (w *trip) checkClaim(data json.RawMessage) (houqin.ExpenseClaim, []houqin.OverCap, error) {
	var c houqin.ExpenseClaim
	if err := decodeData(data, &c); err != nil {
		return c, nil, err
	}
	over, err := w.in.Request.CheckClaim(c, *w.in.Policy.Travel)
	return c, over, err
}

// claim waits for the traveller's expense claim and runs it through the
// claim route until it is approved, then reimburses.
func (w *trip) claim(ctx workflow.Context) (TripResult, error) {
	p, traveler := w.p, w.in.Request.Traveler
	bounded := workflow.GetVersion(ctx, "claim-rounds", workflow.DefaultVersion, claimRounds) >= claimRounds
	budgeted := workflow.GetVersion(ctx, "claim-budget", workflow.DefaultVersion, claimBudget) >= claimBudget
	for round := 1; ; round++ {
		check := func(act houqin.TaskAction) error {
			if act.Action != houqin.ActionComplete {
				return nil
			}
			_, _, err := w.checkClaim(act.Data)
			return inData(err)
		}
		spec := taskSpec{step: StepClaim, name: houqin.Text{Zh: "填写报销单", En: "Claim the expenses"},
			assignees: []houqin.Assignee{{User: traveler, Rule: "traveler"}}, forRequester: true, forSubject: true,
			actions: []string{houqin.ActionComplete, houqin.ActionComment}, sla: claimSLA, reminders: claimReminders, check: check}
		settling := bounded && round > maxClaimRounds && len(w.in.Settlers) > 0
		if bounded {
			spec.actions = []string{houqin.ActionComplete, houqin.ActionNoClaim, houqin.ActionComment}
		}
		if settling {
			if round > maxClaimRounds+1 {
				// The logistics manager's claim was rejected too: the
				// trip ends with what was booked.
				return w.waive(ctx, "system", fmt.Sprintf("%d claims were rejected; nothing more is claimed", round-1), "", round-1)
			}
			spec.step, spec.name = StepSettleClaim, houqin.Text{Zh: "代为结算报销", En: "Settle the claim for the traveller"}
			spec.assignees = nil
			for _, u := range w.in.Settlers {
				spec.assignees = append(spec.assignees, houqin.Assignee{User: u, Rule: "logistics_manager", Note: fmt.Sprintf("%d claims rejected", round-1)})
			}
			spec.forRequester, spec.forSubject = false, false
		}
		t := p.openTask(ctx, spec)
		if err := p.flush(ctx); err != nil {
			return TripResult{}, err
		}
		d, err := w.claimed(ctx, t, bounded)
		if err != nil {
			return TripResult{}, err
		}
		if d.Action == houqin.ActionNoClaim {
			return w.waive(ctx, d.Actor, d.Comment, d.updateID, round-1)
		}
		c, over, err := w.checkClaim(d.Data)
		if err != nil {
			return TripResult{}, err
		}
		if err := p.recordFor(ctx, d.Actor, d.onBehalfOf, d.updateID, w.claimSubmitted(d.Actor, c, over, round, false)); err != nil {
			return TripResult{}, err
		}
		if budgeted {
			if err := w.checkClaimBudget(ctx, c); err != nil {
				return TripResult{}, err
			}
		}
		rt := w.claimRoute(c, over, round)
		v, err := p.approve(ctx, rt)
		if err != nil {
			return TripResult{}, err
		}
		if !v.Approved {
			if err := p.record(ctx, v.By, v.cause, houqin.TripClaimRejected{By: v.By, Comment: v.Comment, Round: round}); err != nil {
				return TripResult{}, err
			}
			continue
		}
		// The route's facts see the claim as last amended.
		claimed := rt.facts()["claim_total"].(int64)
		return w.reimburse(ctx, v, claimed)
	}
}

// checkClaimBudget checks what claim c and the bookings spend beyond the
// reservation against the line, as a new request would be, and records
// the check (trip.budget_checked); within the reservation it is within,
// without a line none.
func (w *trip) checkClaimBudget(ctx workflow.Context, c houqin.ExpenseClaim) error {
	extra := c.Total() + w.booked - w.budget.reserved
	switch {
	case w.budget.check.Status == houqin.BudgetNone:
		w.claimCheck = &houqin.BudgetCheck{Status: houqin.BudgetNone, Reason: "no budget line controls this trip"}
		return nil
	case extra <= 0:
		w.claimCheck = &houqin.BudgetCheck{Status: houqin.BudgetWithin, Reason: "the bookings and the claim stay within the reservation"}
		return nil
	}
	if err := w.budget.checkAgainst(ctx, w.budget.line, extra); err != nil {
		return err
	}
	check := w.budget.check
	w.claimCheck = &check
	return nil
}

// claimed waits for the action that ends a claim task t: complete, and
// under claim-rounds no-claim, refusing any other; it records it.
func (w *trip) claimed(ctx workflow.Context, t *openTask, bounded bool) (*decision, error) {
	if !bounded {
		return w.p.completion(ctx, t, nil)
	}
	for {
		d, _, _, err := w.p.next(ctx)
		if err != nil {
			return nil, err
		}
		if d.Action == houqin.ActionComplete || d.Action == houqin.ActionNoClaim {
			return d, w.p.complete(ctx, t, d)
		}
		w.p.notAllowed(d)
	}
}

// waive ends a trip with no claim (trip.claim_waived): the bookings are
// consumed from the budget line and the rest of the reservation released;
// the trip completes.
func (w *trip) waive(ctx workflow.Context, by, comment, cause string, rounds int) (TripResult, error) {
	p := w.p
	if err := p.record(ctx, by, cause, houqin.TripClaimWaived{By: by, Comment: comment, Rounds: rounds}); err != nil {
		return TripResult{}, err
	}
	if w.booked > 0 {
		if _, err := w.budget.consume(ctx, w.booked, w.in.ProcessID+" 差旅预订", by, cause); err != nil {
			return TripResult{}, err
		}
		w.actual = w.booked
	} else if err := w.budget.release(ctx, "the trip ended with nothing spent", true); err != nil {
		return TripResult{}, err
	}
	p.status, p.phase = houqin.StatusCompleted, phaseDone
	if err := p.record(ctx, "system", cause, houqin.TripCompleted{}); err != nil {
		return TripResult{}, err
	}
	return w.finish(ctx)
}

// reimburse records the reimbursement of an approved claim and consumes
// the actual cost (bookings and claim) from the budget line, releasing
// what was reserved but not spent; the trip completes.
func (w *trip) reimburse(ctx workflow.Context, v verdict, claimed int64) (TripResult, error) {
	p := w.p
	actual := claimed + w.booked
	res, err := w.budget.consume(ctx, actual, w.in.ProcessID+" 报销单", v.By, v.cause)
	if err != nil {
		return TripResult{}, err
	}
	w.actual = actual
	err = p.record(ctx, v.By, v.cause, houqin.TripReimbursed{By: v.By, Claim: claimed, Bookings: w.booked, Actual: actual,
		Released: res.Released, Currency: w.in.Request.CurrencyOrDefault()})
	if err != nil {
		return TripResult{}, err
	}
	p.status, p.phase = houqin.StatusCompleted, phaseDone
	if err := p.record(ctx, "system", v.cause, houqin.TripCompleted{}); err != nil {
		return TripResult{}, err
	}
	return w.finish(ctx)
}

// QueryTravelCaps names the query of a trip's caps, day by day, under the
// rules it started with: what the claim form shows beside each line.
const QueryTravelCaps = "travel_caps"

func (w *trip) travelCaps() ([]houqin.DayCaps, error) {
	return w.in.Request.DayCaps(*w.in.Policy.Travel), nil
}
