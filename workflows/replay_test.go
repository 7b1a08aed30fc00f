package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
)

// TestReplay_RecordedHistories replays every recorded history of a released
// workflow version: a change to workflow code that would break running
// workflows fails here (see testdata/histories/README.md).
func TestReplay_RecordedHistories(t *testing.T) {
	for _, f := range recordedHistories(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dc := historyConverter(t)
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflow(CustomerWorkflow)
			r.RegisterWorkflow(ContractSyncWorkflow)
			r.RegisterWorkflow(UsageReportWorkflow)
			r.RegisterWorkflow(AlertSyncWorkflow)
			r.RegisterWorkflow(AlertTicketWorkflow)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

// historiesDir holds the recorded histories, <generation>-<scenario>.json.
var historiesDir = filepath.Join("testdata", "histories")

// recordedHistories lists every recorded history file.
func recordedHistories(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories in %s (%v)", historiesDir, err)
	}
	return files
}

// historyConverter decrypts the recorded payloads with the test-only key.
func historyConverter(t *testing.T) converter.DataConverter {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(historiesDir, "SECRETS_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secrets.ParseKeyring(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return codec.DataConverter(keys)
}
