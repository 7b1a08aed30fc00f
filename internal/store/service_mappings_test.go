package store_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func storageMapping() store.ServiceMapping {
	return store.ServiceMapping{
		ApplicationID: "6e6d758d-8e74-3ae3-ac84-50eb0dff12eb", OfferingItem: "pw_base_storage",
		ServiceName: "Acronis Backup Storage (GB)", RawUnit: "bytes", BilledUnit: "GB",
		Divisor: "1073741824", Rounding: store.RoundUp,
	}
}

func TestUpsertServiceMapping_CreatesThenReplaces(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	created, err := st.UpsertServiceMapping(ctx, storageMapping(), admin)
	require.NoError(t, err)
	assert.Nil(t, created.ServiceID, "not yet created in Autotask")
	assert.Equal(t, "1073741824", created.Divisor)
	assert.Equal(t, admin.Name, created.UpdatedBy)

	m := storageMapping()
	m.ServiceID, m.Free = ptr(int64(31)), true
	updated, err := st.UpsertServiceMapping(ctx, m, admin)
	require.NoError(t, err)
	require.NotNil(t, updated.ServiceID)
	assert.Equal(t, int64(31), *updated.ServiceID)
	assert.True(t, updated.Free)

	got, err := st.ServiceMapping(ctx, m.ApplicationID, m.OfferingItem, m.InfraID)
	require.NoError(t, err)
	assert.Equal(t, updated, got)
	assert.Equal(t, 1, countRows(t, st, "service_mappings"), "one row per offering item")

	page, err := st.ListAudit(ctx, store.AuditFilter{KindPrefix: "mapping.service"})
	require.NoError(t, err)
	require.Len(t, page.Entries, 2)
	assert.Contains(t, string(page.Entries[0].Before), `"serviceId": null`)
	assert.Contains(t, string(page.Entries[0].After), `"serviceId": 31`)
}

func TestUpsertServiceMapping_DefaultsAndValidation(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	got, err := st.UpsertServiceMapping(ctx, store.ServiceMapping{ApplicationID: "app", OfferingItem: "pw_base_servers",
		ServiceName: "Backup Server", RawUnit: "quantity", BilledUnit: "unit"}, admin)
	require.NoError(t, err)
	assert.Equal(t, "1", got.Divisor)
	assert.Equal(t, store.RoundUp, got.Rounding)

	bad := map[string]func(*store.ServiceMapping){
		"zero divisor":       func(m *store.ServiceMapping) { m.Divisor = "0" },
		"malformed divisor":  func(m *store.ServiceMapping) { m.Divisor = "1GB" },
		"unknown rounding":   func(m *store.ServiceMapping) { m.Rounding = "banker" },
		"no service name":    func(m *store.ServiceMapping) { m.ServiceName = "" },
		"no offering item":   func(m *store.ServiceMapping) { m.OfferingItem = "" },
		"negative serviceID": func(m *store.ServiceMapping) { m.ServiceID = ptr(int64(-1)) },
	}
	for name, mutate := range bad {
		m := storageMapping()
		mutate(&m)
		_, err := st.UpsertServiceMapping(ctx, m, admin)
		assert.ErrorIs(t, err, store.ErrInvalid, name)
	}
	assert.Equal(t, 1, countRows(t, st, "service_mappings"), "rows")
}

func TestListAndDeleteServiceMappings(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	for _, item := range []string{"pw_base_vms", "pw_base_servers"} {
		m := storageMapping()
		m.OfferingItem = item
		_, err := st.UpsertServiceMapping(ctx, m, admin)
		require.NoError(t, err)
	}
	list, err := st.ListServiceMappings(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"pw_base_servers", "pw_base_vms"}, []string{list[0].OfferingItem, list[1].OfferingItem})

	app := storageMapping().ApplicationID
	require.NoError(t, st.DeleteServiceMapping(ctx, app, "pw_base_vms", "", admin))
	assert.ErrorIs(t, st.DeleteServiceMapping(ctx, app, "pw_base_vms", "", admin), store.ErrNotFound)
	_, err = st.ServiceMapping(ctx, app, "pw_base_vms", "")
	assert.ErrorIs(t, err, store.ErrNotFound)

	page, err := st.ListAudit(ctx, store.AuditFilter{KindPrefix: store.KindServiceMappingDelete})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1, "one audited delete")
	assert.Nil(t, page.Entries[0].After)
	assert.Contains(t, string(page.Entries[0].Before), "pw_base_vms")
}

