// Package acronis is an in-memory, stateful fake of the Acronis Cyber Cloud
// Account Management API v2 and Alert Manager API v1, faithful to the real
// paths, bodies, status codes, error bodies, cursor paging, filters, version
// checks and authentication (as Acronis documents them; samples in internal/acronis/testdata), so
// the integration can be developed, tested and benchmarked without a data
// center. Importers alias it (acsandbox).
//
// # Authentication and limits
//
// POST /api/2/idp/token takes grant_type=client_credentials with HTTP Basic
// auth (default client DefaultClientID / DefaultClientSecret) and answers
// {access_token, token_type, expires_on, id_token, refresh_token}. Every other
// API call needs "Authorization: Bearer <token>"; an unknown or expired token
// (Options.TokenTTL, default 2 h) is a 401. Calls beyond
// Options.RequestsPerSecond are answered 429 with Retry-After.
//
// # API served
//
//	GET    /api/2/clients/{id}                        → tenant_id of the API client (PartnerID)
//	GET    /api/2/tenants?uuids=|parent_id=|subtree_root_id=&updated_since=&limit=&after=&allow_deleted=
//	                                                  → {items, paging{cursors{after}}, timestamp}
//	POST   /api/2/tenants                             → 201 tenant (customers start in trial)
//	GET|PUT|DELETE /api/2/tenants/{id}                (PUT needs version; DELETE ?version=, tenant disabled first)
//	GET    /api/2/tenants/{id}/children
//	GET|PUT /api/2/tenants/{id}/pricing               (trial → production only)
//	GET|PUT /api/2/tenants/{id}/mfa/status
//	GET    /api/2/tenants/{id}/applications
//	POST|DELETE /api/2/applications/{app}/bindings/tenants/{id}   → 204
//	GET    /api/2/applications
//	GET|PUT /api/2/tenants/{id}/offering_items?edition=*          (PUT checks quota versions: 426)
//	GET    /api/2/tenants/{id}/offering_items/available_for_child?kind=customer&edition=*
//	GET    /api/2/tenants/{id}/infra, /api/2/infra?uuids=
//	GET    /api/2/tenants/{id}/usages, /api/2/tenants/usages?tenants=a,b[&usage_names=]
//	GET    /api/2/tenants/{id}/users
//	GET    /api/2/users?tenant_id=|subtree_root_tenant_id=|uuids=&updated_since=&limit=&after=&allow_deleted=
//	                                                  → {items, paging{cursors{after}}, timestamp}
//	GET    /api/2/users/check_login?username=         → 204 free, 409 taken
//	POST   /api/2/users; GET|DELETE /api/2/users/{id}
//	GET|PUT /api/2/users/{id}/access_policies
//	POST   /api/2/users/{id}/send-activation-email    → 204
//	POST   /api/2/reports                             → 200 report (kind, level, formats, period{start,end} dates, schedule, result_action)
//	GET|DELETE /api/2/reports/{id}                    (DELETE ?version=)
//	GET    /api/2/reports/{id}/stored                 → {items[{id, report_format, size, created_at, status in_progress|saved|failed}]}
//	GET    /api/2/reports/{id}/stored/{stored_id}     → the file (csv_v2_0 rows; see reports.go)
//	GET    /api/2/tenants/{id}/reports                → {items[report]}
//	GET    /api/alert_manager/v1/alerts?updated_at=gt(<ns>)&show_deleted=&show_deleted_only=&tenant=&type=&severity=&order=&limit=&after=
//	GET|DELETE /api/alert_manager/v1/alerts/{id}      (DELETE dismisses: 204)
//	GET    /api/alert_manager/v1/types
//	POST   /api/event_manager/v1/subscriptions        → 201 (tenant topic only)
//	GET    /api/event_manager/v1/events?subscription_id=&offset=  → {events, offset}, or 202 + Retry-After when none
//
// Errors use the platform body {"error":{code,message,details{info},context,domain}},
// unknown paths (404) and other methods on a known path (405, with Allow)
// included. Usage values and absolute values are whole numbers, as typed
// clients of the real API expect (bytes are integers there).
// Choices where Acronis publishes nothing, made explicit here:
//   - a stale tenant, pricing or user version is 409 with code 1001 "Version
//     mismatch" (the code is documented, the status is not); a stale quota
//     version is 426 (Acronis KB 71376);
//   - deleting an enabled tenant is 400 with code 1006, exactly like the
//     developer portal's example;
//   - "support access disabled" has no documented tenant field; the sandbox
//     models it (SetSupportAccess) like self-service mode
//     (ancestral_access=false): the partner gets 403 (code 1002) on the
//     tenant's users, roles and activation emails, but can still read the
//     tenant, its offering items and usages;
//   - dismissed alerts listed with show_deleted carry "deletedAt";
//   - alert types are {id, category, severity, title};
//   - the pck_per_workload names of OneDrive, hosted Exchange, Google
//     Workspace, mobiles and websites are not published: the sandbox uses
//     pw_base_ + the legacy usage name.
//
// # Datasets
//
// Every dataset has the partner "Sandbox MSP" (PartnerID, kind partner) that
// owns the API client, with both services and the whole catalogue enabled
// without limit, and two storages: DefaultStorageID ("Acronis Cloud Storage
// (EU)", listed first, the default) and SecondaryStorageID ("Sandbox MSP S3
// Storage").
//
// "demo" adds:
//   - "Litware Inc" (LitwareID): customer, managed; workstations 12 (hard
//     quota, 11 used), servers 1, VMs, M365 seats/mailboxes, advanced security
//     12, 500 GiB on the default storage (180.5 GiB used), local storage;
//     four active alerts (AlertBackupFailedID BackupFailed/error,
//     AlertNoBackupID NoBackupForXDays/warning, AlertQuotaExceededID
//     DrStorageHardQuotaExceeds/critical, AlertMalwareID the malware sample)
//     and one dismissed (AlertDismissedID);
//   - "Proseware Inc" (ProsewareID): customer in self-service mode;
//   - "Woodgrove Bank" (WoodgroveID): sub-partner with customers "Woodgrove
//     Retail Banking" (WoodgroveRetailID) and "Woodgrove Wealth Management"
//     (WoodgroveWealthID);
//   - "Fourth Coffee" (FourthCoffeeID): customer with support access
//     disabled, on the secondary storage.
//
// "generated" adds Options.Companies customers named GeneratedTenantName(i)
// with ids GeneratedTenantID(i) (names match the Autotask sandbox's generated
// companies), random items, quotas and use drawn from Options.Seed, and an
// active BackupFailed alert on about 3% of them.
//
// # Controls
//
// The shared /_sandbox/faults and /_sandbox/requests endpoints are served
// (package sandbox). The Acronis state controls, without authentication, are:
//
//	POST   /_sandbox/acronis/alerts                {"tenant_id"|"tenant_name","type","severity"?,"details"?,"id"?} → 201 {"id"}
//	GET    /_sandbox/acronis/alerts?tenant_id=     → [AlertInfo]
//	DELETE /_sandbox/acronis/alerts/{id}[?purge=true]  dismiss (or remove) → 204
//	PUT    /_sandbox/acronis/usages                {"tenant_id"|"tenant_name","name","infra_id"?,"value","absolute_value"?} → 204
//	PUT    /_sandbox/acronis/quotas                {"tenant_id"|"tenant_name","name","infra_id"?,"value"|null,"overage"?} → 204 (as a console edit)
//	GET    /_sandbox/acronis/tenants?name=         → TenantInfo
//	GET    /_sandbox/acronis/tenants/{id}[/items|/users]
//	PUT    /_sandbox/acronis/tenants/{id}/access   {"ancestral_access"?,"support_access"?} → 204
//	GET    /_sandbox/acronis/stats                 → {tenants, customers, partners, users, active_alerts}
//	POST   /_sandbox/acronis/tokens/expire         → 204 (every issued token expires)
//	GET    /_sandbox/acronis/reports               → [ReportInfo]
//	PUT    /_sandbox/acronis/reports               {"delay_seconds"?,"fail_next"?} → 204 (in_progress time of new reports; the next n fail)
//	PUT    /_sandbox/acronis/ratelimit             {"requests_per_second","burst"} → 204 (negative rps: off)
//
// The same changes are Go methods on Sandbox for in-process tests.
package acronis
