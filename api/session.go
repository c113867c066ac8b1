package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/houqin/houqin"
)

// The web app's session: its token lives in an HttpOnly cookie, and a
// second cookie, readable by the app's own pages only, holds the CSRF
// token it echoes in CSRFHeader on every unsafe request (Authenticate).
const (
	SessionCookie = "houqin_session"
	CSRFCookie    = "houqin_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// DefaultSessionTTL is how long a browser session lasts before the user
// signs in again.
const DefaultSessionTTL = 12 * time.Hour

// person is a member of the organisation as the web app shows them: the
// dev login page, the people pickers (GET /v1/people).
type person struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	NameEn         string      `json:"name_en"`
	Department     string      `json:"department"`
	DepartmentName houqin.Text `json:"department_name"`
	Roles          []string    `json:"roles"`
}

// people lists everyone in the organisation who has not left, with their
// department and roles: who may sign in on the dev login page
// (/auth/dev/users), and whom a signed-in user may pick as a delegate or a
// transfer's assignee (/v1/people).
func (s *Server) people(w http.ResponseWriter, r *http.Request) {
	items := []person{}
	for _, u := range s.cfg.Org.Users() {
		if u.Left {
			continue
		}
		p := person{ID: u.ID, Name: u.Name, NameEn: u.NameEn, Department: u.Department, Roles: append([]string{}, u.Roles...)}
		if d, err := s.cfg.Org.Department(u.Department); err == nil {
			p.DepartmentName = houqin.Text{Zh: d.Name, En: d.NameEn}
		}
		items = append(items, p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// devLogin signs the browser in as the user the body names, with a dev
// token (Config.DevKey) in the session cookie and a fresh CSRF token.
func (s *Server) devLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		User string `json:"user"`
	}
	if err := decode(r, &body); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if body.User == "" {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "user: required"))
		return
	}
	u, err := s.cfg.Org.User(body.User)
	if err != nil || u.Left {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "user: no member of the organisation %q", body.User))
		return
	}
	ttl := s.sessionTTL()
	token, err := IssueDevToken(s.cfg.DevKey, u.ID, ttl)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	csrf := make([]byte, 32)
	_, _ = rand.Read(csrf) // never fails (crypto/rand)
	s.setSession(w, r, token, hex.EncodeToString(csrf), ttl)
	id, err := s.cfg.Org.Identity(u.ID)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, id)
}

// logout ends the browser's session: both cookies expire.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.setSession(w, r, "", "", -1)
	// Signed in through a provider that ends sessions too: the browser
	// goes there next (RP-initiated logout), then back to the login page.
	if u := s.cfg.OIDC.LogoutURL(); u != "" {
		writeJSON(w, http.StatusOK, map[string]string{"logout_url": u})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// me returns who the request is signed in as.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, identity(r))
}

// setSession sets (ttl > 0) or clears the session and CSRF cookies: both
// SameSite=Strict, Secure over TLS; the session cookie HttpOnly.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, token, csrf string, ttl time.Duration) {
	maxAge := int(ttl / time.Second)
	if ttl < 0 {
		maxAge = -1
	}
	secure := r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", MaxAge: maxAge,
		Secure: secure, SameSite: http.SameSiteStrictMode})
}

func (s *Server) sessionTTL() time.Duration {
	if s.cfg.SessionTTL > 0 {
		return s.cfg.SessionTTL
	}
	return DefaultSessionTTL
}
