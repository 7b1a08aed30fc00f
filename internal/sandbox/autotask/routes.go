package autotask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

const apiPrefix = "/atservicesrest/"

// child maps /{Parent}/{parentId}/{Child} to an entity and its parent field.
type child struct {
	entity      string
	parentField string
	get, create bool
	update      bool
}

// children lists the child collections served (Swagger paths, §2.8 of the reference).
var children = map[string]child{
	"companies/contacts":                 {"Contacts", "companyID", true, true, true},
	"contracts/services":                 {"ContractServices", "contractID", true, true, true},
	"contracts/serviceunits":             {"ContractServiceUnits", "contractID", true, false, false},
	"contracts/serviceadjustments":       {"ContractServiceAdjustments", "contractID", false, true, false},
	"contracts/servicebundles":           {"ContractServiceBundles", "contractID", true, true, true},
	"contracts/servicebundleunits":       {"ContractServiceBundleUnits", "contractID", true, false, false},
	"contracts/servicebundleadjustments": {"ContractServiceBundleAdjustments", "contractID", false, true, false},
	"tickets/notes":                      {"TicketNotes", "ticketID", true, true, true},
	"servicebundles/services":            {"ServiceBundleServices", "serviceBundleID", true, true, false},
	"userdefinedfields/listitems":        {"UserDefinedFieldListItems", "udfFieldId", true, true, true},
}

// rootWrites lists the entities writable at their root path (Swagger).
var rootCreate = map[string]bool{"services": true, "tickets": true, "userdefinedfielddefinitions": true,
	"contractserviceadjustments": true, "contracts": true, "companies": true, "servicebundles": true}
var rootUpdate = map[string]bool{"services": true, "tickets": true, "userdefinedfielddefinitions": true,
	"contracts": true, "companies": true, "servicebundles": true}
var notQueryableEntity = map[string]bool{"contractserviceadjustments": true, "contractservicebundleadjustments": true}

func (s *Sandbox) serve(w http.ResponseWriter, r *http.Request) {
	lower := strings.ToLower(r.URL.Path)
	if !strings.HasPrefix(lower, apiPrefix) {
		writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
		return
	}
	rest := strings.Trim(r.URL.Path[len(apiPrefix):], "/")
	segs := strings.Split(rest, "/")
	if strings.EqualFold(rest, "versioninformation") && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"apiVersions": []string{"1.0"}})
		return
	}
	if len(segs) < 2 || !strings.EqualFold(segs[0], "v1.0") {
		writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
		return
	}
	segs = segs[1:]
	if len(segs) == 1 && strings.EqualFold(segs[0], "zoneinformation") && r.Method == http.MethodGet {
		s.zoneInformation(w, r)
		return
	}
	if !s.checkAuth(w, r) || !s.admit(w) {
		return
	}
	if !s.usageDelay(r) {
		return
	}
	s.route(w, r, segs)
}

func (s *Sandbox) route(w http.ResponseWriter, r *http.Request, segs []string) {
	lower := make([]string, len(segs))
	for i, p := range segs {
		lower[i] = strings.ToLower(p)
	}
	if len(lower) == 1 && lower[0] == "thresholdinformation" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]int{
			"externalRequestThreshold": s.opts.HourlyLimit, "requestThresholdTimeframe": 60, "currentTimeframeRequestCount": s.usage(),
		})
		return
	}
	// Child collections: Parent/{id}/Child[/...]
	if len(lower) >= 3 {
		if pid, err := strconv.ParseInt(lower[1], 10, 64); err == nil {
			if ch, ok := children[lower[0]+"/"+lower[2]]; ok {
				s.routeChild(w, r, ch, pid, lower[3:])
				return
			}
		}
	}
	t, ok := s.db.table(lower[0])
	if !ok {
		writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
		return
	}
	m := t.m
	switch {
	case len(lower) == 1:
		switch {
		case r.Method == http.MethodPost && rootCreate[lower[0]]:
			s.write(w, r, m, false, "", 0)
		case r.Method == http.MethodPatch && rootUpdate[lower[0]]:
			s.write(w, r, m, true, "", 0)
		default:
			methodNotAllowed(w, r)
		}
	case lower[1] == "query" && !notQueryableEntity[lower[0]]:
		switch {
		case len(lower) == 2 && (r.Method == http.MethodGet || r.Method == http.MethodPost):
			s.query(w, r, m, false, nil)
		case len(lower) == 3 && lower[2] == "count" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
			s.query(w, r, m, true, nil)
		case len(lower) == 3 && lower[2] == "next":
			s.next(w, r, m)
		default:
			methodNotAllowed(w, r)
		}
	case lower[1] == "entityinformation" && r.Method == http.MethodGet:
		switch {
		case len(lower) == 2:
			s.entityInfo(w, m)
		case len(lower) == 3 && lower[2] == "fields":
			s.fieldsInfo(w, m)
		case len(lower) == 3 && lower[2] == "userdefinedfields":
			s.udfInfo(w, m)
		default:
			writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
		}
	case len(lower) == 2 && !notQueryableEntity[lower[0]]:
		id, err := strconv.ParseInt(lower[1], 10, 64)
		if err != nil {
			writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
			return
		}
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r)
			return
		}
		s.getByID(w, m, id, "", 0)
	default:
		writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
	}
}

