// Package connections builds the Autotask and Acronis clients from the
// credentials in effect: those stored through the API, else those from the
// environment. A client is rebuilt only when its credentials change, so an
// admin's new secret takes effect at the next call without a restart.
package connections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// Systems whose credentials the integration keeps.
const (
	Autotask = "autotask"
	Acronis  = "acronis"
)

// ErrNotConfigured means no credentials exist for a system yet.
var ErrNotConfigured = errors.New("connection is not configured")

// CredentialReader reads stored credentials.
type CredentialReader interface {
	Credential(ctx context.Context, system string) (store.Credential, error)
}

// Provider hands out clients for the current credentials; safe for concurrent use.
type Provider struct {
	store  CredentialReader
	env    map[string]store.Credential
	logger *slog.Logger

	// acronisRate is the Acronis client's requests per second (0: the client's default).
	acronisRate float64
	// budget gives the Autotask request budget of a user and integration code.
	budget BudgetFunc

	mu       sync.Mutex
	autotask *autotask.Client
	acronis  *acronis.Client
	keys     map[string]string
	limiters map[string]autotask.Limiter
}

// BudgetFunc returns the Autotask request budget of the database an API user
// belongs to; store.Store.AutotaskLimiter gives the fleet's, in PostgreSQL.
type BudgetFunc func(ctx context.Context, username, integrationCode string) (autotask.Limiter, error)

// SharedBudget makes every Autotask client draw from the budget f returns.
// Without it each database gets a MemoryLimiter of hourly requests per hour
// for this process, which reads ThresholdInformation every thresholdEvery.
func SharedBudget(f BudgetFunc) Option { return func(p *Provider) { p.budget = f } }

// MemoryBudget sets the process-local budget used without SharedBudget.
func MemoryBudget(hourly int, thresholdEvery time.Duration) Option {
	return func(p *Provider) {
		p.budget = func(_ context.Context, _, _ string) (autotask.Limiter, error) {
			return autotask.NewMemoryLimiter(hourly, 3, thresholdEvery), nil
		}
	}
}

// Option adjusts a Provider.
type Option func(*Provider)

// AcronisRate sets the Acronis client's own request rate (requests per second).
func AcronisRate(perSecond float64) Option { return func(p *Provider) { p.acronisRate = perSecond } }

