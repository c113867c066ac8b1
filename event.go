package houqin

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Event is one immutable business fact, recorded on a stream.
//
// Callers fill ID, Type, Data and Meta; the store assigns Stream, Version,
// Position, RecordedAt, PrevHash and Hash when it appends the event.
type Event struct {
	ID         string          `json:"id"`          // UUID; deterministic, see EventID
	Stream     string          `json:"stream"`      // "<category>-<id>", e.g. "procurement-PR-2026-000123"
	Version    int64           `json:"version"`     // 0-based position in the stream
	Position   int64           `json:"position"`    // global position in $all, from 1, strictly increasing
	Type       string          `json:"type"`        // "<category>.<past_tense_verb>"
	Data       json.RawMessage `json:"data"`        // the payload, a JSON object
	Meta       Metadata        `json:"meta"`        // who, on whose behalf, in which process, when, why
	RecordedAt time.Time       `json:"recorded_at"` // set by the store, UTC, microsecond precision
	PrevHash   Hash            `json:"prev_hash"`   // Hash of the previous event in the stream; nil for version 0
	Hash       Hash            `json:"hash"`        // SHA-256 over PrevHash, Stream, Version, ID, Type, Data and Meta
}

// Metadata says who caused an event, in which process, when and why.
type Metadata struct {
	Actor         string    `json:"actor,omitempty"`          // user ID, or "system"
	OnBehalfOf    string    `json:"on_behalf_of,omitempty"`   // user ID the actor acted for (delegation)
	CorrelationID string    `json:"correlation_id,omitempty"` // the process ID
	CausationID   string    `json:"causation_id,omitempty"`   // the event or request that caused this one
	WorkflowID    string    `json:"workflow_id,omitempty"`
	RunID         string    `json:"run_id,omitempty"`
	OccurredAt    time.Time `json:"occurred_at,omitzero"` // business time; stored in UTC to the microsecond
	PolicyHash    string    `json:"policy_hash,omitempty"`
	Reason        string    `json:"reason,omitempty"`
}

// Encode returns the canonical JSON encoding of m, the bytes the hash covers.
// OccurredAt is normalised (Normalize) so that an event re-encodes
// identically after a round trip through any store.
func (m Metadata) Encode() []byte {
	m = m.Normalize()
	b, err := json.Marshal(m)
	if err != nil { // only strings and a time: cannot fail
		panic(fmt.Sprintf("encode metadata: %v", err))
	}
	return b
}

// Normalize returns m as stores keep it: OccurredAt in UTC, truncated to the
// microsecond (the precision of PostgreSQL timestamps).
func (m Metadata) Normalize() Metadata {
	if !m.OccurredAt.IsZero() {
		m.OccurredAt = m.OccurredAt.UTC().Truncate(time.Microsecond)
	}
	return m
}

// Hash is a SHA-256 digest; it reads and prints as lowercase hex.
type Hash []byte

// String returns the hex form of h.
func (h Hash) String() string { return hex.EncodeToString(h) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*h = nil
		return nil
	}
	d, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	*h = d
	return nil
}

// ComputeHash returns the hash of e given the hash of the event before it in
// its stream. It covers prev, Stream, Version, ID, Type, Data and the canonical
// Meta encoding, each length-prefixed so no two events can collide by
// shifting bytes between fields. Position and RecordedAt are the store's
// bookkeeping and are not covered.
func ComputeHash(prev Hash, e Event) Hash {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	h.Write([]byte("houqin.event.v1"))
	field(prev)
	field([]byte(e.Stream))
	binary.BigEndian.PutUint64(n[:], uint64(e.Version))
	h.Write(n[:])
	field([]byte(e.ID))
	field([]byte(e.Type))
	field(e.Data)
	field(e.Meta.Encode())
	return h.Sum(nil)
}

// Verify re-computes the hash chain of one whole stream, given in version
// order from version 0. It returns an error naming the first event whose
// version, link or hash does not match: proof that an event was altered,
// removed, inserted or reordered after it was written.
func Verify(events []Event) error {
	v := NewVerifier()
	for i, e := range events {
		if e.Stream != events[0].Stream {
			return fmt.Errorf("verify: event %d belongs to stream %q, not %q", i, e.Stream, events[0].Stream)
		}
		if err := v.Add(e); err != nil {
			return err
		}
	}
	return nil
}

