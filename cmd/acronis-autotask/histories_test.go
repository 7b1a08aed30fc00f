package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// historiesDir holds the recorded histories that workflows/replay_test.go replays.
const historiesDir = "../../workflows/testdata/histories"

// historyVersion prefixes new recordings; older generations stay and are replayed too.
const historyVersion = "v5"

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
	if !recording() {
		return
	}
	c := s.historyClient()
	defer c.Close()
	for _, id := range ids {
		s.saveHistory(name, id, s.history(c, id, ""))
	}
}

// recordWorkingRun saves, as <name>-<workflow id>.json, the newest run of
// workflow id that scheduled the activity named activity, once that run has
// closed. The latest run is often not the one that did the work: the usage
// report continues as new after every run, so its latest run is the next,
// idle one; an alert's workflow ends with its ticket's generation, and the
// next occurrence starts a new run under the same id.
func (s *stack) recordWorkingRun(name, id, activity string) {
	t := s.t
	if !recording() {
		return
	}
	c := s.historyClient()
	defer c.Close()
	var runs []*workflowpb.WorkflowExecutionInfo
	req := &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.env["TEMPORAL_NAMESPACE"], Query: fmt.Sprintf("WorkflowId = '%s'", id)}
	for {
		resp, err := c.ListWorkflow(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, resp.GetExecutions()...)
		if req.NextPageToken = resp.GetNextPageToken(); len(req.NextPageToken) == 0 {
			break
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].GetStartTime().AsTime().After(runs[j].GetStartTime().AsTime()) })
	for _, r := range runs {
		runID := r.GetExecution().GetRunId()
		for _, e := range s.history(c, id, runID).Events {
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activity {
				s.awaitClose(c, id, runID)
				s.saveHistory(name, id, s.history(c, id, runID))
				return
			}
		}
	}
	t.Fatalf("none of the %d runs of %s scheduled %s", len(runs), id, activity)
}

// awaitClose waits (at most a minute) until the run has closed, so a run
// that is still working is not recorded half done.
func (s *stack) awaitClose(c client.Client, id, runID string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, id, runID, true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			s.t.Fatalf("waiting for run %s of %s to close: %v", runID, id, err)
		}
	}
}

func (s *stack) historyClient() client.Client {
	c, err := client.Dial(client.Options{HostPort: s.env["TEMPORAL_ADDRESS"], Namespace: s.env["TEMPORAL_NAMESPACE"]})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// history reads every event of one run of id ("" is the latest run).
func (s *stack) history(c client.Client, id, runID string) *historypb.History {
	it := c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			s.t.Fatalf("history of %s (run %q): %v", id, runID, err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

func (s *stack) saveHistory(name, id string, h *historypb.History) {
	t := s.t
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
