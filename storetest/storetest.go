// Package storetest is the contract every houqin.EventStore adapter must
// pass. An adapter's test calls Run with a function that opens a fresh,
// empty store:
//
//	func TestEventStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) houqin.EventStore { return MustOpenEventStore(t) })
//	}
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/houqin/houqin"
)

// Open returns a fresh, empty store; the store is closed by the test's
// cleanup, which Open registers.
type Open func(t *testing.T) houqin.EventStore

// Run runs the whole contract against stores made by open.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, houqin.EventStore)
	}{
		{"AppendNewStream", testAppendNewStream},
		{"ExpectedVersion", testExpectedVersion},
		{"ExpectAny", testExpectAny},
		{"RetryIsIdempotent", testRetryIsIdempotent},
		{"SameIDOtherContent", testSameIDOtherContent},
		{"ReadStream", testReadStream},
		{"ReadAll", testReadAll},
		{"Metadata", testMetadata},
		{"HashChain", testHashChain},
		{"Validation", testValidation},
		{"LargeEvent", testLargeEvent},
		{"CancelledContext", testCancelledContext},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"TailingReaderNeverSkips", testTailingReaderNeverSkips},
		{"Changed", testChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
	t.Run("Close", func(t *testing.T) {
		s := open(t)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, err := s.Append(context.Background(), "test-closed", houqin.ExpectAny, NewEvents(1)...)
		if err == nil {
			t.Fatal("Append after Close succeeded")
		}
	})
}

// NewEvents returns n valid events of type "test.happened" with random IDs
// and a payload {"n": i}.
func NewEvents(n int) []houqin.Event {
	events := make([]houqin.Event, n)
	for i := range events {
		events[i] = houqin.Event{
			ID:   uuid.NewString(),
			Type: "test.happened",
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
			Meta: houqin.Metadata{Actor: "wang.fang", CorrelationID: "PR-2026-000001"},
		}
	}
	return events
}

// MustAppend appends and fails the test on error.
func MustAppend(tb testing.TB, s houqin.EventStore, stream string, expected int64, events ...houqin.Event) []houqin.Event {
	tb.Helper()
	out, err := s.Append(context.Background(), stream, expected, events...)
	if err != nil {
		tb.Fatalf("Append(%s, %d): %v", stream, expected, err)
	}
	return out
}

// MustReadStream reads a whole stream forwards.
func MustReadStream(tb testing.TB, s houqin.EventStore, stream string) []houqin.Event {
	tb.Helper()
	events, err := s.ReadStream(context.Background(), stream, 0, houqin.Forward, 100_000)
	if err != nil {
		tb.Fatalf("ReadStream(%s): %v", stream, err)
	}
	return events
}

// MustReadAll reads the whole log.
func MustReadAll(tb testing.TB, s houqin.EventStore) []houqin.Event {
	tb.Helper()
	var all []houqin.Event
	for after := int64(0); ; {
		events, err := s.ReadAll(context.Background(), after, 1000)
		if err != nil {
			tb.Fatalf("ReadAll(%d): %v", after, err)
		}
		if len(events) == 0 {
			return all
		}
		all = append(all, events...)
		after = events[len(events)-1].Position
	}
}

func mustHead(tb testing.TB, s houqin.EventStore) int64 {
	tb.Helper()
	h, err := s.Head(context.Background())
	if err != nil {
		tb.Fatalf("Head: %v", err)
	}
	return h
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := houqin.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (%v), want %s", got, err, code)
	}
}

// unchanged asserts that a failed call wrote nothing: the log is exactly as
// before.
func unchanged(tb testing.TB, s houqin.EventStore, before []houqin.Event) {
	tb.Helper()
	if diff := cmp.Diff(before, MustReadAll(tb, s)); diff != "" {
		tb.Fatalf("log changed after a failed append (-before +after):\n%s", diff)
	}
}

