package activities_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/storetest"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

var when = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

func mustOpenStore(tb testing.TB) *sqlite.EventStore {
	tb.Helper()
	s, err := sqlite.OpenEventStore(context.Background(), filepath.Join(tb.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func newActivities(tb testing.TB) *activities.Activities {
	return &activities.Activities{Store: mustOpenStore(tb), Now: func() time.Time { return when }}
}

// events returns n procurement events as a workflow emits them.
func events(tb testing.TB, from, n int) []houqin.Event {
	tb.Helper()
	out := make([]houqin.Event, n)
	for i := range out {
		seq := from + i
		e, err := houqin.NewEvent(houqin.EventID("PR-2026-000001", "run-1", fmt.Sprint(seq)),
			houqin.ProcurementApproved{By: "liu.yang", Comment: "ok"},
			houqin.Metadata{Actor: "liu.yang", CorrelationID: "PR-2026-000001", OccurredAt: when.Add(time.Duration(seq) * time.Second)})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = e
	}
	return out
}

// wantApplicationError checks that err is a Temporal application error of
// the given type, retryable or not, and returns it.
func wantApplicationError(tb testing.TB, err error, typ string, nonRetryable bool) *temporal.ApplicationError {
	tb.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		tb.Fatalf("error %v (%T) is not a *temporal.ApplicationError", err, err)
	}
	if ae.Type() != typ || ae.NonRetryable() != nonRetryable {
		tb.Fatalf("application error type %q, non-retryable %v; want %q, %v (%v)", ae.Type(), ae.NonRetryable(), typ, nonRetryable, err)
	}
	return ae
}

func TestAppendEvents(t *testing.T) {
	a := newActivities(t)
	ctx := context.Background()
	const stream = "procurement-PR-2026-000001"

	first := activities.AppendInput{Stream: stream, Expected: houqin.ExpectNoStream, Events: events(t, 0, 2)}
	res, err := a.AppendEvents(ctx, first)
	if err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	if want := (activities.AppendResult{LastVersion: 1, LastPosition: 2}); res != want {
		t.Errorf("AppendEvents = %+v, want %+v", res, want)
	}
	second := activities.AppendInput{Stream: stream, Expected: 1, Events: events(t, 2, 1)}
	if res, err = a.AppendEvents(ctx, second); err != nil || res != (activities.AppendResult{LastVersion: 2, LastPosition: 3}) {
		t.Fatalf("AppendEvents(second) = %+v, %v", res, err)
	}
	before := storetest.MustReadAll(t, a.Store)

	// Temporal retries an activity whose response was lost: the same input
	// again, for the first append as well as the last.
	retries := []struct {
		in   activities.AppendInput
		want activities.AppendResult
	}{
		{first, activities.AppendResult{LastVersion: 1, LastPosition: 2}},
		{second, activities.AppendResult{LastVersion: 2, LastPosition: 3}},
	}
	for _, r := range retries {
		again, err := a.AppendEvents(ctx, r.in)
		if err != nil {
			t.Fatalf("retried AppendEvents(expected %d): %v", r.in.Expected, err)
		}
		if again != r.want {
			t.Errorf("retried AppendEvents = %+v, want the stored %+v", again, r.want)
		}
	}
	after := storetest.MustReadAll(t, a.Store)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a retry wrote (-before +after):\n%s", diff)
	}
	if err := houqin.Verify(after); err != nil {
		t.Error(err)
	}
}

func TestAppendEventsZeroTimeUsesClock(t *testing.T) {
	a := newActivities(t)
	e := events(t, 0, 1)[0]
	e.Meta.OccurredAt = time.Time{}
	if _, err := a.AppendEvents(context.Background(), activities.AppendInput{Stream: "procurement-PR-2026-000009", Expected: houqin.ExpectAny, Events: []houqin.Event{e}}); err != nil {
		t.Fatal(err)
	}
	got := storetest.MustReadStream(t, a.Store, "procurement-PR-2026-000009")
	if !got[0].Meta.OccurredAt.Equal(when) {
		t.Errorf("OccurredAt = %v, want the clock's %v", got[0].Meta.OccurredAt, when)
	}
}

func TestAppendEventsErrors(t *testing.T) {
	a := newActivities(t)
	ctx := context.Background()
	const stream = "procurement-PR-2026-000002"
	storetest.MustAppend(t, a.Store, stream, houqin.ExpectNoStream, events(t, 0, 1)...)

	bad := events(t, 1, 1)
	bad[0].ID = "not-a-uuid"
	tests := []struct {
		name    string
		in      activities.AppendInput
		typ     string
		message string
	}{
		{"invalid event", activities.AppendInput{Stream: stream, Expected: 0, Events: bad}, houqin.EINVALID, `events[0].id: "not-a-uuid" is not a lowercase UUID`},
		{"invalid stream", activities.AppendInput{Stream: "Procurement", Expected: 0, Events: events(t, 1, 1)}, houqin.EINVALID, `stream: "Procurement" must look like <category>-<id>`},
		{"wrong expected version", activities.AppendInput{Stream: stream, Expected: 3, Events: events(t, 1, 1)}, houqin.ECONFLICT,
			"expected_version: expected procurement-PR-2026-000002 at version 3, found version 0"},
		{"same ID, other content", activities.AppendInput{Stream: stream, Expected: houqin.ExpectNoStream, Events: func() []houqin.Event {
			e := events(t, 0, 1)
			e[0].Meta.Actor = "someone.else"
			return e
		}()}, houqin.ECONFLICT, "events[0].id: " + events(t, 0, 1)[0].ID + " is already stored at procurement-PR-2026-000002@0 with different content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.AppendEvents(ctx, tt.in)
			ae := wantApplicationError(t, err, tt.typ, true)
			if ae.Message() != tt.message {
				t.Errorf("message %q, want %q", ae.Message(), tt.message)
			}
		})
	}
	if got := storetest.MustReadStream(t, a.Store, stream); len(got) != 1 {
		t.Errorf("stream has %d events after refused appends, want 1", len(got))
	}

	t.Run("store unavailable is retryable", func(t *testing.T) {
		s := mustOpenStore(t)
		s.Close()
		a := &activities.Activities{Store: s}
		_, err := a.AppendEvents(ctx, activities.AppendInput{Stream: stream, Expected: houqin.ExpectAny, Events: events(t, 0, 1)})
		if err == nil {
			t.Fatal("AppendEvents on a closed store succeeded")
		}
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.NonRetryable() {
			t.Errorf("error %v is non-retryable; Temporal would give up on a store that is only down", err)
		}
		if houqin.ErrorCode(err) != houqin.EUNAVAILABLE {
			t.Errorf("code %s, want EUNAVAILABLE kept in the chain", houqin.ErrorCode(err))
		}
	})
}

