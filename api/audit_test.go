package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/audit"
	"github.com/houqin/houqin/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/xuri/excelize/v2"
)

const auditPID = "PR-2026-000042"

var auditT0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// auditServer is an API on a real SQLite event store holding one
// procurement: submitted by wang.fang, a task for liu.yang, approved.
type auditServer struct {
	url   string
	key   []byte
	store houqin.EventStore
	now   time.Time
}

func newAuditServer(t *testing.T) *auditServer {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.OpenEventStore(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	task := houqin.Task{ID: auditPID + ".dept_approval.1", ProcessID: auditPID, Kind: houqin.KindProcurement, Step: "dept_approval",
		Assignees: []string{"liu.yang"}, Actions: []string{"approve", "reject"}}
	for i, d := range []houqin.EventData{
		houqin.RequisitionSubmitted{ProcessID: auditPID, Requester: "wang.fang", Total: 90000, Currency: "CNY",
			Request: houqin.ProcurementRequest{Department: "MKT", Reason: "Q1 打印纸"}},
		houqin.TaskOpened{Task: task},
		houqin.TaskCompleted{TaskID: task.ID, Step: "dept_approval", Action: "approve", Actor: "liu.yang", Comment: "同意"},
		houqin.ProcurementApproved{By: "liu.yang", Comment: "同意"},
	} {
		e, err := houqin.NewEvent(houqin.EventID(auditPID, "r", string(rune('0'+i))), d,
			houqin.Metadata{Actor: "wang.fang", CorrelationID: auditPID, OccurredAt: auditT0.Add(time.Duration(i) * time.Minute), PolicyHash: "p1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, houqin.ProcurementStream(auditPID), int64(i)-1, e); err != nil {
			t.Fatal(err)
		}
	}
	key := make([]byte, 32)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s := api.NewServer(api.Config{Store: store, Org: defaultOrg(t), Auth: api.NewHS256(key, defaultOrg(t)),
		Registry: prometheus.NewRegistry(), Now: func() time.Time { return now }})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &auditServer{url: srv.URL, key: key, store: store, now: now}
}

func (a *auditServer) get(t *testing.T, user, method, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := api.IssueDevToken(a.key, user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// accesses returns the recorded audit.accessed payloads of the server's day.
func (a *auditServer) accesses(t *testing.T) []houqin.AuditAccessed {
	t.Helper()
	events, err := a.store.ReadStream(context.Background(), houqin.AccessStream(a.now), 0, houqin.Forward, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []houqin.AuditAccessed
	for _, e := range events {
		d, err := e.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if e.Meta.OccurredAt != a.now {
			t.Errorf("access recorded at %s, want %s", e.Meta.OccurredAt, a.now)
		}
		out = append(out, *d.(*houqin.AuditAccessed))
	}
	return out
}

// TestAuditorsActOnNothing walks every route of the router: every one that
// is not a read refuses an auditor with 403, so a route added later is
// covered without touching this test.
func TestAuditorsActOnNothing(t *testing.T) {
	a := newAuditServer(t)
	s := api.NewServer(api.Config{Registry: prometheus.NewRegistry(), Auth: api.NewHS256(a.key, defaultOrg(t))})
	routes, ok := s.Handler().(chi.Routes)
	if !ok {
		t.Fatal("handler is not a chi router")
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	checked := 0
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet || method == http.MethodHead || !strings.HasPrefix(route, "/v1/") {
			return nil
		}
		path := param.ReplaceAllString(route, "x")
		t.Run(method+" "+route, func(t *testing.T) {
			resp, body := a.get(t, "huang.xin", method, path)
			var p struct{ Code string }
			json.Unmarshal(body, &p)
			if resp.StatusCode != http.StatusForbidden || p.Code != houqin.EFORBIDDEN {
				t.Fatalf("%s %s as an auditor = %d %s, want 403 EFORBIDDEN", method, path, resp.StatusCode, body)
			}
		})
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 2 {
		t.Fatalf("walked %d action routes; the router has at least POST /v1/procurements and POST /v1/tasks/{id}/approve", checked)
	}
}

func TestProcessAuditTrail(t *testing.T) {
	a := newAuditServer(t)
	path := "/v1/processes/" + auditPID + "/audit"
	for _, tt := range []struct {
		user   string
		status int
	}{
		{"huang.xin", 200}, // auditor
		{"zhang.wei", 200}, // logistics manager
		{"wang.fang", 200}, // the requester
		{"liu.yang", 403},  // the approver: sees the process, not its audit trail
		{"zhou.qiang", 403},
	} {
		if resp, body := a.get(t, tt.user, "GET", path); resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.user, resp.StatusCode, body, tt.status)
		}
	}

	resp, body := a.get(t, "huang.xin", "GET", path)
	var trail audit.Trail
	if err := json.Unmarshal(body, &trail); err != nil {
		t.Fatal(err)
	}
	if !trail.ChainOK || len(trail.Events) != 4 || trail.Events[2].Comment != "同意" || trail.Events[2].PolicyHash != "p1" {
		t.Fatalf("trail = %s", body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}

	resp, body = a.get(t, "huang.xin", "GET", path+"?format=csv")
	if !bytes.HasPrefix(body, []byte("\xef\xbb\xbfposition,")) || !strings.Contains(string(body), "同意") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(resp.Header.Get("Content-Disposition"), auditPID) {
		t.Fatalf("csv = %v %q", resp.Header, body)
	}
	_, body = a.get(t, "huang.xin", "GET", path+"?format=xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := f.GetRows("Audit"); err != nil || len(rows) != 5 || !strings.Contains(strings.Join(rows[1], " "), "打印纸") {
		t.Fatalf("xlsx rows = %v, %v", rows, err)
	}
	if resp, body := a.get(t, "huang.xin", "GET", path+"?format=pdf"); resp.StatusCode != 400 || !strings.Contains(string(body), "format:") {
		t.Fatalf("pdf = %d %s", resp.StatusCode, body)
	}
	if resp, _ := a.get(t, "huang.xin", "GET", "/v1/processes/PR-2026-999999/audit"); resp.StatusCode != 404 {
		t.Fatalf("unknown process = %d, want 404", resp.StatusCode)
	}

	got := a.accesses(t)
	if len(got) != 10 { // 5 users, json, csv, xlsx, pdf, unknown: refused reads are recorded too
		t.Fatalf("%d accesses recorded, want 10: %+v", len(got), got)
	}
	if g := got[0]; g.User != "huang.xin" || g.Method != "GET" || g.Path != path || g.ProcessID != auditPID {
		t.Fatalf("first access = %+v", g)
	}
	if g := got[6]; g.Query != "format=csv" {
		t.Fatalf("csv access = %+v", g)
	}
}

func TestProcessAsOf(t *testing.T) {
	a := newAuditServer(t)
	at := auditT0.Add(90 * time.Second).Format(time.RFC3339) // the approval task is open
	resp, body := a.get(t, "liu.yang", "GET", "/v1/processes/"+auditPID+"?as_of="+at)
	if resp.StatusCode != 200 {
		t.Fatalf("as_of = %d %s", resp.StatusCode, body)
	}
	var s audit.State
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	if s.Status != houqin.StatusRunning || len(s.Tasks) != 1 || s.Tasks[0].Assignees[0] != "liu.yang" || len(s.Timeline) != 2 || s.Requester != "wang.fang" {
		t.Fatalf("state = %s", body)
	}
	if resp, _ := a.get(t, "zhou.qiang", "GET", "/v1/processes/"+auditPID+"?as_of="+at); resp.StatusCode != 403 {
		t.Fatalf("uninvolved user = %d, want 403", resp.StatusCode)
	}
	if resp, body := a.get(t, "huang.xin", "GET", "/v1/processes/"+auditPID+"?as_of=yesterday"); resp.StatusCode != 400 || !strings.Contains(string(body), "as_of:") {
		t.Fatalf("bad as_of = %d %s", resp.StatusCode, body)
	}
	if got := a.accesses(t); len(got) != 3 || got[0].User != "liu.yang" || !strings.HasPrefix(got[0].Query, "as_of=") {
		t.Fatalf("accesses = %+v, want the three as_of reads", got)
	}
}

func TestAuditVerifyRoute(t *testing.T) {
	a := newAuditServer(t)
	if _, _, err := (&audit.Anchorer{Store: a.store}).Anchor(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, body := a.get(t, "huang.xin", "GET", "/v1/audit/verify")
	var rep audit.Report
	if err := json.Unmarshal(body, &rep); err != nil || resp.StatusCode != 200 {
		t.Fatalf("verify = %d %s", resp.StatusCode, body)
	}
	// The access event of this very request may or may not be inside the
	// pass; the process stream and the anchor always are.
	if !rep.OK || rep.Anchor == nil || rep.Events < 5 {
		t.Fatalf("report = %s", body)
	}
	if resp, _ := a.get(t, "wang.fang", "GET", "/v1/audit/verify"); resp.StatusCode != 403 {
		t.Fatalf("employee = %d, want 403", resp.StatusCode)
	}
	if resp, body := a.get(t, "huang.xin", "GET", "/v1/audit/verify?anchor=zz"); resp.StatusCode != 400 || !strings.Contains(string(body), "anchor:") {
		t.Fatalf("bad anchor = %d %s", resp.StatusCode, body)
	}
	if got := a.accesses(t); len(got) != 3 || got[1].User != "wang.fang" || got[0].Path != "/v1/audit/verify" {
		t.Fatalf("accesses = %+v", got)
	}
}

// TestAuditReadRefusedUnrecorded: a read that cannot be recorded is not
// answered.
func TestAuditReadRefusedUnrecorded(t *testing.T) {
	a := newAuditServer(t)
	a.store.Close() // appends now fail
	resp, body := a.get(t, "huang.xin", "GET", "/v1/processes/"+auditPID+"/audit")
	var p struct{ Code string }
	json.Unmarshal(body, &p)
	if resp.StatusCode != http.StatusServiceUnavailable || p.Code != houqin.EUNAVAILABLE || strings.Contains(string(body), "Q1") {
		t.Fatalf("unrecordable read = %d %s, want 503 EUNAVAILABLE and no trail", resp.StatusCode, body)
	}
}
