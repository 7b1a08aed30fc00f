package acronis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

// TestReports_CreatePollDownloadParse runs the documented report flow against
// the sandbox: the stored copy is in_progress, then saved, and its csv_v2_0
// rows hold production figures for production tenants and trial figures for
// trial tenants.
func TestReports_CreatePollDownloadParse(t *testing.T) {
	e := newEnv(t, acsandbox.Options{ReportDelay: 2 * time.Minute}, nil)
	c := ctx(t)
	trial, err := e.client.CreateTenant(c, acronis.TenantCreate{Name: "Trial Co", Kind: acronis.KindCustomer, ParentID: e.sb.PartnerID()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sb.SetUsage(trial.ID, "pw_base_servers", "", 3, 3); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.SetUsage(acsandbox.LitwareID, "pw_base_servers", "", 2, 5); err != nil {
		t.Fatal(err)
	}
	want := acronis.SummaryReport(e.sb.PartnerID(), "2026-02-01", "2026-02-28")
	rep, err := e.client.CreateReport(c, want)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ID == "" || !rep.Same(want) {
		t.Fatalf("created %+v, want the same parameters as %+v", rep, want)
	}
	listed, err := e.client.TenantReports(c, e.sb.PartnerID())
	if err != nil || len(listed) != 1 || listed[0].ID != rep.ID || !listed[0].Same(want) {
		t.Fatalf("tenant reports = %+v, %v; want the one created", listed, err)
	}
	stored, err := e.client.StoredReports(c, rep.ID)
	if err != nil || len(stored) != 1 || stored[0].Status != acronis.StoredInProgress || stored[0].ReportFormat != acronis.ReportFormatCSV2 {
		t.Fatalf("stored right after creation = %+v, %v; want one csv_v2_0 in_progress", stored, err)
	}
	if _, err := e.client.DownloadStoredReport(c, rep.ID, stored[0].ID); err == nil {
		t.Fatal("downloading an in_progress report succeeded")
	}
	e.clock.Advance(2 * time.Minute)
	stored, err = e.client.StoredReports(c, rep.ID)
	if err != nil || stored[0].Status != acronis.StoredSaved {
		t.Fatalf("stored after the delay = %+v, %v; want saved", stored, err)
	}
	data, err := e.client.DownloadStoredReport(c, rep.ID, stored[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := acronis.ParseUsageCSV(data)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]acronis.ReportUsage{}
	for _, r := range rows {
		got[r.TenantID+"/"+r.Name] = r
	}
	if r := got[acsandbox.LitwareID+"/pw_base_servers"]; r.Production != "5" || r.Trial != "0" || r.Total != "5" {
		t.Errorf("Litware servers row = %+v; want production 5 (absolute), trial 0", r)
	}
	if r := got[trial.ID+"/pw_base_servers"]; r.Production != "0" || r.Trial != "3" {
		t.Errorf("trial tenant's servers row = %+v; want production 0, trial 3", r)
	}
}

func TestReports_FailedAndFutureAndFaults(t *testing.T) {
	e := newEnv(t, acsandbox.Options{ReportDelay: -1}, nil)
	c := ctx(t)
	e.sb.FailNextReports(1)
	rep, err := e.client.CreateReport(c, acronis.SummaryReport(e.sb.PartnerID(), "2026-02-01", "2026-02-28"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.client.StoredReports(c, rep.ID)
	if err != nil || stored[0].Status != acronis.StoredFailed {
		t.Fatalf("stored = %+v, %v; want failed", stored, err)
	}
	// A period ending after today (2026-03-10 on the sandbox clock) is refused.
	_, err = e.client.CreateReport(c, acronis.SummaryReport(e.sb.PartnerID(), "2026-03-01", "2026-03-31"))
	var ae *acronis.Error
	if !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("future period: %v; want a 400", err)
	}
	// The shared fault injection applies to reports like to every endpoint:
	// a 503 on the download is retried by the client.
	e.sb.Faults().Add(faultRule("/api/2/reports/"+rep.ID+"/stored/", 503, 1, 0))
	ok, err := e.client.CreateReport(c, acronis.SummaryReport(e.sb.PartnerID(), "2026-02-01", "2026-02-28"))
	if err != nil {
		t.Fatal(err)
	}
	stored, _ = e.client.StoredReports(c, ok.ID)
	e.sb.Faults().Reset()
	e.sb.Faults().Add(faultRule("/api/2/reports/"+ok.ID+"/stored/", 503, 1, 0))
	if _, err := e.client.DownloadStoredReport(c, ok.ID, stored[0].ID); err != nil {
		t.Fatalf("download after one 503: %v", err)
	}
	if e.sb.Faults().Fired() != 1 {
		t.Fatalf("fault fired %d times, want 1", e.sb.Faults().Fired())
	}
}

func TestParseUsageCSV_RejectsMissingColumns(t *testing.T) {
	if _, err := acronis.ParseUsageCSV([]byte("tenant.id,name\nx,y\n")); err == nil {
		t.Fatal("a report without the usage columns parsed")
	}
	rows, err := acronis.ParseUsageCSV([]byte("\ufefftenant.id,tenant.kind,application.id,name,infra.id,usage.absolute.production,usage.absolute.trial,usage.absolute.total\n" +
		"t1,customer,app,pw_base_storage,inf,1073741824,,1073741824\n"))
	if err != nil || len(rows) != 1 || rows[0].InfraID != "inf" || rows[0].Production != "1073741824" || rows[0].Trial != "0" {
		t.Fatalf("rows = %+v, %v", rows, err)
	}
}
