package server

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the REST API's RED metrics, labelled by route template so ids
// in paths do not explode cardinality.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "acronis_autotask_http_requests_total",
			Help: "REST API requests by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "acronis_autotask_http_request_duration_seconds",
			Help:    "REST API request latency by method and route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// slowRequest is the duration past which a request is logged at warn.
const slowRequest = time.Second

// requestLevel keeps the info log for what an operator acts on: a request is
// logged at debug, unless it was refused (4xx, info), failed (5xx, error) or
// slow (warn); every request is still counted in the metrics.
func requestLevel(status int, elapsed time.Duration) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case elapsed > slowRequest:
		return slog.LevelWarn
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// observe logs one JSON line per request and records metrics. It never logs
// headers or bodies, so tokens and secrets cannot reach the log.
func observe(log *slog.Logger, m *httpMetrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			status := c.Response().Status
			if err != nil {
				status = problemFor(err).Status
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			m.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(c.Request().Method, route).Observe(elapsed.Seconds())
			log.LogAttrs(c.Request().Context(), requestLevel(status, elapsed), "http request",
				slog.String("method", c.Request().Method),
				slog.String("route", route),
				slog.String("path", c.Request().URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", elapsed),
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("actor", actorOf(c)),
			)
			return err
		}
	}
}
