package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/houqin/houqin"
)

// processKinds maps a process stream's category to its kind.
var processKinds = map[string]houqin.ProcessKind{
	"procurement": houqin.KindProcurement,
	"trip":        houqin.KindTrip,
	"inspection":  houqin.KindInspection,
	"event":       houqin.KindEvent,
	"budget":      houqin.KindBudget,
	"issue":       houqin.KindIssue,
	"stocktake":   houqin.KindStocktake,
	"survey":      houqin.KindSurvey,
}

// endings are the event verbs that end a process, with the status they leave.
var endings = map[string]houqin.Status{
	"completed": houqin.StatusCompleted,
	"rejected":  houqin.StatusRejected,
	"withdrawn": houqin.StatusWithdrawn,
	"cancelled": houqin.StatusCancelled,
	"failed":    houqin.StatusFailed,
	"closed":    houqin.StatusCompleted, // survey.closed: a survey ends answered or not
}

// processActionEndings are the events of the approval engine, common to
// every kind ("process.<verb>" on a process stream), that end a process:
// the requester's withdrawal (撤回) and revocation (撤销), and the
// cancellation of its workflow.
var processActionEndings = map[string]houqin.Status{
	"process.withdrawn":  houqin.StatusWithdrawn,
	"process.revoked":    houqin.StatusCancelled,
	"process.cancelled":  houqin.StatusCancelled,
	"process.failed":     houqin.StatusFailed,
	"process.terminated": houqin.StatusTerminated,
}

// Processes is the process list and each process's timeline: one row per
// process (kind, status, requester, the subject it is for if not the
// requester, department, title, amount, whether it is returned to the
// requester), one row per event of its stream, whatever its type.
type Processes struct{}

var _ Projection = Processes{}

// Name implements Projection.
func (Processes) Name() string { return "processes" }

// Version implements Projection. 2: withdrawn and revoked processes, the
// returned flag; 3: the subject.
func (Processes) Version() int { return 3 }

