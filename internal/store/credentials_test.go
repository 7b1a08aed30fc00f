package store_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/bulkmap"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestCredential_NotFoundBeforeSave(t *testing.T) {
	st := testenv.MustOpenDB(t)
	_, err := st.Credential(testContext(t), store.SystemAutotask)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestSaveCredential_RoundTripsTheSecret(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	in := store.Credential{
		System: store.SystemAutotask,
		Public: map[string]string{"username": "api@example.com", "integrationCode": "TRACK1"},
		Secret: "s3cr3t-Autotask-Passw0rd",
	}
	require.NoError(t, st.SaveCredential(ctx, in, admin))

	got, err := st.Credential(ctx, store.SystemAutotask)
	require.NoError(t, err)
	assert.Equal(t, in.Secret, got.Secret)
	assert.Equal(t, in.Public, got.Public)
	assert.Equal(t, testenv.Keyring(t).PrimaryKeyID(), got.KeyID)
	assert.Equal(t, admin.Name, got.UpdatedBy)
	assert.False(t, got.UpdatedAt.IsZero(), "updated_at set")

	in.Public["username"] = "other@example.com"
	in.Secret = "n3w-secret-value"
	require.NoError(t, st.SaveCredential(ctx, in, admin))
	got, err = st.Credential(ctx, store.SystemAutotask)
	require.NoError(t, err)
	assert.Equal(t, "n3w-secret-value", got.Secret)
	assert.Equal(t, "other@example.com", got.Public["username"])
	assert.Equal(t, 1, countRows(t, st, "credentials"), "one row per system")
}

func TestSaveCredential_AuditMasksTheSecret(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	c := store.Credential{System: store.SystemAcronis, Public: map[string]string{"clientId": "cid"}, Secret: "first-secret"}
	require.NoError(t, st.SaveCredential(ctx, c, admin))
	c.Secret = "second-secret"
	require.NoError(t, st.SaveCredential(ctx, c, admin))

	page, err := st.ListAudit(ctx, store.AuditFilter{KindPrefix: store.KindCredentialUpdate})
	require.NoError(t, err)
	require.Len(t, page.Entries, 2)
	latest := page.Entries[0]
	for i, doc := range []json.RawMessage{latest.Before, latest.After, page.Entries[1].After} {
		s := string(doc)
		assert.NotContains(t, s, "first-secret", "document %d", i)
		assert.NotContains(t, s, "second-secret", "document %d", i)
		var got struct {
			Secret        string            `json:"secret"`
			Public        map[string]string `json:"public"`
			SecretChanged bool              `json:"secretChanged"`
		}
		require.NoError(t, json.Unmarshal(doc, &got), "document %d: %s", i, s)
		assert.Equal(t, "********", got.Secret, "document %d", i)
		assert.Equal(t, map[string]string{"clientId": "cid"}, got.Public, "document %d", i)
		assert.Equal(t, i != 0, got.SecretChanged, "document %d: secretChanged (only after documents say)", i)
	}
	assert.Equal(t, "credentials/acronis", latest.Target)
}

func TestSaveCredential_RejectsBadInput(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	cases := map[string]store.Credential{
		"unknown system":       {System: "zendesk", Secret: "x-secret"},
		"empty secret":         {System: store.SystemAutotask},
		"secret in public map": {System: store.SystemAutotask, Public: map[string]string{"note": "pw is hunter22"}, Secret: "hunter22"},
	}
	for name, c := range cases {
		err := st.SaveCredential(ctx, c, admin)
		assert.ErrorIs(t, err, store.ErrInvalid, name)
	}
	assert.Equal(t, 0, countRows(t, st, "credentials"), "credential rows")
	assert.Equal(t, 0, countRows(t, st, "audit_log"), "audit rows")
}

func TestCredential_CiphertextIsBoundToItsSystem(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	require.NoError(t, st.SaveCredential(ctx, store.Credential{System: store.SystemAutotask, Secret: "autotask-secret"}, admin))
	require.NoError(t, st.SaveCredential(ctx, store.Credential{System: store.SystemAcronis, Secret: "acronis-secret"}, admin))
	// Someone with database access copies the Autotask ciphertext over Acronis's.
	_, err := st.Pool().Exec(ctx, `UPDATE credentials SET secret_ciphertext =
		(SELECT secret_ciphertext FROM credentials WHERE system = 'autotask') WHERE system = 'acronis'`)
	require.NoError(t, err)
	_, err = st.Credential(ctx, store.SystemAcronis)
	assert.Error(t, err, "a moved ciphertext must not decrypt")
}

