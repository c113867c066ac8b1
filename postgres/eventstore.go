package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/internal/groupcommit"
	"github.com/houqin/houqin/metrics"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

var _ houqin.EventStore = (*EventStore)(nil)

// Options configure an EventStore; the zero value is usable.
type Options struct {
	Limits         houqin.Limits         // zero: houqin.DefaultLimits
	MaxBatchEvents int                   // group-commit batch bound; zero: 10,000
	Registerer     prometheus.Registerer // nil: no metrics
	Now            func() time.Time      // clock for RecordedAt; nil: time.Now
	Logger         *slog.Logger          // nil: slog.Default()
}

// EventStore is a houqin.EventStore in a PostgreSQL database.
type EventStore struct {
	pool   *pgxpool.Pool
	queue  *groupcommit.Queue
	limits houqin.Limits
	log    *slog.Logger

	mu      sync.Mutex
	changed chan struct{}
	stop    context.CancelFunc
	stopped chan struct{}
}

// OpenEventStore connects to dsn, migrates the schema (in the DSN's
// search_path) and starts listening for appends.
func OpenEventStore(ctx context.Context, dsn string, opt Options) (*EventStore, error) {
	if opt.Limits == (houqin.Limits{}) {
		opt.Limits = houqin.DefaultLimits
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	pool, err := OpenPool(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("event store: %w", err)
	}
	lctx, stop := context.WithCancel(context.Background())
	s := &EventStore{pool: pool, limits: opt.Limits, log: opt.Logger,
		changed: make(chan struct{}), stop: stop, stopped: make(chan struct{})}
	s.queue = groupcommit.New(s.begin, groupcommit.Options{
		MaxBatchEvents: opt.MaxBatchEvents,
		Now:            opt.Now,
		Metrics:        metrics.NewStore(opt.Registerer, "postgres"),
	})
	ready := make(chan struct{})
	go s.listen(lctx, ready)
	select { // appends right after Open must already wake listeners
	case <-ready:
	case <-time.After(5 * time.Second):
		s.log.Warn("event notifications not listening yet; readers poll until they are")
	}
	return s, nil
}

// Pool returns the connection pool, for read models in the same database.
func (s *EventStore) Pool() *pgxpool.Pool { return s.pool }

// Close finishes pending appends, stops listening and closes the pool.
func (s *EventStore) Close() error {
	s.queue.Close()
	s.stop()
	<-s.stopped
	s.pool.Close()
	return nil
}

// Changed returns a channel that is closed once events are appended, by any
// process, after the call (LISTEN houqin_events). While the listening
// connection is down the channel is closed every second, so readers poll.
func (s *EventStore) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *EventStore) broadcast() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *EventStore) listen(ctx context.Context, ready chan struct{}) {
	defer close(s.stopped)
	var once sync.Once
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, func() { once.Do(func() { close(ready) }) })
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("event notifications interrupted; readers poll until they resume", "err", err)
		s.broadcast()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *EventStore) listenOnce(ctx context.Context, listening func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	listening()
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			// The connection may be mid-wait; never return it to the pool.
			conn.Conn().Close(context.Background())
			return err
		}
		s.broadcast()
	}
}

// Append implements houqin.EventStore.
func (s *EventStore) Append(ctx context.Context, stream string, expected int64, events ...houqin.Event) ([]houqin.Event, error) {
	if err := houqin.ValidateAppend(stream, expected, events, s.limits); err != nil {
		return nil, err
	}
	return s.queue.Append(ctx, stream, expected, events)
}

const columns = `position, id, stream, version, type, data, actor, on_behalf_of, correlation_id, causation_id,
	workflow_id, run_id, occurred_at, policy_hash, reason, recorded_at, prev_hash, hash`

// ReadStream implements houqin.EventStore.
func (s *EventStore) ReadStream(ctx context.Context, stream string, from int64, dir houqin.Direction, limit int) ([]houqin.Event, error) {
	if err := houqin.ValidateRead(stream, limit, s.limits); err != nil {
		return nil, err
	}
	q := `SELECT ` + columns + ` FROM events WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3`
	if dir == houqin.Backward {
		if from < 0 {
			from = 1<<63 - 1
		}
		q = `SELECT ` + columns + ` FROM events WHERE stream = $1 AND version <= $2 ORDER BY version DESC LIMIT $3`
	}
	return query(ctx, s.pool, q, stream, from, limit)
}

