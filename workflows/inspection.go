package workflows

import (
	"encoding/json"
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

// The steps of an inspection and of a finding.
const (
	StepRecord    = "record"    // the inspector records the checklist
	StepRemediate = "remediate" // the owners fix a finding (整改)
	StepVerify    = "verify"    // the inspector verifies the fix
)

// InspectionID returns the ID of the seq-th inspection of a year,
// "IN-2026-000001"; it is also the workflow ID.
func InspectionID(year int, seq int64) string { return fmt.Sprintf("IN-%04d-%06d", year, seq) }

var inspectionID = regexp.MustCompile(`^IN-[0-9]{4}-[0-9]{6,}$`)

// InspectionInput starts an inspection (安全检查). Everything it decides by
// is resolved at the start: the checklist, who owns each category of
// finding, how long each severity may take.
type InspectionInput struct {
	ProcessID  string                     `json:"process_id"`
	Requester  string                     `json:"requester"`
	Request    houqin.InspectionRequest   `json:"request"`
	Checklist  houqin.Checklist           `json:"checklist"`
	Adhoc      bool                       `json:"adhoc"` // started by a person, not a schedule
	Policy     houqin.KindPolicy          `json:"policy"`
	PolicyHash string                     `json:"policy_hash"`
	Owners     map[string][]string        `json:"owners"`   // category → users who remediate its findings
	Due        map[string]houqin.Duration `json:"due"`      // severity → time to remediate
	Escalate   []string                   `json:"escalate"` // users added to an overdue finding besides the owners' managers (security)
	RecordSLA  houqin.Duration            `json:"record_sla"`
}

// InspectionResult is how an inspection ended.
type InspectionResult struct {
	ProcessID string        `json:"process_id"`
	Status    houqin.Status `json:"status"`
	Findings  int           `json:"findings"`
	Position  int64         `json:"position"`
}

func (in InspectionInput) validate(workflowID string) error {
	switch {
	case !inspectionID.MatchString(in.ProcessID):
		return houqin.Errorf(houqin.EINVALID, "process_id: must look like IN-2026-000001, got %q", in.ProcessID)
	case in.ProcessID != workflowID:
		return houqin.Errorf(houqin.EINVALID, "process_id: %q is not the workflow ID %q", in.ProcessID, workflowID)
	case strings.TrimSpace(in.Requester) == "":
		return houqin.Errorf(houqin.EINVALID, "requester: required")
	case len(in.Checklist.Items) == 0:
		return houqin.Errorf(houqin.EINVALID, "checklist: no items")
	case in.Policy.Kind != houqin.KindInspection || in.PolicyHash != in.Policy.Hash():
		return houqin.Errorf(houqin.EINVALID, "policy: an inspection policy and its hash are required")
	}
	for _, it := range in.Checklist.Items {
		if len(in.Owners[it.Category]) == 0 {
			return houqin.Errorf(houqin.EINVALID, "owners: nobody remediates category %q", it.Category)
		}
	}
	for _, s := range houqin.Severities {
		if in.Due[s] <= 0 {
			return houqin.Errorf(houqin.EINVALID, "due.%s: required", s)
		}
	}
	if err := in.Request.Validate(); err != nil {
		return houqin.Errorf(houqin.EINVALID, "request.%s", houqin.ErrorMessage(err))
	}
	return nil
}

// Inspection runs one inspection (安全检查 → 整改): the approval route of
// its policy (an ad hoc inspection is reviewed by security), the
// inspector's checklist, then one Finding child workflow per failed item,
// and it completes when every finding is closed. On its stream:
//
//	inspection.requested, [approval…], inspection.approved | inspection.rejected (end)
//	task.opened(record), task.completed, inspection.recorded, inspection.finding_opened…
//	inspection.finding_closed… (as each finding closes), inspection.completed
func Inspection(ctx workflow.Context, in InspectionInput) (InspectionResult, error) {
	if err := in.validate(workflow.GetInfo(ctx).WorkflowExecution.ID); err != nil {
		return InspectionResult{}, badInput(err)
	}
	p, err := newProcess(ctx, houqin.KindInspection, in.ProcessID, houqin.InspectionStream(in.ProcessID), in.Requester, in.Policy, in.PolicyHash)
	if err != nil {
		return InspectionResult{}, err
	}
	w := &inspection{in: in, p: p}
	if err := workflow.SetQueryHandler(ctx, QueryState, w.state); err != nil {
		return InspectionResult{}, err
	}
	res, err := w.run(ctx)
	return endRun(ctx, p, res, err, w.finish)
}

type inspection struct {
	in       InspectionInput
	p        *process
	findings int
}

func (w *inspection) run(ctx workflow.Context) (InspectionResult, error) {
	p, in := w.p, w.in
	if err := p.record(ctx, in.Requester, "", houqin.NewInspectionRequested(in.ProcessID, in.Requester, in.Request, in.Checklist, in.Adhoc)); err != nil {
		return InspectionResult{}, err
	}
	rt := route{
		policy: in.Policy,
		facts:  func() houqin.Facts { return in.Request.Facts(in.Requester, in.Adhoc) },
		checkAmend: func(json.RawMessage) error {
			return houqin.Errorf(houqin.EINVALID, "data: an inspection is resubmitted as it is; withdraw it and start another to change it")
		},
	}
	rt.amend = rt.checkAmend
	if err := p.copy(ctx, rt, in.Policy.CC.Start, "start"); err != nil {
		return InspectionResult{}, err
	}
	v, err := p.approve(ctx, rt)
	if err != nil {
		return InspectionResult{}, err
	}
	if !v.Approved {
		p.status, p.phase = houqin.StatusRejected, phaseDone
		if err := p.record(ctx, v.By, v.cause, houqin.InspectionRejected{By: v.By, Comment: v.Comment}); err != nil {
			return InspectionResult{}, err
		}
		return w.finish(ctx)
	}
	p.phase = phaseWork
	if err := p.record(ctx, v.By, v.cause, houqin.InspectionApproved{By: v.By, Comment: v.Comment}); err != nil {
		return InspectionResult{}, err
	}

	// The inspector records the checklist.
	check := func(act houqin.TaskAction) error {
		var rec houqin.InspectionRecord
		if err := decodeData(act.Data, &rec); err != nil {
			return err
		}
		return inData(in.Checklist.CheckRecord(rec))
	}
	sla := in.RecordSLA.D()
	if sla <= 0 {
		sla = 48 * time.Hour
	}
	d, err := p.work(ctx, StepRecord, houqin.Text{Zh: "填写检查表", En: "Record the checklist"}, []string{in.Request.Inspector}, sla, check)
	if err != nil {
		return InspectionResult{}, err
	}
	var rec houqin.InspectionRecord
	if err := decodeData(d.Data, &rec); err != nil {
		return InspectionResult{}, err
	}
	var findings []houqin.Finding
	now := workflow.Now(ctx)
	for _, r := range rec.Results {
		if r.Result != houqin.ResultFail {
			continue
		}
		item, _ := in.Checklist.Item(r.Item)
		findings = append(findings, houqin.Finding{
			ID: fmt.Sprintf("%s-F%d", in.ProcessID, len(findings)+1), InspectionID: in.ProcessID,
			Item: r.Item, Text: item.Text, Category: item.Category, Severity: r.Severity, Note: r.Note, Photos: r.Photos,
			Owners: slices.Clone(in.Owners[item.Category]), DueAt: now.Add(in.Due[r.Severity].D()),
		})
	}
	err = p.record(ctx, d.Actor, d.updateID, houqin.InspectionRecorded{Inspector: d.Actor, Results: rec.Results, Summary: rec.Summary, Failed: len(findings)})
	if err != nil {
		return InspectionResult{}, err
	}
	for _, f := range findings {
		if err := p.record(ctx, "system", d.updateID, houqin.FindingOpened{Finding: f}); err != nil {
			return InspectionResult{}, err
		}
	}
	if err := p.flush(ctx); err != nil {
		return InspectionResult{}, err
	}
	w.findings = len(findings)

	// Each finding is its own workflow; the inspection closes with the last.
	sel := workflow.NewSelector(ctx)
	var failed error
	for _, f := range findings {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:        f.ID,
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		})
		fut := workflow.ExecuteChildWorkflow(cctx, Finding, FindingInput{Finding: f, Inspector: in.Request.Inspector,
			Escalate: in.Escalate, PolicyHash: in.PolicyHash})
		sel.AddFuture(fut, func(fu workflow.Future) {
			var res FindingResult
			if err := fu.Get(ctx, &res); err != nil {
				failed = fmt.Errorf("finding %s: %w", f.ID, err)
				return
			}
			_ = p.record(ctx, "system", "", houqin.FindingClosed{FindingID: f.ID, Rounds: res.Rounds})
		})
	}
	for range findings {
		sel.Select(ctx)
		if failed != nil {
			return InspectionResult{}, failed
		}
		if err := p.flush(ctx); err != nil {
			return InspectionResult{}, err
		}
	}
	p.status, p.phase = houqin.StatusCompleted, phaseDone
	if err := p.record(ctx, "system", "", houqin.InspectionCompleted{Findings: len(findings)}); err != nil {
		return InspectionResult{}, err
	}
	return w.finish(ctx)
}