// Verifier checks the hash chains of many streams from one pass over $all,
// holding only each stream's last version and hash.
type Verifier struct {
	last    map[string]StreamHead
	Events  int64 // events verified
	Streams int   // streams seen
}

// NewVerifier returns an empty Verifier.
func NewVerifier() *Verifier { return &Verifier{last: map[string]StreamHead{}} }

// Add verifies e against the previous event of its stream that was added.
// Events of each stream must come in version order, starting at 0.
func (v *Verifier) Add(e Event) error {
	head, ok := v.last[e.Stream]
	if !ok {
		head = StreamHead{Version: -1}
		v.Streams++
	}
	switch {
	case e.Version != head.Version+1:
		return fmt.Errorf("verify %s: expected version %d, found %d (an event is missing or out of order)", e.Stream, head.Version+1, e.Version)
	case !bytes.Equal(e.PrevHash, head.Hash):
		return fmt.Errorf("verify %s@%d: prev_hash %s does not match the previous event's hash %s", e.Stream, e.Version, e.PrevHash, head.Hash)
	}
	if got := ComputeHash(head.Hash, e); !bytes.Equal(got, e.Hash) {
		return fmt.Errorf("verify %s@%d: stored hash %s, computed %s (the event was altered)", e.Stream, e.Version, e.Hash, got)
	}
	v.last[e.Stream] = StreamHead{Version: e.Version, Hash: e.Hash}
	v.Events++
	return nil
}

// eventNamespace is the UUIDv5 namespace of deterministic event IDs.
var eventNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://houqin.dev/ns/event"))

// EventID returns a deterministic event ID (UUIDv5) for a key. Workflows use
// "workflowID/runID/sequence"; activities writing aggregates use their
// idempotency key. A retried or replayed writer thus produces the same IDs,
// and the store recognises the event as already written.
func EventID(key ...string) string {
	return uuid.NewSHA1(eventNamespace, []byte(strings.Join(key, "/"))).String()
}

// EventData is the payload of one event type. Each payload type is
// registered once with RegisterEventType, so that Event.Decode can return it.
type EventData interface {
	EventType() string
}

var registry = struct {
	sync.RWMutex
	types map[string]reflect.Type
}{types: map[string]reflect.Type{}}

// RegisterEventType records the payload type of an event type. It panics if
// the type name is invalid or registered twice: both are programming errors.
func RegisterEventType(proto EventData) {
	name := proto.EventType()
	if err := validateType(name); err != nil {
		panic(fmt.Sprintf("register event type: %v", err))
	}
	t := reflect.TypeOf(proto)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	registry.Lock()
	defer registry.Unlock()
	if _, ok := registry.types[name]; ok {
		panic(fmt.Sprintf("register event type: %q registered twice", name))
	}
	registry.types[name] = t
}

// NewEvent builds an event carrying data, ready to append.
func NewEvent(id string, data EventData, meta Metadata) (Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s: %w", data.EventType(), err)
	}
	return Event{ID: id, Type: data.EventType(), Data: b, Meta: meta}, nil
}

// Decode returns e's payload as its registered Go type (a pointer). It returns
// ENOTFOUND if the event type is not registered and EINVALID if the payload
// does not fit the type.
func (e Event) Decode() (EventData, error) {
	registry.RLock()
	t, ok := registry.types[e.Type]
	registry.RUnlock()
	if !ok {
		return nil, Errorf(ENOTFOUND, "type: event type %q is not registered", e.Type)
	}
	v := reflect.New(t)
	if err := json.Unmarshal(e.Data, v.Interface()); err != nil {
		return nil, Errorf(EINVALID, "data: payload of %s@%d does not decode as %s: %v", e.Stream, e.Version, e.Type, err)
	}
	return v.Interface().(EventData), nil
}

// DecodeEvent parses one event in the JSON form Event marshals to (the form
// `houqin events tail` prints), rejecting unknown fields, and validates it.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Event{}, Errorf(EINVALID, "event: %v", err)
	}
	if dec.More() {
		return Event{}, Errorf(EINVALID, "event: trailing data after the JSON object")
	}
	if err := validateStream(e.Stream); err != nil {
		return Event{}, err
	}
	if e.Version < 0 {
		return Event{}, Errorf(EINVALID, "version: must be >= 0, got %d", e.Version)
	}
	if e.Position < 1 {
		return Event{}, Errorf(EINVALID, "position: must be >= 1, got %d", e.Position)
	}
	if err := validateEvent("event", e, DefaultLimits); err != nil {
		return Event{}, err
	}
	e.Meta = e.Meta.Normalize()
	e.RecordedAt = e.RecordedAt.UTC()
	return e, nil
}

