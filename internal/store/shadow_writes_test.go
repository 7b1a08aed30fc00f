package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestShadowWrites_RecordedOncePerWriteAndPagedPerCustomer(t *testing.T) {
	st := testenv.MustOpenDB(t)
	ctx := context.Background()
	write := func(company int64, target string) shadow.Write {
		return shadow.Write{CompanyID: company, Vendor: shadow.VendorAcronis, Operation: "PUT /api/2/tenants/{id}/offering_items",
			Target: target, Payload: shadow.Summary(map[string]any{"quota": 5, "password": "secret-value"}), Warnings: []string{"w"}}
	}
	for range 2 { // a retried activity records the same write again
		require.NoError(t, st.RecordShadowWrite(ctx, write(7, "tenant:a")))
	}
	require.NoError(t, st.RecordShadowWrite(ctx, write(7, "tenant:b")))
	require.NoError(t, st.RecordShadowWrite(ctx, write(3, "tenant:c")))
	require.NoError(t, st.RecordShadowWrite(ctx, write(0, "alert:x")))

	p1, err := st.ShadowReport(ctx, "", 2)
	require.NoError(t, err)
	require.Len(t, p1.Customers, 2)
	require.Equal(t, []int64{0, 3}, []int64{p1.Customers[0].CompanyID, p1.Customers[1].CompanyID})
	require.NotEmpty(t, p1.NextCursor)
	require.NotContains(t, string(p1.Customers[1].Writes[0].Payload), "secret-value")

	p2, err := st.ShadowReport(ctx, p1.NextCursor, 2)
	require.NoError(t, err)
	require.Len(t, p2.Customers, 1)
	require.Equal(t, int64(7), p2.Customers[0].CompanyID)
	require.Len(t, p2.Customers[0].Writes, 2, "the retried write is recorded once")
	require.Equal(t, []string{"w"}, p2.Customers[0].Writes[0].Warnings)
	require.Empty(t, p2.NextCursor)

	_, err = st.ShadowReport(ctx, "x", 2)
	require.Error(t, err)
}
