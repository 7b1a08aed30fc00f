package acronis

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	"golang.org/x/time/rate"
)

// Default credentials of the sandbox's API client.
const (
	DefaultClientID     = "00000000-0000-4000-8000-000000000001"
	DefaultClientSecret = "sandbox-secret"
)

// Datasets New can load.
const (
	DatasetEmpty     = "empty"
	DatasetDemo      = "demo"
	DatasetGenerated = "generated"
)

// Options configure a sandbox.
type Options struct {
	// Dataset is "empty" (partner only), "demo" (default) or "generated".
	Dataset string
	// Companies is the number of customer tenants of the generated dataset.
	Companies int
	// Seed makes the generated dataset and fault draws repeatable.
	Seed uint64
	// ClientID and ClientSecret are the accepted API client credentials
	// (defaults DefaultClientID and DefaultClientSecret).
	ClientID, ClientSecret string
	// TokenTTL is the access token lifetime (default 2 h, as Acronis).
	TokenTTL time.Duration
	// Now is the sandbox clock (default time.Now).
	Now func() time.Time
	// RequestsPerSecond and Burst limit API calls; beyond them the sandbox
	// answers 429 with Retry-After (defaults 100 and 200; negative disables).
	RequestsPerSecond float64
	Burst             int
	// SimulateUsage gives an item some usage when it is first turned on for a
	// tenant, so a demo's new customers have something to report (`dev` sets it).
	SimulateUsage bool
	// ReportDelay is how long a new usage report stays in_progress on the
	// sandbox clock (default 90 s: Acronis says reports usually take 1–2 min).
	ReportDelay time.Duration
}

// Sandbox is an in-memory, stateful fake of the Acronis Account Management v2
// and Alert Manager v1 APIs. It is safe for concurrent use.
type Sandbox struct {
	opts    Options
	faults  *sandbox.Faults
	log     *sandbox.RequestLog
	handler http.Handler

	limMu   sync.Mutex
	limiter *rate.Limiter // nil: unlimited

	mu sync.RWMutex
	st *state
}

