package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/audit"
	"github.com/houqin/houqin/postgres"
	"github.com/houqin/houqin/postgres/pgtest"
	"github.com/houqin/houqin/sqlite"
)

// backend is an event store and a raw handle on its database, through
// which the tests tamper with the log as an attacker with SQL access would.
type backend struct {
	name string
	open func(t *testing.T) (houqin.EventStore, *sql.DB)
	data func(b []byte) any // how the data column takes bytes
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (houqin.EventStore, *sql.DB) {
		path := filepath.Join(t.TempDir(), "events.db")
		s, err := sqlite.OpenEventStore(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return s, db
	}, func(b []byte) any { return string(b) }},
	{"postgres", func(t *testing.T) (houqin.EventStore, *sql.DB) {
		dsn := pgtest.MustDSN(t)
		s, err := postgres.OpenEventStore(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		db, err := postgres.OpenReadModels(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return s, db
	}, func(b []byte) any { return b }},
}

func stream(n int) string { return fmt.Sprintf("procurement-PR-2026-%06d", n) }

// seed writes three streams of four events, anchors them, then appends one
// more event to stream 2, so the anchor is not simply the end of the log.
func seed(t *testing.T, store houqin.EventStore) map[string][]houqin.Event {
	t.Helper()
	ctx := context.Background()
	written := map[string][]houqin.Event{}
	for n := 1; n <= 3; n++ {
		for v := range 4 {
			e := houqin.Event{ID: houqin.EventID(stream(n), fmt.Sprint(v)), Type: "procurement.step_recorded",
				Data: []byte(fmt.Sprintf(`{"item":"A4 paper","note":"打印纸","n":%d}`, v)), Meta: houqin.Metadata{Actor: "wang.fang"}}
			out, err := store.Append(ctx, stream(n), int64(v)-1, e)
			if err != nil {
				t.Fatal(err)
			}
			written[stream(n)] = append(written[stream(n)], out...)
		}
	}
	a := &audit.Anchorer{Store: store}
	if _, wrote, err := a.Anchor(ctx); err != nil || !wrote {
		t.Fatalf("anchor = %v, %v; want a new anchor", wrote, err)
	}
	e := houqin.Event{ID: houqin.EventID(stream(2), "4"), Type: "procurement.step_recorded", Data: []byte(`{"n":4}`)}
	out, err := store.Append(ctx, stream(2), 3, e)
	if err != nil {
		t.Fatal(err)
	}
	written[stream(2)] = append(written[stream(2)], out...)
	return written
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestVerifyCatchesTampering(t *testing.T) {
	type tamper struct {
		name    string
		do      func(t *testing.T, db *sql.DB, b backend, written map[string][]houqin.Event)
		stream  string
		version int64
		event   func(written map[string][]houqin.Event) houqin.Event // the event the finding must name; nil: none
		reason  string
	}
	s1, s3 := stream(1), stream(3)
	for _, tt := range []tamper{
		{name: "one payload byte changed", do: func(t *testing.T, db *sql.DB, b backend, w map[string][]houqin.Event) {
			data := []byte(string(w[s1][1].Data))
			data[strings.Index(string(data), "paper")+2] = 'b' // "paper" → "paber"
			mustExec(t, db, `UPDATE events SET data = $1 WHERE stream = $2 AND version = 1`, b.data(data), s1)
		}, stream: s1, version: 1, event: func(w map[string][]houqin.Event) houqin.Event { return w[s1][1] }, reason: "content was altered"},
		{name: "event deleted", do: func(t *testing.T, db *sql.DB, b backend, w map[string][]houqin.Event) {
			mustExec(t, db, `DELETE FROM events WHERE stream = $1 AND version = 1`, s1)
		}, stream: s1, version: 2, event: func(w map[string][]houqin.Event) houqin.Event { return w[s1][2] }, reason: "version 1 was removed"},
		{name: "two events swapped", do: func(t *testing.T, db *sql.DB, b backend, w map[string][]houqin.Event) {
			mustExec(t, db, `UPDATE events SET version = 100 WHERE stream = $1 AND version = 1`, s1)
			mustExec(t, db, `UPDATE events SET version = 1 WHERE stream = $1 AND version = 2`, s1)
			mustExec(t, db, `UPDATE events SET version = 2 WHERE stream = $1 AND version = 100`, s1)
		}, stream: s1, version: 2, event: func(w map[string][]houqin.Event) houqin.Event {
			return w[s1][1] // the old version 1, at its position, now claiming version 2
		}, reason: "removed or moved"},
		{name: "whole stream deleted", do: func(t *testing.T, db *sql.DB, b backend, w map[string][]houqin.Event) {
			mustExec(t, db, `DELETE FROM events WHERE stream = $1`, s3)
		}, stream: s3, version: 3, reason: "stream is missing"},
		{name: "end of a stream deleted", do: func(t *testing.T, db *sql.DB, b backend, w map[string][]houqin.Event) {
			mustExec(t, db, `DELETE FROM events WHERE stream = $1 AND version = 3`, s3)
		}, stream: s3, version: 3, reason: "removed from its end"},
		{name: "stream rewritten with valid hashes", do: func(t *testing.T, db *sql.DB, b backend, w map[string][]houqin.Event) {
			var prev houqin.Hash
			for i, e := range w[s1] {
				if i == 2 {
					e.Data = []byte(`{"item":"A4 paper","note":"改过","n":2}`)
				}
				e.PrevHash, e.Hash = prev, houqin.ComputeHash(prev, e)
				prev = e.Hash
				mustExec(t, db, `UPDATE events SET data = $1, prev_hash = $2, hash = $3 WHERE stream = $4 AND version = $5`,
					b.data(e.Data), []byte(e.PrevHash), []byte(e.Hash), s1, e.Version)
			}
		}, stream: s1, version: 3, event: func(w map[string][]houqin.Event) houqin.Event { return w[s1][3] }, reason: "the stream was rewritten"},
	} {
		for _, b := range backends {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				ctx := context.Background()
				store, db := b.open(t)
				written := seed(t, store)
				rep, err := audit.Verify(ctx, store, audit.VerifyOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !rep.OK || rep.Anchor == nil || rep.Events != 13+1 || rep.Streams != 4 {
					t.Fatalf("before tampering: %+v, want OK with an anchor, 14 events in 4 streams", rep)
				}
				tt.do(t, db, b, written)
				rep, err = audit.Verify(ctx, store, audit.VerifyOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK || len(rep.Findings) == 0 {
					t.Fatalf("after tampering: %+v, want a finding", rep)
				}
				f := rep.Findings[0]
				if f.Stream != tt.stream || f.Version != tt.version || !strings.Contains(f.Reason, tt.reason) {
					t.Fatalf("first finding = %s; want %s@%d: …%s…", f, tt.stream, tt.version, tt.reason)
				}
				if tt.event != nil {
					if e := tt.event(written); f.ID != e.ID || f.Position != e.Position {
						t.Fatalf("finding names id %s position %d, want %s position %d", f.ID, f.Position, e.ID, e.Position)
					}
				}
			})
		}
	}
}

// TestVerifyExpectAnchor: an anchor hash exported earlier pins the anchor
// chain, so removing the latest anchors (and with them the record of a
// stream) is caught too.
func TestVerifyExpectAnchor(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			store, db := b.open(t)
			seed(t, store)
			a := &audit.Anchorer{Store: store}
			an, wrote, err := a.Anchor(ctx) // anchor 2 covers the fifth event of stream 2
			if err != nil || !wrote || an.Seq != 2 {
				t.Fatalf("second anchor = %+v, %v, %v", an, wrote, err)
			}
			if rep, err := audit.Verify(ctx, store, audit.VerifyOptions{ExpectAnchor: an.Hash}); err != nil || !rep.OK {
				t.Fatalf("untouched: %+v, %v", rep, err)
			}
			mustExec(t, db, `DELETE FROM events WHERE stream = $1 AND version = $2`, houqin.AnchorStream, an.Version)
			mustExec(t, db, `DELETE FROM events WHERE stream = $1 AND version = 4`, stream(2))
			rep, err := audit.Verify(ctx, store, audit.VerifyOptions{})
			if err != nil || !rep.OK {
				t.Fatalf("without the exported hash the truncation is invisible (documented limit); got %+v, %v", rep, err)
			}
			rep, err = audit.Verify(ctx, store, audit.VerifyOptions{ExpectAnchor: an.Hash})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.Findings[0].Stream != houqin.AnchorStream || !strings.Contains(rep.Findings[0].Reason, "not in the anchor chain") {
				t.Fatalf("with the exported hash: %+v, want the missing anchor reported", rep)
			}
		})
	}
}

