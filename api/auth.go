package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/houqin/houqin"
)

// DevIssuer is the "iss" claim of tokens made by IssueDevToken.
const DevIssuer = "houqin-dev"

// DevKeyFile is the name of the HS256 development key in the data directory.
const DevKeyFile = "dev-jwt.key"

// devKeySize is the size of a generated development key: 256 bits, the HS256
// minimum of RFC 7518.
const devKeySize = 32

// Authenticator checks the bearer token of each request and resolves its
// subject to a user of the organisation.
type Authenticator struct {
	org      *houqin.Org
	alg      string                            // the one signing algorithm accepted
	keyfunc  func(context.Context) jwt.Keyfunc // the verification key(s) of a token
	parser   *jwt.Parser
	problems *Problems
	// sessions, if set, verifies the tokens of browser sessions (the session
	// cookie), which houqin signs itself (HS256, WithSessionKey), where the
	// bearer tokens of API clients come from the identity provider.
	sessions *Authenticator
}

// Option configures an Authenticator.
type Option func(*authOptions)

type authOptions struct {
	problems   *Problems
	issuer     string
	audience   string
	leeway     time.Duration
	sessionKey []byte
}

// WithSessionKey makes the Authenticator verify the session cookie's token
// with HS256 and key (browser sessions signed in through OIDC), whatever
// verifies bearer tokens.
func WithSessionKey(key []byte) Option { return func(o *authOptions) { o.sessionKey = key } }

// WithProblems makes the Authenticator answer failures through p (its log
// and metrics); the default is a nil *Problems.
func WithProblems(p *Problems) Option { return func(o *authOptions) { o.problems = p } }

// WithIssuer makes the Authenticator accept only tokens whose "iss" claim is
// iss, e.g. the OIDC issuer URL.
func WithIssuer(iss string) Option { return func(o *authOptions) { o.issuer = iss } }

// WithAudience makes the Authenticator accept only tokens whose "aud" claim
// contains aud, e.g. houqin's OIDC client ID.
func WithAudience(aud string) Option { return func(o *authOptions) { o.audience = aud } }

// WithLeeway sets the clock skew tolerated on "exp", "nbf" and "iat"
// (default 30s).
func WithLeeway(d time.Duration) Option { return func(o *authOptions) { o.leeway = d } }

func newAuthenticator(org *houqin.Org, alg string, kf func(context.Context) jwt.Keyfunc, opts []Option) *Authenticator {
	o := authOptions{leeway: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{alg}), // refuses "none" and HS/RS confusion
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.leeway),
	}
	if o.issuer != "" {
		popts = append(popts, jwt.WithIssuer(o.issuer))
	}
	if o.audience != "" {
		popts = append(popts, jwt.WithAudience(o.audience))
	}
	a := &Authenticator{org: org, alg: alg, keyfunc: kf, parser: jwt.NewParser(popts...), problems: o.problems}
	if o.sessionKey != nil {
		a.sessions = NewHS256(o.sessionKey, org)
	}
	return a
}

// NewHS256 returns an Authenticator for tokens signed with HS256 and key, the
// development key (see LoadOrCreateDevKey and IssueDevToken). It panics if
// key is shorter than 32 bytes, which would make tokens guessable.
func NewHS256(key []byte, org *houqin.Org, opts ...Option) *Authenticator {
	if len(key) < devKeySize {
		panic(fmt.Sprintf("api.NewHS256: key of %d bytes, need at least %d", len(key), devKeySize))
	}
	key = append([]byte(nil), key...)
	kf := func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, fmt.Errorf("signing method %v is not HMAC", t.Header["alg"])
		}
		return key, nil
	}
	return newAuthenticator(org, jwt.SigningMethodHS256.Alg(), func(context.Context) jwt.Keyfunc { return kf }, opts)
}

// NewJWKS returns an Authenticator for RS256 tokens of an OIDC issuer, whose
// public keys it fetches from the JWK Set at url. It fails if the first fetch
// fails; afterwards it refreshes the set hourly and when a token names an
// unknown key ID (at most every 5 minutes), until ctx ends.
func NewJWKS(ctx context.Context, url string, org *houqin.Org, opts ...Option) (*Authenticator, error) {
	fail := false
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		HTTPTimeout:               10 * time.Second,
		NoErrorReturnFirstHTTPReq: &fail,
	})
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", url, err)
	}
	return newAuthenticator(org, jwt.SigningMethodRS256.Alg(), kf.KeyfuncCtx, opts), nil
}

// Middleware authenticates each request by its "Authorization: Bearer <JWT>"
// header and passes it on with the user's houqin.Identity in its context
// (IdentityFrom). A request without a valid, unexpired token of a known user
// gets 401 with an EUNAUTHORIZED problem.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="houqin"`)
			a.problems.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithIdentity(r.Context(), id)))
	})
}

// Authenticate returns the identity a request's bearer token proves, or
// EUNAUTHORIZED saying what is wrong with the token.
//
// A browser holds its token in the session cookie instead (SessionCookie,
// HttpOnly: no script reads it); a request authenticated by the cookie
// with an unsafe method must also carry the CSRF header (CSRFHeader)
// equal to the CSRF cookie (CSRFCookie), which only a page of this origin
// can read: another site's form or fetch cannot.
func (a *Authenticator) Authenticate(r *http.Request) (houqin.Identity, error) {
	raw, cookie, err := requestToken(r)
	if err != nil {
		return houqin.Identity{}, err
	}
	if cookie && a.sessions != nil {
		return a.sessions.verify(r.Context(), raw)
	}
	return a.verify(r.Context(), raw)
}

