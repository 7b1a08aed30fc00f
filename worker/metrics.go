package worker

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// NewMetricsHandler bridges the Temporal SDK's own client and worker metrics
// (requests, task slots, poller counts, schedule-to-start latencies, sticky
// cache) to the process's Prometheus registry, so /metrics shows what an
// operator sizes a fleet by. Names follow Prometheus conventions: counters
// end in _total, timers are histograms in seconds ending in _seconds.
// (The SDK's tally bridge, go.temporal.io/sdk/contrib/tally, is not served by
// the module proxy this project builds with; this is the same mapping.)
func NewMetricsHandler(reg prometheus.Registerer) client.MetricsHandler {
	s := &metricSink{series: map[string]*metricSeries{}}
	reg.MustRegister(s)
	return &metricsHandler{sink: s}
}

// timerBuckets spans a local task's milliseconds to a backlog's minutes.
var timerBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900}

type metricKind int

const (
	kindCounter metricKind = iota
	kindGauge
	kindTimer
)

type metricsHandler struct {
	sink *metricSink
	tags map[string]string
}

func (h *metricsHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &metricsHandler{sink: h.sink, tags: merged}
}

func (h *metricsHandler) Counter(name string) client.MetricsCounter {
	return h.sink.get(name+"_total", kindCounter, h.tags)
}

func (h *metricsHandler) Gauge(name string) client.MetricsGauge {
	return h.sink.get(name, kindGauge, h.tags)
}

func (h *metricsHandler) Timer(name string) client.MetricsTimer {
	return h.sink.get(name+"_seconds", kindTimer, h.tags)
}

// metricSink holds every series the SDK created and is their collector. It
// describes nothing up front (the SDK names its metrics as it goes), and pads
// the series of one name to the same label names, as Prometheus requires.
type metricSink struct {
	mu     sync.Mutex
	series map[string]*metricSeries
}

type metricSeries struct {
	name string
	kind metricKind
	tags map[string]string

	mu      sync.Mutex
	value   float64 // counter or gauge
	count   uint64
	sum     float64
	buckets []uint64 // timer: per bucket, not cumulative
}

func (s *metricSink) get(name string, kind metricKind, tags map[string]string) *metricSeries {
	keys := slices.Sorted(maps.Keys(tags))
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + tags[k])
	}
	key := b.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.series[key]; ok {
		return m
	}
	m := &metricSeries{name: sanitize(name), kind: kind, tags: maps.Clone(tags)}
	if kind == kindTimer {
		m.buckets = make([]uint64, len(timerBuckets))
	}
	s.series[key] = m
	return m
}

// Inc implements client.MetricsCounter.
func (m *metricSeries) Inc(d int64) {
	m.mu.Lock()
	m.value += float64(d)
	m.mu.Unlock()
}

// Update implements client.MetricsGauge.
func (m *metricSeries) Update(v float64) {
	m.mu.Lock()
	m.value = v
	m.mu.Unlock()
}

// Record implements client.MetricsTimer.
func (m *metricSeries) Record(d time.Duration) {
	v := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count++
	m.sum += v
	if i, _ := slices.BinarySearch(timerBuckets, v); i < len(m.buckets) {
		m.buckets[i]++
	}
}

// Describe sends nothing: the collector is unchecked.
func (s *metricSink) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (s *metricSink) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	all := slices.Collect(maps.Values(s.series))
	s.mu.Unlock()
	labels := map[string][]string{} // name → union of its label names
	for _, m := range all {
		for k := range m.tags {
			if !slices.Contains(labels[m.name], sanitize(k)) {
				labels[m.name] = append(labels[m.name], sanitize(k))
			}
		}
	}
	descs := map[string]*prometheus.Desc{}
	for _, m := range all {
		names := labels[m.name]
		slices.Sort(names)
		d, ok := descs[m.name]
		if !ok {
			d = prometheus.NewDesc(m.name, "Temporal SDK metric "+m.name+".", names, nil)
			descs[m.name] = d
		}
		values := make([]string, len(names))
		for k, v := range m.tags {
			values[slices.Index(names, sanitize(k))] = v
		}
		m.mu.Lock()
		switch m.kind {
		case kindCounter:
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, m.value, values...)
		case kindGauge:
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, m.value, values...)
		case kindTimer:
			cum := map[float64]uint64{}
			var n uint64
			for i, b := range timerBuckets {
				n += m.buckets[i]
				cum[b] = n
			}
			ch <- prometheus.MustNewConstHistogram(d, m.count, m.sum, cum, values...)
		}
		m.mu.Unlock()
	}
}

// sanitize makes a Prometheus name of an SDK metric or tag name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}
