package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/houqin/houqin/api"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeIdP is a small OpenID Connect provider that checks what the protocol
// requires of a client — the code flow with PKCE S256 (RFC 7636), the
// client ID and redirect URI at both ends, one use of a code — and signs
// in whoever it is told to.
type fakeIdP struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	client string
	user   string // the preferred_username of the next sign-in
	nonce  string // if set, the ID token's nonce instead of the request's (a replayed token)

	loggedOut int // RP-initiated logouts served

	mu    sync.Mutex
	codes map[string]grant
}

type grant struct {
	challenge, redirect, nonce, user string
}

func newFakeIdP(t *testing.T, client string) *fakeIdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeIdP{t: t, key: key, client: client, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported": []string{"S256"}, "end_session_endpoint": p.srv.URL + "/logout"})
	})
	// RP-initiated logout: a known client, back to where it asks.
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != p.client || !strings.HasSuffix(q.Get("post_logout_redirect_uri"), "/login") {
			http.Error(w, "bad logout request", http.StatusBadRequest)
			return
		}
		p.loggedOut++
		http.Redirect(w, r, q.Get("post_logout_redirect_uri"), http.StatusFound)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("response_type") != "code", q.Get("client_id") != p.client, q.Get("redirect_uri") == "",
		q.Get("code_challenge_method") != "S256", len(q.Get("code_challenge")) != 43, q.Get("state") == "", q.Get("nonce") == "",
		!strings.Contains(q.Get("scope"), "openid"):
		p.t.Errorf("authorization request %s breaks the protocol", r.URL.RawQuery)
		http.Error(w, "invalid_request", http.StatusBadRequest)
		return
	}
	code := base64.RawURLEncoding.EncodeToString([]byte(q.Get("state")))[:16]
	p.mu.Lock()
	p.codes[code] = grant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), nonce: q.Get("nonce"), user: p.user}
	p.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
}

func (p *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // a code is good once
	p.mu.Unlock()
	client, _, _ := r.BasicAuth()
	if client == "" {
		client = r.PostForm.Get("client_id")
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok, r.PostForm.Get("grant_type") != "authorization_code", client != p.client,
		r.PostForm.Get("redirect_uri") != g.redirect, base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	if p.nonce != "" {
		g.nonce = p.nonce
	}
	now := time.Now()
	id := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": p.srv.URL, "sub": "idp-" + g.user, "aud": p.client,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce, "preferred_username": g.user})
	id.Header["kid"] = "k1"
	signed, err := id.SignedString(p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": signed})
}

// TestOIDCSignIn: a browser signs in through the provider — PKCE, state and
// nonce checked — and holds a houqin session for the organisation's user
// the ID token names; API clients keep their bearer tokens. A callback
// whose state is not the sign-in's, and a user the organisation does not
// know, are refused.
func TestOIDCSignIn(t *testing.T) {
	org := defaultOrg(t)
	idp := newFakeIdP(t, "houqin-web")
	bearerKey, sessionKey := make([]byte, 32), []byte(strings.Repeat("s", 32))
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	o, err := api.NewOIDC(context.Background(), api.OIDCConfig{Issuer: idp.srv.URL, ClientID: "houqin-web", RedirectURL: srv.URL + "/auth/oidc/callback"})
	if err != nil {
		t.Fatal(err)
	}
	h = api.NewServer(api.Config{Org: org, Registry: prometheus.NewRegistry(), OIDC: o, SessionKey: sessionKey,
		Auth: api.NewHS256(bearerKey, org, api.WithSessionKey(sessionKey))}).Handler()

	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Host == strings.TrimPrefix(srv.URL, "http://") && !strings.HasPrefix(r.URL.Path, "/auth/") {
				return http.ErrUseLastResponse // back on houqin's pages: signed in
			}
			return nil
		}}
	}
	me := func(c *http.Client) (int, string) {
		resp, err := c.Get(srv.URL + "/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var id struct {
			UserID string `json:"user_id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&id)
		return resp.StatusCode, id.UserID
	}

	var cfg map[string]bool
	resp, err := http.Get(srv.URL + "/auth/config")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if !cfg["oidc"] || cfg["dev_login"] {
		t.Errorf("/auth/config = %v, want oidc without the dev login", cfg)
	}

	idp.user = "li.na"
	c := browser()
	resp, err = c.Get(srv.URL + "/auth/oidc/login?next=/inbox")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/inbox" {
		t.Fatalf("the sign-in ended %d at %q, want a redirect to /inbox", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, user := me(c); code != 200 || user != "li.na" {
		t.Errorf("/v1/me after the sign-in = %d %q, want li.na", code, user)
	}
	// Signing out ends houqin's session, then the provider's (RP-initiated
	// logout), which sends the browser back to the login page.
	u, _ := url.Parse(srv.URL)
	var csrf string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == api.CSRFCookie {
			csrf = ck.Value
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/auth/logout", nil)
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		LogoutURL string `json:"logout_url"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(out.LogoutURL, idp.srv.URL+"/logout?") {
		t.Fatalf("POST /auth/logout = %d %+v, want 200 and the provider's logout", resp.StatusCode, out)
	}
	resp, err = c.Get(out.LogoutURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != srv.URL+"/login" || idp.loggedOut != 1 {
		t.Errorf("the provider's logout ended %d at %q (%d logouts), want back at %s/login", resp.StatusCode, resp.Header.Get("Location"), idp.loggedOut, srv.URL)
	}
	if code, _ := me(c); code != http.StatusUnauthorized {
		t.Errorf("/v1/me after signing out = %d, want 401", code)
	}

	// A callback the browser did not start (another state) is refused.
	c = browser()
	resp, err = c.Get(srv.URL + "/auth/oidc/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	forged, err := c.Get(srv.URL + "/auth/oidc/callback?code=x&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	forged.Body.Close()
	if forged.StatusCode != http.StatusUnauthorized {
		t.Errorf("a forged callback = %d, want 401", forged.StatusCode)
	}

	// An ID token minted for another sign-in (its nonce) is refused.
	idp.nonce = "another-sign-in"
	c = browser()
	resp, err = c.Get(srv.URL + "/auth/oidc/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an ID token with another nonce = %d, want 401", resp.StatusCode)
	}
	idp.nonce = ""

	// Someone the provider knows and the organisation does not.
	idp.user = "stranger"
	c = browser()
	resp, err = c.Get(srv.URL + "/auth/oidc/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a stranger's sign-in = %d, want 403", resp.StatusCode)
	}
	if code, _ := me(c); code != http.StatusUnauthorized {
		t.Errorf("the stranger then reads /v1/me: %d, want 401", code)
	}

	// API clients: their bearer token, not the session key.
	tok, err := api.IssueDevToken(bearerKey, "wang.fang", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a bearer token beside OIDC sessions = %d", resp.StatusCode)
	}
}
