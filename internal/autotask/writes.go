package autotask

import (
	"context"
	"errors"
	"fmt"
)

// CreateService creates a Service (billingCodeID, name, periodType and
// unitPrice are required by Autotask) and returns its id.
func (c *Client) CreateService(ctx context.Context, s Service) (int64, error) {
	s.ID = 0
	id, err := c.create(ctx, "Services", s)
	if err != nil {
		return 0, fmt.Errorf("autotask: create service %q: %w", s.Name, err)
	}
	return id, nil
}

// CreateContractServiceAdjustment adds (or with a negative UnitChange removes)
// units of a service on a Recurring Service contract from EffectiveDate on.
// Adjustments cannot be read back or edited: a mistake is corrected by a
// compensating adjustment.
func (c *Client) CreateContractServiceAdjustment(ctx context.Context, a ContractServiceAdjustment) (int64, error) {
	a.ID = 0
	id, err := c.create(ctx, "ContractServiceAdjustments", a)
	if err != nil {
		return 0, fmt.Errorf("autotask: adjust contract %d service %d by %d units: %w", a.ContractID, a.ServiceID, a.UnitChange, err)
	}
	return id, nil
}

// CreateContractService adds a service to a Recurring Service contract (POST
// /Contracts/{id}/Services) with no units; units come from adjustments.
func (c *Client) CreateContractService(ctx context.Context, cs ContractService) (int64, error) {
	cs.ID = 0
	id, err := c.create(ctx, fmt.Sprintf("Contracts/%d/Services", cs.ContractID), cs)
	if err != nil {
		return 0, fmt.Errorf("autotask: add service %d to contract %d: %w", cs.ServiceID, cs.ContractID, err)
	}
	return id, nil
}

// CreateContractServiceBundleAdjustment changes the units of a service bundle
// on a contract (POST /Contracts/{id}/ServiceBundleAdjustments).
func (c *Client) CreateContractServiceBundleAdjustment(ctx context.Context, a ContractServiceBundleAdjustment) (int64, error) {
	a.ID = 0
	id, err := c.create(ctx, fmt.Sprintf("Contracts/%d/ServiceBundleAdjustments", a.ContractID), a)
	if err != nil {
		return 0, fmt.Errorf("autotask: adjust contract %d bundle %d by %d units: %w", a.ContractID, a.ServiceBundleID, a.UnitChange, err)
	}
	return id, nil
}

// CreateUDFDefinition creates a user-defined field definition (e.g. the
// contract UDF "Acronis PAYG") and returns its id.
func (c *Client) CreateUDFDefinition(ctx context.Context, d UserDefinedFieldDefinition) (int64, error) {
	d.ID = 0
	id, err := c.create(ctx, "UserDefinedFieldDefinitions", d)
	if err != nil {
		return 0, fmt.Errorf("autotask: create user-defined field %q: %w", d.Name, err)
	}
	return id, nil
}

// CreateUDFListItem adds an option to a list UDF (POST /UserDefinedFields/{id}/ListItems).
func (c *Client) CreateUDFListItem(ctx context.Context, udfID int64, item UserDefinedFieldListItem) (int64, error) {
	item.ID, item.UDFFieldID = 0, udfID
	id, err := c.create(ctx, fmt.Sprintf("UserDefinedFields/%d/ListItems", udfID), item)
	if err != nil {
		return 0, fmt.Errorf("autotask: add list item %q to user-defined field %d: %w", item.ValueForDisplay, udfID, err)
	}
	return id, nil
}

// UpdateContractUDFs sets user-defined field values on a contract with a
// sparse PATCH; other fields and UDFs are left as they are.
func (c *Client) UpdateContractUDFs(ctx context.Context, contractID int64, udfs []UDF) error {
	body := Contract{ID: contractID, UserDefinedFields: udfs}
	if _, err := c.patch(ctx, "Contracts", body); err != nil {
		return fmt.Errorf("autotask: update user-defined fields of contract %d: %w", contractID, err)
	}
	return nil
}

// CreateTicket creates a ticket (companyID, title, status and priority are
// required; queueID and dueDateTime depending on configuration).
func (c *Client) CreateTicket(ctx context.Context, t Ticket) (int64, error) {
	t.ID = 0
	id, err := c.create(ctx, "Tickets", t)
	if err != nil {
		return 0, fmt.Errorf("autotask: create ticket %q: %w", t.Title, err)
	}
	return id, nil
}

