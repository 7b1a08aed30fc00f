package autotask_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

func TestCreateService_UsesAnActiveRecurringAllocationCode(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	c := ctx(t)
	fields, err := e.client.Fields(c, "Services")
	if err != nil {
		t.Fatalf("Fields(Services): %v", err)
	}
	monthly, err := autotask.PicklistCode(fields, "periodType", "Monthly")
	if err != nil {
		t.Fatalf("periodType Monthly: %v", err)
	}
	svc := autotask.Service{Name: "Acronis Cyber Protect - Mobile devices (new)", BillingCodeID: int(atsandbox.BillingCodeAcronis),
		PeriodType: monthly, UnitPrice: autotask.Ptr(0.0)}
	id, err := e.client.CreateService(c, svc)
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	got, err := autotask.Get[autotask.Service](c, e.client, id)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if got.Name != svc.Name || autotask.Val(got.UnitPrice) != 0 || !autotask.Val(got.IsActive) || got.PeriodType != monthly {
		t.Errorf("service = %+v, want name %q, unitPrice 0, active, periodType %d", got, svc.Name, monthly)
	}
	svc.BillingCodeID = int(atsandbox.BillingCodeLegacy)
	if _, err := e.client.CreateService(c, svc); !autotask.IsInvalid(err) {
		t.Errorf("CreateService with an inactive allocation code: error = %v, want Invalid", err)
	}
	svc.BillingCodeID, svc.UnitPrice = int(atsandbox.BillingCodeAcronis), nil
	_, err = e.client.CreateService(c, svc)
	if !autotask.IsInvalid(err) || !strings.Contains(err.Error(), "unitPrice") {
		t.Errorf("CreateService without unitPrice: error = %v, want Invalid naming unitPrice", err)
	}
}

func TestContractServiceAdjustment_ChangesUnitsButNotTheContract(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	c := ctx(t)
	contractID := atsandbox.DemoContractID(101)
	before, err := autotask.Get[autotask.Contract](c, e.client, contractID)
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	unitsBefore, err := autotask.QueryAll[autotask.ContractServiceUnit](c, e.client, autotask.NewQuery(autotask.Eq("contractID", contractID)))
	if err != nil {
		t.Fatalf("units: %v", err)
	}
	maxID := slices.Max(ids(unitsBefore, func(u autotask.ContractServiceUnit) int64 { return u.ID }))
	_, err = e.client.CreateContractServiceAdjustment(c, autotask.ContractServiceAdjustment{ContractID: int(contractID),
		ServiceID: int(atsandbox.ServiceWorkstations), UnitChange: 5, EffectiveDate: autotask.Date(fixedNow)})
	if err != nil {
		t.Fatalf("CreateContractServiceAdjustment: %v", err)
	}
	after, err := autotask.Get[autotask.Contract](c, e.client, contractID)
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	if !after.LastModifiedDateTime.Equal(before.LastModifiedDateTime.Time) {
		t.Errorf("contract lastModifiedDateTime moved from %v to %v; an adjustment must not touch it (SPEC F11)", before.LastModifiedDateTime, after.LastModifiedDateTime)
	}
	today := autotask.Date(fixedNow)
	cur, err := autotask.QueryAll[autotask.ContractServiceUnit](c, e.client, autotask.NewQuery(autotask.Eq("contractID", contractID),
		autotask.Eq("serviceID", atsandbox.ServiceWorkstations), autotask.Lte("startDate", today), autotask.Gte("endDate", today)))
	if err != nil || len(cur) != 1 {
		t.Fatalf("current units rows = %v, %v; want one", cur, err)
	}
	if cur[0].Units != 30 {
		t.Errorf("current workstation units = %d, want 30 (25 + 5)", cur[0].Units)
	}
	if cur[0].ID <= maxID {
		t.Errorf("row after a mid-period adjustment has id %d, want above %d (a new period row)", cur[0].ID, maxID)
	}
	// A service not yet on the contract is added by the adjustment.
	if _, err := e.client.CreateContractServiceAdjustment(c, autotask.ContractServiceAdjustment{ContractID: int(contractID),
		ServiceID: int(atsandbox.ServiceMobileDevices), UnitChange: 4, EffectiveDate: autotask.Date(fixedNow)}); err != nil {
		t.Fatalf("adjust a new service: %v", err)
	}
	if n, ok := e.sb.CurrentUnits(contractID, atsandbox.ServiceMobileDevices); !ok || n != 4 {
		t.Errorf("mobile device units = %d (%v), want 4", n, ok)
	}
	_, err = e.client.CreateContractServiceAdjustment(c, autotask.ContractServiceAdjustment{ContractID: int(contractID),
		ServiceID: int(atsandbox.ServiceWorkstations), UnitChange: -100, EffectiveDate: autotask.Date(fixedNow)})
	if !autotask.IsInvalid(err) {
		t.Errorf("removing more units than present: error = %v, want Invalid", err)
	}
}

