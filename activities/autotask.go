package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AutotaskSource returns the Autotask client for the current credentials.
type AutotaskSource func(ctx context.Context) (*autotask.Client, error)

// Autotask holds the activities that read from and write to Autotask.
type Autotask struct {
	Client AutotaskSource
	// Audit records writes to Autotask; optional.
	Audit interface {
		AppendAudit(ctx context.Context, e store.AuditEntry) error
	}
	// Now is the clock for "today" (contract coverage); time.Now when nil.
	Now func() time.Time
}

// Autotask facts the product relies on (reference §4.3): Recurring Service
// contracts are contractType 7; status 1 is Active.
const (
	contractTypeRecurringService = 7
	contractStatusActive         = 1
	// PAYGField is the contract user-defined field that marks pay-as-you-go contracts.
	PAYGField = "Acronis PAYG"
	// idsPerQuery keeps "in" filters well inside Autotask's request size.
	idsPerQuery = 200
)

func (a *Autotask) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// LoadCompanySnapshot reads one company and its Recurring Service contracts
// with their current units ("sync now" for one customer).
func (a *Autotask) LoadCompanySnapshot(ctx context.Context, companyID int64) (company.Snapshot, error) {
	c, err := a.Client(ctx)
	if err != nil {
		return company.Snapshot{}, err
	}
	co, err := autotask.Get[autotask.Company](ctx, c, companyID)
	if err != nil {
		return company.Snapshot{}, classify(fmt.Sprintf("read company %d", companyID), err)
	}
	contracts, err := autotask.QueryAll[autotask.Contract](ctx, c, autotask.NewQuery(
		autotask.Eq("companyID", companyID), autotask.Eq("contractType", contractTypeRecurringService)))
	if err != nil {
		return company.Snapshot{}, classify(fmt.Sprintf("read contracts of company %d", companyID), err)
	}
	snaps, err := BuildSnapshots(ctx, c, []autotask.Company{*co}, contracts, a.now())
	if err != nil {
		return company.Snapshot{}, classify(fmt.Sprintf("read contract units of company %d", companyID), err)
	}
	return snaps[0], nil
}

// PrimaryContact returns the company's active primary contact, or nil. The
// contract sync reads contacts in batches (company.Snapshot.PrimaryContact);
// this is for snapshots taken before it did.
func (a *Autotask) PrimaryContact(ctx context.Context, companyID int64) (*company.Contact, error) {
	c, err := a.Client(ctx)
	if err != nil {
		return nil, err
	}
	contacts, err := primaryContacts(ctx, c, []int64{companyID})
	if err != nil {
		return nil, classify(fmt.Sprintf("read primary contact of company %d", companyID), err)
	}
	return contacts[companyID], nil
}

