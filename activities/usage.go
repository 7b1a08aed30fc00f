package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// UsageAcronis is the part of the Acronis client usage reporting reads.
type UsageAcronis interface {
	GetTenants(ctx context.Context, ids []string) ([]acronis.Tenant, error)
	EachTenant(ctx context.Context, q acronis.TenantQuery, fn func([]acronis.Tenant) error) (time.Time, error)
	GetUsages(ctx context.Context, tenantIDs []string, usageNames ...string) ([]acronis.TenantUsages, error)
	// Billing reports (usage_billing_report.go).
	PartnerTenantID() string
	TenantReports(ctx context.Context, tenantID string) ([]acronis.Report, error)
	CreateReport(ctx context.Context, r acronis.Report) (acronis.Report, error)
	StoredReports(ctx context.Context, reportID string) ([]acronis.StoredReport, error)
	DownloadStoredReport(ctx context.Context, reportID, storedID string) ([]byte, error)
}

// UsageAcronisSource returns the Acronis client for the current credentials.
type UsageAcronisSource func(ctx context.Context) (UsageAcronis, error)

// UsageStore is what usage reporting reads and writes in the integration's
// database: settings, mappings and the usage ledger.
type UsageStore interface {
	CurrentSettings(ctx context.Context) (store.SettingsVersion, error)
	ListServiceMappings(ctx context.Context) ([]store.ServiceMapping, error)
	ListCustomerMappings(ctx context.Context, f store.CustomerMappingFilter) ([]store.CustomerMapping, error)
	ListUsage(ctx context.Context, f store.UsageFilter) ([]store.UsageRecord, error)
	GetUsage(ctx context.Context, id int64) (store.UsageRecord, error)
	RecordUsage(ctx context.Context, u store.UsageRecord) (store.UsageRecord, error)
	CorrectUsage(ctx context.Context, u store.UsageRecord, reason string) (store.UsageRecord, error)
	MarkReported(ctx context.Context, id, adjustmentID int64) (store.UsageRecord, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	ConfirmUsage(ctx context.Context, id int64, source, samples json.RawMessage) (store.UsageRecord, error)
	ClaimUsageReport(ctx context.Context, start, end time.Time, tenantID string) (store.UsageReport, error)
	UpdateUsageReport(ctx context.Context, id int64, reportID, storedID, status, errText string) (store.UsageReport, error)
	FailedUsageReportIDs(ctx context.Context, start, end time.Time) ([]string, error)
}

// Usage holds the pay-as-you-go usage reporting activities (SPEC F8): read
// usage from Acronis, record it in the ledger, write it to Autotask once.
type Usage struct {
	Acronis  UsageAcronisSource
	Autotask AutotaskSource
	Store    UsageStore

	reports reportCache // downloaded billing reports, shared by a run's batches
}

// UsageActs names the usage activities for workflow code.
var UsageActs *Usage

// auditUsageAdjust is the audit kind of a usage written to Autotask.
const auditUsageAdjust = "autotask.contract_service.usage_adjustment"

// auditUsageRun is the audit kind of a finished usage report run.
const auditUsageRun = "usage.report.run"

// UsageCustomer is a mapped customer whose usage may be reported.
type UsageCustomer struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
}

// UsagePlanInput asks what a run at Now reports.
type UsagePlanInput struct {
	// Now is the workflow's clock, so the decision replays identically.
	Now time.Time `json:"now"`
}

// UsageRunPlan is what one run reports and for whom.
type UsageRunPlan struct {
	BillingEnabled bool                     `json:"billingEnabled"`
	Setting        usage.Setting            `json:"setting"`
	Storage        []settings.StorageReport `json:"storage"`
	StorageClasses []settings.StorageClass  `json:"storageClasses,omitempty"`
	Period         usage.Period             `json:"period"`
	Due            bool                     `json:"due"`
	EffectiveDate  time.Time                `json:"effectiveDate"`
	Customers      []UsageCustomer          `json:"customers,omitempty"`
}

// UsageBatchInput collects and records the usage of up to
// acronis.UsagesBatchSize mapped customers for one period.
type UsageBatchInput struct {
	Period        usage.Period             `json:"period"`
	EffectiveDate time.Time                `json:"effectiveDate"`
	Storage       []settings.StorageReport `json:"storage"`
	// StorageClasses are the per-storage Class 1 usage names (settings).
	StorageClasses []settings.StorageClass `json:"storageClasses,omitempty"`
	Customers      []UsageCustomer         `json:"customers"`
	// ObservedAt is when the run started; it dates corrections' reasons.
	ObservedAt time.Time `json:"observedAt"`
	// Report, when set, is the saved billing report the period is settled
	// from: figures come from it (live usage supplies only units and quotas).
	Report *usage.ReportRef `json:"report,omitempty"`
	// Estimate marks the rows recorded from live usage as estimates (the
	// current month, before its billing report exists).
	Estimate bool `json:"estimate,omitempty"`
	// Overage also bills prepaid items' usage above their contract units
	// (mappings with an overage service). Only with Report: overage is
	// billed for closed periods from billing-grade figures.
	Overage bool `json:"overage,omitempty"`
}

