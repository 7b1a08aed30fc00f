package acronis

import (
	"math"
	"strconv"
	"time"
)

// Timestamps are written as Acronis does: RFC 3339, UTC.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// tsNano is the Alert Manager's RFC 3339 with nanoseconds.
func tsNano(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func strOrNil(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func floatOrNil(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func (c contact) json() map[string]any {
	types := c.Types
	if types == nil {
		types = []string{}
	}
	var ec any
	if c.EmailConfirmed != nil {
		ec = *c.EmailConfirmed
	}
	var orgSize any
	if c.OrganizationSize != "" {
		orgSize = c.OrganizationSize
	}
	return map[string]any{
		"id": c.ID, "email": c.Email, "email_confirmed": ec, "firstname": c.Firstname, "lastname": c.Lastname,
		"phone": c.Phone, "address1": c.Address1, "address2": c.Address2, "city": c.City, "state": c.State,
		"zipcode": c.Zip, "country": c.Country, "title": strOrNil(c.Title), "website": strOrNil(c.Website),
		"industry": strOrNil(c.Industry), "organization_size": orgSize, "aan": strOrNil(c.AAN),
		"created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt), "types": types,
	}
}

// tenantJSON renders a tenant with the fields of the developer portal's
// sample plus the documented stamps, modes and path.
func (st *state) tenantJSON(t *tenant) map[string]any {
	var lockOwner any
	if t.lockOwner != nil {
		lockOwner = *t.lockOwner
	}
	mfa := "disabled"
	if t.mfa {
		mfa = "enabled"
	}
	var deleted any
	if t.deleted() {
		deleted = ts(t.deletedAt)
	}
	path := []string{}
	for _, p := range st.path(t) {
		if p.id != RootID {
			path = append(path, p.id)
		}
	}
	var parent any = t.parentID
	if t.parentID == "" {
		parent = nil
	}
	return map[string]any{
		"id": t.id, "version": t.version, "name": t.name, "kind": t.kind, "parent_id": parent, "path": path,
		"enabled": t.enabled, "customer_id": strOrNil(t.customerID), "customer_type": "default",
		"internal_tag": strOrNil(t.internalTag), "language": t.language, "contact": t.contact.json(),
		"ancestral_access": t.ancestralAccess, "update_lock": map[string]any{"enabled": t.lockEnabled, "owner_id": lockOwner},
		"mfa_status": mfa, "pricing_mode": t.pricingMode, "has_children": len(st.liveChildren(t.id)) > 0,
		"owner_id": nil, "brand_id": 3579, "brand_uuid": BrandUUID, "default_idp_id": DefaultIDPID,
		"external_operation_status": "no_operation",
		"created_at":                ts(t.createdAt), "updated_at": ts(t.updatedAt), "deleted_at": deleted,
	}
}

// itemJSON renders a tenant's offering item like the developer portal's sample.
func itemJSON(c catItem, s *itemState) map[string]any {
	m := map[string]any{
		"application_id": c.appID, "name": c.name, "edition": strOrNil(c.edition), "usage_name": c.usageName,
		"type": c.typ, "measurement_unit": c.unit, "status": 0, "locked": false,
	}
	if c.infraID != "" {
		m["infra_id"] = c.infraID
	}
	if s != nil {
		m["status"] = s.status
		m["locked"] = s.locked
		if s.status == 1 {
			m["quota"] = map[string]any{"value": floatOrNil(s.value), "overage": floatOrNil(s.overage), "version": s.version}
		}
	}
	return m
}

// usageJSON renders one usage like the developer portal's sample.
func usageJSON(t *tenant, c catItem, u *usageState, it *itemState, rangeStart time.Time) map[string]any {
	m := map[string]any{
		"tenant_uuid": t.id, "tenant_id": t.v1, "application_id": c.appID, "name": c.name, "usage_name": c.usageName,
		"edition": strOrNil(c.edition), "type": c.typ, "measurement_unit": c.unit, "range_start": ts(rangeStart),
		"value": int64(0), "absolute_value": int64(0),
	}
	if c.infraID != "" {
		m["infra_id"] = c.infraID
	}
	if u != nil {
		m["value"], m["absolute_value"] = wholeUnits(u.value), wholeUnits(u.absolute)
	}
	if it != nil {
		oi := map[string]any{"status": it.status}
		if it.status == 1 {
			oi["quota"] = map[string]any{"value": floatOrNil(it.value), "overage": floatOrNil(it.overage), "version": it.version}
		}
		m["offering_item"] = oi
	}
	return m
}

// wholeUnits renders a usage figure as the real API does: an integer (bytes,
// seconds and counts are all whole numbers there; typed clients decode them
// into integer fields), whatever a control call stored.
func wholeUnits(v float64) int64 { return int64(math.Round(v)) }

// alertJSON renders an alert like the developer portal's sample.
func (st *state) alertJSON(a *alert) map[string]any {
	t := st.tenants[a.tenantID]
	tenant := map[string]any{"id": "", "uuid": a.tenantID, "locator": "/"}
	if t != nil {
		loc := "/"
		for _, p := range st.path(t) {
			loc += strconv.FormatInt(p.v1, 10) + "/"
		}
		loc += strconv.FormatInt(t.v1, 10) + "/"
		tenant["id"] = strconv.FormatInt(t.v1, 10)
		tenant["locator"] = loc
	}
	details := a.details
	if details == nil {
		details = map[string]any{}
	}
	m := map[string]any{
		"id": a.id, "type": a.typ, "category": a.category, "details": details,
		"receivedAt": tsNano(a.receivedAt), "updatedAt": tsNano(a.updatedAt), "createdAt": tsNano(a.createdAt),
		"severity": a.severity, "affinity": "", "tenant": tenant,
	}
	if a.deleted {
		m["deletedAt"] = tsNano(a.deletedAt)
	}
	return m
}
