package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestAppendAudit_StoresEveryField(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	in := store.AuditEntry{
		Kind: "acronis.tenant.create", System: store.SystemAcronis,
		CompanyID: ptr(int64(29683)), TenantID: ptr("0b1c-tenant"), ContractID: ptr(int64(5)),
		TicketID: ptr(int64(77)), AlertID: ptr("alert-1"), Target: "tenant Contoso",
		Before: nil, After: json.RawMessage(`{"name": "Contoso"}`),
	}.WithActor(admin)
	require.NoError(t, st.AppendAudit(ctx, in))

	page, err := st.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	got := page.Entries[0]
	assert.NotZero(t, got.ID)
	assert.WithinDuration(t, time.Now(), got.At, time.Minute)
	got.ID, got.At, in.After, got.After = 0, time.Time{}, nil, nil
	assert.Equal(t, in, got)
	assert.Empty(t, page.NextCursor)
}

func TestAppendAudit_RejectsIncompleteEntries(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	ok := store.AuditEntry{Kind: "autotask.ticket.create", System: store.SystemAutotask, Actor: "worker"}
	bad := map[string]store.AuditEntry{}
	e := ok
	e.Actor = ""
	bad["no actor"] = e
	e = ok
	e.Kind = "create"
	bad["undotted kind"] = e
	e = ok
	e.System = "zendesk"
	bad["unknown system"] = e
	for name, e := range bad {
		assert.ErrorIs(t, st.AppendAudit(ctx, e), store.ErrInvalid, name)
	}
	assert.Equal(t, 0, countRows(t, st, "audit_log"), "audit rows")
}

func TestAppendAuditTx_RollsBackWithTheTransaction(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	e := store.AuditEntry{Kind: "autotask.ticket.create", System: store.SystemAutotask, Actor: "worker"}
	err := st.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := store.AppendAuditTx(ctx, tx, e); err != nil {
			return err
		}
		return assert.AnError
	})
	assert.ErrorIs(t, err, assert.AnError)
	assert.Equal(t, 0, countRows(t, st, "audit_log"), "audit rows after rollback")

	require.NoError(t, st.InTx(ctx, func(tx pgx.Tx) error {
		_, err := store.AppendAuditTx(ctx, tx, e)
		return err
	}))
	assert.Equal(t, 1, countRows(t, st, "audit_log"), "audit rows after commit")
}

func TestListAudit_FiltersAndPages(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	add := func(kind, system string, company *int64) {
		t.Helper()
		require.NoError(t, st.AppendAudit(ctx, store.AuditEntry{Kind: kind, System: system, CompanyID: company}.WithActor(admin)))
	}
	for range 5 {
		add("acronis.tenant.update", store.SystemAcronis, ptr(int64(1)))
	}
	add("acronis_x.other", store.SystemAcronis, ptr(int64(1)))
	add("autotask.ticket.create", store.SystemAutotask, ptr(int64(2)))
	add("settings.update", store.SystemAdmin, nil)

	kinds := func(f store.AuditFilter) []string {
		t.Helper()
		page, err := st.ListAudit(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, e := range page.Entries {
			out = append(out, e.Kind)
		}
		return out
	}
	assert.Len(t, kinds(store.AuditFilter{CompanyID: ptr(int64(1))}), 6, "company 1")
	assert.Equal(t, []string{"autotask.ticket.create"}, kinds(store.AuditFilter{CompanyID: ptr(int64(2))}))
	assert.Len(t, kinds(store.AuditFilter{KindPrefix: "acronis"}), 5, "kind prefix acronis (not acronis_x)")
	assert.Len(t, kinds(store.AuditFilter{KindPrefix: "acronis.tenant."}), 5, "kind prefix with a trailing dot")
	assert.Equal(t, []string{"acronis_x.other"}, kinds(store.AuditFilter{KindPrefix: "acronis_x"}))
	assert.Empty(t, kinds(store.AuditFilter{KindPrefix: "acronis_"}), "underscore is not a wildcard")
	assert.Equal(t, []string{"settings.update"}, kinds(store.AuditFilter{System: store.SystemAdmin}))
	assert.Empty(t, kinds(store.AuditFilter{From: time.Now().Add(time.Hour)}), "from the future")
	assert.Empty(t, kinds(store.AuditFilter{To: time.Now().Add(-time.Hour)}), "up to an hour ago")
	assert.Len(t, kinds(store.AuditFilter{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}), 8, "within the hour")

	// Page through company 1 three at a time: no entry twice, none missed,
	// newest first, even when entries are added between pages.
	var (
		seen   []int64
		cursor string
	)
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5, "too many pages")
		page, err := st.ListAudit(ctx, store.AuditFilter{CompanyID: ptr(int64(1)), Limit: 3, Cursor: cursor})
		require.NoError(t, err)
		for _, e := range page.Entries {
			seen = append(seen, e.ID)
		}
		if pages == 0 {
			add("acronis.tenant.update", store.SystemAcronis, ptr(int64(1))) // newer than every page
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	require.Len(t, seen, 6, "ids seen: %v", seen)
	for i := 1; i < len(seen); i++ {
		assert.Greater(t, seen[i-1], seen[i], "newest first: %v", seen)
	}

	_, err := st.ListAudit(ctx, store.AuditFilter{Cursor: "not-a-cursor"})
	assert.ErrorIs(t, err, store.ErrInvalid)
}
