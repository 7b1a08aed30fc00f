package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// Audit kinds of the alert ticket writes (issue 14: every write to either
// vendor is in the audit log).
const (
	auditTicketCreate  = "autotask.ticket.create"
	auditTicketNote    = "autotask.ticket.note"
	auditTicketClose   = "autotask.ticket.close"
	auditTicketReopen  = "autotask.ticket.reopen"
	auditAlertDismiss  = "acronis.alert.dismiss"
	systemAlertTickets = store.SystemAutotask
)

// auditTicket records one ticket write when an audit log is configured. The
// write already happened, so a failed audit entry is logged, not returned.
func (a *Alerts) auditTicket(ctx context.Context, kind, system string, ticketID int64, alertID, reason string) {
	if a.Audit == nil {
		return
	}
	e := store.AuditEntry{Actor: "integration", Kind: kind, System: system, Reason: reason}
	if ticketID != 0 {
		e.TicketID = &ticketID
		e.Target = fmt.Sprintf("ticket/%d", ticketID)
	}
	if alertID != "" {
		e.AlertID = &alertID
		if e.Target == "" {
			e.Target = "alert/" + alertID
		}
	}
	if err := a.Audit.AppendAudit(ctx, e); err != nil {
		activity.GetLogger(ctx).Error("audit log write failed", "kind", kind, "error", err)
	}
}
