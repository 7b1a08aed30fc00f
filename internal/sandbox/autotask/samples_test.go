package autotask_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// samplesDir holds published Autotask bodies, kept beside the client's tests
// (see its README for their sources).
const samplesDir = "../../autotask/testdata/autotask-samples"

func sample(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatalf("read sample %s: %v", name, err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse sample %s: %v", name, err)
	}
	return v
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// sameShape reports properties of want missing from got and values whose
// JSON types differ (null matches anything: it only means "not set").
func sameShape(t *testing.T, where string, got, want any) {
	t.Helper()
	gk, wk := jsonKind(got), jsonKind(want)
	if gk == "null" || wk == "null" {
		return
	}
	if gk != wk {
		t.Errorf("%s: sandbox has %s, sample has %s", where, gk, wk)
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s: sandbox lacks property %q", where, k)
				continue
			}
			sameShape(t, where+"."+k, gv, wv)
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			sameShape(t, where+"[0]", g[0], w[0])
		}
	}
}

func decode(t *testing.T, r response) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer %q: %v", r.body, err)
	}
	return v
}

func TestShape_AnswersMatchTheRealSamples(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	companies := decode(t, h.must200(h.do("POST", "Companies/query", where(cond("eq", "id", 101))), "companies"))
	sameShape(t, "Companies/query", companies, sample(t, "companies-query-response.json"))

	contracts := decode(t, h.must200(h.do("POST", "Contracts/query", where(cond("eq", "id", 2101))), "contracts"))
	sameShape(t, "Contracts/query", contracts, sample(t, "contracts-query-response.json"))

	created := h.must200(h.do("POST", "Tickets", map[string]any{"companyID": 101, "contractID": 2101, "title": "Alert", "status": 5,
		"priority": 2, "queueID": 8, "source": 8, "issueType": 10, "subIssueType": 101, "ticketType": 5, "ticketCategory": 3,
		"dueDateTime": "2026-11-25T12:00:00Z", "estimatedHours": 1.5, "description": "d", "externalID": "x-1"}), "create ticket")
	sameShape(t, "POST Tickets", decode(t, created), sample(t, "ticket-create-response.json"))
	tickets := decode(t, h.must200(h.do("POST", "Tickets/query", where(cond("eq", "externalID", "x-1"))), "tickets"))
	sameShape(t, "Tickets/query", tickets, sample(t, "tickets-query-response.json"))

	patched := h.must200(h.do("PATCH", "Contracts", map[string]any{"id": 2101, "userDefinedFields": []any{
		map[string]any{"name": "Acronis PAYG", "value": "No"}}}), "patch contract")
	sameShape(t, "PATCH Contracts", decode(t, patched), sample(t, "contract-udf-patch-response.json"))

	// Property names are case-insensitive, as in the published PascalCase bodies
	// (not sent through the validator: the schema spells them in camelCase).
	pascal := h.request(h.raw, "PATCH", h.base+"Contracts", map[string]any{"Id": 2101, "UserDefinedFields": []any{
		map[string]any{"Name": "Acronis PAYG", "Value": "Yes"}}}, creds())
	if pascal.status != 200 {
		t.Errorf("PascalCase PATCH = %d %s, want 200", pascal.status, pascal.body)
	}
	bad := h.request(h.raw, "POST", h.base+"Tickets", map[string]any{"companyID": 101, "title": "x", "status": 1, "priority": 99}, creds())
	if bad.status != 500 {
		t.Errorf("invalid ticket = %d, want 500", bad.status)
	}
	sameShape(t, "error", decode(t, bad), sample(t, "error-response.json"))

	fields := decode(t, h.must200(h.do("GET", "Tickets/entityInformation/fields", nil), "fields")).(map[string]any)
	want := sample(t, "resources-entityinformation-fields-subset.json").(map[string]any)["fields"].([]any)
	var picklist, plain any
	for _, f := range fields["fields"].([]any) {
		switch f.(map[string]any)["name"] {
		case "status":
			picklist = f
		case "title":
			plain = f
		}
	}
	sameShape(t, "Tickets fields[status]", picklist, want[0])
	sameShape(t, "Tickets fields[title]", plain, want[1])
	pv := picklist.(map[string]any)["picklistValues"].([]any)[0].(map[string]any)
	if _, isString := pv["value"].(string); !isString {
		t.Errorf("picklist value %v is %T, want a string like Autotask's", pv["value"], pv["value"])
	}
}
