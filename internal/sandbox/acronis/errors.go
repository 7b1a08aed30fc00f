package acronis

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Domains Acronis names in error bodies.
const (
	domainAccount = "PlatformAccountServer"
	domainAlerts  = "AlertManager"
)

// apiError is the platform error envelope {"error":{code,message,details,context,domain}}.
type apiError struct {
	status  int
	code    int
	message string
	info    string
	extra   map[string]any // more details keys
	context map[string]any
	domain  string
}

func (e apiError) write(w http.ResponseWriter) {
	details := map[string]any{}
	if e.info != "" {
		details["info"] = e.info
	}
	for k, v := range e.extra {
		details[k] = v
	}
	body := map[string]any{"code": e.code, "message": e.message, "details": details, "domain": e.domain}
	if e.context != nil {
		body["context"] = e.context
	} else {
		body["context"] = map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func errBadRequest(info string) apiError {
	return apiError{status: http.StatusBadRequest, code: http.StatusBadRequest, message: "Bad request", info: info, domain: domainAccount}
}

func errTenantNotFound(id string) apiError {
	return apiError{status: http.StatusNotFound, code: 1005, message: "Tenant not found.", info: "Tenant \"" + id + "\" is not found", context: map[string]any{"id": id}, domain: domainAccount}
}

func errNotFound(what, id string) apiError {
	return apiError{status: http.StatusNotFound, code: http.StatusNotFound, message: what + " not found.", info: what + " \"" + id + "\" is not found", context: map[string]any{"id": id}, domain: domainAccount}
}

// errVersion is the stale-version answer. Acronis documents error 1001
// "Version mismatch"; the HTTP status for tenants is not published, 409 is used.
func errVersion(id string, have, got int64) apiError {
	return apiError{status: http.StatusConflict, code: 1001, message: "Version mismatch.",
		info:    "Version of \"" + id + "\" is " + strconv.FormatInt(have, 10) + ", the request has " + strconv.FormatInt(got, 10),
		context: map[string]any{"id": id}, domain: domainAccount}
}

// errQuotaVersion is the stale quota version answer: 426 Upgrade Required
// since build C22.10 (Acronis KB 71376).
func errQuotaVersion(name string, have, got int64) apiError {
	return apiError{status: http.StatusUpgradeRequired, code: http.StatusUpgradeRequired, message: "Upgrade Required",
		info:    "Quota version of offering item \"" + name + "\" is " + strconv.FormatInt(have, 10) + ", the request has " + strconv.FormatInt(got, 10),
		context: map[string]any{"name": name}, domain: domainAccount}
}

func errAccessDenied(id, why string) apiError {
	return apiError{status: http.StatusForbidden, code: 1002, message: "Access denied.", info: why, context: map[string]any{"id": id}, domain: domainAccount}
}

// errDeleteEnabled reproduces the developer portal's example (error-response.json).
func errDeleteEnabled(v1 string) apiError {
	return apiError{status: http.StatusBadRequest, code: 1006, message: "It is prohibited to delete a non-disabled tenant.",
		info:    "It is prohibited to delete a non-disabled tenant \"" + v1 + "\"",
		extra:   map[string]any{"addition": []any{map[string]any{"id": v1}}},
		context: map[string]any{"id": v1}, domain: domainAccount}
}

func errUnauthorized(info string) apiError {
	return apiError{status: http.StatusUnauthorized, code: http.StatusUnauthorized, message: "Unauthorized", info: info, domain: domainAccount}
}

// platformErrors answers requests no route serves (unknown path, or a known
// path with another method) with the platform's JSON error envelope and the
// same 404/405 status, instead of net/http's plain-text bodies: clients
// decode every error body as {"error":{…}} (developer portal, "Inspect
// response codes"; sample error-response.json).
func platformErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux knows whether another method would match (405 with Allow)
		// or nothing does (404); let it decide, then replace its body.
		rec := &statusOnly{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		if rec.status < 400 {
			rec.status = http.StatusNotFound
		}
		domain := domainAccount
		if strings.HasPrefix(r.URL.Path, "/api/alert_manager/") {
			domain = domainAlerts
		}
		info := "No resource at " + r.URL.Path
		if rec.status == http.StatusMethodNotAllowed {
			info = "Method " + r.Method + " is not allowed for " + r.URL.Path
		}
		apiError{status: rec.status, code: rec.status, message: http.StatusText(rec.status), info: info, domain: domain}.write(w)
	})
}

// statusOnly keeps a handler's status and headers and drops its body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(b), nil
}
func (s *statusOnly) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

// versionMatches checks the ?version= of a versioned delete as the platform
// does: missing is a 400, stale a 409; it has answered when false.
func versionMatches(w http.ResponseWriter, r *http.Request, id string, current int64) bool {
	v, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	if err != nil {
		errBadRequest("version is required").write(w)
		return false
	}
	if v != current {
		errVersion(id, current, v).write(w)
		return false
	}
	return true
}
