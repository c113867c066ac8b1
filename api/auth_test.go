package api_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/config"
	"github.com/prometheus/client_golang/prometheus"
)

func defaultOrg(t *testing.T) *houqin.Org {
	t.Helper()
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// whoami answers with the identity the middleware put in the context.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := api.IdentityFrom(r.Context())
	if !ok {
		http.Error(w, "no identity", http.StatusTeapot)
		return
	}
	json.NewEncoder(w).Encode(id)
})

// sign returns a token for claims signed with method and key, with a "kid"
// header unless kid is "".
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(sub string, iat, exp time.Duration) jwt.RegisteredClaims {
	now := time.Now()
	c := jwt.RegisteredClaims{Subject: sub, IssuedAt: jwt.NewNumericDate(now.Add(iat))}
	if exp != 0 {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(exp))
	}
	return c
}

// call sends GET / through a's middleware with the Authorization header h
// ("" = none) and returns the response.
func call(t *testing.T, a *api.Authenticator, h string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/v1/tasks", nil)
	if h != "" {
		r.Header.Set("Authorization", h)
	}
	w := httptest.NewRecorder()
	a.Middleware(whoami).ServeHTTP(w, r)
	return w
}

// wantIdentity checks that w is the 200 answer of whoami for want.
func wantIdentity(t *testing.T, w *httptest.ResponseRecorder, want houqin.Identity) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", w.Code, w.Body)
	}
	var got houqin.Identity
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
}

// wantUnauthorized checks that w is a 401 EUNAUTHORIZED problem with detail.
func wantUnauthorized(t *testing.T, w *httptest.ResponseRecorder, detail string) {
	t.Helper()
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401; body %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if h := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Errorf("WWW-Authenticate %q, want a Bearer challenge", h)
	}
	var got api.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	want := api.Problem{Type: "https://houqin.dev/problems/EUNAUTHORIZED", Title: "Unauthorized", Status: 401, Code: "EUNAUTHORIZED", Detail: detail}
	if got != want {
		t.Errorf("problem\n got %+v\nwant %+v", got, want)
	}
}

var wangFang = houqin.Identity{UserID: "wang.fang", Name: "王芳", Department: "MKT", Roles: []string{"employee"}}

func TestHS256(t *testing.T) {
	org := defaultOrg(t)
	key, err := api.LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	a := api.NewHS256(key, org, api.WithProblems(api.NewProblems(nil, reg)))

	t.Run("dev token", func(t *testing.T) {
		tok, err := api.IssueDevToken(key, "wang.fang", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wantIdentity(t, call(t, a, "Bearer "+tok), wangFang)
		wantIdentity(t, call(t, a, "bearer "+tok), wangFang) // the scheme is case-insensitive
	})

	otherKey := bytes.Repeat([]byte{7}, 32)
	rsaKey := mustRSAKey(t)
	valid := sign(t, jwt.SigningMethodHS256, key, "", claims("wang.fang", 0, time.Hour))
	parts := strings.Split(valid, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"zhang.wei","exp":9999999999}`)) + "." + parts[2]
	tests := []struct {
		name   string
		header string
		detail string
	}{
		{"no header", "", "authorization: missing bearer token"},
		{"basic auth", "Basic d2FuZy5mYW5nOnB3", `authorization: want "Bearer <token>"`},
		{"bearer without token", "Bearer ", `authorization: want "Bearer <token>"`},
		{"malformed", "Bearer not-a-jwt", "token: malformed"},
		{"malformed base64", "Bearer a.b.c", "token: malformed"},
		{"other key", "Bearer " + sign(t, jwt.SigningMethodHS256, otherKey, "", claims("wang.fang", 0, time.Hour)), "token: invalid signature"},
		{"forged payload", "Bearer " + forged, "token: invalid signature"},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, key, "", claims("wang.fang", -2*time.Hour, -time.Hour)), "token: expired"},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, key, "", claims("wang.fang", 0, 0)), "token: a required claim is missing (exp)"},
		{"issued in the future", "Bearer " + sign(t, jwt.SigningMethodHS256, key, "", claims("wang.fang", time.Hour, 2*time.Hour)), "token: not valid yet"},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims("wang.fang", 0, time.Hour)),
			`token: signing method "none" not accepted, want HS256`},
		{"alg HS512", "Bearer " + sign(t, jwt.SigningMethodHS512, key, "", claims("wang.fang", 0, time.Hour)),
			`token: signing method "HS512" not accepted, want HS256`},
		{"alg RS256", "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey, "", claims("wang.fang", 0, time.Hour)),
			`token: signing method "RS256" not accepted, want HS256`},
		{"no subject", "Bearer " + sign(t, jwt.SigningMethodHS256, key, "", claims("", 0, time.Hour)), "token: no subject (sub)"},
		{"unknown user", "Bearer " + sign(t, jwt.SigningMethodHS256, key, "", claims("ghost", 0, time.Hour)), `token: unknown user "ghost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantUnauthorized(t, call(t, a, tt.header), tt.detail)
		})
	}
	if n := errorsTotal(t, reg, houqin.EUNAUTHORIZED); n != float64(len(tests)) {
		t.Errorf("houqin_http_errors_total{code=EUNAUTHORIZED} = %v, want %d", n, len(tests))
	}
}

