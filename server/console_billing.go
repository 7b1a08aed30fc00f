package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/servicemap"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// Choices of the billing form's service select besides an existing service id.
const (
	serviceNone = ""
	serviceNew  = "new"
)

// billingRow is one offering item of the service mapping form.
type billingRow struct {
	Index int
	Item  OfferingItem
	// Service is "", "new" or an Autotask service id.
	Service, NewName, Unit, Divisor, Rounding string
	// Overage is "" (hard prepaid quota) or the Autotask service id that
	// bills the usage above the prepaid units (prepaid with overage).
	Overage string
	Free    bool
	Errors  map[string]string
}

type billingGroup struct {
	Name, Help string
	Rows       []billingRow
	// Overage is false for storage metrics: they are usage, not quotas.
	Overage bool
}

type billingView struct {
	Groups    []billingGroup
	Services  []AutotaskService
	MoreExist bool
	Rounding  []string
	Created   []CreatedService
	Warnings  []string
	// Previews says Save first shows what the change does to the customers.
	Previews bool
	// PreviewFailed offers saving without a preview after the plan could not be made.
	PreviewFailed bool
}

// billingServicePage bounds the Autotask services offered in the selects;
// the rest are reachable by id through the API.
const billingServicePage = 500

// billingData reads the catalogue with its mappings and the Autotask services.
func (con *webConsole) billingData(c echo.Context) (OfferingItems, AutotaskServices, error) {
	var items OfferingItems
	if err := con.get(c, "/api/v1/offering-items", nil, &items); err != nil {
		return items, AutotaskServices{}, err
	}
	var services AutotaskServices
	err := con.get(c, "/api/v1/autotask/services", url.Values{"pageSize": {strconv.Itoa(billingServicePage)}}, &services)
	return items, services, err
}

// billingGroups lays the items out as the guide's Billing tab does, each row
// filled by fill (from the saved mapping or from the submitted form).
func billingGroups(items OfferingItems, fill func(i int, it OfferingItem) billingRow) []billingGroup {
	groups := []billingGroup{
		{Name: "Standard", Help: "protection workloads; every customer needs one of these", Rows: nil, Overage: true},
		{Name: "Advanced packs", Help: "added on top of a standard workload", Rows: nil, Overage: true},
		{Name: "Storage", Help: "per storage", Rows: nil, Overage: true},
		{Name: "Storage metrics", Help: "how backup storage is reported (see Usage reporting in the settings)", Rows: nil},
	}
	i := 0
	for g, list := range [][]OfferingItem{items.Standard, items.Advanced, items.Storage, items.StorageMetrics} {
		for _, it := range list {
			groups[g].Rows = append(groups[g].Rows, fill(i, it))
			i++
		}
	}
	return groups
}

func savedRow(i int, it OfferingItem) billingRow {
	r := billingRow{Index: i, Item: it, NewName: it.SuggestedServiceName}
	if m := it.Mapping; m != nil {
		if m.ServiceID != nil {
			r.Service = strconv.FormatInt(*m.ServiceID, 10)
		}
		r.Free, r.Unit, r.Divisor, r.Rounding = m.Free, m.BilledUnit, m.Divisor, m.Rounding
		if m.Overage != nil && m.Overage.ServiceID != nil {
			r.Overage = strconv.FormatInt(*m.Overage.ServiceID, 10)
		}
	}
	return r
}

func (con *webConsole) billing(c echo.Context) error {
	items, services, err := con.billingData(c)
	if err != nil {
		return err
	}
	v := billingView{Groups: billingGroups(items, savedRow), Services: services.Items, MoreExist: services.NextCursor != "",
		Rounding: []string{store.RoundUp, store.RoundDown, store.RoundNearest}, Previews: con.plansWired()}
	return con.render(c, http.StatusOK, "billing", "Billing (service mapping)", "billing", v)
}

