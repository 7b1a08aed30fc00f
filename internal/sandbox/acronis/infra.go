package acronis

import (
	"net/http"
	"slices"
	"strings"
)

func (s *Sandbox) handleApplications(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": []map[string]any{
		{"id": CyberProtectionAppID, "name": "Cyber Protection", "type": "backup", "api_base_url": "/api/2", "usages": []string{"workstations", "servers", "vms", "storage"}},
		{"id": PlatformAppID, "name": "Platform", "type": "platform", "api_base_url": "/api/2", "usages": []string{}},
	}})
}

func knownApp(id string) bool { return id == CyberProtectionAppID || id == PlatformAppID }

func (s *Sandbox) handleTenantApplications(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": append([]string{}, t.apps...)})
}

// handleBind enables a service for a tenant; the parent must have it.
func (s *Sandbox) handleBind(w http.ResponseWriter, r *http.Request) {
	app := strings.ToLower(r.PathValue("app"))
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if !knownApp(app) {
		errNotFound("Application", app).write(w)
		return
	}
	if p := s.st.tenants[t.parentID]; t.id != PartnerID && p != nil && !slices.Contains(p.apps, app) {
		errBadRequest("Application \"" + app + "\" is not enabled for the parent tenant").write(w)
		return
	}
	if !slices.Contains(t.apps, app) {
		t.apps = append(t.apps, app)
		t.updatedAt = s.now()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) handleUnbind(w http.ResponseWriter, r *http.Request) {
	app := strings.ToLower(r.PathValue("app"))
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if i := slices.Index(t.apps, app); i >= 0 {
		t.apps = slices.Delete(t.apps, i, i+1)
		t.updatedAt = s.now()
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleTenantInfra lists the storages a tenant may use: the partner's two
// (default first), or for others the ones enabled on their parent.
func (s *Sandbox) handleTenantInfra(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	ids := []string{}
	for _, in := range infras {
		i := catIndex("pw_base_storage", in.id)
		if t.id == PartnerID || s.available(t, i) {
			ids = append(ids, in.id)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"infras": ids})
}

func (s *Sandbox) handleInfra(w http.ResponseWriter, r *http.Request) {
	items := []map[string]any{}
	for _, id := range strings.Split(r.URL.Query().Get("uuids"), ",") {
		in := infraByID(strings.ToLower(strings.TrimSpace(id)))
		if in == nil {
			continue
		}
		var owner any
		if in.owner != "" {
			owner = in.owner
		}
		items = append(items, map[string]any{
			"id": in.id, "name": in.name, "owner_tenant_id": owner, "location_id": in.location, "platform_owned": in.platformOwned,
			"url": in.url, "capabilities": in.capabilities, "content_url": in.url + "/content", "content_mobile_url": in.url + "/mobile",
			"backend_type": in.backend, "version": 1, "readonly": false,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
