package autotask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Kind classifies an Autotask failure so callers (Temporal activities) can
// decide between retrying, failing permanently and asking for new credentials.
type Kind int

// The kinds of failure; see the Is* helpers.
const (
	KindUnknown      Kind = iota
	KindNotFound          // the record or path does not exist
	KindInvalid           // Autotask refused the request (validation, business rule, bad query)
	KindUnauthorized      // credentials refused (wrong user/secret/code or not an API-only user)
	KindForbidden         // the API user lacks the permission
	KindThrottled         // thread or hourly limit reached; retry after RetryAfter
	KindServer            // Autotask or the network failed; retrying may help
)

// String names the kind for messages.
func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindInvalid:
		return "invalid"
	case KindUnauthorized:
		return "unauthorized"
	case KindForbidden:
		return "forbidden"
	case KindThrottled:
		return "throttled"
	case KindServer:
		return "server error"
	}
	return "unknown"
}

// Sentinels for errors.Is: errors.Is(err, autotask.ErrThrottled).
var (
	ErrNotFound     = &Error{Kind: KindNotFound}
	ErrInvalid      = &Error{Kind: KindInvalid}
	ErrUnauthorized = &Error{Kind: KindUnauthorized}
	ErrForbidden    = &Error{Kind: KindForbidden}
	ErrThrottled    = &Error{Kind: KindThrottled}
	ErrServer       = &Error{Kind: KindServer}
)

// Error is a failed Autotask call. It never holds credentials: only the method,
// the URL path and Autotask's own error strings.
type Error struct {
	Kind Kind
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Method and Path identify the call (path only, never headers).
	Method, Path string
	// Messages are Autotask's "errors" strings, verbatim.
	Messages []string
	// RetryAfter is how long Autotask asked to wait (Throttled, some Server).
	RetryAfter time.Duration
	// Err is the transport or decoding error underneath, if any.
	Err error
}

// Error renders kind, call, status and Autotask's messages.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("autotask: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	b.WriteString(e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Kind == KindUnauthorized {
		b.WriteString(": credentials refused (wrong user name, secret or integration code, or the user is not an API-only user)")
	}
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes the underlying transport error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinels by kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Method == "" && t.Status == 0 && t.Messages == nil && t.Err == nil && t.Kind == e.Kind
}

// KindOf returns the kind of an Autotask error anywhere in err's chain.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// IsNotFound reports a missing record or path.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

// IsInvalid reports a request Autotask refused; retrying the same request fails again.
func IsInvalid(err error) bool { return KindOf(err) == KindInvalid }

// IsUnauthorized reports refused credentials.
func IsUnauthorized(err error) bool { return KindOf(err) == KindUnauthorized }

// IsForbidden reports a missing permission of the API user.
func IsForbidden(err error) bool { return KindOf(err) == KindForbidden }

// IsThrottled reports a thread or hourly limit; see RetryAfter.
func IsThrottled(err error) bool { return KindOf(err) == KindThrottled }

// IsServer reports a server or network failure worth retrying later.
func IsServer(err error) bool { return KindOf(err) == KindServer }

// IsRetryable reports whether retrying later may succeed (throttled or server).
func IsRetryable(err error) bool { k := KindOf(err); return k == KindThrottled || k == KindServer }

// RetryAfter returns the wait Autotask asked for, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// errorBody is Autotask's failure envelope: {"errors": ["..."]}. Objects with a
// "message" are accepted defensively.
type errorBody struct {
	Errors []json.RawMessage `json:"errors"`
}

// DecodeErrors extracts Autotask's error strings from a response body; ok is
// false when the body is not an Autotask error envelope.
func DecodeErrors(body []byte) (msgs []string, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, false
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Errors == nil {
		return nil, false
	}
	for _, raw := range eb.Errors {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			msgs = append(msgs, s)
			continue
		}
		var obj struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		}
		if json.Unmarshal(raw, &obj) == nil && obj.Message != "" {
			if obj.Field != "" {
				msgs = append(msgs, obj.Field+": "+obj.Message)
			} else {
				msgs = append(msgs, obj.Message)
			}
			continue
		}
		msgs = append(msgs, string(raw))
	}
	return msgs, true
}

// threadLimitMarkers identify a thread-limit refusal, which may arrive with a
// status other than 429.
var threadLimitMarkers = []string{"thread threshold", "itgenatr005"}

// permissionMarkers identify permission refusals that arrive as HTTP 500.
var permissionMarkers = []string{"does not have the adequate permissions", "permission"}

// classify turns a non-2xx answer into an *Error.
func classify(method, path string, status int, header http.Header, body []byte) *Error {
	e := &Error{Status: status, Method: method, Path: path}
	msgs, isEnvelope := DecodeErrors(body)
	e.Messages = msgs
	e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	joined := strings.ToLower(strings.Join(msgs, " "))
	switch {
	case status == http.StatusTooManyRequests || containsAny(joined, threadLimitMarkers):
		e.Kind = KindThrottled
	case status == http.StatusUnauthorized:
		e.Kind = KindUnauthorized
	case status == http.StatusForbidden:
		e.Kind = KindForbidden
	case status == http.StatusNotFound:
		e.Kind = KindNotFound
	case status == http.StatusMethodNotAllowed, status == http.StatusBadRequest, status == http.StatusConflict,
		status == http.StatusUnprocessableEntity, status == http.StatusRequestEntityTooLarge:
		e.Kind = KindInvalid
	case status >= 500 && isEnvelope && len(msgs) > 0:
		// Autotask answers validation and business-rule failures with 500 and
		// an errors array; permission problems too.
		if containsAny(joined, permissionMarkers) {
			e.Kind = KindForbidden
		} else if strings.Contains(joined, "no matching records") {
			e.Kind = KindNotFound
		} else {
			e.Kind = KindInvalid
		}
	case status >= 500:
		e.Kind = KindServer
	default:
		e.Kind = KindInvalid
	}
	if len(msgs) == 0 && !isEnvelope && len(body) > 0 && e.Kind != KindUnauthorized {
		// Keep a short, credential-free excerpt of non-JSON bodies (proxies, HTML).
		e.Messages = []string{excerpt(body, 200)}
	}
	return e
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func excerpt(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && fmt.Sprint(secs) == v {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
