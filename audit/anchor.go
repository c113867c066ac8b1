// Package audit answers an auditor's questions from the event store, the
// source of truth: that nothing was altered or removed (Verify, with the
// anchors an Anchorer appends), who did what, when, under which rule and on
// whose behalf (Trail), and what a process looked like at a given moment
// (StateAt).
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/houqin/houqin"
)

// headsPerPart bounds the heads one audit.anchored event carries: about
// 170 bytes each, so a part stays near 350 KiB, well below the event limit.
const headsPerPart = 2000

// readBatch is how many events one ReadAll of a scan asks for.
const readBatch = 10_000

// Anchor describes one anchor: what it covers and the hash that pins it.
type Anchor struct {
	Seq      int64       `json:"seq"`
	Position int64       `json:"position"` // every event up to here is covered
	Streams  int         `json:"streams"`
	Digest   houqin.Hash `json:"digest"`  // AnchorDigest of its heads
	Hash     houqin.Hash `json:"hash"`    // hash of its last event in AnchorStream: export it to pin the whole anchor chain
	Version  int64       `json:"version"` // version of that event in AnchorStream
	At       time.Time   `json:"at"`
}

// Anchorer appends anchors to houqin.AnchorStream: the heads of every other
// stream, folded incrementally from the previous anchor and the events after
// it. Several anchorers may share a store; a lost race is retried.
type Anchorer struct {
	Store    houqin.EventStore
	Interval time.Duration    // Run anchors every Interval; zero: one hour
	Now      func() time.Time // nil: time.Now
	Logger   *slog.Logger     // nil: slog.Default()

	mu      sync.Mutex
	loaded  bool
	heads   map[string]houqin.AnchorHead
	after   int64  // position folded into heads so far
	last    Anchor // the latest anchor; Seq 0 if none
	changed bool   // heads moved since the latest anchor
}

