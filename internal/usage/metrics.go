package usage

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

// Storage metrics (SPEC F2 "storage reporting"); each is a ledger metric of
// its own and is reported into its own mapped service.
const (
	MetricQuotaOverageTotal = string(settings.StorageQuotaOverageTotal)
	MetricClass1Free        = string(settings.StorageClass1Free)
	MetricClass2Billed      = string(settings.StorageClass2Billed)
)

// StorageUsageName is the Acronis usage name of backup storage on one infra:
// all bytes stored there, immutable storage included.
const StorageUsageName = "storage"

// Class1UsageNames are the usages counted as Class 1 (free) storage on a
// storage without its own settings.StorageClass.
//
// Assumption, kept as the default of a per-storage setting because Acronis'
// own documentation does not settle it: its PSA scenario ("Mapping Acronis
// offering items to PSA SKUs", developer.acronis.com/doc/vendor-side/psa/
// product-mapping/map-skus.html) asks for a "Class1 backup storage usage
// (free)" and a "Class2 backup storage usage (billable)" mapping per storage
// without naming their usages, and reference/acronis-api.md §5.1 marks it
// UNCONFIRMED. Acronis' PSA
// guidance splits storage into free Class 1 and billable Class 2, and in
// per-workload billing the storage of protected Microsoft 365 seats is
// included in the seat price while everything else is billed. So Class 1 is
// the storage of protected mailboxes and OneDrives on the infra, capped at
// the total, and Class 2 is the rest.
var Class1UsageNames = []string{"protected_mailbox_storage", "protected_one_drive_storage"}

// OveragePrefix starts the ledger metric of a prepaid item's overage
// ("overage:pw_base_workstations"), reported into its overage service.
const OveragePrefix = "overage:"

// IsStorageMetric reports whether name is one of the storage metrics.
func IsStorageMetric(name string) bool {
	return name == MetricQuotaOverageTotal || name == MetricClass1Free || name == MetricClass2Billed
}

// Sample is one Acronis usage of one tenant, kept in the ledger row it was
// computed from. Decimals are exact strings.
type Sample struct {
	TenantID   string    `json:"tenantId"`
	Item       string    `json:"item"` // offering item name (usage "name")
	UsageName  string    `json:"usageName"`
	InfraID    string    `json:"infraId,omitempty"`
	Unit       string    `json:"unit"`
	Value      string    `json:"value"`   // absolute_value: what PAYG bills
	Current    string    `json:"current"` // value: the current reading
	RangeStart time.Time `json:"rangeStart,omitzero"`
	// Quota is the related item's hard quota in raw units; nil when unlimited or absent.
	Quota *string `json:"quota,omitempty"`
	// From is where Value was read: SourceReport (a billing report's
	// production figure) or SourceLive (the live usage endpoint; empty in
	// samples recorded before sources were kept).
	From string `json:"from,omitempty"`
	// Trial is the report's trial figure, never billed (reference §2.5:
	// trial tenants' usage is not in monthly reports).
	Trial string `json:"trial,omitempty"`
}

// SampleFromAcronis converts a usage read from Acronis. The billed quantity is
// absolute_value, as Acronis' PSA scenario prescribes for pay-as-you-go
// (reference §5.1); value is kept for the record. Both arrive as JSON numbers
// and are converted to the decimal they were written as (FromFloat).
func SampleFromAcronis(tenantID string, u acronis.Usage) (Sample, error) {
	abs, err := FromFloat(u.AbsoluteValue)
	if err != nil {
		return Sample{}, fmt.Errorf("usage %s of tenant %s: %w", u.Name, tenantID, err)
	}
	cur, err := FromFloat(u.Value)
	if err != nil {
		return Sample{}, fmt.Errorf("usage %s of tenant %s: %w", u.Name, tenantID, err)
	}
	s := Sample{TenantID: tenantID, Item: u.Name, UsageName: u.UsageName, InfraID: u.InfraID, Unit: u.MeasurementUnit,
		Value: FormatDecimal(abs), Current: FormatDecimal(cur), RangeStart: u.RangeStart.Time.UTC(), From: SourceLive}
	if u.OfferingItem != nil && !u.OfferingItem.Quota.Unlimited() {
		q, err := FromFloat(*u.OfferingItem.Quota.Value)
		if err != nil {
			return Sample{}, fmt.Errorf("quota of %s of tenant %s: %w", u.Name, tenantID, err)
		}
		qs := FormatDecimal(q)
		s.Quota = &qs
	}
	return s, nil
}

