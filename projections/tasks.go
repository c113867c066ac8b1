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

// Tasks is the inbox: every human step of every process, with its assignees
// (and whom a delegate stands in for), due time, allowed actions, what
// happened to it (transfers, added approvers, reminders, comments,
// escalations) and its outcome; and the processes each user was copied on
// (抄送). A process that ends — completed, rejected, withdrawn, revoked,
// cancelled — leaves none of its tasks pending: they become cancelled.
type Tasks struct{}

var _ Projection = Tasks{}

// Name implements Projection.
func (Tasks) Name() string { return "tasks" }

// Version implements Projection. 2: task names, delegation, the approval
// engine's task events, process copies, due_ms.
func (Tasks) Version() int { return 2 }

// tasksDDL creates the tables of version 2. Indexes name only columns that
// version 1 already had, so Setup never fails on a version 1 database
// before Reset replaces its tables.
var tasksDDL = []string{
	`CREATE TABLE IF NOT EXISTS tasks (
		id                     TEXT PRIMARY KEY,
		process_id             TEXT   NOT NULL,
		kind                   TEXT   NOT NULL,
		step                   TEXT   NOT NULL,
		name                   TEXT   NOT NULL DEFAULT '{}', -- JSON {zh, en}
		assignees              TEXT   NOT NULL,              -- JSON array of user ids
		on_behalf_of           TEXT   NOT NULL DEFAULT '{}', -- JSON {delegate: approver}
		actions                TEXT   NOT NULL,              -- JSON array
		due_at                 TEXT   NOT NULL,
		due_ms                 BIGINT NOT NULL DEFAULT 0,    -- due_at in Unix milliseconds, 0 = none
		status                 TEXT   NOT NULL,              -- pending | done | cancelled
		opened_at              TEXT   NOT NULL,
		explanation            TEXT   NOT NULL DEFAULT '',   -- JSON houqin.Explanation, '' if none
		completed_at           TEXT   NOT NULL DEFAULT '',
		completed_by           TEXT   NOT NULL DEFAULT '',
		completed_on_behalf_of TEXT   NOT NULL DEFAULT '',
		completed_position     BIGINT NOT NULL DEFAULT 0,
		action                 TEXT   NOT NULL DEFAULT '',
		comment                TEXT   NOT NULL DEFAULT '',
		auto                   TEXT   NOT NULL DEFAULT '',   -- timeout | dedup | fallback
		cancel_reason          TEXT   NOT NULL DEFAULT '',
		added                  TEXT   NOT NULL DEFAULT '[]', -- JSON array of AddedApprovers
		transfers              BIGINT NOT NULL DEFAULT 0,
		reminders              BIGINT NOT NULL DEFAULT 0,
		last_reminded_at       TEXT   NOT NULL DEFAULT '',
		comments               BIGINT NOT NULL DEFAULT 0,
		escalations            BIGINT NOT NULL DEFAULT 0,
		position               BIGINT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS tasks_process ON tasks (process_id, position)`,
	`CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, completed_by)`,
	`CREATE TABLE IF NOT EXISTS task_assignees (
		user_id      TEXT   NOT NULL,
		task_id      TEXT   NOT NULL,
		on_behalf_of TEXT   NOT NULL DEFAULT '',
		position     BIGINT NOT NULL,
		PRIMARY KEY (user_id, task_id)
	)`,
	`CREATE INDEX IF NOT EXISTS task_assignees_inbox ON task_assignees (user_id, position)`,
	`CREATE TABLE IF NOT EXISTS process_copies (
		user_id    TEXT   NOT NULL,
		process_id TEXT   NOT NULL,
		kind       TEXT   NOT NULL,
		at         TEXT   NOT NULL, -- start | finish
		copied_at  TEXT   NOT NULL,
		position   BIGINT NOT NULL,
		PRIMARY KEY (user_id, process_id, at)
	)`,
	`CREATE INDEX IF NOT EXISTS process_copies_inbox ON process_copies (user_id, position)`,
}