func TestBundleAdjustment(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	c := ctx(t)
	if _, err := e.client.CreateContractServiceBundleAdjustment(c, autotask.ContractServiceBundleAdjustment{
		ContractID: int(atsandbox.DemoContractID(103)), ServiceBundleID: int(atsandbox.ServiceBundleServer), UnitChange: 1,
		EffectiveDate: autotask.Date(fixedNow)}); err != nil {
		t.Fatalf("bundle adjustment: %v", err)
	}
	rows, err := autotask.QueryAll[autotask.ContractServiceBundleUnit](c, e.client, autotask.NewQuery(
		autotask.Eq("contractID", atsandbox.DemoContractID(103)), autotask.Lte("startDate", autotask.Date(fixedNow)), autotask.Gte("endDate", autotask.Date(fixedNow))))
	if err != nil || len(rows) != 1 || rows[0].Units != 3 {
		t.Fatalf("bundle units today = %+v, %v; want one row with 3 units", rows, err)
	}
	members, err := autotask.QueryAll[autotask.ServiceBundleService](c, e.client, autotask.NewQuery(autotask.Eq("serviceBundleID", atsandbox.ServiceBundleServer)))
	if err != nil {
		t.Fatalf("bundle services: %v", err)
	}
	got := ids(members, func(m autotask.ServiceBundleService) int64 { return m.ServiceID })
	if want := []int64{atsandbox.ServiceServers, atsandbox.ServiceAdvSecurityServer}; !slices.Equal(got, want) {
		t.Errorf("bundle services = %v, want %v", got, want)
	}
}