// finish copies whom the policy names at the finish, stores what is
// pending and returns the result.
func (w *inspection) finish(ctx workflow.Context) (InspectionResult, error) {
	p := w.p
	if p.status == houqin.StatusCompleted || p.status == houqin.StatusRejected {
		rt := route{policy: w.in.Policy, facts: func() houqin.Facts { return w.in.Request.Facts(w.in.Requester, w.in.Adhoc) }}
		if err := p.copy(ctx, rt, w.in.Policy.CC.Finish, "finish"); err != nil {
			return InspectionResult{}, err
		}
	}
	if err := p.flush(ctx); err != nil {
		return InspectionResult{}, err
	}
	return InspectionResult{ProcessID: w.in.ProcessID, Status: p.status, Findings: w.findings, Position: p.position}, nil
}

func (w *inspection) state() (State, error) {
	return State{ProcessID: w.in.ProcessID, Status: w.p.status, Tasks: w.p.tasks(), Outstanding: []houqin.ItemQuantity{},
		Version: w.p.version, Position: w.p.position}, nil
}

// FindingInput starts the remediation of one finding (整改).
type FindingInput struct {
	Finding    houqin.Finding `json:"finding"`
	Inspector  string         `json:"inspector"`
	Escalate   []string       `json:"escalate"`
	PolicyHash string         `json:"policy_hash"`
}