func testAppendNewStream(t *testing.T, s houqin.EventStore) {
	in := NewEvents(3)
	out := MustAppend(t, s, "test-1", houqin.ExpectNoStream, in...)
	if len(out) != 3 {
		t.Fatalf("Append returned %d events, want 3", len(out))
	}
	for i, e := range out {
		if e.ID != in[i].ID || e.Stream != "test-1" || e.Version != int64(i) || e.Type != in[i].Type {
			t.Errorf("event %d = %s %s@%d %s, want %s test-1@%d %s", i, e.ID, e.Stream, e.Version, e.Type, in[i].ID, i, in[i].Type)
		}
		if i > 0 && e.Position <= out[i-1].Position {
			t.Errorf("positions not increasing: %d after %d", e.Position, out[i-1].Position)
		}
		if e.RecordedAt.IsZero() || e.RecordedAt.Location() != time.UTC {
			t.Errorf("event %d RecordedAt = %v, want a UTC time", i, e.RecordedAt)
		}
	}
	if out[0].Position < 1 {
		t.Errorf("first position = %d, want >= 1", out[0].Position)
	}
	if diff := cmp.Diff(out, MustReadStream(t, s, "test-1")); diff != "" {
		t.Errorf("ReadStream differs from what Append returned (-append +read):\n%s", diff)
	}
	if h := mustHead(t, s); h != out[2].Position {
		t.Errorf("Head = %d, want %d", h, out[2].Position)
	}

	before := MustReadAll(t, s)
	_, err := s.Append(context.Background(), "test-1", houqin.ExpectNoStream, NewEvents(1)...)
	wantCode(t, err, houqin.ECONFLICT)
	unchanged(t, s, before)
}

func testExpectedVersion(t *testing.T, s houqin.EventStore) {
	MustAppend(t, s, "test-1", houqin.ExpectNoStream, NewEvents(2)...)
	out := MustAppend(t, s, "test-1", 1, NewEvents(2)...)
	if out[0].Version != 2 || out[1].Version != 3 {
		t.Fatalf("versions = %d, %d; want 2, 3", out[0].Version, out[1].Version)
	}
	before := MustReadAll(t, s)
	for _, expected := range []int64{0, 1, 2, 4, 100} {
		_, err := s.Append(context.Background(), "test-1", expected, NewEvents(2)...)
		wantCode(t, err, houqin.ECONFLICT)
		if !strings.Contains(houqin.ErrorMessage(err), "expected_version") {
			t.Errorf("message %q does not name expected_version", houqin.ErrorMessage(err))
		}
	}
	_, err := s.Append(context.Background(), "test-2", 0, NewEvents(1)...)
	wantCode(t, err, houqin.ECONFLICT) // stream does not exist
	unchanged(t, s, before)
	MustAppend(t, s, "test-1", 3, NewEvents(1)...)
}

func testExpectAny(t *testing.T, s houqin.EventStore) {
	MustAppend(t, s, "test-1", houqin.ExpectAny, NewEvents(1)...)
	out := MustAppend(t, s, "test-1", houqin.ExpectAny, NewEvents(2)...)
	if out[1].Version != 2 {
		t.Fatalf("version = %d, want 2", out[1].Version)
	}
	if err := houqin.Verify(MustReadStream(t, s, "test-1")); err != nil {
		t.Fatal(err)
	}
}

