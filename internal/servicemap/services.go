package servicemap

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// CreatedService is an Autotask service the integration created for a mapping.
type CreatedService struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// AuditKindServiceCreate is the audit kind of a service the integration created in Autotask.
const AuditKindServiceCreate = "autotask.service.create"

// Store is what saving a plan needs; *store.Store satisfies it.
type Store interface {
	ReplaceServiceMappings(ctx context.Context, rows []store.ServiceMapping, actor store.Actor) ([]store.ServiceMapping, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
}

// ResolveServices checks the existing services against Autotask (they must
// exist and be active, overage services included), finds services already
// named as requested (so a repeated document creates nothing twice) and
// checks that the settings allow creating the rest; then each overage service
// against the resolved services. It returns the fields Autotask refuses.
func (p *Plan) ResolveServices(ctx context.Context, at *autotask.Client, cur settings.Settings) ([]settings.FieldError, error) {
	bad, err := p.resolveServices(ctx, at, cur)
	if err != nil {
		return nil, err
	}
	bad = append(bad, p.overageClashes()...)
	SortFields(bad)
	return bad, nil
}

func (p *Plan) resolveServices(ctx context.Context, at *autotask.Client, cur settings.Settings) ([]settings.FieldError, error) {
	var bad []settings.FieldError
	var ids []int64
	var names []string
	for _, r := range p.rows {
		if r.ServiceID != nil {
			ids = append(ids, *r.ServiceID)
		} else if r.ServiceName != "" {
			names = append(names, r.ServiceName)
		}
		if r.OverageServiceID != nil {
			ids = append(ids, *r.OverageServiceID)
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
			case strings.TrimSpace(svc.Name) == "":
				bad = append(bad, settings.FieldError{Field: field, Message: fmt.Sprintf("Autotask service %d has no name", svc.ID)})
			default:
				p.rows[k].ServiceName = svc.Name
			}
		}
		for k, r := range p.rows {
			if r.OverageServiceID == nil {
				continue
			}
			svc, ok := byID[*r.OverageServiceID]
			field := fmt.Sprintf("mappings[%d].overage.serviceId", p.index[k])
			switch {
			case !ok:
				bad = append(bad, settings.FieldError{Field: field, Message: fmt.Sprintf("Autotask has no service %d", *r.OverageServiceID)})
			case svc.IsActive != nil && !*svc.IsActive:
				bad = append(bad, settings.FieldError{Field: field, Message: fmt.Sprintf("Autotask service %d (%s) is inactive", svc.ID, svc.Name)})
			}
		}
	}
	if len(names) == 0 {
		SortFields(bad)
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
		SortFields(bad)
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
	SortFields(bad)
	return bad, nil
}

// CreateServices creates the new services in Autotask with the settings'
// allocation code and period type at unit price 0, auditing each one as it
// is created (the service exists in Autotask whatever happens next).
func (p *Plan) CreateServices(ctx context.Context, at *autotask.Client, st Store, actor store.Actor) ([]CreatedService, error) {
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
		after, _ := json.Marshal(svc)
		e := store.AuditEntry{Kind: AuditKindServiceCreate, System: store.SystemAutotask, Target: "service/" + strconv.FormatInt(id, 10),
			After: after}.WithActor(actor)
		e.Reason = "service created for offering item " + Key(r.OfferingItem, r.InfraID) + " through the service mappings"
		if err := st.AppendAudit(ctx, e); err != nil {
			return out, fmt.Errorf("audit the creation of Autotask service %d: %w", id, err)
		}
	}
	p.newNames = nil
	return out, nil
}

// Save makes the plan's rows the complete set of service mappings in one
// transaction: mappings the document left out are removed, and a failure
// leaves every mapping as it was.
func (p *Plan) Save(ctx context.Context, st Store, actor store.Actor) error {
	if _, err := st.ReplaceServiceMappings(ctx, p.rows, actor); err != nil {
		return fmt.Errorf("save the service mappings: %w", err)
	}
	return nil
}
