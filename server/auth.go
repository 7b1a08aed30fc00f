package server

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/config"
)

const actorKey = "actor"

// authenticator checks bearer tokens; read-only tokens may only read.
type authenticator struct{ tokens []config.Token }

// lookup finds the token in constant time per candidate, so timing reveals nothing.
func (a authenticator) lookup(header string) (config.Token, bool) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return config.Token{}, false
	}
	var found config.Token
	match := false
	for _, t := range a.tokens {
		if subtle.ConstantTimeCompare([]byte(raw), []byte(t.Value)) == 1 {
			found, match = t, true
		}
	}
	return found, match
}

func (a authenticator) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, ok := a.lookup(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="acronis-autotask"`)
			return newProblem(http.StatusUnauthorized, "unauthorized", "send a valid API token as 'Authorization: Bearer <token>'")
		}
		if tok.Role != config.RoleAdmin && !isRead(c.Request().Method) {
			return newProblem(http.StatusForbidden, "forbidden", "token '"+tok.Name+"' is read-only")
		}
		c.Set(actorKey, tok.Name)
		return next(c)
	}
}

// allows reports whether the request carries any valid token (used by the codec endpoints).
func (a authenticator) allows(r *http.Request) bool {
	_, ok := a.lookup(r.Header.Get(echo.HeaderAuthorization))
	return ok
}

func isRead(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// actorOf names the caller for the audit log.
func actorOf(c echo.Context) string {
	if s, ok := c.Get(actorKey).(string); ok {
		return s
	}
	return "anonymous"
}
