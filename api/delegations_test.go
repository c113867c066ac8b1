package api_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/storetest"
)

// delegationOut is a delegation as the API answers it.
type delegationOut struct {
	houqin.Delegation
	Active    bool  `json:"active"`
	Cancelled bool  `json:"cancelled"`
	Position  int64 `json:"position"`
}

type delegationList struct {
	User  string          `json:"user"`
	Items []delegationOut `json:"items"`
}

func rfc(t time.Time) string { return t.Format(time.RFC3339) }

func delegationJSON(delegate string, from, to time.Time, extra string) string {
	return fmt.Sprintf(`{"delegate":%q,"from":%q,"to":%q%s}`, delegate, rfc(from), rfc(to), extra)
}

// TestDelegations sets, lists and cancels delegations through the API and
// checks the events in the event store, the auth rules and the
// validation; the delegations survive reopening the store.
func TestDelegations(t *testing.T) {
	f := newFixture(t, t0)
	var set delegationOut
	decodeOK(t, f.do("liu.yang", http.MethodPost, "/v1/delegations",
		delegationJSON("ma.chao", t0.Add(-time.Hour), t0.Add(72*time.Hour), `,"reason":"出差"`)), 201, &set)
	if set.User != "liu.yang" || set.Delegate != "ma.chao" || !set.Active || set.Reason != "出差" || set.Position < 1 ||
		len(set.ID) != len("DL-")+12 || set.ID[:3] != "DL-" || !set.From.Equal(t0.Add(-time.Hour)) || !set.To.Equal(t0.Add(72*time.Hour)) {
		t.Fatalf("set = %+v", set)
	}
	events := storetest.MustReadStream(t, f.store, houqin.DelegationStream("liu.yang"))
	if len(events) != 1 || events[0].Type != "delegation.set" || events[0].Meta.Actor != "liu.yang" ||
		events[0].ID != houqin.EventID("delegation", set.ID) || events[0].Position != set.Position {
		t.Fatalf("events = %+v", events)
	}
	ds, err := houqin.Delegations(events)
	if err != nil || len(ds) != 1 || ds[0] != set.Delegation {
		t.Fatalf("stored delegations = %+v, %v; want %+v", ds, err, set.Delegation)
	}

	// A later one, not yet active, set by an admin.
	var later delegationOut
	decodeOK(t, f.do("admin", http.MethodPost, "/v1/delegations",
		delegationJSON("zhou.qiang", t0.Add(10*24*time.Hour), t0.Add(12*24*time.Hour), `,"user":"liu.yang"`)), 201, &later)
	if later.User != "liu.yang" || later.Active {
		t.Fatalf("admin's delegation = %+v", later)
	}
	if e := storetest.MustReadStream(t, f.store, houqin.DelegationStream("liu.yang")); len(e) != 2 || e[1].Meta.Actor != "admin" {
		t.Fatalf("events after admin's = %+v", e)
	}

	for _, tt := range []struct {
		name, user, body string
		status           int
		detail           string
	}{
		{"no delegate", "liu.yang", fmt.Sprintf(`{"from":%q,"to":%q}`, rfc(t0), rfc(t0.Add(time.Hour))), 400, "delegate: required"},
		{"to oneself", "liu.yang", delegationJSON("liu.yang", t0, t0.Add(time.Hour), ""), 400, "delegate: \"liu.yang\" cannot delegate to themselves"},
		{"unknown delegate", "liu.yang", delegationJSON("no.body", t0, t0.Add(time.Hour), ""), 400, `delegate: no user "no.body"`},
		{"no from", "liu.yang", fmt.Sprintf(`{"delegate":"ma.chao","to":%q}`, rfc(t0.Add(time.Hour))), 400, "from: required"},
		{"bad from", "liu.yang", fmt.Sprintf(`{"delegate":"ma.chao","from":"tomorrow","to":%q}`, rfc(t0.Add(time.Hour))), 400, "from: must be an RFC 3339 time"},
		{"to before from", "liu.yang", delegationJSON("ma.chao", t0.Add(time.Hour), t0, ""), 400, "to: must be after from"},
		{"over a year", "liu.yang", delegationJSON("ma.chao", t0, t0.Add(400*24*time.Hour), ""), 400, "to: a delegation lasts at most a year"},
		{"in the past", "liu.yang", delegationJSON("ma.chao", t0.Add(-48*time.Hour), t0.Add(-24*time.Hour), ""), 400, "to: must be in the future"},
		{"unknown field", "liu.yang", delegationJSON("ma.chao", t0, t0.Add(time.Hour), `,"until":"x"`), 400, "until: unknown field"},
		{"someone else's", "wang.fang", delegationJSON("ma.chao", t0, t0.Add(time.Hour), `,"user":"liu.yang"`), 403, "user: only admins"},
		{"a manager for someone else", "zhang.wei", delegationJSON("ma.chao", t0, t0.Add(time.Hour), `,"user":"liu.yang"`), 403, "user: only admins"},
		{"admin for a stranger", "admin", delegationJSON("ma.chao", t0, t0.Add(time.Hour), `,"user":"no.body"`), 400, `user: no user "no.body"`},
		{"auditor", "huang.xin", delegationJSON("ma.chao", t0, t0.Add(time.Hour), ""), 403, "auditors read but never act"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			problem(t, f.do(tt.user, http.MethodPost, "/v1/delegations", tt.body), tt.status, tt.detail)
		})
	}
	if e := storetest.MustReadStream(t, f.store, houqin.DelegationStream("liu.yang")); len(e) != 2 {
		t.Fatalf("refused requests wrote events: %d events", len(e))
	}

	list := func(caller, query string) delegationList {
		t.Helper()
		var l delegationList
		decodeOK(t, f.do(caller, http.MethodGet, "/v1/delegations"+query, ""), 200, &l)
		return l
	}
	if l := list("liu.yang", ""); l.User != "liu.yang" || len(l.Items) != 2 || l.Items[0].ID != set.ID || !l.Items[0].Active ||
		l.Items[1].ID != later.ID || l.Items[1].Active {
		t.Errorf("liu.yang's delegations = %+v", l)
	}
	f.setNow(t0.Add(11 * 24 * time.Hour)) // the first ended, the second is in force
	if l := list("huang.xin", "?user=liu.yang"); len(l.Items) != 2 || l.Items[0].Active || !l.Items[1].Active {
		t.Errorf("liu.yang's delegations as the auditor sees them 11 days on = %+v", l)
	}
	f.setNow(t0)
	if l := list("wang.fang", ""); l.User != "wang.fang" || len(l.Items) != 0 {
		t.Errorf("wang.fang's delegations = %+v", l)
	}
	problem(t, f.do("wang.fang", http.MethodGet, "/v1/delegations?user=liu.yang", ""), 403, "user: only auditors and managers")

	// Cancelling: only the owner, or an admin naming the owner.
	problem(t, f.do("wang.fang", http.MethodDelete, "/v1/delegations/"+set.ID, ""), 404, "delegation: wang.fang has no delegation")
	problem(t, f.do("wang.fang", http.MethodDelete, "/v1/delegations/"+set.ID+"?user=liu.yang", ""), 403, "user: only admins")
	problem(t, f.do("huang.xin", http.MethodDelete, "/v1/delegations/"+set.ID+"?user=liu.yang", ""), 403, "auditors read but never act")
	var cancelled delegationOut
	decodeOK(t, f.do("liu.yang", http.MethodDelete, "/v1/delegations/"+set.ID, ""), 200, &cancelled)
	if !cancelled.Cancelled || cancelled.ID != set.ID || cancelled.Position <= later.Position {
		t.Errorf("cancelled = %+v", cancelled)
	}
	problem(t, f.do("liu.yang", http.MethodDelete, "/v1/delegations/"+set.ID, ""), 404, "delegation: liu.yang has no delegation")
	decodeOK(t, f.do("admin", http.MethodDelete, "/v1/delegations/"+later.ID+"?user=liu.yang", ""), 200, &cancelled)
	events = storetest.MustReadStream(t, f.store, houqin.DelegationStream("liu.yang"))
	if len(events) != 4 || events[2].Type != "delegation.cancelled" || events[2].Meta.Actor != "liu.yang" || events[3].Meta.Actor != "admin" {
		t.Fatalf("events after cancelling = %+v", events)
	}
	if l := list("liu.yang", ""); len(l.Items) != 0 {
		t.Errorf("after cancelling both: %+v", l)
	}

	// A third delegation outlives the store being closed and reopened.
	var kept delegationOut
	decodeOK(t, f.do("chen.jing", http.MethodPost, "/v1/delegations", delegationJSON("zhang.wei", t0, t0.Add(time.Hour), "")), 201, &kept)
	f.store.Close()
	s, err := sqlite.OpenEventStore(context.Background(), filepath.Join(f.dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, ok, err := houqin.DelegationsIn(context.Background(), s)("chen.jing", t0.Add(time.Minute))
	if err != nil || !ok || d != kept.Delegation {
		t.Errorf("after reopening: %+v %t %v, want %+v", d, ok, err, kept.Delegation)
	}
}
