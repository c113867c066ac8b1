package houqin

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// KindSurvey is the kind of a satisfaction survey (满意度调查): a small
// process sent after a completed service, or to every employee by a
// quarterly campaign. It needs no approval.
const KindSurvey ProcessKind = "survey"

// The score a survey answer takes, and the least score that counts as
// satisfied.
const (
	SurveyMinScore       = 1
	SurveyMaxScore       = 5
	SurveySatisfiedScore = 4 // a score of 4 or 5 is satisfied
)

// SurveyStream returns the stream of one survey, "survey-SV-PR-2026-000001".
func SurveyStream(id string) string { return "survey-" + id }

// SurveyIDFor returns the ID of the survey about a service process: one
// survey per service, "SV-PR-2026-000001".
func SurveyIDFor(serviceID string) string { return "SV-" + serviceID }

// SurveyIDInCampaign returns the ID of a campaign's survey of one
// employee, "SV-SC-2026-Q4-wang.fang".
func SurveyIDInCampaign(campaignID, userID string) string { return "SV-" + campaignID + "-" + userID }

// CampaignStream returns the stream of a survey campaign,
// "surveycampaign-SC-2026-Q4".
func CampaignStream(id string) string { return "surveycampaign-" + id }

// CampaignID returns the ID of the campaign of a quarter "2026-Q4":
// "SC-2026-Q4". It returns EINVALID naming the field "quarter" otherwise.
func CampaignID(quarter string) (string, error) {
	var y, q int
	if n, err := fmt.Sscanf(quarter, "%4d-Q%1d", &y, &q); err != nil || n != 2 || q < 1 || q > 4 || len(quarter) != 7 || y < 2000 {
		return "", Errorf(EINVALID, "quarter: must look like 2026-Q4, got %q", quarter)
	}
	return "SC-" + quarter, nil
}

// SurveyService is what a survey asks about: a completed service process,
// or for a campaign the department's service as a whole.
type SurveyService struct {
	ID         string      `json:"id"`         // the service process ("PR-2026-000001") or the campaign ("SC-2026-Q4")
	Kind       ProcessKind `json:"kind"`       // procurement, trip, event, inspection…; "campaign" for a campaign
	Department string      `json:"department"` // the department served: the respondent's
	Title      string      `json:"title,omitempty"`
}

// ServiceCampaign is SurveyService.Kind of a campaign's surveys.
const ServiceCampaign ProcessKind = "campaign"

// SurveyAnswer is the data of the respondent's complete action.
type SurveyAnswer struct {
	Score   int    `json:"score"` // 1–5
	Comment string `json:"comment,omitempty"`
}

// Validate checks an answer: the score is 1 to 5 and the comment at most
// 2,000 characters.
func (a SurveyAnswer) Validate() error {
	switch {
	case a.Score < SurveyMinScore || a.Score > SurveyMaxScore:
		return Errorf(EINVALID, "score: must be %d to %d, got %d", SurveyMinScore, SurveyMaxScore, a.Score)
	case utf8.RuneCountInString(a.Comment) > 2000:
		return Errorf(EINVALID, "comment: longer than 2000 characters")
	}
	return nil
}

// Satisfied reports whether the answer counts as satisfied (score ≥ 4).
func (a SurveyAnswer) Satisfied() bool { return a.Score >= SurveySatisfiedScore }

// SurveySent records that a survey went to its respondent: the first event
// of the survey's stream. Requester is the respondent, so the survey reads
// as theirs in the process list.
type SurveySent struct {
	ProcessID  string        `json:"process_id"` // the survey's ID
	Requester  string        `json:"requester"`  // = Respondent
	Respondent string        `json:"respondent"`
	Service    SurveyService `json:"service"`
	Campaign   string        `json:"campaign,omitempty"` // the campaign ID, if sent by one
}

// EventType implements EventData.
func (SurveySent) EventType() string { return "survey.sent" }

// SurveyAnswered records the respondent's answer.
type SurveyAnswered struct {
	Respondent string `json:"respondent"`
	Score      int    `json:"score"`
	Comment    string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (SurveyAnswered) EventType() string { return "survey.answered" }

// SurveyReminded records the reminder sent to a respondent who has not
// answered yet.
type SurveyReminded struct {
	Respondent string `json:"respondent"`
}

// EventType implements EventData.
func (SurveyReminded) EventType() string { return "survey.reminded" }

// SurveyClosed ends a survey: answered, or closed unanswered when its time
// ran out ("expired").
type SurveyClosed struct {
	Answered bool   `json:"answered"`
	Reason   string `json:"reason"` // answered | expired
}

// EventType implements EventData.
func (SurveyClosed) EventType() string { return "survey.closed" }

// SurveyCampaignStarted records a quarterly campaign: one survey to each
// respondent.
type SurveyCampaignStarted struct {
	CampaignID  string   `json:"campaign_id"`
	Quarter     string   `json:"quarter"`
	Title       Text     `json:"title"`
	By          string   `json:"by"`
	Respondents []string `json:"respondents"`
}

// EventType implements EventData.
func (SurveyCampaignStarted) EventType() string { return "survey.campaign_started" }

// ServiceKinds are the process kinds whose completion is a service worth a
// survey: trips, events, procurement deliveries and remediations
// (inspections).
var ServiceKinds = []ProcessKind{KindProcurement, KindTrip, KindEvent, KindInspection}

// IsService reports whether a completed process of kind k gets a survey.
func IsService(k ProcessKind) bool {
	for _, s := range ServiceKinds {
		if s == k {
			return true
		}
	}
	return false
}

// validSurveyID reports whether id can be a survey's ID.
func validSurveyID(id string) bool { return strings.HasPrefix(id, "SV-") && len(id) > 3 }

// ValidSurveyID returns EINVALID naming the field unless id looks like a
// survey ID ("SV-…").
func ValidSurveyID(field, id string) error {
	if !validSurveyID(id) {
		return Errorf(EINVALID, "%s: must start with SV-, got %q", field, id)
	}
	return nil
}

func init() {
	RegisterEventType(SurveySent{})
	RegisterEventType(SurveyAnswered{})
	RegisterEventType(SurveyReminded{})
	RegisterEventType(SurveyClosed{})
	RegisterEventType(SurveyCampaignStarted{})
}
