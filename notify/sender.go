package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/prometheus/client_golang/prometheus"
)

// The states of a delivery.
const (
	Pending = "pending" // to send, at next_at_ms
	Sent    = "sent"
	Dead    = "dead"    // failed max_attempts times; kept with its last error
	Skipped = "skipped" // the recipient has no address on the channel, or turned it off
	Digest  = "digest"  // waits for the recipient's daily digest
)

// Sender delivers the notifications of the outbox (the notifications
// read model) on every channel configured: email, group robots, webhooks. Each step enqueues a delivery per notification not
// yet enqueued — keyed by notification and channel, so a second enqueue
// adds nothing — and sends the deliveries that are due; a failure is
// retried after a backoff that doubles, and dead-lettered after
// MaxAttempts. The delivery rows live in the read-model database beside
// the notifications, and outlive restarts: a sender started again resumes
// with what is pending.
//
// Sending is at least once: a sender killed after the SMTP server took a
// message but before it was marked sent sends it again on restart — with
// the same Message-ID (the notification's), by which mail clients and the
// tests' SMTP sink see it once.
type Sender struct {
	DB     *sql.DB
	Org    *houqin.Org
	Config Config
	Log    *slog.Logger
	Now    func() time.Time // nil: time.Now

	metrics *senderMetrics
}

const deliveriesDDL = `CREATE TABLE IF NOT EXISTS notification_deliveries (
	notification_id TEXT   NOT NULL,
	channel         TEXT   NOT NULL,
	address         TEXT   NOT NULL,
	status          TEXT   NOT NULL,
	attempts        BIGINT NOT NULL DEFAULT 0,
	next_at_ms      BIGINT NOT NULL,
	created_ms      BIGINT NOT NULL,
	last_error      TEXT   NOT NULL DEFAULT '',
	sent_at         TEXT   NOT NULL DEFAULT '',
	message_id      TEXT   NOT NULL DEFAULT '',
	PRIMARY KEY (notification_id, channel)
)`

// Setup creates the deliveries table if it does not exist and registers
// the metrics with reg (nil: none).
func (s *Sender) Setup(ctx context.Context, reg prometheus.Registerer) error {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.metrics = newSenderMetrics(reg, s.DB)
	for _, ddl := range []string{deliveriesDDL, `CREATE TABLE IF NOT EXISTS notification_digests (
		user_id    TEXT NOT NULL,
		day        TEXT NOT NULL,
		message_id TEXT NOT NULL,
		PRIMARY KEY (user_id, day)
	)`} {
		if _, err := s.DB.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("notifications: create the deliveries: %w", err)
		}
	}
	return nil
}

