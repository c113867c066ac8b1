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
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"
)

// The steps of an event besides its arrangements (houqin.Arrangements).
const (
	StepConfirmAttendees = "confirm_attendees" // HR confirms the attendee list
	StepConfirmPublicity = "confirm_publicity" // marketing confirms the publicity
	StepHold             = "hold"              // the organiser says the event was held
	StepMinutes          = "minutes"           // the organiser submits the minutes and the summary
	StepReviewMinutes    = "review_minutes"    // the reviewer judges their quality
)

// ReadinessLead is how long before an event starts its readiness check
// escalates the unfinished arrangements; the arrangements are due then.
const ReadinessLead = 24 * time.Hour

// EventProcessID returns the ID of the seq-th event process of a year,
// "EV-2026-000001" (not an event ID of the store: see houqin.EventID);
// it is also the workflow ID.
func EventProcessID(year int, seq int64) string { return fmt.Sprintf("EV-%04d-%06d", year, seq) }

var eventProcessID = regexp.MustCompile(`^EV-[0-9]{4}-[0-9]{6,}$`)

// EventInput starts an event or meeting (活动/会议). Everything it decides
// by is resolved at the start: the attendees, who confirms, who arranges
// what, who reviews the minutes.
type EventInput struct {
	ProcessID    string               `json:"process_id"`
	Requester    string               `json:"requester"` // the organiser
	Request      houqin.EventRequest  `json:"request"`   // department filled in
	Attendees    []string             `json:"attendees"` // invited, from the organisation
	HR           []string             `json:"hr"`        // confirm the attendee list
	Marketing    []string             `json:"marketing"` // confirm the publicity (the MKT head)
	Arrangements []houqin.Arrangement `json:"arrangements"`
	Reviewers    []string             `json:"reviewers"` // review the minutes (the logistics manager)
	Escalate     []string             `json:"escalate"`  // join unfinished arrangements at the readiness check, besides the owners' managers
	Policy       houqin.KindPolicy    `json:"policy"`
	PolicyHash   string               `json:"policy_hash"`
	// ProcurementPolicy, if given, is the policy of the child procurement
	// of the supplies stock cannot cover; without it none is started.
	ProcurementPolicy houqin.KindPolicy `json:"procurement_policy"`
	// SurveyRemindAfter and SurveyCloseAfter, if positive, send every
	// attendee but the organiser a satisfaction survey once the minutes
	// are accepted, open that long (config/kpi.yaml survey).
	SurveyRemindAfter time.Duration `json:"survey_remind_after,omitempty"`
	SurveyCloseAfter  time.Duration `json:"survey_close_after,omitempty"`
	// NoSurvey are attendees who are not surveyed: the logistics staff,
	// whose rating would be of their own service.
	NoSurvey []string `json:"no_survey,omitempty"`
}

// EventResult is how an event process ended.
type EventResult struct {
	ProcessID string        `json:"process_id"`
	Status    houqin.Status `json:"status"`
	Actual    int64         `json:"actual"` // consumed from the budget when the event was held
	Position  int64         `json:"position"`
}

func (in EventInput) validate(workflowID string) error {
	switch {
	case !eventProcessID.MatchString(in.ProcessID):
		return houqin.Errorf(houqin.EINVALID, "process_id: must look like EV-2026-000001, got %q", in.ProcessID)
	case in.ProcessID != workflowID:
		return houqin.Errorf(houqin.EINVALID, "process_id: %q is not the workflow ID %q", in.ProcessID, workflowID)
	case strings.TrimSpace(in.Requester) == "":
		return houqin.Errorf(houqin.EINVALID, "requester: required")
	case in.Request.Department == "":
		return houqin.Errorf(houqin.EINVALID, "request.department: required")
	case len(in.HR) == 0:
		return houqin.Errorf(houqin.EINVALID, "hr: nobody confirms the attendee list")
	case len(in.Marketing) == 0:
		return houqin.Errorf(houqin.EINVALID, "marketing: nobody confirms the publicity")
	case len(in.Reviewers) == 0:
		return houqin.Errorf(houqin.EINVALID, "reviewers: nobody reviews the minutes")
	case in.Policy.Kind != houqin.KindEvent || in.PolicyHash != in.Policy.Hash():
		return houqin.Errorf(houqin.EINVALID, "policy: an event policy and its hash are required")
	}
	for i, ar := range in.Arrangements {
		if ar.Step == "" || len(ar.Owners) == 0 {
			return houqin.Errorf(houqin.EINVALID, "arrangements[%d]: a step and owners are required", i)
		}
	}
	if err := in.Request.Validate(); err != nil {
		return houqin.Errorf(houqin.EINVALID, "request.%s", houqin.ErrorMessage(err))
	}
	return nil
}

