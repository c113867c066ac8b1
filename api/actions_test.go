package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// TestTaskActionBodies: each action's body becomes the TaskAction the
// workflow update receives, with the actor from the token; a malformed
// body is 400 naming the field and never reaches Temporal.
func TestTaskActionBodies(t *testing.T) {
	const task = "PR-2026-000001.dept_approval.1"
	f := newFixture(t, t0)
	f.temporal.result = houqin.TaskOutcome{TaskID: task, Status: houqin.StatusRunning, Position: 42}
	tests := []struct {
		name, user, action, body string
		want                     *houqin.TaskAction // nil: refused before Temporal
		status                   int
		detail                   string
	}{
		{"approve", "liu.yang", "approve", `{"comment":"ok"}`,
			&houqin.TaskAction{Action: "approve", Comment: "ok"}, 200, ""},
		{"approve without a body", "liu.yang", "approve", ``, &houqin.TaskAction{Action: "approve"}, 200, ""},
		{"reject", "liu.yang", "reject", `{"comment":"预算不足"}`, &houqin.TaskAction{Action: "reject", Comment: "预算不足"}, 200, ""},
		{"transfer", "liu.yang", "transfer", `{"to":"zhang.wei","comment":"你来"}`,
			&houqin.TaskAction{Action: "transfer", To: "zhang.wei", Comment: "你来"}, 200, ""},
		{"add-approver", "liu.yang", "add-approver", `{"users":["chen.jing","zhao.lei"],"position":"before","comment":"请财务先看"}`,
			&houqin.TaskAction{Action: "add-approver", Users: []string{"chen.jing", "zhao.lei"}, Position: "before", Comment: "请财务先看"}, 200, ""},
		{"add-approver parallel", "liu.yang", "add-approver", `{"users":["chen.jing"],"position":"parallel"}`,
			&houqin.TaskAction{Action: "add-approver", Users: []string{"chen.jing"}, Position: "parallel"}, 200, ""},
		{"return to the requester", "liu.yang", "return", `{"to_step":null,"comment":"补充报价"}`,
			&houqin.TaskAction{Action: "return", Comment: "补充报价"}, 200, ""},
		{"return to a step", "liu.yang", "return", `{"to_step":"dept_approval","comment":"重审"}`,
			&houqin.TaskAction{Action: "return", ToStep: "dept_approval", Comment: "重审"}, 200, ""},
		{"remind", "wang.fang", "remind", `{}`, &houqin.TaskAction{Action: "remind"}, 200, ""},
		{"comment", "wang.fang", "comment", `{"comment":"急用"}`, &houqin.TaskAction{Action: "comment", Comment: "急用"}, 200, ""},
		{"resubmit with an amended request", "wang.fang", "resubmit", `{"comment":"已补充","data":{"reason":"Q1"}}`,
			&houqin.TaskAction{Action: "resubmit", Comment: "已补充", Data: json.RawMessage(`{"reason":"Q1"}`)}, 200, ""},
		{"resubmit unchanged", "wang.fang", "resubmit", `{"comment":"再看看"}`,
			&houqin.TaskAction{Action: "resubmit", Comment: "再看看"}, 200, ""},
		{"complete", "li.na", "complete", `{"data":{"supplier":"得力"}}`,
			&houqin.TaskAction{Action: "complete", Data: json.RawMessage(`{"supplier":"得力"}`)}, 200, ""},

		{"unknown action", "liu.yang", "frobnicate", `{}`, nil, 400, "action: must be one of"},
		{"unknown field", "liu.yang", "approve", `{"colour":"red"}`, nil, 400, "colour: unknown field"},
		{"actor from the client", "liu.yang", "approve", `{"actor":"zhang.wei"}`, nil, 400, "actor: unknown field"},
		{"a field of another action", "liu.yang", "approve", `{"to":"zhang.wei"}`, nil, 400, "to: not a field of approve"},
		{"transfer to nobody", "liu.yang", "transfer", `{"comment":"x"}`, nil, 400, "to: required"},
		{"transfer to a stranger", "liu.yang", "transfer", `{"to":"no.body"}`, nil, 400, `to: no user "no.body"`},
		{"add no approver", "liu.yang", "add-approver", `{"users":[],"position":"after"}`, nil, 400, "users: at least one"},
		{"add a stranger", "liu.yang", "add-approver", `{"users":["chen.jing","no.body"],"position":"after"}`, nil, 400, `users[1]: no user "no.body"`},
		{"add sideways", "liu.yang", "add-approver", `{"users":["chen.jing"],"position":"sideways"}`, nil, 400, "position: must be one of before, after, parallel"},
		{"add without a position", "liu.yang", "add-approver", `{"users":["chen.jing"]}`, nil, 400, "position: required"},
		{"users of the wrong type", "liu.yang", "add-approver", `{"users":"chen.jing","position":"after"}`, nil, 400, "users: must be []string"},
		{"return to an empty step", "liu.yang", "return", `{"to_step":""}`, nil, 400, "to_step:"},
		{"reject without a reason", "liu.yang", "reject", `{"comment":"  "}`, nil, 400, "comment: a reason is required to reject"},
		{"empty comment", "wang.fang", "comment", `{}`, nil, 400, "comment: required"},
		{"trailing data", "liu.yang", "approve", `{} {}`, nil, 400, "body: trailing data"},
		{"auditor", "huang.xin", "approve", `{}`, nil, 403, "auditors read but never act"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.user, http.MethodPost, "/v1/tasks/"+task+"/"+tt.action, tt.body)
			updates := f.temporal.take()
			if tt.want == nil {
				problem(t, w, tt.status, tt.detail)
				if len(updates) != 0 {
					t.Errorf("refused action reached Temporal: %+v", updates)
				}
				return
			}
			var got houqin.TaskOutcome
			decodeOK(t, w, tt.status, &got)
			if got != f.temporal.result {
				t.Errorf("outcome %+v, want %+v", got, f.temporal.result)
			}
			if len(updates) != 1 {
				t.Fatalf("%d updates, want 1", len(updates))
			}
			u := updates[0]
			want := *tt.want
			want.TaskID, want.Actor = task, tt.user
			if u.WorkflowID != "PR-2026-000001" || u.UpdateName != "task" || len(u.Args) != 1 {
				t.Fatalf("update %s %s %d args, want PR-2026-000001 task 1", u.WorkflowID, u.UpdateName, len(u.Args))
			}
			if diff := cmp.Diff(want, u.Args[0]); diff != "" {
				t.Errorf("task action (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWorkflowRefusals: the workflow validator's errors keep their codes.
func TestWorkflowRefusals(t *testing.T) {
	f := newFixture(t, t0)
	for _, tt := range []struct {
		err    error
		path   string
		status int
		detail string
	}{
		{temporal.NewApplicationError("remind: at most once an hour", houqin.ENOTALLOWED), "/v1/tasks/PR-2026-000001.x.1/remind", 422, "remind: at most once an hour"},
		{temporal.NewApplicationError("not an assignee", houqin.EFORBIDDEN), "/v1/tasks/PR-2026-000001.x.1/approve", 403, "not an assignee"},
		{serviceerror.NewNotFound("workflow not found"), "/v1/tasks/PR-2026-000009.x.1/approve", 404, `task: no task "PR-2026-000009.x.1"`},
		{temporal.NewApplicationError("already approved", houqin.ENOTALLOWED), "/v1/processes/PR-2026-000001/withdraw", 422, "already approved"},
		{serviceerror.NewNotFound("workflow not found"), "/v1/processes/PR-2026-000009/revoke", 404, `process: no process "PR-2026-000009"`},
	} {
		f.temporal.fail(tt.err)
		problem(t, f.do("wang.fang", http.MethodPost, tt.path, `{}`), tt.status, tt.detail)
	}
}

// TestProcessActions: withdraw and revoke are the "process" workflow
// update with the caller as actor.
func TestProcessActions(t *testing.T) {
	f := newFixture(t, t0)
	f.temporal.result = houqin.TaskOutcome{Status: houqin.StatusWithdrawn, Position: 77}
	for _, action := range []string{houqin.ActionWithdraw, houqin.ActionRevoke} {
		var got struct {
			ID       string        `json:"id"`
			Status   houqin.Status `json:"status"`
			Position int64         `json:"position"`
		}
		decodeOK(t, f.do("wang.fang", http.MethodPost, "/v1/processes/PR-2026-000001/"+action, `{"comment":"不需要了"}`), 200, &got)
		if got.ID != "PR-2026-000001" || got.Status != houqin.StatusWithdrawn || got.Position != 77 {
			t.Errorf("%s answered %+v", action, got)
		}
		updates := f.temporal.take()
		if len(updates) != 1 || updates[0].WorkflowID != "PR-2026-000001" || updates[0].UpdateName != "process" {
			t.Fatalf("%s: updates %+v", action, updates)
		}
		want := houqin.ProcessAction{Action: action, Actor: "wang.fang", Comment: "不需要了"}
		if diff := cmp.Diff(want, updates[0].Args[0]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", action, diff)
		}
	}
	decodeOK(t, f.do("wang.fang", http.MethodPost, "/v1/processes/PR-2026-000001/withdraw", ``), 200, new(map[string]any))
	if u := f.temporal.take(); len(u) != 1 || u[0].Args[0].(houqin.ProcessAction).Comment != "" {
		t.Errorf("withdraw without a body: %+v", u)
	}
	problem(t, f.do("wang.fang", http.MethodPost, "/v1/processes/PR-2026-000001/withdraw", `{"reason":"x"}`), 400, "reason: unknown field")
	problem(t, f.do("huang.xin", http.MethodPost, "/v1/processes/PR-2026-000001/revoke", `{}`), 403, "auditors read but never act")
	if u := f.temporal.take(); len(u) != 0 {
		t.Errorf("refused process actions reached Temporal: %+v", u)
	}
}