// TestAppendEventsInActivityEnvironment runs the activity the way a worker
// does, through Temporal's data conversion, so the event payloads and the
// error type survive the trip.
func TestAppendEventsInActivityEnvironment(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a := newActivities(t)
	env.RegisterActivity(a)

	in := activities.AppendInput{Stream: "procurement-PR-2026-000003", Expected: houqin.ExpectNoStream, Events: events(t, 0, 3)}
	v, err := env.ExecuteActivity(a.AppendEvents, in)
	if err != nil {
		t.Fatalf("ExecuteActivity: %v", err)
	}
	var res activities.AppendResult
	if err := v.Get(&res); err != nil || res.LastVersion != 2 {
		t.Fatalf("result %+v, %v; want last version 2", res, err)
	}
	stored := storetest.MustReadStream(t, a.Store, in.Stream)
	for i, e := range stored {
		if e.ID != in.Events[i].ID || string(e.Data) != string(in.Events[i].Data) || !e.Meta.OccurredAt.Equal(in.Events[i].Meta.OccurredAt) {
			t.Errorf("stored event %d = %+v, want the input %+v", i, e, in.Events[i])
		}
	}

	in.Expected = 7
	_, err = env.ExecuteActivity(a.AppendEvents, in)
	wantApplicationError(t, err, houqin.ECONFLICT, true)
}

