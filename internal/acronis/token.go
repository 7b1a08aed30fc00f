package acronis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TokenPath is the token endpoint below the data-center URL.
const TokenPath = "/api/2/idp/token"

// defaultTokenLifetime is assumed when a token answer carries neither
// expires_in nor expires_on (Acronis tokens live 2 hours).
const defaultTokenLifetime = 2 * time.Hour

// tokens issues and caches the client-credentials access token. It renews the
// token renewBefore its expiry and on demand after a 401.
type tokens struct {
	cc          clientcredentials.Config
	httpClient  *http.Client
	renewBefore time.Duration
	now         func() time.Time

	mu       sync.Mutex
	tok      *oauth2.Token
	renewAt  time.Time // when the cached token is replaced
	renewals atomic.Int64
}

func newTokens(cfg Config) *tokens {
	return &tokens{
		cc: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.BaseURL + TokenPath,
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		httpClient:  cfg.HTTPClient,
		renewBefore: cfg.TokenRenewBefore,
		now:         cfg.Now,
	}
}

// token returns a token valid for at least renewBefore, fetching one if needed.
func (t *tokens) token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && t.now().Before(t.renewAt) {
		return t.tok.AccessToken, nil
	}
	return t.fetchLocked(ctx)
}

// invalidate drops the token after a 401 so the next call fetches a new one,
// unless another caller already replaced it.
func (t *tokens) invalidate(rejected string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && t.tok.AccessToken == rejected {
		t.tok = nil
	}
}

func (t *tokens) fetchLocked(ctx context.Context) (string, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.httpClient)
	tok, err := t.cc.Token(ctx)
	if err != nil {
		return "", tokenError(err)
	}
	if tok.AccessToken == "" {
		return "", &Error{Kind: KindServer, Method: http.MethodPost, Path: TokenPath, Message: "token answer has no access_token"}
	}
	// Acronis answers with expires_on (Unix seconds) rather than expires_in.
	if tok.Expiry.IsZero() {
		if on, ok := unixSeconds(tok.Extra("expires_on")); ok {
			tok.Expiry = on
		} else {
			tok.Expiry = t.now().Add(defaultTokenLifetime)
		}
	}
	// Renew renewBefore ahead of expiry, or halfway through a short-lived token.
	now := t.now()
	margin := min(t.renewBefore, tok.Expiry.Sub(now)/2)
	t.tok, t.renewAt = tok, tok.Expiry.Add(-margin)
	t.renewals.Add(1)
	return tok.AccessToken, nil
}

// unixSeconds reads an expires_on value decoded as a JSON number or string.
func unixSeconds(v any) (time.Time, bool) {
	var n int64
	switch x := v.(type) {
	case float64:
		n = int64(x)
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return time.Time{}, false
		}
		n = i
	case string:
		i, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		n = i
	default:
		return time.Time{}, false
	}
	if n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// tokenError turns an oauth2 failure into an *Error without the request
// (which carried the credentials).
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := DecodeError(re.Response.StatusCode, re.Response.Header, re.Body)
		e.Method, e.Path = http.MethodPost, TokenPath
		if e.Status == http.StatusBadRequest && (e.Reason == "invalid_client" || e.Reason == "unauthorized_client" || e.Reason == "invalid_grant") {
			e.Kind = KindUnauthorized
		}
		return e
	}
	return &Error{Kind: KindServer, Method: http.MethodPost, Path: TokenPath, Err: fmt.Errorf("fetch token: %w", err)}
}
