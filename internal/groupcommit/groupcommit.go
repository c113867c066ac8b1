// Package groupcommit lets concurrent Append calls share one database
// transaction and so one fsync: durability costs one disk flush per batch,
// not one per caller. The event store adapters supply the SQL (a Tx); this
// package owns the batching and applies houqin's append rules.
//
// Batching needs no timer: while one batch commits, new calls queue up, and
// the next batch takes all of them. Under light load a batch is one call and
// latency is one commit; under heavy load batches grow and throughput rises.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/metrics"
)

// Tx is one database transaction of an event store, opened by Begin in a way
// that excludes every other writer of the log until Commit or Rollback (a
// SQLite write lock, a PostgreSQL table lock): positions are then handed out
// in commit order, which is what keeps $all readers from skipping events.
type Tx interface {
	// LastPosition returns the greatest position in the log, 0 if empty.
	LastPosition(ctx context.Context) (int64, error)
	// Head returns the stream's last version and hash; Version -1 if none.
	Head(ctx context.Context, stream string) (houqin.StreamHead, error)
	// Stored returns the stored events carrying any of ids, by ID.
	Stored(ctx context.Context, ids []string) (map[string]houqin.Event, error)
	// Insert writes fully prepared events; it may defer the write to Commit.
	// An event ID already stored (on another stream) must come back from
	// Insert or Commit as ECONFLICT naming it.
	Insert(ctx context.Context, events []houqin.Event) error
	Commit() error
	Rollback() error
}

// Begin opens a Tx.
type Begin func(ctx context.Context) (Tx, error)

// Queue serialises appends through one writer goroutine.
type Queue struct {
	begin     Begin
	maxEvents int
	now       func() time.Time
	metrics   *metrics.Store
	committed func() // called after each successful commit that wrote

	calls   chan *call
	mu      sync.RWMutex // guards closed against sends racing Close
	closed  bool
	closing chan struct{}
	done    chan struct{}
}

type call struct {
	ctx      context.Context
	stream   string
	expected int64
	events   []houqin.Event

	out     []houqin.Event
	written int
	err     error
	done    chan struct{}
}

// Options configure a Queue.
type Options struct {
	MaxBatchEvents int              // events per transaction before a batch is cut; default 10,000
	Now            func() time.Time // clock for RecordedAt; default time.Now
	Metrics        *metrics.Store   // may be nil
	Committed      func()           // called after every commit that wrote events; may be nil
}

// New starts a Queue whose writer opens transactions with begin.
func New(begin Begin, opt Options) *Queue {
	if opt.MaxBatchEvents <= 0 {
		opt.MaxBatchEvents = 10_000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Committed == nil {
		opt.Committed = func() {}
	}
	q := &Queue{
		begin: begin, maxEvents: opt.MaxBatchEvents, now: opt.Now, metrics: opt.Metrics, committed: opt.Committed,
		calls: make(chan *call, 1024), closing: make(chan struct{}), done: make(chan struct{}),
	}
	go q.run()
	return q
}

// ErrClosed is returned by Append after Close.
var ErrClosed = houqin.Errorf(houqin.EUNAVAILABLE, "event store is closed")

// Append queues one validated append and waits until its batch committed.
func (q *Queue) Append(ctx context.Context, stream string, expected int64, events []houqin.Event) ([]houqin.Event, error) {
	start := time.Now()
	c := &call{ctx: ctx, stream: stream, expected: expected, events: events, done: make(chan struct{})}
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case q.calls <- c:
		q.mu.RUnlock()
	case <-ctx.Done():
		q.mu.RUnlock()
		return nil, ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the caller must
	// learn whether its events were written.
	<-c.done
	q.metrics.ObserveAppend(start, c.written, c.err)
	return c.out, c.err
}

// Close stops accepting appends, finishes the queued ones, and waits for the
// writer to exit.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.closing)
	}
	q.mu.Unlock()
	<-q.done
}