// ReadAll implements houqin.EventStore.
func (s *EventStore) ReadAll(ctx context.Context, after int64, limit int) ([]houqin.Event, error) {
	if err := houqin.ValidateRead("", limit, s.limits); err != nil {
		return nil, err
	}
	return query(ctx, s.pool, `SELECT `+columns+` FROM events WHERE position > $1 ORDER BY position LIMIT $2`, after, limit)
}

// Head implements houqin.EventStore.
func (s *EventStore) Head(ctx context.Context) (int64, error) {
	var pos int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&pos); err != nil {
		return 0, fmt.Errorf("read head position: %w", err)
	}
	return pos, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func query(ctx context.Context, q querier, sql string, args ...any) ([]houqin.Event, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	events := []houqin.Event{}
	for rows.Next() {
		var (
			e          houqin.Event
			m          = &e.Meta
			occurred   *time.Time
			prev, hash []byte
		)
		if err := rows.Scan(&e.Position, &e.ID, &e.Stream, &e.Version, &e.Type, &e.Data,
			&m.Actor, &m.OnBehalfOf, &m.CorrelationID, &m.CausationID, &m.WorkflowID, &m.RunID, &occurred, &m.PolicyHash, &m.Reason,
			&e.RecordedAt, &prev, &hash); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		if occurred != nil {
			m.OccurredAt = occurred.UTC()
		}
		e.RecordedAt = e.RecordedAt.UTC()
		e.PrevHash, e.Hash = prev, hash
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return events, nil
}

// begin opens an append transaction holding the writers' table lock.
func (s *EventStore) begin(ctx context.Context) (groupcommit.Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE events IN EXCLUSIVE MODE`); err != nil {
		return nil, errors.Join(err, tx.Rollback(ctx))
	}
	return &appendTx{tx: tx}, nil
}

// appendTx buffers inserted rows and writes them with one COPY at commit.
type appendTx struct {
	tx   pgx.Tx
	rows [][]any
	last int64
}

func (t *appendTx) LastPosition(ctx context.Context) (int64, error) {
	var pos int64
	err := t.tx.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&pos)
	return pos, err
}

func (t *appendTx) Head(ctx context.Context, stream string) (houqin.StreamHead, error) {
	h := houqin.StreamHead{Version: -1}
	var hash []byte
	err := t.tx.QueryRow(ctx, `SELECT version, hash FROM events WHERE stream = $1 ORDER BY version DESC LIMIT 1`, stream).Scan(&h.Version, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return houqin.StreamHead{Version: -1}, nil
	}
	h.Hash = hash
	return h, err
}

func (t *appendTx) Stored(ctx context.Context, ids []string) (map[string]houqin.Event, error) {
	events, err := query(ctx, t.tx, `SELECT `+columns+` FROM events WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	stored := make(map[string]houqin.Event, len(events))
	for _, e := range events {
		stored[e.ID] = e
	}
	return stored, nil
}

func (t *appendTx) Insert(_ context.Context, events []houqin.Event) error {
	for _, e := range events {
		m := e.Meta
		var occurred *time.Time
		if !m.OccurredAt.IsZero() {
			occurred = &m.OccurredAt
		}
		t.rows = append(t.rows, []any{e.Position, e.ID, e.Stream, e.Version, e.Type, []byte(e.Data),
			m.Actor, m.OnBehalfOf, m.CorrelationID, m.CausationID, m.WorkflowID, m.RunID, occurred, m.PolicyHash, m.Reason,
			e.RecordedAt, []byte(e.PrevHash), []byte(e.Hash)})
		t.last = e.Position
	}
	return nil
}

func (t *appendTx) Commit() error {
	ctx := context.Background()
	if len(t.rows) > 0 {
		cols := []string{"position", "id", "stream", "version", "type", "data", "actor", "on_behalf_of", "correlation_id",
			"causation_id", "workflow_id", "run_id", "occurred_at", "policy_hash", "reason", "recorded_at", "prev_hash", "hash"}
		if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"events"}, cols, pgx.CopyFromRows(t.rows)); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "events_id_key" {
				return houqin.Errorf(houqin.ECONFLICT, "id: an event is already stored on another stream (%s)", pe.Detail)
			}
			return fmt.Errorf("copy events: %w", err)
		}
		if _, err := t.tx.Exec(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, strconv.FormatInt(t.last, 10)); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	return t.tx.Commit(ctx)
}

func (t *appendTx) Rollback() error { return t.tx.Rollback(context.Background()) }
