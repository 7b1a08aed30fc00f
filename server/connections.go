package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/connections"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// CredentialStore is what the connection endpoints need from the store.
type CredentialStore interface {
	SaveCredential(ctx context.Context, c store.Credential, actor store.Actor) error
	Credential(ctx context.Context, system string) (store.Credential, error)
}

// Connections tells which credentials are in effect: stored ones, else the environment's.
type Connections interface {
	Effective(ctx context.Context, system string) (store.Credential, string, error)
}

// Systems whose credentials the integration keeps.
const (
	SystemAutotask = connections.Autotask
	SystemAcronis  = connections.Acronis
)

// masked stands in for every secret the API returns.
const masked = "********"

// AutotaskConnection is the Autotask API user (SPEC F1). Secret is write-only:
// answers carry it masked; omit it on PUT to keep the stored one.
type AutotaskConnection struct {
	Username        string     `json:"username"`
	Secret          string     `json:"secret,omitempty"`
	IntegrationCode string     `json:"integrationCode"`
	BaseURL         string     `json:"baseUrl,omitempty"`
	Source          string     `json:"source,omitempty"`
	UpdatedAt       *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy       string     `json:"updatedBy,omitempty"`
}

// AcronisConnection is the Acronis API client (SPEC F1). ClientSecret is write-only.
type AcronisConnection struct {
	BaseURL      string     `json:"baseUrl"`
	ClientID     string     `json:"clientId"`
	ClientSecret string     `json:"clientSecret,omitempty"`
	Source       string     `json:"source,omitempty"`
	UpdatedAt    *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy    string     `json:"updatedBy,omitempty"`
}

func (s *Server) getAutotaskConnection(c echo.Context) error {
	cred, source, err := s.credential(c.Request().Context(), SystemAutotask)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, autotaskFromCredential(cred, source))
}

func (s *Server) putAutotaskConnection(c echo.Context) error {
	var in AutotaskConnection
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	in.Username, in.IntegrationCode, in.BaseURL = strings.TrimSpace(in.Username), strings.TrimSpace(in.IntegrationCode), strings.TrimSpace(in.BaseURL)
	ctx := c.Request().Context()
	var bad []settings.FieldError
	if _, err := mail.ParseAddress(in.Username); err != nil {
		bad = append(bad, settings.FieldError{Field: "username", Message: "must be the API user's user name (an email address)"})
	}
	if in.IntegrationCode == "" {
		bad = append(bad, settings.FieldError{Field: "integrationCode", Message: "is required: the API tracking identifier of the API user"})
	}
	if in.BaseURL != "" && !isHTTPURL(in.BaseURL) {
		bad = append(bad, settings.FieldError{Field: "baseUrl", Message: "must be an http(s) URL such as https://webservices5.autotask.net/ATServicesRest"})
	}
	secret, err := s.keepSecret(ctx, SystemAutotask, in.Secret)
	if err != nil {
		return err
	}
	if secret == "" {
		bad = append(bad, settings.FieldError{Field: "secret", Message: "is required"})
	}
	bad = append(bad, credentialProblems("secret", secret, []publicField{
		{"username", in.Username, maxCredentialText}, {"integrationCode", in.IntegrationCode, maxCredentialText}, {"baseUrl", in.BaseURL, maxCredentialURL}})...)
	if len(bad) > 0 {
		return invalid("the Autotask connection is invalid; nothing was saved", bad...)
	}
	cred := store.Credential{
		System: SystemAutotask,
		Public: map[string]string{"username": in.Username, "integrationCode": in.IntegrationCode, "baseUrl": in.BaseURL},
		Secret: secret,
	}
	if err := s.deps.Credentials.SaveCredential(ctx, cred, actorFrom(c, "Autotask connection updated through the API")); err != nil {
		return err
	}
	return s.getAutotaskConnection(c)
}

func (s *Server) getAcronisConnection(c echo.Context) error {
	cred, source, err := s.credential(c.Request().Context(), SystemAcronis)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, acronisFromCredential(cred, source))
}