// New builds a sandbox with the chosen dataset.
func New(opts Options) (*Sandbox, error) {
	if opts.Dataset == "" {
		opts.Dataset = DatasetDemo
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 2 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RequestsPerSecond == 0 {
		opts.RequestsPerSecond = 100
	}
	if opts.ReportDelay == 0 {
		opts.ReportDelay = 90 * time.Second
	}
	if opts.Burst <= 0 {
		opts.Burst = 200
	}
	s := &Sandbox{opts: opts, faults: sandbox.NewFaults(opts.Seed), log: sandbox.NewRequestLog()}
	s.SetRateLimit(opts.RequestsPerSecond, opts.Burst)
	s.st = newState(opts.Now())
	s.seedPartner()
	switch opts.Dataset {
	case DatasetEmpty:
	case DatasetDemo:
		s.seedDemo()
	case DatasetGenerated:
		if opts.Companies < 0 {
			return nil, fmt.Errorf("acronis sandbox: Companies is %d, want ≥ 0", opts.Companies)
		}
		s.seedGenerated(opts.Companies, opts.Seed)
	default:
		return nil, fmt.Errorf("acronis sandbox: unknown dataset %q (want empty, demo or generated)", opts.Dataset)
	}
	s.handler = s.buildHandler()
	return s, nil
}

// Handler serves the API, the shared fault and request-log controls under
// /_sandbox/ and the Acronis state controls under /_sandbox/acronis/.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Faults are the injected failures, for reliability tests.
func (s *Sandbox) Faults() *sandbox.Faults { return s.faults }

// RequestLog counts the API requests per endpoint, for request budgets.
func (s *Sandbox) RequestLog() *sandbox.RequestLog { return s.log }

// ClientID is the accepted API client id.
func (s *Sandbox) ClientID() string { return s.opts.ClientID }

// ClientSecret is the accepted API client secret.
func (s *Sandbox) ClientSecret() string { return s.opts.ClientSecret }

// PartnerID is the id of the partner tenant that owns the API client.
func (s *Sandbox) PartnerID() string { return PartnerID }

// SetRateLimit changes the API rate limit; rps < 0 disables it.
func (s *Sandbox) SetRateLimit(rps float64, burst int) {
	s.limMu.Lock()
	defer s.limMu.Unlock()
	if rps < 0 {
		s.limiter = nil
		return
	}
	if burst <= 0 {
		burst = 1
	}
	s.limiter = rate.NewLimiter(rate.Limit(rps), burst)
}

func (s *Sandbox) now() time.Time { return s.opts.Now().UTC() }

func (s *Sandbox) buildHandler() http.Handler {
	api := http.NewServeMux()
	s.routes(api)
	outer := http.NewServeMux()
	outer.Handle(ControlPrefix, s.controlHandler())
	outer.Handle("/", sandbox.Controls(s.guard(platformErrors(api)), s.faults, s.log))
	return outer
}

// routes registers every API endpoint.
func (s *Sandbox) routes(m *http.ServeMux) {
	m.HandleFunc("POST /api/2/idp/token", s.handleToken)
	m.HandleFunc("GET /api/2/clients/{id}", s.handleGetClient)

	m.HandleFunc("GET /api/2/tenants", s.handleListTenants)
	m.HandleFunc("POST /api/2/tenants", s.handleCreateTenant)
	m.HandleFunc("GET /api/2/tenants/usages", s.handleBatchUsages)
	m.HandleFunc("GET /api/2/tenants/{id}", s.handleGetTenant)
	m.HandleFunc("PUT /api/2/tenants/{id}", s.handleUpdateTenant)
	m.HandleFunc("DELETE /api/2/tenants/{id}", s.handleDeleteTenant)
	m.HandleFunc("GET /api/2/tenants/{id}/children", s.handleChildren)
	m.HandleFunc("GET /api/2/tenants/{id}/pricing", s.handleGetPricing)
	m.HandleFunc("PUT /api/2/tenants/{id}/pricing", s.handlePutPricing)
	m.HandleFunc("GET /api/2/tenants/{id}/mfa/status", s.handleGetMFA)
	m.HandleFunc("PUT /api/2/tenants/{id}/mfa/status", s.handlePutMFA)
	m.HandleFunc("GET /api/2/tenants/{id}/applications", s.handleTenantApplications)
	m.HandleFunc("GET /api/2/tenants/{id}/offering_items", s.handleGetOfferingItems)
	m.HandleFunc("PUT /api/2/tenants/{id}/offering_items", s.handlePutOfferingItems)
	m.HandleFunc("GET /api/2/tenants/{id}/offering_items/available_for_child", s.handleAvailableForChild)
	m.HandleFunc("GET /api/2/tenants/{id}/infra", s.handleTenantInfra)
	m.HandleFunc("GET /api/2/tenants/{id}/usages", s.handleTenantUsages)
	m.HandleFunc("GET /api/2/tenants/{id}/users", s.handleTenantUsers)

	m.HandleFunc("GET /api/2/tenants/{id}/reports", s.handleTenantReports)
	m.HandleFunc("POST /api/2/reports", s.handleCreateReport)
	m.HandleFunc("GET /api/2/reports/{id}", s.handleGetReport)
	m.HandleFunc("DELETE /api/2/reports/{id}", s.handleDeleteReport)
	m.HandleFunc("GET /api/2/reports/{id}/stored", s.handleStoredReports)
	m.HandleFunc("GET /api/2/reports/{id}/stored/{stored}", s.handleDownloadReport)

	m.HandleFunc("GET /api/2/applications", s.handleApplications)
	m.HandleFunc("POST /api/2/applications/{app}/bindings/tenants/{id}", s.handleBind)
	m.HandleFunc("DELETE /api/2/applications/{app}/bindings/tenants/{id}", s.handleUnbind)
	m.HandleFunc("GET /api/2/infra", s.handleInfra)

	m.HandleFunc("GET /api/2/users", s.handleListUsers)
	m.HandleFunc("GET /api/2/users/check_login", s.handleCheckLogin)
	m.HandleFunc("POST /api/2/users", s.handleCreateUser)
	m.HandleFunc("GET /api/2/users/{id}", s.handleGetUser)
	m.HandleFunc("DELETE /api/2/users/{id}", s.handleDeleteUser)
	m.HandleFunc("GET /api/2/users/{id}/access_policies", s.handleGetPolicies)
	m.HandleFunc("PUT /api/2/users/{id}/access_policies", s.handlePutPolicies)
	m.HandleFunc("POST /api/2/users/{id}/send-activation-email", s.handleActivationEmail)

	m.HandleFunc("GET /api/alert_manager/v1/alerts", s.handleListAlerts)
	m.HandleFunc("GET /api/alert_manager/v1/alerts/{id}", s.handleGetAlert)
	m.HandleFunc("DELETE /api/alert_manager/v1/alerts/{id}", s.handleDismissAlert)
	m.HandleFunc("GET /api/alert_manager/v1/types", s.handleAlertTypes)

	m.HandleFunc("POST /api/event_manager/v1/subscriptions", s.handleSubscribe)
	m.HandleFunc("GET /api/event_manager/v1/events", s.handleEvents)
}
