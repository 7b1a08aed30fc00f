// Package bench measures the whole integration at scale in one process: a
// Temporal dev server, a throwaway PostgreSQL database, both API sandboxes
// (Autotask "generated" with N companies, Acronis "empty") and the binary's
// own server + worker composition. Run drives the phases (cold provisioning,
// steady state, propagation, alerts) and returns a Result that Print renders
// as a table; `acronis-autotask bench` and `make bench` call it.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// AutotaskHourlyLimit is the Autotask sandbox's (and Autotask's) request
// budget per rolling hour, the base of the steady-state target.
const AutotaskHourlyLimit = 10000

// Options configure a run. Seed and RunApp come from package main, which owns
// the composition.
type Options struct {
	Companies int
	Changes   int
	Alerts    int
	DataSeed  uint64
	// ColdTimeout ends cold provisioning; the later phases are skipped then.
	ColdTimeout time.Duration
	// SettleMax bounds the wait for Acronis traffic to stop after provisioning.
	SettleMax time.Duration
	// SteadyWindow is how long steady-state requests are counted.
	SteadyWindow time.Duration
	// ChangeSpread spreads the contract changes over this long, so their
	// latencies sample every phase of the sync's polling interval.
	ChangeSpread time.Duration
	// PropagationTimeout is how long changes may take before they count as lost.
	PropagationTimeout time.Duration
	AlertTimeout       time.Duration
	// AcronisRate is the Acronis client's request rate (ACRONIS_REQUESTS_PER_SECOND);
	// the sandbox answers 429 above 100 requests/s, the stand-in for a vendor limit.
	AcronisRate float64
	// DatabaseBaseURL is the server where the throwaway database is created.
	DatabaseBaseURL string
	// TemporalCLI is the path of the Temporal CLI.
	TemporalCLI string
	// Logs receives the application's JSON logs.
	Logs io.Writer
	// Progress receives one line per step.
	Progress io.Writer
	// Seed stores the settings and service mappings (package main's seedDemo).
	Seed func(ctx context.Context, st *store.Store) error
	// RunApp runs server + worker with the given environment until ctx ends,
	// calling workerPID with the process id of the worker once it runs.
	RunApp func(ctx context.Context, getenv func(string) string, logs io.Writer, workerPID func(int)) error
	// Command is recorded in the result.
	Command string
}

func (o *Options) defaults() {
	if o.Changes < 0 {
		o.Changes = 0
	}
	if o.ColdTimeout <= 0 {
		o.ColdTimeout = 25 * time.Minute
	}
	if o.SettleMax <= 0 {
		o.SettleMax = 3 * time.Minute
	}
	if o.SteadyWindow <= 0 {
		o.SteadyWindow = 3 * time.Minute
	}
	if o.ChangeSpread <= 0 {
		o.ChangeSpread = time.Minute
	}
	if o.PropagationTimeout <= 0 {
		o.PropagationTimeout = 20 * time.Minute
	}
	if o.AlertTimeout <= 0 {
		o.AlertTimeout = 10 * time.Minute
	}
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.DataSeed == 0 {
		o.DataSeed = 1
	}
}

// company is one generated Autotask company with its contract.
type company struct {
	id         int64
	name       string
	contractID int64
	payg       bool
	units      map[int64]int // service id → today's units
	tenantID   string
}

// quotaItems maps the standard services a propagation change may touch to
// their Acronis offering items (the mappings seedDemo stores).
var quotaItems = map[int64]string{
	atsandbox.ServiceWorkstations:    "pw_base_workstations",
	atsandbox.ServiceServers:         "pw_base_servers",
	atsandbox.ServiceVirtualMachines: "pw_base_vms",
	atsandbox.ServiceM365Seats:       "pw_base_m365_seats",
}

var catalogServices = []int64{
	atsandbox.ServiceWorkstations, atsandbox.ServiceServers, atsandbox.ServiceVirtualMachines, atsandbox.ServiceM365Seats,
	atsandbox.ServiceBackupStorage, atsandbox.ServiceAdvSecurityWS, atsandbox.ServiceAdvSecurityServer,
	atsandbox.ServiceWebHosting, atsandbox.ServiceMobileDevices, atsandbox.ServiceManagedFirewall,
}

// firstContractID is the first id the Autotask sandbox gives a contract.
const firstContractID = 2001

