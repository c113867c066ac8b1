package worker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// SurveyTrigger sends a satisfaction survey after each completed service
// (houqin.ServiceKinds): when "<kind>.completed" appears in the log it
// starts the Survey workflow SV-<process ID> for the process's requester,
// or for its subject if the first event names one (a trip's traveller,
// whoever submitted the trip).
//
// It runs as a projection in a Runner of its own, so its checkpoint sits in
// the read-model database and it resumes where it stopped; the procurement
// workflow itself is unchanged. Starting is idempotent — the workflow ID is
// derived from the service and duplicates are refused — so a batch applied
// twice after a crash sends nothing twice. A service whose survey stream
// already exists, or that completed more than MaxAge ago (a rebuild over an
// old log), gets no new survey.
type SurveyTrigger struct {
	Store    houqin.EventStore
	Temporal client.Client
	Org      *houqin.Org // nil: everyone is asked; else the logistics staff are not (Org.ServesLogistics)
	Config   houqin.SurveyConfig
	Now      func() time.Time
	Logger   *slog.Logger
}

var _ projections.Projection = (*SurveyTrigger)(nil)

// Name implements projections.Projection.
func (*SurveyTrigger) Name() string { return "survey_trigger" }

// Version implements projections.Projection.
func (*SurveyTrigger) Version() int { return 1 }

// Setup implements projections.Projection: the trigger has no tables.
func (*SurveyTrigger) Setup(context.Context, *sql.Tx) error { return nil }

// Reset implements projections.Projection.
func (*SurveyTrigger) Reset(context.Context, *sql.Tx) error { return nil }

// Apply implements projections.Projection.
func (t *SurveyTrigger) Apply(ctx context.Context, _ *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		kind, verb, _ := strings.Cut(e.Type, ".")
		if verb != "completed" || !houqin.IsService(houqin.ProcessKind(kind)) || houqin.Category(e.Stream) != kind {
			continue
		}
		if err := t.send(ctx, houqin.ProcessKind(kind), e); err != nil {
			return err
		}
	}
	return nil
}

// serviceStart is what the first event of a service process tells.
type serviceStart struct {
	ProcessID string `json:"process_id"`
	Requester string `json:"requester"`
	Subject   string `json:"subject"` // whom the service is for, if not the requester
	Request   struct {
		Department string `json:"department"`
		Reason     string `json:"reason"`
		Purpose    string `json:"purpose"`
		Title      string `json:"title"`
	} `json:"request"`
}

func (t *SurveyTrigger) send(ctx context.Context, kind houqin.ProcessKind, done houqin.Event) error {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	log := t.Logger
	if log == nil {
		log = slog.Default()
	}
	at := done.Meta.OccurredAt
	if at.IsZero() {
		at = done.RecordedAt
	}
	if max := t.Config.MaxAge.D(); max > 0 && now().Sub(at) > max {
		return nil
	}
	processID := strings.TrimPrefix(done.Stream, string(kind)+"-")
	sid := houqin.SurveyIDFor(processID)
	if existing, err := t.Store.ReadStream(ctx, houqin.SurveyStream(sid), 0, houqin.Forward, 1); err != nil {
		return err
	} else if len(existing) > 0 {
		return nil
	}
	first, err := t.Store.ReadStream(ctx, done.Stream, 0, houqin.Forward, 1)
	if err != nil {
		return err
	}
	if len(first) == 0 {
		return nil
	}
	var s serviceStart
	if err := json.Unmarshal(first[0].Data, &s); err != nil {
		return fmt.Errorf("survey for %s: %w", processID, err)
	}
	respondent := s.Requester
	if s.Subject != "" {
		respondent = s.Subject
	}
	if respondent == "" {
		return nil
	}
	if t.Org != nil && t.Org.ServesLogistics(respondent) {
		log.Info("no survey: the respondent serves logistics and would rate their own service", "service", processID, "respondent", respondent)
		return nil
	}
	title := s.Request.Title
	for _, v := range []string{s.Request.Reason, s.Request.Purpose} {
		if title == "" {
			title = v
		}
	}
	in := workflows.SurveyInput{SurveyID: sid, Respondent: respondent,
		Service:     houqin.SurveyService{ID: processID, Kind: kind, Department: s.Request.Department, Title: title},
		RemindAfter: t.Config.RemindAfter.D(), CloseAfter: t.Config.CloseAfter.D()}
	_, err = t.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: sid, TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.Survey, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start survey %s: %w", sid, err)
	}
	log.Info("survey sent", "survey_id", sid, "respondent", respondent, "service", processID)
	return nil
}
