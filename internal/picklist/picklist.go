// Package picklist lists the values settings and alert mappings refer to by
// id — Autotask picklists and allocation codes, Acronis storages — so an id is
// checked against what the vendor offers instead of being taken on trust, and
// the console can offer them as choices.
package picklist

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

// Name names one list; it is the last segment of
// GET /api/v1/autotask/picklists/{name} (Storages is GET /api/v1/acronis/storages).
type Name string

// The lists. Codes differ per Autotask database, so every one is read, never assumed.
const (
	// BillingCodes are the active Recurring Contract Service allocation codes:
	// the only ones Autotask accepts on the services the integration creates.
	BillingCodes     Name = "billing-codes"
	TicketSources    Name = "ticket-sources"
	TicketStatuses   Name = "ticket-statuses"
	TicketPriorities Name = "ticket-priorities"
	Queues           Name = "queues"
	IssueTypes       Name = "issue-types"
	// SubIssueTypes carry their issue type as ParentID.
	SubIssueTypes Name = "sub-issue-types"
	TicketTypes   Name = "ticket-types"
	NoteTypes     Name = "note-types"
	NotePublish   Name = "note-publish"
	// Storages are the Acronis backup storages the partner can give customers.
	Storages Name = "storages"
)

// source says where a list comes from and what one of its values is called.
type source struct {
	noun string
	// entity and field name an Autotask picklist field (entityInformation/fields).
	entity, field string
}

var sources = map[Name]source{
	BillingCodes:     {noun: "active Recurring Contract Service allocation code", entity: "BillingCodes"},
	TicketSources:    {"ticket source", "Tickets", "source"},
	TicketStatuses:   {"ticket status", "Tickets", "status"},
	TicketPriorities: {"ticket priority", "Tickets", "priority"},
	Queues:           {"ticket queue", "Tickets", "queueID"},
	IssueTypes:       {"issue type", "Tickets", "issueType"},
	SubIssueTypes:    {"sub-issue type", "Tickets", "subIssueType"},
	TicketTypes:      {"ticket type", "Tickets", "ticketType"},
	NoteTypes:        {"ticket note type", "TicketNotes", "noteType"},
	NotePublish:      {"ticket note publish option", "TicketNotes", "publish"},
	Storages:         {noun: "backup storage the partner can give customers"},
}

// AutotaskNames are the Autotask lists, sorted.
func AutotaskNames() []Name {
	var out []Name
	for n := range sources {
		if n != Storages {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Parse returns the Autotask list called name.
func Parse(name string) (Name, bool) {
	n := Name(name)
	_, ok := sources[n]
	return n, ok && n != Storages
}

// Value is one choice of a list.
type Value struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// ParentID is the issue type of a sub-issue type.
	ParentID  string `json:"parentId,omitempty"`
	IsDefault bool   `json:"isDefault,omitempty"`
}

// List is one list as read from its vendor.
type List struct {
	Name Name `json:"name"`
	// Source says which vendor record or field the values come from.
	Source    string    `json:"source"`
	Values    []Value   `json:"values"`
	FetchedAt time.Time `json:"fetchedAt"`
}

// Find returns the value whose id is id.
func (l List) Find(id string) (Value, bool) {
	for _, v := range l.Values {
		if v.ID == id {
			return v, true
		}
	}
	return Value{}, false
}

// maxListed bounds how many valid values an error message lists.
const maxListed = 50

// Unknown is the message for an id the list does not hold, listing the valid ones.
func (l List) Unknown(id string) string {
	valid := make([]string, 0, min(len(l.Values), maxListed))
	for i, v := range l.Values {
		if i == maxListed {
			valid = append(valid, fmt.Sprintf("… %d more: GET the list", len(l.Values)-maxListed))
			break
		}
		valid = append(valid, v.ID+" "+v.Label)
	}
	noun := sources[l.Name].noun
	if len(valid) == 0 {
		return fmt.Sprintf("%s is not %s %s: %s offers none", id, article(noun), noun, vendorOf(l.Name))
	}
	return fmt.Sprintf("%s is not %s %s in %s (valid: %s)", id, article(noun), noun, vendorOf(l.Name), strings.Join(valid, ", "))
}

func article(noun string) string {
	if strings.ContainsAny(noun[:1], "aeiou") {
		return "an"
	}
	return "a"
}

func vendorOf(n Name) string {
	if n == Storages {
		return "Acronis"
	}
	return "Autotask"
}

// Ref is one id a document holds and the list it must be in; Field is its
// JSON path, as field errors name it.
type Ref struct {
	Field string
	List  Name
	ID    string
}

// settingsLists are the settings that hold list ids.
var settingsLists = map[string]Name{
	"newServices.allocationCodeId":  BillingCodes,
	"provisioning.defaultStorageId": Storages,
	"tickets.sourceId":              TicketSources,
	"tickets.noteTypeId":            NoteTypes,
	"tickets.notePublishId":         NotePublish,
	"tickets.autoClose.statusId":    TicketStatuses,
}

var storageClassField = regexp.MustCompile(`^usageReporting\.storageClasses\[\d+\]\.infraId$`)

// SettingsList is the list a settings field's id must be in.
func SettingsList(field string) (Name, bool) {
	if storageClassField.MatchString(field) {
		return Storages, true
	}
	n, ok := settingsLists[field]
	return n, ok
}

// SettingsRefs lists every id s holds; unset ones are left out.
func SettingsRefs(s settings.Settings) []Ref {
	var out []Ref
	id := func(field string, v *int64) {
		if v != nil {
			out = append(out, Ref{field, settingsLists[field], fmt.Sprint(*v)})
		}
	}
	id("newServices.allocationCodeId", s.NewServices.AllocationCodeID)
	id("tickets.sourceId", s.Tickets.SourceID)
	id("tickets.noteTypeId", s.Tickets.NoteTypeID)
	id("tickets.notePublishId", s.Tickets.NotePublishID)
	id("tickets.autoClose.statusId", s.Tickets.AutoClose.StatusID)
	if s.Provisioning.DefaultStorageID != "" {
		out = append(out, Ref{"provisioning.defaultStorageId", Storages, s.Provisioning.DefaultStorageID})
	}
	for i, c := range s.UsageReporting.StorageClasses {
		out = append(out, Ref{fmt.Sprintf("usageReporting.storageClasses[%d].infraId", i), Storages, c.InfraID})
	}
	return out
}

// AlertMappingLists are the lists of an alert mapping's ticket fields, by JSON name.
var AlertMappingLists = map[string]Name{
	"priority": TicketPriorities, "status": TicketStatuses, "queueId": Queues,
	"issueType": IssueTypes, "subIssueType": SubIssueTypes, "ticketType": TicketTypes,
}
