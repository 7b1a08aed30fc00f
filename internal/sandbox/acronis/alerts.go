package acronis

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

var severityRank = map[string]int{"ok": 0, "information": 1, "warning": 2, "error": 3, "critical": 4}

// opFilter is a parsed "op(value,…)" Alert Manager filter.
type opFilter struct {
	op   string
	args []string
}

func parseOp(v string) (opFilter, bool) {
	v = strings.TrimSpace(v)
	i := strings.IndexByte(v, '(')
	if i < 0 || !strings.HasSuffix(v, ")") {
		return opFilter{op: "eq", args: []string{v}}, v != ""
	}
	op := v[:i]
	switch op {
	case "eq", "or", "lt", "gt", "le", "ge":
	default:
		return opFilter{}, false
	}
	args := strings.Split(v[i+1:len(v)-1], ",")
	return opFilter{op: op, args: args}, len(args) > 0 && args[0] != ""
}

func (f opFilter) cmp(n int64, parse func(string) (int64, bool)) bool {
	for _, a := range f.args {
		x, ok := parse(a)
		if !ok {
			return false
		}
		switch f.op {
		case "eq", "or":
			if n == x {
				return true
			}
		case "lt":
			return n < x
		case "gt":
			return n > x
		case "le":
			return n <= x
		case "ge":
			return n >= x
		}
	}
	return false
}

func parseInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

func parseSeverity(s string) (int64, bool) {
	r, ok := severityRank[strings.TrimSpace(s)]
	return int64(r), ok
}

// alertFilter is a compiled GET/DELETE /alerts query.
type alertFilter struct {
	ids, skip, types, categories, tenants map[string]bool
	severity, updated, created            *opFilter
	showDeleted, deletedOnly              bool
	desc                                  bool
	orderKey                              string
}

func set(vals []string) map[string]bool {
	if len(vals) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				m[strings.ToLower(p)] = true
			}
		}
	}
	return m
}

func compileAlertFilter(q url.Values) (alertFilter, *apiError) {
	bad := func(info string) (alertFilter, *apiError) {
		e := apiError{status: http.StatusBadRequest, code: http.StatusBadRequest, message: "Bad request", info: info, domain: domainAlerts}
		return alertFilter{}, &e
	}
	f := alertFilter{
		ids: set(q["id"]), skip: set(q["skip"]), types: set(append(q["type"], q["type[]"]...)),
		categories:  set(append(q["category"], q["category[]"]...)),
		showDeleted: q.Get("show_deleted") == "true", deletedOnly: q.Get("show_deleted_only") == "true",
		orderKey: "updated_at",
	}
	if v := q.Get("tenant"); v != "" {
		of, ok := parseOp(v)
		if !ok {
			return bad("tenant filter is invalid")
		}
		f.tenants = set(of.args)
	}
	for key, dst := range map[string]**opFilter{"severity": &f.severity, "updated_at": &f.updated, "created_at": &f.created} {
		if v := q.Get(key); v != "" {
			of, ok := parseOp(v)
			if !ok {
				return bad(key + " filter is invalid")
			}
			*dst = &of
		}
	}
	if o := q.Get("order"); o != "" {
		of, ok := parseOp(o)
		if !ok || (of.op != "eq" && !strings.HasPrefix(o, "asc(") && !strings.HasPrefix(o, "desc(")) {
			if !strings.HasPrefix(o, "asc(") && !strings.HasPrefix(o, "desc(") {
				return bad("order must be asc(<key>) or desc(<key>)")
			}
		}
		f.desc = strings.HasPrefix(o, "desc(")
		f.orderKey = strings.TrimSuffix(o[strings.IndexByte(o, '(')+1:], ")")
		if f.orderKey != "updated_at" && f.orderKey != "created_at" {
			return bad("the sandbox orders by created_at or updated_at only")
		}
	}
	return f, nil
}

