package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/internal/connections"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/server"
	"github.com/acronis-autotask/acronis-autotask/worker"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// role selects which halves of the service a process runs.
type role int

const (
	roleServer role = 1 << iota
	roleWorker
)

// dayLength is how long a deprovisioning "day" lasts: 24 hours, except in
// end-to-end tests, which decorate it to seconds.
type dayLength struct{ d time.Duration }

// version is stamped by the build (-ldflags "-X main.version=...").
var version = "dev"

// runServices loads the configuration, then runs the chosen roles until ctx ends.
func runServices(ctx context.Context, getenv func(string) string, stdout io.Writer, r role) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	return runApp(ctx, cfg, stdout, r, codecOptionsFromEnv(getenv))
}

// codecOptions configures who may call the codec endpoints.
type codecOptions struct {
	origins   []string
	anonymous bool
}

func codecOptionsFromEnv(getenv func(string) string) codecOptions {
	o := codecOptions{origins: []string{"http://localhost:8233", "http://127.0.0.1:8233"}}
	if v := strings.TrimSpace(getenv("CODEC_CORS_ORIGINS")); v != "" {
		o.origins = strings.Split(v, ",")
	}
	o.anonymous = strings.EqualFold(getenv("CODEC_AUTH"), "none")
	return o
}

func runApp(ctx context.Context, cfg config.Config, stdout io.Writer, r role, co codecOptions, extra ...fx.Option) error {
	opts := []fx.Option{
		fx.Supply(cfg, co, dayLength{d: 24 * time.Hour}),
		fx.Provide(
			func() *slog.Logger {
				return slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
			},
			newRegistry,
			func(reg *prometheus.Registry) client.MetricsHandler { return worker.NewMetricsHandler(reg) },
			openStore,
			func(st *store.Store, cfg config.Config, log *slog.Logger) *connections.Provider {
				return connections.New(st, connections.FromEnvironment(cfg), log, connections.AcronisRate(cfg.AcronisRequestsPerSecond),
					connections.SharedBudget(func(ctx context.Context, username, code string) (autotask.Limiter, error) {
						return st.AutotaskLimiter(ctx, store.BudgetConfig{Username: username, IntegrationCode: code,
							Hourly: cfg.AutotaskHourlyBudget, CheckEvery: cfg.AutotaskThresholdEvery})
					}))
			},
			func(c client.Client, cfg config.Config) workflows.Customers {
				return workflows.Customers{Client: c, TaskQueue: cfg.TaskQueue}
			},
		),
		fx.WithLogger(newFxLogger),
		worker.ClientModule,
	}
	if r&roleWorker != 0 {
		opts = append(opts, activitiesModule, worker.Module)
	}
	if r&roleServer != 0 {
		opts = append(opts, fx.Invoke(startServer))
	} else if cfg.MetricsAddr != "" {
		opts = append(opts, fx.Invoke(serveMetrics))
	}
	app := fx.New(append(opts, extra...)...)
	if err := app.Err(); err != nil {
		return err
	}
	if err := app.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), app.StopTimeout())
	defer cancel()
	return app.Stop(stopCtx)
}

// newFxLogger logs fx's wiring (every provide, invoke and hook) at debug, so
// LOG_LEVEL=info starts with the service's own lines; fx's errors stay at error.
func newFxLogger(l *slog.Logger) fxevent.Logger {
	fl := &fxevent.SlogLogger{Logger: l.With("component", "fx")}
	fl.UseLogLevel(slog.LevelDebug)
	fl.UseErrorLevel(slog.LevelError)
	return fl
}

// newRegistry is the process's own Prometheus registry (no global state), with Go and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serveMetrics serves /metrics (the Temporal SDK's worker metrics among them)
// on METRICS_ADDR in a process without the REST API.
func serveMetrics(lc fx.Lifecycle, cfg config.Config, reg *prometheus.Registry, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			l, err := net.Listen("tcp", cfg.MetricsAddr)
			if err != nil {
				return fmt.Errorf("METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
			}
			log.Info("metrics listening", "addr", l.Addr().String())
			go func() {
				if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("metrics server stopped", "error", err.Error())
				}
			}()
			return nil
		},
		OnStop: srv.Shutdown,
	})
}

func openStore(lc fx.Lifecycle, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(context.Background(), cfg.DatabaseURL, cfg.Keyring)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	lc.Append(fx.StopHook(st.Close))
	return st, nil
}

func startServer(lc fx.Lifecycle, cfg config.Config, co codecOptions, st *store.Store, conns *connections.Provider, cust workflows.Customers, tc client.Client, reg *prometheus.Registry, log *slog.Logger, day dayLength) error {
	srv, err := server.New(server.Deps{
		Plans:          newPlanner(st, conns, cust, day),
		Settings:       st,
		Credentials:    st,
		Connections:    conns,
		Vendors:        conns,
		Mappings:       st,
		ReadModel:      st,
		BulkMappings:   st,
		Shadow:         st,
		Customers:      cust,
		Audit:          st,
		Stats:          st,
		Usage:          st,
		UsageReport:    cust,
		Tokens:         cfg.Tokens,
		Logger:         log.With("component", "http"),
		Registry:       reg,
		Codec:          codec.New(cfg.Keyring),
		CodecOrigins:   co.origins,
		CodecAnonymous: co.anonymous,
		Ready: map[string]server.Checker{
			"postgres": server.CheckFunc(st.Ping),
			"temporal": server.CheckFunc(func(ctx context.Context) error {
				_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
				return err
			}),
		},
		Version:   version,
		Alerts:    st,
		AlertSync: workflows.Alerts{Client: cust.Client, TaskQueue: cust.TaskQueue},

		TemporalUIURL:     cfg.TemporalUIURL,
		TemporalNamespace: cfg.TemporalNamespace,
	})
	if err != nil {
		return err
	}
	if err := server.RegisterStatsMetrics(reg, st); err != nil {
		return fmt.Errorf("register stats metrics: %w", err)
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			l, err := net.Listen("tcp", cfg.HTTPAddr)
			if err != nil {
				return fmt.Errorf("HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
			}
			log.Info("REST API listening", "addr", l.Addr().String())
			go func() {
				if err := srv.Serve(l); err != nil {
					log.Error("REST API stopped", "error", err.Error())
				}
			}()
			return nil
		},
		OnStop: srv.Shutdown,
	})
	return nil
}
