package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// Billing reports: a closed period is settled from an Acronis usage report
// for exactly that period (reference §5.2; kind, level and format in
// internal/acronis/reports.go). A report takes minutes, so the workflow
// creates it (EnsureUsageReport), polls it on a durable timer
// (PollUsageReport), lets CollectUsage download it, and marks it settled
// once every batch is recorded (SettleUsageReport).

// UsageReportInput names the closed period whose report is wanted.
type UsageReportInput struct {
	Period usage.Period `json:"period"`
}

// UsageReportStatus is a period's report and how far Acronis is with it:
// acronis.StoredInProgress, StoredSaved or StoredFailed.
type UsageReportStatus struct {
	Ref    usage.ReportRef `json:"ref"`
	Status string          `json:"status"`
	Error  string          `json:"error,omitempty"`
}

// EnsureUsageReport returns the period's report, creating it only when none
// exists. Idempotent across retries and worker restarts:
//
//  1. the period's row in usage_reports is claimed (inserted if missing)
//     BEFORE anything is created in Acronis;
//  2. a row that already names a report is returned as it is;
//  3. otherwise the partner's reports are listed and one with the same
//     parameters (and not failed before) is adopted: it was created by an
//     attempt that died before recording it;
//  4. only then is a report created, and its id recorded at once.
func (u *Usage) EnsureUsageReport(ctx context.Context, in UsageReportInput) (UsageReportStatus, error) {
	api, err := u.Acronis(ctx)
	if err != nil {
		return UsageReportStatus{}, err
	}
	partner := api.PartnerTenantID()
	p := in.Period
	row, err := u.Store.ClaimUsageReport(ctx, p.Start, p.End, partner)
	if err != nil {
		return UsageReportStatus{}, err
	}
	if row.ReportID == "" {
		start, end := usage.ReportStartEnd(p)
		want := acronis.SummaryReport(partner, start, end)
		failed, err := u.Store.FailedUsageReportIDs(ctx, p.Start, p.End)
		if err != nil {
			return UsageReportStatus{}, err
		}
		existing, err := api.TenantReports(ctx, partner)
		if err != nil {
			return UsageReportStatus{}, classify("list the partner's usage reports", err)
		}
		id := ""
		for _, r := range existing {
			if r.Same(want) && !slices.Contains(failed, r.ID) {
				id = r.ID
			}
		}
		if id == "" {
			created, err := api.CreateReport(ctx, want)
			if err != nil {
				return UsageReportStatus{}, classify(fmt.Sprintf("create the usage report for %s", usage.ReportDates(p)), err)
			}
			id = created.ID
		}
		if row, err = u.Store.UpdateUsageReport(ctx, row.ID, id, "", store.ReportInProgress, ""); err != nil {
			return UsageReportStatus{}, err
		}
	}
	st := reportStatus(row, p)
	if st.Status == acronis.StoredInProgress {
		// Ask once now: a report that is already generated needs no timer.
		return u.poll(ctx, api, st.Ref)
	}
	return st, nil
}

func reportStatus(row store.UsageReport, p usage.Period) UsageReportStatus {
	st := UsageReportStatus{Ref: usage.ReportRef{RowID: row.ID, ReportID: row.ReportID, StoredID: row.StoredID, Period: p}, Error: row.Error}
	switch row.Status {
	case store.ReportSaved, store.ReportSettled:
		st.Status = acronis.StoredSaved
	case store.ReportFailed:
		st.Status = acronis.StoredFailed
	default:
		st.Status = acronis.StoredInProgress
	}
	return st
}

// PollUsageReport asks Acronis how far the report is and records the answer:
// its saved csv_v2_0 copy, or its failure (a failed report is never reused;
// the next EnsureUsageReport creates a new one).
func (u *Usage) PollUsageReport(ctx context.Context, ref usage.ReportRef) (UsageReportStatus, error) {
	api, err := u.Acronis(ctx)
	if err != nil {
		return UsageReportStatus{}, err
	}
	return u.poll(ctx, api, ref)
}

func (u *Usage) poll(ctx context.Context, api UsageAcronis, ref usage.ReportRef) (UsageReportStatus, error) {
	stored, err := api.StoredReports(ctx, ref.ReportID)
	if err != nil {
		return UsageReportStatus{}, classify("poll usage report "+ref.ReportID, err)
	}
	var copyOf *acronis.StoredReport
	for i := range stored {
		if stored[i].ReportFormat == acronis.ReportFormatCSV2 {
			copyOf = &stored[i]
		}
	}
	status, storedID, errText := store.ReportInProgress, "", ""
	switch {
	case copyOf == nil || copyOf.Status == acronis.StoredInProgress:
	case copyOf.Status == acronis.StoredSaved:
		status, storedID = store.ReportSaved, copyOf.ID
	default:
		status, errText = store.ReportFailed, fmt.Sprintf("Acronis reports the stored copy %s as %q", copyOf.ID, copyOf.Status)
	}
	row, err := u.Store.UpdateUsageReport(ctx, ref.RowID, "", storedID, status, errText)
	if err != nil {
		return UsageReportStatus{}, err
	}
	return reportStatus(row, ref.Period), nil
}

// SettleUsageReport marks the period settled: every batch was recorded from it.
func (u *Usage) SettleUsageReport(ctx context.Context, ref usage.ReportRef) error {
	_, err := u.Store.UpdateUsageReport(ctx, ref.RowID, "", "", store.ReportSettled, "")
	return err
}

// reportCache keeps the last downloaded reports so the batches of one run
// download a report once per worker, not once per batch.
type reportCache struct {
	mu    sync.Mutex
	order []string
	rows  map[string][]acronis.ReportUsage
}

const reportsCached = 4

func (c *reportCache) get(ctx context.Context, api UsageAcronis, ref usage.ReportRef) ([]acronis.ReportUsage, error) {
	c.mu.Lock()
	rows, ok := c.rows[ref.StoredID]
	c.mu.Unlock()
	if ok {
		return rows, nil
	}
	data, err := api.DownloadStoredReport(ctx, ref.ReportID, ref.StoredID)
	if err != nil {
		return nil, classify(fmt.Sprintf("download usage report %s (stored copy %s)", ref.ReportID, ref.StoredID), err)
	}
	rows, err = acronis.ParseUsageCSV(data)
	if err != nil {
		// A report that cannot be read must not bill anything; retrying the
		// download will not change it.
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("usage report %s: %v", ref.ReportID, err), ErrTypeRefused, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows = map[string][]acronis.ReportUsage{}
	}
	c.rows[ref.StoredID] = rows
	c.order = append(c.order, ref.StoredID)
	for len(c.order) > reportsCached {
		delete(c.rows, c.order[0])
		c.order = c.order[1:]
	}
	return rows, nil
}

// settleSamples replaces the live figures of each company's tenants with the
// report's (usage.FromReport).
func settleSamples(res map[int64][]usage.Sample, owner map[string]int64, rows []acronis.ReportUsage) {
	tenants := map[int64]map[string]bool{}
	for t, company := range owner {
		if tenants[company] == nil {
			tenants[company] = map[string]bool{}
		}
		tenants[company][strings.ToLower(t)] = true
	}
	for company, set := range tenants {
		res[company] = usage.FromReport(res[company], rows, set)
	}
}
