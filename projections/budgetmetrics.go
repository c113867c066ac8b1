package projections

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/houqin/houqin"
	"github.com/prometheus/client_golang/prometheus"
)

// BudgetGauges is a prometheus.Collector that reads, at each scrape, the
// current year's lines of the budgets read model (the year of now in
// houqin.BusinessZone) and reports per department and category:
//
//	houqin_budget_utilization_ratio  (committed + actual) / plan
//	houqin_budget_overrun_ratio      max(0, actual − plan) / plan
//
// A scrape whose query fails reports neither and logs why.
type BudgetGauges struct {
	db          *sql.DB
	now         func() time.Time
	timeout     time.Duration
	log         *slog.Logger
	utilization *prometheus.Desc
	overrun     *prometheus.Desc
}

var _ prometheus.Collector = (*BudgetGauges)(nil)

// NewBudgetGauges returns the budget gauges over db; now is the clock
// (time.Now if nil) that picks the year, timeout bounds each query
// (default 2s).
func NewBudgetGauges(db *sql.DB, now func() time.Time, timeout time.Duration, log *slog.Logger) *BudgetGauges {
	if now == nil {
		now = time.Now
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	labels := []string{"dept", "category"}
	return &BudgetGauges{db: db, now: now, timeout: timeout, log: log,
		utilization: prometheus.NewDesc("houqin_budget_utilization_ratio",
			"Committed plus actual spending over the plan, per budget line of the current year.", labels, nil),
		overrun: prometheus.NewDesc("houqin_budget_overrun_ratio",
			"Actual spending beyond the plan over the plan (0 within the plan), per budget line of the current year.", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (g *BudgetGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.utilization
	ch <- g.overrun
}

// Collect implements prometheus.Collector.
func (g *BudgetGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	lines, err := ListBudgetLines(ctx, g.db, g.now().In(houqin.BusinessZone).Year())
	if err != nil {
		g.log.Warn("budget gauges: query failed", "err", err)
		return
	}
	for _, l := range lines {
		plan := l.Plan()
		var util, over float64
		if plan > 0 {
			util = float64(l.Committed()+l.Consumed) / float64(plan)
			over = float64(max(0, l.Consumed-plan)) / float64(plan)
		}
		ch <- prometheus.MustNewConstMetric(g.utilization, prometheus.GaugeValue, util, l.Department, l.Category)
		ch <- prometheus.MustNewConstMetric(g.overrun, prometheus.GaugeValue, over, l.Department, l.Category)
	}
}