// discover lists the generated companies that have a contract, read from
// the sandbox in-process (no API request is spent).
func discover(at *atsandbox.Sandbox) []*company {
	var out []*company
	for id := int64(firstContractID); ; id++ {
		k, ok := at.Contract(id)
		if !ok {
			break
		}
		comp, ok := at.Company(int64(k.CompanyID))
		if !ok {
			continue
		}
		c := &company{id: comp.ID, name: comp.CompanyName, contractID: k.ID, units: map[int64]int{}}
		for _, u := range k.UserDefinedFields {
			if u.Name == atsandbox.PAYGUDFName && u.Value != nil && *u.Value == "Yes" {
				c.payg = true
			}
		}
		for _, svc := range catalogServices {
			if n, ok := at.CurrentUnits(k.ID, svc); ok {
				c.units[svc] = n
			}
		}
		out = append(out, c)
	}
	return out
}

// env is everything a run has started.
type env struct {
	opts     Options
	temporal client.Client
	at       *atsandbox.Sandbox
	ac       *acsandbox.Sandbox
	atStatus *statusCounter
	acStatus *statusCounter
	comps    []*company
	rss      rssSampler
	res      *Result
	// dataAt is when the generated data set was complete (its contracts' modification time).
	dataAt time.Time
}

// Run performs the benchmark. It returns the result gathered so far with any error.
func Run(ctx context.Context, opts Options) (*Result, error) {
	opts.defaults()
	if opts.Companies <= 0 {
		return nil, errors.New("--companies must be > 0")
	}
	if opts.Seed == nil || opts.RunApp == nil {
		return nil, errors.New("bench: Options.Seed and Options.RunApp are required")
	}
	res := newResult(opts)
	e := &env{opts: opts, res: res}
	e.rss.start(time.Second)
	defer e.rss.stop()
	err := e.run(ctx)
	res.Memory = e.rss.result()
	res.FinishedAt = time.Now().UTC()
	res.Machine.LoadAvgEnd = loadAvg()
	return res, err
}

