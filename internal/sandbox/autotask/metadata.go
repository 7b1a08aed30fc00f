package autotask

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// pick is one picklist option; parent is the parent picklist value (sub-issue types).
type pick struct {
	value  int
	label  string
	parent int
	system bool
}

// picklists holds the sandbox's per-database picklists. The numeric codes are
// the sandbox's own except where the reference confirms them (ticket status
// New=1, Complete=5; contractType Recurring Service=7); clients must resolve
// labels through entityInformation/fields, as with a real database.
type picklists struct {
	byField map[string][]pick // "entity.field" (lower-case) → options
	parents map[string]string // "entity.field" → parent field name
}

func newPicklists() *picklists {
	p := &picklists{byField: map[string][]pick{}, parents: map[string]string{}}
	add := func(key string, opts ...pick) { p.byField[key] = opts }
	add("companies.companytype", pick{1, "Customer", 0, true}, pick{2, "Lead", 0, true}, pick{3, "Prospect", 0, true},
		pick{4, "Dead", 0, true}, pick{6, "Cancellation", 0, true}, pick{7, "Vendor", 0, true}, pick{8, "Partner", 0, true})
	add("contracts.contracttype", pick{1, "Time and Materials", 0, true}, pick{3, "Fixed Price", 0, true}, pick{4, "Block Hours", 0, true},
		pick{6, "Retainer", 0, true}, pick{7, "Recurring Service", 0, true}, pick{8, "Incident", 0, true})
	add("contracts.status", pick{0, "Inactive", 0, true}, pick{1, "Active", 0, true})
	add("contracts.contractcategory", pick{1, "Standard", 0, false}, pick{13, "Managed Services", 0, false})
	add("services.periodtype", pick{1, "Monthly", 0, true}, pick{2, "Quarterly", 0, true}, pick{3, "Semi-Annual", 0, true}, pick{4, "Yearly", 0, true})
	add("servicebundles.periodtype", p.byField["services.periodtype"]...)
	add("billingcodes.billingcodetype", pick{1, "Work Type", 0, true}, pick{2, "Material", 0, true}, pick{3, "Internal Time", 0, true},
		pick{4, "Expense Category", 0, true}, pick{5, "Recurring Contract Service", 0, true}, pick{6, "Milestone", 0, true})
	add("userdefinedfielddefinitions.udftype", pick{1, "Company", 0, true}, pick{2, "Contact", 0, true}, pick{3, "Contract", 0, true},
		pick{4, "Service", 0, true}, pick{7, "Ticket", 0, true})
	add("userdefinedfielddefinitions.datatype", pick{1, "String", 0, true}, pick{2, "Number", 0, true}, pick{3, "Date", 0, true},
		pick{4, "Boolean", 0, true}, pick{5, "List", 0, true})
	add("tickets.status", pick{1, "New", 0, true}, pick{5, "Complete", 0, true}, pick{7, "Waiting Customer", 0, true},
		pick{8, "In Progress", 0, false}, pick{9, "Waiting Materials", 0, false}, pick{10, "Scheduled", 0, false},
		pick{11, "Escalate", 0, false}, pick{12, "Waiting Vendor", 0, false})
	add("tickets.priority", pick{4, "Critical", 0, true}, pick{1, "High", 0, true}, pick{2, "Medium", 0, true}, pick{3, "Low", 0, true})
	add("tickets.queueid", pick{5, "Client Portal", 0, false}, pick{6, "Post Sale", 0, false}, pick{8, "Monitoring Alert", 0, false},
		pick{29682833, "Level I Support", 0, false})
	add("tickets.source", pick{2, "Insourced", 0, true}, pick{4, "Phone", 0, true}, pick{6, "Email", 0, true},
		pick{8, "Monitoring Alert", 0, true}, pick{12, "Web Portal", 0, true})
	add("tickets.issuetype", pick{10, "Backup", 0, false}, pick{11, "Security", 0, false}, pick{12, "Licensing", 0, false})
	add("tickets.subissuetype", pick{101, "Backup failed", 10, false}, pick{102, "Backup warning", 10, false},
		pick{111, "Malware detected", 11, false}, pick{112, "Vulnerability found", 11, false}, pick{121, "Quota exceeded", 12, false})
	p.parents["tickets.subissuetype"] = "issueType"
	add("tickets.tickettype", pick{1, "Service Request", 0, true}, pick{2, "Incident", 0, true}, pick{3, "Problem", 0, true},
		pick{4, "Change Request", 0, true}, pick{5, "Alert", 0, true})
	add("tickets.ticketcategory", pick{3, "Standard", 0, false}, pick{4, "Alert", 0, false})
	add("ticketnotes.notetype", pick{1, "Task Summary", 0, true}, pick{2, "Task Detail", 0, true}, pick{3, "Task Notes", 0, true})
	add("ticketnotes.publish", pick{1, "All Autotask Users", 0, true}, pick{2, "Internal Project Team", 0, true})
	return p
}

