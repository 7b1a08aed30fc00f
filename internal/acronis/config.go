package acronis

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Config holds what the client needs to reach one Acronis data center as one
// API client. Its String, GoString and LogValue redact the secret so a Config
// can be logged safely.
type Config struct {
	// BaseURL is the data-center URL shown when the API client was created,
	// e.g. "https://eu2-cloud.acronis.com"; "/api/2" is appended by the client.
	BaseURL string
	// ClientID is the API client's id (a UUID).
	ClientID string
	// ClientSecret is the API client's secret; never logged, never in errors.
	ClientSecret string
	// HTTPClient sends the requests, including token requests; default a client
	// with a 60 s timeout.
	HTTPClient *http.Client
	// UserAgent identifies the integration, as Acronis asks integrations to do
	// (default "acronis-autotask/dev").
	UserAgent string
	// PartnerTenantID skips the lookup of the API client's tenant when set.
	PartnerTenantID string
	// TokenRenewBefore renews the token this long before it expires (default
	// 15 min, as Acronis' own examples do).
	TokenRenewBefore time.Duration
	// RequestsPerSecond and Burst bound the client's own request rate
	// (defaults 20 and 40); Acronis publishes no limit, so we stay polite.
	RequestsPerSecond float64
	Burst             int
	// MaxRetries bounds retries after 429/503 and, for idempotent calls, other
	// 5xx answers and network errors (default 3).
	MaxRetries int
	// RetryBackoff is the first 5xx backoff, doubled per retry (default 1 s, as
	// Acronis advises 1–2 s between retries).
	RetryBackoff time.Duration
	// MaxRetryWait caps one wait, including a server's Retry-After (default 30 s).
	MaxRetryWait time.Duration
	// DefaultRetryAfter is waited after a 429/503 without Retry-After (default 2 s).
	DefaultRetryAfter time.Duration
	// Logger receives request-level debug logs; default discards.
	Logger *slog.Logger
	// Now is the client's clock for token expiry (default time.Now); tests move it.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if c.UserAgent == "" {
		c.UserAgent = "acronis-autotask/dev"
	}
	if c.TokenRenewBefore <= 0 {
		c.TokenRenewBefore = 15 * time.Minute
	}
	if c.RequestsPerSecond <= 0 {
		c.RequestsPerSecond = 20
	}
	if c.Burst <= 0 {
		c.Burst = 40
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 3
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = time.Second
	}
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = 30 * time.Second
	}
	if c.DefaultRetryAfter <= 0 {
		c.DefaultRetryAfter = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	var missing []string
	if strings.TrimSpace(c.BaseURL) == "" {
		missing = append(missing, "BaseURL")
	}
	if c.ClientID == "" {
		missing = append(missing, "ClientID")
	}
	if c.ClientSecret == "" {
		missing = append(missing, "ClientSecret")
	}
	if len(missing) > 0 {
		return fmt.Errorf("acronis: config is missing %v", missing)
	}
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("acronis: BaseURL %q is not an http(s) URL", c.BaseURL)
	}
	return nil
}

// mask redacts a secret for display, keeping only whether it is set.
func mask(s string) string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

// String renders the config with the secret redacted.
func (c Config) String() string {
	return fmt.Sprintf("acronis.Config{BaseURL:%q ClientID:%q ClientSecret:%s}", c.BaseURL, c.ClientID, mask(c.ClientSecret))
}

// GoString keeps %#v from printing the secret.
func (c Config) GoString() string { return c.String() }

// LogValue makes slog print the config with the secret redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("baseURL", c.BaseURL),
		slog.String("clientID", c.ClientID),
		slog.String("clientSecret", mask(c.ClientSecret)),
	)
}
