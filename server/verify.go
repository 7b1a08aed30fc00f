package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/connections"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// UpgradeMessage is the integration guide's text for an Autotask connection
// set up with a regular user instead of an API user ("Upgrading integration
// credentials"), verbatim.
const UpgradeMessage = `Please create an API user with the integration name "Acronis - Acronis Cyber Cloud" and update current user credentials, according to the Autotask PSA API version 1.6 requirements.`

// Verification outcomes, one per kind of problem an admin can fix.
const (
	VerifyOK                = "ok"
	VerifyNotConfigured     = "not-configured"
	VerifyIncomplete        = "incomplete"
	VerifyUnknownUser       = "unknown-user"
	VerifyWrongZone         = "wrong-zone"
	VerifyCredentialsRefuse = "credentials-refused"
	VerifyBadCredentials    = "bad-credentials"
	VerifyWrongURL          = "wrong-url"
	VerifyNoRights          = "no-rights"
	VerifyThrottled         = "throttled"
	VerifyUnreachable       = "unreachable"
	VerifyFailed            = "failed"
)

// verifyTimeout bounds one system's check; a verify answers within it even
// when a vendor hangs.
const verifyTimeout = 20 * time.Second

// ConnectionsVerification answers POST /api/v1/connections/verify: whether
// each connection works and, if not, what is wrong in words. It never holds a
// secret.
type ConnectionsVerification struct {
	OK       bool            `json:"ok"`
	Autotask ConnectionCheck `json:"autotask"`
	Acronis  ConnectionCheck `json:"acronis"`
	At       time.Time       `json:"at"`
}

// ConnectionCheck is the verdict on one connection.
type ConnectionCheck struct {
	System string `json:"system"`
	OK     bool   `json:"ok"`
	// Status names the problem: ok, not-configured, incomplete, unknown-user,
	// wrong-zone, credentials-refused, bad-credentials, wrong-url, no-rights,
	// throttled, unreachable or failed.
	Status string `json:"status"`
	// Message says what works or what is wrong, and what to do.
	Message string `json:"message"`
	// Source is where the credentials come from: api or environment.
	Source string `json:"source,omitempty"`
	// Identity is who the integration is: the Autotask user name or the Acronis client id.
	Identity string `json:"identity,omitempty"`
	// Details are what the check learned: zone, partner tenant, request budget.
	Details map[string]string `json:"details,omitempty"`
}

// verifyConnections checks both connections with fresh clients built from
// the credentials in effect, so a secret saved a moment ago is what is tested
// (the provider's cached clients are neither used nor replaced).
func (s *Server) verifyConnections(c echo.Context) error {
	if s.deps.Connections == nil {
		return fmt.Errorf("connections: %w", errNotWired)
	}
	ctx := c.Request().Context()
	out := ConnectionsVerification{At: time.Now().UTC()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		out.Acronis = s.verifyAcronis(ctx)
	}()
	out.Autotask = s.verifyAutotask(ctx)
	<-done
	out.OK = out.Autotask.OK && out.Acronis.OK
	s.deps.Logger.InfoContext(ctx, "connections verified", "actor", actorOf(c),
		"autotask", out.Autotask.Status, "acronis", out.Acronis.Status)
	return c.JSON(http.StatusOK, out)
}

// effective reads the credentials in effect; ok false means the check is
// already decided (not configured, or the store failed).
func (s *Server) effective(ctx context.Context, system string, check *ConnectionCheck) (store.Credential, bool) {
	cred, source, err := s.deps.Connections.Effective(ctx, system)
	check.Source = source
	switch {
	case errors.Is(err, connections.ErrNotConfigured):
		check.Status = VerifyNotConfigured
		check.Message = fmt.Sprintf("The %s connection is not configured: PUT /api/v1/connections/%s or set the environment variables.", titleOf(system), system)
		return cred, false
	case err != nil:
		check.Status = VerifyFailed
		check.Message = fmt.Sprintf("The stored %s credentials could not be read: %v", titleOf(system), err)
		return cred, false
	}
	return cred, true
}

func titleOf(system string) string {
	if system == SystemAutotask {
		return "Autotask"
	}
	return "Acronis"
}

