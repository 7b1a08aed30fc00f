// Package entitlement decides what a customer should have in Acronis from
// what it bought in Autotask: which offering items are on, with which quota,
// on which storage (SPEC F3, F5, F7). It is pure so every rule is tested
// without either API, and workflows can call it deterministically.
package entitlement

import (
	"fmt"
	"sort"
	"time"
)

// Group is how the service-mapping screen groups offering items.
type Group string

// Offering item groups.
const (
	GroupStandard Group = "standard"
	GroupAdvanced Group = "advanced"
	GroupStorage  Group = "storage"
)

// Item is one offering item the partner may give to a customer.
type Item struct {
	Name          string `json:"name"`
	ApplicationID string `json:"applicationId"`
	Group         Group  `json:"group"`
	// InfraID is set for storage items: the storage this item enables.
	InfraID string `json:"infraId,omitempty"`
	// Bytes is true when quotas are measured in bytes; contract units are then binary gigabytes.
	Bytes bool `json:"bytes,omitempty"`
}

// Key identifies an item within a tenant: name plus infra id, as Acronis does.
func (i Item) Key() string {
	if i.InfraID == "" {
		return i.Name
	}
	return i.Name + "@" + i.InfraID
}

// Mapping ties an offering item to an Autotask service. A mapping with no
// service but Free set still counts: the item is given for free.
type Mapping struct {
	ItemName string `json:"itemName"`
	// InfraID names the storage for storage items: each storage maps on its own.
	InfraID   string `json:"infraId,omitempty"`
	ServiceID int64  `json:"serviceId,omitempty"`
	Free      bool   `json:"free,omitempty"`
	// OverageServiceID, when set, lets the item exceed its prepaid units
	// (soft quota); the usage above them is billed as this service.
	OverageServiceID int64 `json:"overageServiceId,omitempty"`
}

// Key matches Item.Key.
func (m Mapping) Key() string { return Item{Name: m.ItemName, InfraID: m.InfraID}.Key() }

// Contract is one of the company's Autotask contracts with its current units.
type Contract struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Recurring bool      `json:"recurring"` // contractType is Recurring Service
	Active    bool      `json:"active"`    // status is Active
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	PAYG      bool      `json:"payg"` // the "Acronis PAYG" user-defined field is Yes
	// Services are the contract's services with their current units.
	Services []Units `json:"services,omitempty"`
	// Bundles are service bundles with their current units; each unit of a
	// bundle is one unit of every service in it.
	Bundles []Units `json:"bundles,omitempty"`
}

// Units is a service or bundle id with its unit count.
type Units struct {
	ID    int64 `json:"id"`
	Units int64 `json:"units"`
}

// Covers reports whether the contract counts on day: a Recurring Service
// contract, active, whose dates include the day (dates are whole UTC days).
func (c Contract) Covers(day time.Time) bool {
	d := day.UTC().Truncate(24 * time.Hour)
	return c.Recurring && c.Active && !d.Before(c.Start.UTC().Truncate(24*time.Hour)) && !d.After(c.End.UTC().Truncate(24*time.Hour))
}

// Billing is how a customer pays for Acronis services.
type Billing string

// Billing modes.
const (
	BillingNone    Billing = "none"    // no active contract with mapped services
	BillingPrepaid Billing = "prepaid" // quotas from contract units
	BillingPAYG    Billing = "payg"    // unlimited quotas, usage reported back
	BillingMixed   Billing = "mixed"   // prepaid for some items, PAYG for others
)

// Input is everything the decision depends on.
type Input struct {
	Today     time.Time
	Catalog   []Item
	Mappings  []Mapping
	Contracts []Contract
	// BundleServices expands each service bundle id to its service ids.
	BundleServices map[int64][]int64
	// DefaultStorageID is the infra used when no storage service is in a contract.
	DefaultStorageID string
	// BackupStorage is false when no storage reporting is selected: storage items stay off.
	BackupStorage bool
}

