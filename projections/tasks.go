package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/houqin/houqin"
)

// Tasks is the inbox: every human step of every process, with its assignees,
// due time, allowed actions and outcome. A process that ends leaves none of
// its tasks pending: they become cancelled.
type Tasks struct{}

var _ Projection = Tasks{}

// Name implements Projection.
func (Tasks) Name() string { return "tasks" }

// Version implements Projection.
func (Tasks) Version() int { return 1 }

// Setup implements Projection.
func (Tasks) Setup(ctx context.Context, tx *sql.Tx) error {
	for _, ddl := range []string{
		`CREATE TABLE IF NOT EXISTS tasks (
			id           TEXT PRIMARY KEY,
			process_id   TEXT   NOT NULL,
			kind         TEXT   NOT NULL,
			step         TEXT   NOT NULL,
			assignees    TEXT   NOT NULL, -- JSON array of user ids
			actions      TEXT   NOT NULL, -- JSON array
			due_at       TEXT   NOT NULL,
			status       TEXT   NOT NULL, -- pending | done | cancelled
			opened_at    TEXT   NOT NULL,
			completed_at TEXT   NOT NULL DEFAULT '',
			completed_by TEXT   NOT NULL DEFAULT '',
			action       TEXT   NOT NULL DEFAULT '',
			comment      TEXT   NOT NULL DEFAULT '',
			position     BIGINT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS tasks_process ON tasks (process_id, position)`,
		`CREATE TABLE IF NOT EXISTS task_assignees (
			user_id  TEXT   NOT NULL,
			task_id  TEXT   NOT NULL,
			position BIGINT NOT NULL,
			PRIMARY KEY (user_id, task_id)
		)`,
		`CREATE INDEX IF NOT EXISTS task_assignees_inbox ON task_assignees (user_id, position)`,
	} {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements Projection.
func (Tasks) Reset(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM task_assignees`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM tasks`)
	return err
}

type taskOpened struct {
	Task houqin.Task `json:"task"`
}

type taskCompleted struct {
	TaskID  string `json:"task_id"`
	Action  string `json:"action"`
	Actor   string `json:"actor"`
	Comment string `json:"comment"`
}

// Apply implements Projection.
func (Tasks) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		if status := processEnding(e); status != "" {
			id := strings.TrimPrefix(e.Stream, houqin.Category(e.Stream)+"-")
			if _, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'cancelled', completed_at = $1
				WHERE process_id = $2 AND status = 'pending'`, eventTime(e), id); err != nil {
				return fmt.Errorf("close tasks of %s: %w", id, err)
			}
			continue
		}
		switch e.Type {
		case "task.opened":
			var p taskOpened
			if err := json.Unmarshal(e.Data, &p); err != nil {
				return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
			}
			t := p.Task
			assignees, _ := json.Marshal(t.Assignees)
			actions, _ := json.Marshal(t.Actions)
			if _, err := tx.ExecContext(ctx, `INSERT INTO tasks
				(id, process_id, kind, step, assignees, actions, due_at, status, opened_at, position)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) ON CONFLICT (id) DO NOTHING`,
				t.ID, t.ProcessID, string(t.Kind), t.Step, string(assignees), string(actions),
				formatTime(t.DueAt), eventTime(e), e.Position); err != nil {
				return fmt.Errorf("task %s: %w", t.ID, err)
			}
			for _, u := range t.Assignees {
				if _, err := tx.ExecContext(ctx, `INSERT INTO task_assignees (user_id, task_id, position)
					VALUES ($1, $2, $3) ON CONFLICT (user_id, task_id) DO NOTHING`, u, t.ID, e.Position); err != nil {
					return fmt.Errorf("task %s: %w", t.ID, err)
				}
			}
		case "task.completed":
			var p taskCompleted
			if err := json.Unmarshal(e.Data, &p); err != nil {
				return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'done', completed_at = $1, completed_by = $2,
				action = $3, comment = $4 WHERE id = $5`,
				eventTime(e), firstNonEmpty(p.Actor, e.Meta.Actor), p.Action, p.Comment, p.TaskID); err != nil {
				return fmt.Errorf("task %s: %w", p.TaskID, err)
			}
		}
	}
	return nil
}

// TaskRow is one task of the tasks read model.
type TaskRow struct {
	houqin.Task
	Status      string `json:"status"`
	OpenedAt    string `json:"opened_at"`
	CompletedAt string `json:"completed_at,omitempty"`
	CompletedBy string `json:"completed_by,omitempty"`
	Action      string `json:"action,omitempty"`
	Comment     string `json:"comment,omitempty"`
	Position    int64  `json:"-"`
}

// TaskFilter selects tasks for ListTasks.
type TaskFilter struct {
	Assignee  string // required for the inbox; "" lists all (auditors)
	ProcessID string
	Status    string // pending | done | cancelled | "" for all
	Before    int64  // cursor: tasks opened before this position; 0 = newest
	Limit     int
}

const taskColumns = `t.id, t.process_id, t.kind, t.step, t.assignees, t.actions, t.due_at, t.status, t.opened_at,
	t.completed_at, t.completed_by, t.action, t.comment, t.position`

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
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return scanTasks(rows)
}

// GetTask returns one task, ENOTFOUND if there is none.
func GetTask(ctx context.Context, db *sql.DB, id string) (TaskRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks t WHERE t.id = $1`, id)
	if err != nil {
		return TaskRow{}, fmt.Errorf("read task: %w", err)
	}
	tasks, err := scanTasks(rows)
	if err != nil {
		return TaskRow{}, err
	}
	if len(tasks) == 0 {
		return TaskRow{}, houqin.Errorf(houqin.ENOTFOUND, "task: no task %q", id)
	}
	return tasks[0], nil
}

func scanTasks(rows *sql.Rows) ([]TaskRow, error) {
	defer rows.Close()
	out := []TaskRow{}
	for rows.Next() {
		var (
			t                             TaskRow
			kind, assignees, actions, due string
		)
		if err := rows.Scan(&t.ID, &t.ProcessID, &kind, &t.Step, &assignees, &actions, &due, &t.Status, &t.OpenedAt,
			&t.CompletedAt, &t.CompletedBy, &t.Action, &t.Comment, &t.Position); err != nil {
			return nil, fmt.Errorf("read tasks: %w", err)
		}
		t.Kind, t.DueAt = houqin.ProcessKind(kind), parseTime(due)
		if err := json.Unmarshal([]byte(assignees), &t.Assignees); err != nil {
			return nil, fmt.Errorf("task %s assignees: %w", t.ID, err)
		}
		if err := json.Unmarshal([]byte(actions), &t.Actions); err != nil {
			return nil, fmt.Errorf("task %s actions: %w", t.ID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
