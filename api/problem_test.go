package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
)

// secret stands for internals that must never reach a client.
const secret = "dsn=postgres://houqin:hunter2@db"

func TestProblemsError(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		detail string
		logged bool // the error is logged (internal or unavailable)
	}{
		{"invalid", houqin.Errorf(houqin.EINVALID, "items[1].quantity: must be positive, got 0"), 400, "EINVALID", "items[1].quantity: must be positive, got 0", false},
		{"unauthorized", houqin.Errorf(houqin.EUNAUTHORIZED, "token: expired"), 401, "EUNAUTHORIZED", "token: expired", false},
		{"forbidden", houqin.Errorf(houqin.EFORBIDDEN, "task: not an assignee"), 403, "EFORBIDDEN", "task: not an assignee", false},
		{"not found", houqin.Errorf(houqin.ENOTFOUND, `process: no process "PR-2026-000001"`), 404, "ENOTFOUND", `process: no process "PR-2026-000001"`, false},
		{"conflict wrapped", fmt.Errorf("append procurement-x: %w", houqin.Errorf(houqin.ECONFLICT, "expected version 3, stream is at 4")), 409, "ECONFLICT", "expected version 3, stream is at 4", false},
		{"unavailable", houqin.Errorf(houqin.EUNAVAILABLE, "projections: catching up"), 503, "EUNAVAILABLE", "projections: catching up", true},
		{"internal error", errors.New("query failed: " + secret), 500, "EINTERNAL", "Internal error.", true},
		{"internal code with message", houqin.Errorf(houqin.EINTERNAL, "%s", secret), 500, "EINTERNAL", "Internal error.", true},
		{"unknown code", houqin.Errorf("EBOGUS", "%s", secret), 500, "EINTERNAL", "Internal error.", true},
		{"temporal application error", temporal.NewApplicationError("task: not an assignee", houqin.EFORBIDDEN), 403, "EFORBIDDEN", "task: not an assignee", false},
		{"temporal non-retryable wrapped", fmt.Errorf("update task: %w", temporal.NewNonRetryableApplicationError("task: already decided", houqin.ECONFLICT, errors.New(secret))),
			409, "ECONFLICT", "task: already decided", false},
		{"temporal other type", temporal.NewApplicationError(secret, "PanicError"), 500, "EINTERNAL", "Internal error.", true},
		{"temporal frontend down", fmt.Errorf("start workflow: %w", serviceerror.NewUnavailable(secret)), 503, "EUNAVAILABLE", "The workflow service is unavailable; try again later.", true},
		{"temporal overloaded", serviceerror.NewResourceExhausted(0, secret), 503, "EUNAVAILABLE", "The workflow service is unavailable; try again later.", true},
		{"deadline", fmt.Errorf("start workflow: %w", context.DeadlineExceeded), 503, "EUNAVAILABLE", "The request timed out; try again later.", true},
		{"cancelled", fmt.Errorf("query: %w", context.Canceled), 503, "EUNAVAILABLE", "The request was cancelled.", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			p := api.NewProblems(slog.New(slog.NewTextHandler(&logs, nil)), reg)
			w := httptest.NewRecorder()
			p.Error(w, httptest.NewRequest(http.MethodPost, "/v1/tasks/x/approve", nil), tt.err)

			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			var got map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			want := map[string]any{
				"type": "https://houqin.dev/problems/" + tt.code, "title": got["title"],
				"status": float64(tt.status), "code": tt.code, "detail": tt.detail,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if title, _ := got["title"].(string); title == "" {
				t.Error("title is empty")
			}
			if strings.Contains(w.Body.String(), "hunter2") {
				t.Errorf("body leaks internals: %s", w.Body)
			}
			if logged := strings.Contains(logs.String(), "http request failed"); logged != tt.logged {
				t.Errorf("logged = %v, want %v; log:\n%s", logged, tt.logged, logs.String())
			}
			if tt.code == houqin.EINTERNAL && !strings.Contains(logs.String(), "hunter2") {
				t.Errorf("internal error text not logged for operators; log:\n%s", logs.String())
			}
			if n := errorsTotal(t, reg, tt.code); n != 1 {
				t.Errorf("houqin_http_errors_total{code=%q} = %v, want 1", tt.code, n)
			}
		})
	}
}

// TestProblemsErrorNil checks that a nil *Problems still answers.
func TestProblemsErrorNil(t *testing.T) {
	var p *api.Problems
	w := httptest.NewRecorder()
	p.Error(w, httptest.NewRequest(http.MethodGet, "/", nil), houqin.Errorf(houqin.ENOTFOUND, "user: no user %q", "x"))
	var got api.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := api.Problem{Type: "https://houqin.dev/problems/ENOTFOUND", Title: "Not found", Status: 404, Code: "ENOTFOUND", Detail: `user: no user "x"`}
	if w.Code != 404 || got != want {
		t.Errorf("got %d %+v, want 404 %+v", w.Code, got, want)
	}
}

// TestProblemsInChinese: a request asking for Chinese (Accept-Language)
// gets the title and, where the catalog has it, the detail in Chinese —
// a workflow's refusal across Temporal too — with Content-Language; one
// asking for nothing, English.
func TestProblemsInChinese(t *testing.T) {
	for _, c := range []struct {
		accept, title, detail, lang string
		err                         error
	}{
		{"zh-CN,zh;q=0.9", "请求有误", "comment：驳回须填写理由", "zh-Hans", houqin.Errorf(houqin.EINVALID, "comment: a reason is required to reject")},
		{"zh-CN", "无权操作", `actor："liu.yang" 不是待办 PR-1.dept_approval.1 的办理人`, "zh-Hans",
			temporal.NewApplicationError(`actor: "liu.yang" is not an assignee of task PR-1.dept_approval.1`, houqin.EFORBIDDEN)},
		{"zh-CN", "内部错误", "内部错误。", "zh-Hans", errors.New(secret)},
		{"zh-CN", "请求有误", "nothing: not in the catalog", "zh-Hans", houqin.Errorf(houqin.EINVALID, "nothing: not in the catalog")},
		{"", "Invalid request", "comment: a reason is required to reject", "en", houqin.Errorf(houqin.EINVALID, "comment: a reason is required to reject")},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/v1/tasks/x/reject", nil)
		if c.accept != "" {
			r.Header.Set("Accept-Language", c.accept)
		}
		api.NewProblems(slog.New(slog.DiscardHandler), nil).Error(w, r, c.err)
		var got api.Problem
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Title != c.title || got.Detail != c.detail || w.Header().Get("Content-Language") != c.lang {
			t.Errorf("Accept-Language %q, %v: %q %q (Content-Language %q), want %q %q (%q)", c.accept, c.err,
				got.Title, got.Detail, w.Header().Get("Content-Language"), c.title, c.detail, c.lang)
		}
	}
}

func TestHTTPStatus(t *testing.T) {
	for code, want := range map[string]int{
		"EINVALID": 400, "EUNAUTHORIZED": 401, "EFORBIDDEN": 403, "ENOTFOUND": 404,
		"ECONFLICT": 409, "ENOTALLOWED": 422, "EUNAVAILABLE": 503, "EMETHOD": 405, "EMEDIATYPE": 415, "EINTERNAL": 500, "EBOGUS": 500,
	} {
		if got := api.HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%s) = %d, want %d", code, got, want)
		}
	}
}

// errorsTotal returns houqin_http_errors_total{code} as gathered from reg.
func errorsTotal(t *testing.T, reg *prometheus.Registry, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != "houqin_http_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == code {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}