func (e *env) progress(format string, a ...any) {
	fmt.Fprintf(e.opts.Progress, "[%s] %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func (e *env) run(ctx context.Context) error {
	o := e.opts
	e.progress("starting the Temporal dev server (%s)", o.TemporalCLI)
	srv, err := StartTemporal(ctx, o.TemporalCLI)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	e.temporal = srv.Client()

	dbURL, err := CreateDatabase(ctx, o.DatabaseBaseURL)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := DropDatabase(dctx, dbURL); err != nil {
			e.progress("could not drop the database: %v", err)
		}
	}()
	e.progress("database %s created and migrated", dbName(dbURL))

	genStart := time.Now()
	if e.at, err = atsandbox.New(atsandbox.Options{Dataset: "generated", Companies: o.Companies, Seed: o.DataSeed}); err != nil {
		return err
	}
	if e.ac, err = acsandbox.New(acsandbox.Options{Dataset: acsandbox.DatasetEmpty, Seed: o.DataSeed}); err != nil {
		return err
	}
	e.res.Dataset.AcronisTenantsBefore = e.ac.CountTenants("")
	e.comps = discover(e.at)
	e.res.Dataset.WithContract = len(e.comps)
	for _, c := range e.comps {
		if c.payg {
			e.res.Dataset.PAYG++
		} else {
			e.res.Dataset.Prepaid++
		}
	}
	e.res.Dataset.UnitRows = e.at.Count("ContractServiceUnits")
	e.res.Dataset.GenerateSeconds = time.Since(genStart).Seconds()
	e.dataAt = time.Now()
	e.progress("sandboxes: %d Autotask companies (%d with a contract: %d prepaid, %d PAYG; %d unit rows), Acronis has %d customer tenants",
		o.Companies, len(e.comps), e.res.Dataset.Prepaid, e.res.Dataset.PAYG, e.res.Dataset.UnitRows, e.res.Dataset.AcronisTenantsBefore)

	e.atStatus, e.acStatus = newStatusCounter(), newStatusCounter()
	atAddr, stopAT, err := serve(e.atStatus.wrap(e.at.Handler()))
	if err != nil {
		return err
	}
	defer stopAT()
	acAddr, stopAC, err := serve(e.acStatus.wrap(e.ac.Handler()))
	if err != nil {
		return err
	}
	defer stopAC()

	key := secrets.GenerateKey()
	kr, err := secrets.ParseKeyring(key)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, dbURL, kr)
	if err != nil {
		return err
	}
	err = o.Seed(ctx, st)
	st.Close()
	if err != nil {
		return fmt.Errorf("seed settings and mappings: %w", err)
	}

	httpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	vars := map[string]string{
		"DATABASE_URL":              dbURL,
		"TEMPORAL_ADDRESS":          srv.FrontendHostPort(),
		"TEMPORAL_NAMESPACE":        Namespace,
		"TASK_QUEUE":                "bench",
		"HTTP_ADDR":                 httpAddr,
		"API_TOKENS":                "bench:admin:bench-admin-token-0123456789",
		"SECRETS_KEY":               key,
		"LOG_LEVEL":                 "warn",
		"AUTOTASK_USERNAME":         atsandbox.DefaultUsername,
		"AUTOTASK_SECRET":           atsandbox.DefaultSecret,
		"AUTOTASK_INTEGRATION_CODE": atsandbox.DefaultIntegrationCode,
		"AUTOTASK_BASE_URL":         "http://" + atAddr + "/ATServicesRest",
		"ACRONIS_BASE_URL":          "http://" + acAddr,
		"ACRONIS_CLIENT_ID":         e.ac.ClientID(),
		"ACRONIS_CLIENT_SECRET":     e.ac.ClientSecret(),
	}
	if o.AcronisRate > 0 {
		vars["ACRONIS_REQUESTS_PER_SECOND"] = strconv.FormatFloat(o.AcronisRate, 'f', -1, 64)
	}
	appCtx, stopApp := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- o.RunApp(appCtx, func(k string) string { return vars[k] }, o.Logs, e.rss.SetPID) }()
	defer func() {
		stopApp()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				e.progress("app stopped with error: %v", err)
			}
		case <-time.After(time.Minute):
			e.progress("app did not stop within a minute")
		}
	}()
	if err := waitReady(ctx, "http://"+httpAddr+"/readyz", done); err != nil {
		return err
	}
	e.progress("server + worker ready after %.1fs", time.Since(start).Seconds())

	if !e.cold(ctx, start, done) {
		e.history(ctx)
		return ctx.Err()
	}
	if err := e.settle(ctx); err != nil {
		return err
	}
	if err := e.steady(ctx); err != nil {
		return err
	}
	if err := e.propagation(ctx); err != nil {
		return err
	}
	if err := e.alerts(ctx); err != nil {
		return err
	}
	if err := e.steadyWithTickets(ctx); err != nil {
		return err
	}
	e.history(ctx)
	return nil
}

func dbName(u string) string {
	if i := strings.LastIndex(u, "/"); i >= 0 {
		u = u[i+1:]
	}
	name, _, _ := strings.Cut(u, "?")
	return name
}

