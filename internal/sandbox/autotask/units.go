package autotask

import (
	"sort"
	"time"
)

// unitKind names the tables of services or service bundles on a contract.
type unitKind struct {
	link      string // ContractServices / ContractServiceBundles
	units     string // ContractServiceUnits / ContractServiceBundleUnits
	catalog   string // Services / ServiceBundles
	itemField string // serviceID / serviceBundleID
	linkField string // contractServiceID / contractServiceBundleID
}

var (
	serviceUnits = unitKind{"ContractServices", "ContractServiceUnits", "Services", "serviceID", "contractServiceID"}
	bundleUnits  = unitKind{"ContractServiceBundles", "ContractServiceBundleUnits", "ServiceBundles", "serviceBundleID", "contractServiceBundleID"}
)

// recurringContract returns the contract if it is a Recurring Service contract.
func (s *Sandbox) recurringContract(id int64) (*record, error) {
	c := s.record("Contracts", id)
	if c == nil {
		return nil, werr("Value does not reference an existing entity for contractID . ")
	}
	cm := s.db.mustTable("Contracts").m
	if s.intOf(cm, c, "contractType") != s.picks.code("Contracts", "contractType", "Recurring Service") {
		return nil, werr("contractID must reference a Recurring Service type Contract.")
	}
	return c, nil
}

func (s *Sandbox) contractService(contractID, serviceID int64) *record {
	return s.contractLink(serviceUnits, contractID, serviceID)
}

// linkKey indexes contract services (or bundles) by contract and catalog item.
type linkKey struct {
	table          string
	contract, item int64
}

// rowKey indexes unit rows by their contract service (or bundle).
type rowKey struct {
	table string
	link  int64
}

func (s *Sandbox) contractLink(k unitKind, contractID, itemID int64) *record {
	id, ok := s.linkIdx[linkKey{k.link, contractID, itemID}]
	if !ok {
		return nil
	}
	return s.db.mustTable(k.link).byID[id]
}

// indexLink records a new contract service (or bundle) in the index.
func (s *Sandbox) indexLink(k unitKind, rec *record) {
	m := s.db.mustTable(k.link).m
	s.linkIdx[linkKey{k.link, s.intOf(m, rec, "contractID"), s.intOf(m, rec, k.itemField)}] = rec.id()
}

// adjustService applies a ContractServiceAdjustment. Like Autotask it creates
// the ContractService when missing; like the pessimistic case of SPEC F11 it
// changes ContractServiceUnits without touching the contract's
// lastModifiedDateTime.
func (s *Sandbox) adjustService(m *model, rec *record) error {
	return s.adjust(serviceUnits, m, rec)
}

// adjustBundle applies a ContractServiceBundleAdjustment (units only).
func (s *Sandbox) adjustBundle(m *model, rec *record) error {
	if s.val(m, rec, "serviceBundleID") == nil || s.val(m, rec, "effectiveDate") == nil || s.val(m, rec, "contractID") == nil {
		return werr("Missing Required Field: contractID, serviceBundleID and effectiveDate are required.")
	}
	return s.adjust(bundleUnits, m, rec)
}

func (s *Sandbox) adjust(k unitKind, m *model, rec *record) error {
	contractID, itemID := s.intOf(m, rec, "contractID"), s.intOf(m, rec, k.itemField)
	contract, err := s.recurringContract(contractID)
	if err != nil {
		return err
	}
	item := s.record(k.catalog, itemID)
	if item == nil {
		return werr("Value does not reference an existing entity for %s . ", k.itemField)
	}
	cm := s.db.mustTable("Contracts").m
	start, _ := s.val(cm, contract, "startDate").(time.Time)
	end, _ := s.val(cm, contract, "endDate").(time.Time)
	eff, _ := s.val(m, rec, "effectiveDate").(time.Time)
	eff = dateOnly(eff)
	if eff.Before(dateOnly(start)) || eff.After(dateOnly(end)) {
		return werr("The effectiveDate must be within the contract's start and end dates.")
	}
	delta := s.intOf(m, rec, "unitChange")
	var price any
	if p, ok := s.val(m, rec, "adjustedUnitPrice").(float64); ok {
		price = p
	}
	link := s.contractLink(k, contractID, itemID)
	lt := s.db.mustTable(k.link)
	if link == nil {
		link = &record{}
		link.set(lt.m.mustIndex("contractID"), contractID)
		link.set(lt.m.mustIndex(k.itemField), itemID)
		up := price
		if up == nil {
			up = s.val(s.db.mustTable(k.catalog).m, item, "unitPrice")
		}
		link.set(lt.m.mustIndex("unitPrice"), up)
		lt.insert(link)
		s.indexLink(k, link)
	}
	if err := s.changeUnits(k, contract, link, eff, delta, price, true); err != nil {
		return err
	}
	if i, ok := m.fieldIndex(k.linkField); ok {
		rec.set(i, link.id())
	}
	return nil
}

