package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/storetest"
)

// TestRandomizedActorsEndToEnd races many clients through the HTTP API on
// the embedded Temporal server: procurements by several requesters, and
// clients acting at random on their tasks — approvals, rejections,
// returns, transfers, 加签, withdrawals and revocations, sent twice or at
// once — for a while. Then every process still running is ended by its
// requester, and each stream is checked: every request was answered with
// a status a client can act on (never 5xx, never a hang), every workflow
// closed, no task decided twice, no person twice in one step's approvals,
// no decision after the process ended, the hash chain intact.
//
// HOUQIN_RACE_SEED replays a run; HOUQIN_RACE_SECONDS makes it longer.
func TestRandomizedActorsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("HOUQIN_RACE_SEED"), 10, 64); err == nil {
		seed = s
	}
	seconds := 12
	if s, err := strconv.Atoi(os.Getenv("HOUQIN_RACE_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	t.Logf("seed %d (HOUQIN_RACE_SEED=%d to replay), %d s", seed, seed, seconds)
	d := startDev(t)
	c := &raceClient{d: d, http: &http.Client{Timeout: 60 * time.Second}}

	// Requesters file in their own department; sizes take the route
	// through one, two or three steps (会签 of chen.jing and zhang.wei).
	requesters := map[string]string{"wang.fang": "MKT", "ma.chao": "PMO", "zhao.lei": "HR", "sun.li": "PUR", "wu.min": "SEC", "li.na": "ADM"}
	names := slices.Sorted(func(yield func(string) bool) {
		for u := range requesters {
			if !yield(u) {
				return
			}
		}
	})
	rng := rand.New(rand.NewPCG(seed, 27))
	var ids []string
	owner := map[string]string{}
	for i := range 24 {
		who := names[i%len(names)]
		price := []int64{4500, 300000, 2000000}[rng.IntN(3)]
		body := map[string]any{"department": requesters[who], "budget_category": "office_supplies", "reason": fmt.Sprintf("随机 %d", i),
			"needed_by": "2026-12-31", "items": []map[string]any{{"name": fmt.Sprintf("物品 %d", i), "quantity": 1 + rng.IntN(3), "unit": "个", "unit_price": price}}}
		code, out := c.do(who, "POST", "/v1/procurements", body)
		if code != 201 {
			t.Fatalf("start %d as %s = %d %v", i, who, code, out)
		}
		id := out["id"].(string)
		ids = append(ids, id)
		owner[id] = who
	}

	users := []string{"wang.fang", "liu.yang", "chen.jing", "zhang.wei", "ma.chao", "sun.li", "zhao.lei", "zhou.qiang", "wu.min", "li.na", "admin", "huang.xin"}
	stop := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	for k := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(k)))
			for time.Now().Before(stop) {
				c.act(rng, ids, owner, users)
			}
		}()
	}
	wg.Wait()

	// The requesters end whatever still runs: withdraw, else revoke, else
	// the operator cancels the workflow.
	tc := temporalClient(t, d)
	for _, id := range ids {
		for _, action := range []string{"withdraw", "revoke"} {
			c.do(owner[id], "POST", "/v1/processes/"+id+"/"+action, map[string]any{"comment": "结束"})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		tc.GetWorkflow(ctx, id, "").Get(ctx, nil)
		running := ctx.Err() != nil
		cancel()
		if running { // in its work steps: the operator cancels it
			if err := tc.CancelWorkflow(context.Background(), id, ""); err != nil {
				t.Errorf("cancel %s: %v", id, err)
			}
		}
	}
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err := tc.GetWorkflow(ctx, id, "").Get(ctx, nil)
		if ctx.Err() != nil {
			t.Errorf("workflow %s did not close: %v", id, err)
		}
		cancel()
	}

	c.mu.Lock()
	t.Logf("%d requests: %v", c.sent, c.codes)
	for _, p := range c.problems {
		t.Error(p)
	}
	c.mu.Unlock()
	store, err := openEventStore(context.Background(), "sqlite://"+filepath.Join(d.data, "events.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	outcomes := map[string]int{}
	for _, id := range ids {
		events := storetest.MustReadStream(t, store, houqin.ProcurementStream(id))
		if err := houqin.Verify(events); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		outcomes[checkInvariants(t, events)]++
	}
	t.Logf("processes ended: %v", outcomes)
}

// raceClient sends the randomized test's requests and keeps what came back.
type raceClient struct {
	d    *devProcess
	http *http.Client

	mu       sync.Mutex
	sent     int
	codes    map[int]int
	problems []string
}

// do sends a request as user; a transport error or a 5xx is a problem.
func (c *raceClient) do(user, method, path string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.d.url+path, rd)
	tok, _ := api.IssueDevToken(c.d.key, user, time.Hour)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent++
	if c.codes == nil {
		c.codes = map[int]int{}
	}
	if err != nil {
		c.problems = append(c.problems, fmt.Sprintf("%s %s as %s: no answer: %v", method, path, user, err))
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	c.codes[resp.StatusCode]++
	if resp.StatusCode >= 500 {
		c.problems = append(c.problems, fmt.Sprintf("%s %s as %s: %d %s", method, path, user, resp.StatusCode, b))
	}
	return resp.StatusCode, out
}

// act picks a process and does something to it: mostly an action by an
// assignee of one of its open tasks, sometimes by someone else, sometimes
// twice at once; now and then the requester withdraws or revokes.
func (c *raceClient) act(rng *rand.Rand, ids []string, owner map[string]string, users []string) {
	id := ids[rng.IntN(len(ids))]
	if rng.IntN(30) == 0 {
		action := []string{"withdraw", "revoke"}[rng.IntN(2)]
		c.do(owner[id], "POST", "/v1/processes/"+id+"/"+action, map[string]any{"comment": "随机"})
		return
	}
	code, p := c.do(owner[id], "GET", "/v1/processes/"+id, nil)
	if code != 200 {
		return
	}
	tasks, _ := p["tasks"].([]any)
	var open []map[string]any
	for _, t := range tasks {
		if tk, ok := t.(map[string]any); ok && tk["status"] == "pending" {
			open = append(open, tk)
		}
	}
	if len(open) == 0 {
		return
	}
	task := open[rng.IntN(len(open))]
	var assignees []string
	for _, a := range task["assignees"].([]any) {
		assignees = append(assignees, a.(string))
	}
	actor := assignees[rng.IntN(len(assignees))]
	if rng.IntN(5) == 0 {
		actor = users[rng.IntN(len(users))]
	}
	pick := func() string { return users[rng.IntN(len(users))] }
	var action string
	var body map[string]any
	switch n := rng.IntN(20); {
	case n < 9:
		action, body = "approve", map[string]any{"comment": "同意"}
	case n < 11:
		action, body = "reject", map[string]any{"comment": "不同意"}
	case n < 12:
		action, body = "return", map[string]any{"comment": "请修改"}
	case n < 15:
		action, body = "transfer", map[string]any{"to": pick(), "comment": "转交"}
	case n < 17:
		pos := []string{"before", "after", "parallel"}[rng.IntN(3)]
		action, body = "add-approver", map[string]any{"users": []string{pick()}, "position": pos, "comment": "加签"}
	case n < 18:
		action, body = "comment", map[string]any{"comment": "看看"}
	default:
		action, body = "complete", map[string]any{"data": map[string]any{}}
	}
	path := "/v1/tasks/" + task["id"].(string) + "/" + action
	if rng.IntN(3) > 0 {
		c.do(actor, "POST", path, body)
		return
	}
	// Twice at once, or against another action on the same step.
	var wg sync.WaitGroup
	other := "/v1/tasks/" + task["id"].(string) + "/" + []string{"approve", "reject", "transfer"}[rng.IntN(3)]
	otherBody := map[string]any{"comment": "抢", "to": pick()}
	if other[len(other)-7:] == "approve" {
		otherBody = map[string]any{"comment": "抢"}
	}
	if other[len(other)-6:] == "reject" {
		otherBody = map[string]any{"comment": "抢"}
	}
	for i, req := range [][2]any{{path, body}, {other, otherBody}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := actor
			if i == 1 && rng.IntN(2) == 0 {
				who = assignees[0]
			}
			c.do(who, "POST", req[0].(string), req[1])
		}()
	}
	wg.Wait()
}

