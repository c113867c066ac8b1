package projections

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/houqin/houqin"
	"github.com/prometheus/client_golang/prometheus"
)

// KPIMetricNames are the metrics KPIGauges exports; the Grafana dashboard
// and the alert rules use nothing else (a test checks both).
var KPIMetricNames = []string{
	"houqin_kpi_satisfaction_ratio", "houqin_kpi_on_time_ratio", "houqin_kpi_budget_overrun_ratio",
	"houqin_kpi_deliverable_quality_ratio", "houqin_kpi_denominator", "houqin_kpi_target_ratio",
}

// KPIGauges is a prometheus.Collector exporting, at each scrape, the four
// KPIs of the current year to date (in the KPI time zone) from the kpi
// read model, per department and process kind; "all" labels the totals:
//
//	houqin_kpi_satisfaction_ratio{department,kind}
//	houqin_kpi_on_time_ratio{department,kind}
//	houqin_kpi_deliverable_quality_ratio{department,kind}
//	houqin_kpi_budget_overrun_ratio{department}
//	houqin_kpi_denominator{kpi,department,kind}   how many answers, items, reviews; the plan in minor units
//	houqin_kpi_target_ratio{kpi}
//
// A ratio without data (denominator 0) is not exported; its denominator
// is. A failed query exports nothing and logs why.
type KPIGauges struct {
	db      *sql.DB
	cfg     houqin.KPIConfig
	now     func() time.Time
	timeout time.Duration
	log     *slog.Logger
	ratios  map[string]*prometheus.Desc
	den     *prometheus.Desc
	target  *prometheus.Desc
}

var _ prometheus.Collector = (*KPIGauges)(nil)

// NewKPIGauges returns the KPI gauges over db.
func NewKPIGauges(db *sql.DB, cfg houqin.KPIConfig, now func() time.Time, timeout time.Duration, log *slog.Logger) *KPIGauges {
	if cfg.Targets == nil {
		cfg = houqin.DefaultKPIConfig()
	}
	if now == nil {
		now = time.Now
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	dk := []string{"department", "kind"}
	return &KPIGauges{db: db, cfg: cfg, now: now, timeout: timeout, log: log,
		ratios: map[string]*prometheus.Desc{
			houqin.KPISatisfaction:       prometheus.NewDesc("houqin_kpi_satisfaction_ratio", "Satisfied survey answers (score >= 4) / answers, year to date.", dk, nil),
			houqin.KPIOnTime:             prometheus.NewDesc("houqin_kpi_on_time_ratio", "Tasks and processes done before their due time / those due, year to date.", dk, nil),
			houqin.KPIDeliverableQuality: prometheus.NewDesc("houqin_kpi_deliverable_quality_ratio", "Deliverable reviews without a major error / reviews, year to date.", dk, nil),
			houqin.KPIBudgetOverrun:      prometheus.NewDesc("houqin_kpi_budget_overrun_ratio", "max(0, actual - plan) / plan of this year's budget lines, year to date.", []string{"department"}, nil),
		},
		den:    prometheus.NewDesc("houqin_kpi_denominator", "The denominator of each KPI, year to date: answers, items due, reviews, or the budget plan in minor units.", []string{"kpi", "department", "kind"}, nil),
		target: prometheus.NewDesc("houqin_kpi_target_ratio", "The configured target of each KPI (config/kpi.yaml).", []string{"kpi"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (g *KPIGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, name := range houqin.KPINames {
		ch <- g.ratios[name]
	}
	ch <- g.den
	ch <- g.target
}

// Collect implements prometheus.Collector.
func (g *KPIGauges) Collect(ch chan<- prometheus.Metric) {
	for _, name := range houqin.KPINames {
		ch <- prometheus.MustNewConstMetric(g.target, prometheus.GaugeValue, g.cfg.Targets[name].Value, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	loc := g.cfg.Location()
	now := g.now()
	local := now.In(loc)
	q := KPIQuery{From: time.Date(local.Year(), 1, 1, 0, 0, 0, 0, loc),
		To:  time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1),
		Now: now, Config: g.cfg}
	groups, err := KPIGroups(ctx, g.db, q)
	if err != nil {
		g.log.Warn("kpi gauges: query failed", "err", err)
		return
	}
	all := func(s string) string {
		if s == "" {
			return "all"
		}
		return s
	}
	for _, gr := range groups {
		dept, kind := all(gr.Department), all(gr.Kind)
		ch <- prometheus.MustNewConstMetric(g.den, prometheus.GaugeValue, float64(gr.Denominator), gr.KPI, dept, kind)
		if gr.Denominator == 0 {
			continue
		}
		v := float64(gr.Numerator) / float64(gr.Denominator)
		if gr.KPI == houqin.KPIBudgetOverrun {
			ch <- prometheus.MustNewConstMetric(g.ratios[gr.KPI], prometheus.GaugeValue, v, dept)
		} else {
			ch <- prometheus.MustNewConstMetric(g.ratios[gr.KPI], prometheus.GaugeValue, v, dept, kind)
		}
	}
}
