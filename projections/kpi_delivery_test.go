package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
)

// fact is an event of a given type with the given JSON body: the KPI reads
// only a few fields, and a map names them plainly.
type fact struct {
	typ  string
	body map[string]any
}

func (f fact) EventType() string { return f.typ }
func (f fact) MarshalJSON() ([]byte, error) {
	if f.body == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(f.body)
}

// TestKPIDelivery checks that a process's on-time item closes when its
// service is delivered, not when the paperwork after it ends (docs/KPI.md,
// "On time"): every goods received by needed_by, the checklist recorded on
// the scheduled day, the trip booked before departure, the event ready
// before it starts; a process completed without a delivery closes at its
// completion, and one cancelled after its delivery keeps it.
func TestKPIDelivery(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		n := 0
		add := func(stream string, at time.Time, typ string, body map[string]any) {
			t.Helper()
			n++
			e, err := houqin.NewEvent(houqin.EventID("kpidelivery", fmt.Sprint(n)), fact{typ, body}, houqin.Metadata{Actor: "test", OccurredAt: at})
			if err != nil {
				t.Fatal(err)
			}
			storetest.MustAppend(t, b.store, stream, houqin.ExpectAny, e)
		}
		start := func(kind, id string, request map[string]any) string {
			request["department"] = "MKT"
			stream := string(kind) + "-" + id
			verb := map[string]string{"procurement": "requisition_submitted", "inspection": "requested", "trip": "requested", "event": "requested"}[kind]
			add(stream, utc(6, 1, 4), kind+"."+verb, map[string]any{"process_id": id, "requester": "wang.fang", "request": request})
			return stream
		}
		none := []any{}
		some := []any{map[string]any{"item": "A4", "quantity": 1}}

		// Procurements due at the end of 10 June (16:00Z).
		// P1: everything received on 10 June, invoice after: on time.
		s := start("procurement", "PR-2026-000001", map[string]any{"needed_by": "2026-06-10"})
		add(s, utc(6, 10, 2), "procurement.goods_received", map[string]any{"outstanding": none})
		add(s, utc(6, 20, 2), "procurement.completed", nil)
		// P2: part received on time, the rest on 11 June: late.
		s = start("procurement", "PR-2026-000002", map[string]any{"needed_by": "2026-06-10"})
		add(s, utc(6, 9, 2), "procurement.goods_received", map[string]any{"outstanding": some})
		add(s, utc(6, 11, 2), "procurement.goods_received", map[string]any{"outstanding": none})
		add(s, utc(6, 12, 2), "procurement.completed", nil)
		// Inspections due at the end of 10 June.
		// I1: recorded on the day, findings fixed later: on time.
		s = start("inspection", "IN-2026-000001", map[string]any{"scheduled_for": "2026-06-10"})
		add(s, utc(6, 10, 3), "inspection.recorded", map[string]any{"failed": 2})
		add(s, utc(6, 25, 3), "inspection.completed", map[string]any{"findings": 2})
		// I2: recorded a day late: late.
		s = start("inspection", "IN-2026-000002", map[string]any{"scheduled_for": "2026-06-10"})
		add(s, utc(6, 11, 3), "inspection.recorded", map[string]any{"failed": 0})
		add(s, utc(6, 11, 4), "inspection.completed", map[string]any{"findings": 0})
		// Trips due at 00:00 of 12 June in Shanghai (11 June 16:00Z).
		// T1: booked the day before, reimbursed after the return: on time.
		s = start("trip", "TR-2026-000001", map[string]any{"legs": []any{map[string]any{"depart": "2026-06-12"}}})
		add(s, utc(6, 11, 2), "trip.booked", map[string]any{"by": "zhao.lei"})
		add(s, utc(6, 30, 2), "trip.completed", nil)
		// T2: booked, then cancelled before departure: the delivery stands.
		s = start("trip", "TR-2026-000002", map[string]any{"legs": []any{map[string]any{"depart": "2026-06-12"}}})
		add(s, utc(6, 11, 2), "trip.booked", map[string]any{"by": "zhao.lei"})
		add(s, utc(6, 11, 3), "process.revoked", map[string]any{"by": "wang.fang"})
		// Events due at their start, 15 June 09:00 in Shanghai.
		// E1: ready the day before, minutes reviewed after: on time.
		s = start("event", "EV-2026-000001", map[string]any{"starts_at": "2026-06-15T09:00:00+08:00"})
		add(s, utc(6, 14, 2), "event.ready", nil)
		add(s, utc(6, 20, 2), "event.completed", nil)
		// E2: never ready, completed after its start: late at completion.
		s = start("event", "EV-2026-000002", map[string]any{"starts_at": "2026-06-15T09:00:00+08:00"})
		add(s, utc(6, 16, 2), "event.completed", nil)

		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.KPI{}}, projections.Options{})
		if err := r.Rebuild(ctx, "kpi", nil, 0); err != nil {
			t.Fatal(err)
		}
		cst := houqin.DefaultKPIConfig().Location()
		for kind, want := range map[string][2]int64{"procurement": {1, 2}, "inspection": {1, 2}, "trip": {2, 2}, "event": {1, 2}} {
			rep, err := projections.ComputeKPIs(ctx, b.db, projections.KPIQuery{Config: houqin.DefaultKPIConfig(), Kind: kind,
				From: time.Date(2026, 6, 1, 0, 0, 0, 0, cst), To: time.Date(2026, 7, 1, 0, 0, 0, 0, cst), Now: utc(7, 1, 4)})
			if err != nil {
				t.Fatal(err)
			}
			if k := rep.KPI("on_time"); k.Numerator != want[0] || k.Denominator != want[1] || k.Details["processes"] != want[1] {
				t.Errorf("%s on_time %d/%d %v, want %d/%d", kind, k.Numerator, k.Denominator, k.Details, want[0], want[1])
			}
		}
	})
}
