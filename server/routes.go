package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/bulkmap"
	"github.com/acronis-autotask/acronis-autotask/internal/picklist"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/planner"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// vendorErrors are the answers of operations that call Autotask or Acronis:
// the vendor failed or refused the credentials (502), or is throttling or
// not configured (503).
var vendorErrors = []int{http.StatusBadGateway, http.StatusServiceUnavailable}

// customerActionErrors are the answers of the admin actions on a customer.
var customerActionErrors = []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict,
	http.StatusUnprocessableEntity, http.StatusBadGateway, http.StatusServiceUnavailable}

func withBadRequest(codes []int) []int { return append([]int{http.StatusBadRequest}, codes...) }

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
	// requestType is the request's media type when it is not application/json.
	requestType string
	status      int
	// errors lists the problem statuses this operation can answer besides 401/403/500.
	errors []int
	// query documents the query parameters: name → description.
	query []queryParam
	// preflight also routes the browser's CORS preflight (OPTIONS) to handler,
	// for endpoints a web page on another origin calls (the Temporal UI calls
	// the codec). Without it Echo answers OPTIONS itself, with no CORS headers,
	// and the browser refuses the real request.
	preflight bool
}

// queryParam is one documented query parameter (always optional).
type queryParam struct{ name, description string }

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
		{method: http.MethodPost, path: "/codec/encode", handler: s.codecRoute(), public: true, tag: "operations",
			summary: "Temporal codec server: encrypt payloads (token required unless CODEC_AUTH=none)", request: codecPayloads{}, response: codecPayloads{}, status: http.StatusOK, preflight: true},
		{method: http.MethodPost, path: "/codec/decode", handler: s.codecRoute(), public: true, tag: "operations",
			summary: "Temporal codec server: decrypt payloads for the Temporal UI (token required unless CODEC_AUTH=none)", request: codecPayloads{}, response: codecPayloads{}, status: http.StatusOK, preflight: true},

		{method: http.MethodGet, path: "/api/v1/settings", handler: s.getSettings, tag: "settings",
			summary: "Read the integration settings and their version (ETag), with the ids saved while their vendor could not be reached (unverified, checked again on this read)", response: SettingsDocument{}, status: http.StatusOK},
		{method: http.MethodPut, path: "/api/v1/settings", handler: s.putSettings, tag: "settings",
			summary: "Replace the integration settings; send the version read (If-Match or body). Ids are checked against the Autotask picklists and Acronis storages: an unknown one is a 400 listing the valid values; one whose vendor cannot be reached is saved as unverified. Invalid input changes nothing",
			request: SettingsUpdate{Settings: []byte("{}")}, response: SettingsDocument{}, status: http.StatusOK,
			errors: []int{http.StatusBadRequest, http.StatusConflict, http.StatusPreconditionFailed, http.StatusPreconditionRequired}},
		{method: http.MethodPatch, path: "/api/v1/settings", handler: s.patchSettings, tag: "settings",
			summary: "Change some settings with a JSON Merge Patch (RFC 7396, Content-Type application/merge-patch+json): fields left out keep their value, null resets one to its default; If-Match required. Changed ids are checked as with PUT. Invalid input changes nothing",
			request: settings.Settings{}, requestType: mergePatchType, response: SettingsDocument{}, status: http.StatusOK,
			errors: []int{http.StatusBadRequest, http.StatusPreconditionFailed, http.StatusPreconditionRequired, http.StatusUnsupportedMediaType}},

		{method: http.MethodGet, path: "/api/v1/autotask/picklists/:name", handler: s.getAutotaskPicklist, tag: "settings",
			summary:  "An Autotask list that settings and alert mappings name by id: billing-codes (active Recurring Contract Service allocation codes), ticket-sources, ticket-statuses, ticket-priorities, queues, issue-types, sub-issue-types (parentId is the issue type), ticket-types, note-types, note-publish. Kept for minutes; refresh=true reads it again and re-checks unverified values",
			response: picklist.List{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusBadGateway, http.StatusServiceUnavailable},
			query: []queryParam{{"refresh", "true reads the list from Autotask now instead of from the cache"}}},
		{method: http.MethodGet, path: "/api/v1/acronis/storages", handler: s.getAcronisStorages, tag: "settings",
			summary:  "The backup storages of the partner tenant, which the default storage and storage classes name by id. Kept for minutes; refresh=true reads them again and re-checks unverified values",
			response: picklist.List{}, status: http.StatusOK, errors: withBadRequest(vendorErrors),
			query: []queryParam{{"refresh", "true reads the storages from Acronis now instead of from the cache"}}},

		{method: http.MethodGet, path: "/api/v1/connections/autotask", handler: s.getAutotaskConnection, tag: "connections",
			summary: "Read the Autotask API user (secret masked)", response: AutotaskConnection{}, status: http.StatusOK, errors: []int{http.StatusNotFound}},
		{method: http.MethodPut, path: "/api/v1/connections/autotask", handler: s.putAutotaskConnection, tag: "connections",
			summary: "Store the Autotask API user; the secret is encrypted at rest", request: AutotaskConnection{}, response: AutotaskConnection{}, status: http.StatusOK, errors: []int{http.StatusBadRequest}},
		{method: http.MethodGet, path: "/api/v1/connections/acronis", handler: s.getAcronisConnection, tag: "connections",
			summary: "Read the Acronis API client (secret masked)", response: AcronisConnection{}, status: http.StatusOK, errors: []int{http.StatusNotFound}},
		{method: http.MethodPut, path: "/api/v1/connections/acronis", handler: s.putAcronisConnection, tag: "connections",
			summary: "Store the Acronis API client; the secret is encrypted at rest", request: AcronisConnection{}, response: AcronisConnection{}, status: http.StatusOK, errors: []int{http.StatusBadRequest}},

		{method: http.MethodGet, path: "/api/v1/offering-items", handler: s.getOfferingItems, tag: "service mapping",
			summary:  "The partner's offering items available to customers, grouped (standard, advanced, storage), with their mappings and suggested service names",
			response: OfferingItems{}, status: http.StatusOK, errors: vendorErrors},
		{method: http.MethodGet, path: "/api/v1/autotask/services", handler: s.getAutotaskServices, tag: "service mapping",
			summary:  "Active Autotask services, paged by id (cursor, pageSize ≤ 500); q filters by name",
			response: AutotaskServices{}, status: http.StatusOK, errors: withBadRequest(vendorErrors),
			query: []queryParam{{"q", "name contains this text"}, {"pageSize", "1–500, default 100"}, {"cursor", "nextCursor of the previous page"}}},
		{method: http.MethodGet, path: "/api/v1/service-mappings", handler: s.getServiceMappings, tag: "service mapping",
			summary: "Every offering item → Autotask service mapping", response: ServiceMappings{}, status: http.StatusOK},
		{method: http.MethodPut, path: "/api/v1/service-mappings", handler: s.putServiceMappings, tag: "service mapping",
			summary: "Replace every service mapping; new services are created in Autotask, customers re-plan. Invalid input changes nothing",
			request: ServiceMappingsUpdate{}, response: ServiceMappings{}, status: http.StatusOK, errors: withBadRequest(vendorErrors)},

		{method: http.MethodGet, path: "/api/v1/customers", handler: s.listCustomers, tag: "customers",
			summary:  "Autotask companies with their mappings, mapping health and suggested tenants, from the local read model (no vendor request); filter, type, q, sort, page, pageSize",
			response: CustomerList{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusServiceUnavailable},
			query: customerQueryParams},
		{method: http.MethodGet, path: "/api/v1/acronis/tenants", handler: s.listTenants, tag: "customers",
			summary:  "Customer and sub-partner tenants under the partner with their mapped company and whether they can be managed, from the local read model (no vendor request)",
			response: AcronisTenants{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusServiceUnavailable},
			query: tenantQueryParams},
		{method: http.MethodGet, path: "/api/v1/customers/:companyID/suggestions", handler: s.getSuggestions, tag: "customers",
			summary:  "The unmapped, manageable tenants the company probably is, each with a confidence and its reasons (same normalised name, similar name, initials, e-mail domain, internal_tag or customer_id)",
			response: Suggestions{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable}},
		{method: http.MethodGet, path: "/api/v1/customers/:companyID", handler: s.getCustomer, tag: "customers",
			summary:  "A customer's state from its workflow: tenant, quotas, pending deprovisioning steps, last error",
			response: CustomerStatus{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable}},
		{method: http.MethodPut, path: "/api/v1/customers/:companyID/mapping", handler: s.putCustomerMapping, tag: "customers",
			summary: "Map the company to an existing Acronis tenant or to a new one", request: MappingRequest{}, response: ActionAnswer{},
			status: http.StatusOK, errors: customerActionErrors},
		{method: http.MethodDelete, path: "/api/v1/customers/:companyID/mapping", handler: s.deleteCustomerMapping, tag: "customers",
			summary: "Remove the company's mapping (the tenant itself is unchanged); optional body {\"reason\"}", response: ActionAnswer{},
			status: http.StatusOK, errors: customerActionErrors},
		{method: http.MethodPost, path: "/api/v1/mappings/bulk", handler: s.postBulkMappings, tag: "customers",
			summary: "Preview one combined plan mapping many companies: explicit pairs, or every unmapped company's best suggestion at or above minConfidence. Any bad pair is a 400 naming it, and nothing is stored; apply the plan by its id",
			request: BulkMappingRequest{}, response: bulkmap.Plan{}, status: http.StatusCreated, errors: []int{http.StatusBadRequest, http.StatusServiceUnavailable}},
		{method: http.MethodGet, path: "/api/v1/mappings/bulk/:planID", handler: s.getBulkMapping, tag: "customers",
			summary: "A bulk mapping plan: its items, skipped suggestions and, once applied, the result of each item", response: bulkmap.Plan{},
			status: http.StatusOK, errors: []int{http.StatusNotFound, http.StatusServiceUnavailable}},
		{method: http.MethodPost, path: "/api/v1/mappings/bulk/:planID/apply", handler: s.applyBulkMapping, tag: "customers",
			summary: "Apply a previewed plan (once, within an hour): each company is mapped through its workflow, which checks the tenant in Acronis", response: bulkmap.Plan{},
			status: http.StatusOK, errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusServiceUnavailable}},
		{method: http.MethodPost, path: "/api/v1/plans", handler: s.postPlanSet, tag: "plans",
			summary: "Preview what the integration would write for a scope of customers (one, a list, or all), under the saved configuration or under settings (a merge patch), service mappings or customer mappings not saved yet: per customer the offering items with current quota, usage and new quota, tenant steps with their times, and warnings. Stored under an id; nothing is written",
			request: PlanRequest{}, response: plan.Set{}, status: http.StatusCreated, errors: withBadRequest(vendorErrors)},
		{method: http.MethodGet, path: "/api/v1/plans/:planID", handler: s.getPlanSet, tag: "plans",
			summary: "A stored plan and its status", response: plan.Set{},
			status: http.StatusOK, errors: []int{http.StatusNotFound, http.StatusServiceUnavailable}},
		{method: http.MethodPost, path: "/api/v1/plans/:planID/apply", handler: s.applyPlanSet, tag: "plans",
			summary:  "Apply a previewed plan once, within a day, only if its inputs (contracts, quotas and usage read, mappings, settings version) still give the same plan: saves its changes in one transaction, maps the companies it maps, and re-plans every customer in scope at once. Otherwise 409 listing what changed, and nothing is written",
			response: planner.Applied{}, status: http.StatusOK, errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable}},
		{method: http.MethodGet, path: "/api/v1/mappings/orphans", handler: s.getOrphans, tag: "customers",
			summary:  "Orphan report from the read model: tenants carrying the integration's tag without a mapping, companies with mapped services in an eligible contract but no tenant, companies with several eligible contracts; each with the fix it proposes",
			response: OrphanReport{}, status: http.StatusOK, errors: []int{http.StatusServiceUnavailable}},
		{method: http.MethodGet, path: "/api/v1/mappings.csv", handler: s.getMappingsCSV, tag: "customers",
			summary: "Every customer mapping as CSV (company_id, company_name, tenant_id, tenant_name, how, state, health)", status: http.StatusOK,
			errors: []int{http.StatusServiceUnavailable}},
		{method: http.MethodPut, path: "/api/v1/mappings.csv", handler: s.putMappingsCSV, tag: "customers",
			summary:  "Map the companies of a text/csv file (columns company_id and tenant_id) as one plan and apply it; ?preview=true only stores the plan. A bad line is a 400 naming its line and field, and nothing is saved",
			response: bulkmap.Plan{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnsupportedMediaType, http.StatusServiceUnavailable},
			query: []queryParam{{"preview", "true stores the plan without applying it (answer 201)"}}},
		{method: http.MethodPost, path: "/api/v1/customers/:companyID/hold", handler: s.customerAction(workflows.UpdateHold), tag: "customers",
			summary: "Pause the customer's pending deprovisioning; optional body {\"reason\"}", response: ActionAnswer{},
			status: http.StatusOK, errors: customerActionErrors},
		{method: http.MethodPost, path: "/api/v1/customers/:companyID/release", handler: s.customerAction(workflows.UpdateRelease), tag: "customers",
			summary: "Resume the customer's deprovisioning; optional body {\"reason\"}", response: ActionAnswer{},
			status: http.StatusOK, errors: customerActionErrors},
		{method: http.MethodPost, path: "/api/v1/customers/:companyID/deprovision-now", handler: s.customerAction(workflows.UpdateDeprovisionNow), tag: "customers",
			summary: "Run the customer's next deprovisioning step now; optional body {\"reason\"}", response: ActionAnswer{},
			status: http.StatusOK, errors: customerActionErrors},
		{method: http.MethodPost, path: "/api/v1/customers/:companyID/sync", handler: s.syncCustomer, tag: "sync",
			summary: "Re-read the company from Autotask and re-apply its quotas", response: Accepted{}, status: http.StatusAccepted,
			errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusBadGateway, http.StatusServiceUnavailable}},
		{method: http.MethodPost, path: "/api/v1/sync", handler: s.postSync, tag: "sync",
			summary: "Run the contract sync now for every company", response: Accepted{}, status: http.StatusAccepted,
			errors: []int{http.StatusServiceUnavailable}},

		// Operations (issue 8) and the usage ledger (issue 6).
		{method: http.MethodPost, path: "/api/v1/connections/verify", handler: s.verifyConnections, tag: "connections",
			summary:  "Check both connections with the credentials in effect and say in words what is wrong (secrets are never echoed)",
			response: ConnectionsVerification{}, status: http.StatusOK, errors: []int{http.StatusServiceUnavailable}},
		{method: http.MethodGet, path: "/api/v1/audit", handler: s.listAudit, tag: "operations",
			summary:  "The audit log, newest first: every write to Autotask or Acronis and every admin change, with actor, reason, before and after",
			response: AuditPage{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusServiceUnavailable}, query: auditQueryParams},
		{method: http.MethodGet, path: "/api/v1/shadow/report", handler: s.getShadowReport, tag: "operations",
			summary:  "Shadow mode: per customer, the writes to Autotask and Acronis recorded instead of sent, with the warnings of its current plan",
			response: ShadowReport{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusServiceUnavailable}, query: shadowQueryParams},
		{method: http.MethodGet, path: "/api/v1/stats", handler: s.getStats, tag: "operations",
			summary:  "Companies, mapped and provisioned customers, customers deprovisioning or in error, alert tickets, last sync times (also as Prometheus gauges)",
			response: Stats{}, status: http.StatusOK, errors: []int{http.StatusServiceUnavailable}},
		{method: http.MethodGet, path: "/api/v1/usage", handler: s.listUsage, tag: "usage",
			summary:  "Usage ledger rows: every reported pay-as-you-go number per contract service, period and metric, with corrections",
			response: UsageList{}, status: http.StatusOK, errors: withBadRequest(vendorErrors), query: usageQueryParams},
		{method: http.MethodGet, path: "/api/v1/usage/:id", handler: s.getUsage, tag: "usage",
			summary:  "Explain one reported number: raw value and unit, rounding, billed value, source samples, Autotask adjustment, state and correction chain",
			response: UsageExplanation{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable}},
		{method: http.MethodPost, path: "/api/v1/usage/report-now", handler: s.postUsageReportNow, tag: "usage",
			summary: "Run the usage report now instead of at its next scheduled time", response: Accepted{}, status: http.StatusAccepted,
			errors: []int{http.StatusServiceUnavailable}},

		// Tickets from alerts (issue 7).
		{method: http.MethodGet, path: "/api/v1/alert-types", handler: s.getAlertTypes, tag: "alerts",
			summary:  "Acronis alert types (listed by Acronis or seen in alerts) with their ticket mappings",
			response: AlertTypes{}, status: http.StatusOK, errors: vendorErrors},
		{method: http.MethodGet, path: "/api/v1/alert-mappings", handler: s.getAlertMappings, tag: "alerts",
			summary:  "Every alert type → ticket mapping (create a ticket or not, priority, status, queue, issue types, ticket type)",
			response: AlertMappings{}, status: http.StatusOK, errors: []int{http.StatusServiceUnavailable}},
		{method: http.MethodPut, path: "/api/v1/alert-mappings", handler: s.putAlertMappings, tag: "alerts",
			summary: "Replace the listed alert types' mappings; values are checked against Autotask's ticket picklists (an unknown id is a 400 listing the valid ones; when Autotask cannot be reached the id is saved as unverified). Invalid input changes nothing",
			request: AlertMappingsUpdate{}, response: AlertMappings{}, status: http.StatusOK, errors: withBadRequest(vendorErrors)},
		{method: http.MethodGet, path: "/api/v1/tickets", handler: s.listAlertTickets, tag: "alerts",
			summary:  "Alert ↔ Autotask ticket links with their states, newest first",
			response: AlertTicketList{}, status: http.StatusOK, errors: []int{http.StatusBadRequest, http.StatusServiceUnavailable},
			query: []queryParam{{"companyId", "Autotask company id"}, {"alertType", "Acronis alert type id"},
				{"state", "open or closed"}, {"limit", "1–1000, default 100"}}},
		{method: http.MethodPost, path: "/api/v1/alerts/sync", handler: s.postAlertSync, tag: "alerts",
			summary: "Run the alert sync now", response: Accepted{}, status: http.StatusAccepted,
			errors: []int{http.StatusServiceUnavailable}},
	}
}

// codecPayloads documents the codec server body: {"payloads": [...]}.
type codecPayloads struct {
	Payloads []struct {
		Metadata map[string]string `json:"metadata"`
		Data     string            `json:"data"`
	} `json:"payloads"`
}
