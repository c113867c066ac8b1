package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

var inventoryT0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// inventoryLog appends the life of two items: A4 paper (defined, stocked
// 12, issued 5 to MKT, moved to WH-B-02, adjusted -2 by a stocktake,
// reordered) and toner, stocked in by a procurement before anyone defined
// it.
func inventoryLog(t *testing.T, s houqin.EventStore) {
	t.Helper()
	n := 0
	add := func(item, actor string, d houqin.EventData) {
		t.Helper()
		n++
		e, err := houqin.NewEvent(houqin.EventID("inventorylog", fmt.Sprint(n)), d,
			houqin.Metadata{Actor: actor, OccurredAt: inventoryT0.Add(time.Duration(n) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustAppend(t, s, houqin.InventoryStream(item), houqin.ExpectAny, e)
	}
	paper := houqin.ItemSpec{Name: "A4 paper", Names: houqin.Text{Zh: "A4 打印纸", En: "A4 paper"}, Unit: "box", Location: "WH-A-01",
		ReorderPoint: 10, ReorderQuantity: 20, Quota: 5}
	add("A4 paper", "li.na", houqin.ItemDefined{Item: paper})
	add("A4 paper", "li.na", houqin.InventoryStockedIn{Item: "A4 paper", Unit: "box", Quantity: 12, ProcessID: "PR-2026-000001"})
	add("toner", "li.na", houqin.InventoryStockedIn{Item: "toner", Unit: "piece", Quantity: 2, ProcessID: "PR-2026-000001"})
	add("A4 paper", "zhou.qiang", houqin.InventoryIssued{Item: "A4 paper", Unit: "box", Quantity: 5, Department: "MKT", Requester: "wang.fang", ProcessID: "IS-2026-000001", OnHand: 7})
	moved := paper
	moved.Location = "WH-B-02"
	add("A4 paper", "li.na", houqin.ItemUpdated{Item: moved, Changed: []string{"location"}})
	add("A4 paper", "zhang.wei", houqin.InventoryAdjusted{Item: "A4 paper", Unit: "box", Delta: -2, Counted: 5, OnHand: 5, ProcessID: "ST-2026-000001"})
	add("A4 paper", "system", houqin.ReorderRequested{Item: "A4 paper", Quantity: 20, OnHand: 5, ReorderPoint: 10, ProcessID: "PR-2026-000002", Requester: "zhou.qiang"})
}

func TestInventoryReadModel(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		inventoryLog(t, b.store)
		ps := []projections.Projection{projections.Inventory{}}
		r := projections.NewRunner(b.store, b.db, ps, projections.Options{BatchSize: 3})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		check := func(t *testing.T) {
			stock, err := projections.ListInventory(ctx, b.db)
			if err != nil {
				t.Fatal(err)
			}
			want := []projections.StockRow{
				{Slug: "a4-paper", Item: "A4 paper", Names: houqin.Text{Zh: "A4 打印纸", En: "A4 paper"}, Unit: "box", Location: "WH-B-02",
					Quantity: 5, OnHand: 5, ReorderPoint: 10, ReorderQuantity: 20, Quota: 5, BelowReorder: true, Defined: true,
					LastReorder: "PR-2026-000002", UpdatedAt: "2026-12-01T16:00:00Z"},
				{Slug: "toner", Item: "toner", Unit: "piece", Quantity: 2, OnHand: 2, UpdatedAt: "2026-12-01T12:00:00Z"},
			}
			if diff := cmp.Diff(want, stock); diff != "" {
				t.Errorf("inventory (-want +got):\n%s", diff)
			}
			if it, err := projections.GetItem(ctx, b.db, "a4 PAPER"); err != nil || it.Location != "WH-B-02" {
				t.Errorf("GetItem = %+v, %v", it, err)
			}
			if _, err := projections.GetItem(ctx, b.db, "pens"); houqin.ErrorCode(err) != houqin.ENOTFOUND {
				t.Errorf("GetItem(pens) = %v, want ENOTFOUND", err)
			}
			moves, err := projections.ListMovements(ctx, b.db, projections.MovementFilter{Item: "A4 paper"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range moves {
				got = append(got, fmt.Sprintf("%s %s %+d →%d %s %s %s %s", m.At, m.Type, m.Quantity, m.OnHand, m.Unit, m.Department, m.ProcessID, m.Actor))
			}
			wantMoves := []string{
				"2026-12-01T11:00:00Z stocked_in +12 →12 box  PR-2026-000001 li.na",
				"2026-12-01T13:00:00Z issued -5 →7 box MKT IS-2026-000001 zhou.qiang",
				"2026-12-01T15:00:00Z adjusted -2 →5 box  ST-2026-000001 zhang.wei",
			}
			if diff := cmp.Diff(wantMoves, got); diff != "" {
				t.Errorf("movements (-want +got):\n%s", diff)
			}
			window, err := projections.ListMovements(ctx, b.db, projections.MovementFilter{From: inventoryT0.Add(3 * time.Hour), To: inventoryT0.Add(6 * time.Hour)})
			if err != nil || len(window) != 2 || window[0].Item != "toner" || window[1].Type != "issued" {
				t.Errorf("movements 12:00–15:00 = %+v, %v", window, err)
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(projections.NewInventoryGauges(b.db, 0, nil))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var series []string
			for _, mf := range mfs {
				for _, m := range mf.Metric {
					series = append(series, fmt.Sprintf("%s{item=%q} %v", mf.GetName(), m.Label[0].GetValue(), m.GetGauge().GetValue()))
				}
			}
			if diff := cmp.Diff([]string{`houqin_inventory_below_reorder{item="A4 paper"} 1`}, series); diff != "" {
				t.Errorf("gauges (-want +got):\n%s", diff)
			}
		}
		check(t)
		if err := r.Rebuild(ctx, "inventory", nil, 0); err != nil {
			t.Fatal(err)
		}
		t.Run("after rebuild", check)
	})
}