// Mapping is a service mapping reduced to what reporting needs. Item is an
// offering item name, or a storage metric name with the storage it measures
// (InfraID "" for every storage).
type Mapping struct {
	Item       string     `json:"item"`
	InfraID    string     `json:"infraId,omitempty"`
	ServiceID  int64      `json:"serviceId"`
	Conversion Conversion `json:"conversion"`
	// OverageServiceID is the service a prepaid item's usage above its
	// contract units is billed as (0: no overage, the quota is hard).
	OverageServiceID int64 `json:"overageServiceId,omitempty"`
}

// ConversionFor builds a mapping's conversion from its stored columns, or the
// default for the measured unit when they are unset. A byte-measured item
// whose mapping still has the store's default divisor 1 and a billed unit
// other than bytes gets the GB default: billing a billion units for one
// gigabyte is never what an admin meant.
func ConversionFor(rawUnit, billedUnit, divisor, rounding, measured string) Conversion {
	if rawUnit == "" {
		rawUnit = measured
	}
	def := DefaultConversion(rawUnit)
	if billedUnit == "" || divisor == "" {
		return def
	}
	if rawUnit == UnitBytes && SameDecimal(divisor, "1") && billedUnit != UnitBytes {
		return Conversion{RawUnit: rawUnit, BilledUnit: billedUnit, Divisor: GiBDivisor, Rounding: cmpOr(rounding, RoundUp)}
	}
	return Conversion{RawUnit: rawUnit, BilledUnit: billedUnit, Divisor: divisor, Rounding: cmpOr(rounding, RoundUp)}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ContractService is one service on one of the customer's active contracts,
// as Autotask shows it at the effective date.
type ContractService struct {
	ContractID        int64 `json:"contractId"`
	ContractServiceID int64 `json:"contractServiceId"`
	ServiceID         int64 `json:"serviceId"`
	PAYG              bool  `json:"payg"`
	// Units are the units in effect at EffectiveDate (the level an adjustment changes).
	Units         int64     `json:"units"`
	EffectiveDate time.Time `json:"effectiveDate"`
	// ContractStart and ContractEnd are the contract's dates (zero: open),
	// for prorating first and last periods (Prorate).
	ContractStart time.Time `json:"contractStart,omitzero"`
	ContractEnd   time.Time `json:"contractEnd,omitzero"`
}

// Line is the usage of one metric to report into one contract service.
type Line struct {
	ContractService ContractService `json:"contractService"`
	Metric          string          `json:"metric"`
	InfraID         string          `json:"infraId,omitempty"`
	Raw             string          `json:"raw"`
	RawUnit         string          `json:"rawUnit"`
	Billed          int64           `json:"billed"`
	BilledUnit      string          `json:"billedUnit"`
	Rounding        string          `json:"rounding"`
	Samples         []Sample        `json:"samples"`
}

// Input is everything one customer's report depends on.
type Input struct {
	// Storage is the selected storage reporting options.
	Storage []settings.StorageReport
	// StorageClasses override Class1UsageNames per storage.
	StorageClasses []settings.StorageClass
	// Samples are the usages of the customer's tenant, or of every customer
	// tenant under a mapped sub-partner: they are summed (F4, guide: usage of
	// sub-partners is reported in aggregate).
	Samples          []Sample
	Mappings         []Mapping
	ContractServices []ContractService
	// Overage asks for the prepaid-with-overage lines (overageLines); the
	// usage workflow sets it only when settling a closed period from its
	// billing report, so overage is billed from billing-grade figures only.
	Overage bool
}

type quantity struct {
	unit      string
	sum       *big.Rat
	quota     *big.Rat // nil: unlimited somewhere
	unlimited bool
	samples   []Sample
}

func (q *quantity) add(s Sample) error {
	v, err := ParseDecimal(s.Value)
	if err != nil {
		return fmt.Errorf("usage %s of tenant %s: %w", s.Item, s.TenantID, err)
	}
	if q.sum == nil {
		q.sum, q.unit = new(big.Rat), s.Unit
	}
	q.sum.Add(q.sum, v)
	switch {
	case s.Quota == nil:
		q.unlimited = true
	default:
		qv, err := ParseDecimal(*s.Quota)
		if err != nil {
			return fmt.Errorf("quota of %s of tenant %s: %w", s.Item, s.TenantID, err)
		}
		if q.quota == nil {
			q.quota = new(big.Rat)
		}
		q.quota.Add(q.quota, qv)
	}
	q.samples = append(q.samples, s)
	return nil
}

type itemKey struct{ item, infra string }

// Compute derives the lines to report for one customer:
//
//   - an offering item (mapping without infra, not a storage metric) is the
//     sum of absolute_value over the customer's tenants, reported into the
//     mapped service where it is on a pay-as-you-go contract;
//   - storage metrics, per storage (infra), from T = the "storage" usage
//     (all bytes stored there) and Q = its hard quota (summed over
//     sub-customers; unlimited if any is):
//     quota_overage_total = T when Q is unlimited (pay-as-you-go: the total
//     used), else max(0, T − Q) (prepaid: the quota is billed by the contract
//     units, the overage above it is reported);
//     class1_free = min(T, storage of Class1UsageNames);
//     class2_billed = T − class1_free.
//     A storage metric goes to the service mapped for it (metric name as
//     item, same infra or none), on any active contract, prepaid included
//     ("prepaid with overage"), except a prepaid service that is also an
//     offering item's mapped service: its units are that item's quota (F7),
//     and usage written there would move the quota. Without such a mapping
//     quota_overage_total goes to the storage item's own service, but only
//     on a pay-as-you-go contract, for the same reason.
//
// Two lines for one contract service would fight over its units, and one
// service on two contracts would bill the usage twice: both are dropped and
// named in problems.
func Compute(in Input) ([]Line, []string) {
	var problems []string
	items := map[itemKey]*quantity{}
	class1 := map[string]*big.Rat{}
	class1Samples := map[string][]Sample{}
	storageInfras := map[string]bool{}
	for _, s := range in.Samples {
		k := itemKey{s.Item, s.InfraID}
		if s.UsageName == StorageUsageName {
			storageInfras[s.InfraID] = true
		}
		if slices.Contains(in.class1Names(s.InfraID), s.UsageName) {
			v, err := ParseDecimal(s.Value)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if class1[s.InfraID] == nil {
				class1[s.InfraID] = new(big.Rat)
			}
			class1[s.InfraID].Add(class1[s.InfraID], v)
			class1Samples[s.InfraID] = append(class1Samples[s.InfraID], s)
			continue
		}
		q := items[k]
		if q == nil {
			q = &quantity{}
			items[k] = q
		}
		if err := q.add(s); err != nil {
			problems = append(problems, err.Error())
		}
	}
	byService := map[int64][]ContractService{}
	for _, cs := range in.ContractServices {
		byService[cs.ServiceID] = append(byService[cs.ServiceID], cs)
	}

	var lines []Line
	// Services that carry an offering item's prepaid quota must never receive
	// usage: their units are the quota (F7).
	quotaServices := map[int64]bool{}
	for _, m := range in.Mappings {
		if !IsStorageMetric(m.Item) && m.ServiceID != 0 {
			quotaServices[m.ServiceID] = true
		}
	}
	emit := func(m Mapping, metric, infra string, raw *big.Rat, unit string, samples []Sample, paygOnly bool) {
		conv := m.Conversion
		if conv.RawUnit == "" {
			conv = DefaultConversion(unit)
		}
		billed, err := conv.Bill(raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", metric, err))
			return
		}
		if !billed.IsInt64() || billed.Int64() > math.MaxInt32 {
			problems = append(problems, fmt.Sprintf("%s: %s %s is more than Autotask can count", metric, billed, conv.BilledUnit))
			return
		}
		var targets []ContractService
		for _, cs := range byService[m.ServiceID] {
			if !cs.PAYG && (paygOnly || quotaServices[m.ServiceID]) {
				if !paygOnly {
					problems = append(problems, fmt.Sprintf("%s maps to service %d, the prepaid quota of an offering item on contract %d: not reported there",
						metric, m.ServiceID, cs.ContractID))
				}
				continue
			}
			targets = append(targets, cs)
		}
		if len(targets) > 1 {
			// The whole usage would be billed once per contract.
			var ids []string
			for _, cs := range targets {
				ids = append(ids, fmt.Sprint(cs.ContractID))
			}
			problems = append(problems, fmt.Sprintf("%s: service %d is on contracts %s; usage is reported into one contract only, so nothing was reported",
				metric, m.ServiceID, strings.Join(ids, ", ")))
			return
		}
		for _, cs := range targets {
			lines = append(lines, Line{ContractService: cs, Metric: metric, InfraID: infra, Raw: FormatDecimal(raw), RawUnit: conv.RawUnit,
				Billed: billed.Int64(), BilledUnit: conv.BilledUnit, Rounding: conv.Rule(), Samples: samples})
		}
	}

	// Offering items.
	for _, m := range in.Mappings {
		if m.InfraID != "" || IsStorageMetric(m.Item) || m.ServiceID == 0 {
			continue
		}
		q := items[itemKey{m.Item, ""}]
		raw, unit, samples := new(big.Rat), m.Conversion.RawUnit, []Sample(nil)
		if q != nil {
			raw, unit, samples = q.sum, q.unit, q.samples
		}
		emit(m, m.Item, "", raw, unit, samples, true)
	}

	// Storage metrics, one storage at a time in a stable order.
	infras := make([]string, 0, len(storageInfras))
	for id := range storageInfras {
		infras = append(infras, id)
	}
	sort.Strings(infras)
	for _, infra := range infras {
		var total *quantity
		for k, q := range items {
			if k.infra == infra && len(q.samples) > 0 && q.samples[0].UsageName == StorageUsageName {
				total = q
				break
			}
		}
		if total == nil {
			continue
		}
		t := total.sum
		c1 := new(big.Rat)
		if v := class1[infra]; v != nil {
			c1.Set(v)
		}
		if c1.Cmp(t) > 0 {
			c1.Set(t)
		}
		for _, opt := range in.Storage {
			metric := string(opt)
			var v *big.Rat
			samples := total.samples
			switch metric {
			case MetricQuotaOverageTotal:
				v = new(big.Rat).Set(t)
				if !total.unlimited && total.quota != nil {
					v.Sub(t, total.quota)
					if v.Sign() < 0 {
						v.SetInt64(0)
					}
				}
			case MetricClass1Free:
				v = c1
				samples = append(slices.Clone(total.samples), class1Samples[infra]...)
			case MetricClass2Billed:
				v = new(big.Rat).Sub(t, c1)
				samples = append(slices.Clone(total.samples), class1Samples[infra]...)
			default:
				problems = append(problems, fmt.Sprintf("unknown storage reporting option %q", metric))
				continue
			}
			if m, ok := findMapping(in.Mappings, metric, infra); ok {
				emit(m, metric, infra, v, UnitBytes, samples, false)
				continue
			}
			if metric != MetricQuotaOverageTotal {
				continue
			}
			for _, m := range in.Mappings {
				if m.InfraID == infra && !IsStorageMetric(m.Item) && m.Item == total.samples[0].Item && m.ServiceID != 0 {
					emit(m, metric, infra, v, UnitBytes, samples, true)
				}
			}
		}
	}

	if in.Overage {
		lines = append(lines, overageLines(in, items, byService, quotaServices, &problems)...)
	}

	// One metric per contract service: a second one would fight over its units.
	count := map[int64][]string{}
	for _, l := range lines {
		count[l.ContractService.ContractServiceID] = append(count[l.ContractService.ContractServiceID], l.Metric)
	}
	kept := lines[:0]
	for _, l := range lines {
		if ms := count[l.ContractService.ContractServiceID]; len(ms) > 1 {
			continue
		}
		kept = append(kept, l)
	}
	ids := make([]int64, 0)
	for id, ms := range count {
		if len(ms) > 1 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		problems = append(problems, fmt.Sprintf("contract service %d is mapped from %s; map each to its own service: nothing was reported into it",
			id, strings.Join(count[id], " and ")))
	}
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if a.ContractService.ContractServiceID != b.ContractService.ContractServiceID {
			return a.ContractService.ContractServiceID < b.ContractService.ContractServiceID
		}
		return a.Metric < b.Metric
	})
	return kept, problems
}

