package houqin

import (
	"bytes"
	"context"
	"fmt"
)

// Expected versions for Append besides an exact version (>= 0, the version of
// the stream's last event).
const (
	ExpectAny      int64 = -2 // append whatever the stream's state
	ExpectNoStream int64 = -1 // the stream must not exist yet
)

// Direction is the order in which ReadStream returns events.
type Direction int

// The two directions of ReadStream.
const (
	Forward  Direction = iota // ascending versions, from `from` on
	Backward                  // descending versions, from `from` down; from < 0 means from the end
)

// EventStore is the append-only log of every business fact. Adapters: sqlite,
// postgres; every one passes the contract suite in storetest.
type EventStore interface {
	// Append writes events at the end of stream, all or nothing, and returns
	// them as stored (versions, positions, hashes). expected is ExpectAny,
	// ExpectNoStream or the version of the stream's last event.
	//
	// Returns EINVALID, naming the field, if the stream name, an event type,
	// ID, payload or size is invalid; ECONFLICT if expected does not match the
	// stream or an event ID is already used elsewhere or with other content.
	// Appending events that are already stored, with the same IDs and content
	// at the place expected names, succeeds without writing and returns the
	// stored events: retries are safe.
	Append(ctx context.Context, stream string, expected int64, events ...Event) ([]Event, error)

	// ReadStream returns at most limit events of one stream, starting at
	// version from, in the given direction. A stream that does not exist reads
	// as empty. Returns EINVALID for a bad stream name or limit.
	ReadStream(ctx context.Context, stream string, from int64, dir Direction, limit int) ([]Event, error)

	// ReadAll returns at most limit events of all streams with a position
	// greater than after, in position order. A reader that repeats ReadAll from
	// the last position it saw never skips an event: an event that becomes
	// visible later always has a greater position than every event already
	// visible.
	ReadAll(ctx context.Context, after int64, limit int) ([]Event, error)

	// Head returns the position of the last event in the store, 0 if empty.
	Head(ctx context.Context) (int64, error)

	// Close releases the store's resources; pending appends finish first.
	Close() error
}

// Limits bound what one append may carry.
type Limits struct {
	MaxEventSize       int // bytes of data plus encoded metadata per event
	MaxEventsPerAppend int
	MaxReadLimit       int // largest limit ReadStream and ReadAll accept
}

// DefaultLimits are the limits stores apply unless configured otherwise.
var DefaultLimits = Limits{MaxEventSize: 1 << 20, MaxEventsPerAppend: 10_000, MaxReadLimit: 100_000}

// ValidateAppend checks an append request before a store touches its
// database. Every message names the offending field.
func ValidateAppend(stream string, expected int64, events []Event, lim Limits) error {
	if err := validateStream(stream); err != nil {
		return err
	}
	if expected < ExpectAny {
		return Errorf(EINVALID, "expected_version: must be ExpectAny (-2), ExpectNoStream (-1) or a version >= 0, got %d", expected)
	}
	switch {
	case len(events) == 0:
		return Errorf(EINVALID, "events: at least one event is required")
	case len(events) > lim.MaxEventsPerAppend:
		return Errorf(EINVALID, "events: %d events exceed the limit of %d per append", len(events), lim.MaxEventsPerAppend)
	}
	seen := make(map[string]int, len(events))
	for i, e := range events {
		field := fmt.Sprintf("events[%d]", i)
		if err := validateEvent(field, e, lim); err != nil {
			return err
		}
		if j, dup := seen[e.ID]; dup {
			return Errorf(EINVALID, "%s.id: %s repeats events[%d].id", field, e.ID, j)
		}
		seen[e.ID] = i
	}
	return nil
}

// ValidateRead checks the arguments of ReadStream and ReadAll.
func ValidateRead(stream string, limit int, lim Limits) error {
	if stream != "" {
		if err := validateStream(stream); err != nil {
			return err
		}
	}
	if limit < 1 || limit > lim.MaxReadLimit {
		return Errorf(EINVALID, "limit: must be between 1 and %d, got %d", lim.MaxReadLimit, limit)
	}
	return nil
}

// StreamHead is the end of a stream as a store sees it inside its append
// transaction: the last version (-1 for no stream) and that event's hash.
type StreamHead struct {
	Version int64
	Hash    Hash
}

// PlanAppend applies the append rules shared by every store, given the
// stream's head and the already-stored events that carry any of the new IDs
// (found by ID in any stream). It returns the events to return to the
// caller and whether they must be written; events to write have Stream,
// Version, PrevHash and Hash set, and the store adds Position and RecordedAt.
//
// The rules: if no ID is stored yet, expected must match the head, else
// ECONFLICT. If every ID is stored, in this stream, consecutively, with the
// same content, and where expected says they go, the append is a retry:
// nothing is written and the stored events are returned. Anything else is
// ECONFLICT and nothing is written.
func PlanAppend(stream string, expected int64, head StreamHead, events []Event, stored map[string]Event) (out []Event, write bool, err error) {
	if len(stored) > 0 {
		return planRetry(stream, expected, events, stored)
	}
	switch {
	case expected == ExpectNoStream && head.Version != -1:
		return nil, false, Errorf(ECONFLICT, "expected_version: stream %s already exists (at version %d)", stream, head.Version)
	case expected >= 0 && head.Version != expected:
		return nil, false, Errorf(ECONFLICT, "expected_version: expected %s at version %d, found %s", stream, expected, describeHead(head))
	}
	out = make([]Event, len(events))
	prev := head.Hash
	for i, e := range events {
		e.Stream = stream
		e.Version = head.Version + 1 + int64(i)
		e.Meta = e.Meta.Normalize()
		e.PrevHash = prev
		e.Hash = ComputeHash(prev, e)
		prev = e.Hash
		out[i] = e
	}
	return out, true, nil
}

func planRetry(stream string, expected int64, events []Event, stored map[string]Event) ([]Event, bool, error) {
	for i, e := range events {
		if s, ok := stored[e.ID]; ok && len(stored) < len(events) {
			return nil, false, Errorf(ECONFLICT, "events[%d].id: %s is already stored on stream %s at version %d, beside new events; a retry must repeat exactly the events of the first append", i, e.ID, s.Stream, s.Version)
		}
	}
	out := make([]Event, len(events))
	for i, e := range events {
		s := stored[e.ID]
		switch {
		case s.Stream != stream:
			return nil, false, Errorf(ECONFLICT, "events[%d].id: %s is already stored on stream %s", i, e.ID, s.Stream)
		case i > 0 && s.Version != out[i-1].Version+1:
			return nil, false, Errorf(ECONFLICT, "events[%d].id: %s is stored at version %d, not after events[%d]", i, e.ID, s.Version, i-1)
		}
		e.Stream, e.Version = stream, s.Version
		if !bytes.Equal(ComputeHash(s.PrevHash, e), s.Hash) {
			return nil, false, Errorf(ECONFLICT, "events[%d].id: %s is already stored at %s@%d with different content", i, e.ID, stream, s.Version)
		}
		out[i] = s
	}
	first := out[0].Version
	switch {
	case expected == ExpectNoStream && first != 0,
		expected >= 0 && first != expected+1:
		return nil, false, Errorf(ECONFLICT, "expected_version: events are already stored at %s@%d, not where expected_version %d puts them", stream, first, expected)
	}
	return out, false, nil
}

func describeHead(h StreamHead) string {
	if h.Version < 0 {
		return "no stream"
	}
	return fmt.Sprintf("version %d", h.Version)
}
