// Package autotask is an in-memory, stateful fake of the Autotask PSA REST API
// v1.0 (the real paths, bodies, status codes, paging, query language, limits
// and per-entity rules the product relies on), so the integration can be
// developed, tested and benchmarked without an Autotask database.
//
// Datasets. Every dataset has the MSP's own company (id 0) and four billing
// (allocation) codes. "demo" adds the Acronis service catalog (ids 301–310,
// bundle 401), the contract UDF "Acronis PAYG" (id 501, list items Yes/No) and
// companies 101–110, each with a primary contact (DemoContactID) and, except
// 106, one Recurring Service contract (DemoContractID = 2000 + company id):
// 101 Contoso prepaid, 102 Fabrikam PAYG, 103 Northwind prepaid with the
// server bundle, 104 Tailspin buying workstations both PAYG and prepaid (a
// second contract, DemoSecondContractID; invalid per SPEC F5), 105 Wide World ended last month, 106 Adventure Works without contract,
// 107 Litware, 108 Proseware, 109 Woodgrove, 110 Blue Yonder (Microsoft 365
// seats) prepaid. "generated" builds N companies (ids from 1001) from a seed.
//
// Picklist codes are the sandbox's own except those the reference confirms
// (ticket status New=1, Complete=5; contract type Recurring Service=7); read
// them from entityInformation/fields as with a real database.
package autotask

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
)

// Default demo credentials.
const (
	DefaultUsername        = "sandbox-api@acronis-autotask.dev"
	DefaultSecret          = "sandbox-secret"
	DefaultIntegrationCode = "SANDBOXINTEGRATIONCODE"
	// RegularUsername is a regular (non-API) user: it exists (zone lookup works)
	// but the REST API refuses it, as Autotask requires API-only users.
	RegularUsername = "sandbox-user@acronis-autotask.dev"
)

// Options configure a sandbox.
type Options struct {
	// Dataset is "empty", "demo" (default) or "generated".
	Dataset string
	// Companies is the number of companies of the generated dataset.
	Companies int
	// Seed makes the generated dataset and fault draws repeatable.
	Seed uint64
	// HourlyLimit is the requests allowed per rolling hour (default 10000).
	HourlyLimit int
	// Username, Secret, IntegrationCode are the accepted API credentials
	// (defaults: the Default* constants).
	Username, Secret, IntegrationCode string
	// Now is the sandbox clock (default time.Now).
	Now func() time.Time
}

// ThreadLimit is the concurrent requests allowed per endpoint and integration code.
const ThreadLimit = 3

// Sandbox is a fake Autotask database behind an http.Handler. Safe for concurrent use.
type Sandbox struct {
	opts   Options
	faults *sandbox.Faults
	log    *sandbox.RequestLog

	mu    sync.RWMutex
	db    *store
	udfs  map[string][]udfDef // lower-case entity name → defined UDFs (cache of UserDefinedFieldDefinitions)
	picks *picklists
	// linkIdx and rowIdx index contract services and their unit rows.
	linkIdx map[linkKey]int64
	rowIdx  map[rowKey][]int64

	// usageLatency adds Autotask's usage-based delay (0.5 s from 50 % of the
	// hourly limit, 1 s from 75 %); off by default to keep tests fast.
	usageLatency atomic.Bool

	limitMu  sync.Mutex
	requests []time.Time    // authenticated requests in the rolling hour, oldest first
	threads  map[string]int // endpoint → requests in flight
}

// New builds a sandbox with the chosen dataset.
func New(opts Options) (*Sandbox, error) {
	if opts.Dataset == "" {
		opts.Dataset = "demo"
	}
	if opts.HourlyLimit <= 0 {
		opts.HourlyLimit = 10000
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	if opts.Secret == "" {
		opts.Secret = DefaultSecret
	}
	if opts.IntegrationCode == "" {
		opts.IntegrationCode = DefaultIntegrationCode
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sandbox{
		opts:    opts,
		faults:  sandbox.NewFaults(opts.Seed),
		log:     sandbox.NewRequestLog(),
		db:      newStore(),
		udfs:    map[string][]udfDef{},
		picks:   newPicklists(),
		threads: map[string]int{},
		linkIdx: map[linkKey]int64{},
		rowIdx:  map[rowKey][]int64{},
	}
	s.seedReference()
	switch opts.Dataset {
	case "empty":
	case "demo":
		if err := s.seedDemo(); err != nil {
			return nil, fmt.Errorf("sandbox: seed demo data: %w", err)
		}
	case "generated":
		if opts.Companies <= 0 {
			return nil, fmt.Errorf("sandbox: generated dataset needs Companies > 0, got %d", opts.Companies)
		}
		if err := s.seedGenerated(opts.Companies, opts.Seed); err != nil {
			return nil, fmt.Errorf("sandbox: generate %d companies: %w", opts.Companies, err)
		}
	default:
		return nil, fmt.Errorf("sandbox: unknown dataset %q (want empty, demo or generated)", opts.Dataset)
	}
	return s, nil
}

// Handler serves the API under /ATServicesRest/ (any case) plus the
// /_sandbox/ control endpoints.
// The thread limit wraps everything, injected latency included, because
// Autotask counts a request as a thread for as long as it is in flight.
func (s *Sandbox) Handler() http.Handler {
	outer := http.NewServeMux()
	outer.Handle(ControlPrefix, s.controlHandler())
	outer.Handle("/", s.threadGate(sandbox.Controls(http.HandlerFunc(s.serve), s.faults, s.log)))
	return outer
}

// Faults lets tests inject latency and failures.
func (s *Sandbox) Faults() *sandbox.Faults { return s.faults }

// RequestLog counts requests per endpoint.
func (s *Sandbox) RequestLog() *sandbox.RequestLog { return s.log }

// now is the sandbox clock at Autotask's millisecond precision.
func (s *Sandbox) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// today is midnight UTC of the sandbox's current date.
func (s *Sandbox) today() time.Time {
	y, m, d := s.now().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// hasUDF reports whether entity has a user-defined field named name.
func (s *Sandbox) hasUDF(entity, name string) bool {
	for _, u := range s.udfs[strings.ToLower(entity)] {
		if strings.EqualFold(u.name, name) {
			return true
		}
	}
	return false
}

// SimulateUsageLatency turns on (or off) the delay Autotask adds per request
// once a database has used half (0.5 s) or three quarters (1 s) of its
// hourly limit, for benchmarks of budget-aware scheduling.
func (s *Sandbox) SimulateUsageLatency(on bool) { s.usageLatency.Store(on) }
