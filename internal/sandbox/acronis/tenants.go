package acronis

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

func (s *Sandbox) handleGetTenant(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, s.st.tenantJSON(t))
}

// visible finds a live tenant the API client may see (its own subtree).
// Callers hold s.mu.
func (s *Sandbox) visible(id string) (*tenant, *apiError) {
	t := s.st.live(id)
	if t == nil {
		e := errTenantNotFound(id)
		return nil, &e
	}
	if !s.st.inSubtree(t, PartnerID) {
		e := errAccessDenied(id, "The API client has no access to tenant \""+id+"\"")
		return nil, &e
	}
	return t, nil
}

// inside checks that the partner may act inside a tenant (users, roles):
// refused for self-service tenants and tenants with support access disabled.
func (s *Sandbox) inside(t *tenant) *apiError {
	for p := t; p != nil && p.id != PartnerID; p = s.st.tenants[p.parentID] {
		if !p.ancestralAccess {
			e := errAccessDenied(t.id, "Tenant \""+p.name+"\" is in self-service mode: access of ancestors is disabled")
			return &e
		}
		if !p.supportAccess {
			e := errAccessDenied(t.id, "Tenant \""+p.name+"\" has disabled support access")
			return &e
		}
	}
	return nil
}

func (s *Sandbox) handleListTenants(w http.ResponseWriter, r *http.Request) {
	q, pos, limit, perr := pageQuery(r)
	if perr != nil {
		perr.write(w)
		return
	}
	var uuids []string
	if v := q.Get("uuids"); v != "" {
		uuids = strings.Split(v, ",")
	}
	parent, subtree := q.Get("parent_id"), q.Get("subtree_root_id")
	n := 0
	for _, set := range []bool{len(uuids) > 0, parent != "", subtree != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		errBadRequest("uuids, parent_id and subtree_root_id are mutually exclusive").write(w)
		return
	}
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errBadRequest("updated_since must be an RFC 3339 timestamp").write(w)
			return
		}
		since = t
	}
	allowDeleted := q.Get("allow_deleted") == "true"
	after, _ := strconv.ParseInt(pos, 10, 64)

	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	var candidates []*tenant
	switch {
	case len(uuids) > 0:
		for _, id := range uuids {
			if t := s.st.tenants[strings.ToLower(strings.TrimSpace(id))]; t != nil {
				candidates = append(candidates, t)
			}
		}
	case parent != "":
		if _, e := s.visible(parent); e != nil {
			e.write(w)
			return
		}
		candidates = s.st.children[strings.ToLower(parent)]
	default:
		root := PartnerID
		if subtree != "" {
			t, e := s.visible(subtree)
			if e != nil {
				e.write(w)
				return
			}
			root = t.id
		}
		for _, t := range s.st.order {
			if s.st.inSubtree(t, root) {
				candidates = append(candidates, t)
			}
		}
	}
	items := make([]map[string]any, 0, min(limit, len(candidates)))
	var last int64
	more := false
	for _, t := range sortedByV1(candidates) {
		if t.v1 <= after || (t.deleted() && !allowDeleted) || !s.st.inSubtree(t, PartnerID) {
			continue
		}
		if !since.IsZero() && !t.updatedAt.After(since) {
			continue
		}
		if len(items) == limit {
			more = true
			break
		}
		items = append(items, s.st.tenantJSON(t))
		last = t.v1
	}
	cursors := map[string]any{}
	if more {
		cursors["after"] = encodeCursor(q, strconv.FormatInt(last, 10))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "paging": map[string]any{"cursors": cursors}, "timestamp": ts(now)})
}