// Run steps every Config.Interval until ctx ends.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.Config.Interval)
	defer t.Stop()
	for {
		if _, err := s.Step(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("notifications: a delivery round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Channel is a way to reach people: email, a group robot, a webhook.
type Channel interface {
	// Name keys the channel's deliveries: "email", "dingtalk", "webhook:ops".
	Name() string
	// Address is where u is reached on the channel; false: u is not on it.
	Address(u houqin.User) (string, bool)
	// Send delivers m to address.
	Send(ctx context.Context, m Message, address string, now time.Time) error
}

// channels are the channels configured.
func (s *Sender) channels() []Channel {
	var out []Channel
	if s.Config.Email != nil {
		out = append(out, email{s.Config.Email})
	}
	for _, w := range s.Config.Webhooks {
		out = append(out, w)
	}
	for _, r := range []*Robot{s.Config.DingTalk, s.Config.WeCom, s.Config.Feishu} {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// DueSoon is how long before its due time an open task's assignees are
// told it is due soon.
const DueSoon = 4 * time.Hour

// Step notes the tasks due soon or overdue, enqueues what is new and sends
// what is due; it returns how many messages it sent.
func (s *Sender) Step(ctx context.Context) (int, error) {
	if err := s.notice(ctx); err != nil {
		return 0, err
	}
	sent := 0
	if s.Config.Email != nil {
		n, err := s.digests(ctx, email{s.Config.Email})
		sent += n
		if err != nil {
			return sent, err
		}
	}
	for _, c := range s.channels() {
		if err := s.enqueue(ctx, c); err != nil {
			return sent, err
		}
		n, err := s.deliver(ctx, c)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// notice adds to the notifications, once per task, kind and assignee, the
// open tasks that fall due within DueSoon (due_soon) and those past due
// (overdue): a time, not an event, tells these, so the sender writes them
// — keyed by task, kind and assignee, so writing again adds nothing. They
// join the outbox like the projection's rows (which its rebuilds keep).
func (s *Sender) notice(ctx context.Context) error {
	now := s.Now()
	rows, err := s.DB.QueryContext(ctx, `SELECT t.id, t.process_id, t.assignees, t.due_ms, t.position FROM tasks t
		WHERE t.status = 'pending' AND t.due_ms > 0 AND t.due_ms <= $1`, now.Add(DueSoon).UnixMilli())
	if err != nil {
		return fmt.Errorf("notifications: find the tasks falling due: %w", err)
	}
	type falling struct {
		id, process, assignees string
		due, position          int64
	}
	var all []falling
	for rows.Next() {
		var f falling
		if err := rows.Scan(&f.id, &f.process, &f.assignees, &f.due, &f.position); err != nil {
			rows.Close()
			return err
		}
		all = append(all, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, f := range all {
		var users []string
		if err := json.Unmarshal([]byte(f.assignees), &users); err != nil {
			return fmt.Errorf("notifications: the assignees of %s: %w", f.id, err)
		}
		kind := projections.NotifyDueSoon
		if f.due <= now.UnixMilli() {
			kind = projections.NotifyOverdue
		}
		for _, u := range users {
			if _, err := s.DB.ExecContext(ctx, `INSERT INTO notifications (id, recipient, kind, event_type, process_id, task_id, actor, at, position)
				VALUES ($1, $2, $3, $4, $5, $6, 'system', $7, $8) ON CONFLICT (id) DO NOTHING`,
				f.id+"/"+kind+"/"+u, u, kind, "task."+kind, f.process, f.id, now.UTC().Format(time.RFC3339), f.position); err != nil {
				return fmt.Errorf("notifications: note %s %s for %s: %w", f.id, kind, u, err)
			}
		}
	}
	return nil
}

// digests sends each recipient with deliveries waiting for their digest
// one email listing them, once a day from DigestTime (China time) — a
// digest sent is recorded by its day, so a notification that comes after
// it waits for the next day's.
func (s *Sender) digests(ctx context.Context, e email) (int, error) {
	now := s.Now().In(houqin.BusinessZone)
	day := now.Format(time.DateOnly)
	if now.Format("15:04") < houqin.DigestTime {
		return 0, nil
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT DISTINCT n.recipient, d.address FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
		WHERE d.channel = 'email' AND d.status = 'digest'
		AND NOT EXISTS (SELECT 1 FROM notification_digests g WHERE g.user_id = n.recipient AND g.day = $1)`, day)
	if err != nil {
		return 0, fmt.Errorf("notifications: find the digests due: %w", err)
	}
	type due struct{ user, address string }
	var all []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.user, &d.address); err != nil {
			rows.Close()
			return 0, err
		}
		all = append(all, d)
	}
	rows.Close()
	sent := 0
	for _, d := range all {
		ids, err := s.digestIDs(ctx, d.user)
		if err != nil {
			return sent, err
		}
		var ms []Message
		for _, id := range ids {
			n, err := projections.GetNotification(ctx, s.DB, id)
			if err != nil {
				return sent, err
			}
			m, err := s.compose(n)
			if err != nil {
				return sent, err
			}
			ms = append(ms, m)
		}
		if len(ms) == 0 {
			continue
		}
		digest := ms[0]
		w := languages[digest.Lang]
		digest.ID = "digest/" + d.user + "/" + day
		digest.Subject = fmt.Sprintf(w.digest, day, len(ms))
		digest.Lines = nil
		for _, m := range ms {
			digest.Lines = append(digest.Lines, "· "+m.Subject, "  "+m.Link)
		}
		digest.Link = ""
		if err := e.Send(ctx, digest, d.address, s.Now()); err != nil {
			s.Log.Warn("notifications: a digest failed; it is tried again next round", "user", d.user, "err", err)
			s.metrics.failed.WithLabelValues("email").Inc()
			continue
		}
		sent++
		s.metrics.sent.WithLabelValues("email").Inc()
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO notification_digests (user_id, day, message_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			d.user, day, digest.ID); err != nil {
			return sent, err
		}
		for _, id := range ids {
			if _, err := s.DB.ExecContext(ctx, `UPDATE notification_deliveries SET status = 'sent', attempts = attempts + 1, sent_at = $1, message_id = $2
				WHERE notification_id = $3 AND channel = 'email'`, s.Now().UTC().Format(time.RFC3339), digest.ID, id); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

func (s *Sender) digestIDs(ctx context.Context, user string) ([]string, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT d.notification_id FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
		WHERE d.channel = 'email' AND d.status = 'digest' AND n.recipient = $1 ORDER BY n.position, n.id`, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// enqueue adds a delivery on c for each notification without one.
func (s *Sender) enqueue(ctx context.Context, c Channel) error {
	rows, err := s.DB.QueryContext(ctx, `SELECT n.id, n.recipient FROM notifications n
		WHERE NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.notification_id = n.id AND d.channel = $1)
		AND (n.kind NOT IN ($2, $3) OR n.at <= $4)
		ORDER BY n.position LIMIT 500`, c.Name(), projections.NotifyDelegationStarts, projections.NotifyDelegationEnds, s.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("notifications: find what to send: %w", err)
	}
	type todo struct{ id, to string }
	var new []todo
	for rows.Next() {
		var t todo
		if err := rows.Scan(&t.id, &t.to); err != nil {
			rows.Close()
			return err
		}
		new = append(new, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := s.Now().UnixMilli()
	for _, t := range new {
		status, address, why := Skipped, "", "not on the channel"
		prefs, err := projections.GetPreferences(ctx, s.DB, t.to)
		if err != nil {
			return err
		}
		if u, err := s.Org.User(t.to); err == nil && !u.Left {
			if a, ok := c.Address(u); ok {
				status, address, why = Pending, a, ""
			}
		}
		if status == Pending && !prefs.Wants(c.Name()) {
			status, why = Skipped, "turned off by the recipient"
		}
		if status == Pending && prefs.Digest && c.Name() == "email" {
			status = Digest // gathered into the daily digest
		}
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO notification_deliveries (notification_id, channel, address, status, next_at_ms, created_ms, last_error)
			VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (notification_id, channel) DO NOTHING`, t.id, c.Name(), address, status, now, why); err != nil {
			return fmt.Errorf("notifications: enqueue %s: %w", t.id, err)
		}
	}
	return nil
}

// deliver sends c's deliveries that are due, one by one.
func (s *Sender) deliver(ctx context.Context, c Channel) (int, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT notification_id, address, attempts FROM notification_deliveries
		WHERE channel = $1 AND status = 'pending' AND next_at_ms <= $2 ORDER BY next_at_ms, notification_id LIMIT 50`, c.Name(), s.Now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("notifications: find what is due: %w", err)
	}
	type due struct {
		id, address string
		attempts    int
	}
	var all []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.address, &d.attempts); err != nil {
			rows.Close()
			return 0, err
		}
		all = append(all, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range all {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		n, err := projections.GetNotification(ctx, s.DB, d.id)
		if err != nil {
			return sent, err
		}
		// In the recipient's quiet hours it waits until they end.
		prefs, err := projections.GetPreferences(ctx, s.DB, n.Recipient)
		if err != nil {
			return sent, err
		}
		if until := prefs.QuietUntil(s.Now()); until.After(s.Now()) {
			if _, err := s.DB.ExecContext(ctx, `UPDATE notification_deliveries SET next_at_ms = $1 WHERE notification_id = $2 AND channel = $3`,
				until.UnixMilli(), d.id, c.Name()); err != nil {
				return sent, err
			}
			continue
		}
		msg, err := s.compose(n)
		if err == nil {
			err = c.Send(ctx, msg, d.address, s.Now())
		}
		if err == nil {
			sent++
			s.metrics.sent.WithLabelValues(c.Name()).Inc()
			if d.attempts > 0 {
				s.metrics.retried.WithLabelValues(c.Name()).Inc() // delivered on a retry
			}
			_, err = s.DB.ExecContext(ctx, `UPDATE notification_deliveries SET status = 'sent', attempts = attempts + 1, sent_at = $1, message_id = $2, last_error = ''
				WHERE notification_id = $3 AND channel = $4`, s.Now().UTC().Format(time.RFC3339), msg.ID, d.id, c.Name())
			if err != nil {
				return sent, fmt.Errorf("notifications: record %s sent: %w", d.id, err)
			}
			continue
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return sent, ctx.Err()
		}
		s.fail(ctx, c.Name(), d.id, d.attempts+1, err)
	}
	return sent, nil
}

// fail records a failed attempt: retried after the backoff, or dead after
// MaxAttempts.
func (s *Sender) fail(ctx context.Context, channel, id string, attempts int, cause error) {
	status, next := Pending, s.Now().Add(s.backoff(attempts))
	if attempts >= s.Config.MaxAttempts {
		status = Dead
		s.metrics.dead.WithLabelValues(channel).Inc()
		s.Log.Warn("notifications: dead-lettered", "notification", id, "channel", channel, "attempts", attempts, "err", cause)
	} else {
		s.metrics.failed.WithLabelValues(channel).Inc()
	}
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE notification_deliveries SET status = $1, attempts = $2, next_at_ms = $3, last_error = $4
		WHERE notification_id = $5 AND channel = $6`, status, attempts, next.UnixMilli(), msg, id, channel); err != nil {
		s.Log.Warn("notifications: could not record a failed delivery", "notification", id, "err", err)
	}
}

// backoff is the wait after the attempts-th failure: Backoff doubled each
// time, at most an hour.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.Config.Backoff
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Delivery is one notification's delivery on a channel, as recorded.
type Delivery struct {
	NotificationID string
	Channel        string
	Address        string
	Status         string
	Attempts       int
	LastError      string
	MessageID      string
}

// Deliveries lists the recorded deliveries, oldest first.
func Deliveries(ctx context.Context, db *sql.DB) ([]Delivery, error) {
	rows, err := db.QueryContext(ctx, `SELECT notification_id, channel, address, status, attempts, last_error, message_id
		FROM notification_deliveries ORDER BY created_ms, notification_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.NotificationID, &d.Channel, &d.Address, &d.Status, &d.Attempts, &d.LastError, &d.MessageID); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

type senderMetrics struct {
	sent, failed, retried, dead *prometheus.CounterVec
}

func newSenderMetrics(reg prometheus.Registerer, db *sql.DB) *senderMetrics {
	m := &senderMetrics{
		sent:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "houqin_notifications_sent_total", Help: "Notifications delivered, by channel."}, []string{"channel"}),
		failed:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "houqin_notifications_failed_total", Help: "Failed delivery attempts that will be retried, by channel."}, []string{"channel"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "houqin_notifications_retried_total", Help: "Notifications delivered on a retry, by channel."}, []string{"channel"}),
		dead:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "houqin_notifications_dead_lettered_total", Help: "Notifications given up after the last attempt, by channel."}, []string{"channel"}),
	}
	if reg != nil {
		age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "houqin_notifications_queue_age_seconds",
			Help: "How long the oldest pending delivery has waited."}, func() float64 {
			var oldest sql.NullInt64
			if err := db.QueryRow(`SELECT MIN(created_ms) FROM notification_deliveries WHERE status = 'pending'`).Scan(&oldest); err != nil || !oldest.Valid {
				return 0
			}
			return time.Since(time.UnixMilli(oldest.Int64)).Seconds()
		})
		reg.MustRegister(m.sent, m.failed, m.retried, m.dead, age)
	}
	return m
}
