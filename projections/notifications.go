package projections

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/houqin/houqin"
)

// Notifications folds the log into what each person is told (docs/NOTIFICATIONS.md):
// one row per event and recipient — a task opened for them (by a route,
// a transfer, an added approver), a reminder (催办), an escalation to them,
// their request approved, rejected, returned to them, completed or
// cancelled by someone else, a copy (抄送). The row is keyed by the event
// and the recipient, so folding an event again adds nothing.
//
// It is the outbox of every channel: the web app's bell reads it, and a
// sender delivers its rows. Reset keeps the rows — what was read and sent
// stays so through a rebuild — and events older than Horizon when folded
// are not notified: a rebuild, or the first start on a long log, tells
// nobody about last year.
type Notifications struct {
	// Now is the clock the horizon is judged by; time.Now if nil.
	Now func() time.Time
}

// Horizon is how old an event may be, when folded, and still be notified.
const Horizon = 48 * time.Hour

var _ Projection = Notifications{}

// Name implements Projection.
func (Notifications) Name() string { return "notifications" }

// Version implements Projection.
func (Notifications) Version() int { return 2 } // 2: delegations

// Setup implements Projection.
func (Notifications) Setup(ctx context.Context, tx *sql.Tx) error {
	for _, ddl := range []string{`CREATE TABLE IF NOT EXISTS notifications (
		id         TEXT   PRIMARY KEY,
		recipient  TEXT   NOT NULL,
		kind       TEXT   NOT NULL,
		event_type TEXT   NOT NULL,
		process_id TEXT   NOT NULL,
		task_id    TEXT   NOT NULL,
		actor      TEXT   NOT NULL,
		at         TEXT   NOT NULL,
		position   BIGINT NOT NULL,
		read_at    TEXT   NOT NULL DEFAULT ''
	)`, `CREATE INDEX IF NOT EXISTS notifications_recipient ON notifications (recipient, position)`} {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements Projection: it keeps the rows (see Notifications).
func (Notifications) Reset(ctx context.Context, tx *sql.Tx) error { return nil }

// The kinds of notification.
const (
	NotifyTask        = "task"        // a task to act on
	NotifyReminded    = "reminded"    // 催办: the requester asks for it
	NotifyEscalated   = "escalated"   // a task past due, now also yours
	NotifyOutcome     = "outcome"     // your request approved, rejected, returned, completed, cancelled
	NotifyCopied      = "copied"      // 抄送
	NotifyDueSoon     = "due_soon"    // a task of yours falls due within hours (written by the sender: a time, not an event)
	NotifyOverdue     = "overdue"     // a task of yours is past its due time (likewise)
	NotifyDelegated   = "delegated"   // someone made you their delegate (委托); task_id is the delegation
	NotifyUndelegated = "undelegated" // a delegation to you was ended early
	// A delegation's start (when it was set for later) and its end, told
	// to the delegate when they come: rows written when it is set, dated
	// then, which nobody sees before (see due).
	NotifyDelegationStarts = "delegation_started"
	NotifyDelegationEnds   = "delegation_ended"
)

// due is the condition under which a notification may be seen and sent:
// the scheduled ones only from their moment ($now, RFC 3339 UTC).
func due(now string) string {
	return `(n.kind NOT IN ('` + NotifyDelegationStarts + `', '` + NotifyDelegationEnds + `') OR n.at <= '` + now + `')`
}

// nowText is now as notifications date their rows.
func nowText() string { return time.Now().UTC().Format(time.RFC3339) }

// notice is one notification before it is written.
type notice struct {
	recipients []string
	kind       string
	processID  string
	taskID     string
}

// Apply implements Projection.
func (n Notifications) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	horizon := now().Add(-Horizon)
	for _, e := range events {
		if e.RecordedAt.Before(horizon) {
			continue
		}
		nt, err := noticeOf(ctx, tx, e)
		if err != nil {
			return err
		}
		if nt == nil {
			continue
		}
		if err := schedule(ctx, tx, e); err != nil {
			return err
		}
		for _, to := range nt.recipients {
			// Nobody is told what they did themselves — except a task
			// their own step opened for them (li.na's receipt after her
			// order): it is still on their list.
			if to == "" || to == "system" || to == e.Meta.Actor && e.Type != "task.opened" {
				continue
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, recipient, kind, event_type, process_id, task_id, actor, at, position)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
				e.ID+"/"+to, to, nt.kind, e.Type, nt.processID, nt.taskID, e.Meta.Actor, e.Meta.OccurredAt.UTC().Format(time.RFC3339), e.Position)
			if err != nil {
				return fmt.Errorf("notify %s of %s: %w", to, e.ID, err)
			}
		}
	}
	return nil
}

