// Package server is the REST API admins and scripts use: settings,
// connections, service and customer mappings, customer actions and sync, plus the
// operational endpoints (health, metrics, OpenAPI, Temporal codec server).
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/acronis-autotask/acronis-autotask/internal/bounds"
	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/internal/picklist"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
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
	// Timeouts bound how long one connection may take; zero fields take the
	// defaults of DefaultTimeouts.
	Timeouts Timeouts
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

	// ReadModel is the local copy of companies and tenants the lists and
	// suggestions read; *store.Store satisfies it.
	ReadModel ReadModelStore

	// Plans previews and applies plans over customers; *planner.Service satisfies it.
	Plans PlanService

	// BulkMappings keeps bulk mapping plans; *store.Store satisfies it.
	BulkMappings BulkMappingStore
	// Shadow reads the writes shadow mode recorded; *store.Store satisfies it.
	Shadow ShadowStore
	// TemporalUIURL is the Temporal Web UI the console links customer
	// workflows to (e.g. http://localhost:8233); "" shows no link.
	TemporalUIURL string
	// TemporalNamespace is the namespace of those links.
	TemporalNamespace string

	// PicklistTTL is how long Autotask picklists and Acronis storages are
	// kept (default picklist.DefaultTTL); ?refresh=true reads them again.
	PicklistTTL time.Duration
	// PicklistTimeout bounds reading one list while a save waits (default 5 s).
	PicklistTimeout time.Duration
}

// Timeouts bound the HTTP server's connections, so clients that trickle
// bytes (slowloris) or never read their answer cannot hold connections open.
type Timeouts struct {
	// ReadHeader bounds reading the request line and headers.
	ReadHeader time.Duration
	// Read bounds reading the whole request, body included.
	Read time.Duration
	// Write bounds the handler plus writing the answer; it is above the
	// longest handler (a customer action waits up to a minute for its workflow).
	Write time.Duration
	// Idle bounds a keep-alive connection waiting for its next request.
	Idle time.Duration
}

// DefaultTimeouts are the timeouts of a server whose Deps set none.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: updateTimeout + 30*time.Second, Idle: 2 * time.Minute}

func (t Timeouts) withDefaults() Timeouts {
	pick := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	return Timeouts{ReadHeader: pick(t.ReadHeader, DefaultTimeouts.ReadHeader), Read: pick(t.Read, DefaultTimeouts.Read),
		Write: pick(t.Write, DefaultTimeouts.Write), Idle: pick(t.Idle, DefaultTimeouts.Idle)}
}

// Server is the Echo application.
type Server struct {
	deps    Deps
	echo    *echo.Echo
	openapi *openapi3.T
	auth    authenticator
	// console answers the web console's paths (consolePrefixes); the rest go to echo.
	console *webConsole
	// picklists keeps the vendors' lists that settings and mappings are checked against.
	picklists *picklist.Cache
}

// New builds the router from the route table.
func New(deps Deps) (*Server, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Server{deps: deps, echo: echo.New(), auth: authenticator{tokens: deps.Tokens}, picklists: picklist.NewCache(deps.PicklistTTL)}
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
	e.Use(limitBody)

	table := s.routes()
	for _, r := range table {
		h := r.handler
		if !r.public {
			h = s.auth.middleware(h)
		}
		e.Add(r.method, r.path, h)
		if r.preflight {
			e.Add(http.MethodOptions, r.path, r.handler)
		}
	}
	doc, err := buildOpenAPI(table, deps.Version)
	if err != nil {
		return nil, fmt.Errorf("build OpenAPI document: %w", err)
	}
	s.openapi = doc
	if s.console, err = newConsole(s, metrics); err != nil {
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
	t := s.deps.Timeouts.withDefaults()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle}
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

// codecRoute serves the codec endpoints through the router: the body limit
// applies as on every route, and the codec handler's plain-text errors
// (unauthorized, a body that is not a payload list) become problem+json
// naming the field like every other error of the API.
func (s *Server) codecRoute() echo.HandlerFunc {
	inner := http.StripPrefix("/codec", s.codecHandler())
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodPost {
			if err := checkJSONContentType(r); err != nil {
				return err
			}
			raw, err := readBody(r)
			if err != nil {
				return err
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
		}
		rec := &bufferedResponse{header: http.Header{}, Code: http.StatusOK}
		inner.ServeHTTP(rec, r)
		for k, v := range rec.header {
			if k != echo.HeaderContentType && k != echo.HeaderContentLength && k != "X-Content-Type-Options" {
				c.Response().Header()[k] = v
			}
		}
		switch {
		case rec.Code == http.StatusUnauthorized:
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="acronis-autotask"`)
			return newProblem(http.StatusUnauthorized, "unauthorized", "the codec server needs a valid bearer token (or CODEC_AUTH=none for local development)")
		case rec.Code >= 400:
			p := newProblem(rec.Code, "codec", "the payloads could not be encoded or decoded: "+bounds.Truncate(strings.TrimSpace(rec.Body.String()), bounds.Echo))
			p.Errors = []settings.FieldError{{Field: "payloads", Message: bounds.Truncate(strings.TrimSpace(rec.Body.String()), 200)}}
			return p
		}
		if ct := rec.header.Get(echo.HeaderContentType); ct != "" {
			c.Response().Header().Set(echo.HeaderContentType, ct)
		}
		c.Response().WriteHeader(rec.Code)
		_, err := c.Response().Write(rec.Body.Bytes())
		return err
	}
}

// bufferedResponse holds an http.Handler's answer (bounded by the request
// body limit) so codecRoute can turn an error into a problem before writing.
type bufferedResponse struct {
	header http.Header
	Code   int
	Body   bytes.Buffer
	wrote  bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wrote {
		b.Code, b.wrote = code, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.Body.Write(p)
}