func waitReady(ctx context.Context, url string, done <-chan error) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-done:
			return fmt.Errorf("app exited during start: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("app not ready after 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// counts is a snapshot of both sandboxes' traffic.
type counts struct {
	at, ac                 int64
	atThrottled, acThrottl int64
	atEndpoints            []sandbox.EndpointCount
	acEndpoints            []sandbox.EndpointCount
}

// counts reads both request logs. Autotask requests are what its request log
// saw (everything the rolling-hour limit counts); the thread-limit 429s are
// answered before the log and show only in the throttled count.
func (e *env) counts() counts {
	return counts{
		at: e.at.RequestLog().Total(), ac: e.ac.RequestLog().Total(),
		atThrottled: e.atStatus.count(http.StatusTooManyRequests), acThrottl: e.acStatus.count(http.StatusTooManyRequests),
		atEndpoints: e.at.RequestLog().Snapshot(), acEndpoints: e.ac.RequestLog().Snapshot(),
	}
}

// cold waits until every company with a contract is provisioned: its tenant
// exists, has the integration's admin user and Cyber Protection, and (prepaid)
// a standard item's quota equals the contract units. The time each tenant
// appeared is recorded too: a tenant alone is not a usable customer.
func (e *env) cold(ctx context.Context, start time.Time, done <-chan error) bool {
	o := e.opts
	c := &e.res.Cold
	c.Expected = len(e.comps)
	e.progress("cold provisioning: waiting for %d customers to be provisioned (timeout %s)", c.Expected, o.ColdTimeout)
	var tenantAt, readyAt []time.Time
	noTenant := slices.Clone(e.comps)
	var notReady []*company
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastReport := time.Now()
	deadline := start.Add(o.ColdTimeout)
	for {
		select {
		case <-ctx.Done():
			c.Note = fmt.Sprintf("interrupted with %d of %d tenants, %d provisioned", len(tenantAt), c.Expected, len(readyAt))
			e.finishCold(start, time.Now(), tenantAt, readyAt, e.counts())
			return false
		case err := <-done:
			c.Note = fmt.Sprintf("app exited: %v", err)
			return false
		case now := <-tick.C:
			keep := noTenant[:0]
			for _, comp := range noTenant {
				if t, ok := e.ac.TenantByName(comp.name); ok {
					comp.tenantID = t.ID
					tenantAt = append(tenantAt, now)
					notReady = append(notReady, comp)
					continue
				}
				keep = append(keep, comp)
			}
			noTenant = keep
			still := notReady[:0]
			for _, comp := range notReady {
				if e.provisioned(comp) {
					readyAt = append(readyAt, now)
					continue
				}
				still = append(still, comp)
			}
			notReady = still
			complete := len(noTenant) == 0 && len(notReady) == 0
			if len(noTenant) == 0 && c.TenantsWallSeconds == 0 {
				c.TenantsWallSeconds = round1(now.Sub(start).Seconds())
			}
			n := e.counts()
			if now.Sub(lastReport) >= 30*time.Second || complete {
				lastReport = now
				elapsed := now.Sub(start)
				c.Timeline = append(c.Timeline, Sample{Seconds: round1(elapsed.Seconds()), Tenants: len(tenantAt), Provisioned: len(readyAt),
					AutotaskRequests: n.at, AcronisRequests: n.ac, AutotaskThrottled: n.atThrottled, RSSBytes: e.rss.current()})
				e.progress("  %5.0fs: %d/%d tenants, %d provisioned; Autotask %d requests (%d throttled, %d in the rolling hour), Acronis %d",
					elapsed.Seconds(), len(tenantAt), c.Expected, len(readyAt), n.at, n.atThrottled, e.at.RequestsThisHour(), n.ac)
			}
			if complete {
				e.finishCold(start, now, tenantAt, readyAt, n)
				c.Complete = true
				return true
			}
			if now.After(deadline) {
				c.Note = fmt.Sprintf("timed out after %s with %d of %d tenants, %d provisioned", o.ColdTimeout, len(tenantAt), c.Expected, len(readyAt))
				e.finishCold(start, now, tenantAt, readyAt, n)
				return false
			}
		}
	}
}

// provisioned reports whether a company's tenant is usable: admin user,
// Cyber Protection, and for prepaid contracts the quota of a standard item.
func (e *env) provisioned(c *company) bool {
	t, ok := e.ac.Tenant(c.tenantID)
	if !ok || t.Users == 0 || !slices.Contains(t.Applications, acsandbox.CyberProtectionAppID) {
		return false
	}
	if c.payg {
		return true
	}
	for _, svc := range catalogServices {
		item, ok := quotaItems[svc]
		units, has := c.units[svc]
		if !ok || !has {
			continue
		}
		it, err := e.ac.OfferingItem(c.tenantID, item, "")
		return err == nil && it.Quota != nil && *it.Quota == float64(units)
	}
	return true // no standard service: the admin user is the last step
}

func (e *env) finishCold(start, now time.Time, tenantAt, readyAt []time.Time, n counts) {
	c := &e.res.Cold
	wall := now.Sub(start)
	c.Tenants, c.Provisioned = len(tenantAt), len(readyAt)
	c.WallSeconds = round1(wall.Seconds())
	if d, ok := TimeToFraction(start, readyAt, c.Expected, 0.5); ok {
		c.T50Seconds = round1(d.Seconds())
	}
	if d, ok := TimeToFraction(start, readyAt, c.Expected, 0.9); ok {
		c.T90Seconds = round1(d.Seconds())
	}
	c.AutotaskRequests, c.AcronisRequests = n.at, n.ac
	c.AutotaskThrottled, c.AcronisThrottled = n.atThrottled, n.acThrottl
	c.AutotaskServerErrors, c.AcronisServerErrors = e.atStatus.serverErrors(), e.acStatus.serverErrors()
	c.AutotaskPerHour = round1(PerHour(n.at, wall))
	c.AcronisPerHour = round1(PerHour(n.ac, wall))
	c.TenantsPerMinute = round1(float64(len(readyAt)) / wall.Minutes())
	c.AutotaskEndpoints = top(n.atEndpoints, 12)
	c.AcronisEndpoints = top(n.acEndpoints, 12)
	if c.Provisioned > 0 {
		c.AutotaskPerTenant = round1(float64(n.at) / float64(c.Provisioned))
		c.AcronisPerTenant = round1(float64(n.ac) / float64(c.Provisioned))
	}
	e.progress("cold provisioning: %d/%d tenants (all by %.0fs), %d provisioned in %.0fs; Autotask %d requests (%d throttled), Acronis %d",
		c.Tenants, c.Expected, c.TenantsWallSeconds, c.Provisioned, wall.Seconds(), n.at, n.atThrottled, n.ac)
}

// settle waits until the Acronis traffic of provisioning (quotas, users,
// activation emails) has died down to the periodic polls (at most 2 requests
// in 30 s), at most SettleMax.
// quietAfterData is how long after the data set was generated the steady
// state starts: longer than the contract sync's overlap (5 minutes).
const quietAfterData = 5*time.Minute + 30*time.Second

func (e *env) settle(ctx context.Context) error {
	start := time.Now()
	type point struct {
		at time.Time
		n  int64
	}
	window := []point{{start, e.ac.RequestLog().Total()}}
	// "Nothing changing" includes Autotask: the contract sync re-reads contracts
	// modified in its last 5-minute overlap, which the generated data all were.
	for time.Since(e.dataAt) < quietAfterData {
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	for time.Since(start) < e.opts.SettleMax {
		if err := sleep(ctx, 5*time.Second); err != nil {
			return err
		}
		now := point{time.Now(), e.ac.RequestLog().Total()}
		window = append(window, now)
		for len(window) > 1 && now.at.Sub(window[1].at) >= 30*time.Second {
			window = window[1:]
		}
		if now.at.Sub(window[0].at) >= 30*time.Second && now.n-window[0].n <= 2 {
			break
		}
	}
	e.res.SettleSeconds = round1(time.Since(start).Seconds())
	e.progress("settled after %.0fs (Autotask data unchanged for %s, then Acronis at most 2 requests in 30s, or %s passed)", time.Since(start).Seconds(), quietAfterData, e.opts.SettleMax)
	return nil
}

// steady counts requests over the window with nothing changing.
func (e *env) steady(ctx context.Context) error {
	s, err := e.measureSteady(ctx, "steady state")
	e.res.Steady = s
	return err
}

// steadyWithTickets repeats the steady-state window once the alert tickets
// are open: the alert sync checks open tickets for completion in Autotask.
func (e *env) steadyWithTickets(ctx context.Context) error {
	if !e.res.Alerts.Measured || e.res.Alerts.Latency.Count == 0 {
		return nil
	}
	s, err := e.measureSteady(ctx, fmt.Sprintf("steady state with %d open alert tickets", e.res.Alerts.Latency.Count))
	if s != nil {
		s.OpenAlertTickets = e.res.Alerts.Latency.Count
	}
	e.res.SteadyWithTickets = s
	return err
}

func (e *env) measureSteady(ctx context.Context, what string) (*Steady, error) {
	w := e.opts.SteadyWindow
	e.progress("%s: counting requests for %s with nothing changing", what, w)
	before, t0 := e.counts(), time.Now()
	if err := sleep(ctx, w); err != nil {
		return nil, err
	}
	after, elapsed := e.counts(), time.Since(t0)
	s := &Steady{WindowSeconds: round1(elapsed.Seconds()), AutotaskRequests: after.at - before.at, AcronisRequests: after.ac - before.ac,
		AutotaskThrottled: after.atThrottled - before.atThrottled}
	s.AutotaskPerHour = round1(PerHour(s.AutotaskRequests, elapsed))
	s.AcronisPerHour = round1(PerHour(s.AcronisRequests, elapsed))
	s.BudgetPercent = round2(Share(s.AutotaskPerHour, AutotaskHourlyLimit))
	s.AutotaskEndpoints = top(diff(after.atEndpoints, before.atEndpoints), 12)
	s.AcronisEndpoints = top(diff(after.acEndpoints, before.acEndpoints), 12)
	e.progress("%s: Autotask %d requests in %.0fs = %.0f/h (%.2f%% of %d/h), Acronis %.0f/h",
		what, s.AutotaskRequests, elapsed.Seconds(), s.AutotaskPerHour, s.BudgetPercent, AutotaskHourlyLimit, s.AcronisPerHour)
	return s, nil
}

// change is one propagation sample.
type change struct {
	comp     *company
	service  int64
	item     string
	want     int
	silent   bool
	at       time.Time
	latency  time.Duration
	done     bool
	applyErr error
}

// propagation changes contract units of random prepaid companies and waits
// for each Acronis quota to match.
func (e *env) propagation(ctx context.Context) error {
	o := e.opts
	if o.Changes == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(o.DataSeed, 0x5eed))
	var candidates []*company
	for _, c := range e.comps {
		if c.payg || c.tenantID == "" {
			continue
		}
		for svc := range quotaItems {
			if _, ok := c.units[svc]; ok {
				candidates = append(candidates, c)
				break
			}
		}
	}
	rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	n := min(o.Changes, len(candidates))
	changes := make([]*change, n)
	for i := range n {
		c := candidates[i]
		var svcs []int64
		for svc := range quotaItems {
			if _, ok := c.units[svc]; ok {
				svcs = append(svcs, svc)
			}
		}
		slices.Sort(svcs)
		svc := svcs[rng.IntN(len(svcs))]
		changes[i] = &change{comp: c, service: svc, item: quotaItems[svc], want: c.units[svc] + 1 + rng.IntN(5), silent: i%2 == 1}
	}
	e.progress("propagation: changing units of %d prepaid companies over %s (half adjustments, half silent in place); timeout %s",
		n, o.ChangeSpread, o.PropagationTimeout)
	before := e.counts()
	t0 := time.Now()
	var applied atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, ch := range changes {
			due := t0.Add(time.Duration(int64(o.ChangeSpread) * int64(i) / int64(max(n, 1))))
			if sleep(ctx, time.Until(due)) != nil {
				return
			}
			ch.at = time.Now()
			if ch.silent {
				ch.applyErr = e.at.SetUnitsSilently(ch.comp.contractID, ch.service, ch.want)
			} else {
				today := time.Now().UTC().Truncate(24 * time.Hour)
				ch.applyErr = e.at.AdjustUnits(ch.comp.contractID, ch.service, ch.want-ch.comp.units[ch.service], today)
			}
			applied.Store(int64(i + 1))
		}
	}()
	deadline := t0.Add(o.ChangeSpread + o.PropagationTimeout)
	for {
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			wg.Wait()
			return err
		}
		now := time.Now()
		open := 0
		for _, ch := range changes[:applied.Load()] {
			if ch.done || ch.applyErr != nil {
				continue
			}
			it, err := e.ac.OfferingItem(ch.comp.tenantID, ch.item, "")
			if err == nil && it.Quota != nil && *it.Quota == float64(ch.want) {
				ch.done, ch.latency = true, now.Sub(ch.at)
				ch.comp.units[ch.service] = ch.want
				continue
			}
			open++
		}
		if applied.Load() == int64(n) && open == 0 {
			break
		}
		if now.After(deadline) {
			break
		}
	}
	wg.Wait()
	after := e.counts()
	p := &Propagation{Requested: n, WindowSeconds: round1(time.Since(t0).Seconds()),
		AutotaskRequests: after.at - before.at, AcronisRequests: after.ac - before.ac}
	var all, adj, sil []time.Duration
	for _, ch := range changes {
		switch {
		case ch.applyErr != nil:
			p.ApplyErrors = append(p.ApplyErrors, fmt.Sprintf("company %d: %v", ch.comp.id, ch.applyErr))
		case !ch.done:
			p.TimedOut++
			if ch.silent {
				p.TimedOutSilent++
			}
		default:
			all = append(all, ch.latency)
			if ch.silent {
				sil = append(sil, ch.latency)
			} else {
				adj = append(adj, ch.latency)
			}
		}
	}
	p.All, p.Adjustments, p.Silent = round(Summarize(all)), round(Summarize(adj)), round(Summarize(sil))
	e.res.Propagation = p
	e.progress("propagation: %d/%d matched; all p50 %.1fs p95 %.1fs p99 %.1fs; adjustments p99 %.1fs; silent p99 %.1fs; %d timed out",
		p.All.Count, n, p.All.P50, p.All.P95, p.All.P99, p.Adjustments.P99, p.Silent.P99, p.TimedOut)
	return nil
}

