package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// TestTaskActionBodies: a malformed action body is 400 naming the field,
// and an auditor 403, before the API talks to Temporal (the fixture's
// Temporal is unreachable: a request that got that far would be 503). The
// well-formed bodies are walked end to end in cmd/houqin's approval test.
func TestTaskActionBodies(t *testing.T) {
	const task = "PR-2026-000001.dept_approval.1"
	f := newFixture(t, t0)
	tests := []struct {
		name, user, action, body string
		status                   int
		detail                   string
	}{
		{"unknown action", "liu.yang", "frobnicate", `{}`, 404, "path: no route POST"},
		{"unknown field", "liu.yang", "approve", `{"colour":"red"}`, 400, "colour: unknown field"},
		{"actor from the client", "liu.yang", "approve", `{"actor":"zhang.wei"}`, 400, "actor: unknown field"},
		{"a field of another action", "liu.yang", "approve", `{"to":"zhang.wei"}`, 400, "to: not a field of approve"},
		{"transfer to nobody", "liu.yang", "transfer", `{"comment":"x"}`, 400, "to: required"},
		{"transfer to a stranger", "liu.yang", "transfer", `{"to":"no.body"}`, 400, `to: no user "no.body"`},
		{"add no approver", "liu.yang", "add-approver", `{"users":[],"position":"after"}`, 400, "users: at least one"},
		{"add a stranger", "liu.yang", "add-approver", `{"users":["chen.jing","no.body"],"position":"after"}`, 400, `users[1]: no user "no.body"`},
		{"add sideways", "liu.yang", "add-approver", `{"users":["chen.jing"],"position":"sideways"}`, 400, "position: must be one of before, after, parallel"},
		{"add without a position", "liu.yang", "add-approver", `{"users":["chen.jing"]}`, 400, "position: required"},
		{"users of the wrong type", "liu.yang", "add-approver", `{"users":"chen.jing","position":"after"}`, 400, "users: must be []string"},
		{"return to an empty step", "liu.yang", "return", `{"to_step":""}`, 400, "to_step:"},
		{"reject without a reason", "liu.yang", "reject", `{"comment":"  "}`, 400, "comment: a reason is required to reject"},
		{"empty comment", "wang.fang", "comment", `{}`, 400, "comment: required"},
		{"trailing data", "liu.yang", "approve", `{} {}`, 400, "body: trailing data"},
		{"auditor", "huang.xin", "approve", `{}`, 403, "auditors read but never act"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem(t, f.do(tt.user, http.MethodPost, "/v1/tasks/"+task+"/"+tt.action, tt.body), tt.status, tt.detail)
		})
	}
}

// TestProcessActionBodies: the same for withdraw and revoke.
func TestProcessActionBodies(t *testing.T) {
	f := newFixture(t, t0)
	problem(t, f.do("wang.fang", http.MethodPost, "/v1/processes/PR-2026-000001/withdraw", `{"reason":"x"}`), 400, "reason: unknown field")
	problem(t, f.do("huang.xin", http.MethodPost, "/v1/processes/PR-2026-000001/revoke", `{}`), 403, "auditors read but never act")
}

// TestUnreachableTemporal: a well-formed action that reaches an unreachable
// Temporal is 503, so the refusals above were decided before it.
func TestUnreachableTemporal(t *testing.T) {
	f := newFixture(t, t0)
	problem(t, f.do("liu.yang", http.MethodPost, "/v1/tasks/PR-2026-000001.dept_approval.1/approve", `{}`), 503, "")
}

// TestActionToDepartedUser: a task is never handed to someone who has left.
func TestActionToDepartedUser(t *testing.T) {
	yaml := strings.Replace(string(config.DefaultOrg()), "{id: ma.chao,", "{id: ma.chao, left: true,", 1)
	org, err := houqin.ParseOrg([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, t0, org)
	const task = "/v1/tasks/PR-2026-000001.dept_approval.1/"
	problem(t, f.do("liu.yang", http.MethodPost, task+"transfer", `{"to":"ma.chao"}`), 400, `to: "ma.chao" has left`)
	problem(t, f.do("liu.yang", http.MethodPost, task+"add-approver", `{"users":["chen.jing","ma.chao"],"position":"after"}`), 400, `users[1]: "ma.chao" has left`)
	// ma.chao's own token, issued before he left, no longer opens anything.
	problem(t, f.do("ma.chao", http.MethodGet, "/v1/tasks?assignee=me", ""), 401, `token: "ma.chao" has left the organisation`)
	problem(t, f.do("ma.chao", http.MethodPost, task+"approve", `{}`), 401, `token: "ma.chao" has left the organisation`)
}
