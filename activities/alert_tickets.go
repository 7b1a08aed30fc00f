package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/alert"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AlertOpenResult is the ticket an alert got: its own new or open
// generation, or (Joined) the open ticket of its storm group.
type AlertOpenResult struct {
	Ref    alert.TicketRef `json:"ref"`
	Joined bool            `json:"joined"`
}

// AlertTicketInput names a ticket row and the alert event acted on.
type AlertTicketInput struct {
	Ref   alert.TicketRef `json:"ref"`
	Event alert.Event     `json:"event"`
	// At is the workflow's time of a close or re-open: the re-open window is
	// measured on the workflow's clock.
	At time.Time `json:"at,omitzero"`
}

// AlertNoteInput is a note for an alert ticket.
type AlertNoteInput struct {
	TicketID int64  `json:"ticketId"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

func (a *Alerts) AlertLatestTicket(ctx context.Context, alertID string) (*alert.TicketRef, error) {
	t, err := a.Store.LatestAlertTicket(ctx, alertID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, classify("read the ticket of alert "+alertID, err)
	}
	r := alert.RefOf(t)
	return &r, nil
}

// AlertOpenOrJoin reserves a new ticket generation for the alert before the
// Autotask ticket exists, or joins the open ticket of its storm group.
func (a *Alerts) AlertOpenOrJoin(ctx context.Context, ev alert.Event) (AlertOpenResult, error) {
	t, joined, err := a.Store.OpenOrJoinAlertTicket(ctx, store.AlertTicket{AlertID: ev.AlertID, CompanyID: ev.CompanyID,
		TenantID: ev.TenantID, AlertType: ev.Type, Resource: ev.Resource})
	if err != nil {
		return AlertOpenResult{}, classify("reserve a ticket for alert "+ev.AlertID, err)
	}
	return AlertOpenResult{Ref: alert.RefOf(t), Joined: joined}, nil
}

// AlertCreateTicket creates the Autotask ticket of a reserved generation and
// records it. A first attempt sends only the create (one request when the
// contract sync knows the company's contracts). The create is counted on the
// row before it is sent, so an attempt that follows a lost answer or a dead
// worker looks the ticket up by external id first and never creates another.
func (a *Alerts) AlertCreateTicket(ctx context.Context, in AlertTicketInput) (alert.TicketRef, error) {
	if in.Ref.TicketID != 0 {
		return in.Ref, nil
	}
	row, err := a.Store.AlertTicket(ctx, in.Ref.RowID)
	if err != nil {
		return in.Ref, classify("read the ticket of alert "+in.Event.AlertID, err)
	}
	if row.TicketID != nil {
		return alert.RefOf(row), nil // recorded by an earlier attempt
	}
	c, err := a.Autotask(ctx)
	if err != nil {
		return in.Ref, err
	}
	if row.CreateAttempts > 0 {
		// An earlier attempt sent a create: Autotask may have applied it.
		existing, err := c.FindTicketByExternalID(ctx, row.ExternalID)
		switch {
		case err == nil:
			return a.recordTicket(ctx, in, existing.ID)
		case !autotask.IsNotFound(err):
			return in.Ref, classify("look up the ticket of alert "+in.Event.AlertID, err)
		}
	}
	t, err := a.buildTicket(ctx, c, in)
	if err != nil {
		return in.Ref, err
	}
	if c.Gated() {
		// Shadow mode records the create; its id is a placeholder, so the row
		// keeps no ticket (nor a counted attempt) and the alert's next event
		// after going live creates the real one.
		if _, err := c.CreateTicket(ctx, t); err != nil {
			return in.Ref, classify("record the ticket of alert "+in.Event.AlertID, err)
		}
		return in.Ref, nil
	}
	// Counted before the create is sent: from here on every attempt looks the ticket up first.
	if _, err := a.Store.MarkAlertTicketCreateAttempt(ctx, row.ID); err != nil {
		return in.Ref, classify("count the ticket create of alert "+in.Event.AlertID, err)
	}
	ticketID, err := c.CreateTicket(ctx, t)
	if err != nil {
		return in.Ref, classify("create the ticket of alert "+in.Event.AlertID, err)
	}
	a.auditTicket(ctx, auditTicketCreate, systemAlertTickets, ticketID, in.Event.AlertID, "ticket created for Acronis alert "+in.Event.Type)
	return a.recordTicket(ctx, in, ticketID)
}

func (a *Alerts) recordTicket(ctx context.Context, in AlertTicketInput, ticketID int64) (alert.TicketRef, error) {
	activity.RecordHeartbeat(ctx, ticketID)
	saved, err := a.Store.SetAlertTicketID(ctx, in.Ref.RowID, ticketID)
	if err != nil {
		return in.Ref, classify("record the ticket of alert "+in.Event.AlertID, err)
	}
	return alert.RefOf(saved), nil
}

func (a *Alerts) buildTicket(ctx context.Context, c *autotask.Client, in AlertTicketInput) (autotask.Ticket, error) {
	s, err := a.settings(ctx)
	if err != nil {
		return autotask.Ticket{}, err
	}
	m, _, err := a.Store.EnsureAlertMapping(ctx, in.Event.Type, store.AlertMapping{UpdatedBy: "alert sync"})
	if err != nil {
		return autotask.Ticket{}, classify("read the mapping of alert type "+in.Event.Type, err)
	}
	t := autotask.Ticket{
		CompanyID: int(in.Event.CompanyID), Title: in.Event.Title, Description: in.Event.Description,
		ExternalID: in.Ref.ExternalID, Status: TicketStatusNew, Priority: orInt(m.Priority, 0),
		QueueID: orInt(m.QueueID, 0), IssueType: orInt(m.IssueType, 0), SubIssueType: orInt(m.SubIssueType, 0),
		TicketType: orInt(m.TicketType, 0), Source: orInt(s.Tickets.SourceID, 0),
	}
	if m.Status != nil {
		t.Status = int(*m.Status)
	}
	if t.Priority == 0 {
		t.Priority = 2 // Autotask requires a priority; Medium is the usual default
	}
	if s.BillingEnabled {
		id, err := a.companyContract(ctx, c, in.Event.CompanyID)
		if err != nil {
			return autotask.Ticket{}, err
		}
		t.ContractID = int(id)
	}
	return t, nil
}

// companyContract is the contract an alert ticket of the company is billed
// to: taken from the contracts the contract sync last saw for the company (no
// Autotask request), or asked of Autotask when the sync has not recorded the
// company yet.
func (a *Alerts) companyContract(ctx context.Context, c *autotask.Client, companyID int64) (int64, error) {
	raw, err := a.Store.CompanyContracts(ctx, companyID)
	switch {
	case err == nil:
		var cs []entitlement.Contract
		jerr := json.Unmarshal(raw, &cs)
		if jerr == nil {
			return company.ActiveContract(cs, a.now()), nil
		}
		activity.GetLogger(ctx).Warn("unreadable contracts of the company in the store; asking Autotask", "company", companyID, "error", jerr)
	case !errors.Is(err, store.ErrNotFound):
		return 0, classify(fmt.Sprintf("read contracts of company %d", companyID), err)
	}
	return a.activeContract(ctx, c, companyID)
}

// activeContract is the company's Recurring Service contract in force today
// (the lowest id when several are), or 0, read from Autotask.
func (a *Alerts) activeContract(ctx context.Context, c *autotask.Client, companyID int64) (int64, error) {
	cs, err := autotask.QueryAll[autotask.Contract](ctx, c, autotask.NewQuery(
		autotask.Eq("companyID", companyID), autotask.Eq("contractType", contractTypeRecurringService),
		autotask.Eq("status", contractStatusActive)))
	if err != nil {
		return 0, classify(fmt.Sprintf("read contracts of company %d", companyID), err)
	}
	contracts := make([]entitlement.Contract, len(cs))
	for i, k := range cs {
		contracts[i] = toContract(k, nil, nil)
	}
	return company.ActiveContract(contracts, a.now()), nil
}

func orInt(p *int64, def int) int {
	if p == nil {
		return def
	}
	return int(*p)
}

// AlertAddNote adds a note to an alert ticket with the note type and publish of the settings.
func (a *Alerts) AlertAddNote(ctx context.Context, in AlertNoteInput) error {
	s, err := a.settings(ctx)
	if err != nil {
		return err
	}
	c, err := a.Autotask(ctx)
	if err != nil {
		return err
	}
	n := autotask.TicketNote{Title: truncate(in.Title, 250), Description: truncate(in.Text, 32000),
		NoteType: orInt(s.Tickets.NoteTypeID, defaultNoteType), Publish: orInt(s.Tickets.NotePublishID, defaultNotePublish)}
	if _, err := c.CreateTicketNote(ctx, in.TicketID, n); err != nil {
		return classify(fmt.Sprintf("add a note to ticket %d", in.TicketID), err)
	}
	a.auditTicket(ctx, auditTicketNote, systemAlertTickets, in.TicketID, "", "note added: "+truncate(in.Title, 200))
	return nil
}

// AlertCountOccurrence counts one more occurrence on an open ticket.
func (a *Alerts) AlertCountOccurrence(ctx context.Context, rowID int64) (alert.TicketRef, error) {
	t, err := a.Store.RecordAlertOccurrence(ctx, rowID)
	if err != nil {
		return alert.TicketRef{}, classify("count an alert occurrence", err)
	}
	return alert.RefOf(t), nil
}

// AlertCloseTicket closes a cleared alert's ticket in Autotask with the
// auto-close status and a note, then records it closed.
func (a *Alerts) AlertCloseTicket(ctx context.Context, in AlertTicketInput) (alert.TicketRef, error) {
	s, err := a.settings(ctx)
	if err != nil {
		return in.Ref, err
	}
	c, err := a.Autotask(ctx)
	if err != nil {
		return in.Ref, err
	}
	status := orInt(s.Tickets.AutoClose.StatusID, TicketStatusComplete)
	if err := c.UpdateTicket(ctx, autotask.TicketUpdate{ID: in.Ref.TicketID, Status: &status}); err != nil {
		return in.Ref, classify(fmt.Sprintf("close ticket %d", in.Ref.TicketID), err)
	}
	a.auditTicket(ctx, auditTicketClose, systemAlertTickets, in.Ref.TicketID, in.Event.AlertID, "Acronis alert cleared: ticket closed automatically")
	if err := a.AlertAddNote(ctx, AlertNoteInput{TicketID: in.Ref.TicketID, Title: "Alert cleared in Acronis",
		Text: fmt.Sprintf("The Acronis alert %s (%s) cleared at %s; the ticket was closed automatically.",
			in.Event.AlertID, in.Event.Type, in.Event.UpdatedAt.UTC().Format(time.RFC3339))}); err != nil {
		return in.Ref, err
	}
	if c.Gated() {
		return in.Ref, nil // recorded, not made: the ticket stays open as it is in Autotask
	}
	return a.markClosed(ctx, in.Ref.RowID, in.At)
}

// AlertCleared records that an alert cleared and returns the open tickets
// left with no active alert (its own, or the storm group's ticket it joined):
// the only ones auto-close may close.
func (a *Alerts) AlertCleared(ctx context.Context, ev alert.Event) ([]alert.TicketRef, error) {
	ts, err := a.Store.ClearAlert(ctx, store.AlertTicket{AlertID: ev.AlertID, TenantID: ev.TenantID, AlertType: ev.Type,
		Resource: ev.Resource})
	if err != nil {
		return nil, classify("record alert "+ev.AlertID+" cleared", err)
	}
	refs := make([]alert.TicketRef, len(ts))
	for i, t := range ts {
		refs[i] = alert.RefOf(t)
	}
	return refs, nil
}

// AlertTicketCompleted records that a technician completed the ticket in Autotask.
func (a *Alerts) AlertTicketCompleted(ctx context.Context, in AlertTicketInput) (alert.TicketRef, error) {
	return a.markClosed(ctx, in.Ref.RowID, in.At)
}

func (a *Alerts) markClosed(ctx context.Context, rowID int64, at time.Time) (alert.TicketRef, error) {
	t, err := a.Store.CloseAlertTicket(ctx, rowID, at)
	if errors.Is(err, store.ErrConflict) {
		t, err = a.Store.AlertTicket(ctx, rowID) // closed by an earlier attempt
	}
	if err != nil {
		return alert.TicketRef{}, classify("record the ticket closed", err)
	}
	return alert.RefOf(t), nil
}

// AlertReopenTicket re-opens a recurring alert's ticket with the mapping's
// status (New when none) and a note, then records it open.
func (a *Alerts) AlertReopenTicket(ctx context.Context, in AlertTicketInput) (alert.TicketRef, error) {
	c, err := a.Autotask(ctx)
	if err != nil {
		return in.Ref, err
	}
	m, _, err := a.Store.EnsureAlertMapping(ctx, in.Event.Type, store.AlertMapping{UpdatedBy: "alert sync"})
	if err != nil {
		return in.Ref, classify("read the mapping of alert type "+in.Event.Type, err)
	}
	status := orInt(m.Status, TicketStatusNew)
	if err := c.UpdateTicket(ctx, autotask.TicketUpdate{ID: in.Ref.TicketID, Status: &status}); err != nil {
		return in.Ref, classify(fmt.Sprintf("re-open ticket %d", in.Ref.TicketID), err)
	}
	a.auditTicket(ctx, auditTicketReopen, systemAlertTickets, in.Ref.TicketID, in.Event.AlertID, "Acronis alert recurred: ticket re-opened")
	if err := a.AlertAddNote(ctx, AlertNoteInput{TicketID: in.Ref.TicketID, Title: "Alert recurred in Acronis",
		Text: fmt.Sprintf("The Acronis alert %s (%s) occurred again at %s; the ticket was re-opened.",
			in.Event.AlertID, in.Event.Type, in.Event.UpdatedAt.UTC().Format(time.RFC3339))}); err != nil {
		return in.Ref, err
	}
	if c.Gated() {
		return in.Ref, nil // recorded, not made: the ticket stays closed as it is in Autotask
	}
	t, err := a.Store.ReopenAlertTicket(ctx, in.Ref.RowID, in.At)
	if errors.Is(err, store.ErrConflict) {
		t, err = a.Store.AlertTicket(ctx, in.Ref.RowID) // re-opened by an earlier attempt
	}
	if err != nil {
		return in.Ref, classify("record the ticket re-opened", err)
	}
	return alert.RefOf(t), nil
}

// AlertDismiss dismisses the Acronis alert (its ticket was completed);
// an alert that no longer exists needs nothing.
func (a *Alerts) AlertDismiss(ctx context.Context, alertID string) error {
	api, err := a.Acronis(ctx)
	if err != nil {
		return err
	}
	if err := api.DismissAlert(ctx, alertID); err != nil && !acronis.IsNotFound(err) {
		return classify("dismiss Acronis alert "+alertID, err)
	}
	a.auditTicket(ctx, auditAlertDismiss, store.SystemAcronis, 0, alertID, "the alert's ticket was completed in Autotask: alert dismissed")
	return nil
}
