package api

import (
	"encoding/json"
	"errors"
	"net/http"
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
		Assignee: assignee, Status: q.Get("status"), Before: before, Limit: limit})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPage(items, limit, func(t projections.TaskRow) int64 { return t.Position }))
}

// taskActionBody is the body of POST /v1/tasks/{id}/{action}.
type taskActionBody struct {
	Comment string          `json:"comment,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// actOnTask sends the action to the process's workflow as an Update; the
// workflow's validator decides who may do what (403/409/400 come from it),
// so the rules live in one place and a refused action leaves no history.
func (s *Server) actOnTask(w http.ResponseWriter, r *http.Request) {
	who, taskID, action := identity(r), chi.URLParam(r, "id"), chi.URLParam(r, "action")
	if who.HasRole("auditor") {
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "auditors read but never act"))
		return
	}
	processID, _, ok := strings.Cut(taskID, ".")
	if !ok || processID == "" {
		s.problems.Error(w, r, houqin.Errorf(houqin.ENOTFOUND, "task: no task %q", taskID))
		return
	}
	var body taskActionBody
	if r.ContentLength != 0 {
		if err := decode(r, &body); err != nil {
			s.problems.Error(w, r, err)
			return
		}
	}
	var outcome houqin.TaskOutcome
	err := s.update(r, processID, workflows.UpdateTask, houqin.TaskAction{
		TaskID: taskID, Action: action, Actor: who.UserID, Comment: body.Comment, Data: body.Data}, &outcome)
	if err != nil {
		s.problems.Error(w, r, notFoundIfNoWorkflow(err, taskID))
		return
	}
	writeJSON(w, http.StatusOK, outcome)
}

// notFoundIfNoWorkflow turns "no such workflow" into ENOTFOUND for the task:
// a task ID names its process, and a process that does not exist has no
// tasks.
func notFoundIfNoWorkflow(err error, taskID string) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return houqin.Errorf(houqin.ENOTFOUND, "task: no task %q", taskID)
	}
	return err
}
