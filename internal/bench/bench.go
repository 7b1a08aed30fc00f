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
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AutotaskHourlyLimit is the Autotask sandbox's (and Autotask's) request
// budget per rolling hour, the base of the steady-state target.
const AutotaskHourlyLimit = 10000

// Options configure a run. Seed and RunApp come from package main, which owns
// the composition.
type Options struct {
	Companies int
	// Workers is how many worker processes RunApp starts (recorded in the result).
	Workers  int
	Changes  int
	Alerts   int
	DataSeed uint64
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
	// RunApp runs a server and Workers workers with the given environment
	// until ctx ends, calling workerPID with the process id of the first
	// worker (whose memory is sampled) once it runs.
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
