package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin/api"
	"github.com/prometheus/client_golang/prometheus"
)

// browser sends a request as the web app does: with the cookies it holds,
// and the CSRF header if csrf is set.
func (f *fixture) browser(cookies []*http.Cookie, csrf, method, path, body string) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	if csrf != "" {
		r.Header.Set(api.CSRFHeader, csrf)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	checkContract(f.t, r, []byte(body), w.Code, w.Header(), w.Body.Bytes())
	return w
}

// TestDevLoginSession: the dev login lists the organisation, signs the
// browser in with an HttpOnly, SameSite=Strict session cookie, and a
// request signed in by the cookie changes nothing without the CSRF header
// that echoes the CSRF cookie; logout expires both.
func TestDevLoginSession(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))

	var people struct {
		Items []struct {
			ID             string            `json:"id"`
			DepartmentName map[string]string `json:"department_name"`
			Roles          []string          `json:"roles"`
		} `json:"items"`
	}
	decodeOK(t, f.browser(nil, "", "GET", "/auth/dev/users", ""), 200, &people)
	found := false
	for _, p := range people.Items {
		if p.ID == "wang.fang" {
			found = p.DepartmentName["zh"] == "市场部" && len(p.Roles) == 1 && p.Roles[0] == "employee"
		}
	}
	if !found {
		t.Errorf("the dev users %+v lack wang.fang of 市场部, an employee", people.Items)
	}

	// The same people, for pickers, to anyone signed in; nobody else.
	var picked struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	decodeOK(t, f.do("li.na", "GET", "/v1/people", ""), 200, &picked)
	if len(picked.Items) != len(people.Items) {
		t.Errorf("/v1/people lists %d people, the dev login %d", len(picked.Items), len(people.Items))
	}
	problem(t, f.do("", "GET", "/v1/people", ""), 401, "authorization: missing bearer token")

	problem(t, f.browser(nil, "", "POST", "/auth/dev/login", `{"user":"nobody"}`), 400, `user: no member of the organisation "nobody"`)
	problem(t, f.browser(nil, "", "POST", "/auth/dev/login", `{}`), 400, "user: required")
	w := f.browser(nil, "", "POST", "/auth/dev/login", `{"user":"wang.fang"}`)
	if w.Code != 200 {
		t.Fatalf("login = %d %s", w.Code, w.Body)
	}
	var session, csrf *http.Cookie
	for _, c := range w.Result().Cookies() {
		switch c.Name {
		case api.SessionCookie:
			session = c
		case api.CSRFCookie:
			csrf = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.MaxAge <= 0 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, a lifetime", session)
	}
	if csrf == nil || csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || len(csrf.Value) != 64 {
		t.Fatalf("csrf cookie %+v: want readable by the page, SameSite=Strict, 32 random bytes", csrf)
	}
	jar := []*http.Cookie{session, csrf}

	var me struct {
		UserID string `json:"user_id"`
	}
	decodeOK(t, f.browser(jar, "", "GET", "/v1/me", ""), 200, &me)
	if me.UserID != "wang.fang" {
		t.Errorf("/v1/me = %+v", me)
	}
	problem(t, f.browser(jar, "", "POST", "/v1/procurements/preview", procurementBody), 403, "csrf: a POST signed in by cookie needs the X-CSRF-Token header")
	problem(t, f.browser(jar, strings.Repeat("0", 64), "POST", "/v1/procurements/preview", procurementBody), 403, "csrf:")
	if w := f.browser(jar, csrf.Value, "POST", "/v1/procurements/preview", procurementBody); w.Code != 200 {
		t.Errorf("preview with the CSRF header = %d %s", w.Code, w.Body)
	}
	// A bearer token needs no CSRF header: no browser sends it by itself.
	if w := f.do("wang.fang", "POST", "/v1/procurements/preview", procurementBody); w.Code != 200 {
		t.Errorf("preview with a bearer token = %d %s", w.Code, w.Body)
	}

	w = f.browser(jar, "", "POST", "/auth/logout", "")
	if w.Code != 204 {
		t.Fatalf("logout = %d", w.Code)
	}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("after logout cookie %s = %+v, want expired", c.Name, c)
		}
	}
	problem(t, f.browser(nil, "", "GET", "/v1/me", ""), 401, "authorization: missing bearer token")
}

// TestWebBesideTheAPI: a GET outside the API is the web app's (a page the
// app routes on the client); an unknown API path stays a 404 problem, and
// an unsafe method never reaches the app.
func TestWebBesideTheAPI(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("the app")) })
	h := api.NewServer(api.Config{Auth: api.NewHS256(make([]byte, 32), nil), Registry: prometheus.NewRegistry(), Web: app}).Handler()
	for _, tt := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/", 200, "the app"},
		{"GET", "/inbox", 200, "the app"},
		{"HEAD", "/processes/PR-2026-000001", 200, ""},
		{"GET", "/v1/nope", 401, `"authorization: missing bearer token"`}, // the API's, not the app's
		{"GET", "/auth/nope", 404, `"path: no route GET /auth/nope"`},
		{"POST", "/inbox", 404, `"path: no route POST /inbox"`},
		{"GET", "/v1", 401, `"authorization: missing bearer token"`},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.body) {
			t.Errorf("%s %s = %d %q, want %d with %q", tt.method, tt.path, w.Code, w.Body, tt.status, tt.body)
		}
	}
}
