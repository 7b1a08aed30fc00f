package acronis

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// validLogin applies Acronis' login rules: at least 3 characters of ASCII
// letters, digits and .@_-+:!#$%^*={}'`/?
func validLogin(l string) bool {
	if len(l) < 3 {
		return false
	}
	for _, r := range l {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(".@_-+:!#$%^*={}'`/?", r):
		default:
			return false
		}
	}
	return true
}

func (s *Sandbox) handleCheckLogin(w http.ResponseWriter, r *http.Request) {
	login := r.URL.Query().Get("username")
	if !validLogin(login) {
		apiError{status: http.StatusBadRequest, code: 1033, message: "Invalid login.", info: "Login \"" + login + "\" does not satisfy the login rules", domain: domainAccount}.write(w)
		return
	}
	s.mu.RLock()
	_, taken := s.st.logins[strings.ToLower(login)]
	s.mu.RUnlock()
	if taken {
		apiError{status: http.StatusConflict, code: http.StatusConflict, message: "Login is already taken.", info: "Login \"" + login + "\" is already taken", domain: domainAccount}.write(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) userJSON(u *user) map[string]any {
	notes := u.notifications
	if notes == nil {
		notes = []string{}
	}
	return map[string]any{
		"id": u.id, "version": u.version, "login": u.login, "tenant_id": u.tenantID, "personal_tenant_id": u.personalTenantID,
		"activated": u.activated, "enabled": u.enabled, "mfa_status": "disabled", "contact": u.contact.json(),
		"language": u.language, "external_id": strOrNil(u.externalID), "notifications": notes, "business_types": []string{},
		"created_at": ts(u.createdAt), "updated_at": ts(u.updatedAt),
	}
}

func (s *Sandbox) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		TenantID      string     `json:"tenant_id"`
		Login         string     `json:"login"`
		Contact       *contactIn `json:"contact"`
		Language      string     `json:"language"`
		Enabled       *bool      `json:"enabled"`
		ExternalID    *string    `json:"external_id"`
		Notifications []string   `json:"notifications"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Contact == nil || in.Contact.Email == nil || !strings.Contains(*in.Contact.Email, "@") {
		errBadRequest("contact.email is required").write(w)
		return
	}
	if !validLogin(in.Login) {
		apiError{status: http.StatusBadRequest, code: 1033, message: "Invalid login.", info: "Login \"" + in.Login + "\" does not satisfy the login rules", domain: domainAccount}.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.visible(in.TenantID)
	if e != nil {
		e.write(w)
		return
	}
	if e := s.inside(t); e != nil {
		e.write(w)
		return
	}
	if _, taken := s.st.logins[strings.ToLower(in.Login)]; taken {
		apiError{status: http.StatusConflict, code: http.StatusConflict, message: "Login is already taken.", info: "Login \"" + in.Login + "\" is already taken", domain: domainAccount}.write(w)
		return
	}
	now := s.now()
	u := &user{
		id: uuid.NewString(), login: in.Login, tenantID: t.id, version: 1, enabled: true, language: "en",
		externalID: in.ExternalID, notifications: in.Notifications, createdAt: now, updatedAt: now,
		contact: contact{ID: uuid.NewString(), CreatedAt: now},
	}
	if t.kind == "customer" {
		u.personalTenantID = uuid.NewString()
	}
	if in.Enabled != nil {
		u.enabled = *in.Enabled
	}
	if in.Language != "" {
		u.language = in.Language
	}
	if u.notifications == nil {
		u.notifications = []string{"quota", "reports", "backup_daily_report"}
	}
	in.Contact.apply(&u.contact, now)
	s.st.users[u.id] = u
	s.st.logins[strings.ToLower(u.login)] = u
	t.users = append(t.users, u.id)
	writeJSON(w, http.StatusOK, s.userJSON(u))
}

// liveUser finds a user the API client may manage. Callers hold s.mu.
func (s *Sandbox) liveUser(id string) (*user, *apiError) {
	u := s.st.users[strings.ToLower(id)]
	if u == nil || u.deleted {
		e := errNotFound("User", id)
		return nil, &e
	}
	t, e := s.visible(u.tenantID)
	if e != nil {
		return nil, e
	}
	if e := s.inside(t); e != nil {
		return nil, e
	}
	return u, nil
}

func (s *Sandbox) handleGetUser(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, e := s.liveUser(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, s.userJSON(u))
}

func (s *Sandbox) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.liveUser(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if !versionMatches(w, r, u.id, u.version) {
		return
	}
	u.deleted = true
	delete(s.st.logins, strings.ToLower(u.login))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) handleTenantUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if e := s.inside(t); e != nil {
		e.write(w)
		return
	}
	ids := []string{}
	for _, id := range t.users {
		if u := s.st.users[id]; u != nil && !u.deleted {
			ids = append(ids, id)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ids})
}

func policyJSON(p policy) map[string]any {
	m := map[string]any{
		"id": p.ID, "issuer_id": p.IssuerID, "role_id": p.RoleID, "tenant_id": p.TenantID, "trustee_id": p.TrusteeID,
		"trustee_type": p.TrusteeType, "version": p.Version, "created_at": ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt),
	}
	if p.ResourceNamespace != "" {
		m["resource_namespace"] = p.ResourceNamespace
	}
	return m
}

func (s *Sandbox) handleGetPolicies(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, e := s.liveUser(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	items := []map[string]any{}
	for _, p := range u.policies {
		items = append(items, policyJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

var validRoles = map[string]bool{
	"partner_admin": true, "company_admin": true, "unit_admin": true, "readonly_admin": true, "backup_admin": true,
	"backup_user": true, "sync_share_admin": true, "sync_share_user": true, "sync_share_guest": true,
	"monitoring_admin": true, "accounts_admin": true, "accounts_ro_admin": true, "protection_admin": true, "protection_ro_admin": true,
}

func (s *Sandbox) handlePutPolicies(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Items []policy `json:"items"`
	}
	var raw struct {
		Items []struct {
			ID                string `json:"id"`
			IssuerID          string `json:"issuer_id"`
			RoleID            string `json:"role_id"`
			TenantID          string `json:"tenant_id"`
			TrusteeID         string `json:"trustee_id"`
			TrusteeType       string `json:"trustee_type"`
			ResourceNamespace string `json:"resource_namespace"`
			Version           int64  `json:"version"`
		} `json:"items"`
	}
	if !decodeBody(w, r, &raw) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.liveUser(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	now := s.now()
	for _, p := range raw.Items {
		if !validRoles[p.RoleID] {
			errBadRequest("Unknown role_id \"" + p.RoleID + "\"").write(w)
			return
		}
		if p.TrusteeID != "" && !strings.EqualFold(p.TrusteeID, u.id) {
			errBadRequest("trustee_id must be the user \"" + u.id + "\"").write(w)
			return
		}
		if _, e := s.visible(p.TenantID); e != nil {
			e.write(w)
			return
		}
		in.Items = append(in.Items, policy{ID: uuid.NewString(), IssuerID: PartnerID, RoleID: p.RoleID, TenantID: strings.ToLower(p.TenantID),
			TrusteeID: u.id, TrusteeType: "user", ResourceNamespace: p.ResourceNamespace, Version: 1, CreatedAt: now, UpdatedAt: now})
	}
	u.policies = in.Items
	u.version++
	u.updatedAt = now
	items := []map[string]any{}
	for _, p := range u.policies {
		items = append(items, policyJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Sandbox) handleActivationEmail(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.liveUser(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if u.activated {
		errBadRequest("User \"" + u.id + "\" is already activated").write(w)
		return
	}
	u.activationEmails++
	w.WriteHeader(http.StatusNoContent)
}

// handleListUsers answers GET /api/2/users, the users sync listing: exactly
// one of tenant_id, subtree_root_tenant_id or uuids, plus updated_since,
// allow_deleted and cursor paging; the answer is {items, paging, timestamp}
// (Acronis' Go sample connector, accclient/user.go UserGetRequest and
// UserGetResponse). Users are served in id order so cursors are stable.
func (s *Sandbox) handleListUsers(w http.ResponseWriter, r *http.Request) {
	q, pos, limit, perr := pageQuery(r)
	if perr != nil {
		perr.write(w)
		return
	}
	tenantID, subtree := q.Get("tenant_id"), q.Get("subtree_root_tenant_id")
	var uuids map[string]bool
	if v := q.Get("uuids"); v != "" {
		uuids = map[string]bool{}
		for _, id := range strings.Split(v, ",") {
			uuids[strings.ToLower(strings.TrimSpace(id))] = true
		}
	}
	n := 0
	for _, set := range []bool{tenantID != "", subtree != "", uuids != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errBadRequest("exactly one of tenant_id, subtree_root_tenant_id and uuids is required").write(w)
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

	s.mu.RLock()
	defer s.mu.RUnlock()
	var match func(u *user) bool
	switch {
	case tenantID != "":
		t, e := s.visible(tenantID)
		if e == nil {
			e = s.inside(t)
		}
		if e != nil {
			e.write(w)
			return
		}
		match = func(u *user) bool { return u.tenantID == t.id }
	case subtree != "":
		t, e := s.visible(subtree)
		if e != nil {
			e.write(w)
			return
		}
		match = func(u *user) bool { ut := s.st.tenants[u.tenantID]; return ut != nil && s.st.inSubtree(ut, t.id) }
	default:
		match = func(u *user) bool { return uuids[u.id] }
	}
	var found []*user
	for _, u := range s.st.users {
		ut := s.st.tenants[u.tenantID]
		if ut == nil || !s.st.inSubtree(ut, PartnerID) || !match(u) || u.id <= pos || s.inside(ut) != nil {
			continue
		}
		if (u.deleted && !allowDeleted) || (!since.IsZero() && !u.updatedAt.After(since)) {
			continue
		}
		found = append(found, u)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].id < found[j].id })
	cursors := map[string]any{}
	if len(found) > limit {
		found = found[:limit]
		cursors["after"] = encodeCursor(q, found[limit-1].id)
	}
	items := make([]map[string]any, 0, len(found))
	for _, u := range found {
		items = append(items, s.userJSON(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "paging": map[string]any{"cursors": cursors}, "timestamp": ts(s.now())})
}