// schedule writes the notices a delegation will give when it starts (if
// set for later) and when it ends, dated then; a delegation cancelled
// takes back those still to come.
func schedule(ctx context.Context, tx *sql.Tx, e houqin.Event) error {
	switch e.Type {
	case "delegation.set":
		var d houqin.DelegationSet
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return err
		}
		dl := d.Delegation
		at := map[string]time.Time{NotifyDelegationEnds: dl.To}
		if dl.From.Sub(e.Meta.OccurredAt) >= time.Minute { // set for later; one starting now is told by its delegated notice
			at[NotifyDelegationStarts] = dl.From
		}
		for kind, when := range at {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, recipient, kind, event_type, process_id, task_id, actor, at, position)
				VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
				e.ID+"/"+kind+"/"+dl.Delegate, dl.Delegate, kind, "delegation."+strings.TrimPrefix(kind, "delegation_"), dl.ID, dl.User,
				when.UTC().Format(time.RFC3339), e.Position); err != nil {
				return fmt.Errorf("schedule the notices of delegation %s: %w", dl.ID, err)
			}
		}
	case "delegation.cancelled":
		var d houqin.DelegationCancelled
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE task_id = $1 AND kind IN ($2, $3) AND at > $4`,
			d.ID, NotifyDelegationStarts, NotifyDelegationEnds, e.Meta.OccurredAt.UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("take back the notices of delegation %s: %w", d.ID, err)
		}
	}
	return nil
}

// noticeOf says whom e concerns and how; nil for an event nobody is told.
func noticeOf(ctx context.Context, tx *sql.Tx, e houqin.Event) (*notice, error) {
	process := e.Meta.CorrelationID
	switch e.Type {
	case "task.opened":
		var d houqin.TaskOpened
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		return &notice{recipients: d.Task.Assignees, kind: NotifyTask, processID: cmp.Or(d.Task.ProcessID, process), taskID: d.Task.ID}, nil
	case "task.transferred":
		var d houqin.TaskTransferred
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		return &notice{recipients: []string{d.To}, kind: NotifyTask, processID: process, taskID: d.TaskID}, nil
	case "task.approver_added":
		var d houqin.ApproverAdded
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		return &notice{recipients: d.Users, kind: NotifyTask, processID: process, taskID: d.TaskID}, nil
	case "task.reminded":
		var d houqin.TaskReminded
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		return &notice{recipients: d.Assignees, kind: NotifyReminded, processID: process, taskID: d.TaskID}, nil
	case "task.escalated":
		var d houqin.TaskEscalated
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		return &notice{recipients: d.Added, kind: NotifyEscalated, processID: process, taskID: d.TaskID}, nil
	case "process.copied":
		var d houqin.ProcessCopied
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		return &notice{recipients: d.Users, kind: NotifyCopied, processID: process}, nil
	case "process.returned":
		var d houqin.ProcessReturned
		if err := json.Unmarshal(e.Data, &d); err != nil || d.ToStep != "" {
			return nil, err // back to an earlier step: its approvers get a task
		}
	case "delegation.set":
		var d houqin.DelegationSet
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		return &notice{recipients: []string{d.Delegation.Delegate}, kind: NotifyDelegated, taskID: d.Delegation.ID}, nil
	case "delegation.cancelled":
		var d houqin.DelegationCancelled
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		// Its delegate is the one told it was set.
		var to string
		err := tx.QueryRowContext(ctx, `SELECT recipient FROM notifications WHERE kind = $1 AND task_id = $2`, NotifyDelegated, d.ID).Scan(&to)
		if err == sql.ErrNoRows {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		return &notice{recipients: []string{to}, kind: NotifyUndelegated, taskID: d.ID}, nil
	case "process.cancelled":
	default:
		kind, outcome, _ := strings.Cut(e.Type, ".")
		if kind == "process" || kind == "task" || !slices.Contains([]string{"approved", "rejected", "completed"}, outcome) {
			return nil, nil
		}
	}
	// An outcome: the process's requester (and the traveller a trip is for).
	var requester, subject string
	err := tx.QueryRowContext(ctx, `SELECT requester, subject FROM processes WHERE id = $1`, process).Scan(&requester, &subject)
	if err == sql.ErrNoRows {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read the requester of %s: %w", process, err)
	}
	to := []string{requester}
	if subject != "" && subject != requester {
		to = append(to, subject)
	}
	return &notice{recipients: to, kind: NotifyOutcome, processID: process}, nil
}

// Notification is a notification as its recipient reads it: what happened,
// on which process and task, with the process's title, requester and
// amount and the task's step as they are now.
type Notification struct {
	ID        string             `json:"id"`
	Recipient string             `json:"-"`
	Kind      string             `json:"kind"`
	EventType string             `json:"event_type"`
	ProcessID string             `json:"process_id"`
	TaskID    string             `json:"task_id,omitempty"`
	Actor     string             `json:"actor"`
	At        string             `json:"at"`
	Read      bool               `json:"read"`
	Title     string             `json:"title"`
	Requester string             `json:"requester"`
	Amount    int64              `json:"amount"`
	ProcKind  houqin.ProcessKind `json:"process_kind"`
	Step      string             `json:"step,omitempty"`
	StepName  *houqin.Text       `json:"step_name,omitempty"`
	Position  int64              `json:"-"`
}

// ListNotifications lists a recipient's notifications, newest first, at
// most limit, only the unread if asked; and counts the unread.
func ListNotifications(ctx context.Context, db *sql.DB, recipient string, unreadOnly bool, limit int) ([]Notification, int, error) {
	where := `n.recipient = $1 AND ` + due(nowText())
	if unreadOnly {
		where += ` AND n.read_at = ''`
	}
	out, err := queryNotifications(ctx, db, where+` ORDER BY n.position DESC, n.id LIMIT $2`, recipient, limit)
	if err != nil {
		return nil, 0, err
	}
	var unread int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications n WHERE n.recipient = $1 AND n.read_at = '' AND `+due(nowText()), recipient).Scan(&unread); err != nil {
		return nil, 0, fmt.Errorf("count notifications: %w", err)
	}
	return out, unread, nil
}

