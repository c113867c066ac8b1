package houqin

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"time"
)

// AnchorStream is the stream of audit anchors: periodic, hash-chained records
// of every other stream's head, which let verification notice a stream that
// was removed as a whole.
const AnchorStream = "audit-anchors"

// AccessStreamPrefix starts the name of the daily streams that record every
// read of an audit route; AccessStream names the one of a day.
const AccessStreamPrefix = "audit-access-"

// AccessStream returns the stream recording audit reads on t's day (UTC):
// "audit-access-2026-11-25".
func AccessStream(t time.Time) string {
	return AccessStreamPrefix + t.UTC().Format(time.DateOnly)
}

// AnchorHead is the head of one stream as an anchor recorded it: its last
// version, that event's global position and hash.
type AnchorHead struct {
	Stream   string `json:"stream"`
	Version  int64  `json:"version"`
	Position int64  `json:"position"`
	Hash     Hash   `json:"hash"`
}

// AuditAnchored is one part of an anchor: the heads of every stream but
// AnchorStream, up to global position Position. An anchor with many streams is
// split into Parts events appended together (each stays far below the event
// size limit); every part carries the anchor's sequence number and the digest
// of all its heads.
type AuditAnchored struct {
	Seq      int64        `json:"seq"`      // 1 for the first anchor, then +1
	Part     int          `json:"part"`     // 1..Parts
	Parts    int          `json:"parts"`    // events making up this anchor
	Position int64        `json:"position"` // every event up to this global position is covered
	Streams  int          `json:"streams"`  // heads in the whole anchor
	Digest   Hash         `json:"digest"`   // AnchorDigest of all heads of the anchor
	Heads    []AnchorHead `json:"heads"`    // this part's heads, sorted by stream
}

// EventType implements EventData.
func (AuditAnchored) EventType() string { return "audit.anchored" }

// AuditAccessed records that someone read an audit route: who looked at
// what, and when (the event's OccurredAt).
type AuditAccessed struct {
	User      string `json:"user"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Query     string `json:"query,omitempty"`
	ProcessID string `json:"process_id,omitempty"`
}

// EventType implements EventData.
func (AuditAccessed) EventType() string { return "audit.accessed" }

// AnchorDigest returns the SHA-256 digest of a set of stream heads, in stream
// order, each field length-prefixed. Two anchors with the same heads have the
// same digest whatever order the heads were given in.
func AnchorDigest(heads []AnchorHead) Hash {
	sorted := make([]AnchorHead, len(heads))
	copy(sorted, heads)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Stream < sorted[j].Stream })
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	h.Write([]byte("houqin.anchor.v1"))
	for _, hd := range sorted {
		field([]byte(hd.Stream))
		binary.BigEndian.PutUint64(n[:], uint64(hd.Version))
		h.Write(n[:])
		binary.BigEndian.PutUint64(n[:], uint64(hd.Position))
		h.Write(n[:])
		field(hd.Hash)
	}
	return h.Sum(nil)
}

func init() {
	RegisterEventType(AuditAnchored{})
	RegisterEventType(AuditAccessed{})
}