// alerts measures alert → ticket latency when the alert workflows run.
func (e *env) alerts(ctx context.Context) error {
	a := &e.res.Alerts
	if _, err := e.temporal.DescribeWorkflowExecution(ctx, workflows.AlertSyncWorkflowID, ""); err != nil {
		var nf *serviceerror.NotFound
		if !errors.As(err, &nf) {
			a.Note = "not measured: " + err.Error()
			return nil
		}
		a.Note = "not measured: tickets not implemented yet (no alert-sync workflow runs in the worker)"
		e.progress("alert → ticket: %s", a.Note)
		return nil
	}
	o := e.opts
	var targets []*company
	for _, c := range e.comps {
		if c.tenantID != "" {
			targets = append(targets, c)
		}
	}
	if o.Alerts <= 0 || len(targets) == 0 {
		a.Note = "not measured: no alerts requested or no tenants"
		return nil
	}
	rng := rand.New(rand.NewPCG(o.DataSeed, 0xa1e7))
	type raised struct {
		id      string
		at      time.Time
		latency time.Duration
		done    bool
	}
	e.progress("alert → ticket: raising %d alerts over %s", o.Alerts, o.ChangeSpread)
	before := e.counts()
	t0 := time.Now()
	list := make([]*raised, 0, o.Alerts)
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range o.Alerts {
			due := t0.Add(time.Duration(int64(o.ChangeSpread) * int64(i) / int64(o.Alerts)))
			if sleep(ctx, time.Until(due)) != nil {
				return
			}
			c := targets[rng.IntN(len(targets))]
			at := time.Now()
			id, err := e.ac.RaiseAlert(acsandbox.AlertSpec{TenantID: c.tenantID, Type: "BackupFailed", Severity: "error",
				Details: map[string]any{"resourceName": fmt.Sprintf("BENCH-%05d", i), "planName": "bench"}})
			if err != nil {
				mu.Lock()
				a.RaiseErrors++
				mu.Unlock()
				continue
			}
			mu.Lock()
			list = append(list, &raised{id: id, at: at})
			mu.Unlock()
		}
	}()
	deadline := t0.Add(o.ChangeSpread + o.AlertTimeout)
	for {
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			wg.Wait()
			return err
		}
		now := time.Now()
		mu.Lock()
		cur := slices.Clone(list)
		mu.Unlock()
		open := 0
		for _, r := range cur {
			if r.done {
				continue
			}
			if len(e.at.TicketsByExternalID(r.id)) > 0 {
				r.done, r.latency = true, now.Sub(r.at)
				continue
			}
			open++
		}
		if len(cur)+a.RaiseErrors >= o.Alerts && open == 0 {
			break
		}
		if now.After(deadline) {
			break
		}
	}
	wg.Wait()
	var ls []time.Duration
	for _, r := range list {
		if r.done {
			ls = append(ls, r.latency)
		} else {
			a.TimedOut++
		}
	}
	after := e.counts()
	a.Measured, a.Raised = true, len(list)
	a.Latency = round(Summarize(ls))
	a.AutotaskRequests = after.at - before.at
	a.Note = ""
	e.progress("alert → ticket: %d/%d tickets; p50 %.1fs p99 %.1fs; %d timed out", a.Latency.Count, a.Raised, a.Latency.P50, a.Latency.P99, a.TimedOut)
	return nil
}

