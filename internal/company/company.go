// Package company holds what the integration knows about an Autotask
// company: the snapshot the contract sync reads (its contracts and primary
// contact), which customer workflows plan from.
package company

import (
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
)

// Snapshot is what the contract sync read about one Autotask company:
// enough to decide its entitlements without asking Autotask again.
type Snapshot struct {
	CompanyID   int64                  `json:"companyId"`
	CompanyName string                 `json:"companyName"`
	Active      bool                   `json:"active"`
	Contracts   []entitlement.Contract `json:"contracts"`
	// BundleServices expands the service bundles used by the contracts.
	BundleServices map[int64][]int64 `json:"bundleServices,omitempty"`
	// PrimaryContact is the company's active primary contact, read in the same
	// batch as the contracts so provisioning needs no Autotask request of its
	// own; ContactKnown says it was read (nil then means the company has none).
	PrimaryContact *Contact  `json:"primaryContact,omitempty"`
	ContactKnown   bool      `json:"contactKnown,omitempty"`
	ObservedAt     time.Time `json:"observedAt"`
}

// Contact is an Autotask contact reduced to what provisioning needs.
type Contact struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
}

// ActiveContract is the contract a company's tickets are billed to on day: the
// lowest id among the Recurring Service contracts in force, or 0 when none is.
func ActiveContract(contracts []entitlement.Contract, day time.Time) int64 {
	var best int64
	for _, k := range contracts {
		if k.Covers(day) && (best == 0 || k.ID < best) {
			best = k.ID
		}
	}
	return best
}
