package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
	// cut: pending, delegated and overdue (of both), whatever the filter.
	Counts InboxCounts `json:"counts"`
	// Totals are how many items each section holds under the filter, of
	// which the lists show a page (limit, offset).
	Totals InboxTotals `json:"totals"`
}

// InboxTotals are the sizes of an inbox's sections under a filter.
type InboxTotals struct {
	Pending   int `json:"pending"`
	Delegated int `json:"delegated"`
	Handled   int `json:"handled"`
	Copied    int `json:"copied"`
}

// InboxFilter narrows an inbox and pages it; every field is optional. The
// due filters apply to the open sections, the step to the task sections;
// kind, requester, department and the search to all four.
type InboxFilter struct {
	Kind       string    // the process kind
	Step       string    // the step ID (dept_approval, record_po …)
	Overdue    bool      // only open tasks past their due time
	DueBefore  time.Time // only open tasks due before it
	Requester  string    // the process's requester
	Department string    // the process's department
	Search     string    // a piece of the process ID, the step's name, the process's title or requester
	Limit      int       // items per section (required)
	Offset     int       // items of each section to skip
}

// where returns the conditions of f on the task sections (t, and p the
// process LEFT JOINed) or, tasks false, on the copies (c and p); arg binds
// a value.
func (f InboxFilter) where(arg func(any) string, now time.Time, open, tasks bool) string {
	var w []string
	id := "c.process_id"
	if tasks {
		id = "t.id"
	}
	switch {
	case f.Kind != "" && tasks:
		w = append(w, "t.kind = "+arg(f.Kind))
	case f.Kind != "":
		w = append(w, "c.kind = "+arg(f.Kind))
	}
	if f.Step != "" && tasks {
		w = append(w, "t.step = "+arg(f.Step))
	}
	if f.Overdue && open {
		w = append(w, "t.due_ms > 0 AND t.due_ms < "+arg(nowMillis(now)))
	}
	if !f.DueBefore.IsZero() && open {
		w = append(w, "t.due_ms > 0 AND t.due_ms < "+arg(f.DueBefore.UnixMilli()))
	}
	if f.Requester != "" {
		w = append(w, "p.requester = "+arg(f.Requester))
	}
	if f.Department != "" {
		w = append(w, "p.department = "+arg(f.Department))
	}
	if q := strings.ToLower(strings.TrimSpace(f.Search)); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
		cols := []string{"LOWER(" + id + ")", "LOWER(COALESCE(p.title, ''))", "LOWER(COALESCE(p.requester, ''))"}
		if tasks {
			cols = append(cols, "LOWER(t.name)")
		}
		var any []string
		for _, c := range cols {
			any = append(any, c+" LIKE "+arg(like)+` ESCAPE '\'`)
		}
		w = append(w, "("+strings.Join(any, " OR ")+")")
	}
	if len(w) == 0 {
		return ""
	}
	return " AND " + strings.Join(w, " AND ")
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
// narrowed by f, each section a page of f.Limit items from f.Offset.
func GetInbox(ctx context.Context, db *sql.DB, user string, now time.Time, f InboxFilter) (Inbox, error) {
	var in Inbox
	// section reads one section: its page and its total under f.
	section := func(what, from, where, order string, open, tasks bool, scan func(*sql.Rows) error) (int, error) {
		var args []any
		arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
		cond := strings.ReplaceAll(where, "$user", arg(user)) + f.where(arg, now, open, tasks)
		var total int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+cond, args...).Scan(&total); err != nil {
			return 0, fmt.Errorf("count %s: %w", what, err)
		}
		cols := taskColumns
		if !tasks {
			cols = `c.process_id, c.kind, c.at, c.copied_at, COALESCE(p.title, ''), COALESCE(p.status, ''), COALESCE(p.requester, ''), c.position`
		}
		q := `SELECT ` + cols + ` FROM ` + from + ` WHERE ` + cond + ` ORDER BY ` + order + ` LIMIT ` + arg(f.Limit) + ` OFFSET ` + arg(f.Offset)
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", what, err)
		}
		defer rows.Close()
		if err := scan(rows); err != nil {
			return 0, fmt.Errorf("read %s: %w", what, err)
		}
		return total, rows.Err()
	}
	tasksInto := func(out *[]TaskRow) func(*sql.Rows) error {
		return func(rows *sql.Rows) (err error) { *out, err = scanTasks(rows, now); return err }
	}
	const (
		open    = `task_assignees a JOIN tasks t ON t.id = a.task_id LEFT JOIN processes p ON p.id = t.process_id`
		byDue   = `CASE WHEN t.due_ms = 0 THEN 1 ELSE 0 END, t.due_ms, t.position`
		handled = `tasks t LEFT JOIN processes p ON p.id = t.process_id`
		copies  = `process_copies c LEFT JOIN processes p ON p.id = c.process_id`
	)
	var err error
	if in.Totals.Pending, err = section("pending tasks", open, `a.user_id = $user AND t.status = 'pending' AND a.on_behalf_of = ''`,
		byDue, true, true, tasksInto(&in.Pending)); err != nil {
		return Inbox{}, err
	}
	if in.Totals.Delegated, err = section("delegated tasks", open, `a.user_id = $user AND t.status = 'pending' AND a.on_behalf_of <> ''`,
		byDue, true, true, tasksInto(&in.Delegated)); err != nil {
		return Inbox{}, err
	}
	if in.Totals.Handled, err = section("handled tasks", handled, `t.completed_by = $user AND t.status = 'done'`,
		`t.completed_position DESC`, false, true, tasksInto(&in.Handled)); err != nil {
		return Inbox{}, err
	}
	in.Copied = []CopiedProcess{}
	if in.Totals.Copied, err = section("copies", copies, `c.user_id = $user`, `c.position DESC`, false, false, func(rows *sql.Rows) error {
		for rows.Next() {
			var (
				c            CopiedProcess
				kind, status string
			)
			if err := rows.Scan(&c.ProcessID, &kind, &c.At, &c.CopiedAt, &c.Title, &status, &c.Requester, &c.Position); err != nil {
				return err
			}
			c.Kind, c.Status = houqin.ProcessKind(kind), houqin.Status(status)
			in.Copied = append(in.Copied, c)
		}
		return nil
	}); err != nil {
		return Inbox{}, err
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