// Setup implements Projection.
func (Tasks) Setup(ctx context.Context, tx *sql.Tx) error {
	for _, ddl := range tasksDDL {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements Projection: it drops and re-creates the tables, so a
// version change also changes their columns.
func (Tasks) Reset(ctx context.Context, tx *sql.Tx) error {
	for _, table := range []string{"task_assignees", "tasks", "process_copies"} {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+table); err != nil {
			return err
		}
	}
	return Tasks{}.Setup(ctx, tx)
}

// AddedApprover is one 加签 recorded on a task.
type AddedApprover struct {
	Users      []string `json:"users"`
	Position   string   `json:"position"` // before | after | parallel
	By         string   `json:"by"`
	OnBehalfOf string   `json:"on_behalf_of,omitempty"`
	At         string   `json:"at"`
}

// Apply implements Projection.
func (Tasks) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		if err := applyTask(ctx, tx, e); err != nil {
			return fmt.Errorf("%s@%d (%s): %w", e.Stream, e.Version, e.Type, err)
		}
	}
	return nil
}

func applyTask(ctx context.Context, tx *sql.Tx, e houqin.Event) error {
	if status := ProcessEnding(e); status != "" {
		id := processIDOf(e)
		_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'cancelled', completed_at = $1, cancel_reason = $2
			WHERE process_id = $3 AND status = 'pending'`, eventTime(e), "process "+string(status), id)
		return err
	}
	switch e.Type {
	case "task.opened":
		var p houqin.TaskOpened
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		t := p.Task
		explanation := ""
		if p.Explanation != nil {
			b, _ := json.Marshal(p.Explanation)
			explanation = string(b)
		}
		name, _ := json.Marshal(t.Name)
		actions, _ := json.Marshal(nonNil(t.Actions))
		if _, err := tx.ExecContext(ctx, `INSERT INTO tasks
			(id, process_id, kind, step, name, assignees, on_behalf_of, actions, due_at, due_ms, status, opened_at, explanation, position)
			VALUES ($1, $2, $3, $4, $5, '[]', '{}', $6, $7, $8, 'pending', $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
			t.ID, t.ProcessID, string(t.Kind), t.Step, string(name), string(actions),
			formatTime(t.DueAt), dueMillis(t.DueAt), eventTime(e), explanation, e.Position); err != nil {
			return err
		}
		return setAssignees(ctx, tx, t.ID, t.Assignees, t.OnBehalfOf, e.Position)
	case "task.completed":
		var p houqin.TaskCompleted
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'done', completed_at = $1, completed_by = $2,
			completed_on_behalf_of = $3, completed_position = $4, action = $5, comment = $6, auto = $7 WHERE id = $8`,
			eventTime(e), firstNonEmpty(p.Actor, e.Meta.Actor), firstNonEmpty(p.OnBehalfOf, e.Meta.OnBehalfOf),
			e.Position, p.Action, p.Comment, p.Auto, p.TaskID)
		return err
	case "task.cancelled":
		var p houqin.TaskCancelled
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'cancelled', completed_at = $1, cancel_reason = $2
			WHERE id = $3 AND status = 'pending'`, eventTime(e), p.Reason, p.TaskID)
		return err
	case "task.transferred":
		var p houqin.TaskTransferred
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET transfers = transfers + 1 WHERE id = $1`, p.TaskID); err != nil {
			return err
		}
		return replaceAssignees(ctx, tx, p.TaskID, p.Assignees, e.Position)
	case "task.approver_added":
		var p houqin.ApproverAdded
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		var raw string
		switch err := tx.QueryRowContext(ctx, `SELECT added FROM tasks WHERE id = $1`, p.TaskID).Scan(&raw); {
		case err == sql.ErrNoRows:
			return nil
		case err != nil:
			return err
		}
		var added []AddedApprover
		if err := json.Unmarshal([]byte(raw), &added); err != nil {
			return err
		}
		added = append(added, AddedApprover{Users: p.Users, Position: p.Position, By: p.By, OnBehalfOf: p.OnBehalfOf, At: eventTime(e)})
		b, _ := json.Marshal(added)
		_, err := tx.ExecContext(ctx, `UPDATE tasks SET added = $1 WHERE id = $2`, string(b), p.TaskID)
		return err
	case "task.reminded":
		var p houqin.TaskReminded
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE tasks SET reminders = reminders + 1, last_reminded_at = $1 WHERE id = $2`,
			eventTime(e), p.TaskID)
		return err
	case "task.commented":
		var p houqin.TaskCommented
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE tasks SET comments = comments + 1 WHERE id = $1`, p.TaskID)
		return err
	case "task.escalated":
		var p houqin.TaskEscalated
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET escalations = escalations + 1, due_at = $1, due_ms = $2 WHERE id = $3`,
			formatTime(p.DueAt), dueMillis(p.DueAt), p.TaskID); err != nil {
			return err
		}
		return replaceAssignees(ctx, tx, p.TaskID, p.Assignees, e.Position)
	case "process.copied":
		kind, ok := processKinds[houqin.Category(e.Stream)]
		if !ok {
			return nil
		}
		var p houqin.ProcessCopied
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		for _, u := range p.Users {
			if _, err := tx.ExecContext(ctx, `INSERT INTO process_copies (user_id, process_id, kind, at, copied_at, position)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, process_id, at) DO NOTHING`,
				u, processIDOf(e), string(kind), p.At, eventTime(e), e.Position); err != nil {
				return err
			}
		}
	}
	return nil
}