// Category returns the category of a stream: the part before the first '-'
// ("procurement" for "procurement-PR-2026-000123").
func Category(stream string) string {
	if i := strings.IndexByte(stream, '-'); i > 0 {
		return stream[:i]
	}
	return stream
}

const (
	maxStreamLen = 256
	maxTypeLen   = 128
)

// validateStream checks a stream name: "<category>-<id>", where the category
// is lowercase letters, digits and '_' starting with a letter, and the id is
// letters, digits and "_.:@-".
func validateStream(s string) error {
	switch {
	case s == "":
		return Errorf(EINVALID, "stream: required")
	case len(s) > maxStreamLen:
		return Errorf(EINVALID, "stream: longer than %d bytes", maxStreamLen)
	}
	i := strings.IndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return Errorf(EINVALID, "stream: %q must look like <category>-<id>", s)
	}
	if !isName(s[:i]) {
		return Errorf(EINVALID, "stream: category %q must be lowercase letters, digits and '_', starting with a letter", s[:i])
	}
	for _, c := range []byte(s[i+1:]) {
		if !(isAlnum(c) || strings.IndexByte("_.:@-", c) >= 0) {
			return Errorf(EINVALID, "stream: %q has a character outside letters, digits and \"_.:@-\"", s)
		}
	}
	return nil
}

// validateType checks an event type: "<category>.<past_tense_verb>".
func validateType(t string) error {
	switch {
	case t == "":
		return Errorf(EINVALID, "type: required")
	case len(t) > maxTypeLen:
		return Errorf(EINVALID, "type: longer than %d bytes", maxTypeLen)
	}
	cat, verb, ok := strings.Cut(t, ".")
	if !ok || !isName(cat) || !isName(verb) {
		return Errorf(EINVALID, "type: %q must look like <category>.<past_tense_verb>, lowercase with '_'", t)
	}
	return nil
}

func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// validateEvent checks what a caller supplies for one event; field prefixes
// the field names in messages ("events[2]").
func validateEvent(field string, e Event, lim Limits) error {
	if u, err := uuid.Parse(e.ID); err != nil || u.String() != e.ID {
		return Errorf(EINVALID, "%s.id: %q is not a lowercase UUID", field, e.ID)
	}
	if err := validateType(e.Type); err != nil {
		return Errorf(EINVALID, "%s.%s", field, ErrorMessage(err))
	}
	if len(e.Data) == 0 {
		return Errorf(EINVALID, "%s.data: required", field)
	}
	if !utf8.Valid(e.Data) || !json.Valid(e.Data) {
		return Errorf(EINVALID, "%s.data: not valid UTF-8 JSON", field)
	}
	if d := bytes.TrimLeft(e.Data, " \t\r\n"); d[0] != '{' {
		return Errorf(EINVALID, "%s.data: must be a JSON object", field)
	}
	for name, v := range map[string]string{
		"actor": e.Meta.Actor, "on_behalf_of": e.Meta.OnBehalfOf, "correlation_id": e.Meta.CorrelationID,
		"causation_id": e.Meta.CausationID, "workflow_id": e.Meta.WorkflowID, "run_id": e.Meta.RunID,
		"policy_hash": e.Meta.PolicyHash, "reason": e.Meta.Reason,
	} {
		if !utf8.ValidString(v) {
			return Errorf(EINVALID, "%s.meta.%s: not valid UTF-8", field, name)
		}
	}
	if y := e.Meta.OccurredAt.Year(); !e.Meta.OccurredAt.IsZero() && (y < 1 || y > 9999) {
		return Errorf(EINVALID, "%s.meta.occurred_at: year %d out of range", field, y)
	}
	if size := len(e.Data) + len(e.Meta.Encode()); size > lim.MaxEventSize {
		return Errorf(EINVALID, "%s: %d bytes of data and metadata exceed the limit of %d", field, size, lim.MaxEventSize)
	}
	return nil
}
