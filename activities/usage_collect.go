package activities

// This file collects usage and records it in the ledger (CollectUsage); the
// types and planning are in usage.go, the Autotask writes in usage_write.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// CollectUsage reads the usage of a batch of customers (one batched Acronis
// call per 50 tenants; sub-partners expand to their customer tenants, summed),
// computes the lines of their pay-as-you-go contract services (and prepaid
// overage services) and records each in the ledger BEFORE anything is
// written to Autotask. A sub-partner's customer tenant mapped to a company of
// its own is left out of the sub-partner's sum. The ledger rule:
//
//   - no row for (contract service, period, metric): a new pending row, unless
//     the usage is 0 and the service shows 0 units (nothing to bill or undo);
//   - a row with the same billed value: kept as is (raw drift that does not
//     change the bill makes no correction); a pending one is returned to be
//     written again;
//   - a row with another billed value: a correction row with the reason,
//     superseding it, pending.
//
// Failures reading shared data (Autotask contracts, the usages call) fail the
// activity so Temporal retries it; one customer's own problem (tenant gone,
// sub-partner unreadable, ledger refusal) is reported in its result only.
func (u *Usage) CollectUsage(ctx context.Context, in UsageBatchInput) (UsageBatchResult, error) {
	out := UsageBatchResult{Customers: make([]UsageCustomerResult, len(in.Customers))}
	for i, c := range in.Customers {
		out.Customers[i] = UsageCustomerResult{CompanyID: c.CompanyID, TenantID: c.TenantID}
	}
	if len(in.Customers) == 0 {
		return out, nil
	}
	mappings, err := u.mappings(ctx)
	if err != nil {
		return out, err
	}
	services, err := u.contractServices(ctx, in)
	if err != nil {
		return out, err
	}
	if in.Overage && in.Report != nil {
		if err := u.addOverageServices(ctx, in, mappings, services, &out); err != nil {
			return out, err
		}
	}
	// Only customers with a service to report into cost an Acronis read.
	var wanted []int
	for i, c := range in.Customers {
		if len(services[c.CompanyID]) == 0 {
			out.Customers[i].Problems = append(out.Customers[i].Problems, "no active contract service to report usage into")
			continue
		}
		wanted = append(wanted, i)
	}
	samples, err := u.samples(ctx, in, wanted, &out)
	if err != nil {
		return out, err
	}
	for _, i := range wanted {
		r := &out.Customers[i]
		if r.Error != "" {
			continue
		}
		c := in.Customers[i]
		lines, problems := usage.Compute(usage.Input{Storage: in.Storage, StorageClasses: in.StorageClasses, Samples: samples[c.CompanyID], Mappings: mappings,
			ContractServices: services[c.CompanyID], Overage: in.Overage && in.Report != nil})
		r.Problems = append(r.Problems, problems...)
		for _, l := range lines {
			// First and last periods: only the contract's active days are billed.
			if billed, rule := usage.Prorate(l.Billed, in.Period, l.ContractService.ContractStart, l.ContractService.ContractEnd); rule != "" {
				l.Billed, l.Rounding = billed, l.Rounding+"; "+rule
			}
			if err := u.record(ctx, in, c.CompanyID, l, r); err != nil {
				r.Error = err.Error()
				break
			}
		}
		activity.RecordHeartbeat(ctx, fmt.Sprintf("company %d", c.CompanyID))
	}
	return out, nil
}

// mappings reads the service mappings that point at an Autotask service.
func (u *Usage) mappings(ctx context.Context) ([]usage.Mapping, error) {
	ms, err := u.Store.ListServiceMappings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read service mappings: %w", err)
	}
	out := make([]usage.Mapping, 0, len(ms))
	for _, m := range ms {
		if m.ServiceID == nil {
			continue
		}
		measured := usage.UnitQuantity
		if m.InfraID != "" || usage.IsStorageMetric(m.OfferingItem) {
			measured = usage.UnitBytes
		}
		um := usage.Mapping{Item: m.OfferingItem, InfraID: m.InfraID, ServiceID: *m.ServiceID,
			Conversion: usage.ConversionFor(m.RawUnit, m.BilledUnit, m.Divisor, m.Rounding, measured)}
		if m.OverageServiceID != nil {
			um.OverageServiceID = *m.OverageServiceID
		}
		out = append(out, um)
	}
	return out, nil
}

