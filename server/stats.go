package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// StatsSource reads the operational counters; *store.Store satisfies it.
type StatsSource interface {
	Stats(ctx context.Context) (store.Stats, error)
}

// Stats answers GET /api/v1/stats (SPEC F12): how many companies the
// integration sees and manages, what state they are in, the alert tickets
// and when each sync last ran. The same numbers are Prometheus gauges.
type Stats struct {
	Customers CustomerStats `json:"customers"`
	Tickets   TicketStats   `json:"tickets"`
	Usage     UsageStats    `json:"usage"`
	LastSync  []SyncTime    `json:"lastSync"`
}

// CustomerStats counts companies and customers.
type CustomerStats struct {
	// WithContracts counts Autotask companies the contract sync found with recurring contracts.
	WithContracts int64 `json:"withContracts"`
	// Mapped counts companies mapped to an Acronis tenant.
	Mapped int64 `json:"mapped"`
	// ProvisionedAutomatically counts mappings made by provisioning a new tenant.
	ProvisionedAutomatically int64 `json:"provisionedAutomatically"`
	// Deprovisioning and Error count mapped customers in those phases.
	Deprovisioning int64 `json:"deprovisioning"`
	Error          int64 `json:"error"`
	// WithLastError counts mapped customers whose last sync failed.
	WithLastError int64 `json:"withLastError"`
	// ByState counts mapped customers per phase, as their workflows last recorded.
	ByState map[string]int64 `json:"byState"`
	// ByHealth counts mappings per health: ok, renamed, missing, invalid (unknown before the first tenant sync).
	ByHealth map[string]int64 `json:"byHealth"`
}

// TicketStats counts the alert tickets the integration created.
type TicketStats struct {
	Created int64 `json:"created"`
	Open    int64 `json:"open"`
	Closed  int64 `json:"closed"`
}

// UsageStats counts usage ledger rows still to be written to Autotask.
type UsageStats struct {
	Pending int64 `json:"pending"`
}

// SyncTime is when one sync stream last made progress.
type SyncTime struct {
	Stream string    `json:"stream"`
	At     time.Time `json:"at"`
}

// Sync streams of the stats besides the named cursors.
const (
	streamContracts      = "contracts"
	streamUsageReport    = "usage-report"
	streamCustomerStates = "customer-states"
)

func (s *Server) getStats(c echo.Context) error {
	src, err := s.statsSource()
	if err != nil {
		return err
	}
	st, err := src.Stats(c.Request().Context())
	if err != nil {
		return fmt.Errorf("read stats: %w", err)
	}
	return c.JSON(http.StatusOK, statsView(st))
}

func (s *Server) statsSource() (StatsSource, error) {
	if s.deps.Stats == nil {
		return nil, fmt.Errorf("stats: %w", errNotWired)
	}
	return s.deps.Stats, nil
}

func statsView(st store.Stats) Stats {
	out := Stats{
		Customers: CustomerStats{WithContracts: st.CompaniesWithContracts, Mapped: st.Mapped, ProvisionedAutomatically: st.ProvisionedAutomatically,
			Deprovisioning: st.ByState["deprovisioning"], Error: st.ByState["error"], WithLastError: st.WithError, ByState: st.ByState, ByHealth: st.ByHealth},
		Tickets:  TicketStats{Created: st.TicketsCreated, Open: st.TicketsOpen, Closed: st.TicketsClosed},
		Usage:    UsageStats{Pending: st.UsagePending},
		LastSync: syncTimes(st),
	}
	if out.Customers.ByState == nil {
		out.Customers.ByState = map[string]int64{}
	}
	if out.Customers.ByHealth == nil {
		out.Customers.ByHealth = map[string]int64{}
	}
	return out
}

// syncTimes lists the streams that ran at least once, by name.
func syncTimes(st store.Stats) []SyncTime {
	out := []SyncTime{}
	add := func(stream string, at time.Time) {
		if !at.IsZero() {
			out = append(out, SyncTime{Stream: stream, At: at.UTC()})
		}
	}
	add(streamContracts, st.LastContractSync)
	add(streamUsageReport, st.LastUsageReport)
	add(streamCustomerStates, st.LastCustomerUpdate)
	for name, at := range st.Cursors {
		add("cursor:"+name, at)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stream < out[j].Stream })
	return out
}

// statsScrapeTimeout bounds the store query behind one scrape.
const statsScrapeTimeout = 5 * time.Second

// statsCollector exposes store.Stats as gauges, read from the store when
// Prometheus scrapes (one query), so the numbers are never stale and nothing
// runs between scrapes.
type statsCollector struct {
	src                                                               StatsSource
	up, withContracts, mapped, automatic, byState, withError, tickets *prometheus.Desc
	created, usagePending, lastSync                                   *prometheus.Desc
}

// NewStatsCollector returns the collector of the stats gauges over src.
func NewStatsCollector(src StatsSource) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("acronis_autotask_"+name, help, labels, nil)
	}
	return &statsCollector{
		src:           src,
		up:            d("stats_up", "1 when the statistics below could be read from the database, 0 otherwise."),
		withContracts: d("companies_with_contracts", "Autotask companies the contract sync found with recurring contracts."),
		mapped:        d("customers_mapped", "Autotask companies mapped to an Acronis tenant."),
		automatic:     d("customers_provisioned_automatically", "Customer mappings made by provisioning a new Acronis tenant."),
		byState:       d("customers", "Mapped customers by lifecycle state, as their workflows last recorded.", "state"),
		withError:     d("customers_with_error", "Mapped customers whose last sync failed (last error set)."),
		tickets:       d("alert_tickets", "Alert tickets by state.", "state"),
		created:       d("alert_tickets_created", "Alert tickets the integration created."),
		usagePending:  d("usage_ledger_pending", "Usage ledger rows recorded but not yet written to Autotask."),
		lastSync:      d("last_sync_timestamp_seconds", "When each sync stream last made progress (Unix time).", "stream"),
	}
}

// RegisterStatsMetrics registers the stats gauges on reg; the process calls
// it once with the server's registry and the store.
func RegisterStatsMetrics(reg prometheus.Registerer, src StatsSource) error {
	return reg.Register(NewStatsCollector(src))
}

// Describe implements prometheus.Collector.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.withContracts, c.mapped, c.automatic, c.byState, c.withError, c.tickets, c.created, c.usagePending, c.lastSync} {
		ch <- d
	}
}

// Collect implements prometheus.Collector with one store query per scrape.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsScrapeTimeout)
	defer cancel()
	st, err := c.src.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	gauge(c.up, 1)
	gauge(c.withContracts, st.CompaniesWithContracts)
	gauge(c.mapped, st.Mapped)
	gauge(c.automatic, st.ProvisionedAutomatically)
	gauge(c.withError, st.WithError)
	// The phases operators alert on are always present, so a rule on
	// customers{state="error"} sees 0 rather than no series.
	states := map[string]int64{"active": 0, "deprovisioning": 0, "error": 0}
	for k, v := range st.ByState {
		states[k] = v
	}
	for k, v := range states {
		gauge(c.byState, v, k)
	}
	gauge(c.tickets, st.TicketsOpen, "open")
	gauge(c.tickets, st.TicketsClosed, "closed")
	gauge(c.created, st.TicketsCreated)
	gauge(c.usagePending, st.UsagePending)
	for _, s := range syncTimes(st) {
		ch <- prometheus.MustNewConstMetric(c.lastSync, prometheus.GaugeValue, float64(s.At.UnixMilli())/1000, s.Stream)
	}
}