// overageLines bills "prepaid with overage" (SPEC F18) for every mapping
// with an overage service whose item is on a prepaid contract: the item's
// usage U (summed like a pay-as-you-go item) above the contract units N in
// effect at the effective date (summed over the prepaid contracts holding the
// item's service; for byte-measured items N GiB, as the quota is set) is
// max(0, U − N), converted by the item's own mapping (divisor, rounding) and
// reported into the overage service on one of those prepaid contracts. The
// usage activity adds the overage service to that contract when it is
// missing (MissingOverageServices); units are a level, so a period without
// overage sets it back to 0.
func overageLines(in Input, items map[itemKey]*quantity, byService map[int64][]ContractService, quotaServices map[int64]bool, problems *[]string) []Line {
	var lines []Line
	for _, m := range in.Mappings {
		if m.OverageServiceID == 0 || m.ServiceID == 0 || IsStorageMetric(m.Item) {
			continue
		}
		metric := OveragePrefix + m.Item
		if m.InfraID != "" {
			metric += "@" + m.InfraID
		}
		contracts := map[int64]bool{}
		var units int64
		var ids []string
		for _, cs := range byService[m.ServiceID] {
			if cs.PAYG {
				continue
			}
			units += cs.Units
			if !contracts[cs.ContractID] {
				contracts[cs.ContractID] = true
				ids = append(ids, fmt.Sprint(cs.ContractID))
			}
		}
		if len(contracts) == 0 {
			continue // not prepaid in this period: there are no units to exceed
		}
		if quotaServices[m.OverageServiceID] {
			*problems = append(*problems, fmt.Sprintf("%s: overage service %d is an offering item's prepaid service; overage is not reported there", metric, m.OverageServiceID))
			continue
		}
		conv := m.Conversion
		q := items[itemKey{m.Item, m.InfraID}]
		used, samples := new(big.Rat), []Sample(nil)
		if q != nil {
			used, samples = q.sum, q.samples
			if conv.RawUnit == "" {
				conv = DefaultConversion(q.unit)
			}
		}
		if conv.RawUnit == "" {
			conv = DefaultConversion(UnitQuantity)
		}
		prepaid := new(big.Rat).SetInt64(units)
		if conv.RawUnit == UnitBytes {
			prepaid.Mul(prepaid, new(big.Rat).SetInt64(1<<30))
		}
		over := new(big.Rat).Sub(used, prepaid)
		if over.Sign() < 0 {
			over.SetInt64(0)
		}
		billed, err := conv.Bill(over)
		if err != nil {
			*problems = append(*problems, fmt.Sprintf("%s: %v", metric, err))
			continue
		}
		if !billed.IsInt64() || billed.Int64() > math.MaxInt32 {
			*problems = append(*problems, fmt.Sprintf("%s: %s %s is more than Autotask can count", metric, billed, conv.BilledUnit))
			continue
		}
		var targets []ContractService
		for _, cs := range byService[m.OverageServiceID] {
			if contracts[cs.ContractID] {
				targets = append(targets, cs)
			}
		}
		switch {
		case len(targets) == 0 && billed.Sign() > 0:
			*problems = append(*problems, fmt.Sprintf("%s: %s %s above the prepaid units, but overage service %d is not on prepaid contract %s; add it (0 units) to bill the overage",
				metric, billed, conv.BilledUnit, m.OverageServiceID, strings.Join(ids, ", ")))
			continue
		case len(targets) == 0:
			continue
		case len(targets) > 1:
			var on []string
			for _, cs := range targets {
				on = append(on, fmt.Sprint(cs.ContractID))
			}
			*problems = append(*problems, fmt.Sprintf("%s: overage service %d is on contracts %s; overage is reported into one contract only, so nothing was reported",
				metric, m.OverageServiceID, strings.Join(on, ", ")))
			continue
		}
		prepaidText := fmt.Sprintf("prepaid %d units", units)
		if conv.RawUnit == UnitBytes {
			prepaidText += fmt.Sprintf(" (%s bytes)", FormatDecimal(prepaid))
		}
		rule := fmt.Sprintf("%s; overage: usage %s %s − %s (contract %s) = %s %s", conv.Rule(), FormatDecimal(used), conv.RawUnit,
			prepaidText, strings.Join(ids, ", "), FormatDecimal(over), conv.RawUnit)
		lines = append(lines, Line{ContractService: targets[0], Metric: metric, InfraID: m.InfraID, Raw: FormatDecimal(over), RawUnit: conv.RawUnit,
			Billed: billed.Int64(), BilledUnit: conv.BilledUnit, Rounding: rule, Samples: samples})
	}
	return lines
}

