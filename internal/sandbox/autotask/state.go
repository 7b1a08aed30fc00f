package autotask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	client "github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// This file holds the Go methods tests use to read and change the sandbox's
// state directly, without spending the request budget.

// addLocked stores v (a client entity) as if created through the API,
// keeping an explicit id when v has one.
func (s *Sandbox) addLocked(entity string, v any) (int64, error) {
	return s.addLockedID(entity, v, nil)
}

// addLockedID is addLocked with a forced id (needed for id 0, which JSON omits).
func (s *Sandbox) addLockedID(entity string, v any, forceID *int64) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", entity, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return 0, fmt.Errorf("decode %s: %w", entity, err)
	}
	t := s.db.mustTable(entity)
	var id int64
	if forceID != nil {
		raw["id"] = json.RawMessage(fmt.Sprint(*forceID))
	}
	if idRaw, ok := raw["id"]; ok {
		if err := json.Unmarshal(idRaw, &id); err != nil {
			return 0, fmt.Errorf("%s id: %w", entity, err)
		}
		if t.byID[id] != nil {
			return 0, fmt.Errorf("%s %d already exists", entity, id)
		}
	}
	m := t.m
	rec := &record{}
	udfs, err := s.applyFields(m, rec, raw)
	if err != nil {
		return 0, err
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
	if _, explicit := raw["id"]; explicit {
		rec.set(0, id)
	}
	id = t.insert(rec)
	s.afterCreate(m, rec)
	return id, nil
}

func (s *Sandbox) add(entity string, v any) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(entity, v)
}

// decodeRecord converts a stored record to a client entity.
func decodeRecord[T any](s *Sandbox, entity string, rec *record) (T, error) {
	var out T
	m := s.db.mustTable(entity).m
	var buf bytes.Buffer
	m.encode(&buf, rec, s.udfs[strings.ToLower(entity)], nil)
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		return out, fmt.Errorf("decode %s %d: %w", entity, rec.id(), err)
	}
	return out, nil
}

func getRecord[T any](s *Sandbox, entity string, id int64) (T, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var zero T
	rec := s.record(entity, id)
	if rec == nil {
		return zero, false
	}
	v, err := decodeRecord[T](s, entity, rec)
	return v, err == nil
}

// AddCompany stores a company (explicit ID kept) and returns its id.
func (s *Sandbox) AddCompany(c client.Company) (int64, error) { return s.add("Companies", c) }

// AddContact stores a contact of an existing company.
func (s *Sandbox) AddContact(c client.Contact) (int64, error) { return s.add("Contacts", c) }

// AddContract stores a contract (set ContractType 7 and Status 1 for an active
// Recurring Service contract) with its user-defined field values.
func (s *Sandbox) AddContract(c client.Contract) (int64, error) { return s.add("Contracts", c) }

// AddService stores a service of the catalog.
func (s *Sandbox) AddService(sv client.Service) (int64, error) { return s.add("Services", sv) }

// AddServiceUnits puts units of a service on a contract from the contract's
// start date, as a ContractServiceAdjustment through the API would.
func (s *Sandbox) AddServiceUnits(contractID, serviceID int64, units int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.record("Contracts", contractID)
	if c == nil {
		return fmt.Errorf("sandbox: no contract %d", contractID)
	}
	start, _ := s.val(s.db.mustTable("Contracts").m, c, "startDate").(time.Time)
	if units == 0 {
		// A service on the contract without units (PAYG): the link and an empty period.
		linkID, err := s.addLocked("ContractServices", client.ContractService{ContractID: int(contractID), ServiceID: int(serviceID)})
		if err != nil {
			return err
		}
		return s.changeUnits(serviceUnits, c, s.record("ContractServices", linkID), dateOnly(start), 0, nil, true)
	}
	_, err := s.addLocked("ContractServiceAdjustments", client.ContractServiceAdjustment{
		ContractID: int(contractID), ServiceID: int(serviceID), UnitChange: units, EffectiveDate: client.Date(start),
	})
	return err
}