func TestServiceMappings_EachStorageMapsOnItsOwn(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	a, b := storageMapping(), storageMapping()
	a.InfraID, a.ServiceName = "infra-a", "Backup storage A"
	b.InfraID, b.ServiceName = "infra-b", "Backup storage B"
	for _, m := range []store.ServiceMapping{a, b} {
		_, err := st.UpsertServiceMapping(ctx, m, admin)
		require.NoError(t, err)
	}
	all, err := st.ListServiceMappings(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2, "two storages of one item are two mappings")
	got, err := st.ServiceMapping(ctx, b.ApplicationID, b.OfferingItem, "infra-b")
	require.NoError(t, err)
	assert.Equal(t, "Backup storage B", got.ServiceName)
	_, err = st.ServiceMapping(ctx, b.ApplicationID, b.OfferingItem, "")
	assert.ErrorIs(t, err, store.ErrNotFound, "the item without a storage is not mapped")
}

func TestReplaceServiceMappings_IsAllOrNothing(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	old := storageMapping()
	_, err := st.UpsertServiceMapping(ctx, old, admin)
	require.NoError(t, err)
	auditBefore, err := st.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)

	// The first row is fine; the second holds a value only the database
	// refuses (validation is bypassed here on purpose).
	good := storageMapping()
	good.OfferingItem, good.ServiceName = "pw_base_workstations", "Workstations"
	bad := storageMapping()
	bad.OfferingItem, bad.Divisor = "pw_base_servers", "1e1000000"
	_, err = st.ReplaceServiceMappings(ctx, []store.ServiceMapping{good, bad}, admin)
	require.ErrorIs(t, err, store.ErrInvalid)

	all, err := st.ListServiceMappings(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1, "the good row was saved alone or the old row removed")
	assert.Equal(t, old.OfferingItem, all[0].OfferingItem)
	auditAfter, err := st.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	assert.Equal(t, len(auditBefore.Entries), len(auditAfter.Entries), "a rolled-back replace left audit rows")

	// A valid replace upserts the listed rows and removes the rest, audited.
	saved, err := st.ReplaceServiceMappings(ctx, []store.ServiceMapping{good}, admin)
	require.NoError(t, err)
	require.Len(t, saved, 1)
	all, err = st.ListServiceMappings(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, "pw_base_workstations", all[0].OfferingItem)
	deleted, err := st.ListAudit(ctx, store.AuditFilter{KindPrefix: store.KindServiceMappingDelete})
	require.NoError(t, err)
	assert.Len(t, deleted.Entries, 1)
}

// TestServiceMappings_OverageServiceIsStoredAndChecked: a prepaid item's
// overage service is kept and read back; the database refuses an overage
// service equal to the item's own service or on a free item.
func TestServiceMappings_OverageServiceIsStoredAndChecked(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	m := storageMapping()
	m.OfferingItem, m.ServiceID, m.OverageServiceID = "pw_base_workstations", ptr(int64(301)), ptr(int64(310))
	saved, err := st.UpsertServiceMapping(ctx, m, admin)
	require.NoError(t, err)
	require.NotNil(t, saved.OverageServiceID)
	assert.Equal(t, int64(310), *saved.OverageServiceID)
	got, err := st.ServiceMapping(ctx, m.ApplicationID, m.OfferingItem, "")
	require.NoError(t, err)
	assert.Equal(t, saved, got)

	for name, mutate := range map[string]func(*store.ServiceMapping){
		"own service":      func(m *store.ServiceMapping) { m.OverageServiceID = ptr(int64(301)) },
		"free item":        func(m *store.ServiceMapping) { m.Free = true },
		"negative overage": func(m *store.ServiceMapping) { m.OverageServiceID = ptr(int64(-4)) },
	} {
		bad := m
		mutate(&bad)
		_, err := st.UpsertServiceMapping(ctx, bad, admin)
		assert.ErrorIs(t, err, store.ErrInvalid, name)
	}
	got, err = st.ServiceMapping(ctx, m.ApplicationID, m.OfferingItem, "")
	require.NoError(t, err)
	assert.Equal(t, int64(310), *got.OverageServiceID, "a refused change leaves the mapping as it was")

	m.OverageServiceID = nil
	cleared, err := st.UpsertServiceMapping(ctx, m, admin)
	require.NoError(t, err)
	assert.Nil(t, cleared.OverageServiceID, "replacing without overage turns it off")
}