// UsageBatchResult has one result per customer: a failure stays with its customer.
type UsageBatchResult struct {
	Customers []UsageCustomerResult `json:"customers"`
}

// UsageCustomerResult says what was recorded for one customer.
type UsageCustomerResult struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
	// Recorded new rows, Corrected rows whose billed value changed, Unchanged
	// rows already in the ledger, Skipped zero usage with nothing to undo.
	Recorded  int `json:"recorded"`
	Corrected int `json:"corrected"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	// Pending are the ledger rows still to write to Autotask.
	Pending  []PendingUsage `json:"pending,omitempty"`
	Problems []string       `json:"problems,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// PendingUsage is a ledger row waiting to be written to Autotask, with what
// the write needs.
type PendingUsage struct {
	LedgerID          int64     `json:"ledgerId"`
	CompanyID         int64     `json:"companyId"`
	ContractID        int64     `json:"contractId"`
	ContractServiceID int64     `json:"contractServiceId"`
	ServiceID         int64     `json:"serviceId"`
	Metric            string    `json:"metric"`
	Billed            int64     `json:"billed"`
	BilledUnit        string    `json:"billedUnit"`
	EffectiveDate     time.Time `json:"effectiveDate"`
}

// UsageWriteInput writes pending ledger rows to Autotask.
type UsageWriteInput struct {
	Rows []PendingUsage `json:"rows"`
}

// Outcomes of writing one ledger row.
const (
	// UsageWritten: an adjustment was created and the row marked reported.
	UsageWritten = "written"
	// UsageAlreadyReported: the row was marked reported before (a retry).
	UsageAlreadyReported = "already-reported"
	// UsageInEffect: Autotask already shows the billed units at the effective
	// date, so nothing was written; the row stays pending because its
	// adjustment id is unknown (an earlier attempt's answer was lost).
	UsageInEffect = "in-effect"
	// UsageSuperseded: a correction replaced the row before it was written.
	UsageSuperseded = "superseded"
	// UsageFailed: see Error; the row stays pending for the next run.
	UsageFailed = "failed"
	// UsageShadow: shadow mode recorded the adjustment instead of sending it;
	// the row stays pending, so the first run after going live writes it.
	UsageShadow = "shadow"
)

// UsageWriteResult has one outcome per row.
type UsageWriteResult struct {
	Rows []UsageWriteOutcome `json:"rows"`
}

// UsageWriteOutcome is what happened to one ledger row.
type UsageWriteOutcome struct {
	LedgerID     int64  `json:"ledgerId"`
	CompanyID    int64  `json:"companyId"`
	Outcome      string `json:"outcome"`
	UnitChange   int    `json:"unitChange,omitempty"`
	AdjustmentID int64  `json:"adjustmentId,omitempty"`
	Error        string `json:"error,omitempty"`
}

// UsageRunSummary is the audit record of one finished run.
type UsageRunSummary struct {
	Period    usage.Period `json:"period"`
	StartedAt time.Time    `json:"startedAt"`
	Customers int          `json:"customers"`
	Recorded  int          `json:"recorded"`
	Corrected int          `json:"corrected"`
	Written   int          `json:"written"`
	InEffect  int          `json:"inEffect"`
	Failed    []string     `json:"failed,omitempty"`
}

func (u *Usage) settings(ctx context.Context) (settings.Settings, error) {
	v, err := u.Store.CurrentSettings(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return settings.Defaults(), nil
	}
	if err != nil {
		return settings.Settings{}, fmt.Errorf("read settings: %w", err)
	}
	s, err := settings.Decode(v.Document)
	if err != nil {
		return settings.Settings{}, fmt.Errorf("read settings version %d: %w", v.Version, err)
	}
	return s, nil
}

// PlanUsageRun reads the reporting settings and the mapped customers and says
// which period a run at in.Now reports. Customers are not filtered for
// pay-as-you-go here: that needs their contracts, read per batch.
func (u *Usage) PlanUsageRun(ctx context.Context, in UsagePlanInput) (UsageRunPlan, error) {
	st, err := u.settings(ctx)
	if err != nil {
		return UsageRunPlan{}, err
	}
	s := usage.SettingFrom(st.UsageReporting)
	p, due := usage.PeriodFor(s, in.Now)
	plan := UsageRunPlan{BillingEnabled: st.BillingEnabled, Setting: s, Storage: st.UsageReporting.Storage,
		StorageClasses: st.UsageReporting.StorageClasses, Period: p, Due: due,
		EffectiveDate: usage.EffectiveDate(s, p, in.Now)}
	// Customers are listed whenever billing is on, due or not: a run on
	// another day may still settle a closed period whose billing report was
	// late (workflows/usage_report.go, Unsettled).
	if !st.BillingEnabled {
		return plan, nil
	}
	ms, err := u.Store.ListCustomerMappings(ctx, store.CustomerMappingFilter{})
	if err != nil {
		return UsageRunPlan{}, fmt.Errorf("list mapped customers: %w", err)
	}
	for _, m := range ms {
		plan.Customers = append(plan.Customers, UsageCustomer{CompanyID: m.CompanyID, TenantID: m.TenantID})
	}
	return plan, nil
}
