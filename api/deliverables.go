package api

import (
	"net/http"
	"strconv"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
)

// reviewerRoles may record the review of a deliverable.
var reviewerRoles = []string{"logistics_manager", "admin"}

// deliverableReviewBody is the body of POST /v1/deliverables/reviews.
type deliverableReviewBody struct {
	ProcessID string `json:"process_id"`
	Kind      string `json:"kind"`
	Document  string `json:"document"`
	Title     string `json:"title"`
	Outcome   string `json:"outcome"`
	Comment   string `json:"comment,omitempty"`
}

// deliverableReviewed is the 201 answer.
type deliverableReviewed struct {
	houqin.DeliverableReviewed
	Position int64 `json:"position"`
}

// reviewDeliverable records a reviewer's verdict on a document a process
// delivered (POST /v1/deliverables/reviews): a deliverable.reviewed event
// on the process's deliverable stream. Only the logistics manager and
// admins review; nobody reviews what they requested. Idempotency-Key
// makes a retried request record one review.
func (s *Server) reviewDeliverable(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	var b deliverableReviewBody
	err := decode(r, &b)
	if err == nil && !hasAnyRole(who, reviewerRoles) {
		err = houqin.Errorf(houqin.EFORBIDDEN, "only the logistics manager and admins review deliverables")
	}
	ev := houqin.DeliverableReviewed{ProcessID: b.ProcessID, Kind: b.Kind, Document: b.Document, Title: b.Title,
		Outcome: b.Outcome, Reviewer: who.UserID, Comment: b.Comment}
	if err == nil {
		err = ev.Validate()
	}
	var p projections.ProcessRow
	if err == nil {
		p, _, err = projections.GetProcess(r.Context(), s.cfg.ReadModels, b.ProcessID)
		if houqin.ErrorCode(err) == houqin.ENOTFOUND {
			err = houqin.Errorf(houqin.EINVALID, "process_id: no process %q", b.ProcessID)
		}
	}
	if err == nil && p.Requester == who.UserID {
		err = houqin.Errorf(houqin.EFORBIDDEN, "%s requested %s and may not review its deliverables", who.UserID, b.ProcessID)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	ev.Department, ev.Process = p.Department, p.Kind
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = strconv.FormatInt(s.cfg.Now().UnixNano(), 10)
	}
	e, err := houqin.NewEvent(houqin.EventID("deliverable.reviewed", who.UserID, b.ProcessID, b.Document, key), ev,
		houqin.Metadata{Actor: who.UserID, CorrelationID: b.ProcessID, OccurredAt: s.cfg.Now()})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	stored, err := s.cfg.Store.Append(r.Context(), houqin.DeliverableStream(b.ProcessID), houqin.ExpectAny, e)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, deliverableReviewed{DeliverableReviewed: ev, Position: stored[len(stored)-1].Position})
}