// Event runs one event or meeting (活动/会议): the approval route of its
// policy; then, in parallel, HR's confirmation of the attendees,
// marketing's of the publicity and every arrangement (venue, equipment,
// supplies, catering, each department's materials), due the day before
// the event, when a readiness check escalates the unfinished ones; the
// event is held (the organiser says so, or its end passes); the organiser
// submits the minutes and summary, which a reviewer judges (a major error
// sends them back). The estimated cost is reserved on approval; when the
// event is held the arrangements' recorded costs are consumed and the rest
// released; a revocation before then consumes the costs recorded so far
// and releases the rest, a withdrawal, cancellation or failure releases
// the reservation. On its stream:
//
//	event.requested, event.budget_checked, [approval…], event.budget_reserved, event.approved | event.rejected (end)
//	task.opened… (confirmations, arrangements), task.completed + event.attendees_confirmed |
//	event.publicity_confirmed | event.arranged {cost}…, [event.readiness_checked, task.escalated…]
//	event.ready, task.opened(hold), task.completed, event.held, event.budget_consumed | event.budget_released
//	(revoked before the hold: process.revoked, task.cancelled…, event.budget_consumed | event.budget_released)
//	task.opened(minutes), task.completed, event.minutes_submitted, task.opened(review_minutes),
//	task.completed, event.minutes_reviewed (…again after a major error), event.completed
//
// Each review is also a deliverable.reviewed on houqin.DeliverableStream,
// which the deliverable-quality KPI counts.
func Event(ctx workflow.Context, in EventInput) (EventResult, error) {
	if err := in.validate(workflow.GetInfo(ctx).WorkflowExecution.ID); err != nil {
		return EventResult{}, badInput(err)
	}
	p, err := newProcess(ctx, houqin.KindEvent, in.ProcessID, houqin.EventStream(in.ProcessID), in.Requester, in.Policy, in.PolicyHash)
	if err != nil {
		return EventResult{}, err
	}
	w := &event{in: in, p: p}
	w.budget = budgetHold{p: p, check: houqin.BudgetCheck{Status: houqin.BudgetNone}, events: holdEvents{
		checked: func(r activities.BudgetCheckResult) houqin.EventData {
			return houqin.EventBudgetChecked{Line: r.Line, Check: r.Check}
		},
		reserved: func(r activities.ReserveBudgetResult) houqin.EventData {
			return houqin.EventBudgetReserved{Line: r.Line, Amount: r.Reserved, Status: r.Check.Status, Exception: r.Exception}
		},
		refused: func(comment string) houqin.EventData { return houqin.EventRejected{By: "system", Comment: comment} },
		released: func(r activities.ReleaseBudgetResult, reason string) houqin.EventData {
			return houqin.EventBudgetReleased{Line: r.Line, Amount: r.Released, Reason: reason}
		},
	}}
	if err := workflow.SetQueryHandler(ctx, QueryState, w.state); err != nil {
		return EventResult{}, err
	}
	res, err := w.run(ctx)
	if errors.Is(err, errStopped) {
		res, err = w.stop(ctx)
	}
	// Cancelled or failed before the event was held: give back the
	// reservation, whatever became of the workflow.
	w.budget.giveBack(ctx, err, "the event was cancelled")
	return res, p.ended(ctx, err)
}

type event struct {
	in        EventInput
	attendees []string // as HR confirmed them
	p         *process
	budget    budgetHold
	actual    int64 // the arrangements' recorded costs
	consumed  int64 // what the event consumed from its line when held
	// confirmationsEscalate: the readiness check escalates HR's and
	// marketing's confirmations too (version readinessConfirmations).
	confirmationsEscalate bool
}

// readinessConfirmations is the version of the Event workflow whose
// readiness check escalates the unfinished confirmations (HR's list,
// marketing's publicity) with the arrangements: all are due the day before.
// Events started before it escalate only the arrangements, and a check
// never came when only a confirmation was late.
const readinessConfirmations = 1

