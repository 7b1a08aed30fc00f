package workflows

import (
	"time"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
)

// Phase is where a customer is in its lifecycle; it is also the
// CustomerState search attribute, so operators can list customers by phase.
type Phase string

// Customer phases.
const (
	PhaseNew            Phase = "new"            // nothing known yet
	PhaseUnmapped       Phase = "unmapped"       // no tenant; waiting for an admin or for services
	PhaseActive         Phase = "active"         // mapped, quotas follow the contracts
	PhaseInvalid        Phase = "invalid"        // contracts cannot be applied (e.g. PAYG and prepaid mixed)
	PhaseDeprovisioning Phase = "deprovisioning" // no active services; timers pending
	PhaseDisabled       Phase = "disabled"       // tenant disabled by deprovisioning
	PhaseDeleted        Phase = "deleted"        // tenant deleted by deprovisioning
	PhaseError          Phase = "error"          // three or more consecutive failures
	PhaseShadow         Phase = "shadow"         // shadow mode: its tenant's creation was recorded, not made
)

// CustomerState is everything a customer workflow knows. It is the
// continue-as-new input and the answer of the status query, so nothing is
// lost between runs and what operators see is what the workflow acts on.
type CustomerState struct {
	CompanyID   int64  `json:"companyId"`
	CompanyName string `json:"companyName,omitempty"`
	Phase       Phase  `json:"phase"`
	TenantID    string `json:"tenantId,omitempty"`
	// MappedHow is "manual" or "automatic".
	MappedHow string `json:"mappedHow,omitempty"`

	Snapshot *company.Snapshot `json:"snapshot,omitempty"`
	Plan     *entitlement.Plan `json:"plan,omitempty"`
	// Applied is the fingerprint of the last quotas written, so an unchanged plan writes nothing.
	Applied   string    `json:"applied,omitempty"`
	AppliedAt time.Time `json:"appliedAt,omitempty"`

	Provisioned       *activities.Provisioned `json:"provisioned,omitempty"`
	ProvisionAttempts int                     `json:"provisionAttempts,omitempty"`
	// Contact is the primary contact read for provisioning, kept for retries.
	Contact        *company.Contact `json:"contact,omitempty"`
	Deprovision    Deprovision      `json:"deprovision"`
	LastError      string           `json:"lastError,omitempty"`
	Failures       int              `json:"failures"`
	RetryAt        time.Time        `json:"retryAt,omitempty"`
	LastSyncedAt   time.Time        `json:"lastSyncedAt,omitempty"`
	NeedsReconcile bool             `json:"needsReconcile"`
	// NextBoundary is when a contract of the snapshot starts or ends next:
	// Autotask signals nothing then, so the workflow wakes up by itself.
	NextBoundary time.Time `json:"nextBoundary,omitempty"`
	// NextDriftCheck is when two-way sync next compares Acronis quotas with the contracts.
	NextDriftCheck time.Time `json:"nextDriftCheck,omitempty"`
	// TrialEndsAt is when a tenant provisioned in trial mode switches to
	// production: a full month after it was created (zero: not in trial).
	TrialEndsAt time.Time `json:"trialEndsAt,omitzero"`
	// ProvisionRequested is set by "map to a new tenant": it provisions even when
	// automatic provisioning is off, and survives continue-as-new.
	ProvisionRequested bool `json:"provisionRequested,omitempty"`
	// Unmanaged is set when an admin removed the mapping: the company is not
	// provisioned automatically again until an admin maps it.
	Unmanaged bool `json:"unmanaged,omitempty"`
	// ConfigGeneration is the configuration (settings and service mappings)
	// the workflow last re-planned under; see SignalReplan.
	ConfigGeneration string `json:"configGeneration,omitempty"`
	// Confirmed are the quotas below usage a plan the admin confirmed showed
	// (item key → quota); the next contract write may set them.
	Confirmed map[string]string `json:"confirmed,omitempty"`
	// ConfirmedPlan is the id of that plan.
	ConfirmedPlan string `json:"confirmedPlan,omitempty"`
	// Held says which contract quotas were kept back because they are below usage.
	Held []string `json:"held,omitempty"`
	// Runs counts continue-as-new generations, for operators.
	Runs int `json:"runs"`
}

// Deprovision is the deprovisioning timeline: deadlines derive from Since and
// the current settings, so a changed N moves the pending deadline.
type Deprovision struct {
	// Since is when the customer was first seen without active services (zero: has services).
	Since        time.Time `json:"since,omitempty"`
	QuotasZeroed bool      `json:"quotasZeroed,omitempty"`
	Disabled     bool      `json:"disabled,omitempty"`
	Deleted      bool      `json:"deleted,omitempty"`
	// Hold pauses the timers (admin action); Since is kept.
	Hold bool `json:"hold,omitempty"`
	// Now forces the next step at once (admin action).
	Now bool `json:"now,omitempty"`
}

// PendingAction is a step that will happen at a known time.
type PendingAction struct {
	Action string    `json:"action"`
	At     time.Time `json:"at"`
	Held   bool      `json:"held,omitempty"`
}

// CustomerStatus answers the status query (and GET /api/v1/customers/{id}).
type CustomerStatus struct {
	CustomerState
	Quotas  []entitlement.Quota `json:"quotas,omitempty"`
	Pending []PendingAction     `json:"pending,omitempty"`
}

// pendingActions lists the deprovisioning steps still to come with their times.
func (s *CustomerState) pendingActions() []PendingAction {
	d := s.Deprovision
	if d.Since.IsZero() || s.Plan == nil || s.TenantID == "" || d.Deleted {
		return nil
	}
	set := s.Plan.Settings
	var out []PendingAction
	if set.ZeroQuotas && !d.QuotasZeroed {
		out = append(out, PendingAction{Action: "zero-quotas", At: d.Since, Held: d.Hold})
	}
	if set.DisableEnabled && !d.Disabled {
		out = append(out, PendingAction{Action: "disable-tenant", At: d.Since.Add(set.DisableAfter), Held: d.Hold})
	}
	if set.DeleteEnabled {
		out = append(out, PendingAction{Action: "delete-tenant", At: d.Since.Add(set.DeleteAfter), Held: d.Hold})
	}
	return out
}

// nextContractBoundary is the first instant after now at which a contract of
// the snapshot starts counting or stops counting (the day after its end date).
func nextContractBoundary(snap *company.Snapshot, now time.Time) time.Time {
	if snap == nil {
		return time.Time{}
	}
	var at time.Time
	consider := func(t time.Time) {
		if t.After(now) && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	for _, c := range snap.Contracts {
		if !c.Recurring || !c.Active {
			continue
		}
		consider(c.Start.UTC().Truncate(24 * time.Hour))
		consider(c.End.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour))
	}
	return at
}
