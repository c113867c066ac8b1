package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
)

const paperJSON = `{"name":"A4 paper","names":{"zh":"A4 打印纸","en":"A4 paper"},"unit":"box","location":"WH-A-01",
	"reorder_point":10,"reorder_quantity":20,"quota":5,"department_quotas":{"ADM":30}}`

// TestInventoryItems covers what the API decides by itself about items:
// who may define and change them, validation naming the field, one
// definition per item, PATCH replacing only the fields given.
func TestInventoryItems(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	problem(t, f.do("wang.fang", "POST", "/v1/inventory/items", paperJSON), http.StatusForbidden, "role: only logistics_staff")
	problem(t, f.do("huang.xin", "POST", "/v1/inventory/items", paperJSON), http.StatusForbidden, "")
	problem(t, f.do("li.na", "POST", "/v1/inventory/items", `{"name":"A4 paper","names":{"zh":"纸","en":"Paper"},"unit":"box","reorder_point":5}`),
		http.StatusBadRequest, "reorder_quantity: must be positive when reorder_point is set")
	problem(t, f.do("li.na", "POST", "/v1/inventory/items", `{"name":"A4 paper","colour":"white"}`), http.StatusBadRequest, "colour: unknown field")
	var def struct {
		Slug     string `json:"slug"`
		Version  int64  `json:"version"`
		Position int64  `json:"position"`
		Item     struct {
			Location         string           `json:"location"`
			Quota            int64            `json:"quota"`
			DepartmentQuotas map[string]int64 `json:"department_quotas"`
		} `json:"item"`
	}
	decodeOK(t, f.do("li.na", "POST", "/v1/inventory/items", paperJSON), http.StatusCreated, &def)
	if def.Slug != "a4-paper" || def.Version != 0 || def.Item.DepartmentQuotas["ADM"] != 30 {
		t.Errorf("defined = %+v", def)
	}
	problem(t, f.do("zhou.qiang", "POST", "/v1/inventory/items", strings.Replace(paperJSON, `"A4 paper",`, `"a4-PAPER",`, 1)),
		http.StatusConflict, `name: item "a4-PAPER" is already defined (as "A4 paper")`)

	problem(t, f.do("zhou.qiang", "PATCH", "/v1/inventory/items/pens", `{"location":"X"}`), http.StatusNotFound, `item: no inventory item "pens" is defined`)
	problem(t, f.do("zhou.qiang", "PATCH", "/v1/inventory/items/a4-paper", `{"name":"B5 paper"}`), http.StatusBadRequest, "name: an item's name is its identity")
	problem(t, f.do("zhou.qiang", "PATCH", "/v1/inventory/items/a4-paper", `{"quota":-1}`), http.StatusBadRequest, "quota: must be between 0")
	problem(t, f.do("zhou.qiang", "PATCH", "/v1/inventory/items/a4-paper", `[1]`), http.StatusBadRequest, "body: a JSON object is required")
	problem(t, f.do("zhou.qiang", "PATCH", "/v1/inventory/items/a4-paper", `{}`), http.StatusBadRequest, "body: name at least one field")
	def.Item.DepartmentQuotas = nil // decoding merges into a map
	decodeOK(t, f.do("zhou.qiang", "PATCH", "/v1/inventory/items/a4-paper", `{"location":"WH-B-02","department_quotas":{"MKT":8}}`), http.StatusOK, &def)
	if def.Version != 1 || def.Item.Location != "WH-B-02" || def.Item.Quota != 5 || len(def.Item.DepartmentQuotas) != 1 || def.Item.DepartmentQuotas["MKT"] != 8 {
		t.Errorf("after PATCH = %+v", def)
	}

	f.catchUp()
	var list struct {
		Items []struct {
			Item         string `json:"item"`
			Location     string `json:"location"`
			OnHand       int64  `json:"on_hand"`
			BelowReorder bool   `json:"below_reorder"`
		} `json:"items"`
	}
	decodeOK(t, f.do("wang.fang", "GET", "/v1/inventory?below_reorder=true", ""), http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Location != "WH-B-02" || !list.Items[0].BelowReorder {
		t.Errorf("inventory = %+v", list)
	}
	decodeOK(t, f.do("wang.fang", "GET", "/v1/inventory?below_reorder=false", ""), http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("inventory not below reorder = %+v", list)
	}
	problem(t, f.do("wang.fang", "GET", "/v1/inventory?below_reorder=maybe", ""), http.StatusBadRequest, "below_reorder: must be one of true, false")
	problem(t, f.do("wang.fang", "GET", "/v1/inventory/items/pens", ""), http.StatusNotFound, `item: no inventory item "pens"`)
}

// TestInventoryProcessesRefused: issues and stocktakes refused before a
// workflow starts.
func TestInventoryProcessesRefused(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if w := f.do("li.na", "POST", "/v1/inventory/items", paperJSON); w.Code != http.StatusCreated {
		t.Fatalf("define: %d %s", w.Code, w.Body)
	}
	for _, tt := range []struct {
		name, user, path, body string
		status                 int
		detail                 string
	}{
		{"zero quantity", "wang.fang", "/v1/inventory/issues", `{"items":[{"item":"A4 paper","quantity":0}]}`, 400, "items[0].quantity: must be positive, got 0"},
		{"another department", "wang.fang", "/v1/inventory/issues", `{"department":"HR","items":[{"item":"A4 paper","quantity":1}]}`, 403, "department: wang.fang belongs to MKT"},
		{"undefined item", "wang.fang", "/v1/inventory/issues", `{"items":[{"item":"pens","quantity":1}]}`, 404, `items[0].item: no inventory item "pens" is defined`},
		{"no stock", "wang.fang", "/v1/inventory/issues", `{"items":[{"item":"A4 paper","quantity":1}]}`, 422, `items[0].quantity: 1 box of "A4 paper" requested, 0 on hand`},
		{"auditor", "huang.xin", "/v1/inventory/issues", `{"items":[{"item":"A4 paper","quantity":1}]}`, 403, ""},
		{"stocktake by an employee", "wang.fang", "/v1/inventory/stocktakes", `{"counts":[{"item":"A4 paper","counted":1}]}`, 403, "role: only"},
		{"negative count", "li.na", "/v1/inventory/stocktakes", `{"counts":[{"item":"A4 paper","counted":-1}]}`, 400, "counts[0].counted: must be between 0"},
		{"stocktake of an undefined item", "li.na", "/v1/inventory/stocktakes", `{"counts":[{"item":"pens","counted":1}]}`, 404, `counts[0].item: no inventory item "pens" is defined`},
		{"report format", "wang.fang", "/v1/reports/inventory?format=pdf", "", 400, `format: must be one of json, csv, xlsx, got "pdf"`},
		{"report date", "wang.fang", "/v1/reports/inventory?to=31.12.2026", "", 400, `to: must be a date YYYY-MM-DD, got "31.12.2026"`},
		{"report period", "wang.fang", "/v1/reports/inventory?from=2026-12-02&to=2026-12-01", "", 400, "to: must not be before from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.body == "" {
				method = "GET"
			}
			problem(t, f.do(tt.user, method, tt.path, tt.body), tt.status, tt.detail)
		})
	}
}

