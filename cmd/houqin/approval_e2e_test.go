package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
)

// bigRequisition is worth ¥9,000: under the default policy the department
// head approves, then finance and the logistics manager countersign (会签).
var bigRequisition = map[string]any{
	"department": "MKT", "budget_category": "office_supplies", "reason": "展会物料", "needed_by": "2026-12-20",
	"items": []map[string]any{{"name": "展架", "quantity": 3, "unit": "套", "unit_price": 300000}},
}

// inbox returns a section of user's inbox once the read models passed pos.
func (d *devProcess) inbox(t *testing.T, user, section string, pos any) []map[string]any {
	t.Helper()
	out := d.must(t, 200, user, "GET", fmt.Sprintf("/v1/inbox?min_position=%v", pos), nil)
	var items []map[string]any
	for _, it := range out[section].([]any) {
		items = append(items, it.(map[string]any))
	}
	return items
}

// taskIn returns the item of items on process, failing the test if none.
func taskIn(t *testing.T, items []map[string]any, process, what string) map[string]any {
	t.Helper()
	for _, it := range items {
		if it["process_id"] == process {
			return it
		}
	}
	t.Fatalf("%s: nothing on %s in %v", what, process, items)
	return nil
}

// TestApprovalEndToEnd walks a two-step procurement through the HTTP API
// on the embedded Temporal server: a preview, a delegation, an approver
// added after the department head (后加签), a countersign (会签) in which a
// delegate acts for finance, reminders, the inbox sections, and the refusals
// on the way; then a return and resubmission, a withdrawal and a revocation
// on three more processes.
func TestApprovalEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	now := time.Now().UTC()

	// 预览审批流程: what the request would go through.
	route, preview := previewRoute(t, d, "wang.fang", "/v1/procurements/preview", bigRequisition)
	if want := []string{"dept_approval true liu.yang", "finance_review true chen.jing,zhang.wei", "director_approval false ", "budget_review false ", "budget_exception false "}; !slices.Equal(route, want) {
		t.Fatalf("preview route %q, want %q", route, want)
	}

	// chen.jing is away: zhao.lei acts for her.
	del := d.must(t, 201, "chen.jing", "POST", "/v1/delegations", map[string]any{
		"delegate": "zhao.lei", "from": now.Add(-time.Hour).Format(time.RFC3339), "to": now.Add(24 * time.Hour).Format(time.RFC3339), "reason": "年假"})

	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", bigRequisition)
	id := created["id"].(string)
	pos := created["position"]

	dept := taskIn(t, d.inbox(t, "liu.yang", "pending", pos), id, "liu.yang's pending")
	if dept["step"] != "dept_approval" || dept["overdue"] != false || dept["due_at"] == "" {
		t.Fatalf("dept task = %v", dept)
	}
	deptID := dept["id"].(string)
	act := func(code int, user, taskID, action string, body any) map[string]any {
		t.Helper()
		return d.must(t, code, user, "POST", "/v1/tasks/"+taskID+"/"+action, body)
	}
	actT := func(t *testing.T, code int, user, taskID, action string, body any) map[string]any {
		t.Helper()
		return d.must(t, code, user, "POST", "/v1/tasks/"+taskID+"/"+action, body)
	}

	// Refusals leave no trace.
	act(403, "wang.fang", deptID, "approve", map[string]any{})
	act(403, "huang.xin", deptID, "approve", map[string]any{})
	act(403, "ma.chao", deptID, "approve", map[string]any{})
	if p := act(422, "liu.yang", deptID, "complete", map[string]any{}); p["code"] != "ENOTALLOWED" {
		t.Fatalf("complete on an approval = %v, want 422 ENOTALLOWED", p)
	}
	act(400, "liu.yang", deptID, "reject", map[string]any{})
	act(400, "liu.yang", deptID, "add-approver", map[string]any{"users": []string{"no.body"}, "position": "after"})

	// 催办, at most once an hour.
	act(200, "wang.fang", deptID, "remind", map[string]any{"comment": "展会下周开始"})
	if p := act(422, "wang.fang", deptID, "remind", map[string]any{}); !strings.Contains(p["detail"].(string), "remind again after") {
		t.Fatalf("second reminder = %v", p)
	}
	act(200, "liu.yang", deptID, "comment", map[string]any{"comment": "请马超确认展位"})

	// 后加签: ma.chao approves after liu.yang.
	act(200, "liu.yang", deptID, "add-approver", map[string]any{"users": []string{"ma.chao"}, "position": "after", "comment": "请马超把关"})
	out := act(200, "liu.yang", deptID, "approve", map[string]any{"comment": "同意"})
	act(409, "liu.yang", deptID, "approve", map[string]any{})
	added := taskIn(t, d.inbox(t, "ma.chao", "pending", out["position"]), id, "ma.chao's pending")
	out = act(200, "ma.chao", added["id"].(string), "approve", map[string]any{"comment": "可以"})

	// 会签: zhao.lei for chen.jing, and zhang.wei.
	delegated := taskIn(t, d.inbox(t, "zhao.lei", "delegated", out["position"]), id, "zhao.lei's delegated")
	if obo := delegated["on_behalf_of"].(map[string]any); obo["zhao.lei"] != "chen.jing" || delegated["step"] != "finance_review" {
		t.Fatalf("delegated task = %v", delegated)
	}
	act(403, "chen.jing", delegated["id"].(string), "approve", map[string]any{})
	zw := taskIn(t, d.inbox(t, "zhang.wei", "pending", out["position"]), id, "zhang.wei's pending")
	act(200, "zhao.lei", delegated["id"].(string), "approve", map[string]any{"comment": "代陈静审批"})
	out = act(200, "zhang.wei", zw["id"].(string), "approve", map[string]any{})

	// Approved: withdrawing is too late, only the requester may revoke.
	d.must(t, 422, "wang.fang", "POST", "/v1/processes/"+id+"/withdraw", map[string]any{})
	d.must(t, 403, "liu.yang", "POST", "/v1/processes/"+id+"/revoke", map[string]any{})
	d.must(t, 403, "huang.xin", "POST", "/v1/processes/"+id+"/revoke", map[string]any{})

	// The work steps, then the finish copies the warehouse.
	po := taskIn(t, d.inbox(t, "li.na", "pending", out["position"]), id, "li.na's pending")
	if po["step"] != "record_po" {
		t.Fatalf("after the countersign li.na has %v, want record_po", po)
	}
	out = act(200, "li.na", po["id"].(string), "complete", map[string]any{"data": map[string]any{
		"supplier": "上海展览服务公司", "lines": []map[string]any{{"name": "展架", "quantity": 3, "unit_price": 290000}}}})
	rc := taskIn(t, d.inbox(t, "li.na", "pending", out["position"]), id, "receive_goods")
	out = act(200, "li.na", rc["id"].(string), "complete", map[string]any{"data": map[string]any{"lines": []map[string]any{{"name": "展架", "quantity": 3}}}})
	d.must(t, 422, "wang.fang", "POST", "/v1/processes/"+id+"/revoke", map[string]any{})
	inv := taskIn(t, d.inbox(t, "li.na", "pending", out["position"]), id, "record_invoice")
	out = act(200, "li.na", inv["id"].(string), "complete", map[string]any{"data": map[string]any{"number": "SH-001", "amount": 870000}})
	si := taskIn(t, d.inbox(t, "li.na", "pending", out["position"]), id, "stock_in")
	out = act(200, "li.na", si["id"].(string), "complete", map[string]any{})
	if out["status"] != "completed" {
		t.Fatalf("stock-in answered %v, want completed", out)
	}

	copied := d.inbox(t, "zhou.qiang", "copied", out["position"])
	if c := taskIn(t, copied, id, "zhou.qiang's copies"); c["at"] != "finish" {
		t.Fatalf("copy = %v, want at finish", c)
	}
	d.must(t, 200, "zhou.qiang", "GET", "/v1/processes/"+id, nil)
	d.must(t, 403, "sun.li", "GET", "/v1/processes/"+id, nil)
	if h := taskIn(t, d.inbox(t, "zhao.lei", "handled", out["position"]), id, "zhao.lei's handled"); h["completed_on_behalf_of"] != "chen.jing" {
		t.Fatalf("handled = %v, want on behalf of chen.jing", h)
	}

	// The stream says who decided what, on whose behalf, under which rules.
	events := checkStream(t, d.data, id)
	var log []string
	for _, e := range events {
		data, err := e.Decode()
		if err != nil {
			t.Fatal(err)
		}
		switch v := data.(type) {
		case *houqin.StepStarted:
			log = append(log, fmt.Sprintf("step %s %s %d", v.Step, v.Mode, v.Required))
		case *houqin.ApproverAdded:
			log = append(log, fmt.Sprintf("add %s %s by %s", v.Position, strings.Join(v.Users, ","), v.By))
		case *houqin.TaskCompleted:
			log = append(log, fmt.Sprintf("%s %s by %s for %q", v.Action, v.Step, e.Meta.Actor, e.Meta.OnBehalfOf))
		case *houqin.TaskReminded:
			log = append(log, "remind by "+v.By)
		case *houqin.ProcessCopied:
			log = append(log, "cc "+v.At+" "+strings.Join(v.Users, ","))
		}
		if e.Meta.PolicyHash != preview["policy_hash"] {
			t.Fatalf("%s@%d carries policy hash %q, want the previewed %v", e.Stream, e.Version, e.Meta.PolicyHash, preview["policy_hash"])
		}
	}
	want := []string{
		"step dept_approval any 1", "remind by wang.fang", "add after ma.chao by liu.yang",
		`approve dept_approval by liu.yang for ""`, `approve dept_approval by ma.chao for ""`,
		"step finance_review all 2", `approve finance_review by zhao.lei for "chen.jing"`, `approve finance_review by zhang.wei for ""`,
		`complete record_po by li.na for ""`, `complete receive_goods by li.na for ""`, `complete record_invoice by li.na for ""`, `complete stock_in by li.na for ""`,
		"cc finish zhou.qiang",
	}
	if !slices.Equal(log, want) {
		t.Errorf("decisions:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	exportHistory(t, d, id, "countersign-invoiced")

	t.Run("return and resubmit", func(t *testing.T) {
		p := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
		id := p["id"].(string)
		task := taskIn(t, d.inbox(t, "liu.yang", "pending", p["position"]), id, "liu.yang")
		out := actT(t, 200, "liu.yang", task["id"].(string), "return", map[string]any{"to_step": nil, "comment": "请补充用途"})
		resub := taskIn(t, d.inbox(t, "wang.fang", "pending", out["position"]), id, "wang.fang's resubmit")
		amended := map[string]any{}
		for k, v := range requisition {
			amended[k] = v
		}
		amended["reason"] = "Q1 打印纸：市场部宣传册"
		out = actT(t, 200, "wang.fang", resub["id"].(string), "resubmit", map[string]any{"comment": "已补充", "data": amended})
		again := taskIn(t, d.inbox(t, "liu.yang", "pending", out["position"]), id, "liu.yang again")
		if again["id"] == task["id"] {
			t.Fatalf("the resubmitted request reuses task %v", again["id"])
		}
		out = actT(t, 200, "liu.yang", again["id"].(string), "approve", map[string]any{})
		// 撤销 before goods arrive.
		rv := d.must(t, 200, "wang.fang", "POST", "/v1/processes/"+id+"/revoke", map[string]any{"comment": "预算调整"})
		if rv["status"] != "cancelled" {
			t.Fatalf("revoke = %v", rv)
		}
		got := d.must(t, 200, "wang.fang", "GET", fmt.Sprintf("/v1/processes/%s?min_position=%v", id, rv["position"]), nil)
		if got["status"] != "cancelled" {
			t.Fatalf("process after revoke = %v", got["status"])
		}
	})
	t.Run("withdraw", func(t *testing.T) {
		p := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
		id := p["id"].(string)
		task := taskIn(t, d.inbox(t, "liu.yang", "pending", p["position"]), id, "liu.yang")
		d.must(t, 403, "liu.yang", "POST", "/v1/processes/"+id+"/withdraw", map[string]any{})
		w := d.must(t, 200, "wang.fang", "POST", "/v1/processes/"+id+"/withdraw", map[string]any{"comment": "买错了"})
		if w["status"] != "withdrawn" {
			t.Fatalf("withdraw = %v", w)
		}
		actT(t, 409, "liu.yang", task["id"].(string), "approve", map[string]any{})
		d.must(t, 409, "wang.fang", "POST", "/v1/processes/"+id+"/withdraw", map[string]any{})
		got := d.must(t, 200, "wang.fang", "GET", fmt.Sprintf("/v1/processes/%s?min_position=%v", id, w["position"]), nil)
		if got["status"] != "withdrawn" {
			t.Fatalf("process after withdraw = %v", got["status"])
		}
		for _, tk := range got["tasks"].([]any) {
			if tk.(map[string]any)["status"] != "cancelled" {
				t.Fatalf("task after withdraw = %v", tk)
			}
		}
	})
	t.Run("delegation ends", func(t *testing.T) {
		d.must(t, 200, "chen.jing", "DELETE", "/v1/delegations/"+del["id"].(string), nil)
		list := d.must(t, 200, "chen.jing", "GET", "/v1/delegations", nil)
		if items, _ := list["items"].([]any); len(items) != 0 {
			t.Fatalf("delegations after cancel = %v", list)
		}
	})
	t.Run("overdue metrics", func(t *testing.T) {
		resp, err := http.Get(d.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`houqin_tasks_pending{kind="procurement",step=`, `houqin_tasks_overdue{`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

// previewRoute previews a request's approval route (POST <path>) as user:
// each step as "<step> <applies> <assignees>", and the whole answer.
func previewRoute(t *testing.T, d *devProcess, user, path string, body any) (route []string, preview map[string]any) {
	t.Helper()
	preview = d.must(t, 200, user, "POST", path, body)
	for _, s := range preview["steps"].([]any) {
		step := s.(map[string]any)
		var users []string
		for _, a := range step["assignees"].([]any) {
			users = append(users, a.(map[string]any)["user"].(string))
		}
		route = append(route, fmt.Sprintf("%s %v %s", step["step"], step["applies"], strings.Join(users, ",")))
	}
	return route, preview
}