// verify returns the identity a token proves.
func (a *Authenticator) verify(ctx context.Context, raw string) (houqin.Identity, error) {
	var claims jwt.RegisteredClaims
	t, err := a.parser.ParseWithClaims(raw, &claims, a.keyfunc(ctx))
	if err != nil {
		if t != nil && t.Method != nil && t.Method.Alg() != a.alg {
			return houqin.Identity{}, houqin.Errorf(houqin.EUNAUTHORIZED, "token: signing method %q not accepted, want %s", t.Method.Alg(), a.alg)
		}
		return houqin.Identity{}, houqin.Errorf(houqin.EUNAUTHORIZED, "token: %s", tokenProblem(err))
	}
	if claims.Subject == "" {
		return houqin.Identity{}, houqin.Errorf(houqin.EUNAUTHORIZED, "token: no subject (sub)")
	}
	u, err := a.org.User(claims.Subject)
	if err != nil {
		return houqin.Identity{}, houqin.Errorf(houqin.EUNAUTHORIZED, "token: unknown user %q", claims.Subject)
	}
	if u.Left {
		// A token outlives employment; the organisation decides.
		return houqin.Identity{}, houqin.Errorf(houqin.EUNAUTHORIZED, "token: %q has left the organisation", claims.Subject)
	}
	return a.org.Identity(u.ID)
}

// requestToken returns the JWT of a request: its bearer token, else its
// session cookie (cookie is then true), CSRF-checked.
func requestToken(r *http.Request) (raw string, cookie bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, raw, ok := strings.Cut(h, " ")
		raw = strings.TrimSpace(raw)
		if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
			return "", false, houqin.Errorf(houqin.EUNAUTHORIZED, `authorization: want "Bearer <token>"`)
		}
		return raw, false, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", false, houqin.Errorf(houqin.EUNAUTHORIZED, "authorization: missing bearer token")
	}
	if !safeMethod(r.Method) {
		csrf, err := r.Cookie(CSRFCookie)
		header := r.Header.Get(CSRFHeader)
		if err != nil || csrf.Value == "" || header == "" || subtle.ConstantTimeCompare([]byte(csrf.Value), []byte(header)) != 1 {
			return "", true, houqin.Errorf(houqin.EFORBIDDEN, "csrf: a %s signed in by cookie needs the %s header equal to the %s cookie", r.Method, CSRFHeader, CSRFCookie)
		}
	}
	return c.Value, true, nil
}

// safeMethod reports whether a method changes nothing (RFC 9110, 9.2.1).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// tokenProblem says why a token was refused, in words safe for a client.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "invalid signature"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "no key to verify it (unknown signing method or key ID)"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing (exp)"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	}
	return "invalid"
}

// identityKey is the context key of the authenticated identity.
type identityKey struct{}

// ContextWithIdentity returns a copy of ctx carrying id, as Middleware does
// for an authenticated request.
func ContextWithIdentity(ctx context.Context, id houqin.Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity Middleware put in ctx, and whether there
// is one.
func IdentityFrom(ctx context.Context) (houqin.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(houqin.Identity)
	return id, ok
}

// LoadOrCreateDevKey returns the HS256 development key kept in
// dataDir/dev-jwt.key, creating the directory and the file (32 random bytes,
// mode 0600) if they do not exist. Concurrent callers on a fresh directory
// all end up with the same key.
func LoadOrCreateDevKey(dataDir string) ([]byte, error) { return LoadOrCreateKey(dataDir, DevKeyFile) }

// SessionKeyFile is the name of the key of browser sessions in the data
// directory, when an identity provider signs people in.
const SessionKeyFile = "session.key"

// LoadOrCreateKey reads the secret key name in dir, or creates it (32
// random bytes, mode 0600) if it does not exist yet.
func LoadOrCreateKey(dataDir, name string) ([]byte, error) {
	path := filepath.Join(dataDir, name)
	key, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(key) < devKeySize {
			return nil, fmt.Errorf("key %s: %d bytes, need at least %d; delete it to make a new one", path, len(key), devKeySize)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("key %s: %w", path, err)
	}

	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	key = make([]byte, devKeySize)
	rand.Read(key)
	// Write a temporary file, then link it into place: the key appears
	// complete or not at all, and a concurrent creator's key wins or loses
	// as a whole.
	tmp, err := os.CreateTemp(dataDir, "."+name+".*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return LoadOrCreateDevKey(dataDir)
	} else if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return key, nil
}

// IssueDevToken returns an HS256 token for userID ("sub"), issued by
// DevIssuer and valid for ttl, that NewHS256(key, …) accepts. It does not
// check that the user exists; the Authenticator does, on every request.
func IssueDevToken(key []byte, userID string, ttl time.Duration) (string, error) {
	switch {
	case len(key) < devKeySize:
		return "", houqin.Errorf(houqin.EINVALID, "key: %d bytes, need at least %d", len(key), devKeySize)
	case userID == "":
		return "", houqin.Errorf(houqin.EINVALID, "user: required")
	case ttl <= 0:
		return "", houqin.Errorf(houqin.EINVALID, "ttl: must be positive, got %s", ttl)
	}
	now := time.Now()
	claims := jwt.RegisteredClaims{
		Issuer:    DevIssuer,
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign dev token: %w", err)
	}
	return s, nil
}
