package activities

import (
	"os"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

// TestMain gives the package's tests one migrated PostgreSQL database.
func TestMain(m *testing.M) { os.Exit(testenv.RunWithDB(m)) }
