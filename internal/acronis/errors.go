package acronis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind classifies an Acronis failure so callers (Temporal activities) can
// decide between retrying, re-reading, failing permanently and asking for new
// credentials.
type Kind int

// The kinds of failure; see the Is* helpers.
const (
	KindUnknown         Kind = iota
	KindNotFound             // the tenant, user, alert … or the path does not exist
	KindConflict             // another object of the same kind exists (409), e.g. a taken login or name
	KindVersionConflict      // the version sent is stale (426 on quotas, error 1001); re-read and retry
	KindInvalid              // Acronis refused the request (400/405/415/422, business rules)
	KindUnauthorized         // the token or the client credentials were refused
	KindForbidden            // the API client may not act on that object (403)
	KindThrottled            // rate limited (429); retry after RetryAfter
	KindServer               // Acronis or the network failed (5xx); retrying may help
)

// Account Management error codes the product reacts to (developer portal,
// "Error codes").
const (
	CodeVersionMismatch     = 1001
	CodeAccessDenied        = 1002
	CodeParentDisabled      = 1003
	CodeTenantNameConflict  = 1004
	CodeTenantNotFound      = 1005
	CodeDeleteEnabledTenant = 1006
	CodeTenantLocked        = 1012
	CodeOfferingUnavailable = 1021
	CodeHardQuotaExceeded   = 1022
	CodeOfferingDependency  = 1023
)

// String names the kind in words, for error texts and logs.
func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	case KindVersionConflict:
		return "version conflict"
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

// Sentinels for errors.Is: errors.Is(err, acronis.ErrThrottled).
var (
	ErrNotFound        = &Error{Kind: KindNotFound}
	ErrConflict        = &Error{Kind: KindConflict}
	ErrVersionConflict = &Error{Kind: KindVersionConflict}
	ErrInvalid         = &Error{Kind: KindInvalid}
	ErrUnauthorized    = &Error{Kind: KindUnauthorized}
	ErrForbidden       = &Error{Kind: KindForbidden}
	ErrThrottled       = &Error{Kind: KindThrottled}
	ErrServer          = &Error{Kind: KindServer}
)

// Error is a failed Acronis call, decoded from the platform's error body
// {"error":{code,message,details,context,domain}} or the token endpoint's
// {"error","error_description"}. It never holds credentials or tokens.
type Error struct {
	Kind Kind
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Method and Path identify the call (path only, never headers or query).
	Method, Path string
	// Code is the platform error code (e.g. 1006) or the HTTP status Acronis echoes.
	Code int
	// Reason is a textual code: the OAuth2 error ("invalid_client") or a
	// non-numeric platform code.
	Reason string
	// Message is Acronis' message, verbatim.
	Message string
	// Info is details.info, Acronis' longer explanation.
	Info string
	// Details, Context and Domain are the rest of the error body, verbatim.
	Details map[string]any
	Context map[string]any
	Domain  string
	// RetryAfter is how long Acronis asked to wait (429/503 Retry-After).
	RetryAfter time.Duration
	// Err is the transport or decoding error underneath, if any.
	Err error
}

