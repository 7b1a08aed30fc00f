package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunWithDB(m)) }

// admin is the actor of every write in these tests.
var admin = store.Actor{Name: "alice@example.com", RequestID: "req-42", Reason: "testing"}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ptr[T any](v T) *T { return &v }

// countRows counts the rows of a table, to prove that nothing was written.
func countRows(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