// history finds the longest workflow histories (events of the current run).
func (e *env) history(ctx context.Context) {
	h := &e.res.History
	ids := []string{workflows.ContractSyncWorkflowID, workflows.UsageReportWorkflowID, workflows.AlertSyncWorkflowID}
	singletons := len(ids)
	for _, c := range e.comps {
		ids = append(ids, workflows.CustomerWorkflowID(c.id))
	}
	type hl struct {
		id string
		n  int64
	}
	out := make([]hl, len(ids))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				d, err := e.temporal.DescribeWorkflowExecution(dctx, ids[i], "")
				cancel()
				if err == nil {
					out[i] = hl{ids[i], d.GetWorkflowExecutionInfo().GetHistoryLength()}
				}
			}
		}()
	}
	wg.Wait()
	var total int64
	for i, v := range out {
		if v.id == "" {
			continue
		}
		if i < singletons {
			h.Singletons = append(h.Singletons, WorkflowHistory{ID: v.id, Events: v.n})
			continue
		}
		h.CustomerWorkflows++
		total += v.n
		if v.n > h.MaxCustomer.Events {
			h.MaxCustomer = WorkflowHistory{ID: v.id, Events: v.n}
		}
	}
	if h.CustomerWorkflows > 0 {
		h.MeanCustomerEvents = round1(float64(total) / float64(h.CustomerWorkflows))
	}
	e.progress("histories: %d customer workflows, longest %s (%d events), mean %.1f; singletons %v",
		h.CustomerWorkflows, h.MaxCustomer.ID, h.MaxCustomer.Events, h.MeanCustomerEvents, h.Singletons)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// diff is after − before per endpoint, without zero rows.