func (w *event) facts() houqin.Facts {
	return w.in.Request.EventFacts(w.in.Requester, int64(len(w.in.Attendees)), w.budget.check.Status, w.budget.check.Remaining)
}

func (w *event) run(ctx workflow.Context) (EventResult, error) {
	p, in := w.p, w.in
	r := in.Request
	err := p.record(ctx, in.Requester, "", houqin.EventRequested{ProcessID: in.ProcessID, Requester: in.Requester, Request: r,
		Attendees: slices.Clone(in.Attendees), Total: r.EstimatedCost, Currency: r.CurrencyOrDefault()})
	if err != nil {
		return EventResult{}, err
	}
	line := activities.BudgetLineRef{Year: r.Start().In(houqin.BusinessZone).Year(), Department: r.Department, Category: r.BudgetCategory}
	if err := w.budget.checkAgainst(ctx, line, r.EstimatedCost); err != nil {
		return EventResult{}, err
	}
	rt := route{
		policy: in.Policy,
		facts:  w.facts,
		checkAmend: func(json.RawMessage) error {
			return houqin.Errorf(houqin.EINVALID, "data: an event is resubmitted as it is; withdraw it and start another to change it")
		},
	}
	rt.amend = rt.checkAmend
	if err := p.copy(ctx, rt, in.Policy.CC.Start, "start"); err != nil {
		return EventResult{}, err
	}
	v, err := p.approve(ctx, rt)
	if err != nil {
		return EventResult{}, err
	}
	if !v.Approved {
		p.status, p.phase = houqin.StatusRejected, phaseDone
		if err := p.record(ctx, v.By, v.cause, houqin.EventRejected{By: v.By, Comment: v.Comment}); err != nil {
			return EventResult{}, err
		}
		return w.finish(ctx)
	}
	if refused, err := w.budget.reserve(ctx, v, r.EstimatedCost); err != nil || refused {
		if err != nil {
			return EventResult{}, err
		}
		return w.finish(ctx)
	}
	p.phase = phaseWork
	if err := p.record(ctx, v.By, v.cause, houqin.EventApproved{By: v.By, Comment: v.Comment}); err != nil {
		return EventResult{}, err
	}
	if len(r.Supplies) > 0 && in.ProcurementPolicy.Kind == houqin.KindProcurement {
		if err := w.supplies(ctx); err != nil {
			return EventResult{}, err
		}
	}
	if err := w.prepare(ctx); err != nil {
		return EventResult{}, err
	}
	if err := w.hold(ctx); err != nil {
		return EventResult{}, err
	}
	if err := w.consume(ctx); err != nil {
		return EventResult{}, err
	}
	if err := w.minutes(ctx); err != nil {
		return EventResult{}, err
	}
	if in.SurveyRemindAfter > 0 && in.SurveyCloseAfter > in.SurveyRemindAfter {
		if err := w.surveys(ctx); err != nil {
			return EventResult{}, err
		}
	}
	p.status, p.phase = houqin.StatusCompleted, phaseDone
	if err := p.record(ctx, "system", "", houqin.EventCompleted{}); err != nil {
		return EventResult{}, err
	}
	return w.finish(ctx)
}

// supplies starts a child procurement of the supplies stock cannot cover,
// numbered like every procurement, requested by the organiser, needed by
// the readiness day; the event does not wait for it (the supplies
// arrangement task does).
func (w *event) supplies(ctx workflow.Context) error {
	p, in := w.p, w.in
	r := in.Request
	info := workflow.GetInfo(ctx)
	pin := activities.PrepareEventSuppliesInput{ProcessID: in.ProcessID, Requester: in.Requester, Department: r.Department,
		Category: r.BudgetCategory, Title: r.Title, NeededBy: r.Start().Add(-ReadinessLead).In(houqin.BusinessZone).Format(time.DateOnly),
		Supplies: r.Supplies, At: workflow.Now(ctx), Key: info.WorkflowExecution.ID + "/supplies"}
	var prep activities.PrepareEventSuppliesResult
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.PrepareEventSupplies, pin).Get(ctx, &prep); err != nil {
		return fmt.Errorf("prepare the supplies: %w", err)
	}
	if len(prep.Short) == 0 {
		return nil
	}
	id := ProcessID(prep.Year, prep.Number)
	if err := p.record(ctx, "system", "", houqin.EventSuppliesRequested{ProcurementID: id, Items: prep.Short}); err != nil {
		return err
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: id, TaskQueue: TaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	child := workflow.ExecuteChildWorkflow(cctx, Procurement, ProcurementInput{ProcessID: id, Requester: in.Requester,
		Request: prep.Request, Policy: in.ProcurementPolicy, PolicyHash: in.ProcurementPolicy.Hash(), Logistics: prep.Logistics,
		BudgetYear: r.Start().In(houqin.BusinessZone).Year()})
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return fmt.Errorf("start the procurement %s of the supplies: %w", id, err)
	}
	p.log.Info("Supplies procurement started", "procurement", id, "short", prep.Short)
	return nil
}

