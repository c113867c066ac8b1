package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
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
	writer, err := open(path, 1, "immediate", "journal_mode(WAL)", "synchronous(FULL)", "wal_autocheckpoint(10000)")
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
// whole stream are the hot path of every process view). It reads through
// the driver's own rows, below database/sql: for a row of 18 columns that
// spares database/sql's per-column conversion and copy, which was most of
// a stream read's time (docs/BENCHMARKS.md). modernc returns every TEXT as
// a fresh string and every BLOB as a fresh []byte, so the values are kept
// as they come.
func (s *EventStore) query(ctx context.Context, limit int, q string, args ...any) ([]houqin.Event, error) {
	conn, err := s.reader.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer conn.Close()
	var events []houqin.Event
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot query", dc)
		}
		named := make([]driver.NamedValue, len(args))
		for i, a := range args {
			if n, ok := a.(int); ok {
				a = int64(n)
			}
			named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		rows, err := qc.QueryContext(ctx, q, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		events, err = scanEvents(rows, min(limit, 4096))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return events, nil
}

// scanEvents reads the rows of a SELECT of columns.
func scanEvents(rows driver.Rows, capacity int) ([]houqin.Event, error) {
	events := make([]houqin.Event, 0, capacity)
	v := make([]driver.Value, 18)
	for {
		if err := rows.Next(v); err == io.EOF {
			return events, nil
		} else if err != nil {
			return nil, err
		}
		var e houqin.Event
		m := &e.Meta
		e.Position, e.Stream, e.Version, e.Type, e.Data = asInt(v[0]), asString(v[2]), asInt(v[3]), asString(v[4]), asBytes(v[5])
		m.Actor, m.OnBehalfOf, m.CorrelationID, m.CausationID = asString(v[6]), asString(v[7]), asString(v[8]), asString(v[9])
		m.WorkflowID, m.RunID, m.PolicyHash, m.Reason = asString(v[10]), asString(v[11]), asString(v[13]), asString(v[14])
		if v[12] != nil {
			m.OccurredAt = time.UnixMicro(asInt(v[12])).UTC()
		}
		e.RecordedAt, e.PrevHash, e.Hash = time.UnixMicro(asInt(v[15])).UTC(), asBytes(v[16]), asBytes(v[17])
		u, err := uuid.FromBytes(asBytes(v[1]))
		if err != nil {
			return nil, fmt.Errorf("event at position %d: id: %w", e.Position, err)
		}
		e.ID = u.String()
		events = append(events, e)
	}
}

// scanSQLRows is scanEvents for rows of database/sql (the stored-ID lookup
// inside an append transaction).
func scanSQLRows(rows *sql.Rows, capacity int) ([]houqin.Event, error) {
	defer rows.Close()
	events := make([]houqin.Event, 0, capacity)
	v := make([]any, 18)
	ptrs := make([]any, len(v))
	for i := range v {
		ptrs[i] = &v[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		row := make([]driver.Value, len(v))
		for i := range v {
			row[i] = v[i]
		}
		one, err := scanEvents(&valueRows{v: row}, 1)
		if err != nil {
			return nil, err
		}
		events = append(events, one...)
	}
	return events, rows.Err()
}

// valueRows is a driver.Rows holding one row already read.
type valueRows struct {
	v    []driver.Value
	done bool
}

func (r *valueRows) Columns() []string { return nil }
func (r *valueRows) Close() error      { return nil }
func (r *valueRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	copy(dest, r.v)
	return nil
}

func asInt(v driver.Value) int64 {
	n, _ := v.(int64)
	return n
}

func asString(v driver.Value) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func asBytes(v driver.Value) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

// begin opens an append transaction on the writer's one connection:
// BEGIN IMMEDIATE takes the write lock. The transaction is managed by hand
// on a *sql.Conn, not a *sql.Tx, so that Insert can run its statements on
// the driver's connection (sql.Conn.Raw), below database/sql's per-argument
// conversion: the inserts are most of a batch's time.
func (s *EventStore) begin(ctx context.Context) (groupcommit.Tx, error) {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return nil, errors.Join(err, conn.Close())
	}
	return &appendTx{tx: conn}, nil
}

type appendTx struct {
	tx *sql.Conn // in a transaction from begin until Commit or Rollback
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
	events, err := scanSQLRows(rows, len(ids))
	if err != nil {
		return nil, err
	}
	stored := make(map[string]houqin.Event, len(events))
	for _, e := range events {
		stored[e.ID] = e
	}
	return stored, nil
}

const insertEvent = `INSERT INTO events (` + columns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`

func (t *appendTx) Insert(ctx context.Context, events []houqin.Event) error {
	return t.tx.Raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare", dc)
		}
		st, err := pc.PrepareContext(ctx, insertEvent)
		if err != nil {
			return err
		}
		defer st.Close()
		ex, ok := st.(driver.StmtExecContext)
		if !ok {
			return fmt.Errorf("driver statement %T cannot execute", st)
		}
		args := make([]driver.NamedValue, 18)
		for i := range args {
			args[i].Ordinal = i + 1
		}
		for _, e := range events {
			m := e.Meta
			var occurred driver.Value
			if !m.OccurredAt.IsZero() {
				occurred = m.OccurredAt.UnixMicro()
			}
			for i, v := range [18]driver.Value{e.Position, uuidBytes(e.ID), e.Stream, e.Version, e.Type, string(e.Data),
				m.Actor, m.OnBehalfOf, m.CorrelationID, m.CausationID, m.WorkflowID, m.RunID, occurred, m.PolicyHash, m.Reason,
				e.RecordedAt.UnixMicro(), []byte(e.PrevHash), []byte(e.Hash)} {
				args[i].Value = v
			}
			_, err := ex.ExecContext(ctx, args)
			var se *sqlitedrv.Error
			if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "events.id") {
				return houqin.Errorf(houqin.ECONFLICT, "id: event %s is already stored on another stream", e.ID)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
}

// uuidBytes is the 16-byte form of an ID the store validated as a UUID.
func uuidBytes(id string) []byte {
	u := uuid.MustParse(id)
	return u[:]
}

// Commit commits and gives the connection back; a failed COMMIT is rolled
// back, so the connection never returns to the pool inside a transaction.
func (t *appendTx) Commit() error {
	ctx := context.Background()
	if _, err := t.tx.ExecContext(ctx, `COMMIT`); err != nil {
		_, rerr := t.tx.ExecContext(ctx, `ROLLBACK`)
		return errors.Join(err, rerr, t.tx.Close())
	}
	return t.tx.Close()
}

// Rollback rolls back and gives the connection back.
func (t *appendTx) Rollback() error {
	_, err := t.tx.ExecContext(context.Background(), `ROLLBACK`)
	return errors.Join(err, t.tx.Close())
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
