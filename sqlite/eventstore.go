package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/internal/groupcommit"
	"github.com/houqin/houqin/metrics"
	"github.com/prometheus/client_golang/prometheus"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ houqin.EventStore = (*EventStore)(nil)

// Options configure an EventStore; the zero value is usable.
type Options struct {
	Limits         houqin.Limits         // zero: houqin.DefaultLimits
	MaxBatchEvents int                   // group-commit batch bound; zero: 10,000
	Registerer     prometheus.Registerer // nil: no metrics
	Now            func() time.Time      // clock for RecordedAt; nil: time.Now
}

// EventStore is a houqin.EventStore in one SQLite file.
type EventStore struct {
	path   string
	writer *sql.DB // one connection: the group-commit writer
	reader *sql.DB // several connections: WAL readers never block the writer
	queue  *groupcommit.Queue
	limits houqin.Limits

	mu      sync.Mutex
	changed chan struct{} // closed and replaced after each commit that wrote
}

// OpenEventStore opens (creating and migrating it if needed) the event store
// in the SQLite file at path.
func OpenEventStore(ctx context.Context, path string, opt Options) (*EventStore, error) {
	if opt.Limits == (houqin.Limits{}) {
		opt.Limits = houqin.DefaultLimits
	}
	writer, err := open(path, 1, "immediate", "journal_mode(WAL)", "synchronous(FULL)")
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("event store %s: %w", path, err)
	}
	reader, err := open(path, 4, "deferred", "journal_mode(WAL)", "query_only(true)")
	if err != nil {
		writer.Close()
		return nil, err
	}
	s := &EventStore{path: path, writer: writer, reader: reader, limits: opt.Limits, changed: make(chan struct{})}
	s.queue = groupcommit.New(s.begin, groupcommit.Options{
		MaxBatchEvents: opt.MaxBatchEvents,
		Now:            opt.Now,
		Metrics:        metrics.NewStore(opt.Registerer, "sqlite"),
		Committed:      s.broadcast,
	})
	return s, nil
}

// Path returns the database file's path.
func (s *EventStore) Path() string { return s.path }

// Close finishes pending appends and closes the database.
func (s *EventStore) Close() error {
	s.queue.Close()
	return errors.Join(s.writer.Close(), s.reader.Close())
}

// Changed returns a channel that is closed once events are appended by this
// process after the call. Readers in other processes poll.
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
	return s.query(ctx, limit, q, stream, from, limit)
}

// ReadAll implements houqin.EventStore.
func (s *EventStore) ReadAll(ctx context.Context, after int64, limit int) ([]houqin.Event, error) {
	if err := houqin.ValidateRead("", limit, s.limits); err != nil {
		return nil, err
	}
	return s.query(ctx, limit, `SELECT `+columns+` FROM events WHERE position > $1 ORDER BY position LIMIT $2`, after, limit)
}

// Head implements houqin.EventStore.
func (s *EventStore) Head(ctx context.Context) (int64, error) {
	var pos int64
	if err := s.reader.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&pos); err != nil {
		return 0, fmt.Errorf("read head position: %w", err)
	}
	return pos, nil
}

// query runs a read; limit sizes the result slice up front (reads of a
// whole stream are the hot path of every process view).
func (s *EventStore) query(ctx context.Context, limit int, q string, args ...any) ([]houqin.Event, error) {
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return scanEvents(rows, min(limit, 4096))
}

func scanEvents(rows *sql.Rows, capacity int) ([]houqin.Event, error) {
	defer rows.Close()
	events := make([]houqin.Event, 0, capacity)
	for rows.Next() {
		var (
			e                  houqin.Event
			m                  = &e.Meta
			occurred, recorded sql.NullInt64
			data, prev, hash   []byte
		)
		var id []byte
		if err := rows.Scan(&e.Position, &id, &e.Stream, &e.Version, &e.Type, &data,
			&m.Actor, &m.OnBehalfOf, &m.CorrelationID, &m.CausationID, &m.WorkflowID, &m.RunID, &occurred, &m.PolicyHash, &m.Reason,
			&recorded, &prev, &hash); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		if occurred.Valid {
			m.OccurredAt = time.UnixMicro(occurred.Int64).UTC()
		}
		u, err := uuid.FromBytes(id)
		if err != nil {
			return nil, fmt.Errorf("event at position %d: id: %w", e.Position, err)
		}
		e.ID = u.String()
		e.Data, e.RecordedAt, e.PrevHash, e.Hash = data, time.UnixMicro(recorded.Int64).UTC(), prev, hash
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return events, nil
}

// begin opens an append transaction: BEGIN IMMEDIATE takes the write lock.
func (s *EventStore) begin(ctx context.Context) (groupcommit.Tx, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &appendTx{tx: tx}, nil
}

type appendTx struct {
	tx     *sql.Tx
	insert *sql.Stmt
}

func (t *appendTx) LastPosition(ctx context.Context) (int64, error) {
	var pos int64
	err := t.tx.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&pos)
	return pos, err
}

func (t *appendTx) Head(ctx context.Context, stream string) (houqin.StreamHead, error) {
	h := houqin.StreamHead{Version: -1}
	var hash []byte
	err := t.tx.QueryRowContext(ctx, `SELECT version, hash FROM events WHERE stream = $1 ORDER BY version DESC LIMIT 1`, stream).Scan(&h.Version, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return houqin.StreamHead{Version: -1}, nil
	}
	h.Hash = hash
	return h, err
}

func (t *appendTx) Stored(ctx context.Context, ids []string) (map[string]houqin.Event, error) {
	args := make([]any, len(ids))
	marks := make([]string, len(ids))
	for i, id := range ids {
		args[i], marks[i] = uuidBytes(id), fmt.Sprintf("$%d", i+1)
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+columns+` FROM events WHERE id IN (`+strings.Join(marks, ",")+`)`, args...)
	if err != nil {
		return nil, err
	}
	events, err := scanEvents(rows, len(ids))
	if err != nil {
		return nil, err
	}
	stored := make(map[string]houqin.Event, len(events))
	for _, e := range events {
		stored[e.ID] = e
	}
	return stored, nil
}

func (t *appendTx) Insert(ctx context.Context, events []houqin.Event) error {
	if t.insert == nil {
		st, err := t.tx.PrepareContext(ctx, `INSERT INTO events (`+columns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`)
		if err != nil {
			return err
		}
		t.insert = st
	}
	for _, e := range events {
		m := e.Meta
		var occurred any
		if !m.OccurredAt.IsZero() {
			occurred = m.OccurredAt.UnixMicro()
		}
		_, err := t.insert.ExecContext(ctx, e.Position, uuidBytes(e.ID), e.Stream, e.Version, e.Type, string(e.Data),
			m.Actor, m.OnBehalfOf, m.CorrelationID, m.CausationID, m.WorkflowID, m.RunID, occurred, m.PolicyHash, m.Reason,
			e.RecordedAt.UnixMicro(), []byte(e.PrevHash), []byte(e.Hash))
		var se *sqlitedrv.Error
		if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "events.id") {
			return houqin.Errorf(houqin.ECONFLICT, "id: event %s is already stored on another stream", e.ID)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// uuidBytes is the 16-byte form of an ID the store validated as a UUID.
func uuidBytes(id string) []byte {
	u := uuid.MustParse(id)
	return u[:]
}

func (t *appendTx) Commit() error   { return t.tx.Commit() }
func (t *appendTx) Rollback() error { return t.tx.Rollback() }

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
