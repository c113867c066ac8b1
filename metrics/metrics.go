// Package metrics holds the Prometheus collectors that several adapters
// share, so that every event store reports under the same names whichever
// database it wraps.
package metrics

import (
	"time"

	"github.com/houqin/houqin"
	"github.com/prometheus/client_golang/prometheus"
)

// Store reports an event store's appends. A nil *Store records nothing, so
// adapters can call it unconditionally.
type Store struct {
	appends  *prometheus.CounterVec
	events   prometheus.Counter
	duration prometheus.Histogram
	batch    prometheus.Histogram
}

// NewStore registers the event-store collectors for one adapter ("sqlite",
// "postgres") with reg. A nil reg returns nil: metrics off.
func NewStore(reg prometheus.Registerer, adapter string) *Store {
	if reg == nil {
		return nil
	}
	labels := prometheus.Labels{"adapter": adapter}
	m := &Store{
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "houqin_eventstore_appends_total", ConstLabels: labels,
			Help: "Append calls by result code (ok, EINVALID, ECONFLICT, EINTERNAL, ...).",
		}, []string{"code"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "houqin_eventstore_events_appended_total", ConstLabels: labels,
			Help: "Events written (retries that write nothing are not counted).",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "houqin_eventstore_append_duration_seconds", ConstLabels: labels,
			Help:    "Time from Append call to durable commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "houqin_eventstore_commit_batch_appends", ConstLabels: labels,
			Help:    "Append calls sharing one transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
	}
	reg.MustRegister(m.appends, m.events, m.duration, m.batch)
	return m
}

// ObserveAppend records one Append call that started at start and wrote
// written events (0 for a retry or a failure).
func (m *Store) ObserveAppend(start time.Time, written int, err error) {
	if m == nil {
		return
	}
	code := houqin.ErrorCode(err)
	if code == "" {
		code = "ok"
	}
	m.appends.WithLabelValues(code).Inc()
	m.events.Add(float64(written))
	m.duration.Observe(time.Since(start).Seconds())
}

// ObserveBatch records how many Append calls one commit carried.
func (m *Store) ObserveBatch(appends int) {
	if m == nil {
		return
	}
	m.batch.Observe(float64(appends))
}
