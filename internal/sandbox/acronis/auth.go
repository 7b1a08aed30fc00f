package acronis

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const tokenPath = "/api/2/idp/token"

// guard checks the bearer token of every API call (the token endpoint checks
// Basic auth itself) and applies the rate limit.
func (s *Sandbox) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != tokenPath {
			tok, ok := bearer(r)
			if !ok {
				errUnauthorized("The Authorization header with a bearer token is required").write(w)
				return
			}
			s.mu.RLock()
			exp, known := s.st.tokens[tok]
			s.mu.RUnlock()
			switch {
			case !known:
				errUnauthorized("The access token is invalid").write(w)
				return
			case !s.now().Before(exp):
				errUnauthorized("The access token is expired").write(w)
				return
			}
		}
		if wait, ok := s.allow(); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			if secs < 1 {
				secs = 1
			}
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			apiError{status: http.StatusTooManyRequests, code: http.StatusTooManyRequests, message: "Too Many Requests",
				info: "Request rate limit exceeded", domain: domainAccount}.write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allow takes one request from the rate limit, or says how long to wait.
func (s *Sandbox) allow() (time.Duration, bool) {
	s.limMu.Lock()
	lim := s.limiter
	s.limMu.Unlock()
	if lim == nil {
		return 0, true
	}
	res := lim.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return d, false
	}
	return 0, true
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	if t := r.URL.Query().Get("access_token"); t != "" {
		return t, true
	}
	return "", false
}

// handleToken issues client-credentials tokens to the configured client,
// authenticated with HTTP Basic auth as Acronis requires.
func (s *Sandbox) handleToken(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		oauthErr(http.StatusUnauthorized, "invalid_client", "Client authentication with HTTP Basic auth is required")
		return
	}
	// RFC 6749 §2.3.1: the id and secret are form-encoded inside Basic auth.
	if v, err := url.QueryUnescape(id); err == nil {
		id = v
	}
	if v, err := url.QueryUnescape(secret); err == nil {
		secret = v
	}
	if id != s.opts.ClientID || secret != s.opts.ClientSecret {
		oauthErr(http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "Grant type "+strconv.Quote(gt)+" is not supported")
		return
	}
	now := s.now()
	tok := "sbx." + randomHex(24)
	exp := now.Add(s.opts.TokenTTL)
	s.mu.Lock()
	for t, e := range s.st.tokens {
		if now.After(e.Add(time.Hour)) {
			delete(s.st.tokens, t)
		}
	}
	s.st.tokens[tok] = exp
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  tok,
		"token_type":    "bearer",
		"expires_on":    exp.Unix(),
		"id_token":      "sbx-id." + randomHex(12),
		"refresh_token": base64.RawURLEncoding.EncodeToString([]byte(randomHex(8))),
	})
}

// ExpireTokens makes every issued token expired, as after two hours, so
// tests see the next call answered 401.
func (s *Sandbox) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.now().Add(-time.Second)
	for t := range s.st.tokens {
		s.st.tokens[t] = past
	}
}

// handleGetClient answers GET /clients/{id} for the sandbox's own client.
func (s *Sandbox) handleGetClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !strings.EqualFold(id, s.opts.ClientID) {
		errNotFound("Client", id).write(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"client_id": s.opts.ClientID, "tenant_id": PartnerID, "type": "api_client", "status": "enabled",
		"token_endpoint_auth_method": "client_secret_basic", "created_by": "0b7e4a2c-5d1f-4c3a-9e8b-0000000000aa",
		"last_access_at": ts(s.now()), "data": map[string]any{"client_name": "acronis-autotask sandbox"},
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
