package server

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/mocks"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/servicemap"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

func TestOfferingItems_GroupedWithMappingsAndSuggestedNames(t *testing.T) {
	h := newAPIHarness(t, nil)
	ws := atsandbox.ServiceWorkstations
	if _, err := h.store.UpsertServiceMapping(context.Background(), store.ServiceMapping{ApplicationID: acsandbox.CyberProtectionAppID,
		OfferingItem: "pw_base_workstations", ServiceID: &ws, ServiceName: "Acronis Cyber Protect - Workstations", RawUnit: "quantity", BilledUnit: "unit"},
		store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	r := h.do("GET", "/api/v1/offering-items", readToken, nil)
	if r.code != 200 {
		t.Fatalf("GET = %d %s", r.code, r.body)
	}
	got := decode[OfferingItems](t, r)
	find := func(items []OfferingItem, name, infra string) OfferingItem {
		t.Helper()
		for _, it := range items {
			if it.Name == name && it.InfraID == infra {
				return it
			}
		}
		t.Fatalf("%s@%s not in %+v", name, infra, items)
		return OfferingItem{}
	}
	w := find(got.Standard, "pw_base_workstations", "")
	if w.SuggestedServiceName != "Acronis Cyber Protect - Workstations" || w.Mapping == nil || *w.Mapping.ServiceID != ws {
		t.Fatalf("workstations = %+v (mapping %+v)", w, w.Mapping)
	}
	if s := find(got.Standard, "pw_base_servers", ""); s.Mapping != nil || s.SuggestedServiceName != "Acronis Cyber Protect - Servers" {
		t.Fatalf("servers = %+v", s)
	}
	if a := find(got.Advanced, "pw_pack_adv_security", ""); a.SuggestedServiceName != "Acronis Cyber Protect - Advanced Security" {
		t.Fatalf("advanced security = %+v", a)
	}
	st := find(got.Storage, "pw_base_storage", acsandbox.DefaultStorageID)
	if st.MeasurementUnit != "bytes" || st.StorageName == "" || !strings.Contains(st.SuggestedServiceName, st.StorageName) {
		t.Fatalf("storage = %+v", st)
	}
	find(got.Storage, "pw_base_storage", acsandbox.SecondaryStorageID)
}

func TestAutotaskServices_PagedAndFilteredByName(t *testing.T) {
	h := newAPIHarness(t, nil)
	r := h.do("GET", "/api/v1/autotask/services?pageSize=4", readToken, nil)
	if r.code != 200 {
		t.Fatalf("GET = %d %s", r.code, r.body)
	}
	first := decode[AutotaskServices](t, r)
	if len(first.Items) != 4 || first.NextCursor == "" || first.Items[0].ID != atsandbox.ServiceWorkstations {
		t.Fatalf("first page = %+v", first)
	}
	if it := first.Items[0]; it.Name != "Acronis Cyber Protect - Workstations" || it.PeriodType != "Monthly" || it.BillingCodeID != int(atsandbox.BillingCodeAcronis) {
		t.Fatalf("first item = %+v", it)
	}
	var all []AutotaskService
	all = append(all, first.Items...)
	for cursor := first.NextCursor; cursor != ""; {
		page := decode[AutotaskServices](t, h.do("GET", "/api/v1/autotask/services?pageSize=4&cursor="+cursor, readToken, nil))
		all = append(all, page.Items...)
		cursor = page.NextCursor
	}
	if len(all) != 10 {
		t.Fatalf("paged through %d services, want the 10 of the demo catalog", len(all))
	}
	got := decode[AutotaskServices](t, h.do("GET", "/api/v1/autotask/services?q=firewall", readToken, nil))
	if len(got.Items) != 1 || got.Items[0].ID != atsandbox.ServiceManagedFirewall || got.NextCursor != "" {
		t.Fatalf("q=firewall = %+v", got)
	}
	wantFields(t, h.do("GET", "/api/v1/autotask/services?pageSize=0&cursor=x&q="+strings.Repeat("a", 101), readToken, nil), "cursor", "pageSize", "q")
}

// syncRecorder is a Temporal client mock that expects the contract sync to be signalled.
func syncRecorder(t *testing.T) (workflows.Customers, *mocks.Client) {
	mc := mocks.NewClient(t)
	mc.On("SignalWithStartWorkflow", mock.Anything, workflows.ContractSyncWorkflowID, workflows.SignalSyncNow, nil,
		mock.Anything, mock.Anything, mock.Anything).Return(nil, nil)
	return workflows.Customers{Client: mc, TaskQueue: "test"}, mc
}

func settingsForNewServices(t *testing.T, h *apiHarness) {
	t.Helper()
	r := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"version": 0, "settings": map[string]any{
		"newServices": map[string]any{"allocationCodeId": atsandbox.BillingCodeAcronis, "periodType": "Monthly"}}})
	if r.code != 200 {
		t.Fatalf("PUT settings = %d %s", r.code, r.body)
	}
}

