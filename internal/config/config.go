// Package config reads the process configuration from the environment once, at
// start, so a missing or malformed value stops the process with one clear line
// instead of failing later in the middle of a sync.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
)

// Role is what an API token may do.
type Role string

const (
	// RoleAdmin may read and change everything.
	RoleAdmin Role = "admin"
	// RoleReadOnly may only read.
	RoleReadOnly Role = "read"
)

// Token is one bearer token from API_TOKENS; Name identifies the caller in the audit log.
type Token struct {
	Name  string
	Role  Role
	Value string
}

// LogValue keeps the token value out of logs.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", t.Name), slog.String("role", string(t.Role)))
}

// Config is everything the binary reads from the environment (SPEC §9).
type Config struct {
	DatabaseURL string
	// Temporal is the connection (address, namespace, API key, TLS) from the
	// SDK's environment configuration; TemporalAddress and TemporalNamespace
	// repeat its address and namespace.
	Temporal          client.Options
	TemporalAddress   string
	TemporalNamespace string
	TaskQueue         string
	HTTPAddr          string
	// MetricsAddr is where a worker-only process serves /metrics ("" none);
	// a process with the REST API serves it on HTTPAddr.
	MetricsAddr string
	// TemporalUIURL is the Temporal Web UI the web console links workflows to; "" for no links.
	TemporalUIURL string
	Tokens        []Token
	Keyring       *secrets.Keyring
	LogLevel      slog.Level

	// Autotask and Acronis connection settings are optional here: they can also be
	// set through the API, where they are stored encrypted.
	AutotaskUsername        string
	AutotaskSecret          string
	AutotaskIntegrationCode string
	AutotaskBaseURL         string
	AcronisBaseURL          string
	AcronisClientID         string
	AcronisClientSecret     string
	// WorkflowCacheSize bounds the workflows a worker keeps in memory between
	// their tasks; the others are replayed from their (short) histories.
	WorkflowCacheSize int
	// AcronisRequestsPerSecond is the client's own request rate: Acronis
	// publishes no limit, so it is the operator's to raise or lower.
	AcronisRequestsPerSecond float64
	// AutotaskHourlyBudget is the requests per rolling hour the whole fleet
	// may send to the Autotask database, before what other integrations use
	// (read from ThresholdInformation) is taken off.
	AutotaskHourlyBudget int
	// AutotaskThresholdEvery is how often one process of the fleet reads
	// ThresholdInformation to follow Autotask's own count.
	AutotaskThresholdEvery time.Duration
}

// Getenv is os.Getenv's shape, injected so tests never touch the real environment.
type Getenv func(string) string