// surveys starts a Survey child workflow for every attendee but the
// organiser, "SV-<event>-<user>", abandoned when the event ends.
func (w *event) surveys(ctx workflow.Context) error {
	p, in := w.p, w.in
	var ids []string
	for _, u := range w.attendees {
		if u == in.Requester || slices.Contains(in.NoSurvey, u) {
			continue
		}
		id := "SV-" + in.ProcessID + "-" + u
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: id, TaskQueue: TaskQueue,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		})
		child := workflow.ExecuteChildWorkflow(cctx, Survey, SurveyInput{SurveyID: id, Respondent: u,
			Service:     houqin.SurveyService{ID: in.ProcessID, Kind: houqin.KindEvent, Department: in.Request.Department, Title: in.Request.Title},
			RemindAfter: in.SurveyRemindAfter, CloseAfter: in.SurveyCloseAfter})
		if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			return fmt.Errorf("start the survey %s: %w", id, err)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil
	}
	return p.record(ctx, "system", "", houqin.EventSurveysSent{Surveys: ids})
}

// prepare opens the confirmations and the arrangements together and waits
// until every one is done, then records event.ready; at the readiness time (the day before the
// event) the unfinished arrangements are escalated, once.
func (w *event) prepare(ctx workflow.Context) error {
	p, in := w.p, w.in
	now := workflow.Now(ctx)
	due := max(in.Request.Start().Add(-ReadinessLead).Sub(now), time.Hour)
	assignees := func(users []string, rule string) []houqin.Assignee {
		as := make([]houqin.Assignee, len(users))
		for i, u := range users {
			as[i] = houqin.Assignee{User: u, Rule: rule}
		}
		return as
	}
	actions := []string{houqin.ActionComplete, houqin.ActionTransfer, houqin.ActionComment, houqin.ActionRemind}
	checkArranged := func(act houqin.TaskAction) error {
		var r houqin.ArrangementReport
		if err := decodeData(act.Data, &r); err != nil {
			return err
		}
		return inData(r.Check())
	}
	checkAttendees := func(act houqin.TaskAction) error {
		var c houqin.AttendeeConfirmation
		if err := decodeData(act.Data, &c); err != nil {
			return err
		}
		for i, u := range c.Attendees {
			if strings.TrimSpace(u) == "" || slices.Index(c.Attendees, u) != i {
				return houqin.Errorf(houqin.EINVALID, "data.attendees[%d]: empty or repeated", i)
			}
		}
		return nil
	}
	var confirmEscalate time.Duration
	if workflow.GetVersion(ctx, "readiness-confirmations", workflow.DefaultVersion, readinessConfirmations) >= readinessConfirmations {
		confirmEscalate, w.confirmationsEscalate = due, true
	}
	p.openTask(ctx, taskSpec{step: StepConfirmAttendees, name: houqin.Text{Zh: "确认参会人员", En: "Confirm the attendees"},
		assignees: assignees(in.HR, "role:hr"), actions: actions, sla: due, escalate: confirmEscalate, check: checkAttendees})
	p.openTask(ctx, taskSpec{step: StepConfirmPublicity, name: houqin.Text{Zh: "确认宣传", En: "Confirm the publicity"},
		assignees: assignees(in.Marketing, "dept_head(MKT)"), actions: actions, sla: due, escalate: confirmEscalate})
	arrangements := map[string]*openTask{}
	for _, ar := range in.Arrangements {
		arrangements[ar.Step] = p.openTask(ctx, taskSpec{step: ar.Step, name: ar.Name, assignees: assignees(ar.Owners, "owner of "+ar.Step),
			actions: actions, sla: due, escalate: due, check: checkArranged})
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	for left := 2 + len(in.Arrangements); left > 0; {
		d, fired, _, err := p.next(ctx)
		if err != nil {
			return err
		}
		if fired != nil {
			if err := w.readiness(ctx); err != nil {
				return err
			}
			continue
		}
		if d.Action != houqin.ActionComplete {
			p.notAllowed(d)
			continue
		}
		t := p.task(d.TaskID)
		if t.task.Step == StepConfirmAttendees {
			if refused, err := w.strangers(ctx, d); err != nil || refused {
				if err != nil {
					return err
				}
				continue
			}
		} else if t.task.Step != StepConfirmPublicity {
			if refused, err := w.pastBand(ctx, d); err != nil || refused {
				if err != nil {
					return err
				}
				continue
			}
		}
		if err := p.complete(ctx, t, d); err != nil {
			return err
		}
		var data houqin.EventData
		switch t.task.Step {
		case StepConfirmAttendees:
			var c houqin.AttendeeConfirmation
			if err := decodeData(d.Data, &c); err != nil {
				return err
			}
			if c.Attendees == nil {
				c.Attendees = slices.Clone(in.Attendees)
			}
			w.attendees = c.Attendees
			data = houqin.EventAttendeesConfirmed{By: d.Actor, Attendees: c.Attendees, Note: c.Note}
		case StepConfirmPublicity:
			data = houqin.EventPublicityConfirmed{By: d.Actor, Note: d.Comment}
		default:
			var r houqin.ArrangementReport
			if err := decodeData(d.Data, &r); err != nil {
				return err
			}
			w.actual += r.Cost
			data = houqin.EventArranged{Step: t.task.Step, By: d.Actor, Note: r.Note, Cost: r.Cost}
		}
		if err := p.recordFor(ctx, d.Actor, d.onBehalfOf, d.updateID, data); err != nil {
			return err
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
		left--
	}
	// Ready: what the department promised before the event (docs/KPI.md
	// measures it against starts_at); written with the hold task.
	return p.record(ctx, "system", "", houqin.EventReady{Arrangements: len(in.Arrangements), Late: !workflow.Now(ctx).Before(in.Request.Start())})
}

// pastBand refuses, under approval-integrity, an arrangement whose cost
// takes the event's recorded costs beyond its reservation and its budget
// line past the band (exceeded, a stop line): 422 naming data.cost, the task
// stays open. Within the band the excess is reserved when the event is
// held, as before. The line is read by an activity, so the check runs when
// the action is taken.
func (w *event) pastBand(ctx workflow.Context, d *decision) (refused bool, err error) {
	if !w.p.integrity || w.budget.check.Status == houqin.BudgetNone {
		return false, nil
	}
	var r houqin.ArrangementReport
	if err := decodeData(d.Data, &r); err != nil || r.Cost <= 0 {
		return false, err
	}
	extra := w.actual + r.Cost - w.budget.reserved
	if extra <= 0 {
		return false, nil
	}
	var res activities.BudgetCheckResult
	in := activities.CheckBudgetInput{Line: w.budget.line, Amount: extra}
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.CheckBudget, in).Get(ctx, &res); err != nil {
		return false, fmt.Errorf("check the cost against the budget: %w", err)
	}
	if res.Check.Status != houqin.BudgetExceeded {
		return false, nil
	}
	w.p.refuse(d, houqin.Errorf(houqin.ENOTALLOWED,
		"data.cost: %s takes the event's costs %s beyond its reservation and %s past its band (%s); raise the line by a budget adjustment, or record what fits",
		houqin.Money(r.Cost), houqin.Money(extra), res.Line, res.Check.Reason))
	return true, nil
}

// attendeeCheck is the version of the Event workflow that checks HR's
// attendee list against the organisation (strangers); events that
// confirmed their list before it took the list as it was.
const attendeeCheck = 1

// strangers refuses HR's confirmation of a list naming someone the
// organisation does not have, or who has left: 400 naming the entry, the
// task stays open. The organisation is read by an activity, so the check
// runs when the action is taken, not in the update's validator.
func (w *event) strangers(ctx workflow.Context, d *decision) (refused bool, err error) {
	var c houqin.AttendeeConfirmation
	if err := decodeData(d.Data, &c); err != nil || len(c.Attendees) == 0 {
		return false, err
	}
	if workflow.GetVersion(ctx, "attendee-check", workflow.DefaultVersion, attendeeCheck) == workflow.DefaultVersion {
		return false, nil
	}
	var unknown []string
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.Strangers, c.Attendees).Get(ctx, &unknown); err != nil {
		return false, fmt.Errorf("check attendees: %w", err)
	}
	if len(unknown) == 0 {
		return false, nil
	}
	i := slices.Index(c.Attendees, unknown[0])
	w.p.refuse(d, houqin.Errorf(houqin.EINVALID, "data.attendees[%d]: no user %q in the organisation", i, unknown[0]))
	return true, nil
}

