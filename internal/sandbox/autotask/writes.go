package autotask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// writeError is a refused write: Autotask answers HTTP 500 with an errors array.
type writeError struct{ msgs []string }

func (e *writeError) Error() string { return strings.Join(e.msgs, "; ") }

func werr(format string, a ...any) error { return &writeError{[]string{fmt.Sprintf(format, a...)}} }

// write handles POST (create) and PATCH (sparse update) at a root or child path.
func (s *Sandbox) write(w http.ResponseWriter, r *http.Request, m *model, update bool, parentField string, pid int64) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, "Could not read the request body.")
		return
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		writeErrors(w, http.StatusInternalServerError, "The request body is not a JSON object.")
		return
	}
	s.mu.Lock()
	var id int64
	if update {
		id, err = s.updateLocked(m, raw, parentField, pid)
	} else {
		id, err = s.createLocked(m, raw, parentField, pid)
	}
	s.mu.Unlock()
	if err != nil {
		if we, ok := err.(*writeError); ok {
			writeErrors(w, http.StatusInternalServerError, we.msgs...)
		} else {
			writeErrors(w, http.StatusInternalServerError, err.Error())
		}
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"itemId": id})
}

// applyFields copies body fields (case-insensitive names) into rec, skipping
// read-only ones, and returns the UDF values it carried.
func (s *Sandbox) applyFields(m *model, rec *record, raw map[string]json.RawMessage) (udfs json.RawMessage, err error) {
	var errs []string
	for name, v := range raw {
		i, ok := m.fieldIndex(name)
		if !ok {
			continue // unknown properties are ignored
		}
		f := m.fields[i]
		if f.kind == kindUDFs {
			udfs = v
			continue
		}
		if readOnly[strings.ToLower(f.name)] {
			continue
		}
		val, err := decodeValue(f, v)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		rec.set(i, val)
	}
	if len(errs) > 0 {
		return nil, &writeError{errs}
	}
	return udfs, nil
}

// applyUDFs merges [{name, value}] into rec; only defined UDFs are accepted
// and list UDFs store the option's display text.
func (s *Sandbox) applyUDFs(m *model, rec *record, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var list []struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return werr("userDefinedFields must be an array of {name, value}.")
	}
	vals, _ := rec.get(m.udfIdx).(map[string]string)
	if vals == nil {
		vals = map[string]string{}
	}
	for _, u := range list {
		if !s.hasUDF(m.name, u.Name) {
			return werr("The user-defined field %s does not exist for the %s entity.", u.Name, m.singular)
		}
		key := strings.ToLower(u.Name)
		v := bytes.TrimSpace(u.Value)
		if len(v) == 0 || bytes.Equal(v, []byte("null")) {
			delete(vals, key)
			continue
		}
		var str string
		if json.Unmarshal(v, &str) != nil {
			str = string(v) // numbers and booleans are stored as their text
		}
		if def := s.udfDefByName(m.name, u.Name); def != nil {
			if norm, ok := s.listValue(def, str); ok {
				str = norm
			} else if norm == "" && s.isListUDF(def) {
				return werr("%s is not an option of the user-defined field %s.", str, u.Name)
			}
		}
		vals[key] = str
	}
	if len(vals) == 0 {
		rec.set(m.udfIdx, nil)
	} else {
		rec.set(m.udfIdx, vals)
	}
	return nil
}

func (s *Sandbox) createLocked(m *model, raw map[string]json.RawMessage, parentField string, pid int64) (int64, error) {
	rec := &record{}
	udfs, err := s.applyFields(m, rec, raw)
	if err != nil {
		return 0, err
	}
	if parentField != "" {
		rec.set(m.mustIndex(parentField), pid)
	}
	if err := s.checkRequired(m, rec); err != nil {
		return 0, err
	}
	if m.udfIdx >= 0 {
		if err := s.applyUDFs(m, rec, udfs); err != nil {
			return 0, err
		}
	}
	if err := s.beforeCreate(m, rec); err != nil {
		return 0, err
	}
	t := s.db.mustTable(m.name)
	id := t.insert(rec)
	s.afterCreate(m, rec)
	return id, nil
}

