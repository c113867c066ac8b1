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
)

// TestNotifications folds the approval log into who is told what: the
// assignees of each task opened, transferred to, added or escalated to; the
// reminded; the requester of each outcome someone else caused; the copied.
// Nobody is told what they did themselves. Reading marks read; a rebuild
// adds nothing and keeps what was read; events past the horizon tell
// nobody.
func TestNotifications(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		approvalLog(t, b.store)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.Processes{}, projections.Tasks{}, projections.Notifications{}},
			projections.Options{BatchSize: 7})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		told := func(user string) string {
			t.Helper()
			items, unread, err := projections.ListNotifications(ctx, b.db, user, false, 50)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, n := range items {
				out = append(out, fmt.Sprintf("%s %s %s %s read=%t", n.Kind, n.EventType, n.ProcessID, strings.TrimPrefix(n.TaskID, n.ProcessID+"."), n.Read))
			}
			return fmt.Sprintf("%d unread: %s", unread, strings.Join(out, "; "))
		}
		want := map[string]string{
			"wang.fang": "3 unread: outcome process.returned PR-2026-00000D  read=false; outcome procurement.approved PR-2026-00000C  read=false; " +
				"outcome process.returned PR-2026-00000B  read=false",
			"zhou.qiang": "2 unread: copied process.copied PR-2026-00000C  read=false; copied process.copied PR-2026-00000A  read=false",
			"ma.chao":    "3 unread: task task.opened PR-2026-00000E dept_approval.1 read=false; reminded task.reminded PR-2026-00000A dept_approval.1 read=false; task task.opened PR-2026-00000A dept_approval.1 read=false",
			"li.na": "3 unread: task task.opened PR-2026-00000C record_po.2 read=false; task task.opened PR-2026-00000C record_po.1 read=false; " +
				"task task.transferred PR-2026-00000A finance_review.2 read=false",
			"admin":    "1 unread: escalated task.escalated PR-2026-00000A finance_review.1 read=false",
			"zhao.lei": "1 unread: task task.approver_added PR-2026-00000A finance_review.1 read=false",
		}
		for user, w := range want {
			if diff := cmp.Diff(w, told(user)); diff != "" {
				t.Errorf("%s is told (-want +got):\n%s", user, diff)
			}
		}
		// The title and requester come with it.
		items, _, err := projections.ListNotifications(ctx, b.db, "li.na", true, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].Title == "" || items[0].Requester != "wang.fang" || items[0].Amount != 900000 || items[0].Step != "record_po" || items[0].StepName == nil {
			t.Errorf("li.na's newest = %+v", items)
		}
		// Read one, then all.
		if unread, err := projections.MarkNotificationsRead(ctx, b.db, "wang.fang", []string{"nosuch"}, time.Now()); err != nil || unread != 3 {
			t.Errorf("marking an unknown one read: %d unread, %v", unread, err)
		}
		first, _, _ := projections.ListNotifications(ctx, b.db, "wang.fang", false, 1)
		if unread, err := projections.MarkNotificationsRead(ctx, b.db, "wang.fang", []string{first[0].ID}, time.Now()); err != nil || unread != 2 {
			t.Errorf("marking one read: %d unread, %v", unread, err)
		}
		if unread, err := projections.MarkNotificationsRead(ctx, b.db, "li.na", nil, time.Now()); err != nil || unread != 0 {
			t.Errorf("marking all read: %d unread, %v", unread, err)
		}
		// A rebuild tells nobody twice and forgets nothing read.
		if err := r.Rebuild(ctx, "notifications", nil, 0); err != nil {
			t.Fatal(err)
		}
		if got := told("wang.fang"); !strings.HasPrefix(got, "2 unread: outcome process.returned PR-2026-00000D  read=true;") {
			t.Errorf("after a rebuild wang.fang is told %s", got)
		}
		if got := told("li.na"); !strings.HasPrefix(got, "0 unread") {
			t.Errorf("after a rebuild li.na is told %s", got)
		}
	})
}

// TestNotificationsHorizon: an event older than the horizon when folded —
// a first start on a long log — tells nobody.
func TestNotificationsHorizon(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		approvalLog(t, b.store)
		later := func() time.Time { return time.Now().Add(projections.Horizon + time.Hour) }
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.Processes{}, projections.Tasks{}, projections.Notifications{Now: later}},
			projections.Options{})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if items, unread, err := projections.ListNotifications(ctx, b.db, "li.na", false, 50); err != nil || len(items) != 0 || unread != 0 {
			t.Errorf("past the horizon li.na is told %v (%d unread, %v)", items, unread, err)
		}
	})
}

// TestNotificationsDelegation: the delegate is told when someone makes
// them their delegate (委托), when it starts if it was set for later, when
// it ends — or that it was ended early, which takes back its end to come.
func TestNotificationsDelegation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		from := time.Now()
		d := houqin.Delegation{ID: "dl-1", User: "liu.yang", Delegate: "ma.chao", From: from, To: from.Add(7 * 24 * time.Hour), Reason: "出差"}
		// dl-2 was set three hours ago for two hours ago to an hour ago: its
		// start and its end have come.
		past := houqin.Delegation{ID: "dl-2", User: "liu.yang", Delegate: "ma.chao", From: from.Add(-2 * time.Hour), To: from.Add(-time.Hour)}
		var events []houqin.Event
		for i, ev := range []struct {
			data houqin.EventData
			at   time.Time
		}{
			{houqin.DelegationSet{Delegation: past, By: "liu.yang"}, from.Add(-3 * time.Hour)},
			{houqin.DelegationSet{Delegation: d, By: "liu.yang"}, from},
			{houqin.DelegationCancelled{ID: "dl-1", By: "liu.yang"}, from},
			// dl-3 starts in an hour: told now it is set, its start and end not yet.
			{houqin.DelegationSet{Delegation: houqin.Delegation{ID: "dl-3", User: "liu.yang", Delegate: "ma.chao", From: from.Add(time.Hour),
				To: from.Add(2 * time.Hour)}, By: "liu.yang"}, from},
		} {
			e, err := houqin.NewEvent(houqin.EventID("delegation-test", fmt.Sprint(i)), ev.data, houqin.Metadata{Actor: "liu.yang", OccurredAt: ev.at})
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
		storetest.MustAppend(t, b.store, houqin.DelegationStream("liu.yang"), houqin.ExpectAny, events...)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.Processes{}, projections.Tasks{}, projections.Notifications{}}, projections.Options{})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		items, unread, err := projections.ListNotifications(ctx, b.db, "ma.chao", false, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range items {
			got = append(got, n.Kind+" "+n.TaskID+" "+n.Actor+" "+n.ProcessID)
		}
		want := []string{"undelegated dl-1 liu.yang ", "delegated dl-1 liu.yang ",
			"delegation_ended dl-2 liu.yang ", "delegation_started dl-2 liu.yang ", "delegated dl-2 liu.yang ", "delegated dl-3 liu.yang "}
		sort.Strings(got)
		sort.Strings(want)
		if unread != 6 || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("ma.chao is told %q (%d unread), want %q", got, unread, want)
		}
	})
}
