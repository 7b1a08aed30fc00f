package activities

import (
	"context"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestRecordCustomerState_FollowsTheWorkflowPhaseAndClearsOnRecovery(t *testing.T) {
	st := testenv.MustOpenDB(t)
	ctx := context.Background()
	if _, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: 101, TenantID: "t-101"}, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(&Store{DB: st})
	record := func(companyID int64, state, lastError string) {
		t.Helper()
		if _, err := env.ExecuteActivity(StoreActs.RecordCustomerState, companyID, state, lastError); err != nil {
			t.Fatalf("record %d %s: %v", companyID, state, err)
		}
	}
	want := func(state, lastError string) {
		t.Helper()
		m, err := st.CustomerMappingByCompany(ctx, 101)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != state || m.LastError != lastError {
			t.Fatalf("mapping state %q error %q, want %q %q", m.State, m.LastError, state, lastError)
		}
	}

	record(101, "error", "apply quotas: Acronis answered 500 three times")
	want("error", "apply quotas: Acronis answered 500 three times")
	record(101, "active", "")
	want("active", "")

	// An unmapped company has no row: nothing to record, and no retry storm.
	record(999, "error", "boom")

	// A very long error is cut at a character boundary, not rejected.
	long := strings.Repeat("é", maxStoredErrorLen)
	record(101, "error", long)
	m, _ := st.CustomerMappingByCompany(ctx, 101)
	if !strings.HasSuffix(m.LastError, "…") || len(m.LastError) > maxStoredErrorLen+len("…") || !strings.HasPrefix(long, strings.TrimSuffix(m.LastError, "…")) {
		t.Fatalf("long error stored as %d bytes %q…", len(m.LastError), m.LastError[:20])
	}
}
