package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// seedDemo configures a fresh dev database for the demo data set: billing and
// automatic provisioning on, and the demo services mapped to offering items.
// It never touches a database whose settings were saved before.
func seedDemo(ctx context.Context, st *store.Store) (bool, error) {
	if _, err := st.CurrentSettings(ctx); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	actor := store.Actor{Name: "make dev", Reason: "demo data for the sandboxes"}
	for _, m := range demoServiceMappings() {
		if _, err := st.UpsertServiceMapping(ctx, m, actor); err != nil {
			return false, fmt.Errorf("seed service mapping %s: %w", m.OfferingItem, err)
		}
	}
	s := settings.Defaults()
	s.BillingEnabled, s.TicketCreationEnabled = true, true
	s.Provisioning.AutoCreateCustomers = true
	s.Provisioning.CreateAccountsBasedOn = settings.BasedOnPrimaryContact
	s.Provisioning.DefaultStorageID = acsandbox.DefaultStorageID
	s.Deprovisioning = settings.Deprovisioning{ZeroQuotas: true,
		Disable: settings.DelayedStep{Enabled: true, AfterDays: 30}, Delete: settings.DelayedStep{Enabled: true, AfterDays: 60}}
	s.UsageReporting.Storage = []settings.StorageReport{settings.StorageQuotaOverageTotal}
	// Daily reports of the month so far, so the PAYG demo customer shows usage at once.
	s.UsageReporting.Period = settings.PeriodCurrentMonth
	if err := s.Validate(); err != nil {
		return false, fmt.Errorf("demo settings: %w", err)
	}
	doc, err := json.Marshal(s)
	if err != nil {
		return false, err
	}
	if _, err := st.SaveSettings(ctx, doc, 0, actor); err != nil {
		return false, fmt.Errorf("seed settings: %w", err)
	}
	return true, nil
}

// seedDemoTickets is what `make dev` adds for tickets: alert mappings, ticket
// settings, and Litware (where the demo alerts are) mapped to its existing
// tenant as an admin would. Tests configure their own.
func seedDemoTickets(ctx context.Context, st *store.Store) error {
	if err := seedTicketSettings(ctx, st, store.Actor{Name: "make dev", Reason: "demo data for the sandboxes"}); err != nil {
		return err
	}
	if _, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 107, TenantID: acsandbox.LitwareID, How: store.MappedManually},
		store.Actor{Name: "make dev", Reason: "demo: Litware's tenant exists in Acronis"}); err != nil {
		return fmt.Errorf("seed Litware mapping: %w", err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// demoAlertMappings turn the demo's alert types into tickets in the sandbox's
// "Monitoring Alert" queue with matching issue types.
func demoAlertMappings() []store.AlertMapping {
	m := func(alertType string, priority, issue, subIssue int64) store.AlertMapping {
		return store.AlertMapping{AlertType: alertType, CreateTicket: true, Priority: ptr(priority), Status: ptr(int64(1)),
			QueueID: ptr(int64(8)), IssueType: ptr(issue), SubIssueType: ptr(subIssue), TicketType: ptr(int64(5))}
	}
	return []store.AlertMapping{
		m("BackupFailed", 1, 10, 101),
		m("NoBackupForXDays", 2, 10, 102),
		m("DrStorageHardQuotaExceeds", 1, 12, 121),
		m(acsandbox.MalwareAlertType, 4, 11, 111),
	}
}

func demoServiceMappings() []store.ServiceMapping {
	count := func(item string, service int64, name string) store.ServiceMapping {
		return store.ServiceMapping{ApplicationID: acsandbox.CyberProtectionAppID, OfferingItem: item, ServiceID: &service,
			ServiceName: name, RawUnit: "quantity", BilledUnit: "unit"}
	}
	storage := count("pw_base_storage", atsandbox.ServiceBackupStorage, "Acronis Cyber Protect - Backup storage (GB)")
	storage.InfraID, storage.RawUnit, storage.BilledUnit, storage.Divisor = acsandbox.DefaultStorageID, "bytes", "GB", "1073741824"
	return []store.ServiceMapping{
		count("pw_base_workstations", atsandbox.ServiceWorkstations, "Acronis Cyber Protect - Workstations"),
		count("pw_base_servers", atsandbox.ServiceServers, "Acronis Cyber Protect - Servers"),
		count("pw_base_vms", atsandbox.ServiceVirtualMachines, "Acronis Cyber Protect - Virtual machines"),
		count("pw_base_m365_seats", atsandbox.ServiceM365Seats, "Acronis Cyber Protect - Microsoft 365 seats"),
		count("pw_base_web_hosting_servers", atsandbox.ServiceWebHosting, "Acronis Cyber Protect - Web hosting servers"),
		count("pw_base_mobiles", atsandbox.ServiceMobileDevices, "Acronis Cyber Protect - Mobile devices"),
		count("pw_pack_adv_security", atsandbox.ServiceAdvSecurityWS, "Acronis Cyber Protect - Advanced Security (Workstations)"),
		storage,
	}
}

// seedTicketSettings stores the demo alert mappings and ticket settings
// (re-open within 7 days, auto-close, dismiss the alert on completion).
func seedTicketSettings(ctx context.Context, st *store.Store, actor store.Actor) error {
	for _, m := range demoAlertMappings() {
		if _, err := st.UpsertAlertMapping(ctx, m, actor); err != nil {
			return fmt.Errorf("seed alert mapping %s: %w", m.AlertType, err)
		}
	}
	cur, err := st.CurrentSettings(ctx)
	if err != nil {
		return err
	}
	s, err := settings.Decode(cur.Document)
	if err != nil {
		return err
	}
	s.Tickets = settings.Tickets{
		Reopening: settings.ReopenWindow{Enabled: true, WithinDays: 7},
		AutoClose: settings.AutoClose{Enabled: true, StatusID: ptr(int64(5))}, // Complete
		SourceID:  ptr(int64(8)), NoteTypeID: ptr(int64(1)), NotePublishID: ptr(int64(1)),
		DismissAlertOnComplete: true,
	}
	doc, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := st.SaveSettings(ctx, doc, cur.Version, actor); err != nil {
		return fmt.Errorf("seed ticket settings: %w", err)
	}
	return nil
}