func testRetryIsIdempotent(t *testing.T, s houqin.EventStore) {
	first := NewEvents(2)
	out1 := MustAppend(t, s, "test-1", houqin.ExpectNoStream, first...)
	second := NewEvents(3)
	out2 := MustAppend(t, s, "test-1", 1, second...)
	MustAppend(t, s, "test-1", 4, NewEvents(1)...) // the stream moves on
	before := MustReadAll(t, s)

	for _, tt := range []struct {
		name     string
		expected int64
		events   []houqin.Event
		want     []houqin.Event
	}{
		{"first at no stream", houqin.ExpectNoStream, first, out1},
		{"second at exact version", 1, second, out2},
		{"second at any", houqin.ExpectAny, second, out2},
		{"prefix of second", 1, second[:2], out2[:2]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Append(context.Background(), "test-1", tt.expected, tt.events...)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("retry returned other events (-want +got):\n%s", diff)
			}
			unchanged(t, s, before)
		})
	}
	for _, tt := range []struct {
		name     string
		expected int64
		events   []houqin.Event
	}{
		{"second at wrong version", 0, second},
		{"first at exact version", 1, first},
		{"stored then new", 1, append(slices.Clone(second[:1]), NewEvents(1)...)},
		{"new then stored", houqin.ExpectAny, append(NewEvents(1), second[0])},
		{"out of order", 1, []houqin.Event{second[1], second[0]}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), "test-1", tt.expected, tt.events...)
			wantCode(t, err, houqin.ECONFLICT)
			unchanged(t, s, before)
		})
	}
}

func testSameIDOtherContent(t *testing.T, s houqin.EventStore) {
	in := NewEvents(1)
	MustAppend(t, s, "test-1", houqin.ExpectNoStream, in...)
	before := MustReadAll(t, s)

	changed := []func(*houqin.Event){
		func(e *houqin.Event) { e.Data = json.RawMessage(`{"n":1}`) },
		func(e *houqin.Event) { e.Type = "test.changed" },
		func(e *houqin.Event) { e.Meta.Actor = "liu.yang" },
	}
	for i, change := range changed {
		e := in[0]
		change(&e)
		_, err := s.Append(context.Background(), "test-1", houqin.ExpectNoStream, e)
		wantCode(t, err, houqin.ECONFLICT)
		if !strings.Contains(houqin.ErrorMessage(err), "different content") {
			t.Errorf("change %d: message %q does not say the content differs", i, houqin.ErrorMessage(err))
		}
	}
	for _, expected := range []int64{houqin.ExpectAny, houqin.ExpectNoStream} {
		// The ID is taken on another stream, however the append expects.
		_, err := s.Append(context.Background(), "test-2", expected, append(NewEvents(1), in...)...)
		wantCode(t, err, houqin.ECONFLICT)
		if !strings.Contains(houqin.ErrorMessage(err), in[0].ID) && !strings.Contains(houqin.ErrorMessage(err), "another stream") {
			t.Errorf("message %q does not say the ID is taken", houqin.ErrorMessage(err))
		}
	}
	unchanged(t, s, before)
	// Neighbours sharing the failed call's transaction are not affected.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			events := NewEvents(1)
			if i == 0 {
				events = in // the bad one
			}
			_, errs[i] = s.Append(context.Background(), fmt.Sprintf("test-n%d", i), houqin.ExpectNoStream, events...)
		})
	}
	wg.Wait()
	wantCode(t, errs[0], houqin.ECONFLICT)
	for _, err := range errs[1:] {
		if err != nil {
			t.Errorf("a neighbour of the failed append failed too: %v", err)
		}
	}
}

