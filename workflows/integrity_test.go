package workflows_test

import (
	"fmt"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/workflows"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/temporal"
)

// The approval engine's guarantees hold however actions interleave: one
// person holds one slot of a step, every accepted action is checked again
// when the workflow takes it, and every accepted action is answered.
// The actions of a test are sent while the workflow waits for the append
// that opens a task, so they are all accepted before the workflow takes
// any of them: as several updates in one workflow task on a server.

// whenOpened runs sends, in order, as the append that opens taskID starts.
func (h *harness) whenOpened(taskID string, sends ...func()) {
	sent := false
	h.onAppend = func(in activities.AppendInput) {
		if sent || !opens(h.t, in.Events, taskID) {
			return
		}
		sent = true
		for _, send := range sends {
			send()
		}
	}
}

// taskUpdate returns an update of act and the function that sends it.
func (h *harness) taskUpdate(act houqin.TaskAction) (*update, func()) {
	h.updates++
	u := &update{id: fmt.Sprintf("update-%d", h.updates), action: act}
	return u, func() { h.sendUpdate(u) }
}

// processUpdate returns an update of a process action and the function
// that sends it.
func (h *harness) processUpdate(act houqin.ProcessAction) (*update, func()) {
	h.updates++
	u := &update{id: fmt.Sprintf("update-%d", h.updates), action: houqin.TaskAction{Action: act.Action, Actor: act.Actor}}
	return u, func() { h.env.UpdateWorkflow(workflows.UpdateProcess, u.id, h.callback(u), act) }
}

// opens reports whether events open the task taskID.
func opens(t *testing.T, events []houqin.Event, taskID string) bool {
	for _, o := range of[*houqin.TaskOpened](t, events) {
		if o.Task.ID == taskID {
			return true
		}
	}
	return false
}

func transfer(taskID, from, to string) houqin.TaskAction {
	return houqin.TaskAction{TaskID: taskID, Action: houqin.ActionTransfer, Actor: from, To: to}
}

func approveAct(taskID, actor string) houqin.TaskAction {
	return houqin.TaskAction{TaskID: taskID, Action: houqin.ActionApprove, Actor: actor}
}

func TestIntegrityCountersignKeepsDistinctPeople(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	// finance_review is a 会签 of chen.jing and zhang.wei: neither may hand
	// their slot to the other, nor add the other.
	collapse := h.do(2*time.Minute, transfer(task("finance_review", 1), "chen.jing", "zhang.wei"))
	addOther := h.do(2*time.Minute, houqin.TaskAction{TaskID: task("finance_review", 1), Action: houqin.ActionAddApprover,
		Actor: "chen.jing", Users: []string{"zhang.wei"}, Position: houqin.AddParallel})
	fin1 := h.approveBy(3*time.Minute, task("finance_review", 1), "chen.jing")
	// Once chen.jing approved, zhang.wei cannot bring her back by 加签.
	readd := h.do(4*time.Minute, houqin.TaskAction{TaskID: task("finance_review", 2), Action: houqin.ActionAddApprover,
		Actor: "zhang.wei", Users: []string{"chen.jing"}, Position: houqin.AddAfter})
	fin2 := h.approveBy(5*time.Minute, task("finance_review", 2), "zhang.wei")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), medium))
	wantCode(t, collapse, houqin.EINVALID, `to: "zhang.wei" already takes part in step finance_review`)
	wantCode(t, addOther, houqin.EINVALID, `users[0]: "zhang.wei" already takes part in step finance_review`)
	wantCode(t, readd, houqin.EINVALID, `users[0]: "chen.jing" already takes part in step finance_review`)
	wantDone(t, fin1)
	wantDone(t, fin2)
	for _, sc := range of[*houqin.StepCompleted](t, events) {
		if sc.Step == "finance_review" && (len(sc.Approvals) != 2 || sc.Approvals[0] == sc.Approvals[1]) {
			t.Errorf("finance_review approvals %q, want two people", sc.Approvals)
		}
	}
}

