package acronis

import (
	"hash/fnv"
	"net/http"
	"strings"
)

// available reports whether catalogue item i may be enabled for t: the
// partner has the whole catalogue, everyone else what its parent has enabled.
// Callers hold s.mu.
func (s *Sandbox) available(t *tenant, i int) bool {
	if t.id == PartnerID {
		return true
	}
	p := s.st.tenants[t.parentID]
	if p == nil {
		return false
	}
	st := p.items[i]
	return st != nil && st.status == 1
}

// editionMatch applies the edition filter: "*" is every edition, no filter is
// the legacy "standard" edition; items without edition always match.
func editionMatch(c catItem, filter string, given bool) bool {
	if c.edition == nil || filter == "*" {
		return true
	}
	if !given {
		return *c.edition == "standard"
	}
	for _, e := range strings.Split(filter, ",") {
		if e == *c.edition {
			return true
		}
	}
	return false
}

func (s *Sandbox) handleGetOfferingItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	edition, given := q.Get("edition"), q.Has("edition")
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	items := []map[string]any{}
	for i, c := range catalog {
		if !s.available(t, i) || !editionMatch(c, edition, given) {
			continue
		}
		m := itemJSON(c, t.items[i])
		if st := q.Get("status"); st != "" && st != itoa(m["status"].(int)) {
			continue
		}
		if ty := q.Get("type"); ty != "" && ty != c.typ {
			continue
		}
		items = append(items, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func itoa(n int) string {
	if n == 1 {
		return "1"
	}
	return "0"
}

func (s *Sandbox) handleAvailableForChild(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	edition, given := q.Get("edition"), q.Has("edition")
	kind := q.Get("kind")
	if kind != "" && !validKinds[kind] {
		errBadRequest("kind must be partner, folder, customer or unit").write(w)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	items := []map[string]any{}
	for i, c := range catalog {
		st := t.items[i]
		if st == nil || st.status != 1 || !editionMatch(c, edition, given) {
			continue
		}
		if kind == "customer" && c.name == "pw_base_child_storages" {
			continue // customers have exactly one storage and no child storages
		}
		items = append(items, itemJSON(c, &itemState{status: 1}))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type quotaIn struct {
	Value   *float64 `json:"value"`
	Overage *float64 `json:"overage"`
	Version *int64   `json:"version"`
}

type itemIn struct {
	ApplicationID string   `json:"application_id"`
	Name          string   `json:"name"`
	Status        *int     `json:"status"`
	InfraID       string   `json:"infra_id"`
	Quota         *quotaIn `json:"quota"`
}

// handlePutOfferingItems enables/disables items and sets quotas. The whole
// request is validated before anything changes; a stale quota version is a
// 426 as since build C22.10.
func (s *Sandbox) handlePutOfferingItems(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OfferingItems []itemIn `json:"offering_items"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	idx := make([]int, len(in.OfferingItems))
	storages := map[string]bool{}
	for i, c := range catalog {
		if c.typ == "infra" && t.items[i] != nil && t.items[i].status == 1 {
			storages[c.infraID] = true
		}
	}
	for k, it := range in.OfferingItems {
		i := catIndex(it.Name, it.InfraID)
		if i < 0 || (it.ApplicationID != "" && it.ApplicationID != catalog[i].appID) {
			apiError{status: http.StatusBadRequest, code: 1021, message: "Offering item is not available.", info: "Offering item \"" + it.Name + "\" does not exist", domain: domainAccount}.write(w)
			return
		}
		if it.Status == nil || (*it.Status != 0 && *it.Status != 1) {
			errBadRequest("status of \"" + it.Name + "\" must be 0 or 1").write(w)
			return
		}
		if *it.Status == 1 && !s.available(t, i) {
			apiError{status: http.StatusBadRequest, code: 1021, message: "Offering item is not available.", info: "Offering item \"" + it.Name + "\" is not enabled for the parent tenant", domain: domainAccount}.write(w)
			return
		}
		cur := t.items[i]
		if it.Quota != nil && *it.Status == 1 {
			have := int64(0)
			if cur != nil && cur.status == 1 {
				have = cur.version
			}
			got := int64(0)
			if it.Quota.Version != nil {
				got = *it.Quota.Version
			}
			if got != have {
				errQuotaVersion(it.Name, have, got).write(w)
				return
			}
			if (it.Quota.Value != nil && *it.Quota.Value < 0) || (it.Quota.Overage != nil && *it.Quota.Overage < 0) {
				errBadRequest("quota of \"" + it.Name + "\" must not be negative").write(w)
				return
			}
		}
		if catalog[i].typ == "infra" {
			if *it.Status == 1 {
				storages[catalog[i].infraID] = true
			} else {
				delete(storages, catalog[i].infraID)
			}
		}
		idx[k] = i
	}
	if t.kind == "customer" && len(storages) > 1 {
		errBadRequest("A customer tenant can use only one storage").write(w)
		return
	}
	if t.kind == "customer" || t.kind == "partner" || t.kind == "folder" {
		// Dependent items need their parent item (M365 mailboxes/OneDrive need seats).
		enabled := func(name string) bool {
			for k, it := range in.OfferingItems {
				if catalog[idx[k]].name == name {
					return *it.Status == 1
				}
			}
			i := catIndex(name, "")
			return i >= 0 && t.items[i] != nil && t.items[i].status == 1
		}
		for k, it := range in.OfferingItems {
			name := catalog[idx[k]].name
			if *it.Status == 1 && (name == "pw_base_m365_mailboxes" || name == "pw_base_m365_onedrive") && !enabled("pw_base_m365_seats") {
				apiError{status: http.StatusBadRequest, code: 1023, message: "Offering items dependency error.", info: "\"" + name + "\" requires \"pw_base_m365_seats\"", domain: domainAccount}.write(w)
				return
			}
		}
	}
	now := s.now()
	out := []map[string]any{}
	for k, it := range in.OfferingItems {
		i := idx[k]
		cur := t.items[i]
		if cur == nil {
			cur = &itemState{}
			t.items[i] = cur
		}
		if *it.Status == 0 {
			cur.status, cur.value, cur.overage, cur.version = 0, nil, nil, 0
		} else {
			wasOn := cur.status == 1
			cur.status = 1
			if it.Quota != nil {
				changed := !sameF(cur.value, it.Quota.Value) || !sameF(cur.overage, it.Quota.Overage)
				cur.value, cur.overage = copyF(it.Quota.Value), copyF(it.Quota.Overage)
				switch {
				case cur.value == nil:
					// An unlimited quota resets the version and the overage.
					cur.version, cur.overage = 0, nil
				case changed:
					cur.version++
				}
			} else if !wasOn {
				cur.value, cur.overage, cur.version = nil, nil, 0
			}
			if !wasOn && s.opts.SimulateUsage && t.usages[i] == nil {
				if t.usages == nil {
					t.usages = map[int]*usageState{}
				}
				u := simulatedUsage(t.id, catalog[i], cur.value, cur.overage)
				t.usages[i] = &usageState{value: u, absolute: u}
			}
		}
		out = append(out, itemJSON(catalog[i], cur))
	}
	t.updatedAt = now
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func sameF(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func copyF(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// simulatedUsage is a plausible, repeatable use of an item: a few workloads,
// or tens of GiB of storage. As Acronis does (reference §3.3), a hard quota
// (an overage limit set) stops use at quota + overage; a soft quota (no
// overage limit, "prepaid with overage") lets use go past it.
func simulatedUsage(tenantID string, c catItem, quota, overage *float64) float64 {
	h := fnv.New32a()
	h.Write([]byte(tenantID + "/" + c.name + "/" + c.infraID))
	n := float64(h.Sum32()%10 + 3)
	if c.unit == "bytes" {
		return (n*17 + 20) * (1 << 30)
	}
	if quota != nil && overage != nil && *quota+*overage < n {
		return *quota + *overage
	}
	return n
}