func (s *Sandbox) routeChild(w http.ResponseWriter, r *http.Request, ch child, pid int64, rest []string) {
	t := s.db.mustTable(ch.entity)
	m := t.m
	switch {
	case len(rest) == 0:
		switch {
		case r.Method == http.MethodGet && ch.get:
			s.query(w, r, m, false, &parentScope{field: ch.parentField, id: pid})
		case r.Method == http.MethodPost && ch.create:
			s.write(w, r, m, false, ch.parentField, pid)
		case r.Method == http.MethodPatch && ch.update:
			s.write(w, r, m, true, ch.parentField, pid)
		default:
			methodNotAllowed(w, r)
		}
	case len(rest) == 1 && rest[0] != "entityinformation" && r.Method == http.MethodGet && ch.get:
		id, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil {
			writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
			return
		}
		s.getByID(w, m, id, ch.parentField, pid)
	case rest[0] == "entityinformation" && r.Method == http.MethodGet:
		switch {
		case len(rest) == 1:
			s.entityInfo(w, m)
		case len(rest) == 2 && rest[1] == "fields":
			s.fieldsInfo(w, m)
		case len(rest) == 2 && rest[1] == "userdefinedfields":
			s.udfInfo(w, m)
		default:
			writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
		}
	default:
		writeErrors(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
	}
}

func (s *Sandbox) zoneInformation(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if !strings.EqualFold(user, s.opts.Username) && !strings.EqualFold(user, RegularUsername) {
		writeErrors(w, http.StatusInternalServerError, "Zone information could not be determined")
		return
	}
	base := origin(r)
	writeJSON(w, http.StatusOK, map[string]any{
		// Real zones answer with the lower-case path, e.g.
		// "https://webservices3.autotask.net/atservicesrest/" (reference §1.2).
		"zoneName": "Sandbox", "url": base + "/atservicesrest/", "webUrl": base + "/", "ci": 1,
	})
}

// origin is the sandbox's own scheme and host as the client reached it.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Sandbox) getByID(w http.ResponseWriter, m *model, id int64, parentField string, pid int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.db.mustTable(m.name)
	rec := t.byID[id]
	if rec != nil && parentField != "" && asInt(rec.get(m.mustIndex(parentField))) != pid {
		rec = nil
	}
	var buf bytes.Buffer
	buf.WriteString(`{"item":`)
	if rec == nil {
		buf.WriteString("null")
	} else {
		m.encode(&buf, rec, s.udfs[strings.ToLower(m.name)], nil)
	}
	buf.WriteByte('}')
	writeRaw(w, http.StatusOK, buf.Bytes())
}

// parentScope limits a child collection listing to one parent.
type parentScope struct {
	field string
	id    int64
}

// pageToken is the opaque paging= value of nextPageUrl/prevPageUrl.
type pageToken struct {
	After   int64   `json:"a"`
	History []int64 `json:"h,omitempty"`
	Method  string  `json:"m"`
	Search  string  `json:"s,omitempty"`
}

func (p pageToken) encode() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (pageToken, error) {
	var p pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return p, err
	}
	err = json.Unmarshal(b, &p)
	return p, err
}

func (s *Sandbox) next(w http.ResponseWriter, r *http.Request, m *model) {
	tok, err := decodeToken(r.URL.Query().Get("paging"))
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, "Invalid paging token.")
		return
	}
	if r.Method == http.MethodGet && tok.Method == http.MethodPost {
		// A page of a POST query must be fetched with POST and the same body.
		methodNotAllowed(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, r)
		return
	}
	s.runQuery(w, r, m, false, nil, &tok)
}