func TestIntegrityTwoTransfersInOneWorkflowTask(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	first, send1 := h.taskUpdate(transfer(task("dept_approval", 1), "liu.yang", "ma.chao"))
	second, send2 := h.taskUpdate(transfer(task("dept_approval", 1), "liu.yang", "sun.li"))
	h.whenOpened(task("dept_approval", 1), send1, send2)
	ok := h.approveBy(2*time.Minute, task("dept_approval", 1), "ma.chao")
	h.cancelAt(time.Hour)
	_, err, events := h.runTo(engineInput(policyOf(t, ""), small))
	if !temporal.IsCanceledError(err) {
		t.Fatalf("workflow error %v, want cancelled at the end of the test", err)
	}
	wantDone(t, first)
	wantFailed(t, second, houqin.EFORBIDDEN, `"liu.yang" is not an assignee`)
	wantDone(t, ok)
	wantLog(t, events, []string{
		"open dept_approval.1 liu.yang", "transfer dept_approval.1 liu.yang→ma.chao",
		"approve dept_approval.1 by ma.chao", "dept_approval approved",
		"skip finance_review", "skip director_approval", "skip budget_review", "skip budget_exception", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
}

func TestIntegrityTransferThenApproveBySameUser(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	tr, send1 := h.taskUpdate(transfer(task("dept_approval", 1), "liu.yang", "ma.chao"))
	ap, send2 := h.taskUpdate(approveAct(task("dept_approval", 1), "liu.yang"))
	h.whenOpened(task("dept_approval", 1), send1, send2)
	ok := h.approveBy(2*time.Minute, task("dept_approval", 1), "ma.chao")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantDone(t, tr)
	wantFailed(t, ap, houqin.EFORBIDDEN, `"liu.yang" is not an assignee`)
	wantDone(t, ok)
	if got := of[*houqin.TaskCompleted](t, events); len(got) != 1 || got[0].Actor != "ma.chao" {
		t.Errorf("dept_approval completed by %+v, want ma.chao alone", got)
	}
}

func TestIntegrityApprovalRacingRejection(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	var us []*update
	var sends []func()
	for _, act := range []houqin.TaskAction{
		{TaskID: task("review", 1), Action: houqin.ActionReject, Actor: "ma.chao", Comment: "不合规"},
		approveAct(task("review", 2), "sun.li"),
		approveAct(task("review", 3), "zhao.lei"),
	} {
		u, send := h.taskUpdate(act)
		us, sends = append(us, u), append(sends, send)
	}
	h.whenOpened(task("review", 3), sends...)
	res, err, events := h.runTo(engineInput(modePolicy(t, "mode: all"), small))
	if err != nil || res.Status != houqin.StatusRejected {
		t.Fatalf("result %+v, %v; want rejected", res, err)
	}
	wantDone(t, us[0])
	for _, u := range us[1:] {
		wantFailed(t, u, houqin.ECONFLICT, "")
	}
	wantLog(t, events, []string{
		"open review.1 ma.chao", "open review.2 sun.li", "open review.3 zhao.lei",
		"reject review.1 by ma.chao", "cancel review.2", "cancel review.3", "review rejected", "REJECTED",
	})
}

func TestIntegrityWithdrawRacingLastApproval(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	approve, send1 := h.taskUpdate(approveAct(task("dept_approval", 1), "liu.yang"))
	withdraw, send2 := h.processUpdate(houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang"})
	h.whenOpened(task("dept_approval", 1), send1, send2)
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantDone(t, approve)
	wantFailed(t, withdraw, houqin.ENOTALLOWED, "can no longer be withdrawn")
	if got := taskLog(t, events); got[len(got)-1] != "open record_po.1 li.na,zhang.wei" {
		t.Errorf("the process ends %q, want it approved and at record_po", got[len(got)-2:])
	}
}

func TestIntegrityWithdrawBeforeApproval(t *testing.T) {
	// In the other order, the withdraw wins and the approval is refused.
	h := newHarness(t, mustOpenStore(t))
	withdraw, send1 := h.processUpdate(houqin.ProcessAction{Action: houqin.ActionWithdraw, Actor: "wang.fang"})
	approve, send2 := h.taskUpdate(approveAct(task("dept_approval", 1), "liu.yang"))
	h.whenOpened(task("dept_approval", 1), send1, send2)
	res, err, events := h.runTo(engineInput(policyOf(t, ""), small))
	if err != nil || res.Status != houqin.StatusWithdrawn {
		t.Fatalf("result %+v, %v; want withdrawn", res, err)
	}
	wantDone(t, withdraw)
	wantCode(t, approve, houqin.ECONFLICT, "is stopping")
	wantLog(t, events, []string{"open dept_approval.1 liu.yang", "cancel dept_approval.1", "WITHDRAWN"})
}

func TestIntegrityAddedApproverIsNotDeduplicated(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	// chen.jing asks liu.yang, who approved the department step, to look
	// at the finance review too: he decides it in person.
	add := h.do(2*time.Minute, houqin.TaskAction{TaskID: task("finance_review", 1), Action: houqin.ActionAddApprover,
		Actor: "chen.jing", Users: []string{"liu.yang"}, Position: houqin.AddAfter})
	h.approveBy(3*time.Minute, task("finance_review", 1), "chen.jing")
	h.approveBy(4*time.Minute, task("finance_review", 2), "zhang.wei")
	late := h.approveBy(5*time.Minute, task("finance_review", 3), "liu.yang")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), medium))
	wantDone(t, add)
	wantDone(t, late)
	got := taskLog(t, events)
	if slices.Contains(got, "approve finance_review.3 by system (dedup)") || !slices.Contains(got, "approve finance_review.3 by liu.yang") {
		t.Errorf("liu.yang, added by 加签, must approve finance_review.3 in person: %q", got)
	}
}