func TestServiceMappings_PutCreatesServicesSavesAndReplans(t *testing.T) {
	cw, mc := syncRecorder(t)
	h := newAPIHarness(t, cw)
	settingsForNewServices(t, h)
	body := ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_base_workstations", ServiceID: ptr(atsandbox.ServiceWorkstations)},
		{OfferingItem: "pw_base_servers", ServiceName: "Acronis Cyber Protect - Servers"}, // exists: reused, not created
		{OfferingItem: "pw_base_nas", ServiceName: "Acronis Cyber Protect - NAS", Free: true},
		{OfferingItem: "pw_pack_adv_security", ServiceID: ptr(atsandbox.ServiceAdvSecurityWS)},
		{OfferingItem: "pw_base_storage", InfraID: acsandbox.DefaultStorageID, ServiceID: ptr(atsandbox.ServiceBackupStorage)},
	}}
	r := h.do("PUT", "/api/v1/service-mappings", adminToken, body)
	if r.code != 200 {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
	got := decode[ServiceMappings](t, r)
	if len(got.CreatedServices) != 1 || got.CreatedServices[0].Name != "Acronis Cyber Protect - NAS" || len(got.Warnings) != 0 {
		t.Fatalf("created %+v, warnings %v", got.CreatedServices, got.Warnings)
	}
	nasID := got.CreatedServices[0].ID
	byItem := map[string]ServiceMapping{}
	for _, m := range got.Mappings {
		byItem[m.OfferingItem] = m
	}
	if m := byItem["pw_base_servers"]; m.ServiceID == nil || *m.ServiceID != atsandbox.ServiceServers {
		t.Fatalf("servers mapping = %+v, want the existing service %d", m, atsandbox.ServiceServers)
	}
	if m := byItem["pw_base_nas"]; m.ServiceID == nil || *m.ServiceID != nasID || !m.Free || m.UpdatedBy != "ops" {
		t.Fatalf("NAS mapping = %+v", m)
	}
	if m := byItem["pw_base_storage"]; m.RawUnit != "bytes" || m.BilledUnit != "GB" || m.Divisor != servicemap.BytesPerGB || m.Rounding != "up" || m.InfraID != acsandbox.DefaultStorageID {
		t.Fatalf("storage mapping = %+v", m)
	}
	if m := byItem["pw_base_workstations"]; m.ServiceName != "Acronis Cyber Protect - Workstations" || m.Divisor != "1" || m.BilledUnit != "unit" {
		t.Fatalf("workstations mapping = %+v", m)
	}
	// The new service exists in Autotask with the settings' defaults and price 0.
	svc := decode[AutotaskServices](t, h.do("GET", "/api/v1/autotask/services?q=NAS", readToken, nil))
	if len(svc.Items) != 1 || svc.Items[0].ID != nasID || svc.Items[0].PeriodType != "Monthly" ||
		svc.Items[0].BillingCodeID != int(atsandbox.BillingCodeAcronis) || svc.Items[0].UnitPrice == nil || *svc.Items[0].UnitPrice != 0 {
		t.Fatalf("created service = %+v", svc.Items)
	}
	// Its creation is audited.
	page, err := h.store.ListAudit(context.Background(), store.AuditFilter{KindPrefix: "autotask.service"})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Actor != "ops" || page.Entries[0].System != store.SystemAutotask {
		t.Fatalf("audit = %+v, %v", page.Entries, err)
	}
	mc.AssertNumberOfCalls(t, "SignalWithStartWorkflow", 1)

	// GET returns the same; a second PUT with fewer items removes the others and creates nothing new.
	if list := decode[ServiceMappings](t, h.do("GET", "/api/v1/service-mappings", readToken, nil)); len(list.Mappings) != 5 {
		t.Fatalf("GET = %+v", list)
	}
	body.Mappings = body.Mappings[2:3]
	r = h.do("PUT", "/api/v1/service-mappings", adminToken, body)
	if got := decode[ServiceMappings](t, r); r.code != 200 || len(got.Mappings) != 1 || len(got.CreatedServices) != 0 || *got.Mappings[0].ServiceID != nasID {
		t.Fatalf("second PUT = %d %s", r.code, r.body)
	}
}