func (s *Sandbox) updateLocked(m *model, raw map[string]json.RawMessage, parentField string, pid int64) (int64, error) {
	var id int64
	for k, v := range raw {
		if strings.EqualFold(k, "id") {
			if err := json.Unmarshal(v, &id); err != nil {
				return 0, werr("id must be an integer.")
			}
		}
	}
	if id == 0 {
		return 0, werr("The id of the %s to update is required.", m.singular)
	}
	t := s.db.mustTable(m.name)
	old := t.byID[id]
	if old == nil || (parentField != "" && asInt(old.get(m.mustIndex(parentField))) != pid) {
		return 0, werr("No matching records found. The %s with id %d does not exist.", m.singular, id)
	}
	rec := old.clone()
	udfs, err := s.applyFields(m, rec, raw)
	if err != nil {
		return 0, err
	}
	if parentField != "" {
		rec.set(m.mustIndex(parentField), pid)
	}
	if m.udfIdx >= 0 {
		if err := s.applyUDFs(m, rec, udfs); err != nil {
			return 0, err
		}
	}
	if err := s.beforeUpdate(m, old, rec); err != nil {
		return 0, err
	}
	t.byID[id] = rec
	s.afterUpdate(m, old, rec)
	return id, nil
}

func (s *Sandbox) checkRequired(m *model, rec *record) error {
	var msgs []string
	for _, f := range required[strings.ToLower(m.name)] {
		v := rec.get(m.mustIndex(f))
		if v == nil || v == "" {
			msgs = append(msgs, fmt.Sprintf("Missing Required Field: %s.", f))
		}
	}
	if len(msgs) > 0 {
		return &writeError{msgs}
	}
	return nil
}

// get/set helpers by field name.
func (s *Sandbox) val(m *model, rec *record, name string) any    { return rec.get(m.mustIndex(name)) }
func (s *Sandbox) put(m *model, rec *record, name string, v any) { rec.set(m.mustIndex(name), v) }
func (s *Sandbox) intOf(m *model, rec *record, name string) int64 {
	v := rec.get(m.mustIndex(name))
	if v == nil {
		return 0
	}
	return asInt(v)
}

func (s *Sandbox) record(entity string, id int64) *record { return s.db.mustTable(entity).byID[id] }

// checkPicklists refuses values that are not options of their picklist.
func (s *Sandbox) checkPicklists(m *model, rec *record) error {
	for _, f := range m.fields {
		if f.kind != kindInt {
			continue
		}
		v := rec.get(m.mustIndex(f.name))
		if v == nil {
			continue
		}
		if !s.picks.has(m.name, f.name, asInt(v)) {
			return werr("Value does not reference an existing entity for %s . ", f.name)
		}
	}
	return nil
}