func TestIntegrityAddBeforeAfterTransfer(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	h.do(time.Minute, transfer(task("dept_approval", 1), "liu.yang", "ma.chao"))
	add := h.do(2*time.Minute, houqin.TaskAction{TaskID: task("dept_approval", 1), Action: houqin.ActionAddApprover,
		Actor: "ma.chao", Users: []string{"sun.li"}, Position: houqin.AddBefore})
	first := h.approveBy(3*time.Minute, task("dept_approval", 2), "sun.li")
	then := h.approveBy(4*time.Minute, task("dept_approval", 3), "ma.chao")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), small))
	wantDone(t, add)
	wantDone(t, first)
	wantDone(t, then)
	wantLog(t, events, []string{
		"open dept_approval.1 liu.yang", "transfer dept_approval.1 liu.yang→ma.chao",
		"add dept_approval.1 before sun.li", "cancel dept_approval.1",
		"open dept_approval.2 sun.li", "approve dept_approval.2 by sun.li",
		"open dept_approval.3 ma.chao", "approve dept_approval.3 by ma.chao", "dept_approval approved",
		"skip finance_review", "skip director_approval", "skip budget_review", "skip budget_exception", "APPROVED", "open record_po.1 li.na,zhang.wei",
	})
}

// TestIntegrityUnresolvableStepFailsProcess: a step that nobody may take
// when it starts ends the process failed, with process.failed naming the
// step; the approval that led to it is answered, and the workflow
// completes instead of failing.
func TestIntegrityUnresolvableStepFailsProcess(t *testing.T) {
	kp := policyOf(t, `    self_approval: skip
    if_empty: {action: user, user: wang.fang}
    steps:
      - id: review
        name: {zh: 评审, en: Review}
        approvers: ["user:ma.chao"]
        mode: any
      - id: final
        name: {zh: 终审, en: Final}
        approvers: ["user:wang.fang"]
        mode: any
`)
	h := newHarness(t, mustOpenStore(t))
	ok := h.approveBy(time.Minute, task("review", 1), "ma.chao")
	h.cancelAt(time.Hour) // only if the process did not end
	_, err, events := h.runTo(engineInput(kp, small))
	if err != nil {
		t.Fatalf("workflow error %v, want it completed with the process failed", err)
	}
	wantDone(t, ok)
	if ok.outcome.Status != houqin.StatusFailed {
		t.Errorf("the approval answered %+v, want status failed", ok.outcome)
	}
	wantLog(t, events, []string{"open review.1 ma.chao", "approve review.1 by ma.chao", "review approved"})
	failed := of[*houqin.ProcessFailed](t, events)
	if len(failed) != 1 || failed[0].Step != "final" || !strings.Contains(failed[0].Reason, "names nobody but the requester") {
		t.Fatalf("process.failed = %+v, want one naming step final", failed)
	}
	if last := events[len(events)-1]; last.Type != "process.failed" {
		t.Errorf("the stream ends with %s, want process.failed", last.Type)
	}
}