// AddBundleUnits puts units of a service bundle on a contract from its start date.
func (s *Sandbox) AddBundleUnits(contractID, bundleID int64, units int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.record("Contracts", contractID)
	if c == nil {
		return fmt.Errorf("sandbox: no contract %d", contractID)
	}
	start, _ := s.val(s.db.mustTable("Contracts").m, c, "startDate").(time.Time)
	_, err := s.addLocked("ContractServiceBundleAdjustments", client.ContractServiceBundleAdjustment{
		ContractID: int(contractID), ServiceBundleID: int(bundleID), UnitChange: units, EffectiveDate: client.Date(start),
	})
	return err
}

// AdjustUnits changes units from effective on exactly like a
// ContractServiceAdjustment sent to the API (new unit row when a period is
// split; the contract's lastModifiedDateTime is not touched).
func (s *Sandbox) AdjustUnits(contractID, serviceID int64, delta int, effective time.Time) error {
	_, err := s.add("ContractServiceAdjustments", client.ContractServiceAdjustment{
		ContractID: int(contractID), ServiceID: int(serviceID), UnitChange: delta, EffectiveDate: client.Date(effective),
	})
	return err
}

// SetUnitsSilently sets the units of a contract service from today on in
// place: no new row id and no contract change, the pessimistic case SPEC F11
// (c) must detect with a full scan.
func (s *Sandbox) SetUnitsSilently(contractID, serviceID int64, units int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	contract := s.record("Contracts", contractID)
	link := s.contractService(contractID, serviceID)
	if contract == nil || link == nil {
		return fmt.Errorf("sandbox: contract %d has no service %d", contractID, serviceID)
	}
	cur, _ := s.currentUnitsLocked(serviceUnits, link.id())
	return s.changeUnits(serviceUnits, contract, link, s.today(), int64(units)-cur, nil, false)
}

func (s *Sandbox) currentUnitsLocked(k unitKind, linkID int64) (int64, bool) {
	return s.unitsOnLocked(k, linkID, s.today())
}

// unitsOnLocked returns the units of a contract link on day.
func (s *Sandbox) unitsOnLocked(k unitKind, linkID int64, day time.Time) (int64, bool) {
	um := s.db.mustTable(k.units).m
	for _, r := range s.unitRows(k, linkID) {
		st, _ := s.val(um, r, "startDate").(time.Time)
		en, _ := s.val(um, r, "endDate").(time.Time)
		if !st.After(day) && !en.Before(day) {
			return s.intOf(um, r, "units"), true
		}
	}
	return 0, false
}

// CurrentUnits returns today's units of a service on a contract.
func (s *Sandbox) CurrentUnits(contractID, serviceID int64) (int, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	link := s.contractService(contractID, serviceID)
	if link == nil {
		return 0, false
	}
	n, ok := s.currentUnitsLocked(serviceUnits, link.id())
	return int(n), ok
}

// EndContract sets a contract's end date (an edit: lastModifiedDateTime moves).
func (s *Sandbox) EndContract(contractID int64, end time.Time) error {
	return s.patchContract(contractID, func(m *model, r *record) {
		s.put(m, r, "endDate", dateOnly(end))
		s.clipUnits(contractID, dateOnly(end))
	})
}

// SetContractUDF sets a contract user-defined field (an edit: lastModifiedDateTime moves).
func (s *Sandbox) SetContractUDF(contractID int64, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, _ := json.Marshal([]client.UDF{{Name: name, Value: &value}})
	_, err := s.updateLocked(s.db.mustTable("Contracts").m, map[string]json.RawMessage{
		"id": json.RawMessage(fmt.Sprint(contractID)), "userDefinedFields": raw}, "", 0)
	return err
}

func (s *Sandbox) patchContract(id int64, fn func(*model, *record)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.db.mustTable("Contracts")
	old := t.byID[id]
	if old == nil {
		return fmt.Errorf("sandbox: no contract %d", id)
	}
	rec := old.clone()
	fn(t.m, rec)
	s.put(t.m, rec, "lastModifiedDateTime", s.now())
	t.byID[id] = rec
	return nil
}

// Company returns a company as the API would.
func (s *Sandbox) Company(id int64) (client.Company, bool) {
	return getRecord[client.Company](s, "Companies", id)
}

