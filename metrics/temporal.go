package metrics

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdkmetrics "go.temporal.io/sdk/client"
)

// Temporal adapts the Temporal SDK's metrics (worker poll and task
// latencies, activity and workflow counts, sticky cache, …) to Prometheus.
// A metric's label names are fixed by its first use; later uses with other
// tags fill missing labels with "" and drop extra ones, as Prometheus needs a
// fixed label set per metric.
type Temporal struct {
	reg  prometheus.Registerer
	tags map[string]string

	mu   *sync.Mutex
	vecs map[string]*vec
}

type vec struct {
	labels    []string
	counter   *prometheus.CounterVec
	gauge     *prometheus.GaugeVec
	histogram *prometheus.HistogramVec
}

var _ sdkmetrics.MetricsHandler = (*Temporal)(nil)

// NewTemporal returns an SDK metrics handler registering with reg.
func NewTemporal(reg prometheus.Registerer) *Temporal {
	return &Temporal{reg: reg, mu: &sync.Mutex{}, vecs: map[string]*vec{}}
}

// WithTags implements client.MetricsHandler.
func (t *Temporal) WithTags(tags map[string]string) sdkmetrics.MetricsHandler {
	merged := make(map[string]string, len(t.tags)+len(tags))
	for k, v := range t.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return &Temporal{reg: t.reg, tags: merged, mu: t.mu, vecs: t.vecs}
}

func (t *Temporal) get(name string, kind byte) (*vec, prometheus.Labels) {
	name = strings.ReplaceAll(name, ".", "_")
	t.mu.Lock()
	defer t.mu.Unlock()
	key := string(kind) + name
	v, ok := t.vecs[key]
	if !ok {
		v = &vec{}
		for k := range t.tags {
			v.labels = append(v.labels, k)
		}
		sort.Strings(v.labels)
		switch kind {
		case 'c':
			v.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "Temporal SDK counter " + name}, v.labels)
			t.register(v.counter)
		case 'g':
			v.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "Temporal SDK gauge " + name}, v.labels)
			t.register(v.gauge)
		case 'h':
			v.histogram = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name + "_seconds", Help: "Temporal SDK timer " + name,
				Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, v.labels)
			t.register(v.histogram)
		}
		t.vecs[key] = v
	}
	labels := prometheus.Labels{}
	for _, l := range v.labels {
		labels[l] = t.tags[l]
	}
	return v, labels
}

func (t *Temporal) register(c prometheus.Collector) {
	if t.reg != nil {
		_ = t.reg.Register(c) // a name clash only loses that metric, never the worker
	}
}

// Counter implements client.MetricsHandler.
func (t *Temporal) Counter(name string) sdkmetrics.MetricsCounter {
	v, l := t.get(name, 'c')
	return counter{v.counter.With(l)}
}

// Gauge implements client.MetricsHandler.
func (t *Temporal) Gauge(name string) sdkmetrics.MetricsGauge {
	v, l := t.get(name, 'g')
	return gauge{v.gauge.With(l)}
}

// Timer implements client.MetricsHandler.
func (t *Temporal) Timer(name string) sdkmetrics.MetricsTimer {
	v, l := t.get(name, 'h')
	return timer{v.histogram.With(l)}
}

type counter struct{ c prometheus.Counter }

func (c counter) Inc(n int64) { c.c.Add(float64(n)) }

type gauge struct{ g prometheus.Gauge }

func (g gauge) Update(v float64) { g.g.Set(v) }

type timer struct{ h prometheus.Observer }

func (t timer) Record(d time.Duration) { t.h.Observe(d.Seconds()) }
