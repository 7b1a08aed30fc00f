package activities

import (
	"context"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// companyPollEvery is how often the contract sync reads the companies
// Autotask modified, for the read model behind the customers list: one
// request in a quiet run, 12 an hour, well inside the sync's 5% of the
// budget. Names and types change rarely; contracts are polled far more often.
const companyPollEvery = 5 * time.Minute

// pollCompanies copies the companies modified since the cursor (all, the
// first time) with their type and primary contact into the read model, so
// listing and searching customers needs no Autotask request (issue 16).
// Inactive companies are kept too: a mapped company that was deactivated
// shows as "missing".
func (s *ContractSync) pollCompanies(ctx context.Context, c *autotask.Client, now time.Time, cur *SyncCursor, res *SyncResult) error {
	q := autotask.NewQuery(autotask.Gte("id", 0)).Fields("id", "companyName", "companyType", "isActive", "lastTrackedModifiedDateTime")
	if !cur.CompaniesSince.IsZero() {
		q = autotask.NewQuery(autotask.Gt("lastTrackedModifiedDateTime", autotask.NewTime(cur.CompaniesSince.Add(-contractsOverlap)))).
			Fields("id", "companyName", "companyType", "isActive", "lastTrackedModifiedDateTime")
	}
	var companies []autotask.Company
	err := autotask.QueryPages(ctx, c, q, func(page []autotask.Company) error {
		companies = append(companies, page...)
		return nil
	})
	if err != nil {
		return classify("read modified companies", err)
	}
	if len(companies) > 0 {
		fields, err := c.Fields(ctx, "Companies")
		if err != nil {
			return classify("read the company types of Autotask", err)
		}
		labels := picklistLabels(fields, "companyType")
		ids := make([]int64, len(companies))
		for i, co := range companies {
			ids[i] = co.ID
		}
		contacts, err := primaryContacts(ctx, c, ids)
		if err != nil {
			return classify("read primary contacts of modified companies", err)
		}
		recs := make([]store.CompanyRecord, len(companies))
		since := cur.CompaniesSince
		for i, co := range companies {
			r := store.CompanyRecord{ID: co.ID, Name: co.CompanyName, Type: co.CompanyType, TypeLabel: labels[co.CompanyType],
				Active: co.IsActive == nil || *co.IsActive, ContactKnown: true}
			if p := contacts[co.ID]; p != nil {
				r.ContactName, r.ContactEmail = joinName(p.FirstName, p.LastName), p.Email
			}
			if co.LastTrackedModifiedDateTime != nil {
				r.ModifiedAt = co.LastTrackedModifiedDateTime.UTC()
				if r.ModifiedAt.After(since) {
					since = r.ModifiedAt
				}
			}
			recs[i] = r
		}
		if err := s.Store.SaveCompanies(ctx, recs, now); err != nil {
			return classify("save companies in the read model", err)
		}
		cur.CompaniesSince = since
		res.CompaniesSaved += len(recs)
	}
	if cur.CompaniesSince.IsZero() {
		// No company carries a modification time yet: start from now.
		cur.CompaniesSince = now
	}
	cur.CompaniesPolled = now
	return nil
}

// picklistLabels maps a picklist's codes to labels.
func picklistLabels(fields []autotask.FieldInfo, field string) map[int]string {
	values, _ := autotask.Picklist(fields, field)
	out := make(map[int]string, len(values))
	for _, v := range values {
		if n, err := v.Int(); err == nil {
			out[n] = v.Label
		}
	}
	return out
}

func joinName(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	}
	return first + " " + last
}

// contractSummaries turns snapshots into read-model rows: the contracts in
// force today with their services and bundles.
func contractSummaries(snaps []company.Snapshot, now time.Time) []store.CompanyContractsRecord {
	out := make([]store.CompanyContractsRecord, 0, len(snaps))
	for _, snap := range snaps {
		r := store.CompanyContractsRecord{CompanyID: snap.CompanyID, Name: snap.CompanyName, Active: snap.Active,
			Contracts: []readmodel.ContractSummary{}, ContactKnown: snap.ContactKnown}
		if p := snap.PrimaryContact; p != nil {
			r.ContactName, r.ContactEmail = joinName(p.FirstName, p.LastName), p.Email
		}
		for _, k := range snap.Contracts {
			if !k.Covers(now) {
				continue
			}
			r.Contracts = append(r.Contracts, readmodel.ContractSummary{ID: k.ID, Name: k.Name, Services: unitIDs(k.Services), Bundles: unitIDs(k.Bundles)})
		}
		r.Eligible = len(r.Contracts)
		out = append(out, r)
	}
	return out
}

func unitIDs(us []entitlement.Units) []int64 {
	if len(us) == 0 {
		return nil
	}
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}
