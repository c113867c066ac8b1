package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/workflows"
)

// processActionBody is the body of POST /v1/processes/{id}/withdraw|revoke.
type processActionBody struct {
	Comment string `json:"comment,omitempty"`
}

// actOnProcess returns the handler of a process action (withdraw 撤回,
// revoke 撤销): a Workflow Update whose validator decides who may (the
// requester: 403 otherwise) and when (422 ENOTALLOWED once it is too late).
// The answer is {status, position} once the events are stored.
func (s *Server) actOnProcess(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, id := identity(r), chi.URLParam(r, "id")
		if who.HasRole("auditor") {
			s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "auditors read but never act"))
			return
		}
		var body processActionBody
		if r.ContentLength != 0 {
			if err := decode(r, &body); err != nil {
				s.problems.Error(w, r, err)
				return
			}
		}
		var outcome houqin.TaskOutcome
		err := s.update(r, id, workflows.UpdateProcess, houqin.ProcessAction{Action: action, Actor: who.UserID, Comment: body.Comment}, &outcome)
		if err != nil {
			s.problems.Error(w, r, s.noWorkflow(r, err, id, houqin.Errorf(houqin.ENOTFOUND, "process: no process %q", id)))
			return
		}
		writeJSON(w, http.StatusOK, processOutcome{ID: id, Status: outcome.Status, Position: outcome.Position})
	}
}

// processOutcome is the answer to a process action.
type processOutcome struct {
	ID       string        `json:"id"`
	Status   houqin.Status `json:"status"`
	Position int64         `json:"position"`
}