// sortedByV1 returns tenants in creation order without touching the input.
func sortedByV1(in []*tenant) []*tenant {
	out := append([]*tenant(nil), in...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].v1 < out[j-1].v1; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (s *Sandbox) handleChildren(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if e := s.inside(t); e != nil && t.kind != "customer" {
		// Self-service partners hide their children from ancestors.
		e.write(w)
		return
	}
	ids := []string{}
	for _, c := range s.st.liveChildren(t.id) {
		ids = append(ids, c.id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ids})
}

// contactIn is a contact in a request body.
type contactIn struct {
	Email            *string  `json:"email"`
	Firstname        *string  `json:"firstname"`
	Lastname         *string  `json:"lastname"`
	Phone            *string  `json:"phone"`
	Address1         *string  `json:"address1"`
	Address2         *string  `json:"address2"`
	City             *string  `json:"city"`
	State            *string  `json:"state"`
	Zipcode          *string  `json:"zipcode"`
	Country          *string  `json:"country"`
	Title            *string  `json:"title"`
	Website          *string  `json:"website"`
	Industry         *string  `json:"industry"`
	OrganizationSize *string  `json:"organization_size"`
	Types            []string `json:"types"`
}

func (in *contactIn) apply(c *contact, now time.Time) {
	if in == nil {
		return
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Email, in.Email)
	set(&c.Firstname, in.Firstname)
	set(&c.Lastname, in.Lastname)
	set(&c.Phone, in.Phone)
	set(&c.Address1, in.Address1)
	set(&c.Address2, in.Address2)
	set(&c.City, in.City)
	set(&c.State, in.State)
	set(&c.Zip, in.Zipcode)
	set(&c.Country, in.Country)
	set(&c.OrganizationSize, in.OrganizationSize)
	if in.Title != nil {
		c.Title = in.Title
	}
	if in.Website != nil {
		c.Website = in.Website
	}
	if in.Industry != nil {
		c.Industry = in.Industry
	}
	if in.Types != nil {
		c.Types = in.Types
	}
	c.UpdatedAt = now
}

type lockIn struct {
	Enabled bool    `json:"enabled"`
	OwnerID *string `json:"owner_id"`
}

type tenantIn struct {
	Name            *string    `json:"name"`
	Kind            *string    `json:"kind"`
	ParentID        *string    `json:"parent_id"`
	CustomerID      *string    `json:"customer_id"`
	InternalTag     *string    `json:"internal_tag"`
	Language        *string    `json:"language"`
	Contact         *contactIn `json:"contact"`
	Enabled         *bool      `json:"enabled"`
	AncestralAccess *bool      `json:"ancestral_access"`
	UpdateLock      *lockIn    `json:"update_lock"`
	Version         *int64     `json:"version"`
}

var validKinds = map[string]bool{"partner": true, "folder": true, "customer": true, "unit": true}

func (s *Sandbox) handleCreateTenant(w http.ResponseWriter, r *http.Request) {
	var in tenantIn
	if !decodeBody(w, r, &in) {
		return
	}
	var missing []string
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		missing = append(missing, "name")
	}
	if in.Kind == nil || !validKinds[*in.Kind] {
		missing = append(missing, "kind")
	}
	if in.ParentID == nil || *in.ParentID == "" {
		missing = append(missing, "parent_id")
	}
	if len(missing) > 0 {
		errBadRequest("Missing or invalid fields: " + strings.Join(missing, ", ")).write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, e := s.visible(*in.ParentID)
	if e != nil {
		if e.status == http.StatusNotFound {
			errBadRequest("Parent tenant \"" + *in.ParentID + "\" does not exist").write(w)
			return
		}
		e.write(w)
		return
	}
	if !parent.enabled {
		apiError{status: http.StatusBadRequest, code: 1003, message: "Parent tenant is disabled.", info: "Parent tenant \"" + parent.id + "\" is disabled", domain: domainAccount}.write(w)
		return
	}
	if !childKindAllowed(parent.kind, *in.Kind) {
		errBadRequest("A " + parent.kind + " tenant cannot have a " + *in.Kind + " child").write(w)
		return
	}
	for _, c := range s.st.liveChildren(parent.id) {
		if strings.EqualFold(c.name, *in.Name) {
			apiError{status: http.StatusConflict, code: 1004, message: "Tenant name conflict.", info: "A tenant named \"" + *in.Name + "\" already exists", context: map[string]any{"id": c.id}, domain: domainAccount}.write(w)
			return
		}
	}
	now := s.now()
	t := s.newTenant(uuid.NewString(), strings.TrimSpace(*in.Name), *in.Kind, parent.id, now)
	if in.CustomerID != nil {
		t.customerID = in.CustomerID
	}
	t.internalTag = in.InternalTag
	if in.Language != nil {
		t.language = *in.Language
	}
	in.Contact.apply(&t.contact, now)
	if in.Enabled != nil {
		t.enabled = *in.Enabled
	}
	if in.AncestralAccess != nil {
		t.ancestralAccess = *in.AncestralAccess
	}
	if in.UpdateLock != nil {
		t.lockEnabled, t.lockOwner = in.UpdateLock.Enabled, in.UpdateLock.OwnerID
	}
	s.st.addTenant(t)
	s.recordEvent(t, "created", now)
	parent.updatedAt = now
	writeJSON(w, http.StatusCreated, s.st.tenantJSON(t))
}

func childKindAllowed(parent, child string) bool {
	switch parent {
	case "partner", "folder":
		return child != "unit"
	case "customer", "unit":
		return child == "unit"
	}
	return false
}

// newTenant makes a tenant with Acronis' defaults: enabled, managed by the
// service provider, trial for customers, version 1.
func (s *Sandbox) newTenant(id, name, kind, parent string, now time.Time) *tenant {
	mode := "production"
	if kind == "customer" {
		mode = "trial"
	}
	return &tenant{
		id: id, name: name, kind: kind, parentID: parent, version: 1, enabled: true, language: "en",
		contact:         contact{ID: uuid.NewString(), CreatedAt: now, UpdatedAt: now},
		ancestralAccess: true, supportAccess: true, pricingMode: mode, pricingVersion: now.UnixMilli(),
		productionStart: time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC),
		createdAt:       now, updatedAt: now, items: map[int]*itemState{},
	}
}

