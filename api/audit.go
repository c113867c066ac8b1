package api

import (
	"bytes"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/audit"
)

// Audit routes. Who may read what:
//   - GET /v1/audit/verify: the reader roles (auditor, admin,
//     logistics_manager);
//   - GET /v1/processes/{id}/audit: the reader roles and the process's
//     requester (who may see who decided on their own request);
//   - GET /v1/processes/{id}?as_of=: as the process itself — the reader
//     roles, the requester and anyone who had a task on it.
//
// Every request to them, allowed or refused, is recorded as an
// audit.accessed event on the day's houqin.AccessStream before it is
// answered; if it cannot be recorded, the read is refused (503).

// readOnlyAuditors refuses every request but GET, HEAD and OPTIONS from an
// auditor: auditors read everything and act on nothing, on every route,
// present and future.
func (s *Server) readOnlyAuditors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if identity(r).HasRole("auditor") {
				s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "auditors read but never act"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// recordAccess appends an audit.accessed event saying who requested what,
// now, on the day's access stream.
func (s *Server) recordAccess(r *http.Request, processID string) error {
	now := s.cfg.Now()
	e, err := houqin.NewEvent(uuid.NewString(), houqin.AuditAccessed{
		User: identity(r).UserID, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ProcessID: processID,
	}, houqin.Metadata{Actor: identity(r).UserID, CorrelationID: processID, CausationID: middleware.GetReqID(r.Context()), OccurredAt: now})
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.Append(r.Context(), houqin.AccessStream(now), houqin.ExpectAny, e); err != nil {
		s.cfg.Logger.Error("record audit access", "path", r.URL.Path, "user", e.Meta.Actor, "err", err)
		return houqin.Errorf(houqin.EUNAVAILABLE, "audit: the access could not be recorded, so it is refused; try again")
	}
	return nil
}

// recorded records each request before the handler answers it.
func (s *Server) recorded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.recordAccess(r, chi.URLParam(r, "id")); err != nil {
			s.problems.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// auditVerify answers GET /v1/audit/verify: every hash chain and the latest
// anchor, as an audit.Report (200 also when it finds tampering: ok is false).
// ?anchor=HASH requires an exported anchor to be in the anchor chain.
func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) {
	if !hasAnyRole(identity(r), readerRoles) {
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "audit: only auditors, admins and the logistics manager verify the log"))
		return
	}
	var opt audit.VerifyOptions
	if v := r.URL.Query().Get("anchor"); v != "" {
		if err := opt.ExpectAnchor.UnmarshalText([]byte(v)); err != nil || len(opt.ExpectAnchor) != 32 {
			s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "anchor: must be a SHA-256 hash in hex, got %q", v))
			return
		}
	}
	rep, err := audit.Verify(r.Context(), s.cfg.Store, opt)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// processAudit answers GET /v1/processes/{id}/audit?format=json|jsonl|csv|xlsx:
// every event of the process's stream, read from the event store.
func (s *Server) processAudit(w http.ResponseWriter, r *http.Request) {
	who, id, format := identity(r), chi.URLParam(r, "id"), r.URL.Query().Get("format")
	if format == "" {
		format = audit.Formats[0]
	}
	if !slices.Contains(audit.Formats, format) {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "format: must be one of json, jsonl, csv, xlsx, got %q", format))
		return
	}
	events, err := audit.ReadProcess(r.Context(), s.cfg.Store, id)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	state := audit.StateAt(id, events[:1], audit.EventTime(events[0]))
	if state.Requester != who.UserID && !hasAnyRole(who, readerRoles) {
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "process: %s may not read the audit trail of %s", who.UserID, id))
		return
	}
	var buf bytes.Buffer
	if err := audit.NewTrail(id, events).Write(&buf, format); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", audit.ContentType(format))
	if format != "json" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.audit.`+format+`"`)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// processAsOf answers GET /v1/processes/{id}?as_of=TIME: the process as it
// stood then, folded from its events (audit.StateAt), not the read model.
func (s *Server) processAsOf(w http.ResponseWriter, r *http.Request) {
	who, id, v := identity(r), chi.URLParam(r, "id"), r.URL.Query().Get("as_of")
	if err := s.recordAccess(r, id); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "as_of: must be an RFC 3339 time such as 2026-11-25T10:00:00+08:00, got %q", v))
		return
	}
	events, err := audit.ReadProcess(r.Context(), s.cfg.Store, id)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if !hasAnyRole(who, readerRoles) && !slices.Contains(audit.Participants(events), who.UserID) {
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "process: %s may not read %s", who.UserID, id))
		return
	}
	writeJSON(w, http.StatusOK, audit.StateAt(id, events, at))
}