// Setup implements Projection.
func (Processes) Setup(ctx context.Context, tx *sql.Tx) error {
	for _, ddl := range processesDDL {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements Projection: it drops and re-creates the tables, so a
// version change also changes their columns.
func (Processes) Reset(ctx context.Context, tx *sql.Tx) error {
	for _, table := range []string{"timeline", "processes"} {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+table); err != nil {
			return err
		}
	}
	if err := (Processes{}).Setup(ctx, tx); err != nil {
		return err
	}
	// Columns newer than version 1 are indexed here, after the table is
	// created afresh.
	_, err := tx.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS processes_subject ON processes (subject, position)`)
	return err
}

// processesDDL creates the tables; indexes name only columns that version 1
// already had, so Setup never fails on an older database before Reset.
var processesDDL = []string{
	`CREATE TABLE IF NOT EXISTS processes (
			id            TEXT PRIMARY KEY,
			kind          TEXT   NOT NULL,
			status        TEXT   NOT NULL,
			requester     TEXT   NOT NULL,
			subject       TEXT   NOT NULL DEFAULT '', -- whom it is for, if not the requester (a trip's traveller)
			department    TEXT   NOT NULL,
			title         TEXT   NOT NULL,
			amount        BIGINT NOT NULL,
			currency      TEXT   NOT NULL,
			created_at    TEXT   NOT NULL,
			updated_at    TEXT   NOT NULL,
			returned      BIGINT NOT NULL DEFAULT 0, -- 1 while returned (退回) to the requester
			position      BIGINT NOT NULL, -- of the first event: the stable order of lists
			last_position BIGINT NOT NULL
		)`,
	`CREATE INDEX IF NOT EXISTS processes_position ON processes (position)`,
	`CREATE INDEX IF NOT EXISTS processes_requester ON processes (requester, position)`,
	`CREATE TABLE IF NOT EXISTS timeline (
			process_id TEXT   NOT NULL,
			position   BIGINT NOT NULL,
			type       TEXT   NOT NULL,
			actor      TEXT   NOT NULL,
			at         TEXT   NOT NULL,
			data       TEXT   NOT NULL,
			PRIMARY KEY (process_id, position)
		)`,
}

// submitted is what every process's first event carries, whatever its kind.
type submitted struct {
	ProcessID string `json:"process_id"`
	Requester string `json:"requester"`
	Subject   string `json:"subject"`
	Total     int64  `json:"total"`
	Currency  string `json:"currency"`
	Request   struct {
		Department string `json:"department"`
		Reason     string `json:"reason"`
		Purpose    string `json:"purpose"`
		Title      string `json:"title"`
	} `json:"request"`
}

// Apply implements Projection.
func (Processes) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		cat := houqin.Category(e.Stream)
		if part, ok := processParts[cat]; ok && e.Meta.CorrelationID != "" {
			// A part of a process (an inspection's finding) has its own
			// stream; its events are on its process's timeline.
			if err := partEvent(ctx, tx, e, part); err != nil {
				return err
			}
			continue
		}
		kind, ok := processKinds[cat]
		if !ok {
			continue
		}
		id := strings.TrimPrefix(e.Stream, cat+"-")
		if _, _, _, line := ParseBudgetLineStream(e.Stream); line {
			continue // a budget line, not a budget process
		}
		at := eventTime(e)
		if _, err := tx.ExecContext(ctx, `INSERT INTO timeline (process_id, position, type, actor, at, data)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (process_id, position) DO NOTHING`,
			id, e.Position, e.Type, e.Meta.Actor, at, string(e.Data)); err != nil {
			return fmt.Errorf("timeline of %s: %w", id, err)
		}
		switch verb := ProcessEnding(e); {
		case e.Version == 0:
			var s submitted
			if err := json.Unmarshal(e.Data, &s); err != nil {
				return fmt.Errorf("%s@0: %w", e.Stream, err)
			}
			title := firstNonEmpty(s.Request.Title, s.Request.Reason, s.Request.Purpose)
			if _, err := tx.ExecContext(ctx, `INSERT INTO processes
				(id, kind, status, requester, subject, department, title, amount, currency, created_at, updated_at, position, last_position)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $11)
				ON CONFLICT (id) DO NOTHING`,
				id, string(kind), string(houqin.StatusRunning), firstNonEmpty(s.Requester, e.Meta.Actor), subjectBesides(s.Subject, s.Requester),
				s.Request.Department, title, s.Total, firstNonEmpty(s.Currency, "CNY"), at, e.Position); err != nil {
				return fmt.Errorf("process %s: %w", id, err)
			}
		case verb != "":
			if _, err := tx.ExecContext(ctx, `UPDATE processes SET status = $1, returned = 0, updated_at = $2, last_position = $3 WHERE id = $4`,
				string(verb), at, e.Position, id); err != nil {
				return fmt.Errorf("process %s: %w", id, err)
			}
		case e.Type == "process.history_kept":
			// Bookkeeping after the end: on the timeline, not a change.
			if _, err := tx.ExecContext(ctx, `UPDATE processes SET last_position = $1 WHERE id = $2`, e.Position, id); err != nil {
				return fmt.Errorf("process %s: %w", id, err)
			}
		case e.Type == "process.returned" || e.Type == "process.resubmitted":
			returned := 0
			if e.Type == "process.returned" {
				returned = 1
			}
			if _, err := tx.ExecContext(ctx, `UPDATE processes SET returned = $1, updated_at = $2, last_position = $3 WHERE id = $4`,
				returned, at, e.Position, id); err != nil {
				return fmt.Errorf("process %s: %w", id, err)
			}
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE processes SET updated_at = $1, last_position = $2 WHERE id = $3`,
				at, e.Position, id); err != nil {
				return fmt.Errorf("process %s: %w", id, err)
			}
		}
	}
	return nil
}

// processParts are the stream categories of parts of a process, written by
// their own workflows: their events correlate with the process.
var processParts = map[string]houqin.ProcessKind{
	"finding": houqin.KindInspection,
}