func (s *Sandbox) handleUpdateTenant(w http.ResponseWriter, r *http.Request) {
	var in tenantIn
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
	if in.Version == nil {
		errBadRequest("version is required").write(w)
		return
	}
	if *in.Version != t.version {
		errVersion(t.id, t.version, *in.Version).write(w)
		return
	}
	if t.lockEnabled && t.lockOwner != nil && *t.lockOwner != PartnerID {
		apiError{status: http.StatusForbidden, code: 1012, message: "Tenant is locked.", info: "Tenant \"" + t.id + "\" is locked by another tenant", context: map[string]any{"id": t.id}, domain: domainAccount}.write(w)
		return
	}
	if in.Kind != nil && *in.Kind != t.kind {
		okSwitch := (t.kind == "partner" && *in.Kind == "folder") || (t.kind == "folder" && *in.Kind == "partner")
		if !okSwitch {
			errBadRequest("Kind can only change between partner and folder").write(w)
			return
		}
		t.kind = *in.Kind
	}
	if in.ParentID != nil && *in.ParentID != t.parentID {
		errBadRequest("Moving tenants is not supported by the sandbox").write(w)
		return
	}
	now := s.now()
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" {
			errBadRequest("name must not be empty").write(w)
			return
		}
		for _, c := range s.st.liveChildren(t.parentID) {
			if c != t && strings.EqualFold(c.name, name) {
				apiError{status: http.StatusConflict, code: 1004, message: "Tenant name conflict.", info: "A tenant named \"" + name + "\" already exists", context: map[string]any{"id": c.id}, domain: domainAccount}.write(w)
				return
			}
		}
		s.st.rename(t, name)
	}
	if in.CustomerID != nil {
		t.customerID = in.CustomerID
	}
	if in.InternalTag != nil {
		t.internalTag = in.InternalTag
	}
	if in.Language != nil {
		t.language = *in.Language
	}
	in.Contact.apply(&t.contact, now)
	what := "updated"
	if in.Enabled != nil && *in.Enabled != t.enabled {
		t.enabled = *in.Enabled
		what = map[bool]string{true: "enabled", false: "disabled"}[t.enabled]
	}
	if in.AncestralAccess != nil {
		t.ancestralAccess = *in.AncestralAccess
	}
	if in.UpdateLock != nil {
		t.lockEnabled, t.lockOwner = in.UpdateLock.Enabled, in.UpdateLock.OwnerID
	}
	t.version++
	t.updatedAt = now
	s.recordEvent(t, what, now)
	writeJSON(w, http.StatusOK, s.st.tenantJSON(t))
}

