package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/storetest"
)

// inboxLog appends two procurements: PR-1 with li.na's record_po task due
// at t0+1h and ma.chao's delegated dept_approval of PR-2 due at t0+24h;
// li.na approved PR-2's first task; li.na is copied on PR-1 at start.
func inboxLog(t *testing.T, f *fixture) {
	t.Helper()
	n := 0
	add := func(id, actor string, data ...houqin.EventData) {
		t.Helper()
		var events []houqin.Event
		for _, d := range data {
			n++
			e, err := houqin.NewEvent(houqin.EventID("inboxlog", fmt.Sprint(n)), d, houqin.Metadata{Actor: actor, OccurredAt: t0.Add(time.Duration(n) * time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
		storetest.MustAppend(t, f.store, houqin.ProcurementStream(id), houqin.ExpectAny, events...)
	}
	req := houqin.ProcurementRequest{Department: "MKT", BudgetCategory: "office_supplies", Reason: "纸", NeededBy: "2026-12-15",
		Items: []houqin.ProcurementItem{{Name: "A4", Quantity: 2, Unit: "box", UnitPrice: 4500}}}
	task := func(id, step string, due time.Duration, who string, obo map[string]string) houqin.TaskOpened {
		return houqin.TaskOpened{Task: houqin.Task{ID: id + "." + step + ".1", ProcessID: id, Kind: houqin.KindProcurement, Step: step,
			Assignees: []string{who}, OnBehalfOf: obo, DueAt: t0.Add(due), Actions: []string{"approve"}}}
	}
	add("PR-2026-000001", "wang.fang", houqin.RequisitionSubmitted{ProcessID: "PR-2026-000001", Requester: "wang.fang", Request: req, Total: 9000},
		houqin.ProcessCopied{Users: []string{"li.na"}, At: "start"}, task("PR-2026-000001", "record_po", time.Hour, "li.na", nil))
	add("PR-2026-000002", "wang.fang", houqin.RequisitionSubmitted{ProcessID: "PR-2026-000002", Requester: "wang.fang", Request: req, Total: 9000},
		task("PR-2026-000002", "check", time.Hour, "li.na", nil),
		houqin.TaskCompleted{TaskID: "PR-2026-000002.check.1", Step: "check", Action: "approve", Actor: "li.na"},
		task("PR-2026-000002", "dept_approval", 24*time.Hour, "ma.chao", map[string]string{"ma.chao": "liu.yang"}))
	f.catchUp()
}

type inboxOut struct {
	User      string `json:"user"`
	AsOf      string `json:"as_of"`
	Pending   []taskOut
	Delegated []taskOut
	Handled   []taskOut
	Copied    []struct {
		ProcessID string `json:"process_id"`
		At        string `json:"at"`
		Title     string `json:"title"`
	}
	Counts map[string]int
}

type taskOut struct {
	ID         string            `json:"id"`
	Overdue    bool              `json:"overdue"`
	OnBehalfOf map[string]string `json:"on_behalf_of"`
}

// TestInbox reads the inbox sections and the overdue flag (of the inbox
// and of GET /v1/tasks) at two moments of the injected clock.
func TestInbox(t *testing.T) {
	f := newFixture(t, t0)
	inboxLog(t, f)
	get := func(user, query string) inboxOut {
		t.Helper()
		var in inboxOut
		decodeOK(t, f.do(user, http.MethodGet, "/v1/inbox"+query, ""), 200, &in)
		return in
	}
	in := get("li.na", "")
	if in.User != "li.na" || len(in.Pending) != 1 || in.Pending[0].ID != "PR-2026-000001.record_po.1" || in.Pending[0].Overdue ||
		len(in.Delegated) != 0 || len(in.Handled) != 1 || in.Handled[0].ID != "PR-2026-000002.check.1" ||
		len(in.Copied) != 1 || in.Copied[0].ProcessID != "PR-2026-000001" || in.Copied[0].At != "start" || in.Copied[0].Title != "纸" ||
		in.Counts["pending"] != 1 || in.Counts["overdue"] != 0 || in.AsOf != "2026-12-01T09:00:00Z" {
		t.Errorf("li.na's inbox at t0 = %+v", in)
	}
	f.setNow(t0.Add(2 * time.Hour))
	if in := get("li.na", ""); len(in.Pending) != 1 || !in.Pending[0].Overdue || in.Counts["overdue"] != 1 {
		t.Errorf("li.na's inbox at t0+2h = %+v", in)
	}
	in = get("huang.xin", "?user=ma.chao")
	if in.User != "ma.chao" || len(in.Pending) != 0 || len(in.Delegated) != 1 || in.Delegated[0].Overdue ||
		!cmp.Equal(in.Delegated[0].OnBehalfOf, map[string]string{"ma.chao": "liu.yang"}) || in.Counts["delegated"] != 1 {
		t.Errorf("ma.chao's inbox = %+v", in)
	}
	problem(t, f.do("wang.fang", http.MethodGet, "/v1/inbox?user=li.na", ""), 403, "user: only auditors and managers")
	problem(t, f.do("huang.xin", http.MethodGet, "/v1/inbox?user=no.body", ""), 400, `user: no user "no.body"`)
	problem(t, f.do("li.na", http.MethodGet, "/v1/inbox?limit=0", ""), 400, "limit: must be between 1 and 200")
	// Filtered: the query reaches every section, each with its total.
	if in := get("li.na", "?q=record&kind=procurement&overdue=true"); len(in.Pending) != 1 || len(in.Handled) != 0 || len(in.Copied) != 0 {
		t.Errorf("li.na's inbox filtered = %+v", in)
	}
	if in := get("li.na", "?due_before=2026-12-01"); len(in.Pending) != 0 || len(in.Handled) != 1 {
		t.Errorf("li.na's inbox due before 2026-12-01 = %+v", in)
	}
	if in := get("li.na", "?offset=1"); len(in.Pending) != 0 || len(in.Handled) != 0 {
		t.Errorf("li.na's inbox from offset 1 = %+v", in)
	}
	problem(t, f.do("li.na", http.MethodGet, "/v1/inbox?kind=car", ""), 400, `kind: must be one of`)
	problem(t, f.do("li.na", http.MethodGet, "/v1/inbox?due_before=tomorrow", ""), 400, `due_before: must be a day YYYY-MM-DD or an RFC 3339 time, got "tomorrow"`)
	problem(t, f.do("li.na", http.MethodGet, "/v1/inbox?offset=-1", ""), 400, `offset: must be between 0 and 10000, got "-1"`)

	var tasks struct{ Items []taskOut }
	decodeOK(t, f.do("li.na", http.MethodGet, "/v1/tasks?status=pending", ""), 200, &tasks)
	if len(tasks.Items) != 1 || !tasks.Items[0].Overdue {
		t.Errorf("li.na's tasks at t0+2h = %+v", tasks)
	}
	f.setNow(t0)
	decodeOK(t, f.do("li.na", http.MethodGet, "/v1/tasks?status=pending", ""), 200, &tasks)
	if len(tasks.Items) != 1 || tasks.Items[0].Overdue {
		t.Errorf("li.na's tasks at t0 = %+v", tasks)
	}
}

// TestTaskMetrics scrapes /metrics: the task gauges count the read model
// at the clock's moment.
func TestTaskMetrics(t *testing.T) {
	f := newFixture(t, t0)
	inboxLog(t, f)
	scrape := func() []string {
		w := f.do("", http.MethodGet, "/metrics", "")
		if w.Code != 200 {
			t.Fatalf("metrics: %d", w.Code)
		}
		var out []string
		for _, line := range strings.Split(w.Body.String(), "\n") {
			if strings.HasPrefix(line, "houqin_tasks_") {
				out = append(out, line)
			}
		}
		return out
	}
	f.setNow(t0.Add(2 * time.Hour))
	// A step with nothing pending (check: done) keeps its series at 0.
	want := []string{
		`houqin_tasks_overdue{kind="procurement",step="check"} 0`,
		`houqin_tasks_overdue{kind="procurement",step="dept_approval"} 0`,
		`houqin_tasks_overdue{kind="procurement",step="record_po"} 1`,
		`houqin_tasks_pending{kind="procurement",step="check"} 0`,
		`houqin_tasks_pending{kind="procurement",step="dept_approval"} 1`,
		`houqin_tasks_pending{kind="procurement",step="record_po"} 1`,
	}
	if diff := cmp.Diff(want, scrape()); diff != "" {
		t.Errorf("metrics at t0+2h (-want +got):\n%s", diff)
	}
	f.setNow(t0.Add(25 * time.Hour))
	want[1] = `houqin_tasks_overdue{kind="procurement",step="dept_approval"} 1`
	if diff := cmp.Diff(want, scrape()); diff != "" {
		t.Errorf("metrics at t0+25h (-want +got):\n%s", diff)
	}
}
