package projections_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
)

// TestProcessSubject: a process submitted for someone else (a trip an
// assistant submits for the traveller) is listed as the subject's too; a
// subject who is the requester is no subject; and the rows say who is
// whom; a workflow's cancellation ends its process cancelled, a step that
// cannot be resolved ends it failed.
func TestProcessSubject(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		n := 0
		start := func(stream, requester, subject string) {
			t.Helper()
			n++
			body := map[string]any{"process_id": stream[len("trip-"):], "requester": requester, "request": map[string]any{"department": "MKT", "purpose": "展会"}}
			if subject != "" {
				body["subject"] = subject
			}
			e, err := houqin.NewEvent(houqin.EventID("subject", fmt.Sprint(n)), fact{"trip.requested", body}, houqin.Metadata{Actor: requester, OccurredAt: utc(6, 1, n)})
			if err != nil {
				t.Fatal(err)
			}
			storetest.MustAppend(t, b.store, stream, houqin.ExpectNoStream, e)
		}
		start("trip-TR-2026-000001", "li.na", "wang.fang")     // an assistant for wang.fang
		start("trip-TR-2026-000002", "wang.fang", "wang.fang") // her own
		start("trip-TR-2026-000003", "li.na", "zhou.qiang")    // an assistant for someone else
		// TR-3's workflow is cancelled: the process ends cancelled.
		n++
		cancelled, err := houqin.NewEvent(houqin.EventID("subject", fmt.Sprint(n)), houqin.ProcessCancelled{Reason: "the workflow was cancelled"}, houqin.Metadata{Actor: "system", OccurredAt: utc(6, 2, 4)})
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustAppend(t, b.store, "trip-TR-2026-000003", 0, cancelled)
		// TR-2 cannot go on (a step nobody may take): it ends failed.
		n++
		failed, err := houqin.NewEvent(houqin.EventID("subject", fmt.Sprint(n)), houqin.ProcessFailed{Step: "dept_approval", Reason: "no approver"}, houqin.Metadata{Actor: "system", OccurredAt: utc(6, 2, 5)})
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustAppend(t, b.store, "trip-TR-2026-000002", 0, failed)

		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.Processes{}}, projections.Options{})
		if err := r.Rebuild(ctx, "processes", nil, 0); err != nil {
			t.Fatal(err)
		}
		list := func(party string) []string {
			t.Helper()
			rows, err := projections.ListProcesses(ctx, b.db, projections.ProcessFilter{Party: party, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range rows {
				out = append(out, p.ID+" "+string(p.Status)+" "+p.Requester+" for "+p.Subject)
			}
			return out
		}
		for _, tt := range []struct {
			party string
			want  []string
		}{
			{"wang.fang", []string{"TR-2026-000002 failed wang.fang for ", "TR-2026-000001 running li.na for wang.fang"}},
			{"li.na", []string{"TR-2026-000003 cancelled li.na for zhou.qiang", "TR-2026-000001 running li.na for wang.fang"}},
			{"zhou.qiang", []string{"TR-2026-000003 cancelled li.na for zhou.qiang"}},
			{"liu.yang", nil},
		} {
			if diff := cmp.Diff(tt.want, list(tt.party)); diff != "" {
				t.Errorf("%s's processes (-want +got):\n%s", tt.party, diff)
			}
		}
	})
}
