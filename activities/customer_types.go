package activities

import (
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
)

// PlanInput asks for a customer's desired state.
type PlanInput struct {
	Snapshot company.Snapshot `json:"snapshot"`
	// Today decides which contracts count; the workflow's clock, so a contract
	// that ends without any change in Autotask still ends here.
	Today time.Time `json:"today"`
}

// ProvisionInput creates (or finds) a customer's tenant.
type ProvisionInput struct {
	CompanyID   int64                        `json:"companyId"`
	CompanyName string                       `json:"companyName"`
	Settings    entitlement.CustomerSettings `json:"settings"`
	// Contact is the company's primary contact, used when accounts are based on it.
	Contact *company.Contact `json:"contact,omitempty"`
	// MayExist is set when an earlier attempt may have created the tenant: it is
	// then looked up by its internal tag before anything is created.
	MayExist bool `json:"mayExist,omitempty"`
	// Warnings are the plan's; shadow mode records them with each write.
	Warnings []string `json:"warnings,omitempty"`
}

// AuditInput is an audit entry about a customer, written by workflow code.
type AuditInput struct {
	// Actor is who asked (an API token's name); empty means the integration itself.
	Actor     string `json:"actor,omitempty"`
	Kind      string `json:"kind"`
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId,omitempty"`
	Reason    string `json:"reason"`
}

// Provisioned says what exists after provisioning; every step is keyed by a
// natural key, so a retry finds what an interrupted attempt created.
type Provisioned struct {
	TenantID          string    `json:"tenantId"`
	TenantCreated     bool      `json:"tenantCreated"`
	AdminUserID       string    `json:"adminUserId,omitempty"`
	AdminLogin        string    `json:"adminLogin,omitempty"`
	ActivationEmailTo string    `json:"activationEmailTo,omitempty"`
	ActivationSentAt  time.Time `json:"activationSentAt,omitempty"`
}

// ApplyQuotasInput makes a tenant's offering items match the desired quotas.
type ApplyQuotasInput struct {
	CompanyID int64               `json:"companyId"`
	TenantID  string              `json:"tenantId"`
	Quotas    []entitlement.Quota `json:"quotas"`
	Reason    string              `json:"reason"`
	// KeepUsage holds every quota that would go below what the tenant uses,
	// except where Confirmed (item key → the quota a plan the admin
	// confirmed showed) says so: nothing goes below usage unseen (issue 14).
	KeepUsage bool              `json:"keepUsage,omitempty"`
	Confirmed map[string]string `json:"confirmed,omitempty"`
	// Warnings are the plan's; shadow mode records them with each write.
	Warnings []string `json:"warnings,omitempty"`
}

// AppliedQuotas reports what changed in Acronis.
type AppliedQuotas struct {
	Changed []QuotaChange `json:"changed,omitempty"`
	// Held are the writes KeepUsage kept back: After is the quota asked for.
	Held []QuotaChange `json:"held,omitempty"`
	At   time.Time     `json:"at"`
	// Shadow: the changes were recorded (shadow mode), not made.
	Shadow bool `json:"shadow,omitempty"`
}

// QuotaChange is one offering item whose state moved.
type QuotaChange struct {
	Item   string `json:"item"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// TenantStateInput enables, disables or deletes a tenant.
type TenantStateInput struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
	Reason    string `json:"reason"`
}

// MapInput records a manual mapping after checking the tenant can be managed.
type MapInput struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
	Actor     string `json:"actor"`
	RequestID string `json:"requestId,omitempty"`
}

// UnmapInput removes a mapping.
type UnmapInput struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
	Actor     string `json:"actor"`
	Reason    string `json:"reason"`
}