func TestUDF_CreateDefinitionListItemsAndSetOnContract(t *testing.T) {
	e := newEnv(t, atsandbox.Options{Dataset: "empty"})
	c := ctx(t)
	fields, err := e.client.Fields(c, "UserDefinedFieldDefinitions")
	if err != nil {
		t.Fatalf("fields: %v", err)
	}
	contractType, err1 := autotask.PicklistCode(fields, "udfType", "Contract")
	listType, err2 := autotask.PicklistCode(fields, "dataType", "List")
	if err1 != nil || err2 != nil {
		t.Fatalf("picklists: %v %v", err1, err2)
	}
	udfID, err := e.client.CreateUDFDefinition(c, autotask.UserDefinedFieldDefinition{Name: "Acronis PAYG", UDFType: contractType,
		DataType: listType, IsActive: autotask.Ptr(true), IsRequired: autotask.Ptr(false)})
	if err != nil {
		t.Fatalf("CreateUDFDefinition: %v", err)
	}
	for _, v := range []string{"Yes", "No"} {
		if _, err := e.client.CreateUDFListItem(c, udfID, autotask.UserDefinedFieldListItem{ValueForDisplay: v, ValueForExport: v}); err != nil {
			t.Fatalf("CreateUDFListItem(%s): %v", v, err)
		}
	}
	if _, err := e.client.CreateUDFListItem(c, udfID, autotask.UserDefinedFieldListItem{ValueForDisplay: "Yes", ValueForExport: "Y2"}); !autotask.IsInvalid(err) {
		t.Errorf("duplicate list item: error = %v, want Invalid", err)
	}
	if _, err := e.client.CreateUDFDefinition(c, autotask.UserDefinedFieldDefinition{Name: "acronis payg", UDFType: contractType, DataType: listType}); !autotask.IsInvalid(err) {
		t.Errorf("second definition with the same name: error = %v, want Invalid", err)
	}
	udfs, err := e.client.UDFFields(c, "Contracts")
	if err != nil || len(udfs) != 1 || udfs[0].Name != "Acronis PAYG" || len(udfs[0].PicklistValues) != 2 {
		t.Fatalf("Contracts UDF fields = %+v, %v; want Acronis PAYG with 2 options", udfs, err)
	}
	companyID, err := e.sb.AddCompany(autotask.Company{CompanyName: "Test Co", CompanyType: 1, Phone: "1"})
	if err != nil {
		t.Fatalf("AddCompany: %v", err)
	}
	contractID, err := e.sb.AddContract(autotask.Contract{CompanyID: int(companyID), ContractName: "C", ContractType: 7, Status: 1,
		StartDate: autotask.Date(fixedNow.AddDate(0, -1, 0)), EndDate: autotask.Date(fixedNow.AddDate(1, 0, 0))})
	if err != nil {
		t.Fatalf("AddContract: %v", err)
	}
	before, _ := e.sb.Contract(contractID)
	e.sb.RequestLog().Reset()
	if err := e.client.UpdateContractUDFs(c, contractID, []autotask.UDF{{Name: "Acronis PAYG", Value: autotask.Ptr("Yes")}}); err != nil {
		t.Fatalf("UpdateContractUDFs: %v", err)
	}
	after, _ := e.sb.Contract(contractID)
	if v, _ := autotask.UDFValue(after.UserDefinedFields, "Acronis PAYG"); v != "Yes" {
		t.Errorf("contract UDF = %q, want Yes", v)
	}
	if after.ContractName != before.ContractName || after.StartDate == nil {
		t.Errorf("sparse PATCH changed other fields: before %+v after %+v", before, after)
	}
	if err := e.client.UpdateContractUDFs(c, contractID, []autotask.UDF{{Name: "Acronis PAYG", Value: autotask.Ptr("Maybe")}}); !autotask.IsInvalid(err) {
		t.Errorf("setting a value that is not an option: error = %v, want Invalid", err)
	}
}

