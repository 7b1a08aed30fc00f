// Package settings is the integration settings document of SPEC F2: its shape,
// its defaults and the rules that keep invalid combinations out of the store.
package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// PeriodType is the Autotask billing period used for services the integration creates.
type PeriodType string

// Autotask period types accepted for new services (guide: "Configuring the provisioning settings").
const (
	PeriodMonthly    PeriodType = "Monthly"
	PeriodQuarterly  PeriodType = "Quarterly"
	PeriodSemiAnnual PeriodType = "Semi-Annual"
	PeriodYearly     PeriodType = "Yearly"
)

// AccountsBasedOn names what a new Acronis customer tenant and its admin are created from.
type AccountsBasedOn string

// Ways to name new customer accounts.
const (
	BasedOnCompanyName    AccountsBasedOn = "company_name"
	BasedOnPrimaryContact AccountsBasedOn = "primary_contact"
)

// TenantMode is the Acronis pricing mode new customer tenants start in.
type TenantMode string

// Pricing modes for new tenants.
const (
	ModeProduction TenantMode = "production"
	ModeTrial      TenantMode = "trial"
)

// UsagePeriod is the reporting period for range offering items (guide: "Configure usage reporting").
type UsagePeriod string

// Usage reporting periods.
const (
	PeriodCurrentMonth       UsagePeriod = "current_month"
	PeriodPreviousMonth      UsagePeriod = "previous_month"
	PeriodCustomBillingMonth UsagePeriod = "custom_billing_month"
)

// StorageReport is one way of reporting backup storage to Autotask.
type StorageReport string

// Storage reporting options; any combination may be selected.
const (
	StorageQuotaOverageTotal StorageReport = "quota_overage_total"
	StorageClass1Free        StorageReport = "class1_free"
	StorageClass2Billed      StorageReport = "class2_billed"
)

// Mode says whether the integration's writes reach the vendors.
type Mode string

// Modes of the integration (issue 14 item 5).
const (
	// ModeLive sends every write to Autotask and Acronis.
	ModeLive Mode = "live"
	// ModeShadow runs everything but records each write instead of sending
	// it, so an MSP can compare with another integration before switching.
	ModeShadow Mode = "shadow"
)

// Settings is the whole integration configuration, stored as one versioned
// document so a change is atomic and every version can be audited.
type Settings struct {
	// Mode is live (the default) or shadow: see ModeShadow.
	Mode                  Mode           `json:"mode"`
	BillingEnabled        bool           `json:"billingEnabled"`
	TwoWaySync            bool           `json:"twoWaySync"`
	TicketCreationEnabled bool           `json:"ticketCreationEnabled"`
	NewServices           NewServices    `json:"newServices"`
	Provisioning          Provisioning   `json:"provisioning"`
	Deprovisioning        Deprovisioning `json:"deprovisioning"`
	Tickets               Tickets        `json:"tickets"`
	UsageReporting        UsageReporting `json:"usageReporting"`
	// SyncIntervalSeconds is how often Autotask and Acronis are polled for changes.
	SyncIntervalSeconds int `json:"syncIntervalSeconds"`
}

// NewServices holds the defaults for Autotask services the integration creates;
// required when two-way sync is on.
type NewServices struct {
	AllocationCodeID *int64     `json:"allocationCodeId"`
	PeriodType       PeriodType `json:"periodType"`
}

// Provisioning controls how customer tenants are created in Acronis.
type Provisioning struct {
	CreateAccountsBasedOn AccountsBasedOn `json:"createAccountsBasedOn"`
	// ActivationEmail receives the admin activation mail when accounts are based on the company name.
	ActivationEmail         string     `json:"activationEmail"`
	AutoCreateCustomers     bool       `json:"autoCreateCustomers"`
	TwoFactorAuthentication bool       `json:"twoFactorAuthentication"`
	TenantMode              TenantMode `json:"tenantMode"`
	// DefaultStorageID is the Acronis infra (storage) id used when no storage service is in a contract.
	DefaultStorageID string `json:"defaultStorageId"`
}

// Deprovisioning controls what happens when a mapped customer has no active services.
type Deprovisioning struct {
	ZeroQuotas bool        `json:"zeroQuotas"`
	Disable    DelayedStep `json:"disable"`
	Delete     DelayedStep `json:"delete"`
}

