package plan

import (
	"encoding/json"
	"time"
)

// Set statuses: a set is previewed, then applied once by its id.
const (
	StatusPreview  = "preview"
	StatusApplying = "applying"
	StatusApplied  = "applied"
)

// SetTTL is how long a previewed set can be applied; after that its inputs
// are too likely to have moved and the admin should look again.
const SetTTL = 24 * time.Hour

// Scope picks the customers a set plans: every known customer, or a list.
type Scope struct {
	All        bool    `json:"all,omitempty"`
	CompanyIDs []int64 `json:"companyIds,omitempty"`
}

// Changes is the configuration a set previews that is not saved yet; applying
// the set saves it. Nil fields keep what is saved.
type Changes struct {
	// Settings is the whole settings document after the change.
	Settings json.RawMessage `json:"settings,omitempty"`
	// ServiceMappings is the whole list of service mappings after the change.
	ServiceMappings json.RawMessage `json:"serviceMappings,omitempty"`
	// CustomerMappings map companies to existing tenants.
	CustomerMappings []CustomerMapping `json:"customerMappings,omitempty"`
}

// Empty reports whether the set changes no configuration (it previews what
// the saved configuration does).
func (c Changes) Empty() bool {
	return c.Settings == nil && c.ServiceMappings == nil && len(c.CustomerMappings) == 0
}

// CustomerMapping maps a company to an existing Acronis tenant.
type CustomerMapping struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
}

// Inputs are what one customer's plan was made from; comparing them tells an
// admin why a plan can no longer be applied.
type Inputs struct {
	// Snapshot is the fingerprint of the company's contracts.
	Snapshot string `json:"snapshot"`
	// QuotasRead hashes the tenant's items, quotas and usage as read from Acronis.
	QuotasRead string `json:"quotasRead"`
	// Mapping is the tenant the company is (or will be) mapped to.
	Mapping string `json:"mapping"`
	// State hashes the workflow's deprovisioning, trial and last applied quotas.
	State string `json:"state"`
}

// Diff names the inputs that differ between a and b.
func (a Inputs) Diff(b Inputs) []string {
	var out []string
	if a.Snapshot != b.Snapshot {
		out = append(out, "snapshot")
	}
	if a.QuotasRead != b.QuotasRead {
		out = append(out, "quotas read")
	}
	if a.Mapping != b.Mapping {
		out = append(out, "mapping")
	}
	if a.State != b.State {
		out = append(out, "workflow state")
	}
	return out
}

// Entry is one customer of a set with the inputs of its plan.
type Entry struct {
	Customer
	Inputs Inputs `json:"inputs"`
}

// Skipped is a customer in scope that could not be planned, and why.
type Skipped struct {
	CompanyID int64  `json:"companyId"`
	Reason    string `json:"reason"`
}

// Summary counts what a set would do.
type Summary struct {
	Customers int `json:"customers"`
	// Writes counts offering-item writes and tenant steps.
	Writes   int `json:"writes"`
	Warnings int `json:"warnings"`
	Skipped  int `json:"skipped"`
}

// Set is a stored plan over a scope of customers: the exact writes the
// integration would make for each, previewed under the saved configuration
// or under changes not saved yet, applied only while its inputs still hold.
type Set struct {
	ID     string  `json:"id"`
	Status string  `json:"status"`
	Scope  Scope   `json:"scope"`
	Change Changes `json:"changes"`
	// SettingsVersion is the saved settings version the set was made over.
	SettingsVersion int64      `json:"settingsVersion"`
	Customers       []Entry    `json:"customers"`
	Skipped         []Skipped  `json:"skipped,omitempty"`
	Summary         Summary    `json:"summary"`
	CreatedAt       time.Time  `json:"createdAt"`
	CreatedBy       string     `json:"createdBy"`
	ExpiresAt       time.Time  `json:"expiresAt"`
	AppliedAt       *time.Time `json:"appliedAt,omitempty"`
	AppliedBy       string     `json:"appliedBy,omitempty"`
}

// Summarize counts the set's writes, warnings and skipped customers.
func (s *Set) Summarize() {
	sum := Summary{Customers: len(s.Customers), Skipped: len(s.Skipped)}
	for _, c := range s.Customers {
		sum.Warnings += len(c.Warnings)
		sum.Writes += len(c.Steps)
		for _, it := range c.Items {
			if it.Write {
				sum.Writes++
			}
		}
	}
	s.Summary = sum
}

// Drift is a customer whose plan no longer holds, and what changed.
type Drift struct {
	CompanyID int64    `json:"companyId"`
	Changed   []string `json:"changed"`
}