// contractServices reads the batch's active Recurring Service contracts that
// overlap the period and the units of their services in effect at the
// effective date (clamped into each contract), a few batched queries for the
// whole batch.
func (u *Usage) contractServices(ctx context.Context, in UsageBatchInput) (map[int64][]usage.ContractService, error) {
	c, err := u.Autotask(ctx)
	if err != nil {
		return nil, err
	}
	companies := make([]int64, 0, len(in.Customers))
	for _, cu := range in.Customers {
		companies = append(companies, cu.CompanyID)
	}
	type eligible struct {
		id, company int64
		payg        bool
		start, end  time.Time
	}
	byEff := map[time.Time][]eligible{}
	for batch := range slices.Chunk(companies, idsPerQuery) {
		contracts, err := autotask.QueryAll[autotask.Contract](ctx, c, autotask.NewQuery(
			autotask.In("companyID", batch...), autotask.Eq("contractType", contractTypeRecurringService)))
		if err != nil {
			return nil, classify("read contracts for usage reporting", err)
		}
		for _, k := range contracts {
			ec := toContract(k, nil, nil)
			if !ec.Recurring || !ec.Active {
				continue
			}
			eff, ok := clampToContract(in.EffectiveDate, in.Period, ec.Start, ec.End)
			if !ok {
				continue
			}
			byEff[eff] = append(byEff[eff], eligible{id: k.ID, company: int64(k.CompanyID), payg: ec.PAYG, start: ec.Start, end: ec.End})
		}
	}
	out := map[int64][]usage.ContractService{}
	effs := make([]time.Time, 0, len(byEff))
	for eff := range byEff {
		effs = append(effs, eff)
	}
	slices.SortFunc(effs, func(a, b time.Time) int { return a.Compare(b) })
	for _, eff := range effs {
		list := byEff[eff]
		ids := make([]int64, 0, len(list))
		info := map[int64]eligible{}
		for _, e := range list {
			ids = append(ids, e.id)
			info[e.id] = e
		}
		units, err := unitsAt(ctx, c, ids, eff)
		if err != nil {
			return nil, classify("read contract service units for usage reporting", err)
		}
		for _, cs := range units {
			e := info[cs.ContractID]
			cs.PAYG, cs.EffectiveDate = e.payg, eff
			if !e.start.IsZero() {
				cs.ContractStart = autotask.Date(e.start).Time
			}
			if !e.end.IsZero() {
				cs.ContractEnd = autotask.Date(e.end).Time
			}
			out[e.company] = append(out[e.company], cs)
		}
	}
	return out, nil
}

// clampToContract moves the effective date into the contract's dates; false
// when the contract does not overlap the period at all.
func clampToContract(eff time.Time, p usage.Period, start, end time.Time) (time.Time, bool) {
	s, e := autotask.Date(start).Time, autotask.Date(end).Time
	if !start.IsZero() && !s.Before(p.End) {
		return time.Time{}, false
	}
	if !end.IsZero() && e.Before(p.Start) {
		return time.Time{}, false
	}
	if !start.IsZero() && eff.Before(s) {
		eff = s
	}
	if !end.IsZero() && eff.After(e) {
		eff = e
	}
	return eff, true
}