func (q *Queue) run() {
	defer close(q.done)
	for {
		var first *call
		select {
		case first = <-q.calls:
		case <-q.closing:
			// Finish whatever was queued before Close.
			for {
				select {
				case c := <-q.calls:
					q.commit([]*call{c})
				default:
					return
				}
			}
		}
		batch, n := []*call{first}, len(first.events)
	gather:
		for n < q.maxEvents {
			select {
			case c := <-q.calls:
				batch = append(batch, c)
				n += len(c.events)
			default:
				break gather
			}
		}
		q.commit(batch)
	}
}

// commit runs a batch in one transaction. If the transaction itself fails,
// each call is retried in a transaction of its own, so one call's database
// error is never reported to its neighbours.
func (q *Queue) commit(batch []*call) {
	err := q.tryCommit(batch)
	if err != nil && len(batch) > 1 {
		for _, c := range batch {
			q.commit([]*call{c})
		}
		return
	}
	q.metrics.ObserveBatch(len(batch))
	for _, c := range batch {
		if err != nil {
			c.out, c.written, c.err = nil, 0, err
		}
		close(c.done)
	}
}

func (q *Queue) tryCommit(batch []*call) (err error) {
	ctx := context.Background() // a batch outlives any one caller's context
	tx, err := q.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin append: %w", err)
	}
	committing := false
	defer func() {
		if err != nil && !committing {
			err = errors.Join(err, rollback(tx))
		}
	}()
	last, err := tx.LastPosition(ctx)
	if err != nil {
		return fmt.Errorf("read last position: %w", err)
	}
	heads := map[string]houqin.StreamHead{}
	written := map[string]houqin.Event{}
	wrote := false
	now := q.now().UTC().Truncate(time.Microsecond)
	for _, c := range batch {
		c.out, c.written, c.err = nil, 0, nil
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		head, ok := heads[c.stream]
		if !ok {
			if head, err = tx.Head(ctx, c.stream); err != nil {
				return fmt.Errorf("read head of %s: %w", c.stream, err)
			}
		}
		ids := make([]string, len(c.events))
		for i, e := range c.events {
			ids[i] = e.ID
		}
		// A retry is only possible where the stream has moved past what the
		// caller expects, or with ExpectAny. Otherwise the IDs can only be
		// taken on another stream, which the store's unique index refuses
		// at insert (Tx.Insert returns ECONFLICT, the batch is retried call
		// by call, and only this call fails): no lookup on the hot path.
		stored := map[string]houqin.Event{}
		if !headMatches(c.expected, head) {
			if stored, err = tx.Stored(ctx, ids); err != nil {
				return fmt.Errorf("look up event ids: %w", err)
			}
		}
		for _, id := range ids { // earlier calls of this batch, not yet visible to Stored
			if e, ok := written[id]; ok {
				stored[id] = e
			}
		}
		out, write, err := houqin.PlanAppend(c.stream, c.expected, head, c.events, stored)
		if err != nil {
			c.err = err
			continue
		}
		if write {
			for i := range out {
				last++
				out[i].Position = last
				out[i].RecordedAt = now
				written[out[i].ID] = out[i]
			}
			if err := tx.Insert(ctx, out); err != nil {
				return fmt.Errorf("append %s: %w", c.stream, err)
			}
			heads[c.stream] = houqin.StreamHead{Version: out[len(out)-1].Version, Hash: out[len(out)-1].Hash}
			c.written = len(out)
			wrote = true
		}
		c.out = out
	}
	committing = true
	if err := tx.Commit(); err != nil {
		_ = tx.Rollback() // usually already rolled back by the failed commit
		return fmt.Errorf("commit append: %w", err)
	}
	if wrote {
		q.committed()
	}
	return nil
}

// headMatches reports whether expected names the stream's current head
// exactly (ExpectNoStream for a stream that does not exist).
func headMatches(expected int64, head houqin.StreamHead) bool {
	return expected >= 0 && head.Version == expected || expected == houqin.ExpectNoStream && head.Version == -1
}

func rollback(tx Tx) error {
	if err := tx.Rollback(); err != nil {
		return fmt.Errorf("rollback append: %w", err)
	}
	return nil
}