// class1Names are the Class 1 (free) usage names of a storage.
func (in Input) class1Names(infra string) []string {
	for _, c := range in.StorageClasses {
		if c.InfraID == infra {
			return c.Class1UsageNames
		}
	}
	return Class1UsageNames
}

func findMapping(ms []Mapping, metric, infra string) (Mapping, bool) {
	var any Mapping
	found := false
	for _, m := range ms {
		if m.Item != metric || m.ServiceID == 0 {
			continue
		}
		if m.InfraID == infra {
			return m, true
		}
		if m.InfraID == "" {
			any, found = m, true
		}
	}
	return any, found
}

// Delta is the unitChange that makes a contract service's units equal the
// billed value from the effective date on: Autotask units are a level that
// adjustments move and later periods inherit, so the change is measured
// against the units in effect there, not against zero. When nobody else
// touches a pay-as-you-go service this equals "billed minus what was already
// reported for the period" (the previous report set that level), and after a
// write whose answer was lost it is 0: the effect is already visible.
func Delta(billed, inEffect int64) (int, error) {
	d := billed - inEffect
	if d > math.MaxInt32 || d < math.MinInt32 {
		return 0, fmt.Errorf("unit change %d does not fit Autotask's int32 unitChange", d)
	}
	return int(d), nil
}