// primaryContacts reads the active primary contacts of companies, one request
// per 200 companies (a company has at most one primary contact; the lowest id
// wins if the data says otherwise).
func primaryContacts(ctx context.Context, c *autotask.Client, companyIDs []int64) (map[int64]*company.Contact, error) {
	out := make(map[int64]*company.Contact, len(companyIDs))
	lowest := map[int64]int64{}
	for batch := range slices.Chunk(companyIDs, idsPerQuery) {
		q := autotask.NewQuery(autotask.In("companyID", batch...), autotask.Eq("primaryContact", true), autotask.Eq("isActive", 1)).
			Fields("id", "companyID", "firstName", "lastName", "emailAddress")
		err := autotask.QueryPages(ctx, c, q, func(page []autotask.Contact) error {
			for _, p := range page {
				id := int64(p.CompanyID)
				if seen, ok := lowest[id]; ok && seen < p.ID {
					continue
				}
				lowest[id] = p.ID
				out[id] = &company.Contact{FirstName: p.FirstName, LastName: p.LastName, Email: p.EmailAddress}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// BuildSnapshots turns companies and their contracts into snapshots, reading
// the current units of all contracts in a few batched queries: per contract
// it would cost the hourly request budget.
func BuildSnapshots(ctx context.Context, c *autotask.Client, companies []autotask.Company, contracts []autotask.Contract, now time.Time) ([]company.Snapshot, error) {
	ids := make([]int64, 0, len(contracts))
	for _, k := range contracts {
		ids = append(ids, k.ID)
	}
	services := map[int64][]entitlement.Units{}
	bundles := map[int64][]entitlement.Units{}
	bundleIDs := map[int64]bool{}
	today := autotask.Date(now)
	for batch := range slices.Chunk(ids, idsPerQuery) {
		q := autotask.NewQuery(autotask.In("contractID", batch...), autotask.Lte("startDate", today), autotask.Gte("endDate", today))
		err := autotask.QueryPages(ctx, c, q, func(page []autotask.ContractServiceUnit) error {
			for _, u := range page {
				services[int64(u.ContractID)] = addUnits(services[int64(u.ContractID)], int64(u.ServiceID), int64(u.Units))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = autotask.QueryPages(ctx, c, q, func(page []autotask.ContractServiceBundleUnit) error {
			for _, u := range page {
				bundles[int64(u.ContractID)] = addUnits(bundles[int64(u.ContractID)], int64(u.ServiceBundleID), int64(u.Units))
				bundleIDs[int64(u.ServiceBundleID)] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	bundleServices, err := expandBundles(ctx, c, bundleIDs)
	if err != nil {
		return nil, err
	}

	byCompany := map[int64][]entitlement.Contract{}
	for _, k := range contracts {
		byCompany[int64(k.CompanyID)] = append(byCompany[int64(k.CompanyID)], toContract(k, services[k.ID], bundles[k.ID]))
	}
	contacts, err := primaryContacts(ctx, c, keys(byCompany))
	if err != nil {
		return nil, err
	}
	out := make([]company.Snapshot, 0, len(companies))
	for _, co := range companies {
		snap := company.Snapshot{
			CompanyID:   co.ID,
			CompanyName: co.CompanyName,
			Active:      co.IsActive == nil || *co.IsActive,
			Contracts:   byCompany[co.ID],
			ObservedAt:  now.UTC(),
		}
		if len(snap.Contracts) > 0 {
			snap.PrimaryContact, snap.ContactKnown = contacts[co.ID], true
		}
		for _, k := range snap.Contracts {
			for _, b := range k.Bundles {
				if snap.BundleServices == nil {
					snap.BundleServices = map[int64][]int64{}
				}
				snap.BundleServices[b.ID] = bundleServices[b.ID]
			}
		}
		out = append(out, snap)
	}
	return out, nil
}

func addUnits(us []entitlement.Units, id, n int64) []entitlement.Units {
	for i := range us {
		if us[i].ID == id {
			us[i].Units += n
			return us
		}
	}
	return append(us, entitlement.Units{ID: id, Units: n})
}

func expandBundles(ctx context.Context, c *autotask.Client, ids map[int64]bool) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	slices.Sort(list)
	for batch := range slices.Chunk(list, idsPerQuery) {
		err := autotask.QueryPages(ctx, c, autotask.NewQuery(autotask.In("serviceBundleID", batch...)), func(page []autotask.ServiceBundleService) error {
			for _, s := range page {
				out[s.ServiceBundleID] = append(out[s.ServiceBundleID], s.ServiceID)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func toContract(k autotask.Contract, services, bundles []entitlement.Units) entitlement.Contract {
	out := entitlement.Contract{
		ID:        k.ID,
		Name:      k.ContractName,
		Recurring: k.ContractType == contractTypeRecurringService,
		Active:    k.Status == contractStatusActive,
		Services:  services,
		Bundles:   bundles,
	}
	if k.StartDate != nil {
		out.Start = k.StartDate.Time
	}
	if k.EndDate != nil {
		out.End = k.EndDate.Time
	}
	if v, ok := autotask.UDFValue(k.UserDefinedFields, PAYGField); ok {
		out.PAYG = isYes(v)
	}
	return out
}

// isYes reads a Yes/No list UDF, which Autotask returns as the label or the item value.
func isYes(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1", "y":
		return true
	}
	return false
}
