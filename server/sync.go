package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// postSync runs the contract sync now (SPEC F11 "sync now for everything"):
// companies, contracts and services are read and every changed customer is told.
func (s *Server) postSync(c echo.Context) error {
	cw, err := s.customers()
	if err != nil {
		return err
	}
	if err := cw.SyncNow(c.Request().Context()); err != nil {
		return fmt.Errorf("sync now: %w", err)
	}
	return c.JSON(http.StatusAccepted, Accepted{Message: "the contract sync runs now; customers change as their contracts are read"})
}
