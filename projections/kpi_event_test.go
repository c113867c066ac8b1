package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
)

// TestKPIEvents checks that an event process is an item due at its
// starts_at (docs/KPI.md), with its department and kind from event.requested,
// and that the review of its minutes counts in the deliverable quality.
func TestKPIEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		n := 0
		add := func(stream string, at time.Time, data houqin.EventData) {
			t.Helper()
			n++
			e, err := houqin.NewEvent(houqin.EventID("kpievents", fmt.Sprint(n)), data, houqin.Metadata{Actor: "test", OccurredAt: at})
			if err != nil {
				t.Fatal(err)
			}
			storetest.MustAppend(t, b.store, stream, houqin.ExpectAny, e)
		}
		request := func(id, startsAt string, at time.Time) {
			r := houqin.EventRequest{Type: houqin.EventTraining, Title: "培训 " + id, StartsAt: startsAt, EndsAt: "2026-06-30T17:00:00+08:00",
				AttendeeDepartments: []string{"MKT"}, BudgetCategory: "events", EstimatedCost: 100, Department: "MKT"}
			add(houqin.EventStream(id), at, houqin.EventRequested{ProcessID: id, Requester: "wang.fang", Request: r, Total: 100, Currency: "CNY"})
		}
		// E1 starts 10 June 09:00 in Beijing (01:00Z) and completes before: on time.
		request("EV-2026-000001", "2026-06-10T09:00:00+08:00", utc(6, 1, 4))
		add(houqin.EventStream("EV-2026-000001"), utc(6, 10, 0), houqin.EventCompleted{})
		// E1's hold is confirmed by the system when the event ends, as
		// documented: the task is not counted, neither on time nor late.
		hold := "EV-2026-000001.hold.1"
		add(houqin.EventStream("EV-2026-000001"), utc(6, 10, 1), houqin.TaskOpened{Task: houqin.Task{ID: hold, ProcessID: "EV-2026-000001",
			Kind: houqin.KindEvent, Step: "hold", Assignees: []string{"wang.fang"}, DueAt: utc(6, 10, 9), Actions: []string{"complete"}}})
		add(houqin.EventStream("EV-2026-000001"), utc(6, 10, 9), houqin.TaskCompleted{TaskID: hold, Step: "hold", Action: "complete",
			Actor: "system", Comment: "the event ended", Auto: "timeout"})
		// E2 starts 12 June and completes after its start: late.
		request("EV-2026-000002", "2026-06-12T09:00:00+08:00", utc(6, 1, 4))
		add(houqin.EventStream("EV-2026-000002"), utc(6, 12, 1), houqin.EventCompleted{})
		add(houqin.DeliverableStream("EV-2026-000002"), utc(6, 13, 4), houqin.DeliverableReviewed{ProcessID: "EV-2026-000002",
			Kind: "minutes", Document: "EV-2026-000002/minutes/1", Title: "纪要", Outcome: houqin.OutcomeMajorError, Reviewer: "zhang.wei"})

		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.KPI{}}, projections.Options{})
		if err := r.Rebuild(ctx, "kpi", nil, 0); err != nil {
			t.Fatal(err)
		}
		cst := houqin.DefaultKPIConfig().Location()
		rep, err := projections.ComputeKPIs(ctx, b.db, projections.KPIQuery{Config: houqin.DefaultKPIConfig(), Kind: "event",
			From: time.Date(2026, 6, 1, 0, 0, 0, 0, cst), To: time.Date(2026, 6, 30, 0, 0, 0, 0, cst), Now: utc(7, 1, 4)})
		if err != nil {
			t.Fatal(err)
		}
		if k := rep.KPI("on_time"); k.Numerator != 1 || k.Denominator != 2 || k.Details["processes"] != 2 || k.Details["tasks"] != 0 {
			t.Errorf("on_time %d/%d %v, want E1 on time and E2 late, and E1's hold not counted", k.Numerator, k.Denominator, k.Details)
		}
		if k := rep.KPI("deliverable_quality"); k.Numerator != 0 || k.Denominator != 1 {
			t.Errorf("deliverable_quality %d/%d, want E2's major error (its kind from the event)", k.Numerator, k.Denominator)
		}
	})
}
