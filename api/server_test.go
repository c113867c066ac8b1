package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/internal/contract"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// fixture is a Server over a real SQLite event store and read models (in
// t.TempDir), the default organisation and policy, and a settable clock.
// Its Temporal client is a real one whose server is unreachable: these
// tests cover what the API decides before it talks to Temporal, and any
// call that reaches Temporal fails with 503. What the workflows answer is
// tested end to end against the embedded Temporal server (cmd/houqin).
type fixture struct {
	t        *testing.T
	dir      string
	store    *sqlite.EventStore
	db       *sql.DB
	runner   *projections.Runner
	temporal client.Client
	org      *houqin.Org
	policy   *houqin.Policy
	key      []byte
	handler  http.Handler

	mu  sync.Mutex
	now time.Time
}

func newFixture(t *testing.T, now time.Time) *fixture {
	t.Helper()
	return newFixtureWith(t, now, defaultOrg(t))
}

// newFixtureWith is newFixture with another organisation.
func newFixtureWith(t *testing.T, now time.Time, org *houqin.Org) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), now: now, org: org, key: make([]byte, 32)}
	var err error
	f.temporal, err = client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.temporal.Close)
	f.policy, err = houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	f.store, err = sqlite.OpenEventStore(context.Background(), filepath.Join(f.dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	db, err := sqlite.OpenReadModels(filepath.Join(f.dir, "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.runner = projections.NewRunner(f.store, db, []projections.Projection{projections.Processes{}, projections.Tasks{},
		projections.Budgets{}, projections.PurchasePlan{}, projections.Inventory{}, projections.KPI{}, projections.Notifications{},
		projections.UserPreferences{}}, projections.Options{})
	if err := f.runner.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.handler = api.NewServer(api.Config{Store: f.store, ReadModels: db, Progress: f.runner, Temporal: f.temporal,
		Org: f.org, Policy: f.policy, Auth: api.NewHS256(f.key, f.org), Registry: prometheus.NewRegistry(),
		Now: f.clock, WaitLimit: time.Second, Scratch: sqlite.OpenScratch, DevKey: f.key}).Handler()
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) setNow(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

// catchUp projects every event in the store.
func (f *fixture) catchUp() {
	f.t.Helper()
	if err := f.runner.CatchUp(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// do sends a request as user ("" = no token) and returns the response.
func (f *fixture) do(user, method, path, body string) *httptest.ResponseRecorder {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		tok, err := api.IssueDevToken(f.key, user, time.Hour)
		if err != nil {
			f.t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	checkContract(f.t, r, []byte(body), w.Code, w.Header(), w.Body.Bytes())
	return w
}

// spec checks every exchange of the tests against api/openapi.json.
var spec = sync.OnceValues(func() (*contract.Checker, error) { return contract.New(api.OpenAPI()) })

// checkContract fails t if an exchange departs from the OpenAPI document.
func checkContract(t *testing.T, r *http.Request, body []byte, status int, header http.Header, respBody []byte) {
	t.Helper()
	c, err := spec()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(r, body, status, header, respBody); err != nil {
		t.Errorf("contract: %v", err)
	}
}

// problem decodes a problem response and checks its status and that its
// detail starts with detail.
func problem(t *testing.T, w *httptest.ResponseRecorder, status int, detail string) {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("status %d, body %q: %v", w.Code, w.Body, err)
	}
	if w.Code != status || !strings.HasPrefix(p.Detail, detail) {
		t.Errorf("got %d %q, want %d %q…", w.Code, p.Detail, status, detail)
	}
}

// decodeOK checks a 2xx status and decodes the body into v.
func decodeOK(t *testing.T, w *httptest.ResponseRecorder, status int, v any) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
}
