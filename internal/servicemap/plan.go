// Package servicemap decides how Acronis offering items are billed in
// Autotask (SPEC F3): it checks an admin's service-mapping document against
// the partner's catalogue, the database's rules and Autotask, creates the
// services the document names, and saves every mapping in one transaction.
// The REST handler only decodes, calls Validate, ResolveServices,
// CreateServices and Save, and encodes.
package servicemap

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// Item is an offering item the partner can give customers, with what
// validation and display need besides its entitlement.
type Item struct {
	entitlement.Item
	// UsageName is Acronis' usage name (e.g. "workstations"); Unit its
	// measurement unit; StorageName the display name of its storage.
	UsageName, Unit, StorageName string
}

// Key identifies the item among the catalogue: its name and storage.
func (i Item) Key() string { return Key(i.Name, i.InfraID) }

// Key is the catalogue key of an offering item name and storage id ("" for items that are not storage).
func Key(name, infraID string) string { return name + "@" + infraID }

// Input is one mapping of the document an admin sends: exactly one of
// ServiceID (an existing Autotask service) or ServiceName (a service the
// integration creates). Units default per item: bytes → GB (binary,
// rounded up), anything else 1:1.
type Input struct {
	OfferingItem string `json:"offeringItem"`
	InfraID      string `json:"infraId,omitempty"`
	ServiceID    *int64 `json:"serviceId,omitempty"`
	ServiceName  string `json:"serviceName,omitempty"`
	Free         bool   `json:"free"`
	BilledUnit   string `json:"billedUnit,omitempty"`
	Divisor      string `json:"divisor,omitempty"`
	Rounding     string `json:"rounding,omitempty"`
	// Overage, when given, lets a prepaid item exceed its contract units (a
	// soft quota) and bills the usage above them as Overage.ServiceID.
	Overage *Overage `json:"overage,omitempty"`
}

// Overage is the "prepaid with overage" option of a mapping (SPEC F18): the
// quota stays the contract units but is soft, and the usage above the units
// in each closed period is written into the prepaid contract as units of
// ServiceID, an existing Autotask service other than the item's own.
type Overage struct {
	ServiceID *int64 `json:"serviceId"`
}

// BytesPerGB is the binary gigabyte Acronis measures storage in.
const BytesPerGB = "1073741824"

// Limits of the document's values. MaxServiceName is the length of
// Autotask's Services.name field; the others keep keys and units far below
// what a PostgreSQL index row holds (about 2.7 KB) and error messages short.
const (
	MaxServiceName = 150
	MaxBilledUnit  = 50
	MaxKey         = 200
	MaxDivisor     = 40
	MaxMappings    = 1000
)

// divisorForm is a plain positive decimal: what PostgreSQL's numeric reads
// exactly and usage reporting divides by. Fractions (1/3), hexadecimal (0x10)
// and exponents (1e1000000) are refused even where Go could read them.
var divisorForm = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// Plan is a validated document: the rows to save and the services to create.
type Plan struct {
	rows []store.ServiceMapping
	// index is the request index of each row, for field errors.
	index []int
	// newNames are the rows (by position in rows) that need a new service.
	newNames []int
	// billingCodeID and periodType are the settings' defaults for new services, resolved.
	billingCodeID, periodType int
}

// Rows are the mappings the plan saves.
func (p *Plan) Rows() []store.ServiceMapping { return p.rows }

// StorageMetricItems are the storage reporting metrics (SPEC F2, F8:
// quota/overage/total, class 1, class 2) of every storage, mappable to their
// own Autotask services like offering items; usage reporting looks them up by
// these names.
func StorageMetricItems(catalog []Item) []Item {
	var out []Item
	for _, it := range catalog {
		if it.Group != entitlement.GroupStorage || it.InfraID == "" || usage.IsStorageMetric(it.Name) {
			continue
		}
		for _, m := range []string{usage.MetricQuotaOverageTotal, usage.MetricClass1Free, usage.MetricClass2Billed} {
			metric := it
			metric.Name, metric.UsageName = m, m
			out = append(out, metric)
		}
	}
	return out
}