func (s *Sandbox) handleDeleteTenant(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if t.id == PartnerID {
		errAccessDenied(t.id, "The API client cannot delete its own tenant").write(w)
		return
	}
	v, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	if err != nil {
		errBadRequest("version is required").write(w)
		return
	}
	if t.enabled {
		errDeleteEnabled(strconv.FormatInt(t.v1, 10)).write(w)
		return
	}
	if v != t.version {
		errVersion(t.id, t.version, v).write(w)
		return
	}
	s.deleteSubtree(t, s.now())
	w.WriteHeader(http.StatusNoContent)
}

// deleteSubtree marks t, its children and their users deleted. Callers hold s.mu.
func (s *Sandbox) deleteSubtree(t *tenant, now time.Time) {
	for _, c := range s.st.liveChildren(t.id) {
		s.deleteSubtree(c, now)
	}
	for _, uid := range t.users {
		if u := s.st.users[uid]; u != nil && !u.deleted {
			u.deleted = true
			delete(s.st.logins, strings.ToLower(u.login))
		}
	}
	t.deletedAt, t.updatedAt, t.enabled = now, now, false
	t.version++
	if s.st.byName[strings.ToLower(t.name)] == t {
		delete(s.st.byName, strings.ToLower(t.name))
	}
}

func (s *Sandbox) handleGetPricing(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, pricingJSON(t))
}

func pricingJSON(t *tenant) map[string]any {
	return map[string]any{"currency": nil, "mode": t.pricingMode, "production_start_date": t.productionStart.UTC().Format("2006-01-02T15:04:05"), "version": t.pricingVersion}
}

func (s *Sandbox) handlePutPricing(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Mode    string `json:"mode"`
		Version *int64 `json:"version"`
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
	if in.Mode != "trial" && in.Mode != "production" {
		errBadRequest("mode must be trial or production").write(w)
		return
	}
	if in.Version == nil || *in.Version != t.pricingVersion {
		got := int64(-1)
		if in.Version != nil {
			got = *in.Version
		}
		errVersion(t.id, t.pricingVersion, got).write(w)
		return
	}
	if t.pricingMode == "production" && in.Mode == "trial" {
		apiError{status: http.StatusBadRequest, code: 1027, message: "Business rules violation.", info: "A tenant in production mode cannot return to trial", context: map[string]any{"id": t.id}, domain: domainAccount}.write(w)
		return
	}
	now := s.now()
	if in.Mode != t.pricingMode {
		t.pricingMode = in.Mode
		t.productionStart = now
		t.pricingVersion = max(now.UnixMilli(), t.pricingVersion+1)
		t.updatedAt = now
	}
	writeJSON(w, http.StatusOK, pricingJSON(t))
}

func (s *Sandbox) mfaJSON(t *tenant) map[string]any {
	status := "disabled"
	if t.mfa {
		status = "enabled"
	}
	n := 0
	for _, id := range t.users {
		if u := s.st.users[id]; u != nil && !u.deleted {
			n++
		}
	}
	return map[string]any{"mfa_status": status, "users_count": n, "users_with_totp_enabled_count": 0, "update_allowed": true}
}

func (s *Sandbox) handleGetMFA(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, s.mfaJSON(t))
}

func (s *Sandbox) handlePutMFA(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Enabled == nil {
		errBadRequest("enabled is required").write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if t.mfa != *in.Enabled {
		t.mfa = *in.Enabled
		t.updatedAt = s.now()
	}
	writeJSON(w, http.StatusOK, s.mfaJSON(t))
}