// Variables lists every variable Load reads, with its default, for help text and the README.
var Variables = []struct{ Name, Default, Meaning string }{
	{"DATABASE_URL", "", "PostgreSQL URL (required), e.g. postgres://postgres@127.0.0.1:5432/acronis_autotask?sslmode=disable"},
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port (Temporal Cloud: <namespace>.<account>.tmprl.cloud:7233 or the regional API key endpoint)"},
	{"TEMPORAL_NAMESPACE", "default", "Temporal namespace"},
	{"TEMPORAL_API_KEY", "", "Temporal Cloud API key; turns TLS on"},
	{"TEMPORAL_TLS", "", "true to use TLS without client certificates (a self-hosted cluster's frontend)"},
	{"TEMPORAL_TLS_CLIENT_CERT_PATH", "", "mTLS client certificate (PEM file); also TEMPORAL_TLS_CLIENT_CERT_DATA for the PEM itself"},
	{"TEMPORAL_TLS_CLIENT_KEY_PATH", "", "mTLS client key (PEM file); also TEMPORAL_TLS_CLIENT_KEY_DATA"},
	{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "", "CA of a self-hosted frontend's certificate; also TEMPORAL_TLS_SERVER_CA_CERT_DATA"},
	{"TEMPORAL_TLS_SERVER_NAME", "", "server name to verify when it differs from the address's host"},
	{"TEMPORAL_CONFIG_FILE", "", "TOML file of Temporal profiles (default ~/.config/temporalio/temporal.toml when it exists); TEMPORAL_* variables override it"},
	{"TEMPORAL_PROFILE", "", "profile of TEMPORAL_CONFIG_FILE to use (default \"default\")"},
	{"TASK_QUEUE", "acronis-autotask", "Temporal task queue the worker polls"},
	{"HTTP_ADDR", ":8080", "REST API and web console listen address"},
	{"METRICS_ADDR", "", "listen address of /metrics in a worker-only process, e.g. :9090 (the server serves /metrics on HTTP_ADDR)"},
	{"TEMPORAL_UI_URL", "", "Temporal Web UI base URL the web console links customer workflows to, e.g. http://localhost:8233 (none when empty)"},
	{"API_TOKENS", "", "bearer tokens, comma-separated name:role:token with role admin or read (required)"},
	{"SECRETS_KEY", "", "base64 32-byte AES key(s), comma-separated; the first encrypts (required)"},
	{"AUTOTASK_USERNAME", "", "Autotask API user name (optional; also settable through the API)"},
	{"AUTOTASK_SECRET", "", "Autotask API user secret"},
	{"AUTOTASK_INTEGRATION_CODE", "", "Autotask API tracking identifier"},
	{"AUTOTASK_BASE_URL", "", "Autotask zone URL; skips zone discovery (sandbox: http://127.0.0.1:8081/ATServicesRest)"},
	{"ACRONIS_BASE_URL", "", "Acronis data-center URL"},
	{"ACRONIS_CLIENT_ID", "", "Acronis API client id"},
	{"ACRONIS_CLIENT_SECRET", "", "Acronis API client secret"},
	{"ACRONIS_REQUESTS_PER_SECOND", "20", "requests per second the Acronis client sends at most (Acronis publishes no limit)"},
	{"AUTOTASK_HOURLY_BUDGET", "10000", "Autotask requests per rolling hour for all processes together (shared in PostgreSQL; other integrations' use is taken off)"},
	{"AUTOTASK_THRESHOLD_EVERY", "5m", "how often one process reads Autotask's ThresholdInformation to follow its count (Go duration, 5s to 1h)"},
	{"WORKFLOW_CACHE_SIZE", "1000", "workflows a worker keeps in memory (each idle customer costs about 80 KiB cached; evicted ones replay their history)"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
}

// Load reads and validates the environment. Every problem is reported, one per
// line, each naming its variable, so an operator fixes them all in one go.
func Load(getenv Getenv) (Config, error) {
	get := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			for _, d := range Variables {
				if d.Name == name {
					return d.Default
				}
			}
		}
		return v
	}
	var errs []error
	bad := func(name, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...)))
	}

	c := Config{
		DatabaseURL:             get("DATABASE_URL"),
		TaskQueue:               get("TASK_QUEUE"),
		HTTPAddr:                get("HTTP_ADDR"),
		MetricsAddr:             get("METRICS_ADDR"),
		TemporalUIURL:           get("TEMPORAL_UI_URL"),
		AutotaskUsername:        get("AUTOTASK_USERNAME"),
		AutotaskSecret:          get("AUTOTASK_SECRET"),
		AutotaskIntegrationCode: get("AUTOTASK_INTEGRATION_CODE"),
		AutotaskBaseURL:         get("AUTOTASK_BASE_URL"),
		AcronisBaseURL:          get("ACRONIS_BASE_URL"),
		AcronisClientID:         get("ACRONIS_CLIENT_ID"),
		AcronisClientSecret:     get("ACRONIS_CLIENT_SECRET"),
	}

	if rps, err := strconv.ParseFloat(get("ACRONIS_REQUESTS_PER_SECOND"), 64); err != nil || rps <= 0 || rps > 1000 {
		bad("ACRONIS_REQUESTS_PER_SECOND", "must be a number above 0 and at most 1000, got %q", get("ACRONIS_REQUESTS_PER_SECOND"))
	} else {
		c.AcronisRequestsPerSecond = rps
	}
	if n, err := strconv.Atoi(get("AUTOTASK_HOURLY_BUDGET")); err != nil || n < 1 || n > 1000000 {
		bad("AUTOTASK_HOURLY_BUDGET", "must be a whole number from 1 to 1000000, got %q", get("AUTOTASK_HOURLY_BUDGET"))
	} else {
		c.AutotaskHourlyBudget = n
	}
	if d, err := time.ParseDuration(get("AUTOTASK_THRESHOLD_EVERY")); err != nil || d < 5*time.Second || d > time.Hour {
		bad("AUTOTASK_THRESHOLD_EVERY", "must be a duration from 5s to 1h, got %q", get("AUTOTASK_THRESHOLD_EVERY"))
	} else {
		c.AutotaskThresholdEvery = d
	}
	if n, err := strconv.Atoi(get("WORKFLOW_CACHE_SIZE")); err != nil || n < 1 || n > 100000 {
		bad("WORKFLOW_CACHE_SIZE", "must be a whole number from 1 to 100000, got %q", get("WORKFLOW_CACHE_SIZE"))
	} else {
		c.WorkflowCacheSize = n
	}
	if c.DatabaseURL == "" {
		bad("DATABASE_URL", "is required")
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("DATABASE_URL", "must be a postgres:// URL")
	}
	if t, err := TemporalOptions(getenv); err != nil {
		bad("TEMPORAL_*", "%v", err)
	} else {
		c.Temporal, c.TemporalAddress, c.TemporalNamespace = t, t.HostPort, t.Namespace
		if _, _, err := net.SplitHostPort(c.TemporalAddress); err != nil {
			bad("TEMPORAL_ADDRESS", "must be host:port, got %q", c.TemporalAddress)
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("HTTP_ADDR", "must be [host]:port, got %q", c.HTTPAddr)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("METRICS_ADDR", "must be [host]:port, got %q", c.MetricsAddr)
		}
	}
	for _, u := range []struct{ name, val string }{{"AUTOTASK_BASE_URL", c.AutotaskBaseURL}, {"ACRONIS_BASE_URL", c.AcronisBaseURL}, {"TEMPORAL_UI_URL", c.TemporalUIURL}} {
		if u.val == "" {
			continue
		}
		if p, err := url.Parse(u.val); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad(u.name, "must be an http(s) URL, got %q", u.val)
		}
	}

	if tokens, err := ParseTokens(get("API_TOKENS")); err != nil {
		bad("API_TOKENS", "%v", err)
	} else {
		c.Tokens = tokens
	}

	if key := get("SECRETS_KEY"); key == "" {
		bad("SECRETS_KEY", "is required (generate one with: openssl rand -base64 32)")
	} else if kr, err := secrets.ParseKeyring(key); err != nil {
		bad("SECRETS_KEY", "%v", err)
	} else {
		c.Keyring = kr
	}

	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL"))); err != nil {
		bad("LOG_LEVEL", "must be debug, info, warn or error, got %q", get("LOG_LEVEL"))
	}
	return c, errors.Join(errs...)
}

// ParseTokens reads API_TOKENS: comma-separated name:role:token entries.
func ParseTokens(s string) ([]Token, error) {
	if s == "" {
		return nil, errors.New("is required: at least one name:role:token (role admin or read)")
	}
	var out []Token
	seenName, seenValue := map[string]bool{}, map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		parts := strings.SplitN(strings.TrimSpace(entry), ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
			return nil, fmt.Errorf("entry %d is not name:role:token", i+1)
		}
		t := Token{Name: parts[0], Role: Role(parts[1]), Value: parts[2]}
		if t.Role != RoleAdmin && t.Role != RoleReadOnly {
			return nil, fmt.Errorf("entry %d (%s): role must be admin or read, got %q", i+1, t.Name, parts[1])
		}
		if len(t.Value) < 16 {
			return nil, fmt.Errorf("entry %d (%s): token must be at least 16 characters", i+1, t.Name)
		}
		if seenName[t.Name] || seenValue[t.Value] {
			return nil, fmt.Errorf("entry %d (%s): duplicate name or token", i+1, t.Name)
		}
		seenName[t.Name], seenValue[t.Value] = true, true
		out = append(out, t)
	}
	return out, nil
}