// Quota is the desired state of one offering item. Value nil means unlimited.
// Enabled false means the item must not be usable: its quota is 0 where it is
// on in Acronis (turning an item with usage off fails), and it stays off where
// it is off.
type Quota struct {
	Item    Item   `json:"item"`
	Enabled bool   `json:"enabled"`
	Value   *int64 `json:"value"`
	// Soft marks a prepaid quota that may be exceeded ("prepaid with
	// overage"): Acronis gets the value without an overage limit, and the
	// usage above it is billed after the period. False is a hard quota.
	Soft bool `json:"soft,omitempty"`
	// Source says why, for the customer status page: "contract 12 (prepaid)", "free", "not in a contract".
	Source string `json:"source"`
	// ContractServices lists the contract services that pay for this item (for usage reports).
	ContractServices []ContractService `json:"contractServices,omitempty"`
}

// ContractService is one contract's share of an item.
type ContractService struct {
	ContractID int64 `json:"contractId"`
	ServiceID  int64 `json:"serviceId"`
	Units      int64 `json:"units"`
	PAYG       bool  `json:"payg"`
}

// Desired is the decision for one customer.
type Desired struct {
	Billing Billing `json:"billing"`
	// HasActiveServices is false when no active contract holds a mapped
	// service: the trigger for deprovisioning.
	HasActiveServices bool    `json:"hasActiveServices"`
	Quotas            []Quota `json:"quotas"`
	// StorageID is the storage enabled for the customer ("" when storage is off).
	StorageID string `json:"storageId,omitempty"`
	// Problems make the decision unusable: nothing may be changed for the customer.
	Problems []string `json:"problems,omitempty"`
	// Warnings are worth showing but do not block.
	Warnings []string `json:"warnings,omitempty"`
}

// Valid reports whether the decision may be applied.
func (d Desired) Valid() bool { return len(d.Problems) == 0 }

// GiB is a binary gigabyte: Acronis counts bytes, contracts count GB.
const GiB = int64(1) << 30

// Decide applies the quota rule of SPEC F3 to every catalog item:
// mapped and in an active contract → the sum of the contract units (prepaid)
// or unlimited (PAYG); otherwise unlimited if the mapping is free, else 0.
// Advanced items need an enabled standard item; one storage is enabled,
// the contract's or the default.
func Decide(in Input) Desired {
	byService := map[int64][]ContractService{}
	for _, c := range in.Contracts {
		if !c.Covers(in.Today) {
			continue
		}
		for _, s := range c.Services {
			byService[s.ID] = append(byService[s.ID], ContractService{ContractID: c.ID, ServiceID: s.ID, Units: s.Units, PAYG: c.PAYG})
		}
		for _, b := range c.Bundles {
			for _, sid := range in.BundleServices[b.ID] {
				byService[sid] = append(byService[sid], ContractService{ContractID: c.ID, ServiceID: sid, Units: b.Units, PAYG: c.PAYG})
			}
		}
	}
	mappings := map[string]Mapping{}
	for _, m := range in.Mappings {
		mappings[m.Key()] = m
	}

	var d Desired
	var prepaid, payg bool
	storageInContract := ""
	for _, item := range in.Catalog {
		m, mapped := mappings[item.Key()]
		q := Quota{Item: item}
		shares := byService[m.ServiceID]
		switch {
		case mapped && m.ServiceID != 0 && len(shares) > 0:
			q.ContractServices = shares
			q.Enabled = true
			var units int64
			var itemPAYG, itemPrepaid bool
			for _, s := range shares {
				units += s.Units
				itemPAYG = itemPAYG || s.PAYG
				itemPrepaid = itemPrepaid || !s.PAYG
			}
			if itemPAYG && itemPrepaid {
				d.Problems = append(d.Problems, fmt.Sprintf("%s is in both a pay-as-you-go and a prepaid contract (%s); a service cannot be billed both ways", item.Name, contractList(shares)))
			}
			if itemPAYG {
				payg = true
				q.Source = "pay-as-you-go contract " + contractList(shares)
			} else {
				prepaid = true
				if item.Bytes {
					units *= GiB
				}
				q.Value = &units
				q.Source = "prepaid contract " + contractList(shares)
				if m.OverageServiceID != 0 {
					q.Soft = true
					q.Source += fmt.Sprintf(" (overage allowed, billed as service %d)", m.OverageServiceID)
				}
			}
			d.HasActiveServices = true
			if item.Group == GroupStorage {
				storageInContract = item.InfraID
			}
		case mapped && m.Free:
			q.Enabled = true
			q.Source = "free"
		default:
			zero := int64(0)
			q.Value = &zero
			q.Source = "not in an active contract"
			if !mapped {
				q.Source = "not mapped"
			}
		}
		d.Quotas = append(d.Quotas, q)
	}

	d.StorageID = chooseStorage(&d, storageInContract, in)
	requireStandard(&d)

	switch {
	case prepaid && payg:
		d.Billing = BillingMixed
	case payg:
		d.Billing = BillingPAYG
	case prepaid:
		d.Billing = BillingPrepaid
	default:
		d.Billing = BillingNone
	}
	sort.SliceStable(d.Quotas, func(i, j int) bool { return d.Quotas[i].Item.Key() < d.Quotas[j].Item.Key() })
	return d
}

