package entitlement

import "time"

// Plan is a customer's desired state under the current mappings and settings.
type Plan struct {
	Desired  Desired          `json:"desired"`
	Settings CustomerSettings `json:"settings"`
	// TenantID is the mapping recorded in the store ("" when unmapped).
	TenantID string `json:"tenantId,omitempty"`
}

// CustomerSettings are the integration settings a customer workflow acts on,
// copied into each plan so a settings change reaches running workflows.
type CustomerSettings struct {
	BillingEnabled      bool          `json:"billingEnabled"`
	AutoCreateCustomers bool          `json:"autoCreateCustomers"`
	AccountsBasedOn     string        `json:"accountsBasedOn"`
	ActivationEmail     string        `json:"activationEmail,omitempty"`
	TwoFactor           bool          `json:"twoFactor"`
	TenantMode          string        `json:"tenantMode"`
	ZeroQuotas          bool          `json:"zeroQuotas"`
	DisableEnabled      bool          `json:"disableEnabled"`
	DisableAfter        time.Duration `json:"disableAfter"`
	DeleteEnabled       bool          `json:"deleteEnabled"`
	// TwoWaySync writes quotas changed by hand in Acronis back to the contracts.
	TwoWaySync  bool          `json:"twoWaySync,omitempty"`
	DeleteAfter time.Duration `json:"deleteAfter"`
	// Shadow: writes are recorded, not sent (settings mode=shadow); the
	// workflow leaves write deadlines (deprovisioning, trial end) for live mode.
	Shadow bool `json:"shadow,omitempty"`
}