// Error renders kind, call, status and Acronis' message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("acronis: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	b.WriteString(e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Code != 0 && e.Code != e.Status {
			fmt.Fprintf(&b, ", code %d", e.Code)
		}
		b.WriteString(")")
	}
	if e.Reason != "" {
		b.WriteString(" " + e.Reason)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Info != "" && e.Info != e.Message {
		b.WriteString(" (" + e.Info + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes the underlying transport or decoding error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinels by kind, so errors.Is(err, ErrNotFound) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == 0 && t.Method == "" && t.Code == 0 && t.Kind == e.Kind
}

func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool { return kindOf(err) == KindNotFound }

// IsConflict reports whether err is a 409 conflict or a version conflict.
func IsConflict(err error) bool {
	k := kindOf(err)
	return k == KindConflict || k == KindVersionConflict
}

// IsVersionConflict reports whether err says the version sent was stale.
func IsVersionConflict(err error) bool { return kindOf(err) == KindVersionConflict }

// IsInvalid reports whether Acronis refused the request as such; retrying the
// same request will not help.
func IsInvalid(err error) bool { return kindOf(err) == KindInvalid }

// IsUnauthorized reports whether the credentials or token were refused.
func IsUnauthorized(err error) bool { return kindOf(err) == KindUnauthorized }

// IsForbidden reports whether the API client lacks access to the object.
func IsForbidden(err error) bool { return kindOf(err) == KindForbidden }

// IsThrottled reports whether the call was rate limited.
func IsThrottled(err error) bool { return kindOf(err) == KindThrottled }

// IsServer reports whether Acronis or the network failed.
func IsServer(err error) bool { return kindOf(err) == KindServer }

// IsRetryable reports whether retrying later may succeed (throttled, server).
func IsRetryable(err error) bool {
	k := kindOf(err)
	return k == KindThrottled || k == KindServer
}

// RetryAfter is how long Acronis asked to wait before the next try, 0 if it
// did not say; activities use it as the next retry delay.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ErrorCode is the platform error code carried by err (e.g. 1006), 0 if none.
func ErrorCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// errorBody is the platform error envelope. "error" is an object on the
// Account Management and Alert Manager APIs and a string on the token endpoint.
type errorBody struct {
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

type errorObject struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
	Context json.RawMessage `json:"context"`
	Domain  string          `json:"domain"`
}

// DecodeError turns a non-2xx answer into an *Error. It accepts any body: a
// body that is not Acronis' JSON error becomes the message, shortened.
func DecodeError(status int, header http.Header, body []byte) *Error {
	e := &Error{Status: status, Code: status}
	e.decodeBody(body)
	e.RetryAfter = parseRetryAfter(header.Get("Retry-After"))
	e.Kind = classify(status, e.Code)
	return e
}

func (e *Error) decodeBody(body []byte) {
	body = bytes.TrimSpace(body)
	var env errorBody
	if len(body) == 0 {
		return
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Error) == 0 || string(env.Error) == "null" {
		e.Message = shorten(string(body))
		return
	}
	var s string
	if json.Unmarshal(env.Error, &s) == nil {
		e.Reason = s
		e.Message = env.ErrorDescription
		return
	}
	var obj errorObject
	if err := json.Unmarshal(env.Error, &obj); err != nil {
		e.Message = shorten(string(body))
		return
	}
	e.Message = obj.Message
	e.Domain = obj.Domain
	if len(obj.Code) > 0 {
		var n json.Number
		if json.Unmarshal(obj.Code, &n) == nil {
			if i, err := strconv.Atoi(n.String()); err == nil {
				e.Code = i
			}
		} else if json.Unmarshal(obj.Code, &s) == nil {
			if i, err := strconv.Atoi(s); err == nil {
				e.Code = i
			} else {
				e.Reason = s
			}
		}
	}
	if len(obj.Details) > 0 {
		var d map[string]any
		if json.Unmarshal(obj.Details, &d) == nil {
			e.Details = d
			if info, ok := d["info"].(string); ok {
				e.Info = info
			}
		} else if json.Unmarshal(obj.Details, &s) == nil {
			e.Info = s
		}
	}
	if len(obj.Context) > 0 {
		var c map[string]any
		if json.Unmarshal(obj.Context, &c) == nil {
			e.Context = c
		}
	}
}

// classify maps the HTTP status and platform code to a Kind.
func classify(status, code int) Kind {
	switch {
	case code == CodeVersionMismatch || status == http.StatusUpgradeRequired:
		return KindVersionConflict
	case status == http.StatusNotFound || code == CodeTenantNotFound:
		return KindNotFound
	case status == http.StatusUnauthorized:
		return KindUnauthorized
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusConflict:
		return KindConflict
	case status == http.StatusTooManyRequests:
		return KindThrottled
	case status >= 500:
		return KindServer
	case status >= 400:
		return KindInvalid
	}
	return KindUnknown
}

// parseRetryAfter reads seconds or an HTTP date; unparseable or negative → 0.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= 300 {
		return s
	}
	cut := 300
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Explain says in words what an error from New or a call means for the
// person configuring the connection (SPEC F1 "verify").
func Explain(err error) string {
	if err == nil {
		return "The Acronis connection works."
	}
	var e *Error
	if !errors.As(err, &e) {
		return "The Acronis connection could not be checked: " + err.Error()
	}
	switch {
	case e.Kind == KindUnauthorized && e.Path == TokenPath:
		return "Acronis refused the API client id or secret; check them in Settings → API clients of the management portal."
	case e.Kind == KindUnauthorized:
		return "Acronis refused the access token; the API client may have been disabled or deleted."
	case e.Kind == KindForbidden:
		return "The API client has no right to do this; it must be created by a partner administrator."
	case e.Kind == KindNotFound && e.Path == TokenPath:
		return "The data-center URL does not serve the Acronis API; use the URL shown when the API client was created."
	case e.Kind == KindNotFound:
		return "Acronis does not know this object: " + e.Error()
	case e.Kind == KindThrottled:
		return "Acronis is rate limiting the integration; it will retry."
	case e.Kind == KindServer && e.Status == 0:
		return "The data-center URL cannot be reached: " + e.Error()
	case e.Kind == KindServer:
		return "Acronis answered with a server error; retrying later may help."
	}
	return "Acronis refused the request: " + e.Error()
}