func (p *picklists) options(entity, field string) ([]pick, bool) {
	o, ok := p.byField[strings.ToLower(entity+"."+field)]
	return o, ok
}

// has reports whether v is an option of the picklist (true when not a picklist).
func (p *picklists) has(entity, field string, v int64) bool {
	opts, ok := p.options(entity, field)
	if !ok {
		return true
	}
	for _, o := range opts {
		if int64(o.value) == v {
			return true
		}
	}
	return false
}

// code returns the value of a label.
func (p *picklists) code(entity, field, label string) int64 {
	opts, _ := p.options(entity, field)
	for _, o := range opts {
		if strings.EqualFold(o.label, label) {
			return int64(o.value)
		}
	}
	panic("sandbox: no picklist option " + entity + "." + field + "=" + label)
}

// readOnly fields are ignored on create and update.
var readOnly = map[string]bool{"id": true, "createdate": true, "createdatetime": true, "lastmodifieddatetime": true,
	"lastmodifieddate": true, "lastactivitydate": true, "lasttrackedmodifieddatetime": true, "lasttrackedmodificationdatetime": true,
	"ticketnumber": true, "creatorresourceid": true, "createdbyresourceid": true, "completeddate": true, "creatortype": true}

// required fields per entity, reported in entityInformation/fields.
var required = map[string][]string{
	"services":                    {"billingCodeID", "name", "periodType", "unitPrice"},
	"tickets":                     {"companyID", "priority", "status", "title"},
	"ticketnotes":                 {"description", "noteType", "publish", "ticketID"},
	"userdefinedfielddefinitions": {"dataType", "name", "udfType"},
	"userdefinedfieldlistitems":   {"udfFieldId", "valueForDisplay", "valueForExport"},
	"contractserviceadjustments":  {"contractID", "effectiveDate", "serviceID"},
	"contracts":                   {"companyID", "contractName", "contractType", "endDate", "startDate", "status"},
	"companies":                   {"companyName", "companyType", "phone"},
}

func isRequired(entity, field string) bool {
	for _, f := range required[strings.ToLower(entity)] {
		if strings.EqualFold(f, field) {
			return true
		}
	}
	return false
}

var dataTypes = map[kind]string{kindInt: "integer", kindFloat: "double", kindBool: "boolean", kindString: "string", kindTime: "datetime", kindAny: "string"}

func (s *Sandbox) fieldsInfo(w http.ResponseWriter, m *model) {
	type plv struct {
		Value          string `json:"value"`
		Label          string `json:"label"`
		IsDefaultValue bool   `json:"isDefaultValue"`
		SortOrder      int    `json:"sortOrder"`
		ParentValue    string `json:"parentValue"`
		IsActive       bool   `json:"isActive"`
		IsSystem       bool   `json:"isSystem"`
	}
	type fi struct {
		Name                     string `json:"name"`
		DataType                 string `json:"dataType"`
		Length                   int    `json:"length"`
		IsRequired               bool   `json:"isRequired"`
		IsReadOnly               bool   `json:"isReadOnly"`
		IsQueryable              bool   `json:"isQueryable"`
		IsReference              bool   `json:"isReference"`
		ReferenceEntityType      string `json:"referenceEntityType"`
		IsPickList               bool   `json:"isPickList"`
		PicklistValues           []plv  `json:"picklistValues"`
		PicklistParentValueField string `json:"picklistParentValueField"`
		IsSupportedWebhookField  bool   `json:"isSupportedWebhookField"`
	}
	out := make([]fi, 0, len(m.fields))
	for _, f := range m.fields {
		if f.kind == kindUDFs {
			continue
		}
		dt := dataTypes[f.kind]
		if f.name == "id" {
			dt = "long"
		}
		x := fi{Name: f.name, DataType: dt, IsRequired: isRequired(m.name, f.name), IsReadOnly: readOnly[strings.ToLower(f.name)],
			IsQueryable: !notQueryable[strings.ToLower(m.name+"."+f.name)]}
		if f.kind == kindString {
			x.Length = 255
		}
		if strings.HasSuffix(f.name, "ID") && f.kind == kindInt && f.name != "id" {
			x.IsReference = true
			x.ReferenceEntityType = strings.TrimSuffix(strings.ToUpper(f.name[:1])+f.name[1:], "ID")
		}
		if opts, ok := s.picks.options(m.name, f.name); ok {
			x.IsPickList, x.IsReference, x.ReferenceEntityType = true, false, ""
			x.PicklistParentValueField = s.picks.parents[strings.ToLower(m.name+"."+f.name)]
			for i, o := range opts {
				pv := plv{Value: strconv.Itoa(o.value), Label: o.label, SortOrder: i + 1, IsActive: true, IsSystem: o.system}
				if o.parent != 0 {
					pv.ParentValue = strconv.Itoa(o.parent)
				}
				x.PicklistValues = append(x.PicklistValues, pv)
			}
		}
		out = append(out, x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"fields": out})
}