func TestServiceMappings_InvalidDocumentNamesEveryFieldAndSavesNothing(t *testing.T) {
	h := newAPIHarness(t, nil) // no re-plan expected: nothing is saved
	before, _ := h.store.ListServiceMappings(context.Background())
	r := h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_base_teleporters", ServiceID: ptr(int64(301))},                                    // 0: unknown item
		{OfferingItem: "pw_base_storage", ServiceID: ptr(atsandbox.ServiceBackupStorage)},                    // 1: storage without infraId
		{OfferingItem: "pw_base_storage", InfraID: "nope", ServiceID: ptr(int64(305))},                       // 2: unknown storage
		{OfferingItem: "pw_pack_adv_dlp", ServiceID: ptr(int64(306))},                                        // 3: valid: standard items are mapped too
		{OfferingItem: "pw_base_nas"},                                                                        // 4: no service
		{OfferingItem: "pw_base_mobiles", ServiceID: ptr(int64(99999))},                                      // 5: service missing in Autotask
		{OfferingItem: "local_storage", ServiceName: "Local", ServiceID: ptr(int64(301))},                    // 6: both
		{OfferingItem: "pw_base_mobiles", ServiceID: ptr(int64(309)), Rounding: "sideways"},                  // 7: duplicate, bad rounding
		{OfferingItem: "pw_base_websites", ServiceName: "Acronis Websites"},                                  // 8: no allocation code set
		{OfferingItem: "", ServiceID: ptr(int64(301))},                                                       // 9: missing item
		{OfferingItem: "pw_base_servers", ServiceName: "x" + strings.Repeat("y", servicemap.MaxServiceName)}, // 10: name too long
		{OfferingItem: "pw_base_vms", ServiceID: ptr(int64(303)), Divisor: "-1"},                             // 11: bad divisor
	}})
	wantFields(t, r,
		"mappings[0].offeringItem", "mappings[10].serviceName", "mappings[11].divisor", "mappings[1].infraId", "mappings[2].infraId",
		"mappings[4].serviceId", "mappings[5].serviceId", "mappings[6].serviceId", "mappings[7].offeringItem", "mappings[7].rounding",
		"mappings[8].serviceName", "mappings[9].offeringItem")
	after, _ := h.store.ListServiceMappings(context.Background())
	if len(after) != len(before) {
		t.Fatalf("mappings changed by a rejected PUT: %d → %d", len(before), len(after))
	}
	// Advanced packs need a standard workload mapped (or free).
	wantFields(t, h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_pack_adv_dlp", ServiceID: ptr(int64(306))},
		{OfferingItem: "pw_base_storage", InfraID: acsandbox.DefaultStorageID, ServiceID: ptr(atsandbox.ServiceBackupStorage)},
		{OfferingItem: "pw_pack_adv_security", ServiceID: ptr(atsandbox.ServiceAdvSecurityWS)},
	}}), "mappings[0].offeringItem", "mappings[2].offeringItem")
	for _, bad := range []string{`{}`, `{"mappings":[{"offeringItem":"pw_base_nas","serviceId":"x"}]}`, `{"mappings":[],"extra":1}`} {
		if r := h.do("PUT", "/api/v1/service-mappings", adminToken, bad); r.code != 400 {
			t.Errorf("%s: %d, want 400", bad, r.code)
		}
	}
	if r := h.do("PUT", "/api/v1/service-mappings", readToken, `{"mappings":[]}`); r.code != 403 {
		t.Fatalf("read-only PUT = %d, want 403", r.code)
	}
}

func TestServiceMappings_AdvancedPackAcceptedWithAFreeStandardItem(t *testing.T) {
	cw, _ := syncRecorder(t)
	h := newAPIHarness(t, cw)
	r := h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_pack_adv_security", ServiceID: ptr(atsandbox.ServiceAdvSecurityWS)},
		{OfferingItem: "pw_base_workstations", ServiceID: ptr(atsandbox.ServiceWorkstations), Free: true},
	}})
	if r.code != 200 {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
}

func TestServiceMappings_ReplanFailureIsAWarning(t *testing.T) {
	mc := mocks.NewClient(t)
	mc.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, context.DeadlineExceeded)
	h := newAPIHarness(t, workflows.Customers{Client: mc, TaskQueue: "test"})
	r := h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_base_workstations", ServiceID: ptr(atsandbox.ServiceWorkstations)}}})
	got := decode[ServiceMappings](t, r)
	if r.code != 200 || len(got.Mappings) != 1 || len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "/api/v1/sync") {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
}