// readiness escalates every unfinished arrangement (and confirmation,
// since readinessConfirmations): the owners' managers and the escalation
// users join its task. It runs once: it clears the escalation deadline of
// every task.
func (w *event) readiness(ctx workflow.Context) error {
	p := w.p
	var unfinished []*openTask
	for _, t := range p.open {
		if i := slices.IndexFunc(t.deadlines, func(d deadline) bool { return d.what == "escalate" }); i >= 0 {
			t.deadlines = slices.Delete(t.deadlines, i, i+1)
		}
		confirmation := t.task.Step == StepConfirmAttendees || t.task.Step == StepConfirmPublicity
		if (confirmation && w.confirmationsEscalate) || slices.ContainsFunc(w.in.Arrangements, func(ar houqin.Arrangement) bool { return ar.Step == t.task.Step }) {
			unfinished = append(unfinished, t)
		}
	}
	ev := houqin.EventReadinessChecked{Unfinished: []string{}, Added: []string{}}
	var escalated []houqin.TaskEscalated
	for _, t := range unfinished {
		var managers []string
		in := activities.ManagersInput{Users: t.task.Assignees, Requester: p.requester}
		if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.Managers, in).Get(ctx, &managers); err != nil {
			return fmt.Errorf("escalate %s: %w", t.task.ID, err)
		}
		var added []string
		for _, u := range append(managers, w.in.Escalate...) {
			if !slices.Contains(t.task.Assignees, u) && !slices.Contains(added, u) && u != p.requester {
				added = append(added, u)
				t.task.Assignees = append(t.task.Assignees, u)
			}
		}
		ev.Unfinished = append(ev.Unfinished, t.task.Step)
		for _, u := range added {
			if !slices.Contains(ev.Added, u) {
				ev.Added = append(ev.Added, u)
			}
		}
		escalated = append(escalated, houqin.TaskEscalated{TaskID: t.task.ID, Added: added,
			Assignees: slices.Clone(t.task.Assignees), DueAt: t.task.DueAt, Reason: "the event starts within a day and the arrangement is unfinished"})
	}
	p.log.Info("Event readiness checked", "unfinished", ev.Unfinished, "added", ev.Added)
	if err := p.record(ctx, "system", "", ev); err != nil {
		return err
	}
	for _, e := range escalated {
		if err := p.record(ctx, "system", "", e); err != nil {
			return err
		}
	}
	return p.flush(ctx)
}