func testReadStream(t *testing.T, s houqin.EventStore) {
	in := MustAppend(t, s, "test-1", houqin.ExpectNoStream, NewEvents(10)...)
	MustAppend(t, s, "test-2", houqin.ExpectNoStream, NewEvents(3)...)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		from  int64
		dir   houqin.Direction
		limit int
		want  []int64 // versions
	}{
		{"forward from 0", 0, houqin.Forward, 100, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"forward from 7", 7, houqin.Forward, 100, []int64{7, 8, 9}},
		{"forward limited", 2, houqin.Forward, 3, []int64{2, 3, 4}},
		{"forward past end", 10, houqin.Forward, 100, nil},
		{"backward from end", -1, houqin.Backward, 3, []int64{9, 8, 7}},
		{"backward from 4", 4, houqin.Backward, 100, []int64{4, 3, 2, 1, 0}},
		{"backward from 0", 0, houqin.Backward, 100, []int64{0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ReadStream(ctx, "test-1", tt.from, tt.dir, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var versions []int64
			for _, e := range got {
				versions = append(versions, e.Version)
				if diff := cmp.Diff(in[e.Version], e); diff != "" {
					t.Errorf("event %d differs from the appended one:\n%s", e.Version, diff)
				}
			}
			if diff := cmp.Diff(tt.want, versions); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
	got, err := s.ReadStream(ctx, "test-none", 0, houqin.Forward, 10)
	if err != nil || len(got) != 0 {
		t.Errorf("missing stream read %d events, %v; want none, no error", len(got), err)
	}
}

func testReadAll(t *testing.T, s houqin.EventStore) {
	var want []houqin.Event
	for i := range 5 {
		want = append(want, MustAppend(t, s, fmt.Sprintf("test-%d", i%2), houqin.ExpectAny, NewEvents(i+1)...)...)
	}
	all := MustReadAll(t, s)
	if diff := cmp.Diff(want, all); diff != "" {
		t.Fatalf("ReadAll differs from the appends (-want +got):\n%s", diff)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Position <= all[i-1].Position {
			t.Fatalf("positions not strictly increasing: %d then %d", all[i-1].Position, all[i].Position)
		}
	}
	from := all[6].Position
	got, err := s.ReadAll(context.Background(), from, 4)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all[7:11], got); diff != "" {
		t.Errorf("ReadAll(after %d, 4) (-want +got):\n%s", from, diff)
	}
	got, err = s.ReadAll(context.Background(), all[len(all)-1].Position, 10)
	if err != nil || len(got) != 0 {
		t.Errorf("ReadAll at head = %d events, %v; want none", len(got), err)
	}
}

func testMetadata(t *testing.T, s houqin.EventStore) {
	cst := time.FixedZone("CST", 8*3600)
	e := NewEvents(1)[0]
	e.Data = json.RawMessage(`{"name":"张伟","reason":"Q1 打印纸 <A4> & \"引号\"","amount":450000}`)
	e.Meta = houqin.Metadata{
		Actor: "liu.yang", OnBehalfOf: "zhang.wei", CorrelationID: "PR-2026-000123", CausationID: "req-1",
		WorkflowID: "PR-2026-000123", RunID: "run-1", OccurredAt: time.Date(2026, 11, 25, 9, 30, 0, 123456789, cst),
		PolicyHash: "abc123", Reason: "预算内，同意",
	}
	out := MustAppend(t, s, "procurement-PR-2026-000123", houqin.ExpectNoStream, e)[0]
	got := MustReadStream(t, s, "procurement-PR-2026-000123")[0]
	if string(got.Data) != string(e.Data) {
		t.Errorf("data = %s, want the exact bytes %s", got.Data, e.Data)
	}
	want := e.Meta
	want.OccurredAt = time.Date(2026, 11, 25, 1, 30, 0, 123456000, time.UTC) // UTC, to the microsecond
	if diff := cmp.Diff(want, got.Meta); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(out, got); diff != "" {
		t.Errorf("read differs from append result:\n%s", diff)
	}
}

func testHashChain(t *testing.T, s houqin.EventStore) {
	MustAppend(t, s, "test-1", houqin.ExpectNoStream, NewEvents(3)...)
	MustAppend(t, s, "test-2", houqin.ExpectNoStream, NewEvents(1)...)
	MustAppend(t, s, "test-1", 2, NewEvents(2)...)
	events := MustReadStream(t, s, "test-1")
	if events[0].PrevHash != nil {
		t.Errorf("version 0 PrevHash = %s, want nil", events[0].PrevHash)
	}
	if err := houqin.Verify(events); err != nil {
		t.Fatalf("Verify of a stored stream: %v", err)
	}
	tampered := slices.Clone(events)
	tampered[2].Data = json.RawMessage(`{"n":999}`)
	if err := houqin.Verify(tampered); err == nil || !strings.Contains(err.Error(), "@2") {
		t.Errorf("Verify of altered event 2 = %v, want an error at version 2", err)
	}
	if err := houqin.Verify(slices.Delete(slices.Clone(events), 1, 2)); err == nil {
		t.Error("Verify of a stream with an event removed succeeded")
	}
}

func testValidation(t *testing.T, s houqin.EventStore) {
	MustAppend(t, s, "test-1", houqin.ExpectNoStream, NewEvents(1)...)
	before := MustReadAll(t, s)
	ev := func(change func(*houqin.Event)) []houqin.Event {
		es := NewEvents(2)
		change(&es[1])
		return es
	}
	dup := NewEvents(2)
	dup[1].ID = dup[0].ID
	tests := []struct {
		name     string
		stream   string
		expected int64
		events   []houqin.Event
		field    string // the message must name it
	}{
		{"empty stream", "", houqin.ExpectAny, NewEvents(1), "stream"},
		{"no category", "PR-1", houqin.ExpectAny, NewEvents(1), "stream"},
		{"no id", "test", houqin.ExpectAny, NewEvents(1), "stream"},
		{"all stream", "$all", houqin.ExpectAny, NewEvents(1), "stream"},
		{"space in stream", "test-a b", houqin.ExpectAny, NewEvents(1), "stream"},
		{"long stream", "test-" + strings.Repeat("x", 300), houqin.ExpectAny, NewEvents(1), "stream"},
		{"bad expected", "test-1", -3, NewEvents(1), "expected_version"},
		{"no events", "test-1", houqin.ExpectAny, nil, "events"},
		{"bad id", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.ID = "42" }), "events[1].id"},
		{"uppercase id", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.ID = strings.ToUpper(e.ID) }), "events[1].id"},
		{"duplicate id", "test-1", houqin.ExpectAny, dup, "events[1].id"},
		{"empty type", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.Type = "" }), "events[1].type"},
		{"type without verb", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.Type = "test" }), "events[1].type"},
		{"type with capitals", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.Type = "Test.Happened" }), "events[1].type"},
		{"no data", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.Data = nil }), "events[1].data"},
		{"invalid json", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.Data = json.RawMessage(`{"a":`) }), "events[1].data"},
		{"array data", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.Data = json.RawMessage(`[1]`) }), "events[1].data"},
		{"invalid utf8", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.Data = json.RawMessage("{\"a\":\"\xff\"}") }), "events[1].data"},
		{"invalid utf8 meta", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) { e.Meta.Reason = "\xff" }), "events[1].meta.reason"},
		{"too large", "test-1", houqin.ExpectAny, ev(func(e *houqin.Event) {
			e.Data = json.RawMessage(`{"x":"` + strings.Repeat("a", houqin.DefaultLimits.MaxEventSize) + `"}`)
		}), "events[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), tt.stream, tt.expected, tt.events...)
			wantCode(t, err, houqin.EINVALID)
			if msg := houqin.ErrorMessage(err); !strings.HasPrefix(msg, tt.field) {
				t.Errorf("message %q does not start with the field %q", msg, tt.field)
			}
			unchanged(t, s, before)
		})
	}
	for _, limit := range []int{0, -1, houqin.DefaultLimits.MaxReadLimit + 1} {
		_, err := s.ReadAll(context.Background(), 0, limit)
		wantCode(t, err, houqin.EINVALID)
		_, err = s.ReadStream(context.Background(), "test-1", 0, houqin.Forward, limit)
		wantCode(t, err, houqin.EINVALID)
	}
	_, err := s.ReadStream(context.Background(), "bad stream", 0, houqin.Forward, 10)
	wantCode(t, err, houqin.EINVALID)
}