func (s *Sandbox) beforeCreate(m *model, rec *record) error {
	now := s.now()
	switch strings.ToLower(m.name) {
	case "tickets":
		if err := s.checkTicket(m, rec); err != nil {
			return err
		}
		s.put(m, rec, "createDate", now)
		s.put(m, rec, "lastActivityDate", now)
		s.put(m, rec, "lastTrackedModificationDateTime", now)
		s.put(m, rec, "creatorType", int64(1))
		t := s.db.mustTable(m.name)
		s.put(m, rec, "ticketNumber", fmt.Sprintf("T%s.%04d", now.Format("20060102"), t.nextID%10000))
		if s.intOf(m, rec, "status") == 5 {
			s.put(m, rec, "completedDate", now)
		}
	case "ticketnotes":
		tk := s.record("Tickets", s.intOf(m, rec, "ticketID"))
		if tk == nil {
			return werr("Value does not reference an existing entity for ticketID . ")
		}
		if err := s.checkPicklists(m, rec); err != nil {
			return err
		}
		if d, _ := s.val(m, rec, "description").(string); len(d) > 32000 {
			return werr("description exceeds the maximum length of 32000.")
		}
		s.put(m, rec, "createDateTime", now)
		s.put(m, rec, "lastActivityDate", now)
		tm := s.db.mustTable("Tickets").m
		s.put(tm, tk, "lastActivityDate", now)
	case "services", "servicebundles":
		bc := s.record("BillingCodes", s.intOf(m, rec, "billingCodeID"))
		bm := s.db.mustTable("BillingCodes").m
		if bc == nil {
			return werr("Value does not reference an existing entity for billingCodeID . ")
		}
		if active, _ := s.val(bm, bc, "isActive").(bool); !active || s.intOf(bm, bc, "billingCodeType") != s.picks.code("BillingCodes", "billingCodeType", "Recurring Contract Service") {
			return werr("An active Recurring Contract Service allocation code is required.")
		}
		if err := s.checkPicklists(m, rec); err != nil {
			return err
		}
		if s.val(m, rec, "isActive") == nil {
			s.put(m, rec, "isActive", true)
		}
		s.put(m, rec, "createDate", now)
		s.put(m, rec, "lastModifiedDate", now)
	case "userdefinedfielddefinitions":
		if err := s.checkPicklists(m, rec); err != nil {
			return err
		}
		entity := udfEntity(s.intOf(m, rec, "udfType"))
		name, _ := s.val(m, rec, "name").(string)
		if s.hasUDF(entity, name) {
			return werr("A user-defined field named %s already exists.", name)
		}
		if entity == "Contracts" && len(s.udfs["contracts"]) >= 50 {
			return werr("The maximum number of user-defined fields (50) for Contract has been reached.")
		}
		if s.val(m, rec, "isActive") == nil {
			s.put(m, rec, "isActive", true)
		}
		s.put(m, rec, "createDate", now)
	case "userdefinedfieldlistitems":
		def := s.record("UserDefinedFieldDefinitions", s.intOf(m, rec, "udfFieldId"))
		if def == nil || !s.isListUDF(def) {
			return werr("Value does not reference an existing entity for udfFieldId . ")
		}
		disp, _ := s.val(m, rec, "valueForDisplay").(string)
		exp, _ := s.val(m, rec, "valueForExport").(string)
		for _, it := range s.listItems(def.id()) {
			d, _ := s.val(m, it, "valueForDisplay").(string)
			e, _ := s.val(m, it, "valueForExport").(string)
			if strings.EqualFold(d, disp) || strings.EqualFold(e, exp) {
				return werr("valueForDisplay and valueForExport must be unique.")
			}
		}
		if s.val(m, rec, "isActive") == nil {
			s.put(m, rec, "isActive", true)
		}
		s.put(m, rec, "createDate", now)
	case "contractserviceadjustments":
		return s.adjustService(m, rec)
	case "contractservicebundleadjustments":
		return s.adjustBundle(m, rec)
	case "contractservices":
		c, err := s.recurringContract(s.intOf(m, rec, "contractID"))
		if err != nil {
			return err
		}
		_ = c
		svc := s.record("Services", s.intOf(m, rec, "serviceID"))
		if svc == nil {
			return werr("Value does not reference an existing entity for serviceID . ")
		}
		if s.contractService(s.intOf(m, rec, "contractID"), s.intOf(m, rec, "serviceID")) != nil {
			return werr("The service is already on this contract.")
		}
		if s.val(m, rec, "unitPrice") == nil {
			s.put(m, rec, "unitPrice", s.val(s.db.mustTable("Services").m, svc, "unitPrice"))
		}
	case "contractservicebundles":
		if _, err := s.recurringContract(s.intOf(m, rec, "contractID")); err != nil {
			return err
		}
		if s.record("ServiceBundles", s.intOf(m, rec, "serviceBundleID")) == nil {
			return werr("Value does not reference an existing entity for serviceBundleID . ")
		}
	case "servicebundleservices":
		if s.record("Services", s.intOf(m, rec, "serviceID")) == nil {
			return werr("Value does not reference an existing entity for serviceID . ")
		}
	case "contacts":
		if s.record("Companies", s.intOf(m, rec, "companyID")) == nil {
			return werr("Value does not reference an existing entity for companyID . ")
		}
		if s.val(m, rec, "isActive") == nil {
			s.put(m, rec, "isActive", int64(1))
		}
		s.put(m, rec, "createDate", now)
		s.put(m, rec, "lastModifiedDate", now)
	case "contracts":
		if s.record("Companies", s.intOf(m, rec, "companyID")) == nil {
			return werr("Value does not reference an existing entity for companyID . ")
		}
		if err := s.checkPicklists(m, rec); err != nil {
			return err
		}
		s.put(m, rec, "lastModifiedDateTime", now)
	case "companies":
		if err := s.checkPicklists(m, rec); err != nil {
			return err
		}
		if s.val(m, rec, "isActive") == nil {
			s.put(m, rec, "isActive", true)
		}
		s.put(m, rec, "createDate", now)
		s.put(m, rec, "lastActivityDate", now)
		s.put(m, rec, "lastTrackedModifiedDateTime", now)
	}
	return nil
}

