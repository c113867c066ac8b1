package projections

import (
	"context"
	"time"

	"github.com/houqin/houqin"
	"github.com/prometheus/client_golang/prometheus"
)

// RunnerMetricNames are the metrics a Runner exports, for the rules and
// dashboards in deploy/ to check against.
var RunnerMetricNames = []string{
	"houqin_projection_position", "houqin_projection_lag_events", "houqin_projection_events_read_total",
	"houqin_projection_apply_duration_seconds", "houqin_projection_failed",
}

// runnerMetrics are a runner's Prometheus collectors; nil records nothing.
type runnerMetrics struct {
	position *prometheus.GaugeVec
	lag      *prometheus.GaugeVec
	applied  prometheus.Counter
	duration prometheus.Histogram
	failed   *prometheus.GaugeVec
}

func newRunnerMetrics(reg prometheus.Registerer) *runnerMetrics {
	if reg == nil {
		return nil
	}
	m := &runnerMetrics{
		position: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "houqin_projection_position", Help: "Position of the last event a projection applied.",
		}, []string{"projection"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "houqin_projection_lag_events", Help: "Events in the log that a projection has not applied yet.",
		}, []string{"projection"}),
		applied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "houqin_projection_events_read_total", Help: "Events read from $all and applied in batches.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "houqin_projection_apply_duration_seconds", Help: "Time to apply one batch and commit it with its checkpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	m.failed = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "houqin_projection_failed", Help: "1 while a projection is stopped at an event it cannot apply (see the log for the stream and position), else 0.",
	}, []string{"projection"})
	reg.MustRegister(m.position, m.lag, m.applied, m.duration, m.failed)
	return m
}

func (m *runnerMetrics) observeBatch(moved map[string]int64, events int, d time.Duration) {
	if m == nil {
		return
	}
	m.applied.Add(float64(events))
	m.duration.Observe(d.Seconds())
	for name, pos := range moved {
		m.position.WithLabelValues(name).Set(float64(pos))
	}
}

// setFailed sets whether a projection is stopped by a failure.
func (m *runnerMetrics) setFailed(name string, failed bool) {
	if m == nil {
		return
	}
	v := 0.0
	if failed {
		v = 1
	}
	m.failed.WithLabelValues(name).Set(v)
}

// observeLag sets each projection's lag against the store's head.
func (m *runnerMetrics) observeLag(ctx context.Context, store houqin.EventStore, positions map[string]int64) {
	if m == nil {
		return
	}
	head, err := store.Head(ctx)
	if err != nil {
		return
	}
	for name, pos := range positions {
		m.position.WithLabelValues(name).Set(float64(pos))
		m.lag.WithLabelValues(name).Set(float64(max(head-pos, 0)))
	}
}
