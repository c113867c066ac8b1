package projections

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/houqin/houqin"
)

// Bound is the end of the log a past answer is computed from: every event
// up to Position, or, with Position 0, every event recorded at or before
// Time. Positions are handed out in commit order and each store records
// an event when it commits it, so "recorded at or before Time" is a prefix
// of the log.
type Bound struct {
	Position int64
	Time     time.Time
}

// includes reports whether e is inside the bound.
func (b Bound) includes(e houqin.Event) bool {
	if b.Position > 0 {
		return e.Position <= b.Position
	}
	return !e.RecordedAt.After(b.Time)
}

// boundedStore reads the log up to a Bound: ReadAll stops at the first
// event beyond it. Only reading is offered.
type boundedStore struct {
	houqin.EventStore
	bound Bound
}

// ReadAll implements houqin.EventStore.
func (s boundedStore) ReadAll(ctx context.Context, after int64, limit int) ([]houqin.Event, error) {
	events, err := s.EventStore.ReadAll(ctx, after, limit)
	for i, e := range events {
		if !s.bound.includes(e) {
			return events[:i], err
		}
	}
	return events, err
}

// Append implements houqin.EventStore: a bounded store is read-only.
func (s boundedStore) Append(context.Context, string, int64, ...houqin.Event) ([]houqin.Event, error) {
	return nil, houqin.Errorf(houqin.EINTERNAL, "a bounded store is read-only")
}

// ProjectAsOf applies the events of store up to bound to ps in db, a
// scratch database the caller opened empty, and returns the position and
// recorded time of the last event applied (0 and the zero time if none).
// The past answer is then read from db like the live one.
func ProjectAsOf(ctx context.Context, store houqin.EventStore, db *sql.DB, ps []Projection, bound Bound) (int64, time.Time, error) {
	r := NewRunner(boundedStore{store, bound}, db, ps, Options{BatchSize: 10_000})
	if err := r.Setup(ctx); err != nil {
		return 0, time.Time{}, fmt.Errorf("as of: %w", err)
	}
	if err := r.CatchUp(ctx); err != nil {
		return 0, time.Time{}, fmt.Errorf("as of: %w", err)
	}
	pos := int64(0)
	for _, p := range ps {
		pos = max(pos, r.Position(p.Name()))
	}
	if pos == 0 {
		return 0, time.Time{}, nil
	}
	last, err := store.ReadAll(ctx, pos-1, 1)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("as of: %w", err)
	}
	if len(last) == 0 || last[0].Position != pos {
		return pos, time.Time{}, nil
	}
	return pos, last[0].RecordedAt, nil
}
