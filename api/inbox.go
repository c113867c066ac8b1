package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
)

// inboxBody is the answer of GET /v1/inbox.
type inboxBody struct {
	User string `json:"user"`
	AsOf string `json:"as_of"` // the moment "overdue" was judged at
	projections.Inbox
}

// getInbox is one user's work: pending and delegated tasks (soonest due
// first, each with overdue), processes copied to them, and the tasks they
// handled (most recent first); each section at most ?limit= (1–200,
// default 50) items, with full counts of the open ones. The caller's own;
// reader roles may pass ?user=.
func (s *Server) getInbox(w http.ResponseWriter, r *http.Request) {
	who, q := identity(r), r.URL.Query()
	user, err := s.subject(who, q.Get("user"), "inbox")
	limit := 50
	if v := q.Get("limit"); err == nil && v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 200 {
			err = houqin.Errorf(houqin.EINVALID, "limit: must be between 1 and 200, got %q", v)
		}
	}
	if err == nil {
		err = s.waitMinPosition(r)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	now := s.cfg.Now()
	in, err := projections.GetInbox(r.Context(), s.cfg.ReadModels, user, now, limit)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inboxBody{User: user, AsOf: now.UTC().Format(time.RFC3339), Inbox: in})
}

// subject is the user a read is about: the caller unless ?user= names
// someone else, which only reader roles may; what names the read for the
// error.
func (s *Server) subject(who houqin.Identity, user, what string) (string, error) {
	switch {
	case user == "" || user == "me" || user == who.UserID:
		return who.UserID, nil
	case !hasAnyRole(who, readerRoles):
		return "", houqin.Errorf(houqin.EFORBIDDEN, "user: only auditors and managers may read another user's %s", what)
	}
	if _, err := s.cfg.Org.User(user); err != nil {
		return "", houqin.Errorf(houqin.EINVALID, "user: no user %q", user)
	}
	return user, nil
}
