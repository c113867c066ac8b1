package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
)

// delegationBody is the body of POST /v1/delegations.
type delegationBody struct {
	User     string `json:"user,omitempty"` // admins only: set it for someone else
	Delegate string `json:"delegate"`
	From     string `json:"from"` // RFC 3339
	To       string `json:"to"`   // RFC 3339
	Reason   string `json:"reason,omitempty"`
}

// delegationItem is a delegation as the API shows it.
type delegationItem struct {
	houqin.Delegation
	Active bool `json:"active"` // in force now
}

// delegationWritten answers a write to delegations.
type delegationWritten struct {
	delegationItem
	Cancelled bool  `json:"cancelled,omitempty"`
	Position  int64 `json:"position"` // of the event written, for read-your-writes
}

// setDelegation records an out-of-office delegation (houqin.DelegationSet
// on the user's delegation stream): the caller's own, or, for admins,
// anyone's. Approval steps that start while it is in force go to the
// delegate on the user's behalf.
func (s *Server) setDelegation(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	if who.HasRole("auditor") {
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "auditors read but never act"))
		return
	}
	var body delegationBody
	if err := decode(r, &body); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	d, err := s.delegation(who, body)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	e, err := houqin.NewEvent(houqin.EventID("delegation", d.ID), houqin.DelegationSet{Delegation: d, By: who.UserID},
		houqin.Metadata{Actor: who.UserID, OccurredAt: s.cfg.Now(), Reason: d.Reason})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	out, err := s.cfg.Store.Append(r.Context(), houqin.DelegationStream(d.User), houqin.ExpectAny, e)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, delegationWritten{
		delegationItem: delegationItem{Delegation: d, Active: d.ActiveAt(s.cfg.Now())}, Position: out[0].Position})
}

// delegation checks a delegation body and returns the delegation it sets,
// with a new ID.
func (s *Server) delegation(who houqin.Identity, body delegationBody) (houqin.Delegation, error) {
	d := houqin.Delegation{User: who.UserID, Delegate: body.Delegate, Reason: body.Reason}
	if body.User != "" && body.User != who.UserID {
		if !who.HasRole("admin") {
			return houqin.Delegation{}, houqin.Errorf(houqin.EFORBIDDEN, "user: only admins may set another user's delegation")
		}
		d.User = body.User
	}
	for _, f := range []struct {
		name string
		v    string
		t    *time.Time
	}{{"from", body.From, &d.From}, {"to", body.To, &d.To}} {
		if f.v == "" {
			continue // Validate names it
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			return houqin.Delegation{}, houqin.Errorf(houqin.EINVALID, "%s: must be an RFC 3339 time such as 2026-12-01T09:00:00+08:00, got %q", f.name, f.v)
		}
		*f.t = t.UTC()
	}
	if err := d.Validate(s.cfg.Org); err != nil {
		return houqin.Delegation{}, err
	}
	if !d.To.After(s.cfg.Now()) {
		return houqin.Delegation{}, houqin.Errorf(houqin.EINVALID, "to: must be in the future")
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return houqin.Delegation{}, fmt.Errorf("delegation id: %w", err)
	}
	d.ID = "DL-" + strings.ToUpper(hex.EncodeToString(b[:]))
	return d, nil
}

// listDelegations lists the delegations of the caller (or, for reader
// roles, of ?user=) that are not cancelled, in the order they were set,
// each with whether it is in force now. Expired ones are listed too.
func (s *Server) listDelegations(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	user, err := s.subject(who, r.URL.Query().Get("user"), "delegations")
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	ds, _, err := s.delegations(r.Context(), user)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	now := s.cfg.Now()
	items := make([]delegationItem, len(ds))
	for i, d := range ds {
		items[i] = delegationItem{Delegation: d, Active: d.ActiveAt(now)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user, "items": items})
}

// cancelDelegation ends a delegation of the caller (or, for admins, of
// ?user=) before its time (houqin.DelegationCancelled). 404 if the user has
// no such delegation, or it is already cancelled.
func (s *Server) cancelDelegation(w http.ResponseWriter, r *http.Request) {
	who, id := identity(r), chi.URLParam(r, "id")
	if who.HasRole("auditor") {
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "auditors read but never act"))
		return
	}
	user := r.URL.Query().Get("user")
	switch {
	case user == "" || user == who.UserID:
		user = who.UserID
	case !who.HasRole("admin"):
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "user: only admins may cancel another user's delegation"))
		return
	}
	ds, version, err := s.delegations(r.Context(), user)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	var d houqin.Delegation
	for _, x := range ds {
		if x.ID == id {
			d = x
		}
	}
	if d.ID == "" {
		s.problems.Error(w, r, houqin.Errorf(houqin.ENOTFOUND, "delegation: %s has no delegation %q", user, id))
		return
	}
	e, err := houqin.NewEvent(houqin.EventID("delegation", id, "cancelled"), houqin.DelegationCancelled{ID: id, By: who.UserID},
		houqin.Metadata{Actor: who.UserID, OccurredAt: s.cfg.Now()})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	// The exact version read: a concurrent change of the user's delegations
	// is a 409, never a lost update.
	out, err := s.cfg.Store.Append(r.Context(), houqin.DelegationStream(user), version, e)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, delegationWritten{delegationItem: delegationItem{Delegation: d}, Cancelled: true, Position: out[0].Position})
}

// delegations reads a user's delegations from their stream, with the
// stream's version (-1 if none).
func (s *Server) delegations(ctx context.Context, user string) ([]houqin.Delegation, int64, error) {
	events, err := s.cfg.Store.ReadStream(ctx, houqin.DelegationStream(user), 0, houqin.Forward, houqin.DefaultLimits.MaxReadLimit)
	if err != nil {
		return nil, 0, fmt.Errorf("read delegations of %s: %w", user, err)
	}
	ds, err := houqin.Delegations(events)
	if err != nil {
		return nil, 0, fmt.Errorf("read delegations of %s: %w", user, err)
	}
	version := int64(-1)
	if len(events) > 0 {
		version = events[len(events)-1].Version
	}
	if ds == nil {
		ds = []houqin.Delegation{}
	}
	return ds, version, nil
}
