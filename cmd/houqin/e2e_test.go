package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/internal/contract"
	"github.com/houqin/houqin/postgres/pgtest"
	"github.com/houqin/houqin/storetest"
)

// devProcess is a `houqin dev` started in-process on free ports.
type devProcess struct {
	url      string
	data     string
	temporal string // frontend address
	key      []byte
	stop     func() // stops it, once; the test's cleanup calls it too
}

// startDev runs houqin dev with extra flags until the test ends.
func startDev(t *testing.T, extra ...string) *devProcess {
	t.Helper()
	return startDevIn(t, t.TempDir(), extra...)
}

// startDevIn is startDev on the data directory data: a second one started
// there after the first stopped resumes what the first left.
func startDevIn(t *testing.T, data string, extra ...string) *devProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var stderr bytes.Buffer
	args := []string{"dev", "--data", data, "--http", "127.0.0.1:0", "--temporal-port", "0", "--ui-port", "-1"}
	if !slices.Contains(extra, "--keep-interval") {
		// No kept-history events on the streams the tests read, unless a
		// test asks (TestHistoryKeptPastRetention).
		args = append(args, "--keep-interval", "0")
	}
	args = append(args, extra...)
	go func() {
		done <- Run(ctx, args, pw, &stderr)
		pw.Close()
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("houqin dev: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	lines := bufio.NewScanner(pr)
	url, temporal := "", ""
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "temporal:"); ok {
			temporal = strings.Fields(rest)[0]
		}
		if u, ok := strings.CutPrefix(lines.Text(), "api: "); ok {
			url = u
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		t.Fatalf("houqin dev printed no api: line; stderr:\n%s", stderr.String())
	}
	key, err := api.LoadOrCreateDevKey(data)
	if err != nil {
		t.Fatal(err)
	}
	d := &devProcess{url: url, data: data, temporal: temporal, key: key, stop: stop}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := d.do(t, "", "GET", "/readyz", nil); code == 200 {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatal("houqin dev not ready within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends a request as user ("" = no token) and decodes a JSON answer.
func (d *devProcess) do(t *testing.T, user, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		tok, err := api.IssueDevToken(d.key, user, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	checkContract(t, req, resp.StatusCode, resp.Header, b)
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, out
}

// spec checks every exchange of the end-to-end tests against
// api/openapi.json.
var spec = sync.OnceValues(func() (*contract.Checker, error) { return contract.New(api.OpenAPI()) })

// checkContract fails t if the exchange of req (its body still readable
// through GetBody) departs from the OpenAPI document.
func checkContract(t *testing.T, req *http.Request, status int, header http.Header, respBody []byte) {
	t.Helper()
	c, err := spec()
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	if req.GetBody != nil {
		rd, err := req.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(rd); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Check(req, body, status, header, respBody); err != nil {
		t.Errorf("contract: %v", err)
	}
}

// must sends a request and fails the test unless the status is want.
func (d *devProcess) must(t *testing.T, want int, user, method, path string, body any) map[string]any {
	t.Helper()
	code, out := d.do(t, user, method, path, body)
	if code != want {
		t.Fatalf("%s %s as %s = %d %v, want %d", method, path, user, code, out, want)
	}
	return out
}

// pendingTask returns the one pending task of process for user.
func (d *devProcess) pendingTask(t *testing.T, user, process string, pos any) map[string]any {
	t.Helper()
	out := d.must(t, 200, user, "GET", fmt.Sprintf("/v1/tasks?assignee=me&status=pending&min_position=%v", pos), nil)
	for _, it := range out["items"].([]any) {
		task := it.(map[string]any)
		if task["process_id"] == process {
			return task
		}
	}
	t.Fatalf("%s has no pending task on %s: %v", user, process, out)
	return nil
}

var requisition = map[string]any{
	"department": "MKT", "budget_category": "office_supplies", "reason": "Q1 打印纸", "needed_by": "2026-12-15",
	"items": []map[string]any{
		{"name": "A4 paper", "quantity": 20, "unit": "box", "unit_price": 4500},
		{"name": "签字笔", "quantity": 50, "unit": "支", "unit_price": 300},
	},
}

// TestProcurementEndToEnd takes a requisition to stock-in through the HTTP
// API as three users, then checks the event store and the read models.
func TestProcurementEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	id := runProcurement(t, d)
	checkStream(t, d.data, id)
	exportHistory(t, d, id, "invoiced")

	t.Run("inventory", func(t *testing.T) {
		out := d.must(t, 200, "li.na", "GET", "/v1/inventory", nil)
		got := map[string]float64{}
		for _, it := range out["items"].([]any) {
			row := it.(map[string]any)
			got[row["item"].(string)] = row["quantity"].(float64)
		}
		if got["A4 paper"] != 20 || got["签字笔"] != 50 {
			t.Fatalf("inventory = %v, want A4 paper 20, 签字笔 50", got)
		}
	})
	t.Run("idempotency key", func(t *testing.T) {
		post := func(key string, body any) (int, map[string]any) {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", d.url+"/v1/procurements", bytes.NewReader(b))
			tok, _ := api.IssueDevToken(d.key, "wang.fang", time.Hour)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Idempotency-Key", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		c1, a := post("k-1", requisition)
		c2, b := post("k-1", requisition)
		if c1 != 201 || c2 != 201 || a["id"] != b["id"] {
			t.Fatalf("same key twice = %d %v, %d %v; want the same process", c1, a["id"], c2, b["id"])
		}
		other := map[string]any{}
		for k, v := range requisition {
			other[k] = v
		}
		other["reason"] = "something else"
		if c, out := post("k-1", other); c != 409 || out["code"] != "ECONFLICT" {
			t.Fatalf("same key, other body = %d %v, want 409 ECONFLICT", c, out)
		}
		if c, out := post("k-2", requisition); c != 201 || out["id"] == a["id"] {
			t.Fatalf("new key = %d %v, want a new process", c, out)
		}
	})
	t.Run("bad input names the field", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			body  any
			field string
		}{
			{"unknown field", map[string]any{"department": "MKT", "colour": "red"}, "colour"},
			{"zero quantity", map[string]any{"department": "MKT", "budget_category": "office_supplies", "reason": "x", "needed_by": "2026-12-15",
				"items": []map[string]any{{"name": "A4", "quantity": 0, "unit": "box", "unit_price": 1}}}, "items[0].quantity"},
			{"wrong type", map[string]any{"department": 42}, "department"},
			{"unknown department", map[string]any{"department": "XYZ", "budget_category": "office_supplies", "reason": "x", "needed_by": "2026-12-15",
				"items": []map[string]any{{"name": "A4", "quantity": 1, "unit": "box", "unit_price": 1}}}, "department"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				out := d.must(t, 400, "wang.fang", "POST", "/v1/procurements", tt.body)
				if out["code"] != "EINVALID" || !strings.HasPrefix(out["detail"].(string), tt.field) {
					t.Fatalf("problem = %v, want EINVALID naming %s", out, tt.field)
				}
			})
		}
		big := map[string]any{"reason": strings.Repeat("x", 2<<20)}
		if out := d.must(t, 400, "wang.fang", "POST", "/v1/procurements", big); !strings.Contains(out["detail"].(string), "larger than") {
			t.Fatalf("oversized body = %v", out)
		}
	})
	t.Run("auditors never act", func(t *testing.T) {
		d.must(t, 403, "huang.xin", "POST", "/v1/procurements", requisition)
	})
	t.Run("inbox of others", func(t *testing.T) {
		d.must(t, 403, "wang.fang", "GET", "/v1/tasks?assignee=liu.yang", nil)
		out := d.must(t, 200, "huang.xin", "GET", "/v1/tasks?assignee=liu.yang&status=done", nil)
		if len(out["items"].([]any)) == 0 {
			t.Fatal("auditor sees none of liu.yang's done tasks")
		}
	})
	t.Run("pagination", func(t *testing.T) {
		first := d.must(t, 200, "huang.xin", "GET", "/v1/processes?kind=procurement&limit=2", nil)
		cursor, _ := first["next_cursor"].(string)
		if len(first["items"].([]any)) != 2 || cursor == "" {
			t.Fatalf("first page = %v", first)
		}
		second := d.must(t, 200, "huang.xin", "GET", "/v1/processes?kind=procurement&limit=2&cursor="+cursor, nil)
		seen := map[any]bool{}
		for _, page := range []map[string]any{first, second} {
			for _, it := range page["items"].([]any) {
				pid := it.(map[string]any)["id"]
				if seen[pid] {
					t.Fatalf("process %v on two pages", pid)
				}
				seen[pid] = true
			}
		}
		if len(seen) != 3 { // the walked one and the two idempotency ones
			t.Fatalf("two pages hold %d processes, want 3", len(seen))
		}
		mine := d.must(t, 200, "liu.yang", "GET", "/v1/processes", nil)
		if n := len(mine["items"].([]any)); n != 0 {
			t.Fatalf("liu.yang lists %d processes, want only his own (none)", n)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		resp, err := http.Get(d.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`houqin_http_requests_total{method="POST",route="/v1/procurements",status="201"}`,
			`houqin_eventstore_appends_total{adapter="sqlite",code="ok"}`,
			`houqin_projection_lag_events{projection="processes"}`,
			`temporal_`,
		} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

// TestProcurementEndToEndPostgres runs houqin dev with the event store and
// the read models on PostgreSQL (--events, --readmodels).
func TestProcurementEndToEndPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	dsn := pgtest.MustDSN(t)
	d := startDev(t, "--events", dsn, "--readmodels", dsn)
	id := runProcurement(t, d)
	checkStreamIn(t, dsn, id)
}

// runProcurement walks one procurement and returns its ID.
func runProcurement(t *testing.T, d *devProcess) string {
	t.Helper()
	d.must(t, 401, "", "POST", "/v1/procurements", requisition)
	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	id := created["id"].(string)
	if !strings.HasPrefix(id, "PR-") || created["status"] != "running" {
		t.Fatalf("created = %v", created)
	}
	task := d.pendingTask(t, "liu.yang", id, created["position"])
	if task["step"] != "dept_approval" {
		t.Fatalf("first task = %v, want dept_approval", task)
	}
	approve := "/v1/tasks/" + task["id"].(string) + "/approve"
	d.must(t, 403, "wang.fang", "POST", approve, map[string]any{"comment": "self"}) // not an assignee, and the requester
	d.must(t, 403, "li.na", "POST", approve, map[string]any{"comment": "not mine"})
	d.must(t, 403, "huang.xin", "POST", approve, map[string]any{"comment": "auditors never act"})
	out := d.must(t, 200, "liu.yang", "POST", approve, map[string]any{"comment": "同意"})
	d.must(t, 409, "liu.yang", "POST", approve, map[string]any{"comment": "again"})

	po := d.pendingTask(t, "li.na", id, out["position"])
	out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+po["id"].(string)+"/complete", map[string]any{"data": map[string]any{
		"supplier": "得力办公", "lines": []map[string]any{{"name": "A4 paper", "quantity": 20, "unit_price": 4400}, {"name": "签字笔", "quantity": 50, "unit_price": 280}}}})
	for _, lines := range [][]map[string]any{
		{{"name": "A4 paper", "quantity": 12}},
		{{"name": "A4 paper", "quantity": 8}, {"name": "签字笔", "quantity": 50}},
	} {
		rcv := d.pendingTask(t, "li.na", id, out["position"])
		out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+rcv["id"].(string)+"/complete", map[string]any{"data": map[string]any{"lines": lines}})
	}
	inv := d.pendingTask(t, "li.na", id, out["position"])
	if inv["step"] != "record_invoice" {
		t.Fatalf("task after full receipt = %v, want record_invoice", inv)
	}
	out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+inv["id"].(string)+"/complete", map[string]any{"data": map[string]any{"number": "DL-0001", "amount": 102000}})
	stock := d.pendingTask(t, "li.na", id, out["position"])
	if stock["step"] != "stock_in" {
		t.Fatalf("task after full receipt = %v, want stock_in", stock)
	}
	out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+stock["id"].(string)+"/complete", map[string]any{"data": map[string]any{}})

	var p map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		p = d.must(t, 200, "wang.fang", "GET", fmt.Sprintf("/v1/processes/%s?min_position=%v", id, out["position"]), nil)
		if p["status"] == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p["status"] != "completed" {
		t.Fatalf("process = %v, want completed", p)
	}
	var types []string
	for _, e := range p["timeline"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	for _, want := range []string{"procurement.requisition_submitted", "procurement.approved", "procurement.po_recorded",
		"procurement.goods_received", "procurement.stocked_in", "procurement.completed"} {
		if !strings.Contains(strings.Join(types, " "), want) {
			t.Errorf("timeline lacks %s: %v", want, types)
		}
	}
	d.must(t, 403, "sun.li", "GET", "/v1/processes/"+id, nil)    // not involved (zhou.qiang of the warehouse is copied at the finish)
	d.must(t, 200, "huang.xin", "GET", "/v1/processes/"+id, nil) // auditors read
	return id
}

// checkStream verifies a process's stream: contiguous versions, an intact
// hash chain, and no event twice.
func checkStream(t *testing.T, data, id string) []houqin.Event {
	t.Helper()
	return checkStreamIn(t, "sqlite://"+filepath.Join(data, "events.db"), id)
}

// checkStreamIn is checkStream on the event store a DSN names.
func checkStreamIn(t *testing.T, dsn, id string) []houqin.Event {
	t.Helper()
	s, err := openEventStore(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	events := storetest.MustReadStream(t, s, "procurement-"+id)
	if err := houqin.Verify(events); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		key := e.Type + string(e.Data)
		if e.Type != "procurement.goods_received" && e.Type != "task.opened" && e.Type != "task.completed" && seen[key] {
			t.Fatalf("event %s appears twice: %s", e.Type, e.Data)
		}
		seen[key] = true
	}
	return events
}

// TestCancelledWorkflowEndsProcess: an operator cancels a procurement's
// workflow in Temporal (not the requester's revocation); the process ends
// cancelled in the read models and its approval leaves the approver's
// inbox.
func TestCancelledWorkflowEndsProcess(t *testing.T) {
	d := startDev(t)
	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	id := created["id"].(string)
	d.pendingTask(t, "liu.yang", id, created["position"])

	if err := temporalClient(t, d).CancelWorkflow(context.Background(), id, ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var p map[string]any
	for {
		p = d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id, nil)
		if p["status"] == "cancelled" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	timeline := p["timeline"].([]any)
	if last := timeline[len(timeline)-1].(map[string]any); p["status"] != "cancelled" || last["type"] != "process.cancelled" {
		t.Fatalf("process %s is %v, its timeline ending %v; want cancelled by process.cancelled", id, p["status"], last)
	}
	items := d.must(t, 200, "liu.yang", "GET", "/v1/tasks?assignee=me&status=pending", nil)["items"].([]any)
	if slices.ContainsFunc(items, func(it any) bool { return it.(map[string]any)["process_id"] == id }) {
		t.Errorf("liu.yang still has a pending task on the cancelled %s: %v", id, items)
	}
	// An action on it now is refused: the process has ended.
	d.must(t, 409, "liu.yang", "POST", "/v1/tasks/"+id+".dept_approval.1/approve", map[string]any{})
}
