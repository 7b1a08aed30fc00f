package autotask_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// samplesDir holds published Autotask bodies (see its README for their sources).
const samplesDir = "testdata/autotask-samples"

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return b
}

// assertDecodedExactly checks that every property of the sample object has a
// field in v's type and that the decoded value equals the sample's.
func assertDecodedExactly(t *testing.T, where string, sample map[string]any, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	fields := map[string]reflect.Value{}
	for i := range rv.NumField() {
		tag, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
		fields[strings.ToLower(tag)] = rv.Field(i)
	}
	for key, want := range sample {
		f, ok := fields[strings.ToLower(key)]
		if !ok {
			t.Errorf("%s: property %q has no field in %s (dropped)", where, key, rv.Type())
			continue
		}
		got := normalise(f.Interface())
		if !sameValue(got, want) {
			t.Errorf("%s.%s: decoded %#v, want %#v", where, key, got, want)
		}
	}
}

// normalise turns a Go field value into the JSON value it stands for.
func normalise(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// sameValue compares a decoded value with the sample's: null equals the zero
// value, timestamps compare as instants, UDF values as text.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil || got == "" || got == 0.0 || got == false || isEmptySlice(got)
	case string:
		if g, ok := got.(string); ok && g == w {
			return true
		}
		gt, err1 := autotask.ParseTime(asString(got))
		wt, err2 := autotask.ParseTime(w)
		return err1 == nil && err2 == nil && gt.Equal(wt)
	case float64:
		g, ok := got.(float64)
		return ok && g == w
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case []any:
		g, ok := got.([]any)
		if !ok && len(w) == 0 {
			return got == nil
		}
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			wm, _ := w[i].(map[string]any)
			gm, _ := g[i].(map[string]any)
			if wm == nil || gm == nil || gm["name"] != wm["name"] {
				return false
			}
			if wm["value"] == nil {
				if gm["value"] != nil {
					return false
				}
				continue
			}
			if asString(gm["value"]) != jsonText(wm["value"]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

func isEmptySlice(v any) bool { s, ok := v.([]any); return ok && len(s) == 0 }

func asString(v any) string { s, _ := v.(string); return s }

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode sample: %v", err)
	}
	return m
}

func TestSamples_QueryResponsesDecodeExactly(t *testing.T) {
	cases := []struct {
		file   string
		decode func([]byte) ([]any, error)
	}{
		{"companies-query-response.json", decodePage[autotask.Company]},
		{"contracts-query-response.json", decodePage[autotask.Contract]},
		{"tickets-query-response.json", decodePage[autotask.Ticket]},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw := readSample(t, c.file)
			items, err := c.decode(raw)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			sample := decodeMap(t, raw)["items"].([]any)
			if len(items) != len(sample) {
				t.Fatalf("decoded %d items, want %d", len(items), len(sample))
			}
			for i := range items {
				assertDecodedExactly(t, c.file, sample[i].(map[string]any), items[i])
			}
		})
	}
}

func decodePage[T any](b []byte) ([]any, error) {
	var p autotask.Page[T]
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	out := make([]any, len(p.Items))
	for i := range p.Items {
		out[i] = p.Items[i]
	}
	return out, nil
}

func TestSamples_RequestsResponsesAndErrorsDecodeExactly(t *testing.T) {
	var tk autotask.Ticket
	raw := readSample(t, "ticket-create-request.json")
	if err := json.Unmarshal(raw, &tk); err != nil {
		t.Fatalf("ticket create request: %v", err)
	}
	assertDecodedExactly(t, "ticket-create-request.json", decodeMap(t, raw), tk)
	if want := time.Date(2020, 11, 17, 12, 13, 14, 0, time.UTC); !tk.DueDateTime.Equal(want) {
		t.Errorf("zone-less DueDateTime = %v, want %v (UTC)", tk.DueDateTime, want)
	}

	var ct autotask.Contract
	raw = readSample(t, "contract-udf-patch-request.json")
	if err := json.Unmarshal(raw, &ct); err != nil {
		t.Fatalf("contract patch request: %v", err)
	}
	assertDecodedExactly(t, "contract-udf-patch-request.json", decodeMap(t, raw), ct)

	for _, f := range []string{"ticket-create-response.json", "contract-udf-patch-response.json"} {
		var res struct {
			ItemID *int64 `json:"itemId"`
		}
		if err := json.Unmarshal(readSample(t, f), &res); err != nil || res.ItemID == nil || *res.ItemID <= 0 {
			t.Errorf("%s: itemId = %v, %v; want a positive id", f, res.ItemID, err)
		}
	}

	msgs, ok := autotask.DecodeErrors(readSample(t, "error-response.json"))
	if want := []string{"Value does not reference an existing entity for taskType . "}; !ok || !reflect.DeepEqual(msgs, want) {
		t.Errorf("DecodeErrors(error-response.json) = %q, %v; want %q", msgs, ok, want)
	}

	var fields struct {
		Fields []autotask.FieldInfo `json:"fields"`
	}
	raw = readSample(t, "resources-entityinformation-fields-subset.json")
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("fields sample: %v", err)
	}
	sample := decodeMap(t, raw)["fields"].([]any)
	for i, f := range fields.Fields {
		sf := sample[i].(map[string]any)
		pv, _ := sf["picklistValues"].([]any)
		delete(sf, "picklistValues")
		assertDecodedExactly(t, "fields["+f.Name+"]", sf, f)
		if len(pv) != len(f.PicklistValues) {
			t.Errorf("%s: %d picklist values, want %d", f.Name, len(f.PicklistValues), len(pv))
		}
		for j := range pv {
			assertDecodedExactly(t, f.Name+".picklistValues", pv[j].(map[string]any), f.PicklistValues[j])
		}
	}
	code, err := autotask.PicklistCode(fields.Fields, "licenseType", "API User")
	if err != nil || code != 7 {
		t.Errorf("PicklistCode(licenseType, API User) = %d, %v; want 7", code, err)
	}
}
