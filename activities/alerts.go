package activities

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/alert"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AlertsAcronis is the part of the Acronis client the alert activities use.
type AlertsAcronis interface {
	ListAlerts(ctx context.Context, q acronis.AlertQuery) (acronis.AlertPage, error)
	DismissAlert(ctx context.Context, id string) error
}

// AlertsAcronisSource returns the Acronis client for the current credentials.
type AlertsAcronisSource func(ctx context.Context) (AlertsAcronis, error)

// AlertsStore is what the alert activities read and record in the database.
type AlertsStore interface {
	CurrentSettings(ctx context.Context) (store.SettingsVersion, error)
	CustomerMappingByTenant(ctx context.Context, tenantID string) (store.CustomerMapping, error)
	EnsureAlertMapping(ctx context.Context, alertType string, def store.AlertMapping) (store.AlertMapping, bool, error)
	Cursor(ctx context.Context, name string) (store.SyncCursor, error)
	SetCursor(ctx context.Context, name string, value json.RawMessage) error
	OpenOrJoinAlertTicket(ctx context.Context, t store.AlertTicket) (store.AlertTicket, bool, error)
	MarkAlertTicketCreateAttempt(ctx context.Context, id int64) (store.AlertTicket, error)
	SetAlertTicketID(ctx context.Context, id, ticketID int64) (store.AlertTicket, error)
	RecordAlertOccurrence(ctx context.Context, id int64) (store.AlertTicket, error)
	CloseAlertTicket(ctx context.Context, id int64, at time.Time) (store.AlertTicket, error)
	ClearAlert(ctx context.Context, t store.AlertTicket) ([]store.AlertTicket, error)
	ReopenAlertTicket(ctx context.Context, id int64, at time.Time) (store.AlertTicket, error)
	AlertTicket(ctx context.Context, id int64) (store.AlertTicket, error)
	LatestAlertTicket(ctx context.Context, alertID string) (store.AlertTicket, error)
	OldestOpenAlertTicket(ctx context.Context) (time.Time, error)
	OpenAlertTicketsByTicketID(ctx context.Context, ticketIDs []int64) ([]store.AlertTicket, error)
	MarkAlertTicketCompletionReported(ctx context.Context, id int64, completedAt time.Time) error
	// CompanyContracts is the JSON of the []entitlement.Contract the contract
	// sync last saw for the company, or ErrNotFound.
	CompanyContracts(ctx context.Context, companyID int64) (json.RawMessage, error)
}

// AlertNotifier delivers alert events and ticket completions to the alert
// workflows (signal-with-start); workflows.Alerts satisfies it.
type AlertNotifier interface {
	NotifyAlert(ctx context.Context, ev alert.Event) error
	NotifyTicketCompleted(ctx context.Context, alertID string, ticketID int64) error
}

// Alerts holds the activities that turn Acronis alerts into Autotask tickets.
type Alerts struct {
	Acronis  AlertsAcronisSource
	Autotask AutotaskSource
	Store    AlertsStore
	Notifier AlertNotifier
	// Day is how long a re-open window "day" lasts (24 h; seconds in end-to-end tests).
	Day time.Duration
	// PageSize is the alert page size (default 100).
	PageSize int
	// TicketCheckInterval is the least time between two checks for tickets
	// completed in Autotask (default DefaultTicketCheckInterval); a "sync
	// now" checks at once.
	TicketCheckInterval time.Duration
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
	// Audit records every ticket write and alert dismissal; optional.
	Audit interface {
		AppendAudit(ctx context.Context, e store.AuditEntry) error
	}
}

// DefaultTicketCheckInterval spaces the completed-ticket checks: one request
// per check is 30 requests an hour, 0.3 % of Autotask's 10,000, whatever the
// number of open tickets.
const DefaultTicketCheckInterval = 2 * time.Minute

// completedOverlap is how far before the last check the next one looks:
// the worker's and Autotask's clocks and commits are not exact.
const completedOverlap = 5 * time.Minute

// AlertActs names the alert activities for workflow code.
var AlertActs *Alerts

// AlertCursorName is the sync_cursors row of the alert sync.
const AlertCursorName = "acronis.alerts"

// Autotask ticket facts (reference §4.7): New and Complete are system statuses.
const (
	TicketStatusNew      = 1
	TicketStatusComplete = 5
	// defaultNoteType and defaultNotePublish are used when the settings name none.
	defaultNoteType    = 1
	defaultNotePublish = 1
	maxTitle           = 255
	maxDescription     = 8000
)

// AlertTicketSettings are the ticket settings (SPEC F2) the alert workflow decides with.
type AlertTicketSettings struct {
	TicketCreation bool `json:"ticketCreation"`
	ReopenEnabled  bool `json:"reopenEnabled"`
	// ReopenWithin is the re-open window: N days of Day length.
	ReopenWithin      time.Duration `json:"reopenWithin"`
	AutoClose         bool          `json:"autoClose"`
	DismissOnComplete bool          `json:"dismissOnComplete"`
}

func (a *Alerts) settings(ctx context.Context) (settings.Settings, error) {
	v, err := a.Store.CurrentSettings(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return settings.Defaults(), nil
	}
	if err != nil {
		return settings.Settings{}, classify("read settings", err)
	}
	return settings.Decode(v.Document)
}

func (a *Alerts) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *Alerts) ticketCheckInterval() time.Duration {
	if a.TicketCheckInterval > 0 {
		return a.TicketCheckInterval
	}
	return DefaultTicketCheckInterval
}

func (a *Alerts) day() time.Duration {
	if a.Day > 0 {
		return a.Day
	}
	return 24 * time.Hour
}

// AlertSettings reads the ticket settings in effect.
func (a *Alerts) AlertSettings(ctx context.Context) (AlertTicketSettings, error) {
	s, err := a.settings(ctx)
	if err != nil {
		return AlertTicketSettings{}, err
	}
	t := s.Tickets
	return AlertTicketSettings{
		TicketCreation: s.TicketCreationEnabled,
		ReopenEnabled:  t.Reopening.Enabled, ReopenWithin: time.Duration(t.Reopening.WithinDays) * a.day(),
		AutoClose: t.AutoClose.Enabled, DismissOnComplete: t.DismissAlertOnComplete,
	}, nil
}
