package projections

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TaskGauges is a prometheus.Collector that counts, at each scrape, the
// open tasks of the tasks read model by process kind and step:
// houqin_tasks_pending and houqin_tasks_overdue (pending and past due).
// A scrape whose query fails or times out reports neither gauge and logs
// why, rather than failing the whole /metrics page.
type TaskGauges struct {
	db      *sql.DB
	now     func() time.Time
	timeout time.Duration
	log     *slog.Logger
	pending *prometheus.Desc
	overdue *prometheus.Desc
}

var _ prometheus.Collector = (*TaskGauges)(nil)

// NewTaskGauges returns the task gauges over db, judging what is overdue
// by now (time.Now if nil), each query bounded by timeout (default 2s).
func NewTaskGauges(db *sql.DB, now func() time.Time, timeout time.Duration, log *slog.Logger) *TaskGauges {
	if now == nil {
		now = time.Now
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	labels := []string{"kind", "step"}
	return &TaskGauges{db: db, now: now, timeout: timeout, log: log,
		pending: prometheus.NewDesc("houqin_tasks_pending", "Open tasks by process kind and step, from the tasks read model.", labels, nil),
		overdue: prometheus.NewDesc("houqin_tasks_overdue", "Open tasks past their due time by process kind and step, from the tasks read model.", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (g *TaskGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.pending
	ch <- g.overdue
}

// Collect implements prometheus.Collector.
func (g *TaskGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	// Every step ever seen gets a series, 0 when nothing is pending, so
	// that series do not vanish (and alerts on them do not go stale).
	rows, err := g.db.QueryContext(ctx, `SELECT kind, step,
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'pending' AND due_ms > 0 AND due_ms < $1 THEN 1 ELSE 0 END), 0)
		FROM tasks GROUP BY kind, step`, nowMillis(g.now()))
	if err != nil {
		g.log.Warn("task gauges: query failed", "err", err)
		return
	}
	defer rows.Close()
	type row struct {
		kind, step       string
		pending, overdue int64
	}
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.kind, &r.step, &r.pending, &r.overdue); err != nil {
			g.log.Warn("task gauges: read failed", "err", err)
			return
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		g.log.Warn("task gauges: read failed", "err", err)
		return
	}
	for _, r := range out {
		ch <- prometheus.MustNewConstMetric(g.pending, prometheus.GaugeValue, float64(r.pending), r.kind, r.step)
		ch <- prometheus.MustNewConstMetric(g.overdue, prometheus.GaugeValue, float64(r.overdue), r.kind, r.step)
	}
}
