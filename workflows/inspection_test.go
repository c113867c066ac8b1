package workflows_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

const iid = "IN-2026-000001"

func itask(step string, n int) string { return fmt.Sprintf("%s.%s.%d", iid, step, n) }

func ftask(f int, step string, n int) string { return fmt.Sprintf("%s-F%d.%s.%d", iid, f, step, n) }

// inspectionInput is an inspection of HQ 5F by li.na on the default fire
// checklist and policy, owners as the demo organisation has them.
func inspectionInput(t *testing.T, adhoc bool) workflows.InspectionInput {
	t.Helper()
	cls, err := houqin.ParseChecklists("checklists.yaml", config.DefaultChecklists())
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cls.Checklist("fire_safety_monthly")
	if err != nil {
		t.Fatal(err)
	}
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := p.Kind(houqin.KindInspection)
	if err != nil {
		t.Fatal(err)
	}
	return workflows.InspectionInput{
		ProcessID: iid, Requester: "zhang.wei", Adhoc: adhoc, Checklist: cl, Policy: kp, PolicyHash: kp.Hash(),
		Request: houqin.InspectionRequest{Template: "fire_safety_monthly", Location: "HQ 5F", Inspector: "li.na", ScheduledFor: "2026-12-01"},
		Owners: map[string][]string{"fire": {"wu.min"}, "security": {"wu.min"}, "electrical": {"zheng.hao"},
			"building": {"zheng.hao"}, "hygiene": {"zheng.hao"}},
		Due:      cls.Due,
		Escalate: []string{"wu.min"},
	}
}

// record is the checklist with extinguishers and exit signs failing.
func record(t *testing.T) []byte {
	t.Helper()
	rec := houqin.InspectionRecord{Summary: "5 楼两处问题"}
	for _, it := range inspectionInput(t, false).Checklist.Items {
		r := houqin.ItemResult{Item: it.ID, Result: houqin.ResultPass}
		switch it.ID {
		case "extinguishers":
			r = houqin.ItemResult{Item: it.ID, Result: houqin.ResultFail, Severity: houqin.SeverityHigh, Note: "两具灭火器压力不足", Photos: []string{"photo-501.jpg"}}
		case "exit_signs":
			r = houqin.ItemResult{Item: it.ID, Result: houqin.ResultFail, Severity: houqin.SeverityMedium, Note: "东侧疏散指示灯不亮"}
		}
		rec.Results = append(rec.Results, r)
	}
	return mustJSON(t, rec)
}

func newInspectionHarness(t *testing.T) *harness {
	h := newHarness(t, mustOpenStore(t))
	h.env.RegisterWorkflow(workflows.Inspection)
	h.env.RegisterWorkflow(workflows.Finding)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: iid})
	return h
}

func (h *harness) runInspection(in workflows.InspectionInput) (workflows.InspectionResult, error) {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.Inspection, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var res workflows.InspectionResult
	err := h.env.GetWorkflowError()
	if err == nil {
		if err := h.env.GetWorkflowResult(&res); err != nil {
			h.t.Fatal(err)
		}
	}
	return res, err
}

// streamLog returns the event types of a stream.
func streamLog(t *testing.T, h *harness, stream string) []string {
	t.Helper()
	return types(storetest.MustReadStream(t, h.store, stream))
}

