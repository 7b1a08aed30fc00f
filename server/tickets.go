package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AlertTicketLink is one alert ↔ Autotask ticket link (one ticket generation of an alert).
type AlertTicketLink struct {
	AlertID     string     `json:"alertId"`
	Generation  int        `json:"generation"`
	ExternalID  string     `json:"externalId"`
	TicketID    *int64     `json:"ticketId"` // null while the ticket is being created
	CompanyID   int64      `json:"companyId"`
	TenantID    string     `json:"tenantId"`
	AlertType   string     `json:"alertType"`
	Resource    string     `json:"resource"`
	State       string     `json:"state"` // open or closed
	Occurrences int        `json:"occurrences"`
	OpenedAt    time.Time  `json:"openedAt"`
	ClosedAt    *time.Time `json:"closedAt,omitempty"`
	ReopenedAt  *time.Time `json:"reopenedAt,omitempty"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// AlertTicketList is the answer of GET /api/v1/tickets, newest first.
type AlertTicketList struct {
	Tickets []AlertTicketLink `json:"tickets"`
}

func (s *Server) listAlertTickets(c echo.Context) error {
	q := store.AlertTicketQuery{AlertType: c.QueryParam("alertType"), State: c.QueryParam("state")}
	var bad []settings.FieldError
	if v := c.QueryParam("companyId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad = append(bad, settings.FieldError{Field: "companyId", Message: "must be a positive Autotask company id"})
		}
		q.CompanyID = &n
	}
	if q.State != "" && q.State != store.TicketOpen && q.State != store.TicketClosed {
		bad = append(bad, settings.FieldError{Field: "state", Message: "must be open or closed"})
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad = append(bad, settings.FieldError{Field: "limit", Message: "must be 1–1000"})
		}
		q.Limit = n
	}
	if len(bad) > 0 {
		return invalid("the query is invalid", bad...)
	}
	st, err := s.alertStore()
	if err != nil {
		return err
	}
	rows, err := st.QueryAlertTickets(c.Request().Context(), q)
	if err != nil {
		return err
	}
	out := AlertTicketList{Tickets: make([]AlertTicketLink, 0, len(rows))}
	for _, t := range rows {
		out.Tickets = append(out.Tickets, AlertTicketLink{AlertID: t.AlertID, Generation: t.Generation, ExternalID: t.ExternalID,
			TicketID: t.TicketID, CompanyID: t.CompanyID, TenantID: t.TenantID, AlertType: t.AlertType, Resource: t.Resource,
			State: t.State, Occurrences: t.Occurrences, OpenedAt: t.OpenedAt, ClosedAt: t.ClosedAt, ReopenedAt: t.ReopenedAt,
			UpdatedAt: t.UpdatedAt})
	}
	return c.JSON(http.StatusOK, out)
}