func ptr[T any](v T) *T { return &v }

func TestServiceMappings_StorageMetricsMapPerStorage(t *testing.T) {
	cw, _ := syncRecorder(t)
	h := newAPIHarness(t, cw)
	r := h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_base_workstations", ServiceID: ptr(atsandbox.ServiceWorkstations)},
		{OfferingItem: "quota_overage_total", InfraID: acsandbox.DefaultStorageID, ServiceID: ptr(atsandbox.ServiceBackupStorage)},
	}})
	if r.code != 200 {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
	m, err := h.store.ServiceMapping(context.Background(), acsandbox.CyberProtectionAppID, "quota_overage_total", acsandbox.DefaultStorageID)
	if err != nil || m.RawUnit != "bytes" || m.Divisor != "1073741824" {
		t.Fatalf("stored metric mapping = %+v, %v; want bytes → GB", m, err)
	}
	r = h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "class2_billed", ServiceID: ptr(atsandbox.ServiceBackupStorage)},
	}})
	if r.code != 400 || !strings.Contains(string(r.body), "mappings[0].infraId") {
		t.Fatalf("metric without a storage: %d %s; want 400 naming mappings[0].infraId", r.code, r.body)
	}
}

// TestServiceMappings_OverageIsValidatedStoredAndShown: a prepaid item's
// overage service is saved and shown by GET; an overage service that is
// missing, the item's own, another item's, free, or a second storage
// overage is refused field by field and nothing is saved.
func TestServiceMappings_OverageIsValidatedStoredAndShown(t *testing.T) {
	cw, _ := syncRecorder(t)
	h := newAPIHarness(t, cw)
	firewall := atsandbox.ServiceManagedFirewall
	r := h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_base_workstations", ServiceID: ptr(atsandbox.ServiceWorkstations), Overage: &servicemap.Overage{ServiceID: &firewall}},
	}})
	if r.code != 200 {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
	got := decode[ServiceMappings](t, h.do("GET", "/api/v1/service-mappings", readToken, nil))
	if len(got.Mappings) != 1 || got.Mappings[0].Overage == nil || *got.Mappings[0].Overage.ServiceID != firewall {
		t.Fatalf("GET = %+v; want workstations with overage service %d", got.Mappings, firewall)
	}

	ov := func(id int64) *servicemap.Overage { return &servicemap.Overage{ServiceID: &id} }
	r = h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_base_workstations", ServiceID: ptr(atsandbox.ServiceWorkstations), Overage: ov(atsandbox.ServiceWorkstations)}, // 0: own service
		{OfferingItem: "pw_base_servers", ServiceID: ptr(atsandbox.ServiceServers), Overage: ov(99999)},                                   // 1: not in Autotask
		{OfferingItem: "pw_base_vms", ServiceID: ptr(atsandbox.ServiceVirtualMachines), Overage: ov(atsandbox.ServiceServers)},            // 2: another item's service
		{OfferingItem: "pw_base_mobiles", ServiceID: ptr(atsandbox.ServiceMobileDevices), Free: true, Overage: ov(firewall)},              // 3: free
		{OfferingItem: "pw_base_websites", ServiceID: ptr(atsandbox.ServiceWebHosting), Overage: &servicemap.Overage{}},                   // 4: no service
		// 5: the storage's overage is already billed by the quota_overage_total mapping (6)
		{OfferingItem: "pw_base_storage", InfraID: acsandbox.DefaultStorageID, ServiceID: ptr(atsandbox.ServiceBackupStorage), Overage: ov(firewall)},
		{OfferingItem: "quota_overage_total", InfraID: acsandbox.DefaultStorageID, ServiceID: ptr(atsandbox.ServiceAdvSecurityServer)},
	}})
	wantFields(t, r, "mappings[0].overage.serviceId", "mappings[1].overage.serviceId", "mappings[2].overage.serviceId",
		"mappings[3].overage", "mappings[4].overage.serviceId", "mappings[5].overage")
	after, _ := h.store.ListServiceMappings(context.Background())
	if len(after) != 1 || after[0].OverageServiceID == nil || *after[0].OverageServiceID != firewall {
		t.Fatalf("after a refused PUT: %+v; want the saved mapping unchanged", after)
	}
}