func (s *Sandbox) afterCreate(m *model, rec *record) {
	switch strings.ToLower(m.name) {
	case "userdefinedfielddefinitions":
		s.rebuildUDFs()
	case "contractservices":
		s.indexLink(serviceUnits, rec)
		s.openPeriod(serviceUnits, rec)
	case "contractservicebundles":
		s.indexLink(bundleUnits, rec)
		s.openPeriod(bundleUnits, rec)
	}
}

// openPeriod gives a new contract service (or bundle) its unit row with 0
// units over the contract's term.
func (s *Sandbox) openPeriod(k unitKind, link *record) {
	lm := s.db.mustTable(k.link).m
	contract := s.record("Contracts", s.intOf(lm, link, "contractID"))
	if contract == nil {
		return
	}
	start, _ := s.val(s.db.mustTable("Contracts").m, contract, "startDate").(time.Time)
	_ = s.changeUnits(k, contract, link, dateOnly(start), 0, nil, true)
}

func (s *Sandbox) beforeUpdate(m *model, old, rec *record) error {
	now := s.now()
	switch strings.ToLower(m.name) {
	case "tickets":
		if err := s.checkTicket(m, rec); err != nil {
			return err
		}
		was, is := s.intOf(m, old, "status"), s.intOf(m, rec, "status")
		if is == 5 && was != 5 {
			s.put(m, rec, "completedDate", now)
		} else if is != 5 && was == 5 {
			s.put(m, rec, "completedDate", nil)
		}
		s.put(m, rec, "lastActivityDate", now)
		s.put(m, rec, "lastTrackedModificationDateTime", now)
	case "ticketnotes":
		if err := s.checkPicklists(m, rec); err != nil {
			return err
		}
		s.put(m, rec, "lastActivityDate", now)
	case "contracts":
		if err := s.checkPicklists(m, rec); err != nil {
			return err
		}
		s.put(m, rec, "lastModifiedDateTime", now)
		if end, ok := s.val(m, rec, "endDate").(time.Time); ok {
			s.clipUnits(rec.id(), dateOnly(end))
		}
	case "contractservices", "contractservicebundles":
		// Only prices and descriptions change; the links stay.
		for _, f := range []string{"contractID", "serviceID", "serviceBundleID"} {
			if i, ok := m.fieldIndex(f); ok {
				rec.set(i, old.get(i))
			}
		}
	case "services", "servicebundles":
		if err := s.checkPicklists(m, rec); err != nil {
			return err
		}
		s.put(m, rec, "lastModifiedDate", now)
	case "companies":
		s.put(m, rec, "lastTrackedModifiedDateTime", now)
	case "contacts":
		s.put(m, rec, "lastModifiedDate", now)
	case "userdefinedfielddefinitions":
		s.put(m, rec, "udfType", s.val(m, old, "udfType"))
		s.put(m, rec, "dataType", s.val(m, old, "dataType"))
	}
	return nil
}

func (s *Sandbox) afterUpdate(m *model, old, rec *record) {
	if strings.EqualFold(m.name, "UserDefinedFieldDefinitions") {
		s.rebuildUDFs()
	}
}