func (s *Server) putAcronisConnection(c echo.Context) error {
	var in AcronisConnection
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	in.BaseURL, in.ClientID = strings.TrimSpace(in.BaseURL), strings.TrimSpace(in.ClientID)
	ctx := c.Request().Context()
	var bad []settings.FieldError
	if !isHTTPURL(in.BaseURL) {
		bad = append(bad, settings.FieldError{Field: "baseUrl", Message: "must be the data-center URL, e.g. https://eu2-cloud.acronis.com"})
	}
	if in.ClientID == "" {
		bad = append(bad, settings.FieldError{Field: "clientId", Message: "is required"})
	}
	secret, err := s.keepSecret(ctx, SystemAcronis, in.ClientSecret)
	if err != nil {
		return err
	}
	if secret == "" {
		bad = append(bad, settings.FieldError{Field: "clientSecret", Message: "is required"})
	}
	bad = append(bad, credentialProblems("clientSecret", secret, []publicField{
		{"baseUrl", in.BaseURL, maxCredentialURL}, {"clientId", in.ClientID, maxCredentialText}})...)
	if len(bad) > 0 {
		return invalid("the Acronis connection is invalid; nothing was saved", bad...)
	}
	cred := store.Credential{
		System: SystemAcronis,
		Public: map[string]string{"baseUrl": in.BaseURL, "clientId": in.ClientID},
		Secret: secret,
	}
	if err := s.deps.Credentials.SaveCredential(ctx, cred, actorFrom(c, "Acronis connection updated through the API")); err != nil {
		return err
	}
	return s.getAcronisConnection(c)
}

// Limits of connection values: far above any real user name, code, URL or
// secret, and far below what would bloat the credentials row or a log line.
const (
	maxCredentialText   = 256
	maxCredentialURL    = 2048
	maxCredentialSecret = 1024
)

// publicField is a connection value stored in clear, with its length limit.
type publicField struct {
	name, value string
	max         int
}

// credentialProblems checks the rules the store enforces on a credential, so
// each is a 400 naming its field before anything is written: bounded
// lengths, and a secret that appears in no public field (those are stored
// and shown in clear).
func credentialProblems(secretField, secret string, public []publicField) []settings.FieldError {
	var bad []settings.FieldError
	if len(secret) > maxCredentialSecret {
		bad = append(bad, settings.FieldError{Field: secretField, Message: fmt.Sprintf("must be at most %d bytes", maxCredentialSecret)})
	}
	for _, f := range public {
		switch {
		case len(f.value) > f.max:
			bad = append(bad, settings.FieldError{Field: f.name, Message: fmt.Sprintf("must be at most %d bytes", f.max)})
		case secret != "" && strings.Contains(f.value, secret):
			bad = append(bad, settings.FieldError{Field: secretField, Message: "must not appear in " + f.name + ", which is stored and shown in clear"})
		}
	}
	return bad
}

// keepSecret returns the new secret, or the stored one when the caller omitted
// it, so an admin can change a user name without retyping the secret.
func (s *Server) keepSecret(ctx context.Context, system, given string) (string, error) {
	if given != "" && given != masked {
		return given, nil
	}
	old, err := s.deps.Credentials.Credential(ctx, system)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return old.Secret, nil
}

// credential returns the credentials in effect and their source.
func (s *Server) credential(ctx context.Context, system string) (store.Credential, string, error) {
	cred, source, err := s.deps.Connections.Effective(ctx, system)
	if errors.Is(err, connections.ErrNotConfigured) {
		return store.Credential{}, "", newProblem(http.StatusNotFound, "not-configured", "the "+system+" connection is not configured yet")
	}
	return cred, source, err
}

func autotaskFromCredential(c store.Credential, source string) AutotaskConnection {
	out := AutotaskConnection{
		Username: c.Public["username"], IntegrationCode: c.Public["integrationCode"], BaseURL: c.Public["baseUrl"],
		Source: source, UpdatedBy: c.UpdatedBy,
	}
	if c.Secret != "" {
		out.Secret = masked
	}
	if !c.UpdatedAt.IsZero() {
		at := c.UpdatedAt
		out.UpdatedAt = &at
	}
	return out
}

func acronisFromCredential(c store.Credential, source string) AcronisConnection {
	out := AcronisConnection{BaseURL: c.Public["baseUrl"], ClientID: c.Public["clientId"], Source: source, UpdatedBy: c.UpdatedBy}
	if c.Secret != "" {
		out.ClientSecret = masked
	}
	if !c.UpdatedAt.IsZero() {
		at := c.UpdatedAt
		out.UpdatedAt = &at
	}
	return out
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
