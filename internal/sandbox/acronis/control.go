package acronis

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// ControlPrefix is where the Acronis state controls are served (see doc.go).
const ControlPrefix = "/_sandbox/acronis/"

// controlHandler serves the state controls so scripts can drive a sandbox
// running in another process. Controls need no token and are neither logged
// nor faulted.
func (s *Sandbox) controlHandler() http.Handler {
	m := http.NewServeMux()
	p := ControlPrefix
	fail := func(w http.ResponseWriter, status int, err error) {
		writeJSON(w, status, map[string]string{"error": err.Error()})
	}
	decode := func(w http.ResponseWriter, r *http.Request, v any) bool {
		if err := json.NewDecoder(r.Body).Decode(v); err != nil {
			fail(w, http.StatusBadRequest, err)
			return false
		}
		return true
	}
	m.HandleFunc("POST "+p+"alerts", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			AlertSpec
			TenantName string `json:"tenant_name"`
		}
		if !decode(w, r, &in) {
			return
		}
		spec := in.AlertSpec
		spec.TenantID = s.resolve(spec.TenantID, in.TenantName)
		id, err := s.RaiseAlert(spec)
		if err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	})
	m.HandleFunc("GET "+p+"alerts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Alerts(r.URL.Query().Get("tenant_id")))
	})
	m.HandleFunc("DELETE "+p+"alerts/{id}", func(w http.ResponseWriter, r *http.Request) {
		var err error
		if r.URL.Query().Get("purge") == "true" {
			err = s.DeleteAlert(r.PathValue("id"))
		} else {
			err = s.DismissAlert(r.PathValue("id"))
		}
		if err != nil {
			fail(w, http.StatusNotFound, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("PUT "+p+"usages", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			TenantID      string   `json:"tenant_id"`
			TenantName    string   `json:"tenant_name"`
			Name          string   `json:"name"`
			InfraID       string   `json:"infra_id"`
			Value         float64  `json:"value"`
			AbsoluteValue *float64 `json:"absolute_value"`
		}
		if !decode(w, r, &in) {
			return
		}
		abs := in.Value
		if in.AbsoluteValue != nil {
			abs = *in.AbsoluteValue
		}
		if err := s.SetUsage(s.resolve(in.TenantID, in.TenantName), in.Name, in.InfraID, in.Value, abs); err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("PUT "+p+"quotas", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			TenantID   string   `json:"tenant_id"`
			TenantName string   `json:"tenant_name"`
			Name       string   `json:"name"`
			InfraID    string   `json:"infra_id"`
			Value      *float64 `json:"value"`
			Overage    *float64 `json:"overage"`
		}
		if !decode(w, r, &in) {
			return
		}
		if err := s.SetQuota(s.resolve(in.TenantID, in.TenantName), in.Name, in.InfraID, in.Value, in.Overage); err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET "+p+"tenants", func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.TenantByName(r.URL.Query().Get("name"))
		if !ok {
			fail(w, http.StatusNotFound, errString("no tenant named "+r.URL.Query().Get("name")))
			return
		}
		writeJSON(w, http.StatusOK, t)
	})
	m.HandleFunc("GET "+p+"tenants/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.Tenant(r.PathValue("id"))
		if !ok {
			fail(w, http.StatusNotFound, errString("no tenant "+r.PathValue("id")))
			return
		}
		writeJSON(w, http.StatusOK, t)
	})
	m.HandleFunc("GET "+p+"tenants/{id}/items", func(w http.ResponseWriter, r *http.Request) {
		items, err := s.OfferingItems(r.PathValue("id"))
		if err != nil {
			fail(w, http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, items)
	})
	m.HandleFunc("GET "+p+"tenants/{id}/users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Users(r.PathValue("id")))
	})
	m.HandleFunc("PUT "+p+"tenants/{id}/access", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			AncestralAccess *bool `json:"ancestral_access"`
			SupportAccess   *bool `json:"support_access"`
		}
		if !decode(w, r, &in) {
			return
		}
		id := r.PathValue("id")
		var err error
		if in.AncestralAccess != nil {
			err = s.SetAncestralAccess(id, *in.AncestralAccess)
		}
		if err == nil && in.SupportAccess != nil {
			err = s.SetSupportAccess(id, *in.SupportAccess)
		}
		if err != nil {
			fail(w, http.StatusNotFound, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET "+p+"stats", func(w http.ResponseWriter, _ *http.Request) {
		active := 0
		for _, a := range s.Alerts("") {
			if !a.Dismissed {
				active++
			}
		}
		writeJSON(w, http.StatusOK, map[string]int{
			"tenants": s.CountTenants(""), "customers": s.CountTenants("customer"), "partners": s.CountTenants("partner"),
			"users": s.CountUsers(""), "active_alerts": active,
		})
	})
	m.HandleFunc("POST "+p+"tokens/expire", func(w http.ResponseWriter, _ *http.Request) {
		s.ExpireTokens()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("PUT "+p+"ratelimit", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			RequestsPerSecond float64 `json:"requests_per_second"`
			Burst             int     `json:"burst"`
		}
		if !decode(w, r, &in) {
			return
		}
		s.SetRateLimit(in.RequestsPerSecond, in.Burst)
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET "+p+"reports", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Reports())
	})
	m.HandleFunc("PUT "+p+"reports", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			DelaySeconds *float64 `json:"delay_seconds"`
			FailNext     *int     `json:"fail_next"`
		}
		if !decode(w, r, &in) {
			return
		}
		if in.DelaySeconds != nil {
			s.SetReportDelay(time.Duration(*in.DelaySeconds * float64(time.Second)))
		}
		if in.FailNext != nil {
			s.FailNextReports(*in.FailNext)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, errString("unknown control "+r.Method+" "+strings.TrimPrefix(r.URL.Path, p)))
	})
	return m
}

// resolve picks the tenant id, or looks the tenant up by name.
func (s *Sandbox) resolve(id, name string) string {
	if id != "" || name == "" {
		return id
	}
	if t, ok := s.TenantByName(name); ok {
		return t.ID
	}
	return name
}

// errString is a plain error for control answers.
type errString string

// Error is the text itself.
func (e errString) Error() string { return string(e) }
