package audit

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/houqin/houqin"
)

// Finding is one piece of evidence that the log was tampered with: the event
// (or, for a removed stream, the head an anchor recorded) and why.
type Finding struct {
	Stream   string `json:"stream"`
	Version  int64  `json:"version"`
	Position int64  `json:"position,omitempty"`
	ID       string `json:"id,omitempty"`
	Reason   string `json:"reason"`
}

// String formats f for people: "procurement-PR-1@2 (position 7, id …): reason".
func (f Finding) String() string {
	s := fmt.Sprintf("%s@%d", f.Stream, f.Version)
	if f.Position > 0 {
		s += fmt.Sprintf(" position %d", f.Position)
	}
	if f.ID != "" {
		s += " id " + f.ID
	}
	return s + ": " + f.Reason
}

// Report is the outcome of Verify. OK is true when there are no findings.
type Report struct {
	OK       bool      `json:"ok"`
	Events   int64     `json:"events"`   // events whose hash was recomputed
	Streams  int       `json:"streams"`  // streams seen
	Position int64     `json:"position"` // verified up to this global position
	Anchor   *Anchor   `json:"anchor"`   // the latest anchor, checked against the log; nil if none
	Findings []Finding `json:"findings"` // the first one is the first broken event
	Warnings []string  `json:"warnings"`
	Took     string    `json:"took"`
}

// VerifyOptions tune Verify; the zero value is usable.
type VerifyOptions struct {
	// ExpectAnchor is the hash of an anchor exported earlier (houqin audit
	// anchor --print); Verify then requires it to be in the anchor chain,
	// which detects a truncated or rewritten anchor stream.
	ExpectAnchor houqin.Hash
	MaxFindings  int                    // stop collecting after this many; zero: 100
	Progress     func(done, head int64) // called after each batch, if set
}

type streamState struct {
	head   houqin.StreamHead
	broken bool
}

// Verify recomputes the hash chain of every stream in one pass over $all up
// to the current head, and checks the latest anchor against the log: every
// stream it recorded must still exist and hold, at the recorded version,
// the recorded hash at the recorded position. It returns an error only when
// the store cannot be read; tampering is reported as findings.
func Verify(ctx context.Context, store houqin.EventStore, opt VerifyOptions) (Report, error) {
	start := time.Now()
	if opt.MaxFindings <= 0 {
		opt.MaxFindings = 100
	}
	rep := Report{Findings: []Finding{}, Warnings: []string{}}
	add := func(f Finding) {
		if len(rep.Findings) < opt.MaxFindings {
			rep.Findings = append(rep.Findings, f)
		}
	}
	anchor, heads, err := LatestAnchor(ctx, store)
	if houqin.ErrorCode(err) == houqin.EINVALID {
		add(Finding{Stream: houqin.AnchorStream, Version: -1, Reason: houqin.ErrorMessage(err)})
	} else if err != nil {
		return rep, err
	}
	rep.Anchor = anchor
	anchored := make(map[string]houqin.AnchorHead, len(heads))
	for _, h := range heads {
		anchored[h.Stream] = h
	}
	matched := make(map[string]bool, len(heads))

	end, err := store.Head(ctx)
	if err != nil {
		return rep, fmt.Errorf("read head: %w", err)
	}
	streams := map[string]*streamState{}
	foundExpected := false
	after := int64(0)
pass:
	for after < end {
		events, err := store.ReadAll(ctx, after, readBatch)
		if err != nil {
			return rep, fmt.Errorf("read events after %d: %w", after, err)
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			if e.Position > end { // appended after the pass began
				break pass
			}
			after = e.Position
			st := streams[e.Stream]
			if st == nil {
				st = &streamState{head: houqin.StreamHead{Version: -1}}
				streams[e.Stream] = st
			}
			if st.broken {
				continue
			}
			if reason := checkLink(st.head, e); reason != "" {
				st.broken = true
				add(Finding{Stream: e.Stream, Version: e.Version, Position: e.Position, ID: e.ID, Reason: reason})
				continue
			}
			st.head = houqin.StreamHead{Version: e.Version, Hash: e.Hash}
			rep.Events++
			if h, ok := anchored[e.Stream]; ok && h.Version == e.Version {
				matched[e.Stream] = true
				switch {
				case !bytes.Equal(h.Hash, e.Hash):
					add(Finding{Stream: e.Stream, Version: e.Version, Position: e.Position, ID: e.ID,
						Reason: fmt.Sprintf("hash %s, but anchor %d recorded %s at this version: the stream was rewritten", e.Hash, anchor.Seq, h.Hash)})
				case h.Position != e.Position:
					add(Finding{Stream: e.Stream, Version: e.Version, Position: e.Position, ID: e.ID,
						Reason: fmt.Sprintf("at position %d, but anchor %d recorded position %d: the event was moved in the log", e.Position, anchor.Seq, h.Position)})
				}
			}
			if len(opt.ExpectAnchor) > 0 && e.Stream == houqin.AnchorStream && bytes.Equal(e.Hash, opt.ExpectAnchor) {
				foundExpected = true
			}
		}
		if opt.Progress != nil {
			opt.Progress(after, end)
		}
	}
	rep.Position, rep.Streams = after, len(streams)
	if anchor != nil {
		for _, h := range heads {
			st := streams[h.Stream]
			switch {
			case matched[h.Stream] || (st != nil && st.broken):
			case st == nil:
				add(Finding{Stream: h.Stream, Version: h.Version, Position: h.Position,
					Reason: fmt.Sprintf("stream is missing: anchor %d recorded it at version %d with hash %s; the stream was removed", anchor.Seq, h.Version, h.Hash)})
			default:
				add(Finding{Stream: h.Stream, Version: h.Version, Position: h.Position,
					Reason: fmt.Sprintf("stream ends at version %d, but anchor %d recorded version %d with hash %s: events were removed from its end", st.head.Version, anchor.Seq, h.Version, h.Hash)})
			}
		}
	} else if rep.Events > 0 {
		rep.Warnings = append(rep.Warnings, "no anchor yet: a stream removed as a whole, or events removed from the end of a stream, cannot be detected (run houqin audit anchor)")
	}
	if len(opt.ExpectAnchor) > 0 && !foundExpected {
		add(Finding{Stream: houqin.AnchorStream, Version: -1,
			Reason: fmt.Sprintf("the exported anchor %s is not in the anchor chain: the anchor stream was truncated or rewritten", opt.ExpectAnchor)})
	}
	rep.OK = len(rep.Findings) == 0
	rep.Took = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

// checkLink says why e does not follow head in its stream, or "".
func checkLink(head houqin.StreamHead, e houqin.Event) string {
	switch want := head.Version + 1; {
	case e.Version > want:
		return fmt.Sprintf("version %d follows version %d in the log: %s removed or moved", e.Version, head.Version, versions(want, e.Version-1))
	case e.Version < want:
		return fmt.Sprintf("version %d comes after version %d in the log: events were reordered or duplicated", e.Version, head.Version)
	case !bytes.Equal(e.PrevHash, head.Hash):
		return fmt.Sprintf("prev_hash %s does not match the hash %s of version %d: an earlier event was replaced", e.PrevHash, head.Hash, head.Version)
	}
	if got := houqin.ComputeHash(head.Hash, e); !bytes.Equal(got, e.Hash) {
		return fmt.Sprintf("stored hash %s, computed %s: the event's content was altered", e.Hash, got)
	}
	return ""
}

func versions(from, to int64) string {
	if from == to {
		return fmt.Sprintf("version %d was", from)
	}
	return fmt.Sprintf("versions %d–%d were", from, to)
}