// verifyAutotask finds the user's zone, then makes one authenticated call
// (ThresholdInformation, which also shows the request budget).
//
// Autotask answers every refused credential with the same empty 401 (wrong
// secret, wrong integration code, regular user: reference §1.1), so the zone
// lookup tells them apart as far as possible: an unknown user has no zone; a
// known user refused is either a wrong secret or code, or a regular user, for
// whom the guide's upgrade message applies.
func (s *Server) verifyAutotask(ctx context.Context) ConnectionCheck {
	check := ConnectionCheck{System: SystemAutotask}
	cred, ok := s.effective(ctx, SystemAutotask, &check)
	if !ok {
		return check
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	cfg := connections.AutotaskConfig(cred, s.deps.Logger)
	cfg.MaxRetries = -1 // a verdict now, not after minutes of retries
	cfg.HTTPClient = &http.Client{Timeout: verifyTimeout}
	check.Identity = cfg.Username
	var missing []string
	if cfg.Username == "" {
		missing = append(missing, "username")
	}
	if cfg.Secret == "" {
		missing = append(missing, "secret")
	}
	if cfg.IntegrationCode == "" {
		missing = append(missing, "integrationCode")
	}
	if len(missing) > 0 {
		check.Status = VerifyIncomplete
		check.Message = "The Autotask connection lacks " + strings.Join(missing, ", ") + "."
		return check
	}
	check.Details = map[string]string{}
	configured := cfg.BaseURL
	if configured != "" {
		// Every zone answers zoneInformation, so the configured one is asked.
		cfg.ZoneLookupURL = zoneLookupAt(configured)
	}
	if s.deps.Vendors != nil {
		// The check spends the fleet's budget like every other Autotask call.
		limiter, err := s.deps.Vendors.AutotaskLimiter(ctx, cfg.Username, cfg.IntegrationCode)
		if err != nil {
			return autotaskVerdict(check, err, false, cfg.Username)
		}
		cfg.Limiter = limiter
	}
	client, err := autotask.New(ctx, cfg)
	if err != nil {
		return autotaskVerdict(check, err, false, cfg.Username)
	}
	zone, err := client.LookupZone(ctx, cfg.Username)
	if err != nil {
		return autotaskVerdict(check, err, false, cfg.Username)
	}
	check.Details["zone"] = zone.ZoneName
	check.Details["zoneUrl"] = zone.URL
	wrongZone := configured != "" && !sameZone(configured, zone.URL)
	if configured != "" {
		check.Details["baseUrl"] = configured
	}
	t, err := client.Threshold(ctx)
	if err != nil {
		if wrongZone && autotask.IsUnauthorized(err) {
			check.Status = VerifyWrongZone
			check.Message = fmt.Sprintf("Autotask serves %s from %s, but the connection is set to %s; clear baseUrl so the zone is discovered, or set it to the zone's URL.",
				cfg.Username, zone.URL, configured)
			return check
		}
		return autotaskVerdict(check, err, true, cfg.Username)
	}
	check.OK, check.Status = true, VerifyOK
	check.Details["requestsThisHour"] = fmt.Sprint(t.CurrentTimeframeRequestCount)
	check.Details["hourlyLimit"] = fmt.Sprint(t.ExternalRequestThreshold)
	check.Message = fmt.Sprintf("Autotask accepts %s (zone %s); %d of %d requests used this hour.",
		cfg.Username, zoneLabel(zone), t.CurrentTimeframeRequestCount, t.ExternalRequestThreshold)
	return check
}

// autotaskVerdict turns a failed step into words; zoneKnown says the zone
// lookup found the user.
func autotaskVerdict(check ConnectionCheck, err error, zoneKnown bool, user string) ConnectionCheck {
	var ae *autotask.Error
	if !errors.As(err, &ae) {
		check.Status = VerifyFailed
		check.Message = "The Autotask connection could not be checked: " + err.Error()
		return check
	}
	switch {
	case ae.Kind == autotask.KindUnauthorized && !zoneKnown:
		check.Status = VerifyUnknownUser
		check.Message = fmt.Sprintf("Autotask does not know the user name %s (its zone lookup found no zone); check the API user's user name, or the zone URL.", user)
	case ae.Kind == autotask.KindUnauthorized:
		check.Status = VerifyCredentialsRefuse
		check.Message = fmt.Sprintf("Autotask knows %s but refused its credentials: either the secret or the API integration code (the API user's tracking identifier) is wrong, "+
			"or %s is a regular Autotask user, not an API user (security level \"API User (system)\"). Autotask does not say which. For a regular user: %s", user, user, UpgradeMessage)
	case ae.Kind == autotask.KindForbidden:
		check.Status = VerifyNoRights
		check.Message = "Autotask accepted the credentials but the API user lacks a permission: " + err.Error()
	case ae.Kind == autotask.KindThrottled:
		check.Status = VerifyThrottled
		check.Message = "Autotask is rate limiting this database right now; the credentials could not be checked, try again later."
	case ae.Kind == autotask.KindServer && ae.Status == 0:
		check.Status = VerifyUnreachable
		check.Message = "Autotask cannot be reached: " + err.Error()
	default:
		check.Status = VerifyFailed
		check.Message = "Autotask answered with an error: " + err.Error()
	}
	return check
}

// zoneLookupAt is the zoneInformation URL below a zone's REST base.
func zoneLookupAt(base string) string {
	p := strings.TrimRight(strings.TrimSpace(base), "/")
	if !strings.HasSuffix(strings.ToLower(p), "/v1.0") {
		p += "/v1.0"
	}
	return p + "/zoneInformation"
}

// sameZone compares two zone URLs by host and REST path, ignoring case and the version suffix.
func sameZone(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil {
			return strings.ToLower(s)
		}
		p := strings.TrimSuffix(strings.TrimRight(strings.ToLower(u.Path), "/"), "/v1.0")
		return strings.ToLower(u.Host) + strings.TrimRight(p, "/")
	}
	return norm(a) == norm(b)
}

