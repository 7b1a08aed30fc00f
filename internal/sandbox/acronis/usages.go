package acronis

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// rangeStart is the start of the current collection period: the 1st of the month.
func rangeStart(now time.Time) time.Time {
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// usagesOf lists a tenant's usages: every enabled item, every item with
// recorded use, and immutable storage next to an enabled storage.
// Callers hold s.mu.
func (s *Sandbox) usagesOf(t *tenant, names map[string]bool) []map[string]any {
	start := rangeStart(s.now())
	out := []map[string]any{}
	for i, c := range catalog {
		it, u := t.items[i], t.usages[i]
		if (it == nil || it.status != 1) && u == nil {
			continue
		}
		if len(names) > 0 && !names[c.usageName] {
			continue
		}
		out = append(out, usageJSON(t, c, u, it, start))
		if c.typ == "infra" && (len(names) == 0 || names[usageOnly.usageName]) {
			im := usageOnly
			im.infraID, im.edition = c.infraID, c.edition
			var iu *usageState
			if u != nil {
				iu = &usageState{value: immutableShare(u.value), absolute: immutableShare(u.absolute)}
			}
			out = append(out, usageJSON(t, im, iu, nil, start))
		}
	}
	return out
}

// immutableShare is the sandbox's immutable part of a storage figure: a
// tenth, in whole bytes, because the real API reports bytes as integers.
func immutableShare(v float64) float64 { return math.Floor(v / 10) }

func usageNames(r *http.Request) map[string]bool {
	v := r.URL.Query().Get("usage_names")
	if v == "" {
		return nil
	}
	m := map[string]bool{}
	for _, n := range strings.Split(v, ",") {
		m[strings.TrimSpace(n)] = true
	}
	return m
}

func (s *Sandbox) handleTenantUsages(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": s.usagesOf(t, usageNames(r))})
}

// handleBatchUsages answers GET /tenants/usages?tenants=a,b.
func (s *Sandbox) handleBatchUsages(w http.ResponseWriter, r *http.Request) {
	ids := strings.Split(r.URL.Query().Get("tenants"), ",")
	if len(ids) == 1 && ids[0] == "" {
		errBadRequest("tenants is required").write(w)
		return
	}
	names := usageNames(r)
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := []map[string]any{}
	for _, id := range ids {
		t, e := s.visible(strings.TrimSpace(id))
		if e != nil {
			e.write(w)
			return
		}
		items = append(items, map[string]any{"tenant": t.id, "usages": s.usagesOf(t, names)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