// reassign sends a reassignment at d.
func (h *harness) reassign(d time.Duration, r houqin.Reassignment) *update {
	h.updates++
	u := &update{id: fmt.Sprintf("update-%d", h.updates), action: houqin.TaskAction{TaskID: r.TaskID, Action: "reassign", Actor: "system", To: r.To}}
	h.at(d, func() { h.env.UpdateWorkflow(workflows.UpdateReassign, u.id, h.callback(u), r) })
	return u
}

// TestIntegrityReassignFromUserWhoLeft: the system moves chen.jing's
// finance review to her successor when she leaves; never onto the other
// countersigner, never from someone who does not hold the task.
func TestIntegrityReassignFromUserWhoLeft(t *testing.T) {
	h := newHarness(t, mustOpenStore(t))
	h.approveBy(time.Minute, task("dept_approval", 1), "liu.yang")
	const why = "chen.jing has left the organisation"
	onto := h.reassign(2*time.Minute, houqin.Reassignment{TaskID: task("finance_review", 1), From: "chen.jing", To: "zhang.wei", Reason: why})
	notHers := h.reassign(2*time.Minute, houqin.Reassignment{TaskID: task("finance_review", 2), From: "chen.jing", To: "admin", Reason: why})
	toRequester := h.reassign(2*time.Minute, houqin.Reassignment{TaskID: task("finance_review", 1), From: "chen.jing", To: "wang.fang", Reason: why})
	moved := h.reassign(3*time.Minute, houqin.Reassignment{TaskID: task("finance_review", 1), From: "chen.jing", To: "admin", Reason: why})
	gone := h.approveBy(4*time.Minute, task("finance_review", 1), "chen.jing")
	byAdmin := h.approveBy(5*time.Minute, task("finance_review", 1), "admin")
	h.approveBy(6*time.Minute, task("finance_review", 2), "zhang.wei")
	h.cancelAt(time.Hour)
	_, _, events := h.runTo(engineInput(policyOf(t, ""), medium))
	wantCode(t, onto, houqin.EINVALID, `to: "zhang.wei" already takes part in step finance_review`)
	wantCode(t, notHers, houqin.ECONFLICT, `from: "chen.jing" is not an assignee`)
	wantCode(t, toRequester, houqin.EINVALID, `to: "wang.fang" may not act on`)
	wantDone(t, moved)
	wantCode(t, gone, houqin.EFORBIDDEN, "is not an assignee")
	wantDone(t, byAdmin)
	tr := of[*houqin.TaskTransferred](t, events)
	if len(tr) != 1 || tr[0].From != "chen.jing" || tr[0].To != "admin" || tr[0].Reason != why {
		t.Fatalf("transfers %+v, want chen.jing's task moved to admin, saying why", tr)
	}
	for _, e := range events {
		if e.Type == "task.transferred" && e.Meta.Actor != "system" {
			t.Errorf("the reassignment's actor is %q, want system", e.Meta.Actor)
		}
	}
}
