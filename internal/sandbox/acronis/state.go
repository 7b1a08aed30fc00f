package acronis

import (
	"sort"
	"strings"
	"time"
)

// Fixed ids of the tenants every dataset has.
const (
	// RootID is the data center's root tenant above the partner; the API
	// client cannot read it.
	RootID = "0b7e4a2c-5d1f-4c3a-9e8b-000000000000"
	// PartnerID is "Sandbox MSP", the partner that owns the API client.
	PartnerID = "0b7e4a2c-5d1f-4c3a-9e8b-000000000001"
	// BrandUUID is the brand every sandbox tenant carries.
	BrandUUID = "14dc11ca-2b16-43bb-8ba4-2a3545c214a0"
	// DefaultIDPID is the identity provider every sandbox tenant carries.
	DefaultIDPID = "11111111-1111-1111-1111-111111111111"
)

// state is everything the sandbox knows; guarded by Sandbox.mu.
type state struct {
	nextV1   int64
	tenants  map[string]*tenant
	order    []*tenant            // by v1 id (creation order), for paging
	children map[string][]*tenant // parent id → children, creation order
	byName   map[string]*tenant   // lower-case name → most recent live tenant

	users   map[string]*user
	logins  map[string]*user // lower-case login
	alerts  map[string]*alert
	tokens  map[string]time.Time
	events  []event
	lastSeq int64
	created time.Time

	reports     map[string]*report
	reportOrder []*report
	reportDelay *time.Duration // nil: Options.ReportDelay
	failReports int            // the next reports created fail
}

func newState(now time.Time) *state {
	return &state{
		nextV1:   1415000,
		lastSeq:  93376000,
		tenants:  map[string]*tenant{},
		children: map[string][]*tenant{},
		byName:   map[string]*tenant{},
		users:    map[string]*user{},
		logins:   map[string]*user{},
		alerts:   map[string]*alert{},
		tokens:   map[string]time.Time{},
		created:  now,
		reports:  map[string]*report{},
	}
}

// tenant is one tenant. Offering items and usages are stored sparsely by
// catalogue index so 10,000 tenants stay small.
type tenant struct {
	id, name, kind, parentID string
	v1                       int64
	version                  int64
	enabled                  bool
	customerID, internalTag  *string
	language                 string
	contact                  contact
	ancestralAccess          bool
	supportAccess            bool
	lockEnabled              bool
	lockOwner                *string
	mfa                      bool
	pricingMode              string
	pricingVersion           int64
	productionStart          time.Time
	createdAt, updatedAt     time.Time
	deletedAt                time.Time
	apps                     []string
	items                    map[int]*itemState
	usages                   map[int]*usageState
	users                    []string
}

func (t *tenant) deleted() bool { return !t.deletedAt.IsZero() }

// contact is a tenant's or user's contact, with the sample's fields.
type contact struct {
	ID, Email, Firstname, Lastname, Phone string
	Address1, Address2, City, State, Zip  string
	Country, OrganizationSize             string
	Types                                 []string
	CreatedAt, UpdatedAt                  time.Time
	Title, Website, Industry, AAN         *string
	EmailConfirmed                        *bool
}

// itemState is a tenant's state of one catalogue item.
type itemState struct {
	status  int
	value   *float64
	overage *float64
	version int64
	locked  bool
}

// usageState is a tenant's measured use of one catalogue item.
type usageState struct {
	value, absolute float64
}

type user struct {
	id, login, tenantID, personalTenantID string
	version                               int64
	activated, enabled                    bool
	contact                               contact
	language                              string
	externalID                            *string
	notifications                         []string
	policies                              []policy
	activationEmails                      int
	createdAt, updatedAt                  time.Time
	deleted                               bool
}

type policy struct {
	ID, IssuerID, RoleID, TenantID, TrusteeID, TrusteeType, ResourceNamespace string
	Version                                                                   int64
	CreatedAt, UpdatedAt                                                      time.Time
}

type alert struct {
	id, typ, category, severity string
	details                     map[string]any
	tenantID                    string
	createdAt, updatedAt        time.Time
	receivedAt, deletedAt       time.Time
	deleted                     bool
}

// addTenant stores t and indexes it.
func (st *state) addTenant(t *tenant) {
	st.nextV1++
	t.v1 = st.nextV1
	if t.items == nil {
		t.items = map[int]*itemState{}
	}
	st.tenants[t.id] = t
	st.order = append(st.order, t)
	if t.parentID != "" {
		st.children[t.parentID] = append(st.children[t.parentID], t)
	}
	st.byName[strings.ToLower(t.name)] = t
}

// live returns a tenant that exists and is not deleted.
func (st *state) live(id string) *tenant {
	t := st.tenants[strings.ToLower(id)]
	if t == nil || t.deleted() {
		return nil
	}
	return t
}

// liveChildren lists the children of id that are not deleted.
func (st *state) liveChildren(id string) []*tenant {
	var out []*tenant
	for _, c := range st.children[id] {
		if !c.deleted() {
			out = append(out, c)
		}
	}
	return out
}

// path lists the ancestors of t from the root down, t excluded.
func (st *state) path(t *tenant) []*tenant {
	var out []*tenant
	for p := st.tenants[t.parentID]; p != nil; p = st.tenants[p.parentID] {
		out = append(out, p)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// inSubtree reports whether t is root or below it.
func (st *state) inSubtree(t *tenant, root string) bool {
	for p := t; p != nil; p = st.tenants[p.parentID] {
		if p.id == root {
			return true
		}
	}
	return false
}

// rename keeps the name index current.
func (st *state) rename(t *tenant, name string) {
	if cur := st.byName[strings.ToLower(t.name)]; cur == t {
		delete(st.byName, strings.ToLower(t.name))
	}
	t.name = name
	st.byName[strings.ToLower(name)] = t
}

// sortedAlerts lists the alerts by (updatedAt, id).
func (st *state) sortedAlerts() []*alert {
	out := make([]*alert, 0, len(st.alerts))
	for _, a := range st.alerts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].updatedAt.Equal(out[j].updatedAt) {
			return out[i].updatedAt.Before(out[j].updatedAt)
		}
		return out[i].id < out[j].id
	})
	return out
}
