package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// ServiceMapping is how one offering item is billed in Autotask (SPEC F3):
// the service, whether the item is given for free, and how raw usage
// converts to billed units.
type ServiceMapping struct {
	OfferingItem  string `json:"offeringItem"`
	ApplicationID string `json:"applicationId,omitempty"`
	Group         string `json:"group,omitempty"`
	InfraID       string `json:"infraId,omitempty"`
	ServiceID     *int64 `json:"serviceId,omitempty"`
	ServiceName   string `json:"serviceName,omitempty"`
	Free          bool   `json:"free"`
	// RawUnit is Acronis' unit; BilledUnit = raw / Divisor, rounded per Rounding.
	RawUnit    string     `json:"rawUnit,omitempty"`
	BilledUnit string     `json:"billedUnit,omitempty"`
	Divisor    string     `json:"divisor,omitempty"`
	Rounding   string     `json:"rounding,omitempty"`
	UpdatedAt  *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy  string     `json:"updatedBy,omitempty"`
}

// ServiceMappings is every service mapping as one document: it is read and
// replaced whole, so an admin's screen and the store never disagree.
type ServiceMappings struct {
	Mappings []ServiceMapping `json:"mappings"`
	// CreatedServices are the Autotask services this request created.
	CreatedServices []CreatedService `json:"createdServices,omitempty"`
	// Warnings say what was saved but could not be completed (e.g. re-planning customers).
	Warnings []string `json:"warnings,omitempty"`
}

// CreatedService is an Autotask service the integration created for a mapping.
type CreatedService struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ServiceMappingInput is one mapping of PUT /api/v1/service-mappings: exactly
// one of ServiceID (an existing Autotask service) or ServiceName (a service
// the integration creates). Units default per item: bytes → GB (binary,
// rounded up), anything else 1:1.
type ServiceMappingInput struct {
	OfferingItem string `json:"offeringItem"`
	InfraID      string `json:"infraId,omitempty"`
	ServiceID    *int64 `json:"serviceId,omitempty"`
	ServiceName  string `json:"serviceName,omitempty"`
	Free         bool   `json:"free"`
	BilledUnit   string `json:"billedUnit,omitempty"`
	Divisor      string `json:"divisor,omitempty"`
	Rounding     string `json:"rounding,omitempty"`
}

// ServiceMappingsUpdate is the body of PUT /api/v1/service-mappings: the full
// list; items left out lose their mapping.
type ServiceMappingsUpdate struct {
	Mappings []ServiceMappingInput `json:"mappings"`
}

// bytesPerGB is the binary gigabyte Acronis measures storage in.
const bytesPerGB = "1073741824"

// maxServiceName is the length of Autotask's Services.name field.
const maxServiceName = 150