// partEvent puts the event of a process's part on the process's timeline.
func partEvent(ctx context.Context, tx *sql.Tx, e houqin.Event, _ houqin.ProcessKind) error {
	id, at := e.Meta.CorrelationID, eventTime(e)
	if _, err := tx.ExecContext(ctx, `INSERT INTO timeline (process_id, position, type, actor, at, data)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (process_id, position) DO NOTHING`,
		id, e.Position, e.Type, e.Meta.Actor, at, string(e.Data)); err != nil {
		return fmt.Errorf("timeline of %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE processes SET updated_at = $1, last_position = $2 WHERE id = $3`,
		at, e.Position, id); err != nil {
		return fmt.Errorf("process %s: %w", id, err)
	}
	return nil
}

// ProcessEnding returns the status an event ends its process with, or "":
// "<kind>.completed" on a process stream completes it, and so on;
// "process.withdrawn" withdraws it and "process.revoked" cancels it. The
// read models and the worker's reconciler share this one rule.
func ProcessEnding(e houqin.Event) houqin.Status {
	cat := houqin.Category(e.Stream)
	if _, ok := processKinds[cat]; !ok {
		return ""
	}
	if s, ok := processActionEndings[e.Type]; ok {
		return s
	}
	typeCat, verb, _ := strings.Cut(e.Type, ".")
	if typeCat != cat {
		return ""
	}
	return endings[verb]
}

// eventTime is when an event happened: its business time if given, else
// when it was recorded; RFC 3339 in UTC, which sorts as text.
func eventTime(e houqin.Event) string {
	t := e.Meta.OccurredAt
	if t.IsZero() {
		t = e.RecordedAt
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// subjectBesides is the subject a first event names, "" if it is the
// requester.
func subjectBesides(subject, requester string) string {
	if subject == requester {
		return ""
	}
	return subject
}

// ProcessRow is one process of the processes read model.
type ProcessRow struct {
	ID         string             `json:"id"`
	Kind       houqin.ProcessKind `json:"kind"`
	Status     houqin.Status      `json:"status"`
	Requester  string             `json:"requester"`
	Subject    string             `json:"subject,omitempty"` // whom it is for, if not the requester (a trip's traveller)
	Department string             `json:"department"`
	Title      string             `json:"title"`
	Amount     int64              `json:"amount"`
	Currency   string             `json:"currency"`
	CreatedAt  string             `json:"created_at"`
	UpdatedAt  string             `json:"updated_at"`
	Returned   bool               `json:"returned"` // returned (退回) to the requester, awaiting resubmission
	Position   int64              `json:"-"`
}

// TimelineEntry is one event of a process, for people.
type TimelineEntry struct {
	Position int64           `json:"position"`
	Type     string          `json:"type"`
	Actor    string          `json:"actor"`
	At       string          `json:"at"`
	Data     json.RawMessage `json:"data"`
}

// ProcessFilter selects processes for ListProcesses.
type ProcessFilter struct {
	Kind   string
	Status string
	Party  string // "" for all; else what this user requested or is the subject of
	Before int64  // cursor: processes started before this position; 0 = newest
	Limit  int
}

const processColumns = `id, kind, status, requester, subject, department, title, amount, currency, created_at, updated_at, returned, position`

// ListProcesses returns processes matching f, newest first.
func ListProcesses(ctx context.Context, db *sql.DB, f ProcessFilter) ([]ProcessRow, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(f.Status))
	}
	if f.Party != "" {
		a := arg(f.Party)
		where = append(where, "(requester = "+a+" OR subject = "+a+")")
	}
	if f.Before > 0 {
		where = append(where, "position < "+arg(f.Before))
	}
	q := `SELECT ` + processColumns + ` FROM processes`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY position DESC LIMIT ` + arg(f.Limit)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	return scanProcesses(rows)
}

// GetProcess returns one process with its timeline, ENOTFOUND if none.
func GetProcess(ctx context.Context, db *sql.DB, id string) (ProcessRow, []TimelineEntry, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+processColumns+` FROM processes WHERE id = $1`, id)
	if err != nil {
		return ProcessRow{}, nil, fmt.Errorf("read process: %w", err)
	}
	ps, err := scanProcesses(rows)
	if err != nil {
		return ProcessRow{}, nil, err
	}
	if len(ps) == 0 {
		return ProcessRow{}, nil, houqin.Errorf(houqin.ENOTFOUND, "process: no process %q", id)
	}
	trows, err := db.QueryContext(ctx, `SELECT position, type, actor, at, data FROM timeline WHERE process_id = $1 ORDER BY position`, id)
	if err != nil {
		return ProcessRow{}, nil, fmt.Errorf("read timeline: %w", err)
	}
	defer trows.Close()
	timeline := []TimelineEntry{}
	for trows.Next() {
		var (
			t    TimelineEntry
			data string
		)
		if err := trows.Scan(&t.Position, &t.Type, &t.Actor, &t.At, &data); err != nil {
			return ProcessRow{}, nil, fmt.Errorf("read timeline: %w", err)
		}
		t.Data = json.RawMessage(data)
		timeline = append(timeline, t)
	}
	return ps[0], timeline, trows.Err()
}

func scanProcesses(rows *sql.Rows) ([]ProcessRow, error) {
	defer rows.Close()
	out := []ProcessRow{}
	for rows.Next() {
		var (
			p            ProcessRow
			kind, status string
			returned     int64
		)
		if err := rows.Scan(&p.ID, &kind, &status, &p.Requester, &p.Subject, &p.Department, &p.Title, &p.Amount, &p.Currency,
			&p.CreatedAt, &p.UpdatedAt, &returned, &p.Position); err != nil {
			return nil, fmt.Errorf("read processes: %w", err)
		}
		p.Kind, p.Status, p.Returned = houqin.ProcessKind(kind), houqin.Status(status), returned != 0
		out = append(out, p)
	}
	return out, rows.Err()
}
