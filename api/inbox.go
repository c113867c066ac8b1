package api

import (
	"net/http"
	"net/url"
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
// handled (most recent first); each section a page of ?limit= (1–200,
// default 50) items from ?offset= (0–10000), with its total, narrowed by
// ?kind=, ?step=, ?overdue=true, ?due_before= (an RFC 3339 time or a day,
// China time), ?requester=, ?department= and ?q= (a piece of the process
// ID, step name, title or requester); counts are of all the open tasks.
// The caller's own; reader roles may pass ?user=.
func (s *Server) getInbox(w http.ResponseWriter, r *http.Request) {
	who, q := identity(r), r.URL.Query()
	user, err := s.subject(who, q.Get("user"), "inbox")
	f := projections.InboxFilter{Kind: q.Get("kind"), Step: q.Get("step"), Requester: q.Get("requester"),
		Department: q.Get("department"), Search: q.Get("q"), Limit: 50}
	if err == nil {
		f.Limit, err = intParam(q, "limit", 50, 1, 200)
	}
	if err == nil {
		f.Offset, err = intParam(q, "offset", 0, 0, 10000)
	}
	if err == nil {
		err = oneOf("kind", f.Kind, "procurement", "trip", "inspection", "event", "budget", "issue", "stocktake", "survey")
	}
	if err == nil {
		err = oneOf("overdue", q.Get("overdue"), "true", "false")
		f.Overdue = q.Get("overdue") == "true"
	}
	if v := q.Get("due_before"); err == nil && v != "" {
		f.DueBefore, err = dayOrTime("due_before", v)
	}
	if err == nil {
		err = s.waitMinPosition(r)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	now := s.cfg.Now()
	in, err := projections.GetInbox(r.Context(), s.cfg.ReadModels, user, now, f)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inboxBody{User: user, AsOf: now.UTC().Format(time.RFC3339), Inbox: in})
}

// intParam reads the integer query parameter name, def if absent, between
// lo and hi.
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, houqin.Errorf(houqin.EINVALID, "%s: must be between %d and %d, got %q", name, lo, hi, v)
	}
	return n, nil
}

// dayOrTime reads a moment: an RFC 3339 time, or a day (YYYY-MM-DD) meaning
// its start in China time.
func dayOrTime(field, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, houqin.BusinessZone); err == nil {
		return t, nil
	}
	return time.Time{}, houqin.Errorf(houqin.EINVALID, "%s: must be a day YYYY-MM-DD or an RFC 3339 time, got %q", field, v)
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