// Run anchors once at once and then every Interval until ctx ends. A failed
// anchor is logged and tried again at the next tick.
func (a *Anchorer) Run(ctx context.Context) error {
	interval := a.Interval
	if interval <= 0 {
		interval = time.Hour
	}
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if an, wrote, err := a.Anchor(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Error("audit anchor", "err", err)
		} else if wrote {
			log.Info("audit anchor", "seq", an.Seq, "position", an.Position, "streams", an.Streams, "hash", an.Hash.String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Anchor appends an anchor covering every event stored so far, unless no
// stream moved since the latest anchor (or the store is empty). It returns
// the latest anchor (Seq 0 if there is none) and whether it wrote it.
func (a *Anchorer) Anchor(ctx context.Context) (Anchor, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for attempt := 0; ; attempt++ {
		an, wrote, err := a.anchor(ctx)
		if houqin.ErrorCode(err) == houqin.ECONFLICT && attempt < 3 {
			a.loaded = false // another anchorer appended: start from its anchor
			continue
		}
		return an, wrote, err
	}
}

func (a *Anchorer) anchor(ctx context.Context) (Anchor, bool, error) {
	if !a.loaded {
		if err := a.load(ctx); err != nil {
			return Anchor{}, false, err
		}
	}
	if err := a.fold(ctx); err != nil {
		return Anchor{}, false, err
	}
	if !a.changed && (a.last.Seq > 0 || len(a.heads) == 0) {
		return a.last, false, nil // nothing moved, or an empty store: nothing to anchor
	}
	heads := make([]houqin.AnchorHead, 0, len(a.heads))
	for _, h := range a.heads {
		heads = append(heads, h)
	}
	sort.Slice(heads, func(i, j int) bool { return heads[i].Stream < heads[j].Stream })
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	seq, digest := a.last.Seq+1, houqin.AnchorDigest(heads)
	parts := max(1, (len(heads)+headsPerPart-1)/headsPerPart)
	meta := houqin.Metadata{Actor: "system", OccurredAt: now(), Reason: "periodic audit anchor"}
	events := make([]houqin.Event, parts)
	for p := range parts {
		chunk := heads[p*headsPerPart : min(len(heads), (p+1)*headsPerPart)]
		e, err := houqin.NewEvent(houqin.EventID(houqin.AnchorStream, strconv.FormatInt(seq, 10), strconv.Itoa(p+1)),
			houqin.AuditAnchored{Seq: seq, Part: p + 1, Parts: parts, Position: a.after, Streams: len(heads), Digest: digest, Heads: chunk}, meta)
		if err != nil {
			return Anchor{}, false, err
		}
		events[p] = e
	}
	expected := houqin.ExpectNoStream
	if a.last.Seq > 0 {
		expected = a.last.Version
	}
	stored, err := a.Store.Append(ctx, houqin.AnchorStream, expected, events...)
	if err != nil {
		return Anchor{}, false, fmt.Errorf("append anchor %d: %w", seq, err)
	}
	end := stored[len(stored)-1]
	a.last = Anchor{Seq: seq, Position: a.after, Streams: len(heads), Digest: digest, Hash: end.Hash, Version: end.Version, At: end.Meta.OccurredAt}
	a.changed = false
	return a.last, true, nil
}

// load starts from the latest anchor in the store, or from nothing.
func (a *Anchorer) load(ctx context.Context) error {
	a.heads, a.after, a.last, a.changed = map[string]houqin.AnchorHead{}, 0, Anchor{}, false
	latest, heads, err := LatestAnchor(ctx, a.Store)
	if err != nil {
		return err
	}
	if latest != nil {
		a.last, a.after = *latest, latest.Position
		for _, h := range heads {
			a.heads[h.Stream] = h
		}
	}
	a.loaded = true
	return nil
}

// fold moves the heads to the end of the log.
func (a *Anchorer) fold(ctx context.Context) error {
	for {
		events, err := a.Store.ReadAll(ctx, a.after, readBatch)
		if err != nil {
			return fmt.Errorf("read events after %d: %w", a.after, err)
		}
		if len(events) == 0 {
			return nil
		}
		for _, e := range events {
			if e.Stream != houqin.AnchorStream {
				a.heads[e.Stream] = houqin.AnchorHead{Stream: e.Stream, Version: e.Version, Position: e.Position, Hash: e.Hash}
				a.changed = true
			}
		}
		a.after = events[len(events)-1].Position
	}
}

// LatestAnchor reads the latest complete anchor and its heads from the
// store; nil if there is none. It returns EINVALID if the anchor's parts
// do not fit together or its heads do not match its digest.
func LatestAnchor(ctx context.Context, store houqin.EventStore) (*Anchor, []houqin.AnchorHead, error) {
	tail, err := store.ReadStream(ctx, houqin.AnchorStream, -1, houqin.Backward, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", houqin.AnchorStream, err)
	}
	if len(tail) == 0 {
		return nil, nil, nil
	}
	last, err := decodeAnchor(tail[0])
	if err != nil {
		return nil, nil, err
	}
	if last.Part != last.Parts || last.Parts < 1 || tail[0].Version+1 < int64(last.Parts) {
		return nil, nil, houqin.Errorf(houqin.EINVALID, "anchor: %s@%d is part %d of %d, not the last part of an anchor", houqin.AnchorStream, tail[0].Version, last.Part, last.Parts)
	}
	events, err := store.ReadStream(ctx, houqin.AnchorStream, tail[0].Version-int64(last.Parts)+1, houqin.Forward, last.Parts)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", houqin.AnchorStream, err)
	}
	var heads []houqin.AnchorHead
	for i, e := range events {
		p, err := decodeAnchor(e)
		if err != nil {
			return nil, nil, err
		}
		if p.Seq != last.Seq || p.Part != i+1 || p.Parts != last.Parts {
			return nil, nil, houqin.Errorf(houqin.EINVALID, "anchor: %s@%d is anchor %d part %d/%d, expected anchor %d part %d/%d",
				houqin.AnchorStream, e.Version, p.Seq, p.Part, p.Parts, last.Seq, i+1, last.Parts)
		}
		heads = append(heads, p.Heads...)
	}
	if got := houqin.AnchorDigest(heads); got.String() != last.Digest.String() || len(heads) != last.Streams {
		return nil, nil, houqin.Errorf(houqin.EINVALID, "anchor: anchor %d lists %d heads with digest %s, but records %d heads with digest %s",
			last.Seq, len(heads), got, last.Streams, last.Digest)
	}
	return &Anchor{Seq: last.Seq, Position: last.Position, Streams: last.Streams, Digest: last.Digest,
		Hash: tail[0].Hash, Version: tail[0].Version, At: tail[0].Meta.OccurredAt}, heads, nil
}

func decodeAnchor(e houqin.Event) (*houqin.AuditAnchored, error) {
	if e.Type != (houqin.AuditAnchored{}).EventType() {
		return nil, houqin.Errorf(houqin.EINVALID, "anchor: %s@%d has type %s, not audit.anchored", e.Stream, e.Version, e.Type)
	}
	d, err := e.Decode()
	if err != nil {
		return nil, err
	}
	return d.(*houqin.AuditAnchored), nil
}