// Validate checks everything that needs no vendor call: known items, storage
// ids, exactly one service, units, every rule the database enforces (so a
// valid plan saves), duplicates and the advanced-pack rule. It names every bad
// field at once, ordered by mapping.
func Validate(in []Input, catalog []Item) (*Plan, []settings.FieldError) {
	catalog = append(slices.Clone(catalog), StorageMetricItems(catalog)...)
	byKey := make(map[string]Item, len(catalog))
	names := map[string]bool{}
	storages := map[string][]string{} // item → "infra id (storage name)"
	for _, it := range catalog {
		byKey[it.Key()] = it
		names[it.Name] = true
		if it.InfraID != "" {
			label := it.InfraID
			if it.StorageName != "" {
				label += " (" + it.StorageName + ")"
			}
			storages[it.Name] = append(storages[it.Name], label)
		}
	}
	var bad []settings.FieldError
	fail := func(i int, field, msg string) {
		bad = append(bad, settings.FieldError{Field: fmt.Sprintf("mappings[%d].%s", i, field), Message: msg})
	}
	p := &Plan{}
	if len(in) > MaxMappings {
		return p, []settings.FieldError{{Field: "mappings", Message: fmt.Sprintf("must list at most %d mappings", MaxMappings)}}
	}
	seen := map[string]int{}
	hasStandard := false
	var advanced []int
	for i, m := range in {
		before := len(bad)
		m.OfferingItem, m.InfraID, m.ServiceName = strings.TrimSpace(m.OfferingItem), strings.TrimSpace(m.InfraID), strings.TrimSpace(m.ServiceName)
		it, known := byKey[Key(m.OfferingItem, m.InfraID)]
		switch {
		case m.OfferingItem == "":
			fail(i, "offeringItem", "is required")
		case len(m.OfferingItem) > MaxKey:
			fail(i, "offeringItem", fmt.Sprintf("must be at most %d bytes", MaxKey))
		case len(m.InfraID) > MaxKey:
			fail(i, "infraId", fmt.Sprintf("must be at most %d bytes", MaxKey))
		case !names[m.OfferingItem]:
			fail(i, "offeringItem", fmt.Sprintf("%q is not an offering item the partner can give customers", m.OfferingItem))
		case !known && m.InfraID == "":
			fail(i, "infraId", "is required for storage items: each storage maps on its own")
		case !known:
			valid := "it has none: leave infraId out"
			if len(storages[m.OfferingItem]) > 0 {
				valid = "valid: " + strings.Join(storages[m.OfferingItem], ", ")
			}
			fail(i, "infraId", fmt.Sprintf("%q is not a storage of offering item %s (%s)", m.InfraID, m.OfferingItem, valid))
		}
		if known {
			if j, dup := seen[it.Key()]; dup {
				fail(i, "offeringItem", fmt.Sprintf("maps the same item as mappings[%d]", j))
			}
			seen[it.Key()] = i
		}
		switch {
		case m.ServiceID != nil && m.ServiceName != "":
			fail(i, "serviceId", "give exactly one of serviceId (an existing Autotask service) or serviceName (a new one)")
		case m.ServiceID == nil && m.ServiceName == "":
			fail(i, "serviceId", "give one of serviceId (an existing Autotask service) or serviceName (a new one)")
		case m.ServiceID != nil && *m.ServiceID <= 0:
			fail(i, "serviceId", "must be a positive Autotask service id")
		case utf8.RuneCountInString(m.ServiceName) > MaxServiceName:
			fail(i, "serviceName", fmt.Sprintf("must be at most %d characters", MaxServiceName))
		}
		row := store.ServiceMapping{OfferingItem: m.OfferingItem, InfraID: m.InfraID, ApplicationID: it.ApplicationID,
			ServiceID: m.ServiceID, ServiceName: m.ServiceName, Free: m.Free, RawUnit: it.Unit,
			BilledUnit: strings.TrimSpace(m.BilledUnit), Divisor: strings.TrimSpace(m.Divisor), Rounding: m.Rounding}
		if m.Overage != nil {
			switch {
			case m.Overage.ServiceID == nil || *m.Overage.ServiceID <= 0:
				fail(i, "overage.serviceId", "must be a positive Autotask service id: the service the usage above the contract units is billed as")
			case m.Free:
				fail(i, "overage", "a free item has no contract units to exceed: remove free or the overage")
			case usage.IsStorageMetric(m.OfferingItem):
				fail(i, "overage", "a storage metric is usage, not a quota; give the overage on the storage item or map quota_overage_total")
			default:
				row.OverageServiceID = m.Overage.ServiceID
			}
		}
		unitDefaults(&row, it)
		if msg := divisorProblem(row.Divisor); msg != "" {
			fail(i, "divisor", msg)
		}
		if row.Rounding != store.RoundUp && row.Rounding != store.RoundDown && row.Rounding != store.RoundNearest {
			fail(i, "rounding", "must be up, down or nearest")
		}
		if utf8.RuneCountInString(row.BilledUnit) > MaxBilledUnit {
			fail(i, "billedUnit", fmt.Sprintf("must be at most %d characters", MaxBilledUnit))
		}
		if !known || len(bad) > before {
			continue // only rows valid so far are checked against Autotask
		}
		switch it.Group {
		case entitlement.GroupStandard:
			hasStandard = true
		case entitlement.GroupAdvanced:
			advanced = append(advanced, i)
		}
		if m.ServiceID == nil && m.ServiceName != "" {
			p.newNames = append(p.newNames, len(p.rows))
		}
		p.rows = append(p.rows, row)
		p.index = append(p.index, i)
	}
	bad = append(bad, storageOverageTwice(in)...)
	if !hasStandard {
		for _, i := range advanced {
			fail(i, "offeringItem", "advanced packs can only be added on top of a standard protection workload: map a standard item too (or mark it free)")
		}
	}
	SortFields(bad)
	return p, bad
}

