package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// route is one operation of the REST API. The table below is the single
// source for both the router and /openapi.json, so the document cannot drift
// from what is served.
type route struct {
	method, path string
	handler      echo.HandlerFunc
	public       bool
	tag, summary string
	// request and response are zero values whose Go types describe the bodies; nil means none or not JSON.
	request, response any
	status            int
	// errors lists the problem statuses this operation can answer besides 401/403/500.
	errors []int
}

func (s *Server) routes() []route {
	return []route{
		{method: http.MethodGet, path: "/healthz", handler: s.healthz, public: true, tag: "operations",
			summary: "Liveness: the process is up", response: HealthStatus{}, status: http.StatusOK},
		{method: http.MethodGet, path: "/readyz", handler: s.readyz, public: true, tag: "operations",
			summary: "Readiness: PostgreSQL and Temporal answer", response: HealthStatus{}, status: http.StatusOK, errors: []int{http.StatusServiceUnavailable}},
		{method: http.MethodGet, path: "/metrics", handler: echo.WrapHandler(s.metricsHandler()), public: true, tag: "operations",
			summary: "Prometheus metrics (text exposition format)", status: http.StatusOK},
		{method: http.MethodGet, path: "/openapi.json", handler: s.openAPIDocument, public: true, tag: "operations",
			summary: "This OpenAPI document", status: http.StatusOK},
		{method: http.MethodPost, path: "/codec/encode", handler: echo.WrapHandler(http.StripPrefix("/codec", s.codecHandler())), public: true, tag: "operations",
			summary: "Temporal codec server: encrypt payloads (token required unless CODEC_AUTH=none)", request: codecPayloads{}, response: codecPayloads{}, status: http.StatusOK},
		{method: http.MethodPost, path: "/codec/decode", handler: echo.WrapHandler(http.StripPrefix("/codec", s.codecHandler())), public: true, tag: "operations",
			summary: "Temporal codec server: decrypt payloads for the Temporal UI (token required unless CODEC_AUTH=none)", request: codecPayloads{}, response: codecPayloads{}, status: http.StatusOK},

		{method: http.MethodGet, path: "/api/v1/settings", handler: s.getSettings, tag: "settings",
			summary: "Read the integration settings and their version (ETag)", response: SettingsDocument{}, status: http.StatusOK},
		{method: http.MethodPut, path: "/api/v1/settings", handler: s.putSettings, tag: "settings",
			summary: "Replace the integration settings; send the version read (If-Match or body). Invalid input changes nothing",
			request: SettingsUpdate{Settings: []byte("{}")}, response: SettingsDocument{}, status: http.StatusOK,
			errors: []int{http.StatusBadRequest, http.StatusConflict, http.StatusPreconditionFailed, http.StatusPreconditionRequired}},

		{method: http.MethodGet, path: "/api/v1/connections/autotask", handler: s.getAutotaskConnection, tag: "connections",
			summary: "Read the Autotask API user (secret masked)", response: AutotaskConnection{}, status: http.StatusOK, errors: []int{http.StatusNotFound}},
		{method: http.MethodPut, path: "/api/v1/connections/autotask", handler: s.putAutotaskConnection, tag: "connections",
			summary: "Store the Autotask API user; the secret is encrypted at rest", request: AutotaskConnection{}, response: AutotaskConnection{}, status: http.StatusOK, errors: []int{http.StatusBadRequest}},
		{method: http.MethodGet, path: "/api/v1/connections/acronis", handler: s.getAcronisConnection, tag: "connections",
			summary: "Read the Acronis API client (secret masked)", response: AcronisConnection{}, status: http.StatusOK, errors: []int{http.StatusNotFound}},
		{method: http.MethodPut, path: "/api/v1/connections/acronis", handler: s.putAcronisConnection, tag: "connections",
			summary: "Store the Acronis API client; the secret is encrypted at rest", request: AcronisConnection{}, response: AcronisConnection{}, status: http.StatusOK, errors: []int{http.StatusBadRequest}},
	}
}

// codecPayloads documents the codec server body: {"payloads": [...]}.
type codecPayloads struct {
	Payloads []struct {
		Metadata map[string]string `json:"metadata"`
		Data     string            `json:"data"`
	} `json:"payloads"`
}