func (f alertFilter) match(a *alert) bool {
	switch {
	case f.deletedOnly && !a.deleted, !f.deletedOnly && !f.showDeleted && a.deleted:
		return false
	case f.ids != nil && !f.ids[strings.ToLower(a.id)], f.skip[strings.ToLower(a.id)]:
		return false
	case f.types != nil && !f.types[strings.ToLower(a.typ)], f.categories != nil && !f.categories[strings.ToLower(a.category)]:
		return false
	case f.tenants != nil && !f.tenants[a.tenantID]:
		return false
	}
	if f.severity != nil && !f.severity.cmp(int64(severityRank[a.severity]), parseSeverity) {
		return false
	}
	if f.updated != nil && !f.updated.cmp(a.updatedAt.UnixNano(), parseInt) {
		return false
	}
	if f.created != nil && !f.created.cmp(a.createdAt.UnixNano(), parseInt) {
		return false
	}
	return true
}

func (f alertFilter) key(a *alert) int64 {
	if f.orderKey == "created_at" {
		return a.createdAt.UnixNano()
	}
	return a.updatedAt.UnixNano()
}

// alertPos is a cursor position: the sort key and id of the last alert served.
func alertPos(k int64, id string) string { return strconv.FormatInt(k, 10) + "/" + id }

func (f alertFilter) after(a *alert, pos string) bool {
	if pos == "" {
		return true
	}
	ks, id, _ := strings.Cut(pos, "/")
	k, _ := strconv.ParseInt(ks, 10, 64)
	ak := f.key(a)
	if f.desc {
		return ak < k || (ak == k && a.id < id)
	}
	return ak > k || (ak == k && a.id > id)
}

func (s *Sandbox) handleListAlerts(w http.ResponseWriter, r *http.Request) {
	q, pos, limit, perr := pageQuery(r)
	if perr != nil {
		perr.write(w)
		return
	}
	f, e := compileAlertFilter(q)
	if e != nil {
		e.write(w)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := s.visibleAlerts(f)
	items := []map[string]any{}
	more := false
	var last *alert
	for _, a := range all {
		if !f.after(a, pos) {
			continue
		}
		if len(items) == limit {
			more = true
			break
		}
		items = append(items, s.st.alertJSON(a))
		last = a
	}
	cursors := map[string]any{}
	if more {
		cursors["after"] = encodeCursor(q, alertPos(f.key(last), last.id))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "paging": map[string]any{"cursors": cursors}})
}

// visibleAlerts lists the alerts of the partner's subtree matching f, in
// order. Callers hold s.mu.
func (s *Sandbox) visibleAlerts(f alertFilter) []*alert {
	var out []*alert
	for _, a := range s.st.alerts {
		t := s.st.tenants[a.tenantID]
		if t == nil || !s.st.inSubtree(t, PartnerID) || !f.match(a) {
			continue
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		ki, kj := f.key(out[i]), f.key(out[j])
		if ki != kj {
			return (ki < kj) != f.desc
		}
		return (out[i].id < out[j].id) != f.desc
	})
	return out
}

func (s *Sandbox) findAlert(id string) (*alert, *apiError) {
	a := s.st.alerts[strings.ToUpper(id)]
	if a == nil {
		e := apiError{status: http.StatusNotFound, code: http.StatusNotFound, message: "Alert was not found.", info: "Alert \"" + id + "\" was not found", context: map[string]any{"id": id}, domain: domainAlerts}
		return nil, &e
	}
	return a, nil
}

func (s *Sandbox) handleGetAlert(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, e := s.findAlert(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, s.st.alertJSON(a))
}

// handleDismissAlert dismisses one alert; dismissing a dismissed alert is a no-op.
func (s *Sandbox) handleDismissAlert(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, e := s.findAlert(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	s.dismissLocked(a, s.now())
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) dismissLocked(a *alert, now time.Time) {
	if a.deleted {
		return
	}
	a.deleted, a.deletedAt = true, now
	a.updatedAt = later(a.updatedAt, now)
}

// later keeps updatedAt strictly increasing even when the clock stands still,
// so updated_at=gt(last) polling never misses a change.
func later(prev, now time.Time) time.Time {
	if now.After(prev) {
		return now
	}
	return prev.Add(time.Nanosecond)
}

func (s *Sandbox) handleAlertTypes(w http.ResponseWriter, _ *http.Request) {
	items := []map[string]any{}
	for _, t := range alertTypes {
		items = append(items, map[string]any{"id": t.id, "category": t.category, "severity": t.severity, "title": t.title})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
