package projections

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/houqin/houqin"
)

// Inbox is one user's work at a glance (the tasks read model, and the
// processes read model for what was copied): each section holds at most
// the limit GetInbox was given.
type Inbox struct {
	// Pending are the open tasks assigned to the user in their own right,
	// the soonest due first.
	Pending []TaskRow `json:"pending"`
	// Delegated are the open tasks the user holds as a delegate of another
	// approver (TaskRow.OnBehalfOf names whom), the soonest due first.
	Delegated []TaskRow `json:"delegated"`
	// Copied are the processes the user was copied on (抄送), newest first.
	Copied []CopiedProcess `json:"copied"`
	// Handled are the tasks the user completed (approved, rejected,
	// returned, completed …), the most recent first.
	Handled []TaskRow `json:"handled"`
	// Counts are the full sizes of the open sections, which the lists may
	// cut: pending, delegated and overdue (of both).
	Counts InboxCounts `json:"counts"`
}

// InboxCounts are the sizes of an inbox's open sections.
type InboxCounts struct {
	Pending   int `json:"pending"`
	Delegated int `json:"delegated"`
	Overdue   int `json:"overdue"`
}

// CopiedProcess is a process a user was copied on.
type CopiedProcess struct {
	ProcessID string             `json:"process_id"`
	Kind      houqin.ProcessKind `json:"kind"`
	At        string             `json:"at"` // start | finish: when in the process the copy was sent
	CopiedAt  string             `json:"copied_at"`
	Title     string             `json:"title"`
	Status    houqin.Status      `json:"status"`
	Requester string             `json:"requester"`
	Position  int64              `json:"-"`
}

// GetInbox returns user's inbox as of now (which decides what is overdue),
// each section cut at limit.
func GetInbox(ctx context.Context, db *sql.DB, user string, now time.Time, limit int) (Inbox, error) {
	var (
		in  Inbox
		err error
	)
	open := `SELECT ` + taskColumns + ` FROM task_assignees a JOIN tasks t ON t.id = a.task_id
		WHERE a.user_id = $1 AND t.status = 'pending' AND a.on_behalf_of %s ''
		ORDER BY CASE WHEN t.due_ms = 0 THEN 1 ELSE 0 END, t.due_ms, t.position LIMIT $2`
	if in.Pending, err = queryTasks(ctx, db, now, fmt.Sprintf(open, "="), user, limit); err != nil {
		return Inbox{}, err
	}
	if in.Delegated, err = queryTasks(ctx, db, now, fmt.Sprintf(open, "<>"), user, limit); err != nil {
		return Inbox{}, err
	}
	if in.Handled, err = queryTasks(ctx, db, now, `SELECT `+taskColumns+` FROM tasks t
		WHERE t.completed_by = $1 AND t.status = 'done' ORDER BY t.completed_position DESC LIMIT $2`, user, limit); err != nil {
		return Inbox{}, err
	}
	rows, err := db.QueryContext(ctx, `SELECT c.process_id, c.kind, c.at, c.copied_at,
		COALESCE(p.title, ''), COALESCE(p.status, ''), COALESCE(p.requester, ''), c.position
		FROM process_copies c LEFT JOIN processes p ON p.id = c.process_id
		WHERE c.user_id = $1 ORDER BY c.position DESC LIMIT $2`, user, limit)
	if err != nil {
		return Inbox{}, fmt.Errorf("read copies: %w", err)
	}
	defer rows.Close()
	in.Copied = []CopiedProcess{}
	for rows.Next() {
		var (
			c            CopiedProcess
			kind, status string
		)
		if err := rows.Scan(&c.ProcessID, &kind, &c.At, &c.CopiedAt, &c.Title, &status, &c.Requester, &c.Position); err != nil {
			return Inbox{}, fmt.Errorf("read copies: %w", err)
		}
		c.Kind, c.Status = houqin.ProcessKind(kind), houqin.Status(status)
		in.Copied = append(in.Copied, c)
	}
	if err := rows.Err(); err != nil {
		return Inbox{}, fmt.Errorf("read copies: %w", err)
	}
	err = db.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN a.on_behalf_of = '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN a.on_behalf_of <> '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN t.due_ms > 0 AND t.due_ms < $2 THEN 1 ELSE 0 END), 0)
		FROM task_assignees a JOIN tasks t ON t.id = a.task_id
		WHERE a.user_id = $1 AND t.status = 'pending'`, user, nowMillis(now)).
		Scan(&in.Counts.Pending, &in.Counts.Delegated, &in.Counts.Overdue)
	if err != nil {
		return Inbox{}, fmt.Errorf("count inbox: %w", err)
	}
	return in, nil
}

// nowMillis is now in Unix milliseconds, time.Now if zero: the tasks whose
// due_ms is below it are overdue.
func nowMillis(now time.Time) int64 {
	if now.IsZero() {
		now = time.Now()
	}
	return now.UnixMilli()
}

// overdue reports whether a task due at dueMs (0: no due time) is overdue
// at now; the SQL of the inbox counts and metrics applies the same rule.
func overdue(dueMs int64, now time.Time) bool { return dueMs > 0 && dueMs < nowMillis(now) }

// CopiedTo reports whether a process was copied (抄送) to a user.
func CopiedTo(ctx context.Context, db *sql.DB, processID, user string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM process_copies WHERE process_id = $1 AND user_id = $2`, processID, user).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read copies of %s: %w", processID, err)
	}
	return n > 0, nil
}
