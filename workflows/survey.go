package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/workflow"
)

// StepRespond is the one step of a survey: the respondent's answer.
const StepRespond = "respond"

// SurveyInput starts a survey.
type SurveyInput struct {
	SurveyID   string               `json:"survey_id"` // "" means the workflow ID
	Respondent string               `json:"respondent"`
	Service    houqin.SurveyService `json:"service"`
	Campaign   string               `json:"campaign,omitempty"`
	// RemindAfter and CloseAfter count from sending: the respondent is
	// reminded once, then the survey closes unanswered.
	RemindAfter time.Duration `json:"remind_after"`
	CloseAfter  time.Duration `json:"close_after"`
}

// SurveyResult is how a survey ended.
type SurveyResult struct {
	SurveyID string        `json:"survey_id"`
	Status   houqin.Status `json:"status"` // completed, answered or not
	Answered bool          `json:"answered"`
	Score    int           `json:"score,omitempty"`
	Position int64         `json:"position"`
}

// Survey sends a satisfaction survey (满意度调查) to its respondent: a task
// whose complete action takes {score 1–5, comment}; a reminder at
// RemindAfter; at CloseAfter the survey closes unanswered. It appends, on
// stream houqin.SurveyStream(ID):
//
//	survey.sent, task.opened(respond)
//	[task.reminded, survey.reminded]                                  (unanswered at RemindAfter)
//	task.completed, survey.answered, survey.closed{answered}          (or: task.cancelled, survey.closed{expired})
//
// The respondent is the survey's requester (it is theirs), so nobody can
// withdraw or revoke it.
func Survey(ctx workflow.Context, in SurveyInput) (SurveyResult, error) {
	wid := workflow.GetInfo(ctx).WorkflowExecution.ID
	if in.SurveyID == "" {
		in.SurveyID = wid
	}
	if err := in.validate(wid); err != nil {
		return SurveyResult{}, badInput(err)
	}
	p, err := newProcess(ctx, houqin.KindSurvey, in.SurveyID, houqin.SurveyStream(in.SurveyID), in.Respondent,
		houqin.KindPolicy{Kind: houqin.KindSurvey}, "")
	if err != nil {
		return SurveyResult{}, err
	}
	p.phase = phaseWork // not an approval: nothing to withdraw
	s := &survey{in: in, p: p}
	if err := workflow.SetQueryHandler(ctx, QueryState, s.state); err != nil {
		return SurveyResult{}, err
	}
	res, err := s.run(ctx)
	return res, p.ended(ctx, err)
}

func (in SurveyInput) validate(workflowID string) error {
	switch {
	case !strings.HasPrefix(in.SurveyID, "SV-"):
		return houqin.Errorf(houqin.EINVALID, "survey_id: must start with SV-, got %q", in.SurveyID)
	case in.SurveyID != workflowID:
		return houqin.Errorf(houqin.EINVALID, "survey_id: %q is not the workflow ID %q", in.SurveyID, workflowID)
	case strings.TrimSpace(in.Respondent) == "":
		return houqin.Errorf(houqin.EINVALID, "respondent: required")
	case in.Service.Kind == "":
		return houqin.Errorf(houqin.EINVALID, "service.kind: required")
	case in.RemindAfter <= 0 || in.CloseAfter <= in.RemindAfter:
		return houqin.Errorf(houqin.EINVALID, "remind_after: must be positive and before close_after (%s), got %s", in.CloseAfter, in.RemindAfter)
	}
	return nil
}

// survey is one running survey.
type survey struct {
	in SurveyInput
	p  *process
}

func (s *survey) run(ctx workflow.Context) (SurveyResult, error) {
	p, in := s.p, s.in
	if err := p.record(ctx, in.Respondent, "", houqin.SurveySent{ProcessID: in.SurveyID, Requester: in.Respondent,
		Respondent: in.Respondent, Service: in.Service, Campaign: in.Campaign}); err != nil {
		return SurveyResult{}, err
	}
	check := func(act houqin.TaskAction) error {
		var a houqin.SurveyAnswer
		if err := decodeData(act.Data, &a); err != nil {
			return err
		}
		return inData(a.Validate())
	}
	// The reminder is the task's "escalate" deadline: p.next hands it
	// back to us, and we record the survey's own reminder with it.
	t := p.openTask(ctx, taskSpec{step: StepRespond,
		name:      houqin.Text{Zh: "填写满意度调查", En: "Answer the satisfaction survey"},
		assignees: []houqin.Assignee{{User: in.Respondent, Rule: "respondent"}},
		actions:   []string{houqin.ActionComplete, houqin.ActionComment},
		sla:       in.CloseAfter, check: check, forRequester: true, escalate: in.RemindAfter, timeout: true})
	if err := p.flush(ctx); err != nil {
		return SurveyResult{}, err
	}
	for {
		d, fired, what, err := p.next(ctx)
		if errors.Is(err, errStopped) {
			// Not reachable: a survey's phase refuses withdraw and revoke.
			return SurveyResult{}, fmt.Errorf("survey %s: %w", in.SurveyID, err)
		}
		if err != nil {
			return SurveyResult{}, err
		}
		switch {
		case d != nil && d.Action == houqin.ActionComplete:
			var a houqin.SurveyAnswer
			if err := decodeData(d.Data, &a); err != nil {
				return SurveyResult{}, err
			}
			p.status, p.phase = houqin.StatusCompleted, phaseDone
			if err := p.complete(ctx, t, d); err != nil {
				return SurveyResult{}, err
			}
			if err := p.record(ctx, d.Actor, d.updateID, houqin.SurveyAnswered{Respondent: d.Actor, Score: a.Score, Comment: a.Comment}); err != nil {
				return SurveyResult{}, err
			}
			if err := p.record(ctx, "system", d.updateID, houqin.SurveyClosed{Answered: true, Reason: "answered"}); err != nil {
				return SurveyResult{}, err
			}
			if err := p.flush(ctx); err != nil {
				return SurveyResult{}, err
			}
			p.log.Info("Survey answered", "score", a.Score)
			return SurveyResult{SurveyID: in.SurveyID, Status: p.status, Answered: true, Score: a.Score, Position: p.position}, nil
		case d != nil:
			p.notAllowed(d)
		case what == "escalate":
			if err := p.record(ctx, "system", "", houqin.TaskReminded{TaskID: fired.task.ID, By: "system", Assignees: fired.task.Assignees}); err != nil {
				return SurveyResult{}, err
			}
			if err := p.record(ctx, "system", "", houqin.SurveyReminded{Respondent: in.Respondent}); err != nil {
				return SurveyResult{}, err
			}
			if err := p.flush(ctx); err != nil {
				return SurveyResult{}, err
			}
		case what == "timeout":
			p.status, p.phase = houqin.StatusCompleted, phaseDone
			if err := p.cancel(ctx, fired, "the survey closed unanswered"); err != nil {
				return SurveyResult{}, err
			}
			if err := p.record(ctx, "system", "", houqin.SurveyClosed{Answered: false, Reason: "expired"}); err != nil {
				return SurveyResult{}, err
			}
			if err := p.flush(ctx); err != nil {
				return SurveyResult{}, err
			}
			p.log.Info("Survey closed unanswered")
			return SurveyResult{SurveyID: in.SurveyID, Status: p.status, Position: p.position}, nil
		}
	}
}

func (s *survey) state() (State, error) {
	return State{ProcessID: s.in.SurveyID, Status: s.p.status, Tasks: s.p.tasks(), Outstanding: []houqin.ItemQuantity{},
		Version: s.p.version, Position: s.p.position}, nil
}
