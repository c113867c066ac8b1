package houqin_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
)

func TestErrorCodeAndMessage(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"nil", nil, "", ""},
		{"domain", houqin.Errorf(houqin.EINVALID, "quantity must be positive, got %d", -1), houqin.EINVALID, "quantity must be positive, got -1"},
		{"wrapped", fmt.Errorf("append x: %w", houqin.Errorf(houqin.ECONFLICT, "moved")), houqin.ECONFLICT, "moved"},
		{"joined", errors.Join(errors.New("rollback failed"), houqin.Errorf(houqin.ENOTFOUND, "gone")), houqin.ENOTFOUND, "gone"},
		{"internal", errors.New("disk on fire at /var/lib/x"), houqin.EINTERNAL, "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := houqin.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := houqin.ErrorMessage(tt.err); got != tt.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.message)
			}
		})
	}
}

func TestEventIDIsDeterministic(t *testing.T) {
	a := houqin.EventID("PR-2026-000001", "run-1", "3")
	if a != houqin.EventID("PR-2026-000001", "run-1", "3") {
		t.Fatal("same key gave different IDs")
	}
	if a == houqin.EventID("PR-2026-000001", "run-1", "4") {
		t.Fatal("different keys gave the same ID")
	}
	// Pinned: changing the namespace or the key encoding would give every
	// replayed workflow new IDs and break idempotency of stored processes.
	if want := "e629eaee-a995-5dbf-92fc-7dd610a11800"; a != want {
		t.Errorf("EventID = %s, want the pinned %s", a, want)
	}
	if a[14] != '5' {
		t.Errorf("EventID %s is not a version-5 UUID", a)
	}
}

func chain(t *testing.T, n int) []houqin.Event {
	t.Helper()
	in := make([]houqin.Event, n)
	for i := range in {
		in[i] = houqin.Event{ID: houqin.EventID("t", fmt.Sprint(i)), Type: "test.happened", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
	}
	out, write, err := houqin.PlanAppend("test-1", houqin.ExpectNoStream, houqin.StreamHead{Version: -1}, in, nil)
	if err != nil || !write {
		t.Fatalf("PlanAppend = %v, %v", write, err)
	}
	return out
}

func TestComputeHashGolden(t *testing.T) {
	e := houqin.Event{
		ID: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", Stream: "procurement-PR-2026-000001", Version: 0,
		Type: "procurement.requisition_submitted", Data: json.RawMessage(`{"reason":"Q1 打印纸"}`),
		Meta: houqin.Metadata{Actor: "wang.fang", OccurredAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))},
	}
	// The hash format is a contract with every stored event: if this changes,
	// `houqin events verify` reports every existing event as altered.
	const want = "62c31c51d452b9b7bfda7ed6bada30e795bcfd42acfc6f101d3d4f2248385402"
	got := houqin.ComputeHash(nil, e).String()
	if got != want {
		t.Errorf("ComputeHash = %s, want the pinned %s", got, want)
	}
	// Field boundaries are length-prefixed: moving bytes between fields
	// changes the hash.
	f := e
	f.Stream, f.Type = e.Stream+"x", e.Type
	g := e
	g.Type = "x" + e.Type
	if houqin.ComputeHash(nil, f).String() == houqin.ComputeHash(nil, g).String() {
		t.Fatal("different events hash the same")
	}
	// The same instant in another zone is the same event.
	h := e
	h.Meta.OccurredAt = e.Meta.OccurredAt.UTC()
	if houqin.ComputeHash(nil, h).String() != got {
		t.Fatal("hash depends on the time zone of OccurredAt")
	}
}

