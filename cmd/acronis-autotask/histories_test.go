package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// historiesDir holds the recorded histories that workflows/replay_test.go replays.
const historiesDir = "../../workflows/testdata/histories"

// historyVersion prefixes new recordings; older generations stay and are replayed too.
const historyVersion = "v4"

// recording reports whether this run records histories (RECORD_HISTORIES=1);
// the stack then uses the test-only key the replay test decrypts with.
func recording() bool { return os.Getenv("RECORD_HISTORIES") != "" }

func replayKey(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(historiesDir, "SECRETS_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// recordHistories saves the current histories of the given workflows as
// <name>-<workflow id>.json, in the format `temporal workflow show --output json` writes.
func (s *stack) recordHistories(name string, ids ...string) {
	t := s.t
	if !recording() {
		return
	}
	c, err := client.Dial(client.Options{HostPort: s.env["TEMPORAL_ADDRESS"], Namespace: s.env["TEMPORAL_NAMESPACE"]})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, id := range ids {
		it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		h := &historypb.History{}
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", id, err)
			}
			h.Events = append(h.Events, e)
		}
		raw, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(historiesDir, historyVersion+"-"+name+"-"+id+".json")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %d events of %s in %s", len(h.Events), id, path)
	}
}