// hold waits until the organiser says the event was held, or its end
// passes.
func (w *event) hold(ctx workflow.Context) error {
	p := w.p
	sla := max(w.in.Request.End().Sub(workflow.Now(ctx)), time.Minute)
	starts := w.in.Request.Start()
	// An event cannot have been held before it starts (approval-integrity).
	check := func(act houqin.TaskAction) error {
		if p.integrity && act.Action == houqin.ActionComplete && workflow.Now(ctx).Before(starts) {
			return houqin.Errorf(houqin.ENOTALLOWED, "action: the event starts at %s; confirm it was held once it has started",
				starts.In(houqin.BusinessZone).Format(time.RFC3339))
		}
		return nil
	}
	t := p.openTask(ctx, taskSpec{step: StepHold, name: houqin.Text{Zh: "确认活动已举办", En: "Confirm the event was held"},
		assignees: []houqin.Assignee{{User: p.requester, Rule: "organiser"}}, forRequester: true,
		actions: []string{houqin.ActionComplete, houqin.ActionComment}, sla: sla, timeout: true, check: check})
	if err := p.flush(ctx); err != nil {
		return err
	}
	for {
		d, fired, _, err := p.next(ctx)
		if err != nil {
			return err
		}
		if fired != nil {
			if err := p.autoComplete(ctx, t, houqin.ActionComplete, "timeout", "the event ended"); err != nil {
				return err
			}
			return p.record(ctx, "system", "", houqin.EventHeld{By: "system"})
		}
		if d.Action != houqin.ActionComplete {
			p.notAllowed(d)
			continue
		}
		if err := p.complete(ctx, t, d); err != nil {
			return err
		}
		return p.record(ctx, d.Actor, d.updateID, houqin.EventHeld{By: d.Actor})
	}
}

