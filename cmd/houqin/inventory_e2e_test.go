package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// waitProcess polls a process until its status is want.
func (d *devProcess) waitProcess(t *testing.T, user, id, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := d.must(t, 200, user, "GET", "/v1/processes/"+id, nil)
		if p["status"] == want {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %s", id, p["status"], want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// item returns an item of GET /v1/inventory/items/{name} once the read
// models include position.
func (d *devProcess) item(t *testing.T, name string, pos any) map[string]any {
	t.Helper()
	return d.must(t, 200, "wang.fang", "GET", fmt.Sprintf("/v1/inventory/items/%s?min_position=%v", name, pos), nil)
}

// TestInventoryEndToEnd: logistics defines an item, an opening stocktake
// stocks it, departments take goods within and over their quota, eight
// concurrent issues take it below its reorder point and houqin starts
// exactly one requisition; two issues racing for the last boxes never take
// the stock below zero; the inventory report opens in Excel.
func TestInventoryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	paper := map[string]any{"name": "A4 paper", "names": map[string]any{"zh": "A4 打印纸", "en": "A4 paper"}, "unit": "box",
		"location": "WH-A-01", "reorder_point": 10, "reorder_quantity": 40, "quota": 5, "unit_price": 4500}

	// Master data.
	d.must(t, 403, "wang.fang", "POST", "/v1/inventory/items", paper)
	if out := d.must(t, 400, "li.na", "POST", "/v1/inventory/items", map[string]any{"name": "pens", "names": map[string]any{"zh": "笔", "en": "Pens"}, "unit": "支", "reorder_point": -1}); !strings.HasPrefix(out["detail"].(string), "reorder_point:") {
		t.Errorf("bad item: %v", out)
	}
	def := d.must(t, 201, "li.na", "POST", "/v1/inventory/items", paper)
	if def["slug"] != "a4-paper" || def["version"] != float64(0) {
		t.Errorf("defined = %v", def)
	}
	d.must(t, 409, "zhou.qiang", "POST", "/v1/inventory/items", paper)
	d.must(t, 403, "huang.xin", "PATCH", "/v1/inventory/items/a4-paper", map[string]any{"location": "X"})
	upd := d.must(t, 200, "zhou.qiang", "PATCH", "/v1/inventory/items/a4-paper", map[string]any{"location": "WH-B-02"})
	if it := d.item(t, "a4-paper", upd["position"]); it["location"] != "WH-B-02" || it["defined"] != true || it["below_reorder"] != true {
		t.Errorf("item after PATCH = %v", it)
	}
	d.must(t, 400, "zhou.qiang", "PATCH", "/v1/inventory/items/a4-paper", map[string]any{"name": "B5 paper"})

	// An issue of an item with no stock is refused; an opening stocktake
	// (variance +90) is approved by the warehouse head and the manager.
	d.must(t, 422, "wang.fang", "POST", "/v1/inventory/issues", map[string]any{"items": []map[string]any{{"item": "A4 paper", "quantity": 1}}})
	d.must(t, 403, "wang.fang", "POST", "/v1/inventory/stocktakes", map[string]any{"counts": []map[string]any{{"item": "A4 paper", "counted": 90}}})
	st := d.must(t, 201, "li.na", "POST", "/v1/inventory/stocktakes", map[string]any{"reason": "期初盘点", "counts": []map[string]any{{"item": "A4 paper", "counted": 90}}})
	task := d.pendingTask(t, "zhou.qiang", st["id"].(string), st["position"])
	out := d.must(t, 200, "zhou.qiang", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "属实"})
	task = d.pendingTask(t, "zhang.wei", st["id"].(string), out["position"])
	out = d.must(t, 200, "zhang.wei", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "同意调整"})
	d.waitProcess(t, "li.na", st["id"].(string), "completed")
	exportHistory(t, d, st["id"].(string), "adjusted")
	if it := d.item(t, "a4-paper", out["position"]); it["on_hand"] != float64(90) || it["below_reorder"] != false {
		t.Fatalf("after the stocktake: %v", it)
	}

	// Within quota: the warehouse hands out at once. Over quota: the
	// department head approves first.
	is := d.must(t, 201, "wang.fang", "POST", "/v1/inventory/issues", map[string]any{"reason": "会议用纸", "items": []map[string]any{{"item": "A4 paper", "quantity": 4}}})
	hand := d.pendingTask(t, "zhou.qiang", is["id"].(string), is["position"])
	if hand["step"] != "hand_out" {
		t.Fatalf("task = %v, want hand_out", hand)
	}
	d.must(t, 403, "wang.fang", "POST", "/v1/tasks/"+hand["id"].(string)+"/complete", map[string]any{"data": map[string]any{}})
	d.must(t, 200, "zhou.qiang", "POST", "/v1/tasks/"+hand["id"].(string)+"/complete", map[string]any{"data": map[string]any{}})
	d.waitProcess(t, "wang.fang", is["id"].(string), "completed")
	exportHistory(t, d, is["id"].(string), "issued")

	over := d.must(t, 201, "wang.fang", "POST", "/v1/inventory/issues", map[string]any{"items": []map[string]any{{"item": "A4 paper", "quantity": 6}}})
	task = d.pendingTask(t, "liu.yang", over["id"].(string), over["position"])
	if task["step"] != "dept_approval" {
		t.Fatalf("over-quota task = %v", task)
	}
	out = d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	hand = d.pendingTask(t, "zhou.qiang", over["id"].(string), out["position"])
	out = d.must(t, 200, "zhou.qiang", "POST", "/v1/tasks/"+hand["id"].(string)+"/complete", map[string]any{"data": map[string]any{}})
	if it := d.item(t, "a4-paper", out["position"]); it["on_hand"] != float64(80) {
		t.Fatalf("after two issues: %v", it)
	}
	d.must(t, 403, "wang.fang", "POST", "/v1/inventory/issues", map[string]any{"department": "HR", "items": []map[string]any{{"item": "A4 paper", "quantity": 1}}})

	// Eight people of eight departments take 9 boxes each, within a quota
	// raised to 10, handed out concurrently: 80 → 8, below the reorder
	// point (raised to 60) from the third on; six issues trigger a reorder
	// at about the same time, one requisition starts.
	out = d.must(t, 200, "li.na", "PATCH", "/v1/inventory/items/A4 paper", map[string]any{"quota": 10, "reorder_point": 60})
	var ids []string
	positions := map[string]any{}
	for _, u := range []string{"wang.fang", "liu.yang", "chen.jing", "zhao.lei", "sun.li", "wu.min", "ma.chao", "li.na"} {
		out := d.must(t, 201, u, "POST", "/v1/inventory/issues", map[string]any{"items": []map[string]any{{"item": "A4 paper", "quantity": 9}}})
		ids = append(ids, out["id"].(string))
		positions[out["id"].(string)] = out["position"]
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			task := d.pendingTask(t, "zhou.qiang", id, positions[id])
			d.must(t, 200, "zhou.qiang", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": map[string]any{}})
		})
	}
	wg.Wait()
	d.waitWorkflows(t, ids...) // their reorder triggers are sent

	// Two issues race for the last 8 boxes: one gets them, the other is
	// refused and its task stays open; the stock never goes below zero.
	a := d.must(t, 201, "wang.fang", "POST", "/v1/inventory/issues", map[string]any{"items": []map[string]any{{"item": "A4 paper", "quantity": 5}}})
	b := d.must(t, 201, "zhao.lei", "POST", "/v1/inventory/issues", map[string]any{"items": []map[string]any{{"item": "A4 paper", "quantity": 5}}})
	codes := make(chan int, 2)
	var last sync.Map
	positions[a["id"].(string)], positions[b["id"].(string)] = a["position"], b["position"]
	for _, id := range []string{a["id"].(string), b["id"].(string)} {
		wg.Go(func() {
			task := d.pendingTask(t, "zhou.qiang", id, positions[id])
			code, out := d.do(t, "zhou.qiang", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": map[string]any{}})
			if code == 422 && !strings.Contains(out["detail"].(string), "to hand out, 3 on hand") {
				t.Errorf("refused hand-out: %v", out)
			}
			if code == 200 {
				last.Store("position", out["position"])
			}
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	var got []int
	for c := range codes {
		got = append(got, c)
	}
	if !(len(got) == 2 && got[0]+got[1] == 622) {
		t.Errorf("racing hand-outs answered %v, want one 200 and one 422", got)
	}
	pos, _ := last.Load("position")
	it := d.item(t, "a4-paper", pos)
	if it["on_hand"] != float64(3) || it["below_reorder"] != true {
		t.Fatalf("after the race: %v", it)
	}

	// Exactly one requisition, by zhou.qiang of the warehouse, for the
	// reorder quantity, waiting for his manager zhang.wei.
	var reorders []any
	deadline := time.Now().Add(30 * time.Second)
	for {
		list := d.must(t, 200, "zhang.wei", "GET", "/v1/processes?kind=procurement", nil)
		reorders = list["items"].([]any)
		if len(reorders) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second requisition would have shown by now
	list := d.must(t, 200, "zhang.wei", "GET", "/v1/processes?kind=procurement", nil)
	if reorders = list["items"].([]any); len(reorders) != 1 {
		t.Fatalf("procurements = %v, want exactly one reorder", reorders)
	}
	pr := reorders[0].(map[string]any)
	prID := pr["id"].(string)
	if pr["requester"] != "zhou.qiang" || pr["department"] != "WH" {
		t.Errorf("reorder = %v", pr)
	}
	it = d.item(t, "a4-paper", 0) // the reorder was recorded before the procurement started
	if it["last_reorder"] != prID {
		t.Errorf("item's last reorder = %v, want %s", it["last_reorder"], prID)
	}
	t.Run("metrics", func(t *testing.T) {
		resp, err := http.Get(d.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), `houqin_inventory_below_reorder{item="A4 paper"} 1`) {
			t.Errorf("/metrics lacks the below-reorder gauge")
		}
	})

	// The requisition goes through; its stock-in ends the reorder, whose
	// history is exported.
	task = d.pendingTask(t, "zhang.wei", prID, 0)
	out = d.must(t, 200, "zhang.wei", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "补货"})
	for _, step := range []map[string]any{
		{"supplier": "得力办公", "lines": []map[string]any{{"name": "A4 paper", "quantity": 40, "unit_price": 4400}}},
		{"lines": []map[string]any{{"name": "A4 paper", "quantity": 40}}},
		{"number": "INV-2026-0042", "amount": 176000}, // the invoice (budget control)
		{},
	} {
		task = d.pendingTask(t, "li.na", prID, out["position"])
		out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": step})
	}
	d.waitWorkflows(t, prID, "RO-a4-paper")
	exportHistory(t, d, "RO-a4-paper", "reordered")
	if it := d.item(t, "a4-paper", out["position"]); it["on_hand"] != float64(43) {
		t.Errorf("after the reorder's stock-in: %v", it)
	}

	t.Run("report", func(t *testing.T) {
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		code, ctype, body := d.raw(t, "huang.xin", "/v1/reports/inventory?format=xlsx&from="+today+"&to="+today+"&min_position="+fmt.Sprint(out["position"]))
		if code != 200 || !strings.Contains(ctype, "spreadsheetml") {
			t.Fatalf("xlsx: %d %s", code, body)
		}
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("库存管理表")
		if err != nil {
			t.Fatal(err)
		}
		// 0 + 90 (stocktake) + 40 in − 4 − 6 − 72 − 5 issued = 43
		want := "A4 paper|A4 打印纸|A4 paper|box|WH-B-02|0|40|87|90|43|60|40|是"
		if len(rows) != 2 || strings.Join(rows[1], "|") != want {
			t.Errorf("xlsx rows = %v, want %s", rows, want)
		}
		moves, err := f.GetRows("出入库明细")
		if err != nil || len(moves) != 1+1+1+8+1+1+1 {
			t.Errorf("movements sheet: %d rows, %v", len(moves), err)
		}
		code, _, body = d.raw(t, "wang.fang", "/v1/reports/inventory?format=csv&lang=en")
		if code != 200 || !strings.HasPrefix(string(body), "\ufeffItem,Name (zh),Name (en),Unit,Location,Opening,In,Issued") {
			t.Errorf("csv: %d %s", code, body)
		}
		d.must(t, 400, "wang.fang", "GET", "/v1/reports/inventory?from=2026-13-01", nil)
	})
}

// waitWorkflows waits until each workflow has closed.
func (d *devProcess) waitWorkflows(t *testing.T, ids ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: d.temporal, Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, id := range ids {
		if err := c.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
			t.Fatalf("workflow %s: %v", id, err)
		}
	}
}

// TestStocktakeScheduleEndToEnd: a monthly stocktake schedule is made,
// listed with its next run, triggered now; the stocktake it starts waits
// for the warehouse's count, and the schedule is removed.
func TestStocktakeScheduleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	d.must(t, 201, "li.na", "POST", "/v1/inventory/items", map[string]any{"name": "toner", "names": map[string]any{"zh": "硒鼓", "en": "Toner"}, "unit": "piece"})
	out := d.must(t, 201, "li.na", "POST", "/v1/inventory/items", map[string]any{"name": "A4 paper", "names": map[string]any{"zh": "A4 打印纸", "en": "A4 paper"}, "unit": "box"})
	d.item(t, "a4-paper", out["position"])
	sch := d.must(t, 201, "li.na", "POST", "/v1/inventory/stocktake-schedules", map[string]any{"id": "monthly", "cron": "0 9 1 * *", "reason": "月度盘点"})
	if sch["time_zone"] != "Asia/Shanghai" || len(sch["items"].([]any)) != 2 || fmt.Sprint(sch["counters"]) != "[zhou.qiang]" || len(sch["next_runs"].([]any)) == 0 {
		t.Fatalf("schedule = %v", sch)
	}
	next, _ := time.Parse(time.RFC3339, sch["next_runs"].([]any)[0].(string))
	if cst := next.In(time.FixedZone("CST", 8*3600)); cst.Day() != 1 || cst.Hour() != 9 {
		t.Errorf("next run %s is not 09:00 CST on the 1st", cst)
	}
	d.must(t, 409, "zhou.qiang", "POST", "/v1/inventory/stocktake-schedules", map[string]any{"id": "monthly", "every": "24h"})

	// Run it now, as the schedule would on the 1st.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: d.temporal, Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.ScheduleClient().GetHandle(ctx, "stocktake-monthly").Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for st == nil {
		for _, it := range d.must(t, 200, "zhang.wei", "GET", "/v1/processes?kind=stocktake", nil)["items"].([]any) {
			st = it.(map[string]any)
		}
		if time.Now().After(deadline) {
			t.Fatal("the triggered schedule started no stocktake")
		}
		time.Sleep(100 * time.Millisecond)
	}
	id := st["id"].(string)
	if id != "ST-"+fmt.Sprint(time.Now().Year())+"-000001" || st["requester"] != "li.na" || st["title"] != "月度盘点" {
		t.Errorf("stocktake = %v", st)
	}
	task := d.pendingTask(t, "zhou.qiang", id, 0)
	if task["step"] != "count" {
		t.Fatalf("task = %v, want count", task)
	}
	// The count form lists the schedule's items, asked of the workflow.
	if items := d.must(t, 200, "zhou.qiang", "GET", "/v1/inventory/stocktakes/"+id+"/items", nil); fmt.Sprint(items["items"]) != "[A4 paper toner]" {
		t.Errorf("the count task's items = %v", items)
	}
	d.must(t, 403, "wang.fang", "GET", "/v1/inventory/stocktakes/"+id+"/items", nil)
	d.must(t, 400, "zhou.qiang", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": map[string]any{"counts": []map[string]any{{"item": "A4 paper", "counted": 0}}}})
	d.must(t, 200, "zhou.qiang", "POST", "/v1/tasks/"+task["id"].(string)+"/complete", map[string]any{"data": map[string]any{
		"counts": []map[string]any{{"item": "A4 paper", "counted": 0}, {"item": "toner", "counted": 0}}}})
	d.waitProcess(t, "li.na", id, "completed")
	d.waitWorkflows(t, id)
	exportHistory(t, d, id, "counted")

	list := d.must(t, 200, "huang.xin", "GET", "/v1/inventory/stocktake-schedules", nil)["items"].([]any)
	if len(list) != 1 || len(list[0].(map[string]any)["recent_runs"].([]any)) != 1 {
		t.Fatalf("schedules = %v", list)
	}
	launcher := list[0].(map[string]any)["recent_runs"].([]any)[0].(string)
	if !strings.HasPrefix(launcher, "stocktake-monthly-") {
		t.Errorf("launched %s", launcher)
	}
	d.waitWorkflows(t, launcher)
	exportHistory(t, d, launcher, "launched")
	d.must(t, 200, "li.na", "DELETE", "/v1/inventory/stocktake-schedules/monthly", nil)
	if list := d.must(t, 200, "li.na", "GET", "/v1/inventory/stocktake-schedules", nil)["items"].([]any); len(list) != 0 {
		t.Errorf("schedules after delete = %v", list)
	}
	d.must(t, 404, "li.na", "DELETE", "/v1/inventory/stocktake-schedules/monthly", nil)
}