func (s *Sandbox) checkTicket(m *model, rec *record) error {
	company := s.intOf(m, rec, "companyID")
	if s.record("Companies", company) == nil {
		return werr("Value does not reference an existing entity for companyID . ")
	}
	if err := s.checkPicklists(m, rec); err != nil {
		return err
	}
	if c := s.intOf(m, rec, "contractID"); c != 0 {
		ct := s.record("Contracts", c)
		if ct == nil || s.intOf(s.db.mustTable("Contracts").m, ct, "companyID") != company {
			return werr("The contract %d does not belong to the ticket's company.", c)
		}
	}
	if sub := s.intOf(m, rec, "subIssueType"); sub != 0 {
		opts, _ := s.picks.options("Tickets", "subIssueType")
		for _, o := range opts {
			if int64(o.value) == sub && int64(o.parent) != s.intOf(m, rec, "issueType") {
				return werr("The subIssueType %d does not belong to the issueType %d.", sub, s.intOf(m, rec, "issueType"))
			}
		}
	}
	limits := map[string]int{"title": 255, "description": 8000, "resolution": 32000, "externalID": 50}
	for f, n := range limits {
		if v, _ := s.val(m, rec, f).(string); len(v) > n {
			return werr("%s exceeds the maximum length of %d.", f, n)
		}
	}
	return nil
}

// udfEntity maps a udfType code to the entity whose records carry the UDF.
func udfEntity(udfType int64) string {
	switch udfType {
	case 1:
		return "Companies"
	case 2:
		return "Contacts"
	case 3:
		return "Contracts"
	case 4:
		return "Services"
	case 7:
		return "Tickets"
	}
	return "unknown" + strconv.FormatInt(udfType, 10)
}

// rebuildUDFs refreshes the per-entity UDF list from the definitions.
func (s *Sandbox) rebuildUDFs() {
	t := s.db.mustTable("UserDefinedFieldDefinitions")
	s.udfs = map[string][]udfDef{}
	for _, id := range t.ids {
		d := t.byID[id]
		name, _ := s.val(t.m, d, "name").(string)
		if active, _ := s.val(t.m, d, "isActive").(bool); !active {
			continue
		}
		e := strings.ToLower(udfEntity(s.intOf(t.m, d, "udfType")))
		s.udfs[e] = append(s.udfs[e], udfDef{name: name})
	}
}

func (s *Sandbox) udfDefByName(entity, name string) *record {
	t := s.db.mustTable("UserDefinedFieldDefinitions")
	for _, id := range t.ids {
		d := t.byID[id]
		n, _ := s.val(t.m, d, "name").(string)
		if strings.EqualFold(n, name) && strings.EqualFold(udfEntity(s.intOf(t.m, d, "udfType")), entity) {
			return d
		}
	}
	return nil
}

func (s *Sandbox) isListUDF(def *record) bool {
	return s.intOf(s.db.mustTable("UserDefinedFieldDefinitions").m, def, "dataType") == 5
}

func (s *Sandbox) listItems(udfID int64) []*record {
	t := s.db.mustTable("UserDefinedFieldListItems")
	var out []*record
	for _, id := range t.ids {
		if s.intOf(t.m, t.byID[id], "udfFieldId") == udfID {
			out = append(out, t.byID[id])
		}
	}
	return out
}

// listValue normalises a list-UDF value (display text, export value or item
// id) to the display text; ok is false for non-list UDFs or unknown options.
func (s *Sandbox) listValue(def *record, v string) (string, bool) {
	if !s.isListUDF(def) {
		return v, true
	}
	m := s.db.mustTable("UserDefinedFieldListItems").m
	for _, it := range s.listItems(def.id()) {
		d, _ := s.val(m, it, "valueForDisplay").(string)
		e, _ := s.val(m, it, "valueForExport").(string)
		if strings.EqualFold(d, v) || strings.EqualFold(e, v) || strconv.FormatInt(it.id(), 10) == v {
			return d, true
		}
	}
	return "", false
}

// dateOnly is midnight UTC of t's date, as Autotask keeps date-only fields.
func dateOnly(t time.Time) time.Time {
	y, mo, d := t.UTC().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}