// WarnStorageZero starts the warning about a default storage assigned with quota 0.
const WarnStorageZero = "storage quota 0"

// chooseStorage keeps exactly one storage: Acronis allows one per customer.
func chooseStorage(d *Desired, fromContract string, in Input) string {
	if !in.BackupStorage {
		for i := range d.Quotas {
			if d.Quotas[i].Item.Group == GroupStorage && d.Quotas[i].Enabled {
				d.Quotas[i] = disabled(d.Quotas[i], "backup storage is off: no storage reporting option is selected")
			}
		}
		return ""
	}
	chosen := fromContract
	if chosen == "" {
		chosen = in.DefaultStorageID
	}
	if chosen == "" {
		for _, q := range d.Quotas {
			if q.Item.Group == GroupStorage && q.Enabled {
				chosen = q.Item.InfraID
				break
			}
		}
	}
	found := false
	for i, q := range d.Quotas {
		if q.Item.Group != GroupStorage {
			continue
		}
		if q.Item.InfraID != chosen {
			if q.Enabled {
				d.Quotas[i] = disabled(q, "another storage is used: a customer has one storage")
			}
			continue
		}
		found = true
		if !q.Enabled && fromContract == "" {
			// The default storage is assigned even without a storage service (guide, service mapping).
			d.Quotas[i].Enabled = true
			d.Quotas[i].Source = "default storage (no storage service in a contract): " + q.Source
			if v := q.Value; v != nil && *v == 0 {
				// The guide assigns the default storage with the quota of an item not in a
				// contract: 0 unless the item is free. Kept as the guide says, but never
				// silently: with 0 bytes the customer cannot back up to the cloud.
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s: storage %s is assigned with a hard quota of 0 bytes because no storage service is in a contract; "+
					"the customer cannot back up to the cloud until one is, or the storage item is mapped as free", WarnStorageZero, chosen))
			}
		}
	}
	if chosen != "" && !found {
		d.Warnings = append(d.Warnings, fmt.Sprintf("storage %s is not offered to customers", chosen))
		return ""
	}
	return chosen
}

// requireStandard turns advanced-pack items off when no standard workload is on:
// Advanced Protection can only be added on top of Standard.
func requireStandard(d *Desired) {
	standard := false
	for _, q := range d.Quotas {
		if q.Item.Group == GroupStandard && q.Enabled && (q.Value == nil || *q.Value > 0) {
			standard = true
			break
		}
	}
	if standard {
		return
	}
	for i, q := range d.Quotas {
		if q.Item.Group == GroupAdvanced && q.Enabled && (q.Value == nil || *q.Value > 0) {
			d.Quotas[i] = disabled(q, "advanced packs need a standard workload")
			d.Warnings = append(d.Warnings, q.Item.Name+" is off: advanced packs need a standard protection workload")
		}
	}
}

func disabled(q Quota, why string) Quota {
	zero := int64(0)
	q.Enabled, q.Value, q.Soft, q.Source = false, &zero, false, why
	return q
}

func contractList(shares []ContractService) string {
	seen := map[int64]bool{}
	var ids []int64
	for _, s := range shares {
		if !seen[s.ContractID] {
			seen[s.ContractID] = true
			ids = append(ids, s.ContractID)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprint(id)
	}
	return out
}