func TestIssuerAndAudience(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	a := api.NewHS256(key, defaultOrg(t), api.WithIssuer("https://sso.example.com"), api.WithAudience("houqin"))
	c := claims("wang.fang", 0, time.Hour)
	c.Issuer, c.Audience = "https://sso.example.com", jwt.ClaimStrings{"houqin", "other"}
	wantIdentity(t, call(t, a, "Bearer "+sign(t, jwt.SigningMethodHS256, key, "", c)), wangFang)

	wrongIss := c
	wrongIss.Issuer = "https://evil.example.com"
	wantUnauthorized(t, call(t, a, "Bearer "+sign(t, jwt.SigningMethodHS256, key, "", wrongIss)), "token: wrong issuer")
	wrongAud := c
	wrongAud.Audience = jwt.ClaimStrings{"payroll"}
	wantUnauthorized(t, call(t, a, "Bearer "+sign(t, jwt.SigningMethodHS256, key, "", wrongAud)), "token: wrong audience")
}

func mustRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// jwksServer serves the public keys in keys by kid as a JWK Set; keys may
// change between requests while mu is held.
func jwksServer(t *testing.T, mu *sync.Mutex, keys map[string]*rsa.PublicKey) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		for kid, k := range keys {
			set.Keys = append(set.Keys, map[string]string{
				"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestJWKS(t *testing.T) {
	org := defaultOrg(t)
	key, other := mustRSAKey(t), mustRSAKey(t)
	srv := jwksServer(t, new(sync.Mutex), map[string]*rsa.PublicKey{"k1": &key.PublicKey})
	a, err := api.NewJWKS(t.Context(), srv.URL, org)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("RS256 token", func(t *testing.T) {
		wantIdentity(t, call(t, a, "Bearer "+sign(t, jwt.SigningMethodRS256, key, "k1", claims("wang.fang", 0, time.Hour))), wangFang)
	})
	t.Run("RS256 token without kid", func(t *testing.T) {
		wantIdentity(t, call(t, a, "Bearer "+sign(t, jwt.SigningMethodRS256, key, "", claims("wang.fang", 0, time.Hour))), wangFang)
	})

	// The classic confusion attack: an HS256 token whose HMAC key is the
	// issuer's public key, which anyone can fetch.
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	devKey := bytes.Repeat([]byte{9}, 32)
	tests := []struct {
		name   string
		token  string
		detail string
	}{
		{"HS256 with the public key", sign(t, jwt.SigningMethodHS256, pub, "k1", claims("wang.fang", 0, time.Hour)),
			`token: signing method "HS256" not accepted, want RS256`},
		{"HS256 dev token", sign(t, jwt.SigningMethodHS256, devKey, "", claims("wang.fang", 0, time.Hour)),
			`token: signing method "HS256" not accepted, want RS256`},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1", claims("wang.fang", 0, time.Hour)),
			`token: signing method "none" not accepted, want RS256`},
		{"other key, same kid", sign(t, jwt.SigningMethodRS256, other, "k1", claims("wang.fang", 0, time.Hour)), "token: invalid signature"},
		{"other key, no kid", sign(t, jwt.SigningMethodRS256, other, "", claims("wang.fang", 0, time.Hour)), "token: invalid signature"},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, other, "k2", claims("wang.fang", 0, time.Hour)), "token: no key to verify it (unknown signing method or key ID)"},
		{"expired", sign(t, jwt.SigningMethodRS256, key, "k1", claims("wang.fang", -2*time.Hour, -time.Hour)), "token: expired"},
		{"unknown user", sign(t, jwt.SigningMethodRS256, key, "k1", claims("ghost", 0, time.Hour)), `token: unknown user "ghost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantUnauthorized(t, call(t, a, "Bearer "+tt.token), tt.detail)
		})
	}
}

// TestJWKSRotation checks that a token signed with a key the issuer added
// after start-up is accepted: an unknown kid refreshes the set.
func TestJWKSRotation(t *testing.T) {
	old, rotated := mustRSAKey(t), mustRSAKey(t)
	keys := map[string]*rsa.PublicKey{"old": &old.PublicKey}
	var mu sync.Mutex
	srv := jwksServer(t, &mu, keys)
	a, err := api.NewJWKS(t.Context(), srv.URL, defaultOrg(t))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	keys["new"] = &rotated.PublicKey
	mu.Unlock()
	wantIdentity(t, call(t, a, "Bearer "+sign(t, jwt.SigningMethodRS256, rotated, "new", claims("wang.fang", 0, time.Hour))), wangFang)
}

func TestNewJWKSFailsWithoutKeys(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }},
		{"not a JWK set", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>login</html>")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			if _, err := api.NewJWKS(t.Context(), srv.URL, defaultOrg(t)); err == nil {
				t.Fatal("NewJWKS succeeded")
			} else if !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %q does not name the URL", err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		if _, err := api.NewJWKS(t.Context(), srv.URL, defaultOrg(t)); err == nil {
			t.Fatal("NewJWKS succeeded")
		}
	})
}

func TestLoadOrCreateDevKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	key, err := api.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Fatalf("key of %d bytes, want 32", len(key))
	}
	path := filepath.Join(dir, "dev-jwt.key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode %v, want 0600", mode)
	}
	onDisk, _ := os.ReadFile(path)
	if !bytes.Equal(onDisk, key) {
		t.Error("the returned key is not the one on disk")
	}

	again, err := api.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, key) {
		t.Error("a second call made a new key instead of reusing the file")
	}
	tok, err := api.IssueDevToken(key, "wang.fang", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	wantIdentity(t, call(t, api.NewHS256(again, defaultOrg(t)), "Bearer "+tok), wangFang)

	other, err := api.LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, key) {
		t.Error("two data directories got the same key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the key (temporary files left?)", len(entries))
	}
}

func TestLoadOrCreateDevKeyConcurrently(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := api.LoadOrCreateDevKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i, k := range keys {
		if !bytes.Equal(k, keys[0]) || len(k) != 32 {
			t.Errorf("caller %d got key %x, caller 0 got %x", i, k, keys[0])
		}
	}
}

func TestLoadOrCreateDevKeyRefusesShortKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dev-jwt.key"), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := api.LoadOrCreateDevKey(dir); err == nil || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("error = %v, want one about the 5-byte key", err)
	}
}

func TestIssueDevToken(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 32)
	tok, err := api.IssueDevToken(key, "li.na", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.RegisteredClaims
	if _, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return key, nil }, jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Fatal(err)
	}
	if c.Subject != "li.na" || c.Issuer != "houqin-dev" {
		t.Errorf("sub %q iss %q, want li.na houqin-dev", c.Subject, c.Issuer)
	}
	if ttl := c.ExpiresAt.Sub(c.IssuedAt.Time); ttl != 24*time.Hour {
		t.Errorf("exp - iat = %v, want 24h", ttl)
	}

	tests := []struct {
		name string
		key  []byte
		user string
		ttl  time.Duration
		want string
	}{
		{"short key", []byte("k"), "li.na", time.Hour, "key: 1 bytes, need at least 32"},
		{"no user", key, "", time.Hour, "user: required"},
		{"zero ttl", key, "li.na", 0, "ttl: must be positive, got 0s"},
		{"negative ttl", key, "li.na", -time.Minute, "ttl: must be positive, got -1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.IssueDevToken(tt.key, tt.user, tt.ttl)
			if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
				t.Errorf("error %v, want EINVALID %q", err, tt.want)
			}
		})
	}
}

func TestIdentityFrom(t *testing.T) {
	if _, ok := api.IdentityFrom(t.Context()); ok {
		t.Error("IdentityFrom an empty context reports an identity")
	}
	ctx := api.ContextWithIdentity(t.Context(), wangFang)
	if id, ok := api.IdentityFrom(ctx); !ok || id.UserID != "wang.fang" {
		t.Errorf("IdentityFrom = %+v, %v", id, ok)
	}
}

func TestNewHS256RefusesShortKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewHS256 accepted a 16-byte key")
		}
	}()
	api.NewHS256(make([]byte, 16), defaultOrg(t))
}
