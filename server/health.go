package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Checker is one dependency readiness depends on.
type Checker interface {
	Check(ctx context.Context) error
}

// CheckFunc adapts a function to Checker.
type CheckFunc func(ctx context.Context) error

// Check implements Checker.
func (f CheckFunc) Check(ctx context.Context) error { return f(ctx) }

// HealthStatus is the body of /healthz and /readyz.
type HealthStatus struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, HealthStatus{Status: "ok"})
}

// readyz answers 200 only when every dependency answers, so a load balancer
// sends no traffic to an instance that cannot serve it.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	out := HealthStatus{Status: "ok", Checks: map[string]string{}}
	code := http.StatusOK
	for name, chk := range s.deps.Ready {
		if err := chk.Check(ctx); err != nil {
			out.Checks[name] = "unavailable: " + err.Error()
			out.Status, code = "unavailable", http.StatusServiceUnavailable
			continue
		}
		out.Checks[name] = "ok"
	}
	return c.JSON(code, out)
}