// endings are the events after which a process takes no decision.
var raceEndings = []string{"procurement.rejected", "procurement.completed", "process.withdrawn", "process.revoked", "process.cancelled", "process.failed"}

// checkInvariants checks a process's stream: each task closed at most
// once, each step's approvals by distinct people, no decision after the
// process ended, and it ended; it returns the event that ended it.
func checkInvariants(t *testing.T, events []houqin.Event) string {
	t.Helper()
	closed := map[string]int{}
	ended := ""
	for _, e := range events {
		d, err := e.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if ended != "" {
			switch e.Type {
			case "task.completed", "task.opened", "task.transferred", "task.approver_added":
				t.Errorf("%s@%d: %s after %s", e.Stream, e.Version, e.Type, ended)
			}
		}
		switch v := d.(type) {
		case *houqin.TaskCompleted:
			closed[v.TaskID]++
		case *houqin.TaskCancelled:
			closed[v.TaskID]++
		case *houqin.StepCompleted:
			var people []string
			for _, a := range v.Approvals {
				if a == "system" {
					continue
				}
				if slices.Contains(people, a) {
					t.Errorf("%s@%d: step %s approved twice by %s: %v", e.Stream, e.Version, v.Step, a, v.Approvals)
				}
				people = append(people, a)
			}
		}
		if slices.Contains(raceEndings, e.Type) && ended == "" {
			ended = e.Type
		}
	}
	for id, n := range closed {
		if n > 1 {
			t.Errorf("%s: task %s closed %d times", events[0].Stream, id, n)
		}
	}
	if ended == "" {
		t.Errorf("%s never ended: last event %s", events[0].Stream, events[len(events)-1].Type)
	}
	return ended
}
