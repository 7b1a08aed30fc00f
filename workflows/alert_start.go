package workflows

import (
	"context"
	"fmt"
	"strconv"

	"github.com/acronis-autotask/acronis-autotask/internal/alert"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Names of the alert workflows' messages and of the alert sync singleton.
const (
	// AlertSyncWorkflowID names the singleton alert sync.
	AlertSyncWorkflowID = "alert-sync"
	// SignalAlert delivers an alert.Event to an alert's workflow.
	SignalAlert = "alert"
	// SignalTicketCompleted tells an alert's workflow its ticket was completed in Autotask (TicketCompleted).
	SignalTicketCompleted = "ticket-completed"
	// QueryAlertStatus returns the AlertState of an alert's workflow, or the AlertSyncState of the sync.
	QueryAlertStatus = "status"
)

// TicketCompleted is the body of SignalTicketCompleted.
type TicketCompleted struct {
	TicketID int64 `json:"ticketId"`
}

// AlertStartOptions starts (or joins) the one workflow of an Acronis alert;
// ev carries what is known of the alert (at least its id). The company and
// tenant (when known) become search attributes, so operators find a
// customer's alert workflows in the Temporal UI.
func AlertStartOptions(ev alert.Event, taskQueue string) client.StartWorkflowOptions {
	o := client.StartWorkflowOptions{
		ID:                       AlertWorkflowID(ev.AlertID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            AlertSummary(ev),
	}
	var attrs []temporal.SearchAttributeUpdate
	if ev.CompanyID > 0 {
		attrs = append(attrs, AttrAutotaskCompanyID.ValueSet(strconv.FormatInt(ev.CompanyID, 10)))
	}
	if ev.TenantID != "" {
		attrs = append(attrs, AttrAcronisTenantID.ValueSet(ev.TenantID))
	}
	if len(attrs) > 0 {
		o.TypedSearchAttributes = temporal.NewSearchAttributes(attrs...)
	}
	return o
}

// AlertSummary is the line the Temporal UI shows for an alert's ticket
// workflow: the alert's title as Acronis shows it, then what it is about
// ("Backup failed · Autotask ticket for Acronis alert 9f1… of company 107").
func AlertSummary(ev alert.Event) string {
	s := "Autotask ticket for Acronis alert " + ev.AlertID
	if ev.CompanyID > 0 {
		s += fmt.Sprintf(" of company %d", ev.CompanyID)
	}
	if ev.Title != "" {
		s = ev.Title + " · " + s
	}
	return s
}

// AlertSyncStartOptions starts (or joins) the singleton alert sync.
func AlertSyncStartOptions(taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       AlertSyncWorkflowID,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "Alert sync: reads Acronis alerts and hands each to the workflow that keeps its Autotask ticket",
	}
}

// Alerts starts and messages the alert workflows for code outside them (the
// alert sync activity, the REST API). It satisfies activities.AlertNotifier.
type Alerts struct {
	Client    client.Client
	TaskQueue string
}

// NotifyAlert delivers an alert event, starting the alert's workflow if it is not running.
func (a Alerts) NotifyAlert(ctx context.Context, ev alert.Event) error {
	_, err := a.Client.SignalWithStartWorkflow(ctx, AlertWorkflowID(ev.AlertID), SignalAlert, ev,
		AlertStartOptions(ev, a.TaskQueue), AlertTicketWorkflow, AlertState{AlertID: ev.AlertID})
	if err != nil {
		return fmt.Errorf("signal alert %s: %w", ev.AlertID, err)
	}
	return nil
}

// NotifyTicketCompleted tells an alert's workflow that its ticket was completed in Autotask.
func (a Alerts) NotifyTicketCompleted(ctx context.Context, alertID string, ticketID int64) error {
	_, err := a.Client.SignalWithStartWorkflow(ctx, AlertWorkflowID(alertID), SignalTicketCompleted, TicketCompleted{TicketID: ticketID},
		AlertStartOptions(alert.Event{AlertID: alertID}, a.TaskQueue), AlertTicketWorkflow, AlertState{AlertID: alertID})
	if err != nil {
		return fmt.Errorf("signal alert %s: %w", alertID, err)
	}
	return nil
}

// SyncNow runs the alert sync at once, starting it if it is not running.
func (a Alerts) SyncNow(ctx context.Context) error {
	_, err := a.Client.SignalWithStartWorkflow(ctx, AlertSyncWorkflowID, SignalSyncNow, nil,
		AlertSyncStartOptions(a.TaskQueue), AlertSyncWorkflow, AlertSyncState{})
	if err != nil {
		return fmt.Errorf("start alert sync: %w", err)
	}
	return nil
}