func TestTickets_CreateFindUpdateAndNotes(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	c := ctx(t)
	fields, err := e.client.Fields(c, "Tickets")
	if err != nil {
		t.Fatalf("ticket fields: %v", err)
	}
	code := func(field, label string) int {
		t.Helper()
		v, err := autotask.PicklistCode(fields, field, label)
		if err != nil {
			t.Fatalf("%s %s: %v", field, label, err)
		}
		return v
	}
	if code("status", "Complete") != 5 || code("status", "New") != 1 {
		t.Errorf("status codes New/Complete = %d/%d, want 1/5", code("status", "New"), code("status", "Complete"))
	}
	tk := autotask.Ticket{CompanyID: 101, ContractID: int(atsandbox.DemoContractID(101)), Title: "Backup failed on WS-01",
		Description: "Acronis alert", Status: code("status", "New"), Priority: code("priority", "High"), QueueID: code("queueID", "Monitoring Alert"),
		IssueType: code("issueType", "Backup"), SubIssueType: code("subIssueType", "Backup failed"), TicketType: code("ticketType", "Alert"),
		Source: code("source", "Monitoring Alert"), ExternalID: "alert-0001"}
	id, err := e.client.CreateTicket(c, tk)
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	found, err := e.client.FindTicketByExternalID(c, "alert-0001")
	if err != nil || found.ID != id || found.TicketNumber == "" {
		t.Fatalf("FindTicketByExternalID = %+v, %v; want ticket %d with a number", found, err, id)
	}
	if _, err := e.client.FindTicketByExternalID(c, "alert-none"); !autotask.IsNotFound(err) {
		t.Errorf("FindTicketByExternalID(unknown) error = %v, want NotFound", err)
	}
	if got := e.sb.TicketsByExternalID("alert-0001"); len(got) != 1 {
		t.Errorf("sandbox tickets with external id = %d, want 1", len(got))
	}
	if err := e.client.UpdateTicket(c, autotask.TicketUpdate{ID: id, Status: autotask.Ptr(5)}); err != nil {
		t.Fatalf("complete ticket: %v", err)
	}
	done, _ := autotask.Get[autotask.Ticket](c, e.client, id)
	if done.Status != 5 || done.CompletedDate == nil || done.Title != tk.Title {
		t.Errorf("completed ticket = status %d completed %v title %q; want 5, set, %q", done.Status, done.CompletedDate, done.Title, tk.Title)
	}
	if err := e.client.UpdateTicket(c, autotask.TicketUpdate{ID: id, Status: autotask.Ptr(1)}); err != nil {
		t.Fatalf("re-open ticket: %v", err)
	}
	noteFields, err := e.client.Fields(c, "TicketNotes")
	if err != nil {
		t.Fatalf("note fields: %v", err)
	}
	noteType, _ := autotask.PicklistCode(noteFields, "noteType", "Task Detail")
	publish, _ := autotask.PicklistCode(noteFields, "publish", "All Autotask Users")
	noteID, err := e.client.CreateTicketNote(c, id, autotask.TicketNote{Title: "Alert cleared", Description: "Cleared in Acronis", NoteType: noteType, Publish: publish})
	if err != nil {
		t.Fatalf("CreateTicketNote: %v", err)
	}
	if err := e.client.UpdateTicketNote(c, id, autotask.TicketNoteUpdate{ID: noteID, Description: autotask.Ptr("Cleared twice")}); err != nil {
		t.Fatalf("UpdateTicketNote: %v", err)
	}
	notes := e.sb.TicketNotes(id)
	if len(notes) != 1 || notes[0].Description != "Cleared twice" || notes[0].Title != "Alert cleared" {
		t.Errorf("notes = %+v, want one note with the new description and the old title", notes)
	}
	// Validation failures come back as Invalid with Autotask's strings.
	bad := tk
	bad.CompanyID = 424242
	if _, err := e.client.CreateTicket(c, bad); !autotask.IsInvalid(err) || !strings.Contains(err.Error(), "companyID") {
		t.Errorf("ticket for unknown company: error = %v, want Invalid naming companyID", err)
	}
	bad = tk
	bad.SubIssueType = code("subIssueType", "Malware detected")
	if _, err := e.client.CreateTicket(c, bad); !autotask.IsInvalid(err) {
		t.Errorf("sub-issue type of another issue type: error = %v, want Invalid", err)
	}
	bad = tk
	bad.ExternalID = strings.Repeat("x", 51)
	if _, err := e.client.CreateTicket(c, bad); !autotask.IsInvalid(err) {
		t.Errorf("externalID of 51 characters: error = %v, want Invalid", err)
	}
	if n := e.sb.TicketCount(); n != 1 {
		t.Errorf("tickets = %d, want 1", n)
	}
}

func TestThreshold_ReportsTheHourlyBudget(t *testing.T) {
	e := newEnv(t, atsandbox.Options{HourlyLimit: 500})
	if _, err := autotask.Get[autotask.Company](ctx(t), e.client, 101); err != nil {
		t.Fatal(err)
	}
	th, err := e.client.Threshold(ctx(t))
	if err != nil {
		t.Fatalf("Threshold: %v", err)
	}
	want := autotask.ThresholdInfo{ExternalRequestThreshold: 500, RequestThresholdTimeframe: 60, CurrentTimeframeRequestCount: 2}
	if th != want {
		t.Errorf("Threshold() = %+v, want %+v (it counts itself)", th, want)
	}
	_ = time.Second
}
