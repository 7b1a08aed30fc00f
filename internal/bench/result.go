package bench

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
)

// Result is the JSON summary of a run.
type Result struct {
	Command    string    `json:"command"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	Machine    Machine   `json:"machine"`
	Companies  int       `json:"companies"`
	// Workers is how many worker processes ran (all drawing from one Autotask budget).
	Workers       int     `json:"workers"`
	Dataset       Dataset `json:"dataset"`
	Cold          Cold    `json:"coldProvisioning"`
	SettleSeconds float64 `json:"settleSeconds,omitempty"`
	Steady        *Steady `json:"steadyState,omitempty"`
	// SteadyWithTickets is the steady state again once the alert tickets are open.
	SteadyWithTickets *Steady      `json:"steadyStateWithOpenTickets,omitempty"`
	Propagation       *Propagation `json:"propagation,omitempty"`
	Alerts            Alerts       `json:"alertToTicket"`
	Memory            Memory       `json:"memory"`
	History           History      `json:"history"`
	Error             string       `json:"error,omitempty"`
}

// Machine describes where the run happened; the load averages show how
// much else the shared CPU was doing.
type Machine struct {
	CPUs         int    `json:"cpus"`
	GoVersion    string `json:"goVersion"`
	OS           string `json:"os"`
	LoadAvgStart string `json:"loadAvgStart"`
	LoadAvgEnd   string `json:"loadAvgEnd"`
}

// Dataset is what the sandboxes started with.
type Dataset struct {
	WithContract         int     `json:"companiesWithContract"`
	Prepaid              int     `json:"prepaid"`
	PAYG                 int     `json:"payg"`
	UnitRows             int     `json:"contractServiceUnitRows"`
	AcronisTenantsBefore int     `json:"acronisCustomerTenantsBefore"`
	GenerateSeconds      float64 `json:"generateSeconds"`
}

// Sample is one point of the cold-provisioning timeline.
type Sample struct {
	Seconds           float64 `json:"s"`
	Tenants           int     `json:"tenants"`
	Provisioned       int     `json:"provisioned"`
	AutotaskRequests  int64   `json:"autotask"`
	AcronisRequests   int64   `json:"acronis"`
	AutotaskThrottled int64   `json:"autotask429"`
	RSSBytes          int64   `json:"rss"`
}

// Cold is the cold-provisioning phase.
type Cold struct {
	Complete             bool                    `json:"complete"`
	Note                 string                  `json:"note,omitempty"`
	Expected             int                     `json:"expectedTenants"`
	Tenants              int                     `json:"tenants"`
	TenantsWallSeconds   float64                 `json:"tenantsWallSeconds,omitempty"`
	Provisioned          int                     `json:"provisioned"`
	WallSeconds          float64                 `json:"wallSeconds"`
	T50Seconds           float64                 `json:"t50Seconds,omitempty"`
	T90Seconds           float64                 `json:"t90Seconds,omitempty"`
	TenantsPerMinute     float64                 `json:"tenantsPerMinute"`
	AutotaskRequests     int64                   `json:"autotaskRequests"`
	AcronisRequests      int64                   `json:"acronisRequests"`
	AutotaskPerTenant    float64                 `json:"autotaskRequestsPerTenant"`
	AcronisPerTenant     float64                 `json:"acronisRequestsPerTenant"`
	AutotaskPerHour      float64                 `json:"autotaskRequestsPerHour"`
	AcronisPerHour       float64                 `json:"acronisRequestsPerHour"`
	AutotaskThrottled    int64                   `json:"autotask429"`
	AcronisThrottled     int64                   `json:"acronis429"`
	AutotaskServerErrors int64                   `json:"autotask5xx"`
	AcronisServerErrors  int64                   `json:"acronis5xx"`
	AutotaskEndpoints    []sandbox.EndpointCount `json:"autotaskEndpoints,omitempty"`
	AcronisEndpoints     []sandbox.EndpointCount `json:"acronisEndpoints,omitempty"`
	Timeline             []Sample                `json:"timeline,omitempty"`
}

// Steady is the steady-state phase: requests per hour extrapolated from the window.
type Steady struct {
	OpenAlertTickets  int                     `json:"openAlertTickets,omitempty"`
	WindowSeconds     float64                 `json:"windowSeconds"`
	AutotaskRequests  int64                   `json:"autotaskRequests"`
	AcronisRequests   int64                   `json:"acronisRequests"`
	AutotaskThrottled int64                   `json:"autotask429"`
	AutotaskPerHour   float64                 `json:"autotaskRequestsPerHour"`
	AcronisPerHour    float64                 `json:"acronisRequestsPerHour"`
	BudgetPercent     float64                 `json:"autotaskBudgetPercent"`
	AutotaskEndpoints []sandbox.EndpointCount `json:"autotaskEndpoints,omitempty"`
	AcronisEndpoints  []sandbox.EndpointCount `json:"acronisEndpoints,omitempty"`
}

// Propagation is the contract change → Acronis quota phase.
type Propagation struct {
	Requested        int       `json:"requested"`
	WindowSeconds    float64   `json:"windowSeconds"`
	All              Latencies `json:"all"`
	Adjustments      Latencies `json:"adjustments"`
	Silent           Latencies `json:"silent"`
	TimedOut         int       `json:"timedOut"`
	TimedOutSilent   int       `json:"timedOutSilent"`
	ApplyErrors      []string  `json:"applyErrors,omitempty"`
	AutotaskRequests int64     `json:"autotaskRequests"`
	AcronisRequests  int64     `json:"acronisRequests"`
}

// Alerts is the alert → ticket phase.
type Alerts struct {
	Measured         bool      `json:"measured"`
	Note             string    `json:"note,omitempty"`
	Raised           int       `json:"raised,omitempty"`
	RaiseErrors      int       `json:"raiseErrors,omitempty"`
	TimedOut         int       `json:"timedOut,omitempty"`
	Latency          Latencies `json:"latency"`
	AutotaskRequests int64     `json:"autotaskRequests,omitempty"`
}

// Memory is the process's memory: worker, server and both sandboxes share it.
type Memory struct {
	// Process says whose memory PeakRSSBytes and EndRSSBytes are.
	Process           string `json:"process"`
	PeakRSSBytes      int64  `json:"peakRssBytes"`
	EndRSSBytes       int64  `json:"endRssBytes"`
	HeapInuseEndBytes int64  `json:"heapInuseEndBytes,omitempty"`
	Goroutines        int    `json:"goroutinesEnd,omitempty"`
	// BenchPeakRSSBytes is the bench process's own peak (sandboxes, and the
	// app too when it runs in-process).
	BenchPeakRSSBytes int64 `json:"benchPeakRssBytes"`
}

// WorkflowHistory is one workflow's history length (events of its current run).
type WorkflowHistory struct {
	ID     string `json:"id"`
	Events int64  `json:"events"`
}

// History is the workflow history lengths after the run.
type History struct {
	CustomerWorkflows  int               `json:"customerWorkflows"`
	MaxCustomer        WorkflowHistory   `json:"maxCustomer"`
	MeanCustomerEvents float64           `json:"meanCustomerEvents"`
	Singletons         []WorkflowHistory `json:"singletons"`
}

func newResult(o Options) *Result {
	return &Result{Command: o.Command, StartedAt: time.Now().UTC(), Companies: o.Companies, Workers: o.Workers,
		Machine: Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, LoadAvgStart: loadAvg()},
		Alerts:  Alerts{Note: "not measured: the run ended before this phase"}}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round2(v float64) float64 { return math.Round(v*100) / 100 }

func round(l Latencies) Latencies {
	l.P50, l.P95, l.P99, l.Max = round2(l.P50), round2(l.P95), round2(l.P99), round2(l.Max)
	return l
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func verdict(ok bool) string {
	if ok {
		return "meets"
	}
	return "MISSES"
}

// Print writes the result as a readable table with the SPEC §10 targets.
func Print(w io.Writer, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(cols ...string) { fmt.Fprintln(tw, strings.Join(cols, "\t")) }
	fmt.Fprintf(tw, "\nacronis-autotask bench: %d companies (%d with a contract: %d prepaid, %d PAYG), %d worker process(es); %d CPUs, load %s → %s (shared machine: numbers are noisy)\n\n",
		r.Companies, r.Dataset.WithContract, r.Dataset.Prepaid, r.Dataset.PAYG, max(1, r.Workers), r.Machine.CPUs, r.Machine.LoadAvgStart, r.Machine.LoadAvgEnd)
	row("measure", "value", "target (SPEC §10)")
	row("-------", "-----", "-----------------")
	c := r.Cold
	status := fmt.Sprintf("%d/%d provisioned in %.0f s (every tenant existed after %.0f s)", c.Provisioned, c.Expected, c.WallSeconds, c.TenantsWallSeconds)
	if !c.Complete {
		status += " (INCOMPLETE: " + c.Note + ")"
	}
	row("cold provisioning", status, "bounded by vendor rate limits")
	row("  time to 50% / 90%", fmt.Sprintf("%.0f s / %.0f s (%.1f customers/min)", c.T50Seconds, c.T90Seconds, c.TenantsPerMinute), "")
	row("  Autotask requests", fmt.Sprintf("%d (%.1f/tenant, %.0f/h; %d answered 429)", c.AutotaskRequests, c.AutotaskPerTenant, c.AutotaskPerHour, c.AutotaskThrottled),
		fmt.Sprintf("limit %d/h", AutotaskHourlyLimit))
	row("  Acronis requests", fmt.Sprintf("%d (%.1f/tenant, %.0f/h; %d answered 429)", c.AcronisRequests, c.AcronisPerTenant, c.AcronisPerHour, c.AcronisThrottled), "")
	if s := r.Steady; s != nil {
		row("steady state Autotask", fmt.Sprintf("%.0f requests/h (%d in %.0f s) = %.2f%% of budget", s.AutotaskPerHour, s.AutotaskRequests, s.WindowSeconds, s.BudgetPercent),
			fmt.Sprintf("≤ 5%% (%d/h), flat in N: %s", AutotaskHourlyLimit/20, verdict(s.BudgetPercent <= 5)))
		row("steady state Acronis", fmt.Sprintf("%.0f requests/h", s.AcronisPerHour), "")
	} else {
		row("steady state", "not measured", "")
	}
	if p := r.Propagation; p != nil {
		row("propagation (all)", fmt.Sprintf("n=%d p50 %.1f s, p95 %.1f s, p99 %.1f s, max %.1f s; %d timed out", p.All.Count, p.All.P50, p.All.P95, p.All.P99, p.All.Max, p.TimedOut), "")
		row("  adjustments (new unit rows)", fmt.Sprintf("n=%d p50 %.1f s, p95 %.1f s, p99 %.1f s", p.Adjustments.Count, p.Adjustments.P50, p.Adjustments.P95, p.Adjustments.P99),
			"p99 ≤ 60 s: "+verdict(p.Adjustments.Count > 0 && p.Adjustments.P99 <= 60 && p.TimedOut-p.TimedOutSilent == 0))
		limit := 120.0
		if r.Companies > 1000 {
			limit = 900
		}
		row("  silent in-place changes", fmt.Sprintf("n=%d p50 %.1f s, p95 %.1f s, p99 %.1f s; %d timed out", p.Silent.Count, p.Silent.P50, p.Silent.P95, p.Silent.P99, p.TimedOutSilent),
			fmt.Sprintf("≤ scan interval (%.0f s at this N): %s", limit, verdict(p.Silent.Count > 0 && p.Silent.P99 <= limit && p.TimedOutSilent == 0)))
	} else {
		row("propagation", "not measured", "")
	}
	if a := r.Alerts; a.Measured {
		row("alert → ticket", fmt.Sprintf("n=%d p50 %.1f s, p99 %.1f s; %d timed out", a.Latency.Count, a.Latency.P50, a.Latency.P99, a.TimedOut), "p99 ≤ 60 s: "+verdict(a.Latency.P99 <= 60 && a.TimedOut == 0))
	} else {
		row("alert → ticket", a.Note, "p99 ≤ 60 s")
	}
	if s := r.SteadyWithTickets; s != nil {
		row(fmt.Sprintf("steady Autotask, %d tickets open", s.OpenAlertTickets), fmt.Sprintf("%.0f requests/h (%d in %.0f s) = %.2f%% of budget", s.AutotaskPerHour, s.AutotaskRequests, s.WindowSeconds, s.BudgetPercent),
			"≤ 5%: "+verdict(s.BudgetPercent <= 5))
	}
	m := r.Memory
	row("worker RSS", fmt.Sprintf("peak %s, end %s (%s; bench process peak %s)", mib(m.PeakRSSBytes), mib(m.EndRSSBytes), m.Process, mib(m.BenchPeakRSSBytes)), "worker ≤ 512 MiB")
	h := r.History
	row("longest customer history", fmt.Sprintf("%d events (%s; mean %.1f over %d)", h.MaxCustomer.Events, h.MaxCustomer.ID, h.MeanCustomerEvents, h.CustomerWorkflows), "")
	for _, s := range h.Singletons {
		row("  "+s.ID+" history", fmt.Sprintf("%d events", s.Events), "")
	}
	if r.Error != "" {
		row("error", r.Error, "")
	}
	_ = tw.Flush()
}