// GetNotification returns one notification with its recipient; ENOTFOUND
// if there is none.
func GetNotification(ctx context.Context, db *sql.DB, id string) (Notification, error) {
	out, err := queryNotifications(ctx, db, `n.id = $1`, id)
	if err != nil {
		return Notification{}, err
	}
	if len(out) == 0 {
		return Notification{}, houqin.Errorf(houqin.ENOTFOUND, "notification: no notification %q", id)
	}
	return out[0], nil
}

func queryNotifications(ctx context.Context, db *sql.DB, where string, args ...any) ([]Notification, error) {
	rows, err := db.QueryContext(ctx, `SELECT n.id, n.recipient, n.kind, n.event_type, n.process_id, n.task_id, n.actor, n.at, n.read_at, n.position,
		COALESCE(p.title, ''), COALESCE(p.requester, ''), COALESCE(p.amount, 0), COALESCE(p.kind, ''), COALESCE(t.step, ''), COALESCE(t.name, '')
		FROM notifications n LEFT JOIN processes p ON p.id = n.process_id LEFT JOIN tasks t ON t.id = n.task_id
		WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var (
			n            Notification
			readAt, name string
			kind         string
		)
		if err := rows.Scan(&n.ID, &n.Recipient, &n.Kind, &n.EventType, &n.ProcessID, &n.TaskID, &n.Actor, &n.At, &readAt, &n.Position,
			&n.Title, &n.Requester, &n.Amount, &kind, &n.Step, &name); err != nil {
			return nil, fmt.Errorf("read notifications: %w", err)
		}
		n.Read, n.ProcKind = readAt != "", houqin.ProcessKind(kind)
		if name != "" {
			var t houqin.Text
			if json.Unmarshal([]byte(name), &t) == nil {
				n.StepName = &t
			}
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	return out, nil
}

// MarkNotificationsRead marks a recipient's notifications read at now: the
// ones named, or all if none is; it returns how many are still unread.
func MarkNotificationsRead(ctx context.Context, db *sql.DB, recipient string, ids []string, now time.Time) (int, error) {
	at := now.UTC().Format(time.RFC3339)
	if len(ids) == 0 {
		if _, err := db.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE recipient = $2 AND read_at = ''`, at, recipient); err != nil {
			return 0, fmt.Errorf("mark notifications read: %w", err)
		}
	}
	for _, id := range ids {
		if _, err := db.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE recipient = $2 AND id = $3 AND read_at = ''`, at, recipient, id); err != nil {
			return 0, fmt.Errorf("mark notifications read: %w", err)
		}
	}
	var unread int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE recipient = $1 AND read_at = ''`, recipient).Scan(&unread); err != nil {
		return 0, fmt.Errorf("count notifications: %w", err)
	}
	return unread, nil
}
