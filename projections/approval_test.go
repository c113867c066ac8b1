package projections_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// approvalT0 is when the approval log starts.
var approvalT0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// approvalLog appends, through the store, what the approval engine leaves
// for five procurements (every event type it emits):
//
//   - PR-A: copied to zhou.qiang at start; dept_approval held by ma.chao
//     for liu.yang, reminded, commented and approved; finance_review.1
//     (chen.jing) gets zhao.lei added in parallel and is escalated to admin
//     (due +49h); finance_review.2 is transferred from zhang.wei to li.na
//     (due +48h). Running.
//   - PR-B: returned by liu.yang, resubmitted, reopened, withdrawn.
//   - PR-C: approved, copied to zhou.qiang at finish; record_po.1 cancelled
//     on its own, record_po.2 cancelled by the revocation.
//   - PR-D: dept_approval approved by timeout; returned by chen.jing.
//   - PR-E: dept_approval held by ma.chao for liu.yang, due +1h.
func approvalLog(t *testing.T, s houqin.EventStore) {
	t.Helper()
	n := 0
	add := func(id, actor string, data ...houqin.EventData) {
		t.Helper()
		var events []houqin.Event
		for _, d := range data {
			n++
			e, err := houqin.NewEvent(houqin.EventID("approvallog", fmt.Sprint(n)), d,
				houqin.Metadata{Actor: actor, CorrelationID: id, OccurredAt: approvalT0.Add(time.Duration(n) * time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
		storetest.MustAppend(t, s, houqin.ProcurementStream(id), houqin.ExpectAny, events...)
	}
	req := houqin.ProcurementRequest{Department: "MKT", BudgetCategory: "office_supplies", Reason: "投影仪", NeededBy: "2026-12-15",
		Items: []houqin.ProcurementItem{{Name: "projector", Quantity: 1, Unit: "set", UnitPrice: 900000}}}
	submitted := func(id string) houqin.RequisitionSubmitted {
		return houqin.RequisitionSubmitted{ProcessID: id, Requester: "wang.fang", Request: req, Total: 900000, Currency: "CNY"}
	}
	opened := func(id, step string, n int, due time.Duration, who []string, obo map[string]string) houqin.TaskOpened {
		return houqin.TaskOpened{
			Task: houqin.Task{ID: fmt.Sprintf("%s.%s.%d", id, step, n), ProcessID: id, Kind: houqin.KindProcurement, Step: step,
				Name: houqin.Text{Zh: "审批 " + step, En: "Approve " + step}, Assignees: who, OnBehalfOf: obo,
				DueAt: approvalT0.Add(due), Actions: []string{"approve", "reject", "return", "transfer", "add-approver"}},
			Explanation: &houqin.Explanation{Step: step, Applies: true, Reason: "applies to every request"},
		}
	}
	tid := func(id, step string, n int) string { return fmt.Sprintf("%s.%s.%d", id, step, n) }
	maChao := map[string]string{"ma.chao": "liu.yang"}

	a := "PR-2026-00000A"
	add(a, "wang.fang", submitted(a), houqin.ProcessCopied{Users: []string{"zhou.qiang"}, At: "start", Rules: []string{"role:warehouse"}},
		houqin.StepStarted{Step: "dept_approval", Mode: houqin.ModeAny, Required: 1, Assignees: []houqin.Assignee{{User: "ma.chao", OnBehalfOf: "liu.yang"}}},
		opened(a, "dept_approval", 1, 24*time.Hour, []string{"ma.chao"}, maChao))
	add(a, "wang.fang", houqin.TaskReminded{TaskID: tid(a, "dept_approval", 1), By: "wang.fang", Assignees: []string{"ma.chao"}})
	add(a, "ma.chao", houqin.TaskCommented{TaskID: tid(a, "dept_approval", 1), By: "ma.chao", Comment: "看一下报价"},
		houqin.TaskCompleted{TaskID: tid(a, "dept_approval", 1), Step: "dept_approval", Action: "approve", Actor: "ma.chao", OnBehalfOf: "liu.yang", Comment: "同意"},
		houqin.StepCompleted{Step: "dept_approval", Outcome: "approved", Approvals: []string{"ma.chao"}},
		opened(a, "finance_review", 1, time.Hour, []string{"chen.jing"}, nil),
		opened(a, "finance_review", 2, 48*time.Hour, []string{"zhang.wei"}, nil))
	add(a, "zhang.wei", houqin.TaskTransferred{TaskID: tid(a, "finance_review", 2), From: "zhang.wei", To: "li.na", Comment: "你来", Assignees: []string{"li.na"}})
	add(a, "chen.jing", houqin.ApproverAdded{TaskID: tid(a, "finance_review", 1), By: "chen.jing", Users: []string{"zhao.lei"}, Position: houqin.AddParallel})
	add(a, "system", houqin.TaskEscalated{TaskID: tid(a, "finance_review", 1), Added: []string{"admin"}, Assignees: []string{"chen.jing", "admin"},
		DueAt: approvalT0.Add(49 * time.Hour), Reason: "overdue"})

	b := "PR-2026-00000B"
	add(b, "wang.fang", submitted(b), opened(b, "dept_approval", 1, 24*time.Hour, []string{"liu.yang"}, nil))
	add(b, "liu.yang", houqin.TaskCompleted{TaskID: tid(b, "dept_approval", 1), Step: "dept_approval", Action: "return", Actor: "liu.yang", Comment: "补充报价"},
		houqin.ProcessReturned{By: "liu.yang", FromStep: "dept_approval", Comment: "补充报价"})
	add(b, "wang.fang", houqin.ProcessResubmitted{By: "wang.fang", Comment: "已补充"}, opened(b, "dept_approval", 2, 24*time.Hour, []string{"liu.yang"}, nil))
	add(b, "wang.fang", houqin.ProcessWithdrawn{By: "wang.fang", Comment: "不买了"})

	c := "PR-2026-00000C"
	add(c, "wang.fang", submitted(c), opened(c, "dept_approval", 1, 24*time.Hour, []string{"liu.yang"}, nil))
	add(c, "liu.yang", houqin.TaskCompleted{TaskID: tid(c, "dept_approval", 1), Step: "dept_approval", Action: "approve", Actor: "liu.yang"},
		houqin.ProcurementApproved{By: "liu.yang"}, houqin.ProcessCopied{Users: []string{"zhou.qiang"}, At: "finish"},
		opened(c, "record_po", 1, 24*time.Hour, []string{"li.na"}, nil), opened(c, "record_po", 2, 24*time.Hour, []string{"li.na"}, nil),
		houqin.TaskCancelled{TaskID: tid(c, "record_po", 1), Reason: "superseded"})
	add(c, "wang.fang", houqin.ProcessRevoked{By: "wang.fang", Comment: "项目取消"})

	d := "PR-2026-00000D"
	add(d, "wang.fang", submitted(d), opened(d, "dept_approval", 1, 24*time.Hour, []string{"liu.yang"}, nil))
	add(d, "system", houqin.TaskCompleted{TaskID: tid(d, "dept_approval", 1), Step: "dept_approval", Action: "approve", Actor: "system", Auto: "timeout"},
		opened(d, "finance_review", 1, 48*time.Hour, []string{"chen.jing"}, nil))
	add(d, "chen.jing", houqin.TaskCompleted{TaskID: tid(d, "finance_review", 1), Step: "finance_review", Action: "return", Actor: "chen.jing", Comment: "缺发票"},
		houqin.ProcessReturned{By: "chen.jing", FromStep: "finance_review", Comment: "缺发票"})

	e := "PR-2026-00000E"
	add(e, "wang.fang", submitted(e), opened(e, "dept_approval", 1, time.Hour, []string{"ma.chao"}, maChao))
}

// describe is a task row in one line: what the tests compare.
func describe(r projections.TaskRow) string {
	var added []string
	for _, a := range r.Added {
		added = append(added, a.Position+":"+strings.Join(a.Users, "+")+" by "+a.By)
	}
	obo := []string{}
	for k, v := range r.OnBehalfOf {
		obo = append(obo, k+"→"+v)
	}
	sort.Strings(obo)
	return fmt.Sprintf("%s %s [%s] obo=%v due=%s overdue=%t by=%s/%s action=%s auto=%s cancel=%q added=%v t=%d r=%d c=%d e=%d name=%s expl=%t",
		r.ID, r.Status, strings.Join(r.Assignees, ","), obo, r.DueAt.Sub(approvalT0), r.Overdue, r.CompletedBy, r.CompletedOnBehalfOf,
		r.Action, r.Auto, r.CancelReason, added, r.Transfers, r.Reminders, r.Comments, r.Escalations, r.Name.Zh, r.Explanation != nil)
}

func ids(rows []projections.TaskRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

// TestApprovalReadModels folds every event type of the approval engine
// into the tasks and processes read models, on SQLite and PostgreSQL, and
// checks the rows, the inbox sections, overdue at two moments and the task
// gauges; then rebuilds and checks again.
func TestApprovalReadModels(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		approvalLog(t, b.store)
		ps := []projections.Projection{projections.Processes{}, projections.Tasks{}}
		r := projections.NewRunner(b.store, b.db, ps, projections.Options{BatchSize: 5})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		late := approvalT0.Add(50 * time.Hour)    // everything open is overdue
		early := approvalT0.Add(30 * time.Minute) // nothing is
		check := func(t *testing.T) {
			procs, err := projections.ListProcesses(ctx, b.db, projections.ProcessFilter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range procs {
				got = append(got, fmt.Sprintf("%s %s returned=%t", p.ID, p.Status, p.Returned))
			}
			want := []string{
				"PR-2026-00000E running returned=false",
				"PR-2026-00000D running returned=true",
				"PR-2026-00000C cancelled returned=false",
				"PR-2026-00000B withdrawn returned=false",
				"PR-2026-00000A running returned=false",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("processes (-want +got):\n%s", diff)
			}
			_, timeline, err := projections.GetProcess(ctx, b.db, "PR-2026-00000A")
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range timeline {
				types = append(types, e.Type)
			}
			want = []string{"procurement.requisition_submitted", "process.copied", "approval.step_started", "task.opened",
				"task.reminded", "task.commented", "task.completed", "approval.step_completed", "task.opened", "task.opened",
				"task.transferred", "task.approver_added", "task.escalated"}
			if diff := cmp.Diff(want, types); diff != "" {
				t.Errorf("timeline of PR-A (-want +got):\n%s", diff)
			}

			rows, err := projections.ListTasks(ctx, b.db, projections.TaskFilter{Limit: 50, Now: late})
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, r := range rows {
				got = append(got, describe(r))
			}
			want = []string{
				"PR-2026-00000E.dept_approval.1 pending [ma.chao] obo=[ma.chao→liu.yang] due=1h0m0s overdue=true by=/ action= auto= cancel=\"\" added=[] t=0 r=0 c=0 e=0 name=审批 dept_approval expl=true",
				"PR-2026-00000D.finance_review.1 done [chen.jing] obo=[] due=48h0m0s overdue=false by=chen.jing/ action=return auto= cancel=\"\" added=[] t=0 r=0 c=0 e=0 name=审批 finance_review expl=true",
				"PR-2026-00000D.dept_approval.1 done [liu.yang] obo=[] due=24h0m0s overdue=false by=system/ action=approve auto=timeout cancel=\"\" added=[] t=0 r=0 c=0 e=0 name=审批 dept_approval expl=true",
				"PR-2026-00000C.record_po.2 cancelled [li.na] obo=[] due=24h0m0s overdue=false by=/ action= auto= cancel=\"process cancelled\" added=[] t=0 r=0 c=0 e=0 name=审批 record_po expl=true",
				"PR-2026-00000C.record_po.1 cancelled [li.na] obo=[] due=24h0m0s overdue=false by=/ action= auto= cancel=\"superseded\" added=[] t=0 r=0 c=0 e=0 name=审批 record_po expl=true",
				"PR-2026-00000C.dept_approval.1 done [liu.yang] obo=[] due=24h0m0s overdue=false by=liu.yang/ action=approve auto= cancel=\"\" added=[] t=0 r=0 c=0 e=0 name=审批 dept_approval expl=true",
				"PR-2026-00000B.dept_approval.2 cancelled [liu.yang] obo=[] due=24h0m0s overdue=false by=/ action= auto= cancel=\"process withdrawn\" added=[] t=0 r=0 c=0 e=0 name=审批 dept_approval expl=true",
				"PR-2026-00000B.dept_approval.1 done [liu.yang] obo=[] due=24h0m0s overdue=false by=liu.yang/ action=return auto= cancel=\"\" added=[] t=0 r=0 c=0 e=0 name=审批 dept_approval expl=true",
				"PR-2026-00000A.finance_review.2 pending [li.na] obo=[] due=48h0m0s overdue=true by=/ action= auto= cancel=\"\" added=[] t=1 r=0 c=0 e=0 name=审批 finance_review expl=true",
				"PR-2026-00000A.finance_review.1 pending [chen.jing,admin] obo=[] due=49h0m0s overdue=true by=/ action= auto= cancel=\"\" added=[parallel:zhao.lei by chen.jing] t=0 r=0 c=0 e=1 name=审批 finance_review expl=true",
				"PR-2026-00000A.dept_approval.1 done [ma.chao] obo=[ma.chao→liu.yang] due=24h0m0s overdue=false by=ma.chao/liu.yang action=approve auto= cancel=\"\" added=[] t=0 r=1 c=1 e=0 name=审批 dept_approval expl=true",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tasks (-want +got):\n%s", diff)
			}
			for user, want := range map[string][]string{
				"zhang.wei": nil, // transferred away
				"li.na":     {"PR-2026-00000A.finance_review.2"},
				"admin":     {"PR-2026-00000A.finance_review.1"}, // by escalation
			} {
				rows, err := projections.ListTasks(ctx, b.db, projections.TaskFilter{Assignee: user, Status: "pending", Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(append([]string{}, want...), ids(rows)); diff != "" {
					t.Errorf("%s's pending tasks (-want +got):\n%s", user, diff)
				}
			}

			type section struct {
				Pending, Delegated, Handled, Copied []string
				Counts                              projections.InboxCounts
			}
			inbox := func(user string, now time.Time, limit int) section {
				t.Helper()
				in, err := projections.GetInbox(ctx, b.db, user, now, projections.InboxFilter{Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				s := section{Pending: ids(in.Pending), Delegated: ids(in.Delegated), Handled: ids(in.Handled), Copied: []string{}, Counts: in.Counts}
				for _, c := range in.Copied {
					s.Copied = append(s.Copied, fmt.Sprintf("%s %s %s %s %s", c.ProcessID, c.At, c.Status, c.Requester, c.Title))
				}
				for _, r := range append(in.Pending, in.Delegated...) {
					if r.Overdue != r.DueAt.Before(now) {
						t.Errorf("%s overdue=%t at %s, due %s", r.ID, r.Overdue, now, r.DueAt)
					}
				}
				return s
			}
			for _, tt := range []struct {
				user  string
				now   time.Time
				limit int
				want  section
			}{
				{"ma.chao", late, 50, section{Pending: []string{}, Delegated: []string{"PR-2026-00000E.dept_approval.1"},
					Handled: []string{"PR-2026-00000A.dept_approval.1"}, Copied: []string{}, Counts: projections.InboxCounts{Delegated: 1, Overdue: 1}}},
				{"ma.chao", early, 50, section{Pending: []string{}, Delegated: []string{"PR-2026-00000E.dept_approval.1"},
					Handled: []string{"PR-2026-00000A.dept_approval.1"}, Copied: []string{}, Counts: projections.InboxCounts{Delegated: 1}}},
				{"liu.yang", late, 50, section{Pending: []string{}, Delegated: []string{}, Copied: []string{},
					Handled: []string{"PR-2026-00000C.dept_approval.1", "PR-2026-00000B.dept_approval.1"}}},
				{"liu.yang", late, 1, section{Pending: []string{}, Delegated: []string{}, Copied: []string{},
					Handled: []string{"PR-2026-00000C.dept_approval.1"}}},
				{"chen.jing", late, 50, section{Pending: []string{"PR-2026-00000A.finance_review.1"}, Delegated: []string{}, Copied: []string{},
					Handled: []string{"PR-2026-00000D.finance_review.1"}, Counts: projections.InboxCounts{Pending: 1, Overdue: 1}}},
				{"li.na", early, 50, section{Pending: []string{"PR-2026-00000A.finance_review.2"}, Delegated: []string{}, Copied: []string{},
					Handled: []string{}, Counts: projections.InboxCounts{Pending: 1}}},
				{"zhou.qiang", late, 50, section{Pending: []string{}, Delegated: []string{}, Handled: []string{}, Copied: []string{
					"PR-2026-00000C finish cancelled wang.fang 投影仪", "PR-2026-00000A start running wang.fang 投影仪"}}},
			} {
				if diff := cmp.Diff(tt.want, inbox(tt.user, tt.now, tt.limit)); diff != "" {
					t.Errorf("inbox of %s at %s, limit %d (-want +got):\n%s", tt.user, tt.now.Sub(approvalT0), tt.limit, diff)
				}
			}

			// Filtered and paged: each section's page, and its total under
			// the filter.
			for _, tt := range []struct {
				user string
				f    projections.InboxFilter
				want string
			}{
				{"chen.jing", projections.InboxFilter{Overdue: true}, "pending [PR-2026-00000A.finance_review.1] handled [PR-2026-00000D.finance_review.1] totals {1 0 1 0}"},
				{"chen.jing", projections.InboxFilter{Step: "dept_approval"}, "pending [] handled [] totals {0 0 0 0}"},
				{"chen.jing", projections.InboxFilter{Search: "00000d"}, "pending [] handled [PR-2026-00000D.finance_review.1] totals {0 0 1 0}"},
				{"chen.jing", projections.InboxFilter{Search: "投影"}, "pending [PR-2026-00000A.finance_review.1] handled [PR-2026-00000D.finance_review.1] totals {1 0 1 0}"},
				{"chen.jing", projections.InboxFilter{Search: "100%"}, "pending [] handled [] totals {0 0 0 0}"},
				{"chen.jing", projections.InboxFilter{Kind: "trip"}, "pending [] handled [] totals {0 0 0 0}"},
				{"liu.yang", projections.InboxFilter{Offset: 1}, "pending [] handled [PR-2026-00000B.dept_approval.1] totals {0 0 2 0}"},
				{"ma.chao", projections.InboxFilter{Requester: "wang.fang", DueBefore: late}, "pending [] delegated [PR-2026-00000E.dept_approval.1] handled [PR-2026-00000A.dept_approval.1] totals {0 1 1 0}"},
				{"ma.chao", projections.InboxFilter{Department: "FIN"}, "pending [] handled [] totals {0 0 0 0}"},
				{"zhou.qiang", projections.InboxFilter{Search: "00000c"}, "copied [PR-2026-00000C] totals {0 0 0 1}"},
			} {
				if tt.f.Limit == 0 {
					tt.f.Limit = 50
				}
				in, err := projections.GetInbox(ctx, b.db, tt.user, late, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, sec := range []struct {
					name string
					ids  []string
				}{{"pending", ids(in.Pending)}, {"delegated", ids(in.Delegated)}, {"handled", ids(in.Handled)}} {
					if len(sec.ids) > 0 || sec.name != "delegated" {
						got = append(got, fmt.Sprintf("%s %v", sec.name, sec.ids))
					}
				}
				if len(in.Copied) > 0 {
					var copied []string
					for _, c := range in.Copied {
						copied = append(copied, c.ProcessID)
					}
					got = []string{fmt.Sprintf("copied %v", copied)}
				}
				got = append(got, fmt.Sprintf("totals %v", in.Totals))
				if g := strings.Join(got, " "); g != tt.want {
					t.Errorf("inbox of %s filtered %+v = %s, want %s", tt.user, tt.f, g, tt.want)
				}
			}

			for _, tt := range []struct {
				now  time.Time
				want map[string]float64
			}{
				{late, map[string]float64{
					`houqin_tasks_pending{procurement,dept_approval}`: 1, `houqin_tasks_overdue{procurement,dept_approval}`: 1,
					`houqin_tasks_pending{procurement,finance_review}`: 2, `houqin_tasks_overdue{procurement,finance_review}`: 2,
					// record_po has only ended tasks: its series stay, at 0.
					`houqin_tasks_pending{procurement,record_po}`: 0, `houqin_tasks_overdue{procurement,record_po}`: 0}},
				{early, map[string]float64{
					`houqin_tasks_pending{procurement,dept_approval}`: 1, `houqin_tasks_overdue{procurement,dept_approval}`: 0,
					`houqin_tasks_pending{procurement,finance_review}`: 2, `houqin_tasks_overdue{procurement,finance_review}`: 0,
					`houqin_tasks_pending{procurement,record_po}`: 0, `houqin_tasks_overdue{procurement,record_po}`: 0}},
			} {
				reg := prometheus.NewRegistry()
				reg.MustRegister(projections.NewTaskGauges(b.db, func() time.Time { return tt.now }, time.Second, nil))
				if diff := cmp.Diff(tt.want, gather(t, reg)); diff != "" {
					t.Errorf("task gauges at %s (-want +got):\n%s", tt.now.Sub(approvalT0), diff)
				}
			}
		}
		check(t)
		for _, p := range ps {
			if err := r.Rebuild(ctx, p.Name(), nil, 0); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("after rebuild", check)
	})
}

// gather returns every series in reg as "name{label values}" → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetValue())
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestUpgradeFromVersion1 starts from the tables and checkpoints of the
// first versions of tasks and processes, with rows in them: Setup must
// replace the tables (new columns) and rebuild them from the log.
func TestUpgradeFromVersion1(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		for _, ddl := range []string{
			`CREATE TABLE projection_checkpoints (name TEXT PRIMARY KEY, version BIGINT NOT NULL, position BIGINT NOT NULL, updated_at TEXT NOT NULL)`,
			`INSERT INTO projection_checkpoints VALUES ('tasks', 1, 999, ''), ('processes', 1, 999, '')`,
			`CREATE TABLE tasks (id TEXT PRIMARY KEY, process_id TEXT NOT NULL, kind TEXT NOT NULL, step TEXT NOT NULL,
				assignees TEXT NOT NULL, actions TEXT NOT NULL, due_at TEXT NOT NULL, status TEXT NOT NULL, opened_at TEXT NOT NULL,
				completed_at TEXT NOT NULL DEFAULT '', completed_by TEXT NOT NULL DEFAULT '', action TEXT NOT NULL DEFAULT '',
				comment TEXT NOT NULL DEFAULT '', position BIGINT NOT NULL)`,
			`CREATE INDEX tasks_process ON tasks (process_id, position)`,
			`INSERT INTO tasks (id, process_id, kind, step, assignees, actions, due_at, status, opened_at, position)
				VALUES ('stale', 'PR-0', 'procurement', 'x', '[]', '[]', '', 'pending', '', 1)`,
			`CREATE TABLE task_assignees (user_id TEXT NOT NULL, task_id TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (user_id, task_id))`,
			`CREATE INDEX task_assignees_inbox ON task_assignees (user_id, position)`,
			`CREATE TABLE processes (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, requester TEXT NOT NULL,
				department TEXT NOT NULL, title TEXT NOT NULL, amount BIGINT NOT NULL, currency TEXT NOT NULL, created_at TEXT NOT NULL,
				updated_at TEXT NOT NULL, position BIGINT NOT NULL, last_position BIGINT NOT NULL)`,
			`CREATE INDEX processes_position ON processes (position)`,
			`CREATE INDEX processes_requester ON processes (requester, position)`,
			`CREATE TABLE timeline (process_id TEXT NOT NULL, position BIGINT NOT NULL, type TEXT NOT NULL, actor TEXT NOT NULL,
				at TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (process_id, position))`,
		} {
			if _, err := b.db.ExecContext(ctx, ddl); err != nil {
				t.Fatalf("%s: %v", ddl, err)
			}
		}
		approvalLog(t, b.store)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.Processes{}, projections.Tasks{}}, projections.Options{})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := projections.ListTasks(ctx, b.db, projections.TaskFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 11 || rows[len(rows)-1].CompletedOnBehalfOf != "liu.yang" {
			t.Errorf("after the upgrade: %d tasks (want 11, the stale one gone): %v", len(rows), ids(rows))
		}
		procs, err := projections.ListProcesses(ctx, b.db, projections.ProcessFilter{Limit: 10})
		if err != nil || len(procs) != 5 || !procs[1].Returned {
			t.Errorf("after the upgrade: %+v, %v", procs, err)
		}
	})
}