// until waits for the completion of t, refusing other actions.
func (w *event) until(ctx workflow.Context, t *openTask) (*decision, error) {
	p := w.p
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	for {
		d, _, _, err := p.next(ctx)
		if err != nil {
			return nil, err
		}
		if d.Action == houqin.ActionComplete {
			return d, p.complete(ctx, t, d)
		}
		p.notAllowed(d)
	}
}

// minutes has the organiser submit the minutes and summary and the
// reviewers judge them, until a review finds no major error.
func (w *event) minutes(ctx workflow.Context) error {
	p, in := w.p, w.in
	checkMinutes := func(act houqin.TaskAction) error {
		var m houqin.EventMinutes
		if err := decodeData(act.Data, &m); err != nil {
			return err
		}
		return inData(m.Check())
	}
	checkReview := func(act houqin.TaskAction) error {
		var r houqin.MinutesReview
		if err := decodeData(act.Data, &r); err != nil {
			return err
		}
		return inData(r.Check())
	}
	var reviewers []houqin.Assignee
	for _, u := range in.Reviewers {
		if u != p.requester {
			reviewers = append(reviewers, houqin.Assignee{User: u, Rule: "reviewer"})
		}
	}
	if len(reviewers) == 0 {
		return houqin.Errorf(houqin.EINVALID, "reviewers: the organiser may not review their own minutes, and nobody else is named")
	}
	for round := 1; ; round++ {
		t := p.openTask(ctx, taskSpec{step: StepMinutes, name: houqin.Text{Zh: "提交会议纪要及总结报告", En: "Submit the minutes and summary"},
			assignees: []houqin.Assignee{{User: p.requester, Rule: "organiser"}}, forRequester: true,
			actions: []string{houqin.ActionComplete, houqin.ActionComment}, sla: 3 * 24 * time.Hour, check: checkMinutes})
		d, err := w.until(ctx, t)
		if err != nil {
			return err
		}
		var m houqin.EventMinutes
		if err := decodeData(d.Data, &m); err != nil {
			return err
		}
		if err := p.record(ctx, d.Actor, d.updateID, houqin.EventMinutesSubmitted{By: d.Actor, Minutes: m, Round: round}); err != nil {
			return err
		}
		rt := p.openTask(ctx, taskSpec{step: StepReviewMinutes, name: houqin.Text{Zh: "审核会议纪要及总结报告", En: "Review the minutes and summary"},
			assignees: reviewers, actions: []string{houqin.ActionComplete, houqin.ActionTransfer, houqin.ActionComment, houqin.ActionRemind},
			sla: 2 * 24 * time.Hour, check: checkReview})
		rd, err := w.until(ctx, rt)
		if err != nil {
			return err
		}
		var r houqin.MinutesReview
		if err := decodeData(rd.Data, &r); err != nil {
			return err
		}
		if err := p.record(ctx, rd.Actor, rd.updateID, houqin.EventMinutesReviewed{By: rd.Actor, Outcome: r.Outcome, Comment: r.Comment, Round: round}); err != nil {
			return err
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
		if err := w.deliverable(ctx, rd, r, round); err != nil {
			return err
		}
		if r.Outcome != houqin.OutcomeMajorError {
			return nil
		}
	}
}

// deliverable records the review of the minutes as deliverable.reviewed on
// the process's deliverable stream (any version: other reviews may share
// it); the event ID derives from the workflow and the round, so a retry
// writes nothing twice.
func (w *event) deliverable(ctx workflow.Context, d *decision, r houqin.MinutesReview, round int) error {
	p := w.p
	data := houqin.DeliverableReviewed{ProcessID: p.id, Kind: "minutes", Document: fmt.Sprintf("%s/minutes/%d", p.id, round),
		Title: "会议纪要及总结报告 · " + w.in.Request.Title, Outcome: r.Outcome, Reviewer: d.Actor, Comment: r.Comment,
		Department: w.in.Request.Department, Process: houqin.KindEvent}
	meta := houqin.Metadata{Actor: d.Actor, CorrelationID: p.id, CausationID: d.updateID, WorkflowID: p.workflowID,
		RunID: p.runID, OccurredAt: workflow.Now(ctx), PolicyHash: p.policyHash}
	e, err := houqin.NewEvent(houqin.EventID(p.workflowID, p.runID, fmt.Sprintf("deliverable-%d", round)), data, meta)
	if err != nil {
		return err
	}
	in := activities.AppendInput{Stream: houqin.DeliverableStream(p.id), Expected: houqin.ExpectAny, Events: []houqin.Event{e}}
	var res activities.AppendResult
	if err := workflow.ExecuteActivity(withActivityOptions(ctx), a.AppendEvents, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("record the review of the minutes: %w", err)
	}
	return nil
}

// finish copies whom the policy names at the finish, stores what is
// pending and returns the result.
func (w *event) finish(ctx workflow.Context) (EventResult, error) {
	p := w.p
	if p.status == houqin.StatusCompleted || p.status == houqin.StatusRejected {
		rt := route{policy: w.in.Policy, facts: w.facts}
		if err := p.copy(ctx, rt, w.in.Policy.CC.Finish, "finish"); err != nil {
			return EventResult{}, err
		}
	}
	if err := p.flush(ctx); err != nil {
		return EventResult{}, err
	}
	return EventResult{ProcessID: w.in.ProcessID, Status: p.status, Actual: w.consumed, Position: p.position}, nil
}

// consume settles the budget once the event is held: the arrangements'
// recorded costs are consumed from the line and the rest of the
// reservation released in one append (ConsumeBudget); with no recorded
// cost the whole reservation is released. An actual above the reservation
// reserves the difference first. The costs are final then: revocation
// closes at the hold step, and the minutes review has no bearing on them.
func (w *event) consume(ctx workflow.Context) error {
	if w.actual <= 0 {
		return w.budget.release(ctx, "the event was held with no recorded cost", true)
	}
	res, err := w.budget.consume(ctx, w.actual, w.in.ProcessID+" 活动费用", "system", "")
	if err != nil || !res.Planned {
		return err
	}
	w.consumed = res.Consumed
	return w.p.record(ctx, "system", "", houqin.EventBudgetConsumed{Line: res.Line, Actual: res.Consumed, Released: res.Released,
		Currency: w.in.Request.CurrencyOrDefault()})
}

// stop ends an event its organiser withdrew (under approval) or revoked
// (cancelled before it was held), releasing the reservation.
func (w *event) stop(ctx workflow.Context) (EventResult, error) {
	reason := "the organiser withdrew the event"
	if w.p.stopping != nil && w.p.stopping.Action == houqin.ActionRevoke {
		reason = "the organiser cancelled the event before it was held"
	}
	if err := w.p.stop(ctx); err != nil {
		return EventResult{}, err
	}
	if w.actual > 0 && workflow.GetVersion(ctx, "revoked-costs", workflow.DefaultVersion, revokedCosts) == revokedCosts {
		// Money already spent on arrangements (a venue's deposit) is
		// spent whether or not the event takes place.
		if err := w.consume(ctx); err != nil {
			return EventResult{}, err
		}
		return w.finish(ctx)
	}
	if err := w.budget.release(ctx, reason, true); err != nil {
		return EventResult{}, err
	}
	return w.finish(ctx)
}

// revokedCosts is the version of the Event workflow that consumes the
// costs recorded on arrangements when the event is revoked before it is
// held, releasing the rest; before it, the whole reservation went back.
const revokedCosts = 1

func (w *event) state() (State, error) {
	return State{ProcessID: w.in.ProcessID, Status: w.p.status, Tasks: w.p.tasks(), Outstanding: []houqin.ItemQuantity{},
		Version: w.p.version, Position: w.p.position}, nil
}