// FindingResult is how a finding ended.
type FindingResult struct {
	Rounds int `json:"rounds"` // fixes reported until one passed verification
}

// Finding runs the remediation of one finding: the owners fix it and
// report, the inspector verifies; a failed verification reopens it. Past
// its due time the remediation task is escalated to the owners' managers
// and to security, once. Its workflow ID is the finding's ID; its stream
// is houqin.FindingStream(ID).
func Finding(ctx workflow.Context, in FindingInput) (FindingResult, error) {
	f := in.Finding
	p, err := newProcess(ctx, houqin.KindInspection, f.ID, houqin.FindingStream(f.ID), in.Inspector, houqin.KindPolicy{}, in.PolicyHash)
	if err != nil {
		return FindingResult{}, err
	}
	p.phase = phaseWork
	p.correlation = f.InspectionID
	w := &finding{in: in, p: p}
	if err := workflow.SetQueryHandler(ctx, QueryState, w.state); err != nil {
		return FindingResult{}, err
	}
	res, err := w.run(ctx)
	return res, p.ended(ctx, err)
}

type finding struct {
	in FindingInput
	p  *process
}

func (w *finding) run(ctx workflow.Context) (FindingResult, error) {
	p, f := w.p, w.in.Finding
	if err := p.record(ctx, "system", "", houqin.FindingAssigned{Finding: f}); err != nil {
		return FindingResult{}, err
	}
	escalated := false
	for round := 1; ; round++ {
		owners := make([]houqin.Assignee, len(f.Owners))
		for i, u := range f.Owners {
			owners[i] = houqin.Assignee{User: u, Rule: "owner of " + f.Category}
		}
		checkFix := func(act houqin.TaskAction) error {
			var r houqin.FixReport
			if err := decodeData(act.Data, &r); err != nil {
				return err
			}
			return inData(r.Check())
		}
		sla := max(f.DueAt.Sub(workflow.Now(ctx)), time.Hour)
		t := p.openTask(ctx, taskSpec{step: StepRemediate, name: houqin.Text{Zh: "整改", En: "Remediate"}, assignees: owners,
			actions: []string{houqin.ActionComplete, houqin.ActionTransfer, houqin.ActionComment, houqin.ActionRemind},
			sla:     sla, check: checkFix, timeout: !escalated})
		if err := p.flush(ctx); err != nil {
			return FindingResult{}, err
		}
		d, err := p.completion(ctx, t, func(ctx workflow.Context, fired *openTask) error {
			escalated = true
			return w.overdue(ctx, fired)
		})
		if err != nil {
			return FindingResult{}, err
		}
		var report houqin.FixReport
		if err := decodeData(d.Data, &report); err != nil {
			return FindingResult{}, err
		}
		if err := p.recordFor(ctx, d.Actor, d.onBehalfOf, d.updateID, houqin.FindingFixReported{FindingID: f.ID, By: d.Actor, Report: report, Round: round}); err != nil {
			return FindingResult{}, err
		}

		// The inspector verifies.
		checkVerify := func(act houqin.TaskAction) error {
			var v houqin.Verification
			if err := decodeData(act.Data, &v); err != nil {
				return err
			}
			if !v.Passed && strings.TrimSpace(v.Note) == "" {
				return houqin.Errorf(houqin.EINVALID, "data.note: say what is still wrong when a fix fails verification")
			}
			return nil
		}
		vt := p.openTask(ctx, taskSpec{step: StepVerify, name: houqin.Text{Zh: "整改验收", En: "Verify the fix"},
			assignees: []houqin.Assignee{{User: w.in.Inspector, Rule: "inspector"}}, forRequester: true,
			actions: []string{houqin.ActionComplete, houqin.ActionComment}, sla: 3 * 24 * time.Hour, check: checkVerify})
		if err := p.flush(ctx); err != nil {
			return FindingResult{}, err
		}
		vd, err := p.completion(ctx, vt, nil)
		if err != nil {
			return FindingResult{}, err
		}
		var v houqin.Verification
		if err := decodeData(vd.Data, &v); err != nil {
			return FindingResult{}, err
		}
		if err := p.record(ctx, vd.Actor, vd.updateID, houqin.FindingVerified{FindingID: f.ID, By: vd.Actor, Passed: v.Passed, Note: v.Note, Round: round}); err != nil {
			return FindingResult{}, err
		}
		if v.Passed {
			p.status, p.phase = houqin.StatusCompleted, phaseDone
			if err := p.record(ctx, "system", vd.updateID, houqin.FindingResolved{FindingID: f.ID, Rounds: round}); err != nil {
				return FindingResult{}, err
			}
			if err := p.flush(ctx); err != nil {
				return FindingResult{}, err
			}
			return FindingResult{Rounds: round}, nil
		}
		if err := p.record(ctx, "system", vd.updateID, houqin.FindingReopened{FindingID: f.ID, Round: round + 1}); err != nil {
			return FindingResult{}, err
		}
	}
}

// overdue escalates a remediation past its due time: the owners' managers
// and security join the task.
func (w *finding) overdue(ctx workflow.Context, t *openTask) error {
	p := w.p
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
	p.log.Info("Finding overdue", "finding", w.in.Finding.ID, "added", added)
	if err := p.record(ctx, "system", "", houqin.FindingOverdue{FindingID: w.in.Finding.ID, Added: added}); err != nil {
		return err
	}
	if err := p.record(ctx, "system", "", houqin.TaskEscalated{TaskID: t.task.ID, Added: added,
		Assignees: slices.Clone(t.task.Assignees), DueAt: t.task.DueAt, Reason: "the finding passed its due time"}); err != nil {
		return err
	}
	return p.flush(ctx)
}

func (w *finding) state() (State, error) {
	return State{ProcessID: w.in.Finding.ID, Status: w.p.status, Tasks: w.p.tasks(), Outstanding: []houqin.ItemQuantity{},
		Version: w.p.version, Position: w.p.position}, nil
}
