// Package server is the REST API admins and scripts use: settings,
// connections, service and customer mappings, customer actions and sync, plus the
// operational endpoints (health, metrics, OpenAPI, Temporal codec server).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/config"
)

// Deps are the server's collaborators, passed explicitly so tests can build a
// server around real or fake parts without global state.
type Deps struct {
	Settings    SettingsStore
	Credentials CredentialStore
	Connections Connections
	// Vendors hands out Autotask and Acronis clients for the credentials in
	// effect; *connections.Provider satisfies it.
	Vendors Vendors
	// Mappings holds service and customer mappings; *store.Store satisfies it.
	Mappings MappingStore
	// Customers starts, messages and queries customer workflows;
	// workflows.Customers satisfies it.
	Customers CustomerWorkflows
	Tokens    []config.Token
	Logger    *slog.Logger
	Registry  *prometheus.Registry
	Codec     *codec.Codec
	// CodecOrigins may call the codec endpoints from a browser (the Temporal UI).
	CodecOrigins []string
	// CodecAnonymous lets the codec endpoints answer without a token (local dev only).
	CodecAnonymous bool
	// Ready are the checks behind /readyz, by name.
	Ready   map[string]Checker
	Version string

	// Audit reads the audit log; *store.Store satisfies it.
	Audit AuditLog
	// Stats reads the operational counters; *store.Store satisfies it.
	Stats StatsSource
	// Usage reads the usage ledger; *store.Store satisfies it.
	Usage UsageLedger
	// UsageReport asks the usage report workflow to run now;
	// workflows.Customers satisfies it.
	UsageReport UsageReporter

	// Alerts holds alert mappings and alert tickets; *store.Store satisfies it.
	Alerts AlertStore
	// AlertSync runs the alert sync now; workflows.Alerts satisfies it.
	AlertSync AlertWorkflows

	// TemporalUIURL is the Temporal Web UI the console links customer
	// workflows to (e.g. http://localhost:8233); "" shows no link.
	TemporalUIURL string
	// TemporalNamespace is the namespace of those links.
	TemporalNamespace string
}

// Server is the Echo application.
type Server struct {
	deps    Deps
	echo    *echo.Echo
	openapi *openapi3.T
	auth    authenticator
	// console answers the web console's paths (consolePrefixes); the rest go to echo.
	console *webConsole
}

// New builds the router from the route table.
func New(deps Deps) (*Server, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Server{deps: deps, echo: echo.New(), auth: authenticator{tokens: deps.Tokens}}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(deps.Logger)
	metrics := newHTTPMetrics(deps.Registry)
	e.Use(middleware.RequestID())
	e.Use(observe(deps.Logger, metrics))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			deps.Logger.Error("panic in handler", "error", err.Error(), "stack", string(stack))
			return err
		},
	}))

	table := s.routes()
	for _, r := range table {
		h := r.handler
		if !r.public {
			h = s.auth.middleware(h)
		}
		e.Add(r.method, r.path, h)
	}
	doc, err := buildOpenAPI(table, deps.Version)
	if err != nil {
		return nil, fmt.Errorf("build OpenAPI document: %w", err)
	}
	s.openapi = doc
	if s.console, err = newConsole(s); err != nil {
		return nil, fmt.Errorf("build the web console: %w", err)
	}
	return s, nil
}

// ServeHTTP answers the web console's paths with the console and everything
// else with the REST API; tests drive both in-process through it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.console != nil && s.console.owns(r.URL.Path) {
		s.console.echo.ServeHTTP(w, r)
		return
	}
	s.echo.ServeHTTP(w, r)
}

// Serve answers on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.echo.Server = srv
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for the ones in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.echo.Shutdown(ctx) }

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{Registry: s.deps.Registry})
}

func (s *Server) codecHandler() http.Handler {
	authorize := s.auth.allows
	if s.deps.CodecAnonymous {
		authorize = nil
	}
	if s.deps.Codec == nil {
		return http.NotFoundHandler()
	}
	return codec.Handler(s.deps.Codec, s.deps.CodecOrigins, authorize)
}