// storageOverageTwice refuses the overage option on a storage item whose
// overage is already billed through a quota_overage_total mapping of the same
// storage (or of every storage): the usage above the quota would be billed twice.
func storageOverageTwice(in []Input) []settings.FieldError {
	var bad []settings.FieldError
	for i, m := range in {
		infra := strings.TrimSpace(m.InfraID)
		if m.Overage == nil || infra == "" || usage.IsStorageMetric(strings.TrimSpace(m.OfferingItem)) {
			continue
		}
		for j, o := range in {
			if strings.TrimSpace(o.OfferingItem) == usage.MetricQuotaOverageTotal && (strings.TrimSpace(o.InfraID) == infra || strings.TrimSpace(o.InfraID) == "") {
				bad = append(bad, settings.FieldError{Field: fmt.Sprintf("mappings[%d].overage", i),
					Message: fmt.Sprintf("storage %s already bills its overage through mappings[%d] (%s); keep one of the two", infra, j, usage.MetricQuotaOverageTotal)})
				break
			}
		}
	}
	return bad
}

// overageClashes checks each overage service against the resolved services:
// it must differ from the item's own service, from every mapping's service
// (usage written there would move that item's prepaid quota or fight its
// usage over the same units) and from every other overage service.
func (p *Plan) overageClashes() []settings.FieldError {
	var bad []settings.FieldError
	for k, r := range p.rows {
		if r.OverageServiceID == nil {
			continue
		}
		ov := *r.OverageServiceID
		field := fmt.Sprintf("mappings[%d].overage.serviceId", p.index[k])
		if r.ServiceID != nil && *r.ServiceID == ov {
			bad = append(bad, settings.FieldError{Field: field, Message: fmt.Sprintf("must differ from the item's own service %d, which carries the prepaid units", ov)})
			continue
		}
		for j, o := range p.rows {
			switch {
			case j == k:
				continue
			case o.ServiceID != nil && *o.ServiceID == ov:
				bad = append(bad, settings.FieldError{Field: field, Message: fmt.Sprintf("service %d is the service of mappings[%d] (%s); the overage needs a service of its own", ov, p.index[j], o.OfferingItem)})
			case j < k && o.OverageServiceID != nil && *o.OverageServiceID == ov:
				bad = append(bad, settings.FieldError{Field: field, Message: fmt.Sprintf("service %d is already the overage service of mappings[%d] (%s); each item needs its own", ov, p.index[j], o.OfferingItem)})
			default:
				continue
			}
			break
		}
	}
	return bad
}

// unitDefaults fills the conversion of raw usage: storage in bytes is billed
// in binary gigabytes rounded up, everything else one to one.
func unitDefaults(m *store.ServiceMapping, it Item) {
	bytes := it.Unit == acronis.UnitBytes
	if m.BilledUnit == "" {
		m.BilledUnit = "unit"
		if bytes {
			m.BilledUnit = "GB"
		}
	}
	if m.Divisor == "" {
		m.Divisor = "1"
		if bytes {
			m.Divisor = BytesPerGB
		}
	}
	if m.Rounding == "" {
		m.Rounding = store.RoundUp
	}
}

// divisorProblem says what is wrong with a divisor, or "" when it is a
// positive plain decimal of at most MaxDivisor characters.
func divisorProblem(s string) string {
	const form = "must be a positive decimal number such as " + BytesPerGB + " or 1000.5 (no fractions, exponents or hexadecimal)"
	if len(s) > MaxDivisor {
		return fmt.Sprintf("must be at most %d characters; %s", MaxDivisor, form)
	}
	if !divisorForm.MatchString(s) || strings.Trim(s, "0.") == "" {
		return form
	}
	return ""
}

// SortFields orders field errors by the mapping they are about, keeping the
// order within a mapping.
func SortFields(bad []settings.FieldError) {
	sort.SliceStable(bad, func(i, j int) bool { return fieldIndex(bad[i].Field) < fieldIndex(bad[j].Field) })
}

// fieldIndex is the mapping index of a field error, -1 for other fields.
func fieldIndex(field string) int {
	rest, ok := strings.CutPrefix(field, "mappings[")
	if !ok {
		return -1
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return -1
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return -1
	}
	return n
}