func (s *Server) getServiceMappings(c echo.Context) error {
	out, err := s.listServiceMappings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listServiceMappings(ctx context.Context) (ServiceMappings, error) {
	st, err := s.mappings()
	if err != nil {
		return ServiceMappings{}, err
	}
	saved, err := st.ListServiceMappings(ctx)
	if err != nil {
		return ServiceMappings{}, fmt.Errorf("list service mappings: %w", err)
	}
	out := ServiceMappings{Mappings: make([]ServiceMapping, 0, len(saved))}
	for _, m := range saved {
		out.Mappings = append(out.Mappings, serviceMappingView(m, catalogItem{}))
	}
	return out, nil
}

func serviceMappingView(m store.ServiceMapping, it catalogItem) ServiceMapping {
	v := ServiceMapping{OfferingItem: m.OfferingItem, ApplicationID: m.ApplicationID, Group: string(it.Group), InfraID: m.InfraID,
		ServiceID: m.ServiceID, ServiceName: m.ServiceName, Free: m.Free, RawUnit: m.RawUnit, BilledUnit: m.BilledUnit,
		Divisor: m.Divisor, Rounding: m.Rounding, UpdatedBy: m.UpdatedBy}
	if !m.UpdatedAt.IsZero() {
		at := m.UpdatedAt
		v.UpdatedAt = &at
	}
	return v
}

// putServiceMappings validates the whole document against the Acronis
// catalogue and Autotask, then creates the new services, saves the mappings
// and asks every customer to re-plan. Nothing is written unless all is valid.
func (s *Server) putServiceMappings(c echo.Context) error {
	var in ServiceMappingsUpdate
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if in.Mappings == nil {
		return invalid("the body has no mappings", settings.FieldError{Field: "mappings", Message: "is required (an empty list removes every mapping)"})
	}
	ctx := c.Request().Context()
	st, err := s.mappings()
	if err != nil {
		return err
	}
	catalog, err := s.catalog(ctx)
	if err != nil {
		return err
	}
	at, err := s.autotaskClient(ctx)
	if err != nil {
		return err
	}
	cur, err := s.settingsNow(ctx)
	if err != nil {
		return err
	}
	plan, bad := planMappings(in.Mappings, catalog)
	more, err := plan.resolveServices(ctx, at, cur)
	if err != nil {
		return err
	}
	bad = append(bad, more...)
	if len(bad) > 0 {
		sort.SliceStable(bad, func(i, j int) bool { return fieldIndex(bad[i].Field) < fieldIndex(bad[j].Field) })
		return invalid("the service mappings are invalid; nothing was saved", bad...)
	}

	actor := actorFrom(c, "service mappings replaced through the API")
	created, err := plan.createServices(ctx, at, st, actor)
	if err != nil {
		return err
	}
	if err := plan.save(ctx, st, actor); err != nil {
		return err
	}
	out, err := s.listServiceMappings(ctx)
	if err != nil {
		return err
	}
	out.CreatedServices = created
	out.Warnings = s.replanAll(ctx)
	return c.JSON(http.StatusOK, out)
}

// replanAll asks the contract sync to run now so every customer workflow
// re-plans under the new mappings. The mappings are saved either way, so a
// failure here is a warning, not an error.
func (s *Server) replanAll(ctx context.Context) []string {
	cw, err := s.customers()
	if err == nil {
		err = cw.SyncNow(ctx)
	}
	if err != nil {
		s.deps.Logger.WarnContext(ctx, "mappings saved but customers were not asked to re-plan", "error", err.Error())
		return []string{"the mappings are saved, but customers were not asked to re-plan (" + err.Error() + "); POST /api/v1/sync to do it"}
	}
	return nil
}

// mappingPlan is a validated PUT: the rows to save, the services to create.
type mappingPlan struct {
	rows []store.ServiceMapping
	// index is the request index of each row, for field errors.
	index []int
	// newNames are the rows (by position in rows) that need a new service.
	newNames []int
	// billingCodeID and periodType are the settings' defaults for new services, resolved.
	billingCodeID, periodType int
}

// storageMetricItems are the storage reporting metrics (SPEC F2, F8:
// quota/overage/total, class 1, class 2) of every storage, mappable to their
// own Autotask services like offering items; usage reporting looks them up by
// these names.
func storageMetricItems(catalog []catalogItem) []catalogItem {
	var out []catalogItem
	for _, it := range catalog {
		if it.Group != entitlement.GroupStorage || it.InfraID == "" || usage.IsStorageMetric(it.Name) {
			continue
		}
		for _, m := range []string{usage.MetricQuotaOverageTotal, usage.MetricClass1Free, usage.MetricClass2Billed} {
			metric := it
			metric.Name, metric.usageName = m, m
			out = append(out, metric)
		}
	}
	return out
}

// planMappings checks everything that needs no vendor call: known items,
// storage ids, exactly one service, units, duplicates and the advanced-pack rule.
func planMappings(in []ServiceMappingInput, catalog []catalogItem) (*mappingPlan, []settings.FieldError) {
	catalog = append(slices.Clone(catalog), storageMetricItems(catalog)...)
	byKey := make(map[string]catalogItem, len(catalog))
	names := map[string]bool{}
	for _, it := range catalog {
		byKey[it.key()] = it
		names[it.Name] = true
	}
	var bad []settings.FieldError
	fail := func(i int, field, msg string) {
		f := fmt.Sprintf("mappings[%d]", i)
		if field != "" {
			f += "." + field
		}
		bad = append(bad, settings.FieldError{Field: f, Message: msg})
	}
	p := &mappingPlan{}
	seen := map[string]int{}
	hasStandard := false
	var advanced []int
	for i, m := range in {
		before := len(bad)
		m.OfferingItem, m.InfraID, m.ServiceName = strings.TrimSpace(m.OfferingItem), strings.TrimSpace(m.InfraID), strings.TrimSpace(m.ServiceName)
		it, known := byKey[mappingKey(m.OfferingItem, m.InfraID)]
		switch {
		case m.OfferingItem == "":
			fail(i, "offeringItem", "is required")
		case !names[m.OfferingItem]:
			fail(i, "offeringItem", fmt.Sprintf("%q is not an offering item the partner can give customers", m.OfferingItem))
		case !known && m.InfraID == "":
			fail(i, "infraId", "is required for storage items: each storage maps on its own")
		case !known:
			fail(i, "infraId", fmt.Sprintf("%q is not a storage of offering item %s", m.InfraID, m.OfferingItem))
		}
		if known {
			if j, dup := seen[it.key()]; dup {
				fail(i, "offeringItem", fmt.Sprintf("maps the same item as mappings[%d]", j))
			}
			seen[it.key()] = i
		}
		switch {
		case m.ServiceID != nil && m.ServiceName != "":
			fail(i, "serviceId", "give exactly one of serviceId (an existing Autotask service) or serviceName (a new one)")
		case m.ServiceID == nil && m.ServiceName == "":
			fail(i, "serviceId", "give one of serviceId (an existing Autotask service) or serviceName (a new one)")
		case m.ServiceID != nil && *m.ServiceID <= 0:
			fail(i, "serviceId", "must be a positive Autotask service id")
		case len(m.ServiceName) > maxServiceName:
			fail(i, "serviceName", fmt.Sprintf("must be at most %d characters", maxServiceName))
		}
		row := store.ServiceMapping{OfferingItem: m.OfferingItem, InfraID: m.InfraID, ApplicationID: it.ApplicationID,
			ServiceID: m.ServiceID, ServiceName: m.ServiceName, Free: m.Free, RawUnit: it.unit,
			BilledUnit: m.BilledUnit, Divisor: m.Divisor, Rounding: m.Rounding}
		unitDefaults(&row, it)
		if !validDivisor(row.Divisor) {
			fail(i, "divisor", "must be a positive decimal number, e.g. "+bytesPerGB)
		}
		if row.Rounding != store.RoundUp && row.Rounding != store.RoundDown && row.Rounding != store.RoundNearest {
			fail(i, "rounding", "must be up, down or nearest")
		}
		if len(row.BilledUnit) > 50 {
			fail(i, "billedUnit", "must be at most 50 characters")
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
	if !hasStandard {
		for _, i := range advanced {
			fail(i, "offeringItem", "advanced packs can only be added on top of a standard protection workload: map a standard item too (or mark it free)")
		}
	}
	return p, bad
}

// unitDefaults fills the conversion of raw usage: storage in bytes is billed
// in binary gigabytes rounded up, everything else one to one.
func unitDefaults(m *store.ServiceMapping, it catalogItem) {
	bytes := it.unit == acronis.UnitBytes
	if m.BilledUnit == "" {
		m.BilledUnit = "unit"
		if bytes {
			m.BilledUnit = "GB"
		}
	}
	if m.Divisor == "" {
		m.Divisor = "1"
		if bytes {
			m.Divisor = bytesPerGB
		}
	}
	if m.Rounding == "" {
		m.Rounding = store.RoundUp
	}
}

func validDivisor(s string) bool {
	r, ok := new(big.Rat).SetString(s)
	return ok && r.Sign() > 0
}

// resolveServices checks the existing services against Autotask (they must
// exist and be active), finds services already named as requested (so a
// repeated PUT creates nothing twice) and checks that the settings allow
// creating the rest.
func (p *mappingPlan) resolveServices(ctx context.Context, at *autotask.Client, cur settings.Settings) ([]settings.FieldError, error) {
	var bad []settings.FieldError
	var ids []int64
	var names []string
	for _, r := range p.rows {
		if r.ServiceID != nil {
			ids = append(ids, *r.ServiceID)
		} else if r.ServiceName != "" {
			names = append(names, r.ServiceName)
		}
	}
	if len(ids) > 0 {
		found, err := autotask.QueryAll[autotask.Service](ctx, at, autotask.NewQuery(autotask.In("id", ids...)).Fields("id", "name", "isActive"))
		if err != nil {
			return nil, fmt.Errorf("look up the mapped Autotask services: %w", err)
		}
		byID := map[int64]autotask.Service{}
		for _, svc := range found {
			byID[svc.ID] = svc
		}
		for k, r := range p.rows {
			if r.ServiceID == nil {
				continue
			}
			svc, ok := byID[*r.ServiceID]
			field := fmt.Sprintf("mappings[%d].serviceId", p.index[k])
			switch {
			case !ok:
				bad = append(bad, settings.FieldError{Field: field, Message: fmt.Sprintf("Autotask has no service %d", *r.ServiceID)})
			case svc.IsActive != nil && !*svc.IsActive:
				bad = append(bad, settings.FieldError{Field: field, Message: fmt.Sprintf("Autotask service %d (%s) is inactive", svc.ID, svc.Name)})
			default:
				p.rows[k].ServiceName = svc.Name
			}
		}
	}
	if len(names) == 0 {
		return bad, nil
	}
	existing, err := autotask.QueryAll[autotask.Service](ctx, at, autotask.NewQuery(autotask.In("name", names...), autotask.Eq("isActive", true)).Fields("id", "name"))
	if err != nil {
		return nil, fmt.Errorf("look up Autotask services by name: %w", err)
	}
	byName := map[string]int64{}
	for _, svc := range existing {
		if _, dup := byName[strings.ToLower(svc.Name)]; !dup {
			byName[strings.ToLower(svc.Name)] = svc.ID
		}
	}
	var still []int
	for _, k := range p.newNames {
		if id, ok := byName[strings.ToLower(p.rows[k].ServiceName)]; ok {
			p.rows[k].ServiceID = &id
			continue
		}
		still = append(still, k)
	}
	p.newNames = still
	if len(still) == 0 {
		return bad, nil
	}
	problem := ""
	if cur.NewServices.AllocationCodeID == nil || cur.NewServices.PeriodType == "" {
		problem = "a new service needs the settings' newServices.allocationCodeId and newServices.periodType; set them first or give a serviceId"
	} else {
		fields, err := at.Fields(ctx, "Services")
		if err != nil {
			return nil, fmt.Errorf("read the period types of Autotask services: %w", err)
		}
		code, err := autotask.PicklistCode(fields, "periodType", string(cur.NewServices.PeriodType))
		if err != nil {
			problem = fmt.Sprintf("the settings' period type %q is not a period type of this Autotask database", cur.NewServices.PeriodType)
		}
		p.billingCodeID, p.periodType = int(*cur.NewServices.AllocationCodeID), code
	}
	if problem != "" {
		for _, k := range still {
			bad = append(bad, settings.FieldError{Field: fmt.Sprintf("mappings[%d].serviceName", p.index[k]), Message: problem})
		}
	}
	return bad, nil
}

// createServices creates the new services in Autotask with the settings'
// allocation code and period type at unit price 0, auditing each one.
func (p *mappingPlan) createServices(ctx context.Context, at *autotask.Client, st MappingStore, actor store.Actor) ([]CreatedService, error) {
	var out []CreatedService
	for _, k := range p.newNames {
		r := &p.rows[k]
		svc := autotask.Service{Name: r.ServiceName, Description: r.ServiceName, InvoiceDescription: r.ServiceName,
			BillingCodeID: p.billingCodeID, PeriodType: p.periodType, UnitPrice: autotask.Ptr(0.0), IsActive: autotask.Ptr(true)}
		id, err := at.CreateService(ctx, svc)
		if err != nil {
			return out, fmt.Errorf("create the Autotask service for %s: %w", r.OfferingItem, err)
		}
		svc.ID = id
		r.ServiceID = &id
		out = append(out, CreatedService{ID: id, Name: r.ServiceName})
		e := store.AuditEntry{Kind: auditServiceCreate, System: store.SystemAutotask, Target: "service/" + strconv.FormatInt(id, 10),
			After: mustJSON(svc)}.WithActor(actor)
		e.Reason = "service created for offering item " + mappingKey(r.OfferingItem, r.InfraID) + " through the service mappings"
		if err := st.AppendAudit(ctx, e); err != nil {
			return out, fmt.Errorf("audit the creation of Autotask service %d: %w", id, err)
		}
	}
	return out, nil
}

// auditServiceCreate is the audit kind of a service the integration created in Autotask.
const auditServiceCreate = "autotask.service.create"

// save writes every row, then removes the mappings the document left out.
func (p *mappingPlan) save(ctx context.Context, st MappingStore, actor store.Actor) error {
	before, err := st.ListServiceMappings(ctx)
	if err != nil {
		return fmt.Errorf("list service mappings: %w", err)
	}
	keep := map[string]bool{}
	for _, r := range p.rows {
		keep[r.ApplicationID+"/"+mappingKey(r.OfferingItem, r.InfraID)] = true
		if _, err := st.UpsertServiceMapping(ctx, r, actor); err != nil {
			return fmt.Errorf("save service mapping of %s: %w", r.OfferingItem, err)
		}
	}
	for _, m := range before {
		if keep[m.ApplicationID+"/"+mappingKey(m.OfferingItem, m.InfraID)] {
			continue
		}
		if err := st.DeleteServiceMapping(ctx, m.ApplicationID, m.OfferingItem, m.InfraID, actor); err != nil {
			return fmt.Errorf("remove service mapping of %s: %w", m.OfferingItem, err)
		}
	}
	return nil
}

// fieldIndex orders field errors by the mapping they are about.
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

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return b
}
