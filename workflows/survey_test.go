package workflows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
)

const sid = "SV-PR-2026-000001"

func surveyInput() workflows.SurveyInput {
	return workflows.SurveyInput{SurveyID: sid, Respondent: "wang.fang",
		Service:     houqin.SurveyService{ID: pid, Kind: houqin.KindProcurement, Department: "MKT"},
		RemindAfter: 72 * time.Hour, CloseAfter: 7 * 24 * time.Hour}
}

// runSurvey runs the Survey workflow in the test environment (time
// skipped) and returns its result, error and stream, each event as
// "<type>@<offset from start>".
func runSurvey(t *testing.T, h *harness, in workflows.SurveyInput) (workflows.SurveyResult, error, []string) {
	t.Helper()
	h.env.RegisterWorkflow(workflows.Survey)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: sid})
	h.env.ExecuteWorkflow(workflows.Survey, in)
	if !h.env.IsWorkflowCompleted() {
		t.Fatal("survey did not complete")
	}
	var res workflows.SurveyResult
	err := h.env.GetWorkflowError()
	if err == nil {
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
	}
	var log []string
	for _, e := range storetest.MustReadStream(t, h.store, houqin.SurveyStream(sid)) {
		log = append(log, fmt.Sprintf("%s@%s", e.Type, e.Meta.OccurredAt.Sub(start)))
	}
	return res, err, log
}

func answer(score int, comment string) map[string]any {
	return map[string]any{"score": score, "comment": comment}
}

// TestSurveyAnswered: the respondent answers the next day; nobody else
// may, and a score outside 1–5 is refused before it enters the history.
func TestSurveyAnswered(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	other := h.act(time.Hour, sid+".respond.1", houqin.ActionComplete, "liu.yang", "", answer(5, ""))
	bad := h.act(2*time.Hour, sid+".respond.1", houqin.ActionComplete, "wang.fang", "", answer(6, ""))
	ok := h.act(24*time.Hour, sid+".respond.1", houqin.ActionComplete, "wang.fang", "", answer(4, "及时"))
	res, err, log := runSurvey(t, h, surveyInput())
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, other, houqin.EFORBIDDEN, `"liu.yang" is not an assignee`)
	wantCode(t, bad, houqin.EINVALID, "data.score: must be 1 to 5, got 6")
	wantDone(t, ok)
	if want := (workflows.SurveyResult{SurveyID: sid, Status: houqin.StatusCompleted, Answered: true, Score: 4, Position: res.Position}); res != want || res.Position == 0 {
		t.Errorf("result %+v, want %+v", res, want)
	}
	want := []string{"survey.sent@0s", "task.opened@0s", "task.completed@24h0m0s", "survey.answered@24h0m0s", "survey.closed@24h0m0s"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
	events := storetest.MustReadStream(t, h.store, houqin.SurveyStream(sid))
	if a := decode[*houqin.SurveyAnswered](t, events[3]); a.Score != 4 || a.Comment != "及时" || a.Respondent != "wang.fang" {
		t.Errorf("answer %+v", a)
	}
	if s := decode[*houqin.SurveySent](t, events[0]); s.Service.ID != pid || s.Requester != "wang.fang" {
		t.Errorf("sent %+v", s)
	}
	if o := decode[*houqin.TaskOpened](t, events[1]); o.Task.DueAt != start.Add(7*24*time.Hour) || o.Task.Kind != houqin.KindSurvey {
		t.Errorf("task %+v", o.Task)
	}
}

// TestSurveyRemindedThenAnswered: unanswered after three days, the
// respondent is reminded, then answers on day four.
func TestSurveyRemindedThenAnswered(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	ok := h.act(96*time.Hour, sid+".respond.1", houqin.ActionComplete, "wang.fang", "", answer(2, "太慢"))
	res, err, log := runSurvey(t, h, surveyInput())
	if err != nil {
		t.Fatal(err)
	}
	wantDone(t, ok)
	if !res.Answered || res.Score != 2 {
		t.Errorf("result %+v", res)
	}
	want := []string{"survey.sent@0s", "task.opened@0s", "task.reminded@72h0m0s", "survey.reminded@72h0m0s",
		"task.completed@96h0m0s", "survey.answered@96h0m0s", "survey.closed@96h0m0s"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
}

// TestSurveyClosedUnanswered: reminded at three days, closed at seven; an
// answer after the close is refused.
func TestSurveyClosedUnanswered(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	res, err, log := runSurvey(t, h, surveyInput())
	if err != nil {
		t.Fatal(err)
	}
	if res.Answered || res.Status != houqin.StatusCompleted {
		t.Errorf("result %+v", res)
	}
	want := []string{"survey.sent@0s", "task.opened@0s", "task.reminded@72h0m0s", "survey.reminded@72h0m0s",
		"task.cancelled@168h0m0s", "survey.closed@168h0m0s"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
	events := storetest.MustReadStream(t, h.store, houqin.SurveyStream(sid))
	if c := decode[*houqin.SurveyClosed](t, events[5]); c.Answered || c.Reason != "expired" {
		t.Errorf("closed %+v", c)
	}
}

// TestSurveyInvalidInput fails the workflow with EINVALID naming the field.
func TestSurveyInvalidInput(t *testing.T) {
	in := surveyInput()
	in.RemindAfter = in.CloseAfter
	_, err, _ := runSurvey(t, newHarness(t, mustOpenStore(t)), in)
	if err == nil || !strings.Contains(err.Error(), "remind_after: must be positive and before close_after") {
		t.Errorf("err = %v", err)
	}
}
