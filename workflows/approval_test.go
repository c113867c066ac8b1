package workflows_test

import (
	stdcmp "cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/storetest"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/sdk/temporal"
)

func demoOrg(tb testing.TB) *houqin.Org {
	tb.Helper()
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		tb.Fatal(err)
	}
	return org
}

// policyOf parses a policy for procurements; "" is the default policy.
func policyOf(t *testing.T, yaml string) houqin.KindPolicy {
	t.Helper()
	b := config.DefaultPolicy()
	if yaml != "" {
		b = []byte("version: 1\nprocesses:\n  procurement:\n" + yaml)
	}
	p, err := houqin.ParsePolicy("test-policy.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := p.Kind(houqin.KindProcurement)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// engineInput is a procurement by wang.fang under a policy, of one item
// worth total fen.
func engineInput(kp houqin.KindPolicy, total int64) workflows.ProcurementInput {
	return workflows.ProcurementInput{
		ProcessID: pid, Requester: "wang.fang", Policy: kp, PolicyHash: kp.Hash(),
		Logistics: []string{"li.na", "zhang.wei"},
		Request: houqin.ProcurementRequest{
			Department: "MKT", BudgetCategory: "office_supplies", Reason: "展会物料", NeededBy: "2026-12-15",
			Items: []houqin.ProcurementItem{{Name: "展架", Quantity: 1, Unit: "套", UnitPrice: total}},
		},
	}
}

// Request totals under the default policy: dept_approval only; with
// finance_review (会签 of chen.jing and zhang.wei); with director_approval
// (zhang.wei, two levels above wang.fang) as well.
const (
	small  = 90000
	medium = 900000
	large  = 6000000
)

// do sends a task action at d of workflow time.
func (h *harness) do(d time.Duration, act houqin.TaskAction) *update {
	h.updates++
	u := &update{id: fmt.Sprintf("update-%d", h.updates), action: act}
	h.at(d, func() { h.sendUpdate(u) })
	return u
}

// doProcess sends a process action (withdraw, revoke) at d.
func (h *harness) doProcess(d time.Duration, act houqin.ProcessAction) *update {
	h.updates++
	u := &update{id: fmt.Sprintf("update-%d", h.updates), action: houqin.TaskAction{Action: act.Action, Actor: act.Actor}}
	h.at(d, func() { h.env.UpdateWorkflow(workflows.UpdateProcess, u.id, h.callback(u), act) })
	return u
}

// approveBy sends an approval of a task at d.
func (h *harness) approveBy(d time.Duration, taskID, actor string) *update {
	return h.do(d, houqin.TaskAction{TaskID: taskID, Action: houqin.ActionApprove, Actor: actor})
}

// cancelAt cancels the workflow at d: for tests that stop once the route
// is decided.
func (h *harness) cancelAt(d time.Duration) { h.at(d, h.env.CancelWorkflow) }

// wantDone checks that u was accepted and answered without error.
func wantDone(t *testing.T, u *update) {
	t.Helper()
	switch {
	case u.rejected != nil:
		t.Errorf("%s (%s %s by %s) rejected: %v", u.id, u.action.Action, u.action.TaskID, u.action.Actor, u.rejected)
	case !u.accepted || !u.done:
		t.Errorf("%s (%s %s by %s): accepted %v, done %v", u.id, u.action.Action, u.action.TaskID, u.action.Actor, u.accepted, u.done)
	case u.err != nil:
		t.Errorf("%s (%s %s by %s) failed: %v", u.id, u.action.Action, u.action.TaskID, u.action.Actor, u.err)
	}
}

// wantCode checks that u's validator refused it with code, and that the
// message contains part.
// wantFailed checks that the workflow accepted u but refused it when taking
// it (a rule it checks by an activity), with an application error of code
// whose message contains part.
func wantFailed(t *testing.T, u *update, code, part string) {
	t.Helper()
	var ae *temporal.ApplicationError
	if !u.accepted || !u.done || !errors.As(u.err, &ae) {
		t.Errorf("%s (%s %s by %s): accepted %v, done %v, err %v; want it refused with %s", u.id, u.action.Action, u.action.TaskID, u.action.Actor, u.accepted, u.done, u.err, code)
		return
	}
	if ae.Type() != code || !strings.Contains(ae.Message(), part) {
		t.Errorf("%s failed with %s %q, want %s containing %q", u.id, ae.Type(), ae.Message(), code, part)
	}
}

func wantCode(t *testing.T, u *update, code, part string) {
	t.Helper()
	if u.accepted || u.done {
		t.Errorf("%s (%s %s by %s) was accepted; want %s", u.id, u.action.Action, u.action.TaskID, u.action.Actor, code)
		return
	}
	var ae *temporal.ApplicationError
	if !errors.As(u.rejected, &ae) {
		t.Errorf("%s rejected with %v, want an application error %s", u.id, u.rejected, code)
		return
	}
	if ae.Type() != code || !strings.Contains(ae.Message(), part) {
		t.Errorf("%s rejected with %s %q, want %s containing %q", u.id, ae.Type(), ae.Message(), code, part)
	}
}

// runTo runs the workflow and returns its stream; the workflow may end
// cancelled (cancelAt), which tests use to stop a run where they look:
// then the stream is returned without the cancellation's own events
// (beforeCancel), which TestProcurementSelfApproval and
// TestEventCancelledReleasesBudget check.
func (h *harness) runTo(in workflows.ProcurementInput) (workflows.ProcurementResult, error, []houqin.Event) {
	h.t.Helper()
	res, err := h.run(in)
	events := storetest.MustReadStream(h.t, h.store, stream)
	wantChain(h.t, events)
	if temporal.IsCanceledError(err) {
		events = beforeCancel(h.t, events)
	}
	return res, err, events
}

// beforeCancel returns a stream without what a cancellation of its
// workflow appended: the release of the budget, the open tasks cancelled,
// process.cancelled, all by system. It fails the test if the stream does
// not end with process.cancelled.
func beforeCancel(t *testing.T, events []houqin.Event) []houqin.Event {
	t.Helper()
	n := len(events)
	if n == 0 || events[n-1].Type != "process.cancelled" {
		t.Errorf("a cancelled run's stream ends %q, want process.cancelled", types(events[max(n-1, 0):]))
		return events
	}
	n--
	for n > 0 && events[n-1].Meta.Actor == "system" && (events[n-1].Type == "task.cancelled" || strings.HasSuffix(events[n-1].Type, ".budget_released")) {
		d, err := events[n-1].Decode()
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := d.(*houqin.TaskCancelled); ok && c.Reason != "the workflow was cancelled" {
			break
		}
		n--
	}
	return events[:n]
}

// of returns the payloads of the events of type T, in order.
func of[T houqin.EventData](t *testing.T, events []houqin.Event) []T {
	t.Helper()
	var out []T
	for _, e := range events {
		d, err := e.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := d.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// openedTasks returns the tasks opened, in order.
func openedTasks(t *testing.T, events []houqin.Event) []houqin.Task {
	var out []houqin.Task
	for _, o := range of[*houqin.TaskOpened](t, events) {
		out = append(out, o.Task)
	}
	return out
}

// taskLog returns, per task, what happened to it: "approve by x", "cancelled", …
func taskLog(t *testing.T, events []houqin.Event) []string {
	var out []string
	for _, e := range events {
		d, _ := e.Decode()
		switch v := d.(type) {
		case *houqin.TaskOpened:
			out = append(out, fmt.Sprintf("open %s %s", strings.TrimPrefix(v.Task.ID, pid+"."), strings.Join(v.Task.Assignees, ",")))
		case *houqin.TaskCompleted:
			s := fmt.Sprintf("%s %s by %s", v.Action, strings.TrimPrefix(v.TaskID, pid+"."), v.Actor)
			if v.Auto != "" {
				s += " (" + v.Auto + ")"
			}
			out = append(out, s)
		case *houqin.TaskCancelled:
			out = append(out, "cancel "+strings.TrimPrefix(v.TaskID, pid+"."))
		case *houqin.StepSkipped:
			out = append(out, "skip "+v.Step)
		case *houqin.StepCompleted:
			out = append(out, v.Step+" "+v.Outcome)
		case *houqin.ProcessReturned:
			out = append(out, "returned to "+stdcmp.Or(v.ToStep, "requester"))
		case *houqin.ProcessResubmitted:
			out = append(out, "resubmitted")
		case *houqin.ProcurementApproved:
			out = append(out, "APPROVED")
		case *houqin.ProcurementRejected:
			out = append(out, "REJECTED")
		case *houqin.ProcessWithdrawn:
			out = append(out, "WITHDRAWN")
		case *houqin.ProcessRevoked:
			out = append(out, "REVOKED")
		case *houqin.TaskEscalated:
			out = append(out, fmt.Sprintf("escalate %s +%s", strings.TrimPrefix(v.TaskID, pid+"."), strings.Join(v.Added, ",")))
		case *houqin.TaskReminded:
			out = append(out, fmt.Sprintf("remind %s by %s", strings.TrimPrefix(v.TaskID, pid+"."), v.By))
		case *houqin.TaskTransferred:
			out = append(out, fmt.Sprintf("transfer %s %s→%s", strings.TrimPrefix(v.TaskID, pid+"."), v.From, v.To))
		case *houqin.ApproverAdded:
			out = append(out, fmt.Sprintf("add %s %s %s", strings.TrimPrefix(v.TaskID, pid+"."), v.Position, strings.Join(v.Users, ",")))
		case *houqin.TaskCommented:
			out = append(out, fmt.Sprintf("comment %s by %s", strings.TrimPrefix(v.TaskID, pid+"."), v.By))
		case *houqin.ProcessCopied:
			out = append(out, fmt.Sprintf("cc %s %s", v.At, strings.Join(v.Users, ",")))
		}
	}
	return out
}

func wantLog(t *testing.T, events []houqin.Event, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, taskLog(t, events)); diff != "" {
		t.Errorf("what happened (-want +got):\n%s", diff)
	}
}

func TestApprovalDefaultPolicyRoute(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	dept := h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	fin1 := h.approveBy(2*time.Minute, task("finance_review", 1), "chen.jing")
	fin2 := h.approveBy(3*time.Minute, task("finance_review", 2), "zhang.wei")
	h.cancelAt(4 * time.Minute)
	_, err, events := h.runTo(engineInput(policyOf(t, ""), large))
	if !temporal.IsCanceledError(err) {
		t.Fatalf("workflow error %v, want cancelled", err)
	}
	wantLog(t, events, []string{
		"open dept_approval.1 liu.yang",
		"approve dept_approval.1 by liu.yang", "dept_approval approved",
		"open finance_review.1 chen.jing", "open finance_review.2 zhang.wei",
		"approve finance_review.1 by chen.jing",
		"approve finance_review.2 by zhang.wei", "finance_review approved",
		"open director_approval.1 zhang.wei", "approve director_approval.1 by system (dedup)", "director_approval approved",
		"skip budget_review", "skip budget_exception",
		"APPROVED", "open record_po.1 li.na,zhang.wei",
	})
	for _, u := range []*update{dept, fin1, fin2} {
		wantDone(t, u)
	}
	// Each update returns the position of the last event its action caused.
	if last := events[len(events)-1]; fin2.outcome.Position != last.Position {
		t.Errorf("last approval answered position %d, want %d (%s)", fin2.outcome.Position, last.Position, last.Type)
	}
	started := of[*houqin.StepStarted](t, events)
	if len(started) != 3 || started[1].Mode != houqin.ModeAll || started[1].Required != 2 ||
		!strings.Contains(started[1].Explanation.Reason, "total >= 500000") {
		t.Errorf("steps started = %+v", started)
	}
	if got := started[0].Assignees; len(got) != 1 || got[0].User != "liu.yang" || got[0].Rule != "dept_head(requester)" {
		t.Errorf("dept_approval assignees = %+v", got)
	}
	// Every event carries the policy's hash; the first records it too.
	for _, e := range events {
		if e.Meta.PolicyHash != policyOf(t, "").Hash() {
			t.Fatalf("%s@%d policy hash %q", e.Stream, e.Version, e.Meta.PolicyHash)
		}
	}
}

func TestApprovalConditionSkipsStep(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	h.cancelAt(2 * time.Minute)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantLog(t, events, []string{
		"open dept_approval.1 liu.yang", "approve dept_approval.1 by liu.yang", "dept_approval approved",
		"skip finance_review", "skip director_approval", "skip budget_review", "skip budget_exception", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
	sk := of[*houqin.StepSkipped](t, events)
	if len(sk) != 4 || sk[0].Explanation.Applies || !strings.Contains(sk[0].Explanation.Reason, "is false") {
		t.Errorf("skipped = %+v", sk)
	}
}

// modePolicy is a one-step policy in a mode over ma.chao, sun.li and zhao.lei.
func modePolicy(t *testing.T, mode string) houqin.KindPolicy {
	return policyOf(t, `    steps:
      - id: review
        name: {zh: 评审, en: Review}
        approvers: ["user:ma.chao", "user:sun.li", "user:zhao.lei"]
        `+mode+"\n")
}

func TestApprovalModes(t *testing.T) {
	approve, reject := houqin.ActionApprove, houqin.ActionReject
	type act struct {
		n      int // task number
		action string
		actor  string
	}
	tests := []struct {
		name     string
		mode     string
		acts     []act
		approved bool
		want     []string
	}{
		{"sequential", "mode: sequential", []act{{1, approve, "ma.chao"}, {2, approve, "sun.li"}, {3, approve, "zhao.lei"}}, true, []string{
			"open review.1 ma.chao", "approve review.1 by ma.chao", "open review.2 sun.li", "approve review.2 by sun.li",
			"open review.3 zhao.lei", "approve review.3 by zhao.lei", "review approved", "APPROVED", "open record_po.1 li.na,zhang.wei"}},
		{"sequential rejected midway", "mode: sequential", []act{{1, approve, "ma.chao"}, {2, reject, "sun.li"}}, false, []string{
			"open review.1 ma.chao", "approve review.1 by ma.chao", "open review.2 sun.li", "reject review.2 by sun.li",
			"review rejected", "REJECTED"}},
		{"all approve", "mode: all", []act{{2, approve, "sun.li"}, {1, approve, "ma.chao"}, {3, approve, "zhao.lei"}}, true, []string{
			"open review.1 ma.chao", "open review.2 sun.li", "open review.3 zhao.lei",
			"approve review.2 by sun.li", "approve review.1 by ma.chao", "approve review.3 by zhao.lei",
			"review approved", "APPROVED", "open record_po.1 li.na,zhang.wei"}},
		{"all: one rejects", "mode: all", []act{{1, approve, "ma.chao"}, {3, reject, "zhao.lei"}}, false, []string{
			"open review.1 ma.chao", "open review.2 sun.li", "open review.3 zhao.lei",
			"approve review.1 by ma.chao", "reject review.3 by zhao.lei", "cancel review.2", "review rejected", "REJECTED"}},
		{"any: first decides", "mode: any", []act{{1, approve, "sun.li"}}, true, []string{
			"open review.1 ma.chao,sun.li,zhao.lei", "approve review.1 by sun.li", "review approved", "APPROVED",
			"open record_po.1 li.na,zhang.wei"}},
		{"any: first rejects", "mode: any", []act{{1, reject, "zhao.lei"}}, false, []string{
			"open review.1 ma.chao,sun.li,zhao.lei", "reject review.1 by zhao.lei", "review rejected", "REJECTED"}},
		{"2 of 3 despite a rejection", "mode: n_of_m\n        required: 2", []act{{1, reject, "ma.chao"}, {2, approve, "sun.li"}, {3, approve, "zhao.lei"}}, true, []string{
			"open review.1 ma.chao", "open review.2 sun.li", "open review.3 zhao.lei",
			"reject review.1 by ma.chao", "approve review.2 by sun.li", "approve review.3 by zhao.lei",
			"review approved", "APPROVED", "open record_po.1 li.na,zhang.wei"}},
		{"2 of 3 approved early", "mode: n_of_m\n        required: 2", []act{{1, approve, "ma.chao"}, {3, approve, "zhao.lei"}}, true, []string{
			"open review.1 ma.chao", "open review.2 sun.li", "open review.3 zhao.lei",
			"approve review.1 by ma.chao", "approve review.3 by zhao.lei", "cancel review.2",
			"review approved", "APPROVED", "open record_po.1 li.na,zhang.wei"}},
		{"2 of 3 out of reach", "mode: n_of_m\n        required: 2", []act{{1, reject, "ma.chao"}, {2, reject, "sun.li"}}, false, []string{
			"open review.1 ma.chao", "open review.2 sun.li", "open review.3 zhao.lei",
			"reject review.1 by ma.chao", "reject review.2 by sun.li", "cancel review.3", "review rejected", "REJECTED"}},
		{"60 percent of 3 is 2", "mode: n_of_m\n        percent: 60", []act{{2, approve, "sun.li"}, {1, approve, "ma.chao"}}, true, []string{
			"open review.1 ma.chao", "open review.2 sun.li", "open review.3 zhao.lei",
			"approve review.2 by sun.li", "approve review.1 by ma.chao", "cancel review.3",
			"review approved", "APPROVED", "open record_po.1 li.na,zhang.wei"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, mustOpenStore(t))
			var us []*update
			for i, a := range tt.acts {
				us = append(us, h.do(time.Duration(i+1)*time.Minute, houqin.TaskAction{
					TaskID: task("review", a.n), Action: a.action, Actor: a.actor, Comment: "理由"}))
			}
			if tt.approved {
				h.cancelAt(time.Hour)
			}
			res, err, events := h.runTo(engineInput(modePolicy(t, tt.mode), small))
			for _, u := range us {
				wantDone(t, u)
			}
			switch {
			case tt.approved && !temporal.IsCanceledError(err):
				t.Errorf("workflow: %v, want cancelled after approval", err)
			case !tt.approved && (err != nil || res.Status != houqin.StatusRejected):
				t.Errorf("workflow: %+v, %v; want rejected", res, err)
			}
			wantLog(t, events, tt.want)
		})
	}
}

func TestApprovalSequentialOnlyCurrentMayAct(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	early := h.approveBy(time.Minute, task("review", 2), "sun.li")
	wrong := h.approveBy(2*time.Minute, task("review", 1), "sun.li")
	var state workflows.State
	h.at(3*time.Minute, func() { state = h.query() })
	h.cancelAt(time.Hour)
	h.runTo(engineInput(modePolicy(t, "mode: sequential"), small))
	wantCode(t, early, houqin.ECONFLICT, "is not open")
	wantCode(t, wrong, houqin.EFORBIDDEN, "is not an assignee")
	if len(state.Tasks) != 1 || !slices.Equal(state.Tasks[0].Assignees, []string{"ma.chao"}) {
		t.Errorf("open tasks = %+v, want only ma.chao's", state.Tasks)
	}
}

func TestApprovalReturnAndResubmit(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	noReason := h.do(2*time.Minute, houqin.TaskAction{TaskID: task("finance_review", 1), Action: houqin.ActionReturn, Actor: "chen.jing"})
	sameStep := h.do(2*time.Minute, houqin.TaskAction{TaskID: task("finance_review", 1), Action: houqin.ActionReturn, Actor: "chen.jing", Comment: "x", ToStep: "finance_review"})
	ret := h.do(3*time.Minute, houqin.TaskAction{TaskID: task("finance_review", 1), Action: houqin.ActionReturn, Actor: "chen.jing", Comment: "预算科目不对，请改为小额"})
	late := h.approveBy(4*time.Minute, task("finance_review", 2), "zhang.wei")
	notYours := h.do(5*time.Minute, houqin.TaskAction{TaskID: task("resubmit", 1), Action: houqin.ActionResubmit, Actor: "liu.yang"})
	amended := engineInput(policyOf(t, ""), small).Request
	badAmend := h.do(5*time.Minute, houqin.TaskAction{TaskID: task("resubmit", 1), Action: houqin.ActionResubmit, Actor: "wang.fang",
		Data: []byte(`{"department":"HR","budget_category":"x","needed_by":"2026-12-15","items":[{"name":"a","quantity":1,"unit":"个","unit_price":1}]}`)})
	resub := h.do(6*time.Minute, houqin.TaskAction{TaskID: task("resubmit", 1), Action: houqin.ActionResubmit, Actor: "wang.fang",
		Comment: "已改", Data: mustJSON(t, amended)})
	again := h.approveBy(7*time.Minute, task("dept_approval", 2), "liu.yang")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), medium))
	wantCode(t, noReason, houqin.EINVALID, "comment: a reason is required to return")
	wantCode(t, sameStep, houqin.ENOTALLOWED, "to_step")
	wantDone(t, ret)
	wantCode(t, late, houqin.ECONFLICT, "is not open")
	wantCode(t, notYours, houqin.EFORBIDDEN, "is not an assignee")
	wantCode(t, badAmend, houqin.EINVALID, "data.department")
	wantDone(t, resub)
	wantDone(t, again)
	wantLog(t, events, []string{
		"open dept_approval.1 liu.yang", "approve dept_approval.1 by liu.yang", "dept_approval approved",
		"open finance_review.1 chen.jing", "open finance_review.2 zhang.wei",
		"return finance_review.1 by chen.jing", "cancel finance_review.2", "finance_review returned", "returned to requester",
		"open resubmit.1 wang.fang", "resubmit resubmit.1 by wang.fang", "resubmitted",
		// The amended request is small: no finance review; and liu.yang
		// decides again, as the request changed.
		"open dept_approval.2 liu.yang", "approve dept_approval.2 by liu.yang", "dept_approval approved",
		"skip finance_review", "skip director_approval", "skip budget_review", "skip budget_exception", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
	rs := of[*houqin.ProcessResubmitted](t, events)
	if len(rs) != 1 || len(rs[0].Request) == 0 {
		t.Errorf("resubmitted = %+v, want the amended request", rs)
	}
}

func TestApprovalReturnToEarlierStep(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	later := h.do(2*time.Minute, houqin.TaskAction{TaskID: task("finance_review", 2), Action: houqin.ActionReturn, Actor: "zhang.wei", Comment: "x", ToStep: "director_approval"})
	ret := h.do(3*time.Minute, houqin.TaskAction{TaskID: task("finance_review", 2), Action: houqin.ActionReturn, Actor: "zhang.wei", Comment: "部门意见不清楚", ToStep: "dept_approval"})
	h.approveBy(4*time.Minute, task("dept_approval", 2), "liu.yang")
	h.approveBy(5*time.Minute, task("finance_review", 3), "chen.jing")
	h.approveBy(6*time.Minute, task("finance_review", 4), "zhang.wei")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), medium))
	wantCode(t, later, houqin.ENOTALLOWED, "not an earlier step")
	wantDone(t, ret)
	wantLog(t, events, []string{
		"open dept_approval.1 liu.yang", "approve dept_approval.1 by liu.yang", "dept_approval approved",
		"open finance_review.1 chen.jing", "open finance_review.2 zhang.wei",
		"return finance_review.2 by zhang.wei", "cancel finance_review.1", "finance_review returned", "returned to dept_approval",
		"open dept_approval.2 liu.yang", "approve dept_approval.2 by liu.yang", "dept_approval approved",
		"open finance_review.3 chen.jing", "open finance_review.4 zhang.wei",
		"approve finance_review.3 by chen.jing", "approve finance_review.4 by zhang.wei", "finance_review approved",
		"skip director_approval", "skip budget_review", "skip budget_exception", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
}

func TestApprovalTransfer(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	toRequester := h.do(time.Minute, houqin.TaskAction{TaskID: task("dept_approval", 1), Action: houqin.ActionTransfer, Actor: "liu.yang", To: "wang.fang"})
	noTo := h.do(time.Minute, houqin.TaskAction{TaskID: task("dept_approval", 1), Action: houqin.ActionTransfer, Actor: "liu.yang"})
	extra := h.do(time.Minute, houqin.TaskAction{TaskID: task("dept_approval", 1), Action: houqin.ActionTransfer, Actor: "liu.yang", To: "ma.chao", Position: "before"})
	tr := h.do(2*time.Minute, houqin.TaskAction{TaskID: task("dept_approval", 1), Action: houqin.ActionTransfer, Actor: "liu.yang", To: "ma.chao", Comment: "出差中，请马超审批"})
	gone := h.approveBy(3*time.Minute, task("dept_approval", 1), "liu.yang")
	ok := h.approveBy(4*time.Minute, task("dept_approval", 1), "ma.chao")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantCode(t, toRequester, houqin.EINVALID, "to: \"wang.fang\" requested")
	wantCode(t, noTo, houqin.EINVALID, "to: required")
	wantCode(t, extra, houqin.EINVALID, "position: transfer takes no position")
	wantDone(t, tr)
	wantCode(t, gone, houqin.EFORBIDDEN, "is not an assignee")
	wantDone(t, ok)
	wantLog(t, events, []string{
		"open dept_approval.1 liu.yang", "transfer dept_approval.1 liu.yang→ma.chao",
		"approve dept_approval.1 by ma.chao", "dept_approval approved",
		"skip finance_review", "skip director_approval", "skip budget_review", "skip budget_exception", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
}

func TestApprovalAddApprover(t *testing.T) {
	add := func(position string, users ...string) houqin.TaskAction {
		return houqin.TaskAction{TaskID: task("dept_approval", 1), Action: houqin.ActionAddApprover, Actor: "liu.yang", Users: users, Position: position, Comment: "请马超把关"}
	}
	tests := []struct {
		name string
		add  houqin.TaskAction
		then [][2]string // task, actor: approvals after the add
		want []string
	}{
		{"before (前加签)", add(houqin.AddBefore, "ma.chao"), [][2]string{{"dept_approval.2", "ma.chao"}, {"dept_approval.3", "liu.yang"}}, []string{
			"open dept_approval.1 liu.yang", "add dept_approval.1 before ma.chao", "cancel dept_approval.1",
			"open dept_approval.2 ma.chao", "approve dept_approval.2 by ma.chao", "open dept_approval.3 liu.yang",
			"approve dept_approval.3 by liu.yang", "dept_approval approved"}},
		{"after (后加签)", add(houqin.AddAfter, "ma.chao", "sun.li"), [][2]string{{"dept_approval.1", "liu.yang"}, {"dept_approval.2", "ma.chao"}, {"dept_approval.3", "sun.li"}}, []string{
			"open dept_approval.1 liu.yang", "add dept_approval.1 after ma.chao,sun.li",
			"approve dept_approval.1 by liu.yang", "open dept_approval.2 ma.chao", "approve dept_approval.2 by ma.chao",
			"open dept_approval.3 sun.li", "approve dept_approval.3 by sun.li", "dept_approval approved"}},
		{"parallel (并加签)", add(houqin.AddParallel, "ma.chao"), [][2]string{{"dept_approval.1", "liu.yang"}, {"dept_approval.2", "ma.chao"}}, []string{
			"open dept_approval.1 liu.yang", "add dept_approval.1 parallel ma.chao", "open dept_approval.2 ma.chao",
			"approve dept_approval.1 by liu.yang", "approve dept_approval.2 by ma.chao", "dept_approval approved"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, mustOpenStore(t))
			u := h.do(time.Minute, tt.add)
			var us []*update
			for i, a := range tt.then {
				us = append(us, h.approveBy(time.Duration(i+2)*time.Minute, pid+"."+a[0], a[1]))
			}
			h.cancelAt(time.Hour)
			_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
			wantDone(t, u)
			for _, u := range us {
				wantDone(t, u)
			}
			want := append(tt.want, "skip finance_review", "skip director_approval", "skip budget_review", "skip budget_exception", "APPROVED", "open record_po.1 li.na,zhang.wei")
			wantLog(t, events, want)
		})
	}
	t.Run("refused", func(t *testing.T) {
		h := newHarness(t, mustOpenStore(t))
		sideways := h.do(time.Minute, add("sideways", "ma.chao"))
		requester := h.do(time.Minute, add(houqin.AddAfter, "wang.fang"))
		self := h.do(time.Minute, add(houqin.AddAfter, "liu.yang"))
		none := h.do(time.Minute, add(houqin.AddAfter))
		twice := h.do(time.Minute, add(houqin.AddAfter, "ma.chao", "ma.chao"))
		h.cancelAt(time.Hour)
		h.runTo(engineInput(policyOf(t, ""), small))
		wantCode(t, sideways, houqin.EINVALID, "position: must be before, after or parallel")
		wantCode(t, requester, houqin.EINVALID, `users[0]: "wang.fang" requested`)
		wantCode(t, self, houqin.EINVALID, "already an assignee")
		wantCode(t, none, houqin.EINVALID, "users: between 1 and 10")
		wantCode(t, twice, houqin.EINVALID, "users[1]")
	})
}

func TestApprovalWithdraw(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	notRequester := h.doProcess(time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "liu.yang"})
	revokeEarly := h.doProcess(time.Minute, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang"})
	bogus := h.doProcess(time.Minute, houqin.ProcessAction{Action: "delete", Actor: "wang.fang"})
	w := h.doProcess(2*time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang", Comment: "不需要了"})
	res, err, events := h.runTo(engineInput(policyOf(t, ""), medium))
	if err != nil || res.Status != houqin.StatusWithdrawn {
		t.Fatalf("result %+v, %v; want withdrawn", res, err)
	}
	wantCode(t, notRequester, houqin.EFORBIDDEN, "only the requester")
	wantCode(t, revokeEarly, houqin.ENOTALLOWED, "withdraw it instead")
	wantCode(t, bogus, houqin.EINVALID, "action: must be withdraw or revoke")
	wantDone(t, w)
	if w.outcome.Status != houqin.StatusWithdrawn || w.outcome.Position != events[len(events)-1].Position {
		t.Errorf("withdraw outcome %+v", w.outcome)
	}
	wantLog(t, events, []string{"open dept_approval.1 liu.yang", "cancel dept_approval.1", "WITHDRAWN"})
}

func TestApprovalRevoke(t *testing.T) {
	t.Run("before goods arrive", func(t *testing.T) {
		h := newHarness(t, mustOpenStore(t))
		h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
		withdraw := h.doProcess(2*time.Minute, houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang"})
		rv := h.doProcess(3*time.Minute, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang", Comment: "活动取消"})
		res, err, events := h.runTo(engineInput(policyOf(t, ""), small))
		if err != nil || res.Status != houqin.StatusCancelled {
			t.Fatalf("result %+v, %v; want cancelled", res, err)
		}
		wantCode(t, withdraw, houqin.ENOTALLOWED, "can no longer be withdrawn")
		wantDone(t, rv)
		if got := taskLog(t, events); !slices.Equal(got[len(got)-2:], []string{"cancel record_po.1", "REVOKED"}) {
			t.Errorf("ends with %q", got[len(got)-2:])
		}
	})
	t.Run("after goods arrived", func(t *testing.T) {
		h := newHarness(t, mustOpenStore(t))
		h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
		in := engineInput(policyOf(t, ""), small)
		po := houqin.PurchaseOrder{Supplier: "展览公司", Lines: []houqin.OrderLine{{Name: "展架", Quantity: 1, UnitPrice: small}}}
		h.do(2*time.Minute, houqin.TaskAction{TaskID: task("record_po", 1), Action: houqin.ActionComplete, Actor: "li.na", Data: mustJSON(t, po)})
		h.do(3*time.Minute, houqin.TaskAction{TaskID: task("receive_goods", 1), Action: houqin.ActionComplete, Actor: "li.na",
			Data: mustJSON(t, houqin.GoodsReceipt{Lines: []houqin.ItemQuantity{{Name: "展架", Quantity: 1}}})})
		rv := h.doProcess(4*time.Minute, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang"})
		h.do(4*time.Minute+30*time.Second, houqin.TaskAction{TaskID: task("record_invoice", 1), Action: houqin.ActionComplete, Actor: "li.na",
			Data: mustJSON(t, houqin.Invoice{Number: "INV-1", Amount: small})})
		h.do(5*time.Minute, houqin.TaskAction{TaskID: task("stock_in", 1), Action: houqin.ActionComplete, Actor: "li.na"})
		after := h.doProcess(6*time.Minute, houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang"})
		res, err, events := h.runTo(in)
		if err != nil || res.Status != houqin.StatusCompleted {
			t.Fatalf("result %+v, %v; want completed", res, err)
		}
		wantCode(t, rv, houqin.ENOTALLOWED, "step receive_goods has been done")
		if after.accepted || after.rejected == nil && after.done {
			t.Errorf("revoke after completion: %+v", after)
		}
		// The finish copies the warehouse (policy cc.finish: role:warehouse).
		if got := taskLog(t, events); got[len(got)-1] != "cc finish zhou.qiang" {
			t.Errorf("ends with %q, want the copy to the warehouse", got[len(got)-1])
		}
	})
}

func TestApprovalRemindAndComment(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	approval := task("dept_approval", 1)
	r1 := h.do(time.Minute, houqin.TaskAction{TaskID: approval, Action: houqin.ActionRemind, Actor: "wang.fang", Comment: "请尽快"})
	tooSoon := h.do(30*time.Minute, houqin.TaskAction{TaskID: approval, Action: houqin.ActionRemind, Actor: "wang.fang"})
	notRequester := h.do(31*time.Minute, houqin.TaskAction{TaskID: approval, Action: houqin.ActionRemind, Actor: "ma.chao"})
	r2 := h.do(62*time.Minute, houqin.TaskAction{TaskID: approval, Action: houqin.ActionRemind, Actor: "wang.fang"})
	c1 := h.do(63*time.Minute, houqin.TaskAction{TaskID: approval, Action: houqin.ActionComment, Actor: "wang.fang", Comment: "附件已补充"})
	c2 := h.do(64*time.Minute, houqin.TaskAction{TaskID: approval, Action: houqin.ActionComment, Actor: "liu.yang", Comment: "收到"})
	outsider := h.do(65*time.Minute, houqin.TaskAction{TaskID: approval, Action: houqin.ActionComment, Actor: "sun.li", Comment: "我也看看"})
	empty := h.do(65*time.Minute, houqin.TaskAction{TaskID: approval, Action: houqin.ActionComment, Actor: "liu.yang"})
	h.approveBy(66*time.Minute, approval, "liu.yang")
	h.cancelAt(2 * time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantDone(t, r1)
	wantCode(t, tooSoon, houqin.ENOTALLOWED, "remind again after 2026-12-01T02:01:00Z")
	wantCode(t, notRequester, houqin.EFORBIDDEN, "only the requester")
	wantDone(t, r2)
	wantDone(t, c1)
	wantDone(t, c2)
	wantCode(t, outsider, houqin.EFORBIDDEN, "takes no part")
	wantCode(t, empty, houqin.EINVALID, "comment: required")
	wantLog(t, events, []string{
		"open dept_approval.1 liu.yang", "remind dept_approval.1 by wang.fang", "remind dept_approval.1 by wang.fang",
		"comment dept_approval.1 by wang.fang", "comment dept_approval.1 by liu.yang",
		"approve dept_approval.1 by liu.yang", "dept_approval approved",
		"skip finance_review", "skip director_approval", "skip budget_review", "skip budget_exception", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
}

// deadlinePolicy is a one-step policy held by liu.yang with a 24h SLA,
// reminders at 4h and 20h, and on_timeout.
func deadlinePolicy(t *testing.T, extra string) houqin.KindPolicy {
	return policyOf(t, `    steps:
      - id: dept_approval
        name: {zh: 部门负责人审批, en: Department head approval}
        approvers: ["dept_head(requester)"]
        sla: 24h
        reminders: [4h, 20h]
`+extra)
}

func TestApprovalDeadlines(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		acts  [][3]string // at hours, task, actor: approvals
		end   time.Duration
		want  []string
	}{
		{"timeout approves", "        on_timeout: approve\n", nil, 0, []string{
			"open dept_approval.1 liu.yang", "remind dept_approval.1 by system", "remind dept_approval.1 by system",
			"approve dept_approval.1 by system (timeout)", "dept_approval approved", "APPROVED", "open record_po.1 li.na,zhang.wei"}},
		{"timeout rejects", "        on_timeout: reject\n", nil, 0, []string{
			"open dept_approval.1 liu.yang", "remind dept_approval.1 by system", "remind dept_approval.1 by system",
			"reject dept_approval.1 by system (timeout)", "dept_approval rejected", "REJECTED"}},
		{"timeout escalates to the manager, who approves", "        on_timeout: escalate\n", [][3]string{{"30", "dept_approval.1", "zhang.wei"}}, 0, []string{
			"open dept_approval.1 liu.yang", "remind dept_approval.1 by system", "remind dept_approval.1 by system",
			"escalate dept_approval.1 +zhang.wei", "approve dept_approval.1 by zhang.wei", "dept_approval approved",
			"APPROVED", "open record_po.1 li.na,zhang.wei"}},
		{"escalate_after, then timeout escalates up the chain", "        escalate_after: 12h\n        on_timeout: escalate\n", [][3]string{{"25", "dept_approval.1", "admin"}}, 0, []string{
			"open dept_approval.1 liu.yang", "remind dept_approval.1 by system", "escalate dept_approval.1 +zhang.wei",
			"remind dept_approval.1 by system", "escalate dept_approval.1 +admin", "approve dept_approval.1 by admin",
			"dept_approval approved", "APPROVED", "open record_po.1 li.na,zhang.wei"}},
		{"no timeout: stays open and overdue", "", nil, 72 * time.Hour, []string{
			"open dept_approval.1 liu.yang", "remind dept_approval.1 by system", "remind dept_approval.1 by system"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, mustOpenStore(t))
			var us []*update
			for _, a := range tt.acts {
				var hours int
				fmt.Sscan(a[0], &hours)
				us = append(us, h.approveBy(time.Duration(hours)*time.Hour, pid+"."+a[1], a[2]))
			}
			var state workflows.State
			if tt.end > 0 {
				h.at(tt.end-time.Minute, func() { state = h.query() })
				h.cancelAt(tt.end)
			} else {
				h.cancelAt(200 * time.Hour)
			}
			_, _, events := h.runTo(engineInput(deadlinePolicy(t, tt.extra), small))
			for _, u := range us {
				wantDone(t, u)
			}
			wantLog(t, events, tt.want)
			if tt.end > 0 && (len(state.Tasks) != 1 || !state.Tasks[0].DueAt.Equal(start.Add(24*time.Hour))) {
				t.Errorf("open tasks at the end = %+v, want the overdue approval", state.Tasks)
			}
			for _, r := range of[*houqin.TaskReminded](t, events) {
				if !slices.Equal(r.Assignees, []string{"liu.yang"}) && !slices.Contains(r.Assignees, "zhang.wei") {
					t.Errorf("reminder to %v", r.Assignees)
				}
			}
		})
	}
}

func TestApprovalDelegation(t *testing.T) {
	store := mustOpenStore(t)
	d := houqin.Delegation{ID: "DL-1", User: "liu.yang", Delegate: "ma.chao", From: start.Add(-time.Hour), To: start.Add(48 * time.Hour), Reason: "年假"}
	e, err := houqin.NewEvent(houqin.EventID("test", "DL-1"), houqin.DelegationSet{Delegation: d, By: "liu.yang"}, houqin.Metadata{Actor: "liu.yang", OccurredAt: start})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), houqin.DelegationStream("liu.yang"), houqin.ExpectNoStream, e); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, store)
	owner := h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	ok := h.approveBy(2*time.Minute, task("dept_approval", 1), "ma.chao")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantCode(t, owner, houqin.EFORBIDDEN, "is not an assignee")
	wantDone(t, ok)
	tasks := openedTasks(t, events)
	if got := tasks[0]; !slices.Equal(got.Assignees, []string{"ma.chao"}) || got.OnBehalfOf["ma.chao"] != "liu.yang" {
		t.Errorf("dept task = %+v, want ma.chao on behalf of liu.yang", got)
	}
	for _, e := range events {
		if e.Type == "task.completed" {
			c := decode[*houqin.TaskCompleted](t, e)
			if c.OnBehalfOf != "liu.yang" || e.Meta.OnBehalfOf != "liu.yang" || e.Meta.Actor != "ma.chao" {
				t.Errorf("completed = %+v, meta %+v; want ma.chao on behalf of liu.yang", c, e.Meta)
			}
		}
	}
	started := of[*houqin.StepStarted](t, events)
	if !slices.ContainsFunc(started[0].Explanation.Rules, func(s string) bool { return strings.Contains(s, "delegated to ma.chao") }) {
		t.Errorf("explanation %+v does not mention the delegation", started[0].Explanation)
	}
}

func TestApprovalFallbackAndCopies(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, `    cc: {start: ["user:sun.li", "dept_head(requester)"]}
    steps:
      - id: facilities
        name: {zh: 设施审批, en: Facilities}
        approvers: ["role:nobody_has_this"]
        if_empty: {action: auto_approve}
`), small))
	wantLog(t, events, []string{"cc start sun.li,liu.yang", "skip facilities", "APPROVED", "open record_po.1 li.na,zhang.wei"})
	sk := of[*houqin.StepSkipped](t, events)
	if len(sk) != 1 || !strings.Contains(sk[0].Explanation.Fallback, "approves the step automatically") {
		t.Errorf("skipped = %+v", sk)
	}
}

func TestApprovalSeparationOfDuties(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	in := engineInput(policyOf(t, ""), small)
	in.Requester = "liu.yang"
	self := h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	boss := h.approveBy(2*time.Minute, task("dept_approval", 1), "zhang.wei")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(in)
	wantCode(t, self, houqin.EFORBIDDEN, "requested")
	wantDone(t, boss)
	if got := openedTasks(t, events)[0].Assignees; !slices.Equal(got, []string{"zhang.wei"}) {
		t.Errorf("a head's request goes to %v, want their manager zhang.wei", got)
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestApprovalRandomActions sends random sequences of valid and invalid
// actions — by assignees and bystanders, on open, closed and unknown
// tasks — and checks that every process reaches a terminal state, that no
// task is decided twice, and that every refused action left no event.
func TestApprovalRandomActions(t *testing.T) {
	users := []string{"wang.fang", "liu.yang", "chen.jing", "zhang.wei", "ma.chao", "sun.li", "admin", "li.na"}
	actions := []string{houqin.ActionApprove, houqin.ActionApprove, houqin.ActionApprove, houqin.ActionApprove, houqin.ActionReject, houqin.ActionReturn, houqin.ActionTransfer,
		houqin.ActionAddApprover, houqin.ActionComment, houqin.ActionRemind, houqin.ActionComplete, houqin.ActionResubmit, "explode"}
	positions := []string{houqin.AddBefore, houqin.AddAfter, houqin.AddParallel, "sideways"}
	steps := []string{"", "", "dept_approval", "finance_review", "director_approval", "nowhere"}
	for seed := range 24 {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			pick := func(s []string) string { return s[rng.IntN(len(s))] }
			h := newHarness(t, mustOpenStore(t))
			var sent []*update
			for i := range 120 {
				h.at(time.Duration(i+1)*time.Minute, func() {
					if h.env.IsWorkflowCompleted() {
						return
					}
					state := h.query()
					if slices.ContainsFunc(state.Tasks, func(tk houqin.Task) bool { return tk.Step == workflows.StepRecordPO }) {
						// Approved: the random walk ends with a revocation.
						h.updates++
						u := &update{id: fmt.Sprintf("update-%d", h.updates), action: houqin.TaskAction{Action: houqin.ActionRevoke, Actor: "wang.fang"}}
						h.env.UpdateWorkflow(workflows.UpdateProcess, u.id, h.callback(u), houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang"})
						return
					}
					if rng.IntN(40) == 0 {
						h.updates++
						act := houqin.ProcessAction{Action: pick([]string{houqin.ActionWithdraw, houqin.ActionRevoke}), Actor: pick(users)}
						u := &update{id: fmt.Sprintf("update-%d", h.updates), action: houqin.TaskAction{Action: act.Action, Actor: act.Actor}}
						h.env.UpdateWorkflow(workflows.UpdateProcess, u.id, h.callback(u), act)
						return
					}
					act := houqin.TaskAction{TaskID: task(pick(steps[2:]), 1+rng.IntN(4)), Action: pick(actions), Actor: pick(users)}
					if len(state.Tasks) > 0 && rng.IntN(4) > 0 {
						tk := state.Tasks[rng.IntN(len(state.Tasks))]
						act.TaskID = tk.ID
						if rng.IntN(3) > 0 {
							act.Actor = pick(tk.Assignees)
						}
					}
					if rng.IntN(3) > 0 {
						act.Comment = "随机"
					}
					switch act.Action {
					case houqin.ActionTransfer:
						act.To = pick(users)
					case houqin.ActionAddApprover:
						act.Users, act.Position = []string{pick(users)}, pick(positions)
					case houqin.ActionReturn:
						act.ToStep = pick(steps)
					}
					h.updates++
					u := &update{id: fmt.Sprintf("update-%d", h.updates), action: act}
					sent = append(sent, u)
					h.sendUpdate(u)
				})
			}
			// Whatever the walk did, the requester ends it.
			end := houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang"}
			h.at(121*time.Minute, func() {
				if !h.env.IsWorkflowCompleted() {
					h.env.UpdateWorkflow(workflows.UpdateProcess, "end-withdraw", h.callback(&update{}), end)
					h.env.UpdateWorkflow(workflows.UpdateProcess, "end-revoke", h.callback(&update{}), houqin.ProcessAction{Action: houqin.ActionRevoke, Actor: "wang.fang"})
				}
			})
			res, err, events := h.runTo(engineInput(policyOf(t, ""), large))
			if err != nil {
				t.Fatalf("workflow failed: %v", err)
			}
			switch res.Status {
			case houqin.StatusRejected, houqin.StatusWithdrawn, houqin.StatusCancelled:
			default:
				t.Fatalf("status %s, want a terminal status", res.Status)
			}
			// Every task opened was closed exactly once.
			closed := map[string]int{}
			for _, e := range events {
				d, _ := e.Decode()
				switch v := d.(type) {
				case *houqin.TaskCompleted:
					closed[v.TaskID]++
				case *houqin.TaskCancelled:
					closed[v.TaskID]++
				}
			}
			for _, tk := range openedTasks(t, events) {
				if closed[tk.ID] != 1 {
					t.Errorf("task %s closed %d times", tk.ID, closed[tk.ID])
				}
			}
			// Refused actions wrote nothing: every event caused by an update
			// names an accepted one.
			accepted := 0
			for _, u := range sent {
				if u.accepted {
					accepted++
				}
				if u.accepted == (u.rejected != nil) {
					t.Errorf("%s: accepted %v, rejected %v", u.id, u.accepted, u.rejected)
				}
			}
			t.Logf("%d actions, %d accepted, %d events, %s", len(sent), accepted, len(events), res.Status)
		})
	}
}