func testLargeEvent(t *testing.T, s houqin.EventStore) {
	e := NewEvents(1)[0]
	e.Data = json.RawMessage(`{"x":"` + strings.Repeat("大", (houqin.DefaultLimits.MaxEventSize-1024)/3) + `"}`)
	MustAppend(t, s, "test-1", houqin.ExpectNoStream, e)
	got := MustReadStream(t, s, "test-1")
	if len(got) != 1 || string(got[0].Data) != string(e.Data) {
		t.Fatalf("large event did not round-trip (%d events)", len(got))
	}
}

func testCancelledContext(t *testing.T, s houqin.EventStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Append(ctx, "test-1", houqin.ExpectAny, NewEvents(1)...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context = %v, want context.Canceled", err)
	}
	if h := mustHead(t, s); h != 0 {
		t.Fatalf("Head = %d after a cancelled append, want 0", h)
	}
}

// testOptimisticConcurrency runs read-modify-append loops on one stream from
// many goroutines: each must eventually win exactly once per attempt it
// counts, and the stream ends with contiguous versions.
func testOptimisticConcurrency(t *testing.T, s houqin.EventStore) {
	const writers, each = 8, 10
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range each {
				for {
					last, err := s.ReadStream(ctx, "test-counter", -1, houqin.Backward, 1)
					if err != nil {
						errs <- err
						return
					}
					expected := houqin.ExpectNoStream
					if len(last) == 1 {
						expected = last[0].Version
					}
					_, err = s.Append(ctx, "test-counter", expected, NewEvents(1)...)
					if houqin.ErrorCode(err) == houqin.ECONFLICT {
						continue
					} else if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	events := MustReadStream(t, s, "test-counter")
	if len(events) != writers*each {
		t.Fatalf("stream has %d events, want %d", len(events), writers*each)
	}
	if err := houqin.Verify(events); err != nil {
		t.Fatal(err)
	}
}

// testTailingReaderNeverSkips runs many concurrent appenders while a reader
// tails $all from its last position, as a projection does. Events that
// commit late must not appear behind the reader's position: the reader must
// end up with every event exactly once, in strictly increasing positions.
func testTailingReaderNeverSkips(t *testing.T, s houqin.EventStore) {
	const writers, appends = 32, 25
	ctx := context.Background()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		written = map[string]bool{}
		errs    = make(chan error, writers+1)
		done    = make(chan struct{})
	)
	var seen []houqin.Event
	reader := make(chan struct{})
	go func() {
		defer close(reader)
		after := int64(0)
		for {
			events, err := s.ReadAll(ctx, after, 50)
			if err != nil {
				errs <- err
				return
			}
			seen = append(seen, events...)
			if len(events) > 0 {
				after = events[len(events)-1].Position
				continue
			}
			select {
			case <-done:
				// One final read after all writers finished.
				rest, err := s.ReadAll(ctx, after, 100_000)
				if err != nil {
					errs <- err
				}
				seen = append(seen, rest...)
				return
			default:
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				stream := fmt.Sprintf("test-%d", (w+i)%7) // shared streams: contention on heads
				n := 1 + (w+i)%3
				out, err := s.Append(ctx, stream, houqin.ExpectAny, NewEvents(n)...)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, e := range out {
					written[e.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(done)
	<-reader
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for i, e := range seen {
		if i > 0 && e.Position <= seen[i-1].Position {
			t.Fatalf("reader saw position %d after %d", e.Position, seen[i-1].Position)
		}
		if got[e.ID] {
			t.Fatalf("reader saw event %s twice", e.ID)
		}
		got[e.ID] = true
	}
	if len(got) != len(written) {
		t.Fatalf("tailing reader saw %d events, %d were written: it skipped some", len(got), len(written))
	}
	for id := range written {
		if !got[id] {
			t.Fatalf("tailing reader skipped event %s", id)
		}
	}
	for i := range 7 {
		if err := houqin.Verify(MustReadStream(t, s, fmt.Sprintf("test-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
}

// testChanged checks the optional wake-up signal of stores that offer one.
func testChanged(t *testing.T, s houqin.EventStore) {
	n, ok := s.(interface{ Changed() <-chan struct{} })
	if !ok {
		t.Skip("store does not announce appends; readers poll")
	}
	ch := n.Changed()
	MustAppend(t, s, "test-1", houqin.ExpectAny, NewEvents(1)...)
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed channel not closed within 5s of an append")
	}
}