func diff(after, before []sandbox.EndpointCount) []sandbox.EndpointCount {
	b := map[string]int{}
	for _, r := range before {
		b[r.Endpoint] = r.Count
	}
	var out []sandbox.EndpointCount
	for _, r := range after {
		if d := r.Count - b[r.Endpoint]; d > 0 {
			out = append(out, sandbox.EndpointCount{Endpoint: r.Endpoint, Count: d})
		}
	}
	slices.SortFunc(out, func(x, y sandbox.EndpointCount) int {
		if x.Count != y.Count {
			return y.Count - x.Count
		}
		return strings.Compare(x.Endpoint, y.Endpoint)
	})
	return out
}

func top(rows []sandbox.EndpointCount, n int) []sandbox.EndpointCount {
	if len(rows) > n {
		return rows[:n]
	}
	return rows
}

// rssSampler records the worker's resident set size once a period: the
// worker's own process when it runs apart (SetPID), else this process, which
// then also holds the server and both sandboxes. This process is sampled too.
type rssSampler struct {
	mu       sync.Mutex
	pid      int // 0: this process
	peak     int64
	last     int64
	selfPeak int64
	quit     chan struct{}
	ended    chan struct{}
}

func readRSS(pid int) (rss, hwm int64) {
	path := "/proc/self/status"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	return ParseProcStatus(string(b))
}

