// Package alert holds what the integration knows about an Acronis alert and
// its Autotask ticket: the alert's observed state, as the alert sync delivers
// it, and the ticket row its workflow acts on.
package alert

import (
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// Event is one observed state of an Acronis alert, as delivered to its workflow.
type Event struct {
	AlertID     string    `json:"alertId"`
	TenantID    string    `json:"tenantId"`
	CompanyID   int64     `json:"companyId"`
	Type        string    `json:"type"`
	Severity    string    `json:"severity"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Resource    string    `json:"resource"`
	Cleared     bool      `json:"cleared"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// TicketRef is the workflow's view of one alert_tickets row.
type TicketRef struct {
	RowID       int64     `json:"rowId"`
	AlertID     string    `json:"alertId"` // the alert that owns the ticket
	Generation  int       `json:"generation"`
	ExternalID  string    `json:"externalId"`
	TicketID    int64     `json:"ticketId,omitempty"` // 0 until created
	State       string    `json:"state"`
	ClosedAt    time.Time `json:"closedAt,omitzero"`
	Occurrences int       `json:"occurrences"`
}

// Open reports whether the ticket is open.
func (r TicketRef) Open() bool { return r.State == store.TicketOpen }

// RefOf is the workflow's view of a stored ticket row.
func RefOf(t store.AlertTicket) TicketRef {
	r := TicketRef{RowID: t.ID, AlertID: t.AlertID, Generation: t.Generation, ExternalID: t.ExternalID,
		State: t.State, Occurrences: t.Occurrences}
	if t.TicketID != nil {
		r.TicketID = *t.TicketID
	}
	if t.ClosedAt != nil {
		r.ClosedAt = *t.ClosedAt
	}
	return r
}