// TestDatabase_HoldsNoClearTextSecret fills every table through the store and
// then reads every row of every table as text, looking for the secret in clear
// or hex (how bytea renders) form.
func TestDatabase_HoldsNoClearTextSecret(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	const secret = "Tr0ub4dor&3-very-secret"
	for _, sys := range []string{store.SystemAutotask, store.SystemAcronis} {
		require.NoError(t, st.SaveCredential(ctx, store.Credential{System: sys,
			Public: map[string]string{"username": "api@example.com"}, Secret: secret}, admin))
		require.NoError(t, st.SaveCredential(ctx, store.Credential{System: sys,
			Public: map[string]string{"username": "api2@example.com"}, Secret: secret + "-rotated"}, admin))
	}
	fillEveryTable(t, st)

	rows, err := st.Pool().Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)
		FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
		AND table_type = 'BASE TABLE'`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(tables), 9, "tables scanned: %v", tables)

	needles := []string{secret, hex.EncodeToString([]byte(secret))}
	for _, table := range tables {
		rows, err := st.Pool().Query(ctx, "SELECT t::text FROM "+table+" t")
		require.NoError(t, err, table)
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err, table)
		if table != "public.goose_db_version" {
			assert.NotEmpty(t, texts, "table %s has rows to scan", table)
		}
		for _, text := range texts {
			for _, n := range needles {
				if strings.Contains(strings.ToLower(text), strings.ToLower(n)) {
					t.Errorf("table %s holds the secret in clear text: %s", table, text)
				}
			}
		}
	}
}

// fillEveryTable writes one row into each table, so the clear-text scan
// covers them all.
func fillEveryTable(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, st.SaveUnitRows(ctx, store.UnitRowService, []store.UnitRow{{ID: 1, ContractID: 2, ItemID: 3, Units: 4}}, 1))
	require.NoError(t, st.SaveSnapshotFingerprint(ctx, 101, "fp", nil, time.Now()))
	_, err := st.SaveSettings(ctx, json.RawMessage(`{"billingEnabled": true}`), 0, admin)
	require.NoError(t, err)
	_, err = st.SaveCheckedSettings(ctx, json.RawMessage(`{"billingEnabled": true, "tickets": {"sourceId": 4}}`), 1, admin,
		[]store.UnverifiedValue{{Field: "tickets.sourceId", Value: "4", Message: "Autotask could not be reached"}})
	require.NoError(t, err)
	_, err = st.UpsertServiceMapping(ctx, store.ServiceMapping{ApplicationID: "app", OfferingItem: "pw_base_servers",
		ServiceName: "Backup Server", RawUnit: "quantity", BilledUnit: "unit"}, admin)
	require.NoError(t, err)
	_, err = st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 1, TenantID: "t-1"}, admin)
	require.NoError(t, err)
	_, err = st.UpsertAlertMapping(ctx, store.AlertMapping{AlertType: "BackupFailed", CreateTicket: true}, admin)
	require.NoError(t, err)
	_, err = st.OpenAlertTicket(ctx, store.AlertTicket{AlertID: "a-1", CompanyID: 1, AlertType: "BackupFailed"})
	require.NoError(t, err)
	_, err = st.RecordUsage(ctx, usage(10, "5", "5"))
	require.NoError(t, err)
	rep, err := st.ClaimUsageReport(ctx, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "partner-1")
	require.NoError(t, err)
	_, err = st.UpdateUsageReport(ctx, rep.ID, "report-1", "stored-1", store.ReportSaved, "")
	require.NoError(t, err)
	require.NoError(t, st.SetCursor(ctx, "autotask.companies", json.RawMessage(`{"since":"2026-01-01T00:00:00Z"}`)))
	require.NoError(t, st.RecordShadowWrite(ctx, shadow.Write{CompanyID: 1, Vendor: shadow.VendorAcronis, Operation: "POST /api/2/users",
		Target: "tenant:t-1", Payload: shadow.Summary(map[string]any{"login": "admin", "password": "never-stored"})}))

	// The fleet's Autotask budget: keyed by the API user and a digest of the
	// integration code, never the code itself.
	lim, err := st.AutotaskLimiter(ctx, store.BudgetConfig{Username: "api@example.com", IntegrationCode: "integration-code-1",
		Hourly: 600, Threads: 3, CheckEvery: time.Minute, LeaseTTL: time.Minute})
	require.NoError(t, err)
	_, err = lim.Take(ctx, 1, autotask.PriorityTickets)
	require.NoError(t, err)
	_, ok, err := lim.Lease(ctx, "Tickets") // held: the scan must see the lease row
	require.NoError(t, err)
	require.True(t, ok, "a thread lease")
	require.NoError(t, lim.Observe(ctx, autotask.ThresholdInfo{ExternalRequestThreshold: 10000, RequestThresholdTimeframe: 60, CurrentTimeframeRequestCount: 5}))

	// The read model.
	now := time.Now()
	require.NoError(t, st.SaveCompanies(ctx, []store.CompanyRecord{{ID: 2, Name: "Contoso Ltd", Type: 1, TypeLabel: "Customer", Active: true,
		ContactKnown: true, ContactName: "Ann", ContactEmail: "ann@contoso.example", ModifiedAt: now}}, now))
	_, err = st.SaveTenants(ctx, []readmodel.Tenant{{ID: "5a6b7c8d-0001-4000-8000-000000000001", Name: "Contoso", Kind: "customer",
		Enabled: true, ContactEmail: "it@contoso.example", UpdatedAt: now}}, 1, now)
	require.NoError(t, err)
	require.NoError(t, st.SaveMappingPlan(ctx, bulkmap.Plan{ID: "plan-1", Source: bulkmap.SourceExplicit, Items: []bulkmap.Item{}, Skipped: []bulkmap.Skipped{},
		CreatedAt: now, CreatedBy: admin.Name, ExpiresAt: now.Add(time.Hour)}))
	require.NoError(t, st.SavePlanSet(ctx, plan.Set{ID: "plan-2", Scope: plan.Scope{All: true}, CreatedAt: now, CreatedBy: admin.Name,
		ExpiresAt: now.Add(plan.SetTTL)}, admin))
	require.NoError(t, st.MarkSuggestionsStale(ctx))
	_, _, err = st.RefreshSuggestions(ctx, 10)
	require.NoError(t, err)
}