// SetPID makes the sampler follow the worker's process.
func (r *rssSampler) SetPID(pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pid == os.Getpid() {
		pid = 0
	}
	r.pid, r.peak, r.last = pid, 0, 0
}

func (r *rssSampler) start(every time.Duration) {
	r.quit, r.ended = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.ended)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			r.sample()
			select {
			case <-t.C:
			case <-r.quit:
				return
			}
		}
	}()
}

func (r *rssSampler) sample() {
	r.mu.Lock()
	defer r.mu.Unlock()
	self, _ := readRSS(0)
	r.selfPeak = max(r.selfPeak, self)
	rss, hwm := readRSS(r.pid)
	if rss == 0 {
		return // the worker's process has exited: keep its last sample
	}
	r.last = rss
	r.peak = max(r.peak, rss, hwm)
}

func (r *rssSampler) current() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *rssSampler) stop() {
	if r.quit != nil {
		select {
		case <-r.quit:
		default:
			close(r.quit)
			<-r.ended
		}
	}
}

func (r *rssSampler) result() Memory {
	r.stop()
	r.sample()
	r.mu.Lock()
	defer r.mu.Unlock()
	m := Memory{PeakRSSBytes: r.peak, EndRSSBytes: r.last, Process: "worker process (acronis-autotask worker)"}
	_, selfHWM := readRSS(0)
	m.BenchPeakRSSBytes = max(r.selfPeak, selfHWM)
	if r.pid == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.Process = "bench process: worker, server and both sandboxes"
		m.HeapInuseEndBytes, m.Goroutines = int64(ms.HeapInuse), runtime.NumGoroutine()
	}
	return m
}