// TestAnchorer: anchors are incremental and skip when nothing moved, and a
// second anchorer on the same store continues the same chain.
func TestAnchorer(t *testing.T) {
	ctx := context.Background()
	store, _ := backends[0].open(t)
	a := &audit.Anchorer{Store: store}
	if an, wrote, err := a.Anchor(ctx); err != nil || wrote || an.Seq != 0 {
		t.Fatalf("anchor of an empty store = %+v, %v, %v; want none", an, wrote, err)
	}
	seed(t, store) // anchors (seq 1) through a second anchorer
	if an, wrote, err := a.Anchor(ctx); err != nil || !wrote || an.Seq != 2 || an.Streams != 3 {
		t.Fatalf("anchor after seed = %+v, %v, %v; want anchor 2 over 3 streams, after the other anchorer's", an, wrote, err)
	}
	an, wrote, err := a.Anchor(ctx)
	if err != nil || wrote || an.Seq != 2 {
		t.Fatalf("anchor without changes = %+v, %v, %v; want anchor 2 again, not written", an, wrote, err)
	}
	latest, heads, err := audit.LatestAnchor(ctx, store)
	if err != nil || latest.Seq != 2 || len(heads) != 3 || heads[1].Stream != stream(2) || heads[1].Version != 4 {
		t.Fatalf("latest = %+v %+v, %v", latest, heads, err)
	}
	if latest.Hash.String() != an.Hash.String() {
		t.Fatalf("latest anchor hash %s, Anchor returned %s", latest.Hash, an.Hash)
	}
}

// TestAnchorerRun: Run anchors at once and again after each interval in
// which something was appended.
func TestAnchorerRun(t *testing.T) {
	store, _ := backends[0].open(t)
	seed(t, store)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&audit.Anchorer{Store: store, Interval: 20 * time.Millisecond}).Run(ctx) }()
	want := int64(3) // the seed's, one at start, one after the next append
	e := houqin.Event{ID: houqin.EventID("run", "1"), Type: "procurement.step_recorded", Data: []byte(`{}`)}
	appended := false
	deadline := time.Now().Add(10 * time.Second)
	for {
		latest, _, err := audit.LatestAnchor(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		if latest.Seq == 2 && !appended {
			if _, err := store.Append(ctx, stream(1), houqin.ExpectAny, e); err != nil {
				t.Fatal(err)
			}
			appended = true
		}
		if latest.Seq == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("latest anchor %d after 10s, want %d", latest.Seq, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