func (s *Sandbox) udfInfo(w http.ResponseWriter, m *model) {
	type plv struct {
		Value          string `json:"value"`
		Label          string `json:"label"`
		IsDefaultValue bool   `json:"isDefaultValue"`
		SortOrder      int    `json:"sortOrder"`
		ParentValue    string `json:"parentValue"`
		IsActive       bool   `json:"isActive"`
		IsSystem       bool   `json:"isSystem"`
	}
	type ufi struct {
		Name                     string `json:"name"`
		Label                    string `json:"label"`
		Type                     string `json:"type"`
		Length                   int    `json:"length"`
		Description              string `json:"description"`
		IsRequired               bool   `json:"isRequired"`
		IsReadOnly               bool   `json:"isReadOnly"`
		IsQueryable              bool   `json:"isQueryable"`
		IsReference              bool   `json:"isReference"`
		ReferenceEntityType      string `json:"referenceEntityType"`
		IsPickList               bool   `json:"isPickList"`
		PicklistValues           []plv  `json:"picklistValues"`
		PicklistParentValueField string `json:"picklistParentValueField"`
		DefaultValue             string `json:"defaultValue"`
		IsSupportedWebhookField  bool   `json:"isSupportedWebhookField"`
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []ufi{}
	defs := s.db.mustTable("UserDefinedFieldDefinitions")
	items := s.db.mustTable("UserDefinedFieldListItems")
	for _, u := range s.udfs[strings.ToLower(m.name)] {
		x := ufi{Name: u.name, Label: u.name, Type: "string", Length: 255, IsQueryable: true}
		if def := s.udfDefByName(m.name, u.name); def != nil {
			x.Description, _ = def.get(defs.m.mustIndex("description")).(string)
			if asInt(def.get(defs.m.mustIndex("dataType"))) == 5 {
				x.IsPickList = true
				fi := items.m.mustIndex("udfFieldId")
				for _, id := range items.ids {
					it := items.byID[id]
					if asInt(it.get(fi)) == def.id() {
						disp, _ := it.get(items.m.mustIndex("valueForDisplay")).(string)
						x.PicklistValues = append(x.PicklistValues, plv{Value: strconv.FormatInt(id, 10), Label: disp, SortOrder: len(x.PicklistValues) + 1, IsActive: true})
					}
				}
			}
			if dv, ok := def.get(defs.m.mustIndex("defaultValue")).(json.RawMessage); ok {
				var str string
				if json.Unmarshal(dv, &str) != nil {
					str = string(dv)
				}
				x.DefaultValue = str
				for i := range x.PicklistValues {
					x.PicklistValues[i].IsDefaultValue = strings.EqualFold(x.PicklistValues[i].Label, str) || x.PicklistValues[i].Value == str
				}
			}
		}
		out = append(out, x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"fields": out})
}

func (s *Sandbox) entityInfo(w http.ResponseWriter, m *model) {
	key := strings.ToLower(m.name)
	canCreate := rootCreate[key]
	canUpdate := rootUpdate[key]
	for _, ch := range children {
		if strings.EqualFold(ch.entity, m.name) {
			canCreate = canCreate || ch.create
			canUpdate = canUpdate || ch.update
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"info": map[string]any{
		"name": m.singular, "canCreate": canCreate, "canDelete": false, "canQuery": !notQueryableEntity[key], "canUpdate": canUpdate,
		"userAccessForCreate": 1, "userAccessForDelete": 0, "userAccessForQuery": 1, "userAccessForUpdate": 1,
		"hasUserDefinedFields": m.udfIdx >= 0, "supportsWebhookCallouts": false,
	}})
}