// Contract returns a contract as the API would.
func (s *Sandbox) Contract(id int64) (client.Contract, bool) {
	return getRecord[client.Contract](s, "Contracts", id)
}

// Ticket returns a ticket as the API would.
func (s *Sandbox) Ticket(id int64) (client.Ticket, bool) {
	return getRecord[client.Ticket](s, "Tickets", id)
}

// TicketsByExternalID returns every ticket with that externalID (more than one
// means the product created a duplicate).
func (s *Sandbox) TicketsByExternalID(externalID string) []client.Ticket {
	return listRecords[client.Ticket](s, "Tickets", func(m *model, r *record) bool {
		v, _ := s.val(m, r, "externalID").(string)
		return v == externalID
	})
}

// TicketCount is the number of tickets.
func (s *Sandbox) TicketCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.db.mustTable("Tickets").ids)
}

// TicketNotes returns the notes of a ticket in creation order.
func (s *Sandbox) TicketNotes(ticketID int64) []client.TicketNote {
	return listRecords[client.TicketNote](s, "TicketNotes", func(m *model, r *record) bool {
		return s.intOf(m, r, "ticketID") == ticketID
	})
}

// ServiceByName finds a catalog service by exact name.
func (s *Sandbox) ServiceByName(name string) (client.Service, bool) {
	l := listRecords[client.Service](s, "Services", func(m *model, r *record) bool {
		v, _ := s.val(m, r, "name").(string)
		return v == name
	})
	if len(l) == 0 {
		return client.Service{}, false
	}
	return l[0], true
}

// Services lists the service catalog.
func (s *Sandbox) Services() []client.Service {
	return listRecords[client.Service](s, "Services", func(*model, *record) bool { return true })
}

// UDFDefinitions lists the user-defined field definitions.
func (s *Sandbox) UDFDefinitions() []client.UserDefinedFieldDefinition {
	return listRecords[client.UserDefinedFieldDefinition](s, "UserDefinedFieldDefinitions", func(*model, *record) bool { return true })
}

// Count is the number of records of an entity ("Companies", "ContractServiceUnits"...).
func (s *Sandbox) Count(entity string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.db.table(entity)
	if !ok {
		return 0
	}
	return len(t.ids)
}

// AddOtherIntegrationRequests counts n requests of other integrations on
// the same database, made now: like Autotask, the sandbox then reports them in
// ThresholdInformation and refuses requests past the hourly limit with them
// counted, while its request log (this integration's requests) stays as it is.
func (s *Sandbox) AddOtherIntegrationRequests(n int) {
	now := s.now()
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	for range n {
		s.requests = append(s.requests, now)
	}
}

// RequestsThisHour is the rolling-hour request count ThresholdInformation reports.
func (s *Sandbox) RequestsThisHour() int { return s.usage() }

func listRecords[T any](s *Sandbox, entity string, keep func(*model, *record) bool) []T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.db.mustTable(entity)
	var out []T
	for _, id := range t.ids {
		r := t.byID[id]
		if !keep(t.m, r) {
			continue
		}
		if v, err := decodeRecord[T](s, entity, r); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// RenameCompany changes a company's name (mappings must survive renames, SPEC F4).
func (s *Sandbox) RenameCompany(id int64, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.db.mustTable("Companies")
	old := t.byID[id]
	if old == nil {
		return fmt.Errorf("sandbox: no company %d", id)
	}
	rec := old.clone()
	s.put(t.m, rec, "companyName", name)
	s.put(t.m, rec, "lastTrackedModifiedDateTime", s.now())
	t.byID[id] = rec
	return nil
}

// SetServiceActive activates or deactivates a catalog service.
func (s *Sandbox) SetServiceActive(id int64, active bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.db.mustTable("Services")
	old := t.byID[id]
	if old == nil {
		return fmt.Errorf("sandbox: no service %d", id)
	}
	rec := old.clone()
	s.put(t.m, rec, "isActive", active)
	s.put(t.m, rec, "lastModifiedDate", s.now())
	t.byID[id] = rec
	return nil
}
