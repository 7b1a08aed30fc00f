package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
)

// TestReplay_RecordedHistories replays every recorded history of a released
// workflow version: a change to workflow code that would break running
// workflows fails here (see testdata/histories/README.md).
func TestReplay_RecordedHistories(t *testing.T) {
	dir := filepath.Join("testdata", "histories")
	raw, err := os.ReadFile(filepath.Join(dir, "SECRETS_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secrets.ParseKeyring(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories in %s (%v)", dir, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dc := codec.DataConverter(keys)
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