// unitsAt reads the units in effect at day of every service on the
// contracts, keyed by contract service.
func unitsAt(ctx context.Context, c *autotask.Client, contractIDs []int64, day time.Time) ([]usage.ContractService, error) {
	var out []usage.ContractService
	index := map[int64]int{}
	d := autotask.Date(day)
	for batch := range slices.Chunk(contractIDs, idsPerQuery) {
		q := autotask.NewQuery(autotask.In("contractID", batch...), autotask.Lte("startDate", d), autotask.Gte("endDate", d))
		err := autotask.QueryPages(ctx, c, q, func(page []autotask.ContractServiceUnit) error {
			for _, r := range page {
				id := int64(r.ContractServiceID)
				if i, ok := index[id]; ok {
					out[i].Units += int64(r.Units)
					continue
				}
				index[id] = len(out)
				out = append(out, usage.ContractService{ContractID: int64(r.ContractID), ContractServiceID: id,
					ServiceID: int64(r.ServiceID), Units: int64(r.Units)})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// samples reads the usages of the wanted customers, grouped by company. A
// mapped sub-partner stands for all customer tenants below it.
//
// With in.Report, the figures are the billing report's (settleSamples); the
// live read still supplies units and quotas.
func (u *Usage) samples(ctx context.Context, in UsageBatchInput, wanted []int, out *UsageBatchResult) (map[int64][]usage.Sample, error) {
	customers := in.Customers
	if len(wanted) == 0 {
		return nil, nil
	}
	api, err := u.Acronis(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(wanted))
	for _, i := range wanted {
		ids = append(ids, customers[i].TenantID)
	}
	tenants, err := api.GetTenants(ctx, ids)
	if err != nil {
		return nil, classify("read mapped tenants", err)
	}
	byID := map[string]acronis.Tenant{}
	for _, t := range tenants {
		byID[t.ID] = t
	}
	owner := map[string]int64{} // customer tenant → company
	trial := map[string]bool{}  // tenants in trial: not billed (reference §2.5)
	var read []string
	for _, i := range wanted {
		c := customers[i]
		t, ok := byID[c.TenantID]
		switch {
		case !ok:
			out.Customers[i].Error = fmt.Sprintf("tenant %s is not in Acronis (deleted?)", c.TenantID)
		case t.Kind == acronis.KindPartner:
			subs, err := customersUnder(ctx, api, t.ID, trial)
			if err != nil {
				out.Customers[i].Error = classify("list customers of sub-partner "+t.Name, err).Error()
				continue
			}
			subs, err = u.notMappedElsewhere(ctx, subs, c.CompanyID)
			if err != nil {
				out.Customers[i].Error = err.Error()
				continue
			}
			for _, s := range subs {
				owner[s] = c.CompanyID
				read = append(read, s)
			}
		default:
			owner[t.ID] = c.CompanyID
			read = append(read, t.ID)
			if t.PricingMode == acronis.PricingTrial {
				trial[t.ID] = true
			}
		}
	}
	res := map[int64][]usage.Sample{}
	if len(read) == 0 {
		return res, nil
	}
	// The client sends acronis.UsagesBatchSize tenants per request.
	batches, err := api.GetUsages(ctx, read)
	if err != nil {
		return nil, classify("read usages", err)
	}
	for _, b := range batches {
		company, ok := owner[b.Tenant]
		if !ok {
			continue
		}
		for _, us := range b.Usages {
			s, err := usage.SampleFromAcronis(b.Tenant, us)
			if err != nil {
				for _, i := range wanted {
					if customers[i].CompanyID == company {
						out.Customers[i].Problems = append(out.Customers[i].Problems, err.Error())
					}
				}
				continue
			}
			if trial[b.Tenant] && in.Report == nil {
				// A trial tenant is not billed while in trial; its billing
				// report has its usage as trial, not production, figures.
				s.Trial, s.Value = s.Value, "0"
			}
			res[company] = append(res[company], s)
		}
	}
	if in.Report != nil {
		rows, err := u.reports.get(ctx, api, *in.Report)
		if err != nil {
			return nil, err
		}
		settleSamples(res, owner, rows)
	}
	return res, nil
}

// notMappedElsewhere drops the customer tenants of a sub-partner that are
// mapped to another company of their own: their usage is reported there,
// and counting it in the sub-partner's aggregate too would bill it twice.
func (u *Usage) notMappedElsewhere(ctx context.Context, tenants []string, companyID int64) ([]string, error) {
	if len(tenants) == 0 {
		return tenants, nil
	}
	ms, err := u.Store.ListCustomerMappings(ctx, store.CustomerMappingFilter{TenantIDs: tenants})
	if err != nil {
		return nil, fmt.Errorf("read mappings of sub-partner customers: %w", err)
	}
	own := map[string]bool{}
	for _, m := range ms {
		if m.CompanyID != companyID {
			own[m.TenantID] = true
		}
	}
	out := tenants[:0]
	for _, t := range tenants {
		if !own[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

// customersUnder lists the live customer tenants in a sub-partner's subtree.
// Those in trial are added to trial.
func customersUnder(ctx context.Context, api UsageAcronis, partnerID string, trial map[string]bool) ([]string, error) {
	var out []string
	_, err := api.EachTenant(ctx, acronis.TenantQuery{SubtreeRootID: partnerID, Limit: 500}, func(ts []acronis.Tenant) error {
		for _, t := range ts {
			if t.Kind == acronis.KindCustomer && t.ID != partnerID {
				out = append(out, t.ID)
				if t.PricingMode == acronis.PricingTrial {
					trial[t.ID] = true
				}
			}
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// record applies CollectUsage's ledger rule to one line.
func (u *Usage) record(ctx context.Context, in UsageBatchInput, companyID int64, l usage.Line, r *UsageCustomerResult) error {
	csID := l.ContractService.ContractServiceID
	samples, err := json.Marshal(l.Samples)
	if err != nil {
		return fmt.Errorf("encode samples of %s: %w", l.Metric, err)
	}
	if l.Samples == nil {
		samples = []byte("[]")
	}
	src := usage.Source{Kind: usage.SourceLive, ObservedAt: in.ObservedAt.UTC(), Samples: len(l.Samples)}
	if in.Report != nil {
		src = in.Report.Source(len(l.Samples))
	}
	source, err := json.Marshal(src)
	if err != nil {
		return fmt.Errorf("encode the source of %s: %w", l.Metric, err)
	}
	rec := store.UsageRecord{ContractServiceID: csID, PeriodStart: in.Period.Start, PeriodEnd: in.Period.End, Metric: l.Metric,
		RawValue: l.Raw, RawUnit: l.RawUnit, BilledValue: strconv.FormatInt(l.Billed, 10), BilledUnit: l.BilledUnit,
		Rounding: l.Rounding, Samples: samples, Source: source, Estimate: in.Estimate && in.Report == nil}
	cur, found, err := u.currentRow(ctx, rec)
	if err != nil {
		return err
	}
	var saved store.UsageRecord
	switch {
	case !found && l.Billed == 0 && l.ContractService.Units == 0:
		r.Skipped++
		return nil
	case !found:
		saved, err = u.Store.RecordUsage(ctx, rec)
		if errors.Is(err, store.ErrConflict) { // recorded meanwhile with other values
			if cur, _, err = u.currentRow(ctx, rec); err != nil {
				return err
			}
			saved, err = u.Store.CorrectUsage(ctx, rec, correctionReason(cur, l, in))
		}
		if err != nil {
			return fmt.Errorf("record %s of contract service %d: %w", l.Metric, csID, err)
		}
		r.Recorded++
	case cur.BilledUnit == l.BilledUnit && usage.SameDecimal(cur.BilledValue, rec.BilledValue):
		saved = cur
		r.Unchanged++
		if in.Report != nil && !reportSourced(cur, *in.Report) {
			// The billing report confirms the estimate: same bill, now sourced.
			if saved, err = u.Store.ConfirmUsage(ctx, cur.ID, source, samples); err != nil {
				return fmt.Errorf("confirm %s of contract service %d from the billing report: %w", l.Metric, csID, err)
			}
		}
	default:
		saved, err = u.Store.CorrectUsage(ctx, rec, correctionReason(cur, l, in))
		if err != nil {
			return fmt.Errorf("correct %s of contract service %d: %w", l.Metric, csID, err)
		}
		r.Corrected++
	}
	if saved.State == store.UsagePending && saved.AdjustmentID == nil {
		r.Pending = append(r.Pending, PendingUsage{LedgerID: saved.ID, CompanyID: companyID, ContractID: l.ContractService.ContractID,
			ContractServiceID: csID, ServiceID: l.ContractService.ServiceID, Metric: l.Metric, Billed: l.Billed, BilledUnit: l.BilledUnit,
			EffectiveDate: l.ContractService.EffectiveDate})
	}
	return nil
}

// currentRow finds the ledger's current (not superseded) row of rec's key.
func (u *Usage) currentRow(ctx context.Context, rec store.UsageRecord) (store.UsageRecord, bool, error) {
	id := rec.ContractServiceID
	rows, err := u.Store.ListUsage(ctx, store.UsageFilter{ContractServiceID: &id, Metric: rec.Metric, From: rec.PeriodStart, To: rec.PeriodEnd})
	if err != nil {
		return store.UsageRecord{}, false, fmt.Errorf("read ledger of contract service %d: %w", id, err)
	}
	for _, row := range rows {
		if row.State != store.UsageSuperseded && row.PeriodStart.Equal(rec.PeriodStart) && row.PeriodEnd.Equal(rec.PeriodEnd) {
			return row, true, nil
		}
	}
	return store.UsageRecord{}, false, nil
}

// reportSourced reports whether row already names ref as its source.
func reportSourced(row store.UsageRecord, ref usage.ReportRef) bool {
	var src usage.Source
	_ = json.Unmarshal(row.Source, &src)
	return !row.Estimate && src.Kind == usage.SourceReport && src.StoredID == ref.StoredID
}

// correctionReasonBillingReport starts every correction a billing report makes.
const correctionReasonBillingReport = "billing report"

func correctionReason(cur store.UsageRecord, l usage.Line, in UsageBatchInput) string {
	if in.Report != nil {
		return fmt.Sprintf("%s %s (stored copy %s) for %s: %s of %s is %d %s, not %s %s (raw %s %s)", correctionReasonBillingReport,
			in.Report.ReportID, in.Report.StoredID, usage.ReportDates(in.Period), l.Metric, in.Period, l.Billed, l.BilledUnit,
			cur.BilledValue, cur.BilledUnit, l.Raw, l.RawUnit)
	}
	return fmt.Sprintf("usage of %s for %s changed from %s %s to %d %s (raw %s %s, observed %s)", l.Metric, in.Period,
		cur.BilledValue, cur.BilledUnit, l.Billed, l.BilledUnit, l.Raw, l.RawUnit, in.ObservedAt.UTC().Format(time.RFC3339))
}

// auditContractServiceAdd is the audit kind of an overage service added to a contract.
const auditContractServiceAdd = "autotask.contract_service.create"

// addOverageServices puts each overage service a customer's prepaid contract
// lacks on that contract (0 units, the service's own price), so its overage
// can be billed, and adds it to services. In shadow mode nothing is added and
// the customer's result says what would be.
func (u *Usage) addOverageServices(ctx context.Context, in UsageBatchInput, mappings []usage.Mapping, services map[int64][]usage.ContractService, out *UsageBatchResult) error {
	missing := map[int64][]usage.ContractService{}
	var ids []int64
	for _, c := range in.Customers {
		for _, cs := range usage.MissingOverageServices(mappings, services[c.CompanyID]) {
			missing[c.CompanyID] = append(missing[c.CompanyID], cs)
			ids = append(ids, cs.ServiceID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	c, err := u.Autotask(ctx)
	if err != nil {
		return err
	}
	catalog, err := autotask.QueryAll[autotask.Service](ctx, c, autotask.NewQuery(autotask.In("id", ids...)).Fields("id", "unitPrice"))
	if err != nil {
		return classify("read the overage services' prices", err)
	}
	price := map[int64]*float64{}
	for _, svc := range catalog {
		price[svc.ID] = svc.UnitPrice
	}
	for i, cu := range in.Customers {
		for _, cs := range missing[cu.CompanyID] {
			if c.Gated() {
				out.Customers[i].Problems = append(out.Customers[i].Problems, fmt.Sprintf(
					"overage service %d would be added to contract %d (shadow mode: not added)", cs.ServiceID, cs.ContractID))
				continue
			}
			id, err := c.CreateContractService(ctx, autotask.ContractService{ContractID: int(cs.ContractID), ServiceID: int(cs.ServiceID), UnitPrice: price[cs.ServiceID]})
			if err != nil {
				return classify(fmt.Sprintf("add overage service %d to contract %d", cs.ServiceID, cs.ContractID), err)
			}
			cs.ContractServiceID = id
			services[cu.CompanyID] = append(services[cu.CompanyID], cs)
			company, contract := cu.CompanyID, cs.ContractID
			if err := u.Store.AppendAudit(ctx, store.AuditEntry{Actor: "integration", Kind: auditContractServiceAdd, System: store.SystemAutotask,
				CompanyID: &company, ContractID: &contract, Target: fmt.Sprintf("contract-service:%d", id),
				Reason: fmt.Sprintf("overage service %d added with 0 units so the overage of a prepaid item can be billed", cs.ServiceID)}); err != nil {
				return fmt.Errorf("audit the overage service added to contract %d: %w", cs.ContractID, err)
			}
		}
	}
	return nil
}