// unitRows returns the unit rows of one contract service (or bundle), by start date.
func (s *Sandbox) unitRows(k unitKind, linkID int64) []*record {
	t := s.db.mustTable(k.units)
	si := t.m.mustIndex("startDate")
	var rows []*record
	for _, id := range s.rowIdx[rowKey{k.units, linkID}] {
		rows = append(rows, t.byID[id])
	}
	sort.Slice(rows, func(a, b int) bool {
		ta, _ := rows[a].get(si).(time.Time)
		tb, _ := rows[b].get(si).(time.Time)
		return ta.Before(tb)
	})
	return rows
}

// changeUnits adds delta units from eff on. With split, a period that started
// before eff ends the day before and a new row (new id) carries the new count;
// without split (silent changes) rows change in place.
func (s *Sandbox) changeUnits(k unitKind, contract, link *record, eff time.Time, delta int64, price any, split bool) error {
	ut := s.db.mustTable(k.units)
	um := ut.m
	rows := s.unitRows(k, link.id())
	if len(rows) == 0 {
		cm := s.db.mustTable("Contracts").m
		row := &record{}
		row.set(um.mustIndex("contractID"), contract.id())
		row.set(um.mustIndex(k.linkField), link.id())
		row.set(um.mustIndex(k.itemField), asInt(link.get(s.db.mustTable(k.link).m.mustIndex(k.itemField))))
		row.set(um.mustIndex("startDate"), dateOnly(s.val(cm, contract, "startDate").(time.Time)))
		row.set(um.mustIndex("endDate"), dateOnly(s.val(cm, contract, "endDate").(time.Time)))
		row.set(um.mustIndex("units"), int64(0))
		p := link.get(s.db.mustTable(k.link).m.mustIndex("unitPrice"))
		if p == nil {
			p = 0.0
		}
		row.set(um.mustIndex("price"), p)
		row.set(um.mustIndex("cost"), 0.0)
		s.addRow(k, link.id(), ut.insert(row))
		rows = []*record{row}
	}
	ui, si, ei, pi := um.mustIndex("units"), um.mustIndex("startDate"), um.mustIndex("endDate"), um.mustIndex("price")
	for _, r := range rows {
		rs, _ := r.get(si).(time.Time)
		re, _ := r.get(ei).(time.Time)
		if !re.Before(eff) && asInt(r.get(ui))+delta < 0 {
			return werr("The unit change would leave a negative number of units.")
		}
		_ = rs
	}
	for _, r := range rows {
		rs, _ := r.get(si).(time.Time)
		re, _ := r.get(ei).(time.Time)
		switch {
		case re.Before(eff):
		case !rs.Before(eff) || !split:
			r.set(ui, asInt(r.get(ui))+delta)
			if price != nil {
				r.set(pi, price)
			}
		default:
			nr := r.clone()
			nr.set(0, nil)
			nr.set(si, eff)
			nr.set(ui, asInt(r.get(ui))+delta)
			if price != nil {
				nr.set(pi, price)
			}
			r.set(ei, eff.AddDate(0, 0, -1))
			s.addRow(k, link.id(), ut.insert(nr))
		}
	}
	return nil
}

func (s *Sandbox) addRow(k unitKind, linkID, rowID int64) {
	key := rowKey{k.units, linkID}
	s.rowIdx[key] = append(s.rowIdx[key], rowID)
}

// clipUnits ends the unit rows of a contract at end when the contract is
// shortened, so no period outlives it.
func (s *Sandbox) clipUnits(contractID int64, end time.Time) {
	for _, k := range []unitKind{serviceUnits, bundleUnits} {
		t := s.db.mustTable(k.units)
		ci, si, ei := t.m.mustIndex("contractID"), t.m.mustIndex("startDate"), t.m.mustIndex("endDate")
		for key, rows := range s.rowIdx {
			if key.table != k.units {
				continue
			}
			for _, id := range rows {
				r := t.byID[id]
				if asInt(r.get(ci)) != contractID {
					break // all rows of one link belong to one contract
				}
				st, _ := r.get(si).(time.Time)
				en, _ := r.get(ei).(time.Time)
				switch {
				case st.After(end):
					r.set(ei, st.AddDate(0, 0, -1)) // an empty period
				case en.After(end):
					r.set(ei, end)
				}
			}
		}
	}
}