// saveBilling sends the whole form as PUT /api/v1/service-mappings: the rows
// with a service chosen; rows left at "not mapped" lose their mapping. Where
// plans are wired the list is first previewed for every customer, as the
// settings are (saveSettingsForm); a change that creates services cannot be
// previewed and Save then saves it directly, saying so.
func (con *webConsole) saveBilling(c echo.Context) error {
	items, services, err := con.billingData(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	fromForm := func(i int, it OfferingItem) billingRow {
		k := strconv.Itoa(i)
		return billingRow{Index: i, Item: it, Service: form.Get("service." + k), NewName: strings.TrimSpace(form.Get("newName." + k)),
			Free: form.Get("free."+k) != "", Unit: strings.TrimSpace(form.Get("unit." + k)),
			Divisor: strings.TrimSpace(form.Get("divisor." + k)), Rounding: form.Get("rounding." + k), Overage: form.Get("overage." + k)}
	}
	groups := billingGroups(items, fromForm)
	var in ServiceMappingsUpdate
	in.Mappings = []ServiceMappingInput{}
	// sent[k] is the form row of the k-th mapping sent, for placing errors.
	var sent []*billingRow
	for g := range groups {
		for r := range groups[g].Rows {
			row := &groups[g].Rows[r]
			if row.Service == serviceNone {
				continue
			}
			m := ServiceMappingInput{OfferingItem: row.Item.Name, InfraID: row.Item.InfraID, Free: row.Free,
				BilledUnit: row.Unit, Divisor: row.Divisor, Rounding: row.Rounding}
			if row.Service == serviceNew {
				m.ServiceName = row.NewName
			} else if id, err := strconv.ParseInt(row.Service, 10, 64); err == nil {
				m.ServiceID = &id
			}
			if row.Overage != "" {
				// A value that is not an id is sent as 0, so the API names the field.
				id, _ := strconv.ParseInt(row.Overage, 10, 64)
				m.Overage = &servicemap.Overage{ServiceID: &id}
			}
			in.Mappings = append(in.Mappings, m)
			sent = append(sent, row)
		}
	}
	render := func(p *Problem, previewFailed bool) error {
		c.Set(problemKey, p)
		placeMappingErrors(p, sent)
		v := billingView{Groups: groups, Services: services.Items, MoreExist: services.NextCursor != "",
			Rounding: []string{store.RoundUp, store.RoundDown, store.RoundNearest}, Previews: con.plansWired(), PreviewFailed: previewFailed}
		return con.render(c, p.Status, "billing", "Billing (service mapping)", "billing", v)
	}
	intent := c.FormValue("intent")
	note := ""
	if con.plansWired() && intent != intentDirect {
		set, p, err := con.previewPlan(c, plan.Scope{All: true}, map[string]any{"serviceMappings": in.Mappings})
		switch {
		case err != nil:
			return err
		case p != nil && p.Status >= 500:
			p.Detail = "The change could not be previewed, so nothing was saved: " + p.Detail
			return render(p, true)
		case p != nil && createsServices(p) && intent != intentPreview:
			// A plan maps to existing services only: this change creates some, so it is saved without a preview.
			note = " Saved without a preview: it creates Autotask services, and a preview maps to existing services only."
		case p != nil && createsServices(p):
			p.Detail = "A preview maps to existing Autotask services only. Save creates the new services and saves the mappings without a preview. " + p.Detail
			return render(p, false)
		case p != nil:
			return render(p, false)
		case intent == intentPreview || needsReview(set):
			return redirect(c, planURL(set.ID, "/billing"), "")
		default:
			note = fmt.Sprintf(" Their preview wrote nothing and warned of nothing for any of the %d customers, so they were saved at once.", set.Summary.Customers)
		}
	}
	var out ServiceMappings
	p, err := con.send(c, http.MethodPut, "/api/v1/service-mappings", in, &out)
	if err != nil {
		return err
	}
	if p == nil {
		msg := fmt.Sprintf("Service mappings saved (%d mapped).", len(out.Mappings)) + note
		if len(out.CreatedServices) > 0 {
			msg += fmt.Sprintf(" %d Autotask service(s) created.", len(out.CreatedServices))
		}
		for _, w := range out.Warnings {
			msg += " " + w
		}
		return redirect(c, "/billing", msg)
	}
	return render(p, false)
}

// createsServices reports whether a refused preview's only problems are
// mappings that create a service, which a plan cannot preview.
func createsServices(p *Problem) bool {
	if p.Status != http.StatusBadRequest || len(p.Errors) == 0 {
		return false
	}
	for _, f := range p.Errors {
		if !strings.HasSuffix(f.Field, ".serviceName") {
			return false
		}
	}
	return true
}

// placeMappingErrors puts the API's field errors ("mappings[k].field" from
// the save, "serviceMappings[k].field" from a preview) next to the form row
// of the k-th mapping sent.
func placeMappingErrors(p *Problem, sent []*billingRow) {
	for _, f := range p.Errors {
		field := strings.TrimPrefix(f.Field, "service")
		if strings.HasPrefix(field, "Mappings") {
			field = "m" + field[1:]
		}
		var k int
		var name string
		if n, _ := fmt.Sscanf(strings.Replace(field, "].", "] ", 1), "mappings[%d] %s", &k, &name); n >= 1 && k >= 0 && k < len(sent) {
			if sent[k].Errors == nil {
				sent[k].Errors = map[string]string{}
			}
			if name == "" {
				name = "serviceId"
			}
			if strings.HasPrefix(name, "overage") {
				name = "overage"
			}
			sent[k].Errors[name] = f.Message
		}
	}
}
