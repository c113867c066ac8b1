package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/api/serviceerror"
)

// listTasks is the inbox: ?assignee=me (default) and ?status=pending|done|cancelled.
// Only readers (auditors, admins, the logistics manager) may list other
// people's tasks, with ?assignee=<user id> or ?assignee=all.
func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	who, q := identity(r), r.URL.Query()
	limit, before, err := page(r)
	if err == nil {
		err = oneOf("status", q.Get("status"), "pending", "done", "cancelled")
	}
	assignee := q.Get("assignee")
	switch {
	case err != nil:
	case assignee == "" || assignee == "me" || assignee == who.UserID:
		assignee = who.UserID
	case !hasAnyRole(who, readerRoles):
		err = houqin.Errorf(houqin.EFORBIDDEN, "assignee: only auditors and managers may list other people's tasks")
	case assignee == "all":
		assignee = ""
	default:
		if _, uerr := s.cfg.Org.User(assignee); uerr != nil {
			err = houqin.Errorf(houqin.EINVALID, "assignee: no user %q", assignee)
		}
	}
	if err == nil {
		err = s.waitMinPosition(r)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	items, err := projections.ListTasks(r.Context(), s.cfg.ReadModels, projections.TaskFilter{
		Assignee: assignee, Status: q.Get("status"), Before: before, Now: s.cfg.Now(), Limit: limit})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(items, limit, func(t projections.TaskRow) int64 { return t.Position }))
}

// taskActionBody is the body of POST /v1/tasks/{id}/ACTION; which fields
// an action takes is in taskActionFields.
type taskActionBody struct {
	Comment  string          `json:"comment,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	To       string          `json:"to,omitempty"`
	Users    []string        `json:"users,omitempty"`
	Position string          `json:"position,omitempty"`
	ToStep   *string         `json:"to_step,omitempty"` // null or absent: back to the requester
}

// taskActionFields lists, for each task action, the body fields it takes;
// any other field is refused with 400 naming it.
var taskActionFields = map[string][]string{
	houqin.ActionApprove:     {"comment"},
	houqin.ActionReject:      {"comment"},
	houqin.ActionReturn:      {"to_step", "comment"},
	houqin.ActionTransfer:    {"to", "comment"},
	houqin.ActionAddApprover: {"users", "position", "comment"},
	houqin.ActionComplete:    {"data", "comment"},
	houqin.ActionResubmit:    {"data", "comment"},
	houqin.ActionRemind:      {"comment"},
	houqin.ActionComment:     {"comment"},
	houqin.ActionNoClaim:     {"comment"},
}

// taskAction reads the body of a task action into the TaskAction the
// workflow receives, with actor as its Actor. It checks the body's shape —
// known action, the action's fields only, required fields, a known
// position, known users — and leaves every rule that depends on the task
// (who may act, what the step allows) to the workflow's validator.
func taskAction(r *http.Request, org *houqin.Org, taskID, action, actor string) (houqin.TaskAction, error) {
	fields, ok := taskActionFields[action]
	if !ok {
		return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "action: must be one of %s, got %q",
			strings.Join(slices.Sorted(maps.Keys(taskActionFields)), ", "), action)
	}
	var body taskActionBody
	if r.ContentLength != 0 {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return houqin.TaskAction{}, decodeErr(err)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(raw, &keys); err == nil {
				for _, k := range slices.Sorted(maps.Keys(keys)) {
					if _, known := bodyFields[k]; known && !slices.Contains(fields, k) {
						return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "%s: not a field of %s (it takes %s)", k, action, strings.Join(fields, ", "))
					}
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			if err := decode(r, &body); err != nil {
				return houqin.TaskAction{}, err
			}
		}
	}
	a := houqin.TaskAction{TaskID: taskID, Action: action, Actor: actor, Comment: body.Comment, Data: body.Data,
		To: body.To, Users: body.Users, Position: body.Position}
	if body.ToStep != nil {
		a.ToStep = *body.ToStep
	}
	switch action {
	case houqin.ActionTransfer:
		if a.To == "" {
			return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "to: required, the user who takes the task over")
		}
		if u, err := org.User(a.To); err != nil {
			return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "to: no user %q", a.To)
		} else if u.Left {
			return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "to: %q has left the organisation", a.To)
		}
	case houqin.ActionAddApprover:
		if len(a.Users) == 0 {
			return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "users: at least one user is required")
		}
		for i, u := range a.Users {
			if user, err := org.User(u); err != nil {
				return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "users[%d]: no user %q", i, u)
			} else if user.Left {
				return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "users[%d]: %q has left the organisation", i, u)
			}
		}
		if err := oneOf("position", a.Position, houqin.AddBefore, houqin.AddAfter, houqin.AddParallel); err != nil {
			return houqin.TaskAction{}, err
		}
		if a.Position == "" {
			return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "position: required, one of before, after, parallel")
		}
	case houqin.ActionReturn:
		if body.ToStep != nil && *body.ToStep == "" {
			return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "to_step: a step ID, or null for the requester")
		}
	case houqin.ActionReject:
		if strings.TrimSpace(a.Comment) == "" {
			return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "comment: a reason is required to reject")
		}
	case houqin.ActionComment:
		if strings.TrimSpace(a.Comment) == "" {
			return houqin.TaskAction{}, houqin.Errorf(houqin.EINVALID, "comment: required")
		}
	}
	return a, nil
}

// bodyFields are the JSON names of taskActionBody's fields.
var bodyFields = map[string]bool{"comment": true, "data": true, "to": true, "users": true, "position": true, "to_step": true}

// actOnTask sends the action to the process's workflow as an Update; the
// workflow's validator decides who may do what (403/409/422/400 come from
// it), so the rules live in one place and a refused action leaves no
// history. The body's shape is checked here first (400).
func (s *Server) actOnTask(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, taskID := identity(r), chi.URLParam(r, "id")
		if who.HasRole("auditor") {
			s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "auditors read but never act"))
			return
		}
		processID, ok := taskProcess(taskID)
		if !ok {
			s.problems.Error(w, r, houqin.Errorf(houqin.ENOTFOUND, "task: no task %q", taskID))
			return
		}
		act, err := taskAction(r, s.cfg.Org, taskID, action, who.UserID)
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		var outcome houqin.TaskOutcome
		if err := s.update(r, processID, workflows.UpdateTask, act, &outcome); err != nil {
			s.problems.Error(w, r, s.noWorkflow(r, err, processID, houqin.Errorf(houqin.ENOTFOUND, "task: no task %q", taskID)))
			return
		}
		writeJSON(w, http.StatusOK, outcome)
	}
}

// taskProcess is houqin.TaskProcess.
func taskProcess(taskID string) (string, bool) { return houqin.TaskProcess(taskID) }

// noWorkflow turns Temporal's "no such workflow" for an update into
// ECONFLICT when the process exists but has ended (its workflow closed:
// nothing is open any more), and into notFound when there is no such
// process: a task ID names its process, and a process that does not exist
// has no tasks.
func (s *Server) noWorkflow(r *http.Request, err error, processID string, notFound *houqin.Error) error {
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return err
	}
	p, _, perr := projections.GetProcess(r.Context(), s.cfg.ReadModels, processID)
	if perr != nil {
		return notFound
	}
	return houqin.Errorf(houqin.ECONFLICT, "process: %s has ended (%s); nothing on it is open", processID, p.Status)
}
