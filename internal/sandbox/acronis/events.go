package acronis

import (
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Event Manager: the sandbox keeps the tenant topic only
// (cti.a.p.em.topic.v1.0~a.p.tenant.v1.0), recording tenant created, updated,
// enabled and disabled events made through the API.
const tenantEventPrefix = "cti.a.p.em.event.v1.0~a.p.tenant."

type event struct {
	id, typ, tenantID  string
	at                 time.Time
	sequence, previous int64
}

// recordEvent appends a tenant event. Callers hold s.mu for writing.
func (s *Sandbox) recordEvent(t *tenant, what string, now time.Time) {
	prev := s.st.lastSeq
	s.st.lastSeq++
	s.st.events = append(s.st.events, event{id: uuid.NewString(), typ: tenantEventPrefix + what + ".v1.0", tenantID: t.id,
		at: now, sequence: s.st.lastSeq, previous: prev})
}

// handleSubscribe accepts a subscription (POST /subscriptions) → 201.
func (s *Sandbox) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if !decodeBody(w, r, &in) {
		return
	}
	if id, _ := in["subscription_id"].(string); id == "" {
		errBadRequest("subscription_id is required").write(w)
		return
	}
	writeJSON(w, http.StatusCreated, in)
}

// handleEvents answers GET /events: the events after offset, or 202 with
// Retry-After when there are none (the sandbox does not hold the poll open).
func (s *Sandbox) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("subscription_id") == "" {
		errBadRequest("subscription_id is required").write(w)
		return
	}
	offset, err := strconv.ParseInt(q.Get("offset"), 10, 64)
	if q.Has("offset") && err != nil {
		errBadRequest("offset must be an integer").write(w)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []map[string]any{}
	last := offset
	for _, e := range s.st.events {
		if e.sequence <= offset {
			continue
		}
		out = append(out, map[string]any{
			"id": e.id, "ingest_time": tsNano(e.at.Add(40 * time.Millisecond)), "previous": e.previous, "sequence": e.sequence,
			"source": "account-server", "subject": e.tenantID, "tenant_id": e.tenantID, "time": tsNano(e.at), "type": e.typ,
		})
		last = e.sequence
		if len(out) == 100 {
			break
		}
	}
	if len(out) == 0 {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out, "offset": last})
}
