package store_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestMapCustomer_OneCompanyOneTenant(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	m, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 100, TenantID: "tenant-a"}, admin)
	require.NoError(t, err)
	assert.Equal(t, store.MappedManually, m.How)
	assert.Equal(t, "mapped", m.State)
	assert.Equal(t, admin.Name, m.MappedBy)

	again, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 100, TenantID: "tenant-a"}, admin)
	require.NoError(t, err, "the same mapping again is harmless")
	assert.Equal(t, m, again)

	_, err = st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 100, TenantID: "tenant-b"}, admin)
	assert.ErrorIs(t, err, store.ErrConflict, "company already mapped to another tenant")
	_, err = st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 200, TenantID: "tenant-a"}, admin)
	assert.ErrorIs(t, err, store.ErrConflict, "tenant already mapped to another company")
	_, err = st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 200, TenantID: "tenant-b", How: "magic"}, admin)
	assert.ErrorIs(t, err, store.ErrInvalid, "unknown how")

	assert.Equal(t, 1, countRows(t, st, "customer_mappings"), "mappings")
	assert.Equal(t, 1, countRows(t, st, "audit_log"), "audit rows: only the real change")
}

func TestMapCustomer_ConcurrentClaimsOfOneTenant(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	const claimers = 6
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	for i := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.MapCustomer(ctx, store.CustomerMapping{CompanyID: int64(1000 + i), TenantID: "contested",
				How: store.MappedAutomatically}, admin)
		}()
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		if err == nil {
			wins++
		} else {
			assert.ErrorIs(t, err, store.ErrConflict, "claimer %d", i)
		}
	}
	assert.Equal(t, 1, wins, "winners")
	assert.Equal(t, 1, countRows(t, st, "customer_mappings"), "mappings")
}

func TestCustomerMappings_LookupsStateAndUnmap(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	for i, tenant := range []string{"t1", "t2", "t3"} {
		_, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: int64(i + 1), TenantID: tenant,
			How: store.MappedAutomatically}, admin)
		require.NoError(t, err)
	}
	byCompany, err := st.CustomerMappingByCompany(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, "t2", byCompany.TenantID)
	byTenant, err := st.CustomerMappingByTenant(ctx, "t3")
	require.NoError(t, err)
	assert.Equal(t, int64(3), byTenant.CompanyID)
	_, err = st.CustomerMappingByCompany(ctx, 99)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.CustomerMappingByTenant(ctx, "nope")
	assert.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, st.SetCustomerState(ctx, 2, "error", "contract 7 mixes PAYG and prepaid"))
	assert.ErrorIs(t, st.SetCustomerState(ctx, 99, "active", ""), store.ErrNotFound)

	companies := func(f store.CustomerMappingFilter) []int64 {
		t.Helper()
		list, err := st.ListCustomerMappings(ctx, f)
		require.NoError(t, err)
		var out []int64
		for _, m := range list {
			out = append(out, m.CompanyID)
		}
		return out
	}
	assert.Equal(t, []int64{1, 2, 3}, companies(store.CustomerMappingFilter{}))
	assert.Equal(t, []int64{1, 3}, companies(store.CustomerMappingFilter{CompanyIDs: []int64{3, 1, 50}}))
	assert.Empty(t, companies(store.CustomerMappingFilter{CompanyIDs: []int64{}}), "an empty page of companies")
	assert.Equal(t, []int64{2}, companies(store.CustomerMappingFilter{TenantIDs: []string{"t2"}}))
	assert.Equal(t, []int64{2}, companies(store.CustomerMappingFilter{State: "error"}))
	assert.Equal(t, []int64{2}, companies(store.CustomerMappingFilter{WithError: true}))
	assert.Equal(t, []int64{1, 2, 3}, companies(store.CustomerMappingFilter{How: store.MappedAutomatically}))

	require.NoError(t, st.UnmapCustomer(ctx, 2, admin))
	assert.ErrorIs(t, st.UnmapCustomer(ctx, 2, admin), store.ErrNotFound)
	// The tenant is free again.
	_, err = st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 4, TenantID: "t2"}, admin)
	require.NoError(t, err)

	page, err := st.ListAudit(ctx, store.AuditFilter{CompanyID: ptr(int64(2))})
	require.NoError(t, err)
	require.Len(t, page.Entries, 2, "map and unmap of company 2")
	assert.Equal(t, store.KindCustomerMappingDelete, page.Entries[0].Kind)
	require.NotNil(t, page.Entries[0].TenantID)
	assert.Equal(t, "t2", *page.Entries[0].TenantID)
}
