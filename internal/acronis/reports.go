package acronis

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Usage reports (reference §5.2): billing figures come from a report created
// with POST /reports, polled with GET /reports/{id}/stored until its stored
// copy is "saved", then downloaded. What the reference leaves open was
// settled from these sources:
//
//   - kind usage_summary: "the service usage metrics for the end of the
//     specified period" (developer portal, usage-reporting/reports/index.html,
//     "Report kinds"), the figure a closed period bills;
//   - level all_customers: "all customers and partners" (same page, "Report
//     levels"), so one report covers every customer below the partner,
//     sub-partners' customers included;
//   - format csv_v2_0: the only format whose columns are published, by
//     Acronis' own usage-report library (acronis/acronis-cyber-cloud-whmcs,
//     vendor/acronis/ci-lib-php-usage-report/src/Csv/CsvFormatParser.php);
//   - period dates are YYYY-MM-DD, both days included (the portal's example
//     reports a week as start 2017-05-01, end 2017-05-07), never in the future;
//   - stored items carry status in_progress | saved | failed (api-evangelist/
//     acronis openapi/acronis-reports-api-openapi.yml, storedReportParams,
//     generated from the documentation).
const (
	ReportKindSummary    = "usage_summary"
	ReportLevelCustomers = "all_customers"
	ReportFormatCSV2     = "csv_v2_0"
)

// Stored report statuses.
const (
	StoredInProgress = "in_progress"
	StoredSaved      = "saved"
	StoredFailed     = "failed"
)

// ReportPeriod is a report's period: two dates, both included.
type ReportPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// ReportParameters say what a report contains.
type ReportParameters struct {
	Kind          string       `json:"kind"`
	TenantID      string       `json:"tenant_id"`
	Level         string       `json:"level"`
	Formats       []string     `json:"formats"`
	Period        ReportPeriod `json:"period"`
	HideZeroUsage bool         `json:"hide_zero_usage"`
	ShowSKUs      bool         `json:"show_skus"`
}

// ReportSchedule is "once" for an on-demand report.
type ReportSchedule struct {
	Type    string `json:"type"`
	Enabled bool   `json:"enabled"`
}

// Report is a usage report definition.
type Report struct {
	ID           string           `json:"id"`
	Version      int64            `json:"version"`
	Parameters   ReportParameters `json:"parameters"`
	Schedule     ReportSchedule   `json:"schedule"`
	ResultAction string           `json:"result_action"`
	Recipients   []string         `json:"recipients"`
}

// StoredReport is one generated copy of a report, in one format.
type StoredReport struct {
	ID           string `json:"id"`
	ReportFormat string `json:"report_format"`
	Size         int64  `json:"size"`
	CreatedAt    string `json:"created_at"`
	Status       string `json:"status"`
}

// SummaryReport is the report a closed billing period is settled from: a
// one-time usage_summary of every customer below tenantID for [start, end]
// in csv_v2_0, saved (not mailed).
func SummaryReport(tenantID, start, end string) Report {
	return Report{
		Parameters: ReportParameters{Kind: ReportKindSummary, TenantID: tenantID, Level: ReportLevelCustomers,
			Formats: []string{ReportFormatCSV2}, Period: ReportPeriod{Start: start, End: end}},
		Schedule:     ReportSchedule{Type: "once", Enabled: true},
		ResultAction: "save",
		Recipients:   []string{},
	}
}

// Same reports whether two reports ask for the same data.
func (r Report) Same(o Report) bool {
	p, q := r.Parameters, o.Parameters
	return p.Kind == q.Kind && strings.EqualFold(p.TenantID, q.TenantID) && p.Level == q.Level &&
		p.Period == q.Period && strings.Join(p.Formats, ",") == strings.Join(q.Formats, ",") &&
		r.Schedule.Type == o.Schedule.Type && r.ResultAction == o.ResultAction
}

// CreateReport creates a report. It is not idempotent (Acronis has no
// idempotency key): callers look for an existing one first (TenantReports).
func (c *Client) CreateReport(ctx context.Context, r Report) (Report, error) {
	body := map[string]any{"parameters": r.Parameters, "schedule": r.Schedule, "result_action": r.ResultAction, "recipients": r.Recipients}
	var out Report
	err := c.do(ctx, call{method: http.MethodPost, path: AccountPath + "/reports", body: body}, &out)
	return out, err
}

// TenantReports lists the reports defined on a tenant (GET /tenants/{id}/reports).
func (c *Client) TenantReports(ctx context.Context, tenantID string) ([]Report, error) {
	var r struct {
		Items []Report `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(tenantID)+"/reports", nil), &r)
	return r.Items, err
}

// StoredReports lists a report's generated copies.
func (c *Client) StoredReports(ctx context.Context, reportID string) ([]StoredReport, error) {
	var r struct {
		Items []StoredReport `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/reports/"+esc(reportID)+"/stored", nil), &r)
	return r.Items, err
}

// DownloadStoredReport returns a saved copy's file as sent.
func (c *Client) DownloadStoredReport(ctx context.Context, reportID, storedID string) ([]byte, error) {
	var b []byte
	err := c.do(ctx, get(AccountPath+"/reports/"+esc(reportID)+"/stored/"+esc(storedID), nil), &b)
	return b, err
}

// ReportUsage is one row of a csv_v2_0 usage report: one offering item of one
// tenant (on one infra for storage). Figures are the decimals as written.
type ReportUsage struct {
	TenantID   string
	TenantKind string
	Name       string // offering item name
	Edition    string
	InfraID    string
	// Absolute usage at the end of the period: in production, in trial, and
	// both. Billing takes Production: trial usage is not billed.
	Production, Trial, Total string
}

// csvColumns are the csv_v2_0 columns a usage row must have (Acronis'
// usage-report library, CsvFormatParser::$columnsList; edition may be absent).
var csvColumns = []string{"tenant.id", "tenant.kind", "application.id", "name", "infra.id",
	"usage.absolute.production", "usage.absolute.trial", "usage.absolute.total"}

// ParseUsageCSV reads a csv_v2_0 usage report. Missing required columns, or
// a row without tenant or item, fail the whole report: a half-read report
// must not bill.
func ParseUsageCSV(data []byte) ([]ReportUsage, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("usage report: read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	var missing []string
	for _, c := range csvColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("usage report: missing columns %s", strings.Join(missing, ", "))
	}
	field := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	var out []ReportUsage
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("usage report: line %d: %w", line, err)
		}
		u := ReportUsage{TenantID: field(rec, "tenant.id"), TenantKind: field(rec, "tenant.kind"), Name: field(rec, "name"),
			Edition: field(rec, "edition"), InfraID: field(rec, "infra.id"), Production: orZero(field(rec, "usage.absolute.production")),
			Trial: orZero(field(rec, "usage.absolute.trial")), Total: orZero(field(rec, "usage.absolute.total"))}
		if u.TenantID == "" || u.Name == "" {
			return nil, fmt.Errorf("usage report: line %d has no tenant.id or name", line)
		}
		out = append(out, u)
	}
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
