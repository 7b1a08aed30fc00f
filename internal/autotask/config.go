package autotask

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// DefaultZoneLookupURL is Autotask's public zone lookup, answering for any user.
const DefaultZoneLookupURL = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"

// Config holds what the client needs to reach one Autotask database. Its
// String and LogValue redact the secret so a Config can be logged safely.
type Config struct {
	// Username is the API-only user's name (an email address).
	Username string
	// Secret is the API user's password; never logged, never in errors.
	Secret string
	// IntegrationCode is the API tracking identifier.
	IntegrationCode string
	// BaseURL overrides zone discovery with the zone's REST base, e.g.
	// "https://webservices3.autotask.net/atservicesrest/"; "v1.0/" is appended.
	BaseURL string
	// ZoneLookupURL is where zones are discovered; default DefaultZoneLookupURL.
	ZoneLookupURL string
	// HTTPClient sends the requests; default a client with a 60 s timeout.
	HTTPClient *http.Client
	// HourlyLimit is the request budget per rolling hour this client keeps under
	// (default 10000, Autotask's limit per database shared by all integrations).
	HourlyLimit int
	// MaxConcurrentPerEndpoint caps in-flight requests per entity endpoint
	// (default 3, Autotask's thread limit per integration code and endpoint).
	MaxConcurrentPerEndpoint int
	// Limiter is the request budget shared by every client of the database
	// (every process of the fleet, and the client built after a credential
	// change); nil gives the client a MemoryLimiter of its own.
	Limiter Limiter
	// TokenBatch is how many tokens a request takes from a shared Limiter at
	// once, the rest spent by the next requests within seconds (default 4).
	TokenBatch int
	// ThresholdEvery is how often a client without a shared Limiter reads
	// ThresholdInformation to follow Autotask's count (0: only when asked).
	ThresholdEvery time.Duration
	// ConsoleCacheTTL is how long the Console view keeps an answer (default 60 s).
	ConsoleCacheTTL time.Duration
	// ConsoleCacheEntries bounds the Console view's cache (default 512 answers).
	ConsoleCacheEntries int
	// MaxRetries bounds retries after 429 and, for reads, 5xx (0 means the
	// default 4; negative disables retries).
	MaxRetries int
	// RetryBackoff is the first 5xx backoff, doubled per retry (default 500 ms).
	RetryBackoff time.Duration
	// MaxRetryWait caps one wait, including a server's Retry-After (default 2 min).
	MaxRetryWait time.Duration
	// DefaultRetryAfter is waited after a 429 without Retry-After (default 5 s).
	DefaultRetryAfter time.Duration
	// ImpersonationResourceID, when set, attributes writes to that resource.
	ImpersonationResourceID string
	// Logger receives request-level debug logs; default discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ZoneLookupURL == "" {
		c.ZoneLookupURL = DefaultZoneLookupURL
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if c.HourlyLimit <= 0 {
		c.HourlyLimit = 10000
	}
	if c.MaxConcurrentPerEndpoint <= 0 {
		c.MaxConcurrentPerEndpoint = 3
	}
	if c.TokenBatch <= 0 {
		c.TokenBatch = 4
	}
	if c.ConsoleCacheTTL <= 0 {
		c.ConsoleCacheTTL = time.Minute
	}
	if c.ConsoleCacheEntries <= 0 {
		c.ConsoleCacheEntries = 512
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	} else if c.MaxRetries == 0 {
		c.MaxRetries = 4
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 500 * time.Millisecond
	}
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = 2 * time.Minute
	}
	if c.DefaultRetryAfter <= 0 {
		c.DefaultRetryAfter = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	var missing []string
	if c.Username == "" {
		missing = append(missing, "Username")
	}
	if c.Secret == "" {
		missing = append(missing, "Secret")
	}
	if c.IntegrationCode == "" {
		missing = append(missing, "IntegrationCode")
	}
	if len(missing) > 0 {
		return fmt.Errorf("autotask: config is missing %v", missing)
	}
	return nil
}

// Mask redacts a secret for display, keeping only whether it is set.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

// String renders the config with the secret redacted.
func (c Config) String() string {
	return fmt.Sprintf("autotask.Config{Username:%q Secret:%s IntegrationCode:%s BaseURL:%q HourlyLimit:%d}",
		c.Username, Mask(c.Secret), Mask(c.IntegrationCode), c.BaseURL, c.HourlyLimit)
}

// GoString keeps %#v from printing the secret.
func (c Config) GoString() string { return c.String() }

// LogValue makes slog print the config with the secret redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", c.Username),
		slog.String("secret", Mask(c.Secret)),
		slog.String("integrationCode", Mask(c.IntegrationCode)),
		slog.String("baseURL", c.BaseURL),
		slog.Int("hourlyLimit", c.HourlyLimit),
	)
}