// replaceAssignees sets a task's assignees to users, keeping the delegation
// of those who stay.
func replaceAssignees(ctx context.Context, tx *sql.Tx, taskID string, users []string, position int64) error {
	var raw string
	switch err := tx.QueryRowContext(ctx, `SELECT on_behalf_of FROM tasks WHERE id = $1`, taskID).Scan(&raw); {
	case err == sql.ErrNoRows:
		return nil // a task this read model never saw open
	case err != nil:
		return err
	}
	var obo map[string]string
	if err := json.Unmarshal([]byte(raw), &obo); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM task_assignees WHERE task_id = $1`, taskID); err != nil {
		return err
	}
	return setAssignees(ctx, tx, taskID, users, obo, position)
}

// setAssignees writes a task's assignees and their delegations, dropping the
// delegation entries of users who are not assignees.
func setAssignees(ctx context.Context, tx *sql.Tx, taskID string, users []string, obo map[string]string, position int64) error {
	kept := map[string]string{}
	for _, u := range users {
		if v := obo[u]; v != "" {
			kept[u] = v
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO task_assignees (user_id, task_id, on_behalf_of, position)
			VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, task_id) DO NOTHING`, u, taskID, obo[u], position); err != nil {
			return err
		}
	}
	assignees, _ := json.Marshal(nonNil(users))
	onBehalf, _ := json.Marshal(kept)
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET assignees = $1, on_behalf_of = $2 WHERE id = $3`,
		string(assignees), string(onBehalf), taskID)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// dueMillis is a due time as the tasks table keeps it: Unix milliseconds, 0
// for none. A task is overdue when its due_ms is below now's.
func dueMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// processIDOf is the process ID of an event on a process stream; the
// events of a process's part (an inspection's finding) belong to the
// process they correlate with.
func processIDOf(e houqin.Event) string {
	cat := houqin.Category(e.Stream)
	if _, ok := processParts[cat]; ok && e.Meta.CorrelationID != "" {
		return e.Meta.CorrelationID
	}
	return strings.TrimPrefix(e.Stream, cat+"-")
}

// TaskRow is one task of the tasks read model.
type TaskRow struct {
	houqin.Task
	Status              string           `json:"status"`
	Overdue             bool             `json:"overdue"` // pending and past its due time
	OpenedAt            string           `json:"opened_at"`
	Explanation         *json.RawMessage `json:"explanation,omitempty"` // why these assignees
	CompletedAt         string           `json:"completed_at,omitempty"`
	CompletedBy         string           `json:"completed_by,omitempty"`
	CompletedOnBehalfOf string           `json:"completed_on_behalf_of,omitempty"`
	Action              string           `json:"action,omitempty"`
	Comment             string           `json:"comment,omitempty"`
	Auto                string           `json:"auto,omitempty"`          // why the system decided: timeout | dedup | fallback
	CancelReason        string           `json:"cancel_reason,omitempty"` // why a cancelled task closed
	Added               []AddedApprover  `json:"added,omitempty"`
	Transfers           int              `json:"transfers"`
	Reminders           int              `json:"reminders"`
	LastRemindedAt      string           `json:"last_reminded_at,omitempty"`
	Comments            int              `json:"comments"`
	Escalations         int              `json:"escalations"`
	Position            int64            `json:"-"`
	CompletedPosition   int64            `json:"-"`
}

// TaskFilter selects tasks for ListTasks.
type TaskFilter struct {
	Assignee  string // required for the inbox; "" lists all (auditors)
	ProcessID string
	Status    string    // pending | done | cancelled | "" for all
	Before    int64     // cursor: tasks opened before this position; 0 = newest
	Now       time.Time // the moment Overdue is judged at; zero = time.Now()
	Limit     int
}

const taskColumns = `t.id, t.process_id, t.kind, t.step, t.name, t.assignees, t.on_behalf_of, t.actions, t.due_at, t.status,
	t.opened_at, t.explanation, t.completed_at, t.completed_by, t.completed_on_behalf_of, t.action, t.comment, t.auto,
	t.cancel_reason, t.added, t.transfers, t.reminders, t.last_reminded_at, t.comments, t.escalations, t.position,
	t.completed_position`

// ListTasks returns tasks matching f, newest first.
func ListTasks(ctx context.Context, db *sql.DB, f TaskFilter) ([]TaskRow, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	from := `tasks t`
	if f.Assignee != "" {
		from = `task_assignees a JOIN tasks t ON t.id = a.task_id`
		where = append(where, "a.user_id = "+arg(f.Assignee))
	}
	if f.ProcessID != "" {
		where = append(where, "t.process_id = "+arg(f.ProcessID))
	}
	if f.Status != "" {
		where = append(where, "t.status = "+arg(f.Status))
	}
	if f.Before > 0 {
		where = append(where, "t.position < "+arg(f.Before))
	}
	q := `SELECT ` + taskColumns + ` FROM ` + from
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY t.position DESC LIMIT ` + arg(f.Limit)
	return queryTasks(ctx, db, f.Now, q, args...)
}