// TestIssuePreview: the route an issue would take, over quota or not.
func TestIssuePreview(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if w := f.do("li.na", "POST", "/v1/inventory/stocktakes", `{"counts":[{"item":"A4 paper","counted":1}]}`); w.Code != http.StatusNotFound {
		t.Fatalf("stocktake of nothing: %d %s", w.Code, w.Body)
	}
	if w := f.do("li.na", "POST", "/v1/inventory/items", paperJSON); w.Code != http.StatusCreated {
		t.Fatalf("define: %d %s", w.Code, w.Body)
	}
	e, err := houqin.NewEvent(houqin.EventID("opening"), houqin.InventoryStockedIn{Item: "A4 paper", Unit: "box", Quantity: 100, ProcessID: "PR-2026-000001"},
		houqin.Metadata{Actor: "li.na", OccurredAt: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Append(context.Background(), houqin.InventoryStream("A4 paper"), houqin.ExpectAny, e); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		qty     int
		applies []bool
	}{{5, []bool{false, false}}, {6, []bool{true, false}}, {60, []bool{true, true}}} {
		var p struct {
			Steps []struct {
				Step      string `json:"step"`
				Applies   bool   `json:"applies"`
				Assignees []struct {
					User string `json:"user"`
				} `json:"assignees"`
			} `json:"steps"`
		}
		decodeOK(t, f.do("wang.fang", "POST", "/v1/inventory/issues/preview", fmt.Sprintf(`{"items":[{"item":"A4 paper","quantity":%d}]}`, tt.qty)), http.StatusOK, &p)
		var got []bool
		for _, s := range p.Steps {
			got = append(got, s.Applies)
		}
		if !cmp.Equal(got, tt.applies) || tt.applies[0] && p.Steps[0].Assignees[0].User != "liu.yang" {
			t.Errorf("%d boxes: steps %+v, want applies %v", tt.qty, p.Steps, tt.applies)
		}
	}
	problem(t, f.do("wang.fang", "POST", "/v1/inventory/issues/preview", `{"items":[{"item":"A4 paper","quantity":101}]}`), 422, `items[0].quantity: 101 box`)
}

// TestStocktakeSchedulesRefused: schedules refused before Temporal is
// asked.
func TestStocktakeSchedulesRefused(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	path := "/v1/inventory/stocktake-schedules"
	problem(t, f.do("li.na", "POST", path, `{"id":"monthly","cron":"0 9 1 * *"}`), 400, "items: no inventory item is defined yet")
	if w := f.do("li.na", "POST", "/v1/inventory/items", paperJSON); w.Code != http.StatusCreated {
		t.Fatalf("define: %d %s", w.Code, w.Body)
	}
	f.catchUp()
	for _, tt := range []struct {
		name, user, body string
		status           int
		detail           string
	}{
		{"employee", "wang.fang", `{"id":"monthly","cron":"0 9 1 * *"}`, 403, "role: only"},
		{"bad id", "li.na", `{"id":"Monthly!","cron":"0 9 1 * *"}`, 400, `id: lowercase letters, digits and '-'`},
		{"no time", "li.na", `{"id":"monthly"}`, 400, "cron: give either cron or every"},
		{"both times", "li.na", `{"id":"monthly","cron":"0 9 1 * *","every":"24h"}`, 400, "cron: give either cron or every"},
		{"short interval", "li.na", `{"id":"monthly","every":"5m"}`, 400, `every: a duration of at least 1h`},
		{"bad cron", "li.na", `{"id":"monthly","cron":"@monthly"}`, 400, `cron: five fields`},
		{"unknown zone", "li.na", `{"id":"monthly","cron":"0 9 1 * *","time_zone":"Mars/Olympus"}`, 400, `time_zone: unknown time zone "Mars/Olympus"`},
		{"undefined item", "li.na", `{"id":"monthly","cron":"0 9 1 * *","items":["A4 paper","pens"]}`, 404, `items[1].item: no inventory item "pens" is defined`},
		{"unknown field", "li.na", `{"id":"monthly","cron":"0 9 1 * *","when":"now"}`, 400, "when: unknown field"},
	} {
		t.Run(tt.name, func(t *testing.T) { problem(t, f.do(tt.user, "POST", path, tt.body), tt.status, tt.detail) })
	}
	problem(t, f.do("li.na", "DELETE", path+"/monthly", ""), 404, `id: no stocktake schedule "monthly"`)
	var list struct {
		Items []any `json:"items"`
	}
	decodeOK(t, f.do("huang.xin", "GET", path, ""), 200, &list)
	if len(list.Items) != 0 {
		t.Errorf("schedules = %v", list.Items)
	}
}