func TestStockIn(t *testing.T) {
	a := newActivities(t)
	ctx := context.Background()
	meta := houqin.Metadata{Actor: "li.na", WorkflowID: "PR-2026-000001", RunID: "run-1", OccurredAt: when}
	in := activities.StockInInput{
		ProcessID: "PR-2026-000001",
		Lines:     []houqin.StockLine{{Name: "A4 paper", Quantity: 20, Unit: "box"}, {Name: "toner", Quantity: 2, Unit: "piece"}},
		Meta:      meta,
	}

	// A partial earlier attempt: only the first line made it.
	if _, err := a.StockIn(ctx, activities.StockInInput{ProcessID: in.ProcessID, Lines: in.Lines[:1], Meta: meta}); err != nil {
		t.Fatalf("StockIn(first line): %v", err)
	}
	// Another process stocks the same item meanwhile.
	other := activities.StockInInput{ProcessID: "PR-2026-000002", Lines: []houqin.StockLine{{Name: "a4 paper", Quantity: 5, Unit: "box"}}, Meta: meta}
	if _, err := a.StockIn(ctx, other); err != nil {
		t.Fatalf("StockIn(other process): %v", err)
	}
	// The retry of the whole activity, twice.
	for range 2 {
		res, err := a.StockIn(ctx, in)
		if err != nil {
			t.Fatalf("StockIn: %v", err)
		}
		if want := (activities.AppendResult{LastVersion: 0, LastPosition: 3}); res != want {
			t.Errorf("StockIn = %+v, want %+v", res, want)
		}
	}

	stocked := func(stream string) (total int64, processes []string) {
		events := storetest.MustReadStream(t, a.Store, stream)
		if err := houqin.Verify(events); err != nil {
			t.Error(err)
		}
		for _, e := range events {
			d, err := e.Decode()
			if err != nil {
				t.Fatal(err)
			}
			s := d.(*houqin.InventoryStockedIn)
			total += s.Quantity
			processes = append(processes, s.ProcessID)
			if e.Meta.CorrelationID != s.ProcessID || e.Meta.Actor != "li.na" || !e.Meta.OccurredAt.Equal(when) {
				t.Errorf("%s@%d meta = %+v", stream, e.Version, e.Meta)
			}
		}
		return total, processes
	}
	if total, ps := stocked("inventory-a4-paper"); total != 25 || !cmp.Equal(ps, []string{"PR-2026-000001", "PR-2026-000002"}) {
		t.Errorf("inventory-a4-paper: %d in stock from %v; want 25 from PR-2026-000001 then PR-2026-000002", total, ps)
	}
	if total, ps := stocked("inventory-toner"); total != 2 || len(ps) != 1 {
		t.Errorf("inventory-toner: %d in stock from %v; want 2 from one process", total, ps)
	}
	if n := len(storetest.MustReadAll(t, a.Store)); n != 3 {
		t.Errorf("store holds %d events, want 3", n)
	}
}

func TestStockInInvalid(t *testing.T) {
	a := newActivities(t)
	tests := []struct {
		name    string
		in      activities.StockInInput
		message string
	}{
		{"no process", activities.StockInInput{Lines: []houqin.StockLine{{Name: "x", Quantity: 1, Unit: "box"}}}, "process_id: required"},
		{"no lines", activities.StockInInput{ProcessID: "PR-2026-000001"}, "lines: at least one line is required"},
		{"zero quantity", activities.StockInInput{ProcessID: "PR-2026-000001", Lines: []houqin.StockLine{{Name: "x", Quantity: 0, Unit: "box"}}}, "lines[0].quantity: must be positive, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.StockIn(context.Background(), tt.in)
			if ae := wantApplicationError(t, err, houqin.EINVALID, true); ae.Message() != tt.message {
				t.Errorf("message %q, want %q", ae.Message(), tt.message)
			}
		})
	}
}

// TestTakeNumber: each key takes the next number once; a retry with the
// same key gets its number again; an empty key is refused.
func TestTakeNumber(t *testing.T) {
	a := newActivities(t)
	ctx := context.Background()
	take := func(key string) int64 {
		t.Helper()
		n, err := a.TakeNumber(ctx, activities.TakeNumberInput{Sequence: "IN-2026", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	got := []int64{take("SI-a-1"), take("SI-a-2"), take("SI-a-1"), take("SI-b-1")}
	if want := []int64{1, 2, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("numbers %v, want %v", got, want)
	}
	_, err := a.TakeNumber(ctx, activities.TakeNumberInput{Sequence: "IN-2026"})
	wantApplicationError(t, err, houqin.EINVALID, true)
}