// MissingOverageServices lists the overage services to add (0 units) to a
// customer's prepaid contract so its overage can be billed: for each mapping
// with an overage service whose item's service is on exactly one prepaid
// contract without the overage service, that contract and service (dates
// copied from the item's contract service). Autotask creates a contract
// service's unit rows with it, so once added the next read finds it and
// nothing is added twice.
func MissingOverageServices(mappings []Mapping, services []ContractService) []ContractService {
	var out []ContractService
	seen := map[[2]int64]bool{}
	for _, m := range mappings {
		if m.OverageServiceID == 0 || m.ServiceID == 0 || IsStorageMetric(m.Item) {
			continue
		}
		var holder *ContractService
		contracts := map[int64]bool{}
		for i, cs := range services {
			if cs.ServiceID == m.ServiceID && !cs.PAYG {
				contracts[cs.ContractID] = true
				holder = &services[i]
			}
		}
		if len(contracts) != 1 {
			continue // none to bill against, or ambiguous: overageLines says which
		}
		key := [2]int64{holder.ContractID, m.OverageServiceID}
		present := slices.ContainsFunc(services, func(cs ContractService) bool {
			return cs.ContractID == holder.ContractID && cs.ServiceID == m.OverageServiceID
		})
		if present || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, ContractService{ContractID: holder.ContractID, ServiceID: m.OverageServiceID, EffectiveDate: holder.EffectiveDate,
			ContractStart: holder.ContractStart, ContractEnd: holder.ContractEnd})
	}
	return out
}