func (s *Sandbox) query(w http.ResponseWriter, r *http.Request, m *model, count bool, scope *parentScope) {
	s.runQuery(w, r, m, count, scope, nil)
}

func (s *Sandbox) runQuery(w http.ResponseWriter, r *http.Request, m *model, count bool, scope *parentScope, tok *pageToken) {
	var q queryBody
	search := ""
	switch {
	case scope != nil:
		q.Filter = []filterBody{{Op: "gte", Field: "id", Value: json.RawMessage("0")}}
	case r.Method == http.MethodGet:
		search = r.URL.Query().Get("search")
		if tok != nil {
			search = tok.Search
		}
		if err := decodeQuery([]byte(search), &q); err != nil {
			writeErrors(w, http.StatusInternalServerError, err.Error())
			return
		}
	default:
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			writeErrors(w, http.StatusInternalServerError, "Could not read the request body.")
			return
		}
		if err := decodeQuery(body, &q); err != nil {
			writeErrors(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	max := 500
	if q.MaxRecords != nil {
		max = *q.MaxRecords
		if max < 1 || max > 500 {
			writeErrors(w, http.StatusInternalServerError, "maxCountOfRecordsToReturn must be between 1 and 500")
			return
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	pred, err := s.compile(m, q.Filter)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	if scope != nil {
		pi := m.mustIndex(scope.field)
		inner := pred
		pred = func(rec *record) bool { return asInt(rec.get(pi)) == scope.id && inner(rec) }
	}
	t := s.db.mustTable(m.name)
	if count {
		n := 0
		for _, id := range t.ids {
			if pred(t.byID[id]) {
				n++
			}
		}
		writeJSON(w, http.StatusOK, map[string]int{"queryCount": n})
		return
	}
	var after int64 = -1 << 62
	var history []int64
	if tok != nil {
		after, history = tok.After, tok.History
	}
	var include map[string]bool
	if len(q.IncludeFields) > 0 {
		include = map[string]bool{"id": true}
		for _, f := range q.IncludeFields {
			include[strings.ToLower(f)] = true
		}
	}
	udfs := s.udfs[strings.ToLower(m.name)]
	var buf bytes.Buffer
	buf.WriteString(`{"items":[`)
	n, more := 0, false
	var last int64
	start := searchAfter(t.ids, after)
	for _, id := range t.ids[start:] {
		rec := t.byID[id]
		if !pred(rec) {
			continue
		}
		if n == max {
			more = true
			break
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		m.encode(&buf, rec, udfs, include)
		last = id
		n++
	}
	buf.WriteString(`],"pageDetails":{"count":`)
	buf.WriteString(strconv.Itoa(n))
	buf.WriteString(`,"requestCount":`)
	buf.WriteString(strconv.Itoa(max))
	method := r.Method
	if tok != nil {
		method = tok.Method
	}
	base := origin(r) + "/ATServicesRest/V1.0/" + m.name + "/query/next?paging="
	buf.WriteString(`,"prevPageUrl":`)
	if tok != nil && scope == nil {
		prev := pageToken{Method: method, Search: search}
		if len(history) > 0 {
			prev.After, prev.History = history[len(history)-1], history[:len(history)-1]
		} else {
			prev.After = -1 << 62
		}
		encodeValue(&buf, base+prev.encode())
	} else {
		buf.WriteString("null")
	}
	buf.WriteString(`,"nextPageUrl":`)
	if more && scope == nil {
		nt := pageToken{After: last, History: append(append([]int64(nil), history...), after), Method: method, Search: search}
		encodeValue(&buf, base+nt.encode())
	} else {
		buf.WriteString("null")
	}
	buf.WriteString("}}")
	writeRaw(w, http.StatusOK, buf.Bytes())
}

func searchAfter(ids []int64, after int64) int {
	lo, hi := 0, len(ids)
	for lo < hi {
		mid := (lo + hi) / 2
		if ids[mid] <= after {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func decodeQuery(body []byte, q *queryBody) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("The query is missing.")
	}
	if err := json.Unmarshal(body, q); err != nil {
		return errors.New("The query could not be parsed: " + err.Error())
	}
	return nil
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return -1 << 62
}

// methodNotAllowed answers a known path called with another method in
// Autotask's error envelope {"errors": [...]} (reference §3, sample
// error-response.json), so clients that decode every failure the same way
// (go-autotask, django-autotask) read it as they read the others.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeErrors(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeErrors answers with Autotask's error envelope {"errors": [...]}.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, map[string][]string{"errors": msgs})
}
