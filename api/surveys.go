package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// campaignRoles may start a quarterly survey campaign.
var campaignRoles = []string{"logistics_manager", "admin"}

// campaignBody is the body of POST /v1/surveys/campaigns.
type campaignBody struct {
	Quarter string       `json:"quarter"` // "2026-Q4"
	Title   *houqin.Text `json:"title,omitempty"`
}

// campaignStarted is the answer: the campaign and its surveys.
type campaignStarted struct {
	CampaignID string   `json:"campaign_id"`
	Surveys    []string `json:"surveys"`
	Position   int64    `json:"position"`
}

// startCampaign starts a quarter's satisfaction campaign (POST
// /v1/surveys/campaigns): a survey.campaign_started event, then one Survey
// workflow per employee (every user of an internal department who has not
// left, except system administrators). One campaign per quarter: a repeated request starts the
// surveys a failed one may have missed and answers with the same campaign.
func (s *Server) startCampaign(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	var b campaignBody
	err := decode(r, &b)
	if err == nil && !hasAnyRole(who, campaignRoles) {
		err = houqin.Errorf(houqin.EFORBIDDEN, "only the logistics manager and admins start survey campaigns")
	}
	var id string
	if err == nil {
		id, err = houqin.CampaignID(b.Quarter)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	title := houqin.Text{Zh: b.Quarter + " 后勤服务满意度调查", En: b.Quarter + " logistics service satisfaction survey"}
	if b.Title != nil {
		title = *b.Title
	}
	var respondents []string
	for _, u := range s.cfg.Org.Users() {
		if !u.External && !u.Left && !slices.Contains(u.Roles, "admin") && !s.cfg.Org.ServesLogistics(u.ID) {
			respondents = append(respondents, u.ID)
		}
	}
	slices.Sort(respondents)
	e, err := houqin.NewEvent(houqin.EventID("survey.campaign_started", id), houqin.SurveyCampaignStarted{
		CampaignID: id, Quarter: b.Quarter, Title: title, By: who.UserID, Respondents: respondents},
		houqin.Metadata{Actor: who.UserID, CorrelationID: id, OccurredAt: s.cfg.Now()})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	status := http.StatusCreated
	stored, err := s.cfg.Store.Append(r.Context(), houqin.CampaignStream(id), houqin.ExpectNoStream, e)
	if houqin.ErrorCode(err) == houqin.ECONFLICT {
		// Started before: resume it with the respondents it was started for.
		stored, err = s.cfg.Store.ReadStream(r.Context(), houqin.CampaignStream(id), 0, houqin.Forward, 1)
		if err == nil && len(stored) == 1 {
			var prev *houqin.SurveyCampaignStarted
			d, derr := stored[0].Decode()
			prev, _ = d.(*houqin.SurveyCampaignStarted)
			if derr != nil || prev == nil {
				err = errors.Join(derr, houqin.Errorf(houqin.EINTERNAL, "campaign %s: unexpected first event", id))
			} else {
				respondents, status = prev.Respondents, http.StatusOK
			}
		}
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	cfg := s.kpiConfig().Survey
	out := campaignStarted{CampaignID: id, Surveys: []string{}, Position: stored[len(stored)-1].Position}
	for _, u := range respondents {
		user, uerr := s.cfg.Org.User(u)
		if uerr != nil {
			continue // left the organisation since
		}
		sid := houqin.SurveyIDInCampaign(id, u)
		in := workflows.SurveyInput{SurveyID: sid, Respondent: u, Campaign: id,
			Service:     houqin.SurveyService{ID: id, Kind: houqin.ServiceCampaign, Department: user.Department, Title: title.Zh},
			RemindAfter: cfg.RemindAfter.D(), CloseAfter: cfg.CloseAfter.D()}
		_, err := s.cfg.Temporal.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{
			ID: sid, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		}, workflows.Survey, in)
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if err != nil && !errors.As(err, &started) {
			s.problems.Error(w, r, err)
			return
		}
		out.Surveys = append(out.Surveys, sid)
	}
	writeJSON(w, status, out)
}