// TicketUpdate is a sparse ticket PATCH: only non-nil fields change.
type TicketUpdate struct {
	ID           int64   `json:"id"`
	Status       *int    `json:"status,omitempty"`
	Priority     *int    `json:"priority,omitempty"`
	QueueID      *int    `json:"queueID,omitempty"`
	IssueType    *int    `json:"issueType,omitempty"`
	SubIssueType *int    `json:"subIssueType,omitempty"`
	TicketType   *int    `json:"ticketType,omitempty"`
	Source       *int    `json:"source,omitempty"`
	ContractID   *int    `json:"contractID,omitempty"`
	Title        *string `json:"title,omitempty"`
	Description  *string `json:"description,omitempty"`
	Resolution   *string `json:"resolution,omitempty"`
	DueDateTime  *Time   `json:"dueDateTime,omitempty"`
	UDFs         []UDF   `json:"userDefinedFields,omitempty"`
}

// UpdateTicket applies a sparse PATCH to a ticket (e.g. re-open or complete it).
func (c *Client) UpdateTicket(ctx context.Context, u TicketUpdate) error {
	if u.ID == 0 {
		return errors.New("autotask: update ticket: id is required")
	}
	if _, err := c.patch(ctx, "Tickets", u); err != nil {
		return fmt.Errorf("autotask: update ticket %d: %w", u.ID, err)
	}
	return nil
}

// FindTicketByExternalID returns the ticket whose externalID is id (the
// idempotency key of alert tickets), or a NotFound error.
func (c *Client) FindTicketByExternalID(ctx context.Context, externalID string) (*Ticket, error) {
	ts, err := QueryAll[Ticket](ctx, c, NewQuery(Eq("externalID", externalID)).Limit(2))
	if err != nil {
		return nil, fmt.Errorf("autotask: find ticket with external id %q: %w", externalID, err)
	}
	if len(ts) == 0 {
		return nil, &Error{Kind: KindNotFound, Method: "POST", Path: "Tickets/query", Messages: []string{fmt.Sprintf("no ticket with externalID %q", externalID)}}
	}
	return &ts[0], nil
}

// CreateTicketNote adds a note to a ticket (POST /Tickets/{id}/Notes); noteType
// and publish are picklist values.
func (c *Client) CreateTicketNote(ctx context.Context, ticketID int64, n TicketNote) (int64, error) {
	n.ID, n.TicketID = 0, int(ticketID)
	id, err := c.create(ctx, fmt.Sprintf("Tickets/%d/Notes", ticketID), n)
	if err != nil {
		return 0, fmt.Errorf("autotask: add note to ticket %d: %w", ticketID, err)
	}
	return id, nil
}

// TicketNoteUpdate is a sparse note PATCH.
type TicketNoteUpdate struct {
	ID          int64   `json:"id"`
	Title       *string `json:"title,omitempty"`
	Description *string `json:"description,omitempty"`
	NoteType    *int    `json:"noteType,omitempty"`
	Publish     *int    `json:"publish,omitempty"`
}

// UpdateTicketNote patches a note through its ticket (PATCH /Tickets/{id}/Notes).
func (c *Client) UpdateTicketNote(ctx context.Context, ticketID int64, u TicketNoteUpdate) error {
	if _, err := c.patch(ctx, fmt.Sprintf("Tickets/%d/Notes", ticketID), u); err != nil {
		return fmt.Errorf("autotask: update note %d of ticket %d: %w", u.ID, ticketID, err)
	}
	return nil
}

// PrimaryContact returns a company's active primary contact, or NotFound.
func (c *Client) PrimaryContact(ctx context.Context, companyID int64) (*Contact, error) {
	cs, err := QueryAll[Contact](ctx, c, NewQuery(Eq("companyID", companyID), Eq("primaryContact", true)).Limit(5))
	if err != nil {
		return nil, fmt.Errorf("autotask: primary contact of company %d: %w", companyID, err)
	}
	for i := range cs {
		if cs[i].IsActive != 0 {
			return &cs[i], nil
		}
	}
	return nil, &Error{Kind: KindNotFound, Method: "POST", Path: "Contacts/query", Messages: []string{fmt.Sprintf("company %d has no active primary contact", companyID)}}
}
