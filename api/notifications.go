package api

import (
	"net/http"

	"github.com/google/uuid"
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

// preferencesView is a user's preferences with the channels this
// deployment has, for the form that changes them.
type preferencesView struct {
	houqin.Preferences
	Position int64 `json:"position,omitempty"`
}

// getPreferences answers how the caller wants to be told (GET
// /v1/me/preferences): channels turned off, quiet hours.
func (s *Server) getPreferences(w http.ResponseWriter, r *http.Request) {
	if err := s.waitMinPosition(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	p, err := projections.GetPreferences(r.Context(), s.cfg.ReadModels, identity(r).UserID)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, preferencesView{Preferences: p})
}

// setPreferences replaces the caller's preferences (PUT
// /v1/me/preferences): an event on their preferences stream.
func (s *Server) setPreferences(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	var p houqin.Preferences
	err := decode(r, &p)
	if err == nil {
		err = p.Validate()
	}
	var e houqin.Event
	if err == nil {
		if p.Channels == nil {
			p.Channels = map[string]bool{}
		}
		e, err = houqin.NewEvent(uuid.NewString(), houqin.PreferencesSet{User: who.UserID, Preferences: p},
			houqin.Metadata{Actor: who.UserID, OccurredAt: s.cfg.Now()})
	}
	var out []houqin.Event
	if err == nil {
		out, err = s.cfg.Store.Append(r.Context(), houqin.PreferencesStream(who.UserID), houqin.ExpectAny, e)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, preferencesView{Preferences: p, Position: out[0].Position})
}