func TestVerify(t *testing.T) {
	events := chain(t, 4)
	if err := houqin.Verify(events); err != nil {
		t.Fatalf("Verify of a fresh chain: %v", err)
	}
	tests := []struct {
		name   string
		change func([]houqin.Event) []houqin.Event
		want   string
	}{
		{"altered data", func(es []houqin.Event) []houqin.Event { es[2].Data = json.RawMessage(`{"n":9}`); return es }, "test-1@2: stored hash"},
		{"altered actor", func(es []houqin.Event) []houqin.Event { es[1].Meta.Actor = "mallory"; return es }, "test-1@1: stored hash"},
		{"removed", func(es []houqin.Event) []houqin.Event { return append(es[:1], es[2:]...) }, "expected version 1, found 2"},
		{"reordered", func(es []houqin.Event) []houqin.Event { es[1], es[2] = es[2], es[1]; return es }, "expected version 1, found 2"},
		{"relinked", func(es []houqin.Event) []houqin.Event { es[3].PrevHash = es[1].Hash; return es }, "test-1@3: prev_hash"},
		{"rehashed forgery", func(es []houqin.Event) []houqin.Event {
			es[1].Data = json.RawMessage(`{"n":9}`)
			es[1].Hash = houqin.ComputeHash(es[1].PrevHash, es[1]) // forger recomputes this one hash…
			return es                                              // …but event 2 still links to the old one
		}, "test-1@2: prev_hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := houqin.Verify(tt.change(chain(t, 4)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPlanAppend(t *testing.T) {
	stored := chain(t, 3)
	head := houqin.StreamHead{Version: 2, Hash: stored[2].Hash}
	byID := func(es ...houqin.Event) map[string]houqin.Event {
		m := map[string]houqin.Event{}
		for _, e := range es {
			m[e.ID] = e
		}
		return m
	}
	fresh := houqin.Event{ID: houqin.EventID("new"), Type: "test.happened", Data: json.RawMessage(`{}`)}

	out, write, err := houqin.PlanAppend("test-1", 2, head, []houqin.Event{fresh}, nil)
	if err != nil || !write || out[0].Version != 3 || string(out[0].PrevHash) != string(stored[2].Hash) {
		t.Fatalf("append at head = %+v, %v, %v", out, write, err)
	}
	if err := houqin.Verify(append(stored, out...)); err != nil {
		t.Fatalf("appended event does not extend the chain: %v", err)
	}
	// A retry returns the stored events and writes nothing.
	retry := []houqin.Event{{ID: stored[1].ID, Type: stored[1].Type, Data: stored[1].Data}}
	out, write, err = houqin.PlanAppend("test-1", 0, head, retry, byID(stored[1]))
	if err != nil || write {
		t.Fatalf("retry = %v, %v; want the stored event, no write", write, err)
	}
	if diff := cmp.Diff(stored[1:2], out); diff != "" {
		t.Fatalf("retry returned (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name     string
		expected int64
		events   []houqin.Event
		stored   map[string]houqin.Event
		want     string
	}{
		{"no stream expected", houqin.ExpectNoStream, []houqin.Event{fresh}, nil, "already exists"},
		{"stale version", 1, []houqin.Event{fresh}, nil, "expected test-1 at version 1, found version 2"},
		{"retry at wrong place", 1, retry, byID(stored[1]), "not where expected_version 1 puts them"},
		{"other stream", houqin.ExpectAny, retry, byID(houqin.Event{ID: stored[1].ID, Stream: "test-2"}), "already stored on stream test-2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := houqin.PlanAppend("test-1", tt.expected, head, tt.events, tt.stored)
			if houqin.ErrorCode(err) != houqin.ECONFLICT || !strings.Contains(houqin.ErrorMessage(err), tt.want) {
				t.Fatalf("PlanAppend = %v, want ECONFLICT containing %q", err, tt.want)
			}
		})
	}
}

type requisitionSubmitted struct {
	Department string `json:"department"`
	Amount     int64  `json:"amount"`
}

func (requisitionSubmitted) EventType() string { return "testproc.requisition_submitted" }

func TestRegistryRoundTrip(t *testing.T) {
	houqin.RegisterEventType(requisitionSubmitted{})
	e, err := houqin.NewEvent(houqin.EventID("x"), requisitionSubmitted{Department: "MKT", Amount: 90000}, houqin.Metadata{Actor: "wang.fang"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&requisitionSubmitted{Department: "MKT", Amount: 90000}, got); diff != "" {
		t.Fatalf("Decode (-want +got):\n%s", diff)
	}
	e.Type = "testproc.unknown_happened"
	if _, err := e.Decode(); houqin.ErrorCode(err) != houqin.ENOTFOUND {
		t.Fatalf("Decode of an unregistered type = %v, want ENOTFOUND", err)
	}
	e.Type, e.Data = "testproc.requisition_submitted", json.RawMessage(`{"amount":"lots"}`)
	if _, err := e.Decode(); houqin.ErrorCode(err) != houqin.EINVALID {
		t.Fatalf("Decode of a mistyped payload = %v, want EINVALID", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a type twice did not panic")
		}
	}()
	houqin.RegisterEventType(requisitionSubmitted{})
}

func TestDecodeEvent(t *testing.T) {
	e := chain(t, 1)[0]
	e.Position = 7
	e.RecordedAt = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := houqin.DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	if err := houqin.Verify([]houqin.Event{got}); err != nil {
		t.Fatalf("decoded event fails verification: %v", err)
	}
	for _, tt := range []struct{ name, in, field string }{
		{"unknown field", strings.Replace(string(b), `"id"`, `"idd":1,"id"`, 1), `unknown field "idd"`},
		{"bad stream", strings.Replace(string(b), `"test-1"`, `"$all"`, 1), "stream"},
		{"bad position", strings.Replace(string(b), `"position":7`, `"position":0`, 1), "position"},
		{"bad hash", strings.Replace(string(b), `"hash":"`, `"hash":"zz`, 1), "hash"},
		{"trailing", string(b) + "{}", "trailing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := houqin.DecodeEvent([]byte(tt.in))
			if houqin.ErrorCode(err) != houqin.EINVALID || !strings.Contains(houqin.ErrorMessage(err), tt.field) {
				t.Fatalf("DecodeEvent = %v, want EINVALID naming %q", err, tt.field)
			}
		})
	}
}

// FuzzDecodeEvent feeds arbitrary bytes to DecodeEvent: it must never panic,
// and whatever it accepts must re-encode to an event it accepts unchanged.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","stream":"test-1","version":0,"position":1,"type":"test.happened","data":{"n":1},"meta":{"actor":"wang.fang"},"recorded_at":"2026-11-25T12:00:00Z","prev_hash":"","hash":"00"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"data":[1,2]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := houqin.DecodeEvent(b)
		if err != nil {
			if houqin.ErrorCode(err) != houqin.EINVALID {
				t.Fatalf("DecodeEvent error %v has code %s, want EINVALID", err, houqin.ErrorCode(err))
			}
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("re-encode accepted event: %v", err)
		}
		e2, err := houqin.DecodeEvent(again)
		if err != nil {
			t.Fatalf("re-encoded event rejected: %v\n%s", err, again)
		}
		if diff := cmp.Diff(e.Meta.Encode(), e2.Meta.Encode()); diff != "" {
			t.Fatalf("metadata changed on round trip:\n%s", diff)
		}
		if houqin.ComputeHash(e.PrevHash, e).String() != houqin.ComputeHash(e2.PrevHash, e2).String() {
			t.Fatal("hash changed on round trip")
		}
	})
}
