package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/houqin/houqin"
	"golang.org/x/oauth2"
)

// OIDCConfig configures the browser sign-in through an OpenID Connect
// provider: the authorization code flow with PKCE (S256), a state and a
// nonce.
type OIDCConfig struct {
	Issuer       string // the provider's issuer URL; its discovery document is fetched at start
	ClientID     string
	ClientSecret string // "" for a public client (PKCE alone)
	RedirectURL  string // houqin's callback as registered at the provider: https://…/auth/oidc/callback
	// UserClaim names the ID token claim that holds the houqin user ID;
	// default "preferred_username".
	UserClaim string
}

// OIDC signs browsers in through a provider and hands them a houqin
// session (the session cookie, signed with the session key).
type OIDC struct {
	cfg        OIDCConfig
	verifier   *oidc.IDTokenVerifier
	oauth      oauth2.Config
	endSession string // the provider's end_session_endpoint (RP-initiated logout), if it has one
}

// NewOIDC fetches the provider's discovery document and returns the sign-in.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, houqin.Errorf(houqin.EINVALID, "oidc: the issuer, the client ID and the redirect URL are required")
	}
	if cfg.UserClaim == "" {
		cfg.UserClaim = "preferred_username"
	}
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery of %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: discovery of %s: %w", cfg.Issuer, err)
	}
	return &OIDC{cfg: cfg, verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID}), endSession: meta.EndSession,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}}}, nil
}

// LogoutURL is where a browser signing out of houqin goes to sign out of
// the provider too (OpenID Connect RP-Initiated Logout): its
// end_session_endpoint with this client and houqin's login page to come
// back to; "" when the provider has none.
func (o *OIDC) LogoutURL() string {
	if o == nil || o.endSession == "" {
		return ""
	}
	back, err := url.Parse(o.cfg.RedirectURL)
	if err != nil {
		return ""
	}
	back.Path, back.RawQuery = "/login", ""
	u, err := url.Parse(o.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", o.cfg.ClientID)
	q.Set("post_logout_redirect_uri", back.String())
	u.RawQuery = q.Encode()
	return u.String()
}

// oidcCookie carries a sign-in's state, nonce and PKCE verifier from the
// redirect to the provider to the callback; it is HttpOnly, signed with the
// session key, and lives ten minutes.
const oidcCookie = "houqin_oidc"

type oidcFlow struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Next     string    `json:"next"`
	Expires  time.Time `json:"expires"`
}

// oidcConfigured answers 404 on the sign-in routes of a server without a
// provider (or without a session key to sign its sessions with).
func (s *Server) oidcConfigured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.OIDC == nil || len(s.cfg.SessionKey) < devKeySize {
			s.problems.Error(w, r, houqin.Errorf(houqin.ENOTFOUND, "oidc: sign-in through an identity provider is not configured here"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// oidcLogin sends the browser to the provider.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) {
	o := s.cfg.OIDC
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/" // only a path of this site: never an open redirect
	}
	f := oidcFlow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: next, Expires: time.Now().Add(10 * time.Minute)}
	b, _ := json.Marshal(f)
	// SameSite=Lax: the provider's redirect back is a cross-site top-level
	// navigation, on which a Strict cookie would not be sent.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: s.sign(b), Path: "/auth/oidc", MaxAge: 600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, o.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// oidcCallback checks the provider's answer — the state against the
// cookie's, the code exchanged with the PKCE verifier, the ID token's
// signature, issuer, audience, expiry and nonce — and signs the browser in
// as the organisation's user the token's UserClaim names.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	o := s.cfg.OIDC
	fail := func(format string, args ...any) {
		s.problems.Error(w, r, houqin.Errorf(houqin.EUNAUTHORIZED, format, args...))
	}
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		fail("oidc: no sign-in in progress (its cookie is missing or expired); start again")
		return
	}
	raw, ok := s.verify(c.Value)
	var f oidcFlow
	if !ok || json.Unmarshal(raw, &f) != nil || time.Now().After(f.Expires) {
		fail("oidc: the sign-in cookie is invalid or expired; start again")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Path: "/auth/oidc", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		fail("oidc: the provider refused: %s %s", e, q.Get("error_description"))
		return
	}
	if q.Get("state") == "" || !hmac.Equal([]byte(q.Get("state")), []byte(f.State)) {
		fail("oidc: state does not match the sign-in's")
		return
	}
	tok, err := o.oauth.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		fail("oidc: the code exchange failed: %v", err)
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		fail("oidc: the provider returned no ID token")
		return
	}
	id, err := o.verifier.Verify(r.Context(), rawID)
	if err != nil {
		fail("oidc: ID token: %v", err)
		return
	}
	if !hmac.Equal([]byte(id.Nonce), []byte(f.Nonce)) {
		fail("oidc: ID token: nonce does not match the sign-in's")
		return
	}
	var claims map[string]any
	if err := id.Claims(&claims); err != nil {
		fail("oidc: ID token claims: %v", err)
		return
	}
	user, _ := claims[o.cfg.UserClaim].(string)
	u, err := s.cfg.Org.User(user)
	if user == "" || err != nil || u.Left {
		s.problems.Error(w, r, houqin.Errorf(houqin.EFORBIDDEN, "oidc: %s %q is not a member of the organisation", o.cfg.UserClaim, user))
		return
	}
	ttl := s.sessionTTL()
	session, err := IssueDevToken(s.cfg.SessionKey, u.ID, ttl)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	s.setSession(w, r, session, random(), ttl)
	http.Redirect(w, r, f.Next, http.StatusFound)
}

// authConfig tells the web app how people sign in here.
func (s *Server) authConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"dev_login": s.cfg.DevKey != nil, "oidc": s.cfg.OIDC != nil})
}

// sign returns b and its HMAC-SHA256 under the session key, base64url.
func (s *Server) sign(b []byte) string {
	m := hmac.New(sha256.New, s.cfg.SessionKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verify returns what sign signed, if the signature holds.
func (s *Server) verify(v string) ([]byte, bool) {
	body, mac, ok := strings.Cut(v, ".")
	if !ok {
		return nil, false
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	sum, err2 := base64.RawURLEncoding.DecodeString(mac)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	m := hmac.New(sha256.New, s.cfg.SessionKey)
	m.Write(b)
	return b, hmac.Equal(sum, m.Sum(nil))
}

// random returns 32 random bytes, hex.
func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