func TestInspectionTwoFindingsOneReopened(t *testing.T) {
	h := newInspectionHarness(t)
	complete := func(d time.Duration, taskID, actor string, data any) *update {
		return h.do(d, houqin.TaskAction{TaskID: taskID, Action: houqin.ActionComplete, Actor: actor, Data: mustJSON(t, data)})
	}
	bad := h.do(time.Minute, houqin.TaskAction{TaskID: itask("record", 1), Action: houqin.ActionComplete, Actor: "li.na",
		Data: []byte(`{"results":[{"item":"extinguishers","result":"fail","note":"x"}]}`)})
	rec := h.do(2*time.Minute, houqin.TaskAction{TaskID: itask("record", 1), Action: houqin.ActionComplete, Actor: "li.na", Data: record(t)})
	fix1 := complete(time.Hour, ftask(1, "remediate", 1), "wu.min", houqin.FixReport{Note: "已更换两具灭火器", Photos: []string{"fix-1.jpg"}})
	notInspector := complete(2*time.Hour, ftask(1, "verify", 1), "wu.min", houqin.Verification{Passed: true})
	ok1 := complete(3*time.Hour, ftask(1, "verify", 1), "li.na", houqin.Verification{Passed: true, Note: "合格"})
	fix2 := complete(4*time.Hour, ftask(2, "remediate", 1), "zheng.hao", houqin.FixReport{Note: "已更换灯管"})
	noNote := complete(5*time.Hour, ftask(2, "verify", 1), "li.na", houqin.Verification{Passed: false})
	fail2 := complete(6*time.Hour, ftask(2, "verify", 1), "li.na", houqin.Verification{Passed: false, Note: "仍有一处不亮"})
	fix2b := complete(7*time.Hour, ftask(2, "remediate", 2), "zheng.hao", houqin.FixReport{Note: "更换整套应急灯"})
	ok2 := complete(8*time.Hour, ftask(2, "verify", 2), "li.na", houqin.Verification{Passed: true})
	res, err := h.runInspection(inspectionInput(t, false))
	if err != nil || res.Status != houqin.StatusCompleted || res.Findings != 2 {
		t.Fatalf("result %+v, %v; want completed with 2 findings", res, err)
	}
	wantCode(t, bad, houqin.EINVALID, "data.results[0].severity")
	wantCode(t, notInspector, houqin.EFORBIDDEN, "not an assignee")
	wantCode(t, noNote, houqin.EINVALID, "data.note")
	for _, u := range []*update{rec, fix1, ok1, fix2, fail2, fix2b, ok2} {
		wantDone(t, u)
	}
	want := []string{"inspection.requested", "approval.step_skipped", "inspection.approved", "task.opened",
		"task.completed", "inspection.recorded", "inspection.finding_opened", "inspection.finding_opened",
		"inspection.finding_closed", "inspection.finding_closed", "inspection.completed", "process.copied"}
	if got := streamLog(t, h, houqin.InspectionStream(iid)); !slices.Equal(got, want) {
		t.Errorf("inspection stream %q\nwant %q", got, want)
	}
	want2 := []string{"finding.assigned", "task.opened", "task.completed", "finding.fix_reported", "task.opened",
		"task.completed", "finding.verified", "finding.reopened", "task.opened", "task.completed", "finding.fix_reported",
		"task.opened", "task.completed", "finding.verified", "finding.resolved"}
	events := storetest.MustReadStream(t, h.store, houqin.FindingStream(iid+"-F2"))
	if got := types(events); !slices.Equal(got, want2) {
		t.Errorf("finding 2 stream %q\nwant %q", got, want2)
	}
	if err := houqin.Verify(events); err != nil {
		t.Error(err)
	}
	for _, e := range events {
		if e.Meta.CorrelationID != iid {
			t.Fatalf("%s@%d correlates with %q, want the inspection", e.Stream, e.Version, e.Meta.CorrelationID)
		}
	}
	f1 := decode[*houqin.FindingAssigned](t, storetest.MustReadStream(t, h.store, houqin.FindingStream(iid+"-F1"))[0]).Finding
	if f1.Category != "fire" || !slices.Equal(f1.Owners, []string{"wu.min"}) || !f1.DueAt.Equal(start.Add(2*time.Minute+72*time.Hour)) {
		t.Errorf("finding 1 = %+v", f1)
	}
}

