package workflows

import (
	"fmt"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// budgetHold is what a spending process — a procurement, a trip, an
// event — holds on its budget line: the estimate checked at the start,
// reserved on approval, the actual consumed (and the rest released) at the
// end, or everything given back when it ends early, whatever becomes of
// the workflow. The line's events come from the budget activities; the
// process's stream records each step with the kind's own event types
// (holdEvents). A procurement holds one only under its budget-control
// version.
type budgetHold struct {
	p        *process
	events   holdEvents
	line     activities.BudgetLineRef
	check    houqin.BudgetCheck // at the start; the route's budget facts
	reserved int64              // what the process holds on its line now
}

// holdEvents builds a kind's events of its budget hold.
type holdEvents struct {
	checked  func(activities.BudgetCheckResult) houqin.EventData
	reserved func(activities.ReserveBudgetResult) houqin.EventData
	// refused is the rejection, by system, of a process whose line moved
	// beyond what its approvers covered.
	refused  func(comment string) houqin.EventData
	released func(res activities.ReleaseBudgetResult, reason string) houqin.EventData
}

// meta is the metadata of the line's events the process causes.
func (b *budgetHold) meta(ctx workflow.Context, actor, cause string) houqin.Metadata {
	return houqin.Metadata{Actor: actor, CorrelationID: b.p.id, CausationID: cause,
		WorkflowID: b.p.workflowID, RunID: b.p.runID, OccurredAt: workflow.Now(ctx), PolicyHash: b.p.policyHash}
}

// checkAgainst checks amount against line as it stands, without writing
// to it, and records the outcome: the budget facts of the approval route.
func (b *budgetHold) checkAgainst(ctx workflow.Context, line activities.BudgetLineRef, amount int64) error {
	b.line = line
	var res activities.BudgetCheckResult
	in := activities.CheckBudgetInput{Line: line, Amount: amount}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.CheckBudget, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("check budget: %w", err)
	}
	b.check = res.Check
	return b.p.record(ctx, "system", "", b.events.checked(res))
}

// reserve reserves amount on approval v, exactly once. If the line moved
// beyond what the approvers covered, nothing is reserved and the process
// ends rejected by system, saying why (as a procurement does): refused.
func (b *budgetHold) reserve(ctx workflow.Context, v verdict, amount int64) (refused bool, err error) {
	in := activities.ReserveBudgetInput{ProcessID: b.p.id, Line: b.line, Amount: amount,
		Allow: houqin.BudgetWithin, Approvers: v.approvers, Meta: b.meta(ctx, v.By, v.cause)}
	if b.p.integrity {
		// The cover comes from the budget steps the route ran, never from
		// the roles of whoever approved the other steps.
		in.Allow, in.Approvers = houqin.BudgetCover(v.steps), nil
	}
	var res activities.ReserveBudgetResult
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.ReserveBudget, in).Get(ctx, &res); err != nil {
		return false, fmt.Errorf("reserve budget: %w", err)
	}
	if res.Refused {
		comment := fmt.Sprintf("budget: %s %s; the approval covers %s, not %s (%s)",
			res.Line, res.Check.Status, res.Allow, res.Check.Status, res.Check.Reason)
		b.p.status, b.p.phase = houqin.StatusRejected, phaseDone
		return true, b.p.record(ctx, "system", v.cause, b.events.refused(comment))
	}
	b.reserved = res.Reserved
	if res.Check.Status == houqin.BudgetNone || res.Reserved == 0 {
		return false, nil
	}
	return false, b.p.record(ctx, "system", v.cause, b.events.reserved(res))
}

// consume consumes the actual cost from the line and releases what was
// reserved beyond it, in one append of the line (ConsumeBudget, exactly
// once); the caller records what it means for the process.
func (b *budgetHold) consume(ctx workflow.Context, actual int64, document, actor, cause string) (activities.ConsumeBudgetResult, error) {
	in := activities.ConsumeBudgetInput{ProcessID: b.p.id, Line: b.line, Amount: actual, Document: document, Meta: b.meta(ctx, actor, cause)}
	var res activities.ConsumeBudgetResult
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.ConsumeBudget, in).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("consume budget: %w", err)
	}
	b.reserved = 0
	return res, nil
}

// release gives the reservation back; record says whether to record it
// on the process's stream (not when the workflow is being cancelled).
func (b *budgetHold) release(ctx workflow.Context, reason string, record bool) error {
	if b.reserved <= 0 {
		return nil
	}
	in := activities.ReleaseBudgetInput{ProcessID: b.p.id, Line: b.line, Reason: reason, Meta: b.meta(ctx, "system", "")}
	var res activities.ReleaseBudgetResult
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.ReleaseBudget, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("release budget: %w", err)
	}
	b.reserved = 0
	b.p.log.Info("Budget released", "line", res.Line, "amount", res.Released, "reason", reason)
	if !record {
		return nil
	}
	return b.p.record(ctx, "system", "", b.events.released(res, reason))
}

// giveBack releases the reservation of a run that ends with err (cancelled
// or failed), on a disconnected context so a cancellation cannot stop it.
// The line records the release; after a cancellation the process's stream
// does too, before process.cancelled (process.cancelled); after a failure it
// does not (its stream may be what failed).
func (b *budgetHold) giveBack(ctx workflow.Context, err error, reason string) {
	if err == nil || b.reserved <= 0 {
		return
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if rerr := b.release(dctx, reason, temporal.IsCanceledError(err)); rerr != nil {
		b.p.log.Error("Budget release failed", "error", rerr)
	}
}