// GetTask returns one task, ENOTFOUND if there is none.
func GetTask(ctx context.Context, db *sql.DB, id string) (TaskRow, error) {
	tasks, err := queryTasks(ctx, db, time.Time{}, `SELECT `+taskColumns+` FROM tasks t WHERE t.id = $1`, id)
	if err != nil {
		return TaskRow{}, err
	}
	if len(tasks) == 0 {
		return TaskRow{}, houqin.Errorf(houqin.ENOTFOUND, "task: no task %q", id)
	}
	return tasks[0], nil
}

func queryTasks(ctx context.Context, db *sql.DB, now time.Time, q string, args ...any) ([]TaskRow, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	defer rows.Close()
	return scanTasks(rows, now)
}

// scanTasks reads rows of taskColumns, judging overdue at now (time.Now
// if zero).
func scanTasks(rows *sql.Rows, now time.Time) ([]TaskRow, error) {
	if now.IsZero() {
		now = time.Now()
	}
	out := []TaskRow{}
	for rows.Next() {
		var (
			t                                                    TaskRow
			kind, name, assignees, obo, actions, due, why, added string
		)
		if err := rows.Scan(&t.ID, &t.ProcessID, &kind, &t.Step, &name, &assignees, &obo, &actions, &due, &t.Status,
			&t.OpenedAt, &why, &t.CompletedAt, &t.CompletedBy, &t.CompletedOnBehalfOf, &t.Action, &t.Comment, &t.Auto,
			&t.CancelReason, &added, &t.Transfers, &t.Reminders, &t.LastRemindedAt, &t.Comments, &t.Escalations,
			&t.Position, &t.CompletedPosition); err != nil {
			return nil, fmt.Errorf("read tasks: %w", err)
		}
		t.Kind, t.DueAt = houqin.ProcessKind(kind), parseTime(due)
		for _, f := range []struct {
			col string
			raw string
			v   any
		}{{"name", name, &t.Name}, {"assignees", assignees, &t.Assignees}, {"on_behalf_of", obo, &t.OnBehalfOf},
			{"actions", actions, &t.Actions}, {"added", added, &t.Added}} {
			if err := json.Unmarshal([]byte(f.raw), f.v); err != nil {
				return nil, fmt.Errorf("task %s %s: %w", t.ID, f.col, err)
			}
		}
		if len(t.OnBehalfOf) == 0 {
			t.OnBehalfOf = nil
		}
		if why != "" {
			raw := json.RawMessage(why)
			t.Explanation = &raw
		}
		t.Overdue = t.Status == "pending" && overdue(dueMillis(t.DueAt), now)
		out = append(out, t)
	}
	return out, rows.Err()
}