func zoneLabel(z autotask.ZoneInfo) string {
	if z.ZoneName != "" {
		return z.ZoneName
	}
	return z.URL
}

// verifyAcronis fetches a token and the API client's tenant (acronis.New),
// then reads that tenant and lists its children, which needs the rights the
// integration needs to manage customers.
func (s *Server) verifyAcronis(ctx context.Context) ConnectionCheck {
	check := ConnectionCheck{System: SystemAcronis}
	cred, ok := s.effective(ctx, SystemAcronis, &check)
	if !ok {
		return check
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	cfg := connections.AcronisConfig(cred, s.deps.Logger)
	cfg.MaxRetries = 1
	cfg.RetryBackoff = 200 * time.Millisecond
	cfg.MaxRetryWait = 2 * time.Second
	cfg.HTTPClient = &http.Client{Timeout: verifyTimeout}
	check.Identity = cfg.ClientID
	var missing []string
	if strings.TrimSpace(cfg.BaseURL) == "" {
		missing = append(missing, "baseUrl")
	}
	if cfg.ClientID == "" {
		missing = append(missing, "clientId")
	}
	if cfg.ClientSecret == "" {
		missing = append(missing, "clientSecret")
	}
	if len(missing) > 0 {
		check.Status = VerifyIncomplete
		check.Message = "The Acronis connection lacks " + strings.Join(missing, ", ") + "."
		return check
	}
	client, err := acronis.New(ctx, cfg)
	if err != nil {
		return acronisVerdict(check, err)
	}
	partner, err := client.GetTenant(ctx, client.PartnerTenantID())
	if err != nil {
		return acronisVerdict(check, err)
	}
	check.Details = map[string]string{"tenantId": partner.ID, "tenantName": partner.Name, "tenantKind": partner.Kind}
	if partner.Kind != acronis.KindPartner {
		check.Status = VerifyNoRights
		check.Message = fmt.Sprintf("The API client belongs to %s, a %s tenant; it must be created in the partner tenant whose customers the integration manages.",
			partner.Name, partner.Kind)
		return check
	}
	if _, err := client.ListTenants(ctx, acronis.TenantQuery{ParentID: partner.ID, Limit: 1, LOD: "stamps"}); err != nil {
		return acronisVerdict(check, err)
	}
	check.OK, check.Status = true, VerifyOK
	check.Message = fmt.Sprintf("Acronis accepts API client %s of partner %s and lets it list the partner's customers.", cfg.ClientID, partner.Name)
	return check
}

func acronisVerdict(check ConnectionCheck, err error) ConnectionCheck {
	check.Message = acronis.Explain(err)
	var ae *acronis.Error
	if !errors.As(err, &ae) {
		check.Status = VerifyFailed
		return check
	}
	switch {
	case ae.Kind == acronis.KindUnauthorized && ae.Path == acronis.TokenPath:
		check.Status = VerifyBadCredentials
	case ae.Kind == acronis.KindUnauthorized:
		check.Status = VerifyCredentialsRefuse
	case ae.Kind == acronis.KindForbidden:
		check.Status = VerifyNoRights
	case ae.Kind == acronis.KindNotFound && ae.Path == acronis.TokenPath:
		check.Status = VerifyWrongURL
	case ae.Kind == acronis.KindNotFound:
		// The API client itself is unknown at this data center.
		check.Status = VerifyWrongURL
		check.Message = "This data center does not know the API client; use the data-center URL shown when the API client was created. " + check.Message
	case ae.Kind == acronis.KindThrottled:
		check.Status = VerifyThrottled
	case ae.Kind == acronis.KindServer && ae.Status == 0:
		check.Status = VerifyUnreachable
	default:
		check.Status = VerifyFailed
	}
	return check
}
