package autotask

import (
	"slices"
	"strings"
)

// table holds one entity's records in id order, so queries page by id.
type table struct {
	m      *model
	byID   map[int64]*record
	ids    []int64 // ascending
	nextID int64
}

func newTable(m *model, firstID int64) *table {
	return &table{m: m, byID: map[int64]*record{}, nextID: firstID}
}

// insert stores r, assigning the next id when r has none.
func (t *table) insert(r *record) int64 {
	id := r.id()
	if id == 0 && !r.hasID() {
		id = t.nextID
		r.set(0, id)
	}
	if id >= t.nextID {
		t.nextID = id + 1
	}
	if _, dup := t.byID[id]; !dup {
		pos, _ := slices.BinarySearch(t.ids, id)
		t.ids = slices.Insert(t.ids, pos, id)
	}
	t.byID[id] = r
	return id
}

func (r *record) hasID() bool {
	for _, c := range r.cells {
		if c.f == 0 {
			return true
		}
	}
	return false
}

// store is the sandbox's database: one table per entity.
type store struct {
	tables map[string]*table // lower-case entity name → table
	models []*model
}

// firstIDs makes ids of different entities look different in logs and tests.
var firstIDs = map[string]int64{
	"companies": 1001, "contacts": 30001, "contracts": 2001, "contractservices": 70001,
	"contractserviceunits": 80001, "contractserviceadjustments": 85001, "contractservicebundles": 71001,
	"contractservicebundleunits": 81001, "contractservicebundleadjustments": 86001, "services": 301,
	"servicebundles": 401, "servicebundleservices": 451, "billingcodes": 29682801,
	"userdefinedfielddefinitions": 501, "userdefinedfieldlistitems": 601, "tickets": 90001, "ticketnotes": 95001,
}

func newStore() *store {
	s := &store{tables: map[string]*table{}, models: builtinModels()}
	for _, m := range s.models {
		m.init()
		first := firstIDs[strings.ToLower(m.name)]
		if first == 0 {
			first = 1
		}
		s.tables[strings.ToLower(m.name)] = newTable(m, first)
	}
	return s
}

func (s *store) table(name string) (*table, bool) {
	t, ok := s.tables[strings.ToLower(name)]
	return t, ok
}

func (s *store) mustTable(name string) *table {
	t, ok := s.table(name)
	if !ok {
		panic("sandbox: no table " + name)
	}
	return t
}