// New returns a provider over the store with the environment as fallback.
func New(st CredentialReader, env map[string]store.Credential, logger *slog.Logger, opts ...Option) *Provider {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Provider{store: st, env: env, logger: logger, keys: map[string]string{}, limiters: map[string]autotask.Limiter{}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// FromEnvironment are the credentials the AUTOTASK_* and ACRONIS_* variables give.
func FromEnvironment(cfg config.Config) map[string]store.Credential {
	out := map[string]store.Credential{}
	if cfg.AutotaskUsername != "" {
		out[Autotask] = store.Credential{System: Autotask, Secret: cfg.AutotaskSecret, Public: map[string]string{
			"username": cfg.AutotaskUsername, "integrationCode": cfg.AutotaskIntegrationCode, "baseUrl": cfg.AutotaskBaseURL,
		}}
	}
	if cfg.AcronisClientID != "" {
		out[Acronis] = store.Credential{System: Acronis, Secret: cfg.AcronisClientSecret, Public: map[string]string{
			"baseUrl": cfg.AcronisBaseURL, "clientId": cfg.AcronisClientID,
		}}
	}
	return out
}

// Effective returns the credentials in effect for a system and where they come from ("api" or "environment").
func (p *Provider) Effective(ctx context.Context, system string) (store.Credential, string, error) {
	c, err := p.store.Credential(ctx, system)
	if err == nil {
		return c, "api", nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Credential{}, "", fmt.Errorf("read %s credentials: %w", system, err)
	}
	if env, ok := p.env[system]; ok {
		return env, "environment", nil
	}
	return store.Credential{}, "", fmt.Errorf("%s %w: PUT /api/v1/connections/%s or set the environment variables", system, ErrNotConfigured, system)
}

// Autotask returns a client for the current Autotask credentials.
func (p *Provider) Autotask(ctx context.Context) (*autotask.Client, error) {
	cred, _, err := p.Effective(ctx, Autotask)
	if err != nil {
		return nil, err
	}
	key := fingerprint(cred)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.autotask != nil && p.keys[Autotask] == key {
		return p.autotask, nil
	}
	cfg := AutotaskConfig(cred, p.logger)
	// The budget outlives the client: the client built after a credential
	// change draws from the one its predecessor spent.
	if cfg.Limiter, err = p.limiter(ctx, cfg.Username, cfg.IntegrationCode); err != nil {
		return nil, err
	}
	c, err := autotask.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to Autotask: %w", err)
	}
	p.autotask, p.keys[Autotask] = c, key
	return c, nil
}

// AutotaskLimiter is the request budget of a user and integration code, the
// one their clients draw from: a connection check of credentials not saved
// yet spends the same budget as the integration (they name the same database).
func (p *Provider) AutotaskLimiter(ctx context.Context, username, integrationCode string) (autotask.Limiter, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limiter(ctx, username, integrationCode)
}

// limiter is the budget of a user and integration code, made once per
// process; p.mu is held.
func (p *Provider) limiter(ctx context.Context, username, code string) (autotask.Limiter, error) {
	key := strings.ToLower(strings.TrimSpace(username)) + "\x00" + fingerprint(store.Credential{Secret: code})
	if l, ok := p.limiters[key]; ok {
		return l, nil
	}
	f := p.budget
	if f == nil {
		f = func(context.Context, string, string) (autotask.Limiter, error) {
			return autotask.NewMemoryLimiter(10000, 3, 5*time.Minute), nil
		}
	}
	l, err := f(ctx, username, code)
	if err != nil {
		return nil, fmt.Errorf("Autotask request budget: %w", err)
	}
	p.limiters[key] = l
	return l, nil
}

// Acronis returns a client for the current Acronis credentials.
func (p *Provider) Acronis(ctx context.Context) (*acronis.Client, error) {
	cred, _, err := p.Effective(ctx, Acronis)
	if err != nil {
		return nil, err
	}
	key := fingerprint(cred)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.acronis != nil && p.keys[Acronis] == key {
		return p.acronis, nil
	}
	cfg := AcronisConfig(cred, p.logger)
	if p.acronisRate > 0 {
		cfg.RequestsPerSecond, cfg.Burst = p.acronisRate, max(1, int(2*p.acronisRate))
	}
	c, err := acronis.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to Acronis: %w", err)
	}
	p.acronis, p.keys[Acronis] = c, key
	return c, nil
}

// AutotaskConfig turns stored credentials into a client configuration.
func AutotaskConfig(c store.Credential, logger *slog.Logger) autotask.Config {
	return autotask.Config{
		Username:        c.Public["username"],
		Secret:          c.Secret,
		IntegrationCode: c.Public["integrationCode"],
		BaseURL:         c.Public["baseUrl"],
		Logger:          logger.With("system", Autotask),
	}
}

// AcronisConfig turns stored credentials into a client configuration.
func AcronisConfig(c store.Credential, logger *slog.Logger) acronis.Config {
	return acronis.Config{
		BaseURL:      c.Public["baseUrl"],
		ClientID:     c.Public["clientId"],
		ClientSecret: c.Secret,
		Logger:       logger.With("system", Acronis),
	}
}

// fingerprint identifies credentials without keeping the secret in clear.
func fingerprint(c store.Credential) string {
	h := sha256.New()
	keys := make([]string, 0, len(c.Public))
	for k := range c.Public {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, c.Public[k])
	}
	h.Write([]byte(c.Secret))
	return hex.EncodeToString(h.Sum(nil))
}