// DelayedStep is a deprovisioning step that fires a number of days after services end.
type DelayedStep struct {
	Enabled   bool `json:"enabled"`
	AfterDays int  `json:"afterDays"`
}

// Tickets controls how Acronis alerts become Autotask tickets.
type Tickets struct {
	Reopening ReopenWindow `json:"reopening"`
	AutoClose AutoClose    `json:"autoClose"`
	// SourceID, NoteTypeID and NotePublishID are Autotask picklist values used for every alert ticket.
	SourceID      *int64 `json:"sourceId"`
	NoteTypeID    *int64 `json:"noteTypeId"`
	NotePublishID *int64 `json:"notePublishId"`
	// DismissAlertOnComplete dismisses the Acronis alert when its ticket is completed in Autotask.
	DismissAlertOnComplete bool `json:"dismissAlertOnComplete"`
}

// ReopenWindow: off re-opens a recurring alert's ticket every time; on re-opens
// it only if it was closed less than WithinDays ago, else creates a new ticket.
type ReopenWindow struct {
	Enabled    bool `json:"enabled"`
	WithinDays int  `json:"withinDays"`
}

// AutoClose sets cleared alerts' tickets to StatusID.
type AutoClose struct {
	Enabled  bool   `json:"enabled"`
	StatusID *int64 `json:"statusId"`
}

// UsageReporting controls pay-as-you-go usage reports.
type UsageReporting struct {
	Period UsagePeriod `json:"period"`
	// BillingDay (1–28) starts the custom billing month.
	BillingDay int             `json:"billingDay"`
	Storage    []StorageReport `json:"storage"`
	// StorageClasses says, per storage, which Acronis usage names carry Class 1
	// (free) storage; the rest of the storage's total is Class 2 (billed).
	// Acronis' PSA guidance asks for both mappings per storage but no Acronis
	// page names the usages behind them, so this is a setting; a storage not
	// listed uses the default, usage.Class1UsageNames (protected Microsoft 365
	// mailboxes and OneDrives, whose storage per-workload billing includes in
	// the seat price).
	StorageClasses []StorageClass `json:"storageClasses,omitempty"`
}

// StorageClass is one storage's Class 1 (free) usage names.
type StorageClass struct {
	// InfraID is the Acronis storage (infra) id.
	InfraID string `json:"infraId"`
	// Class1UsageNames are the usage names whose bytes are free; empty means
	// nothing on this storage is free.
	Class1UsageNames []string `json:"class1UsageNames"`
}

// Defaults are the settings before an admin saves any: every feature off, as SPEC F2 requires.
func Defaults() Settings {
	return Settings{
		Mode:        ModeLive,
		NewServices: NewServices{PeriodType: PeriodMonthly},
		Provisioning: Provisioning{
			CreateAccountsBasedOn: BasedOnPrimaryContact,
			TenantMode:            ModeProduction,
		},
		Deprovisioning: Deprovisioning{
			Disable: DelayedStep{AfterDays: 30},
			Delete:  DelayedStep{AfterDays: 60},
		},
		Tickets: Tickets{Reopening: ReopenWindow{WithinDays: 7}},
		UsageReporting: UsageReporting{
			Period:     PeriodCustomBillingMonth,
			BillingDay: 1,
			Storage:    []StorageReport{},
		},
		SyncIntervalSeconds: 30,
	}
}

// Decode reads a settings document over the defaults, so omitted fields keep
// their default value, and rejects unknown fields by name instead of silently
// dropping a misspelt setting.
func Decode(data []byte) (Settings, error) {
	s := Defaults()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, fmt.Errorf("decode settings: %w", err)
	}
	if s.UsageReporting.Storage == nil {
		s.UsageReporting.Storage = []StorageReport{}
	}
	return s, nil
}

// Shadow reports whether writes are recorded instead of sent.
func (s Settings) Shadow() bool { return s.Mode == ModeShadow }

// BackupStorageEnabled reports whether backup storage is on: the guide turns it
// on when any storage reporting option is selected and off when none is.
func (s Settings) BackupStorageEnabled() bool { return len(s.UsageReporting.Storage) > 0 }