func TestInspectionAdhocReviewedBySecurity(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		h := newInspectionHarness(t)
		rej := h.do(time.Minute, houqin.TaskAction{TaskID: itask("security_review", 1), Action: houqin.ActionReject, Actor: "wu.min", Comment: "本月已检查"})
		res, err := h.runInspection(inspectionInput(t, true))
		if err != nil || res.Status != houqin.StatusRejected {
			t.Fatalf("result %+v, %v; want rejected", res, err)
		}
		wantDone(t, rej)
		if got := streamLog(t, h, houqin.InspectionStream(iid)); !slices.Contains(got, "inspection.rejected") {
			t.Errorf("stream %q has no rejection", got)
		}
	})
	t.Run("withdrawn", func(t *testing.T) {
		h := newInspectionHarness(t)
		w := h.doProcess(time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "zhang.wei"})
		res, err := h.runInspection(inspectionInput(t, true))
		if err != nil || res.Status != houqin.StatusWithdrawn {
			t.Fatalf("result %+v, %v; want withdrawn", res, err)
		}
		wantDone(t, w)
	})
	t.Run("the review times out and approves", func(t *testing.T) {
		h := newInspectionHarness(t)
		h.cancelAt(30 * time.Hour)
		var state workflows.State
		h.at(25*time.Hour, func() { v, _ := h.env.QueryWorkflow(workflows.QueryState); v.Get(&state) })
		h.runInspection(inspectionInput(t, true))
		if len(state.Tasks) != 1 || state.Tasks[0].Step != workflows.StepRecord {
			t.Errorf("after 25h the open tasks are %+v, want the record task", state.Tasks)
		}
	})
}

func TestInspectionOverdueFindingEscalates(t *testing.T) {
	h := newInspectionHarness(t)
	h.do(time.Minute, houqin.TaskAction{TaskID: itask("record", 1), Action: houqin.ActionComplete, Actor: "li.na", Data: record(t)})
	h.do(time.Hour, houqin.TaskAction{TaskID: ftask(2, "remediate", 1), Action: houqin.ActionComplete, Actor: "zheng.hao", Data: mustJSON(t, houqin.FixReport{Note: "已修"})})
	h.do(2*time.Hour, houqin.TaskAction{TaskID: ftask(2, "verify", 1), Action: houqin.ActionComplete, Actor: "li.na", Data: mustJSON(t, houqin.Verification{Passed: true})})
	// Finding 1 (high: 3 days) is left alone until its manager steps in.
	boss := h.do(80*time.Hour, houqin.TaskAction{TaskID: ftask(1, "remediate", 1), Action: houqin.ActionComplete, Actor: "zhang.wei", Data: mustJSON(t, houqin.FixReport{Note: "已督促更换"})})
	h.do(81*time.Hour, houqin.TaskAction{TaskID: ftask(1, "verify", 1), Action: houqin.ActionComplete, Actor: "li.na", Data: mustJSON(t, houqin.Verification{Passed: true})})
	res, err := h.runInspection(inspectionInput(t, false))
	if err != nil || res.Status != houqin.StatusCompleted {
		t.Fatalf("result %+v, %v", res, err)
	}
	wantDone(t, boss)
	events := storetest.MustReadStream(t, h.store, houqin.FindingStream(iid+"-F1"))
	var overdue *houqin.FindingOverdue
	for _, e := range events {
		if e.Type == "finding.overdue" {
			overdue = decode[*houqin.FindingOverdue](t, e)
			if want := start.Add(time.Minute + 72*time.Hour); !e.Meta.OccurredAt.Equal(want) {
				t.Errorf("overdue at %s, want %s", e.Meta.OccurredAt, want)
			}
		}
	}
	if overdue == nil || !slices.Equal(overdue.Added, []string{"zhang.wei"}) {
		t.Errorf("overdue = %+v, want wu.min's manager zhang.wei added (security is the owner already)", overdue)
	}
}

func TestInspectionCancelled(t *testing.T) {
	h := newInspectionHarness(t)
	h.do(time.Minute, houqin.TaskAction{TaskID: itask("record", 1), Action: houqin.ActionComplete, Actor: "li.na", Data: record(t)})
	h.cancelAt(time.Hour)
	_, err := h.runInspection(inspectionInput(t, false))
	if !temporal.IsCanceledError(err) {
		t.Fatalf("error %v, want cancelled", err)
	}
	if got := streamLog(t, h, houqin.InspectionStream(iid)); strings.Contains(strings.Join(got, " "), "inspection.completed") {
		t.Errorf("a cancelled inspection completed: %q", got)
	}
}
