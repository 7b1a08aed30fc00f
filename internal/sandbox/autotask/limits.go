package autotask

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// checkAuth accepts the configured API user only. Like the real API, every
// failure (wrong user, secret or integration code, missing header, a regular
// non-API user) is a 401 with an empty body.
func (s *Sandbox) checkAuth(w http.ResponseWriter, r *http.Request) bool {
	user, secret, code := r.Header.Get("UserName"), r.Header.Get("Secret"), r.Header.Get("ApiIntegrationCode")
	if user != "" && user == s.opts.Username && secret == s.opts.Secret && code == s.opts.IntegrationCode {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic Realm="`+r.Host+`"`)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
	return false
}

// admit counts the request against the rolling hour; past the limit it
// answers 429 with Retry-After until the oldest request leaves the window.
func (s *Sandbox) admit(w http.ResponseWriter) bool {
	now := s.now()
	s.limitMu.Lock()
	s.pruneLocked(now)
	if len(s.requests) >= s.opts.HourlyLimit {
		wait := s.requests[0].Add(time.Hour).Sub(now)
		s.limitMu.Unlock()
		secs := int(wait.Seconds() + 0.999)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeErrors(w, http.StatusTooManyRequests, "The request threshold of "+strconv.Itoa(s.opts.HourlyLimit)+" requests per 60 minutes has been exceeded.")
		return false
	}
	s.requests = append(s.requests, now)
	s.limitMu.Unlock()
	return true
}

func (s *Sandbox) pruneLocked(now time.Time) {
	cut := now.Add(-time.Hour)
	i := 0
	for i < len(s.requests) && !s.requests[i].After(cut) {
		i++
	}
	if i > 0 {
		s.requests = append(s.requests[:0], s.requests[i:]...)
	}
}

// usage is the request count of the current rolling hour.
func (s *Sandbox) usage() int {
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	s.pruneLocked(s.now())
	return len(s.requests)
}

// enterThread enforces the thread limit per endpoint; leave must be called after.
func (s *Sandbox) enterThread(w http.ResponseWriter, endpoint string) (leave func(), ok bool) {
	key := s.opts.IntegrationCode + "|" + endpoint
	s.limitMu.Lock()
	if s.threads[key] >= ThreadLimit {
		s.limitMu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeErrors(w, http.StatusTooManyRequests, "API thread threshold of "+strconv.Itoa(ThreadLimit)+" threads has been exceeded. Please try again later.")
		return nil, false
	}
	s.threads[key]++
	s.limitMu.Unlock()
	return func() {
		s.limitMu.Lock()
		s.threads[key]--
		s.limitMu.Unlock()
	}, true
}

// threadGate applies the thread limit to API requests (zone lookups are exempt).
func (s *Sandbox) threadGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lower := strings.ToLower(r.URL.Path)
		rest, ok := strings.CutPrefix(lower, apiPrefix+"v1.0/")
		if !ok || strings.HasPrefix(rest, "zoneinformation") {
			next.ServeHTTP(w, r)
			return
		}
		endpoint, _, _ := strings.Cut(rest, "/")
		leave, ok := s.enterThread(w, endpoint)
		if !ok {
			return
		}
		defer leave()
		next.ServeHTTP(w, r)
	})
}

// usageDelay sleeps as Autotask does under heavy usage; false when the client left.
func (s *Sandbox) usageDelay(r *http.Request) bool {
	if !s.usageLatency.Load() {
		return true
	}
	ratio := float64(s.usage()) / float64(s.opts.HourlyLimit)
	var d time.Duration
	switch {
	case ratio >= 0.75:
		d = time.Second
	case ratio >= 0.5:
		d = 500 * time.Millisecond
	default:
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
