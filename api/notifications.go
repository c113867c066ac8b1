package api

import (
	"net/http"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
)

// listNotifications answers the caller's notifications (GET
// /v1/notifications?limit=&unread=true): newest first, each with its
// process's title, requester and amount and its task's step, and how many
// are unread — the web app's bell.
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", 20, 1, 200)
	if err == nil {
		err = oneOf("unread", q.Get("unread"), "true", "false")
	}
	if err == nil {
		err = s.waitMinPosition(r)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	items, unread, err := projections.ListNotifications(r.Context(), s.cfg.ReadModels, identity(r).UserID, q.Get("unread") == "true", limit)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "unread": unread})
}

// readNotifications marks the caller's notifications read (POST
// /v1/notifications/read {"ids":[…]}; no ids: all of them) and answers how
// many are still unread.
func (s *Server) readNotifications(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IDs []string `json:"ids"`
	}
	if err := decode(r, &body); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if len(body.IDs) > 200 {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "ids: at most %d, got %d", 200, len(body.IDs)))
		return
	}
	unread, err := projections.MarkNotificationsRead(r.Context(), s.cfg.ReadModels, identity(r).UserID, body.IDs, s.cfg.Now())
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"unread": unread})
}
