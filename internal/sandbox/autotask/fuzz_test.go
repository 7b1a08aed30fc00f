package autotask_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// FuzzQueryBody posts arbitrary query bodies: the sandbox must never panic and
// must answer either a page or Autotask's 500 error envelope.
func FuzzQueryBody(f *testing.F) {
	f.Add([]byte(`{"filter":[{"op":"gte","field":"id","value":0}]}`))
	f.Add([]byte(`{"MaxRecords":2,"IncludeFields":["companyName"],"filter":[{"op":"or","items":[{"op":"eq","field":"id","value":101},{"op":"contains","field":"companyName","value":"o"}]}]}`))
	f.Add([]byte(`{"filter":[{"op":"in","field":"id","value":[1,"2",true]}]}`))
	f.Add([]byte(`{"filter":[{"op":"eq","field":"Acronis PAYG","udf":true,"value":"Yes"}]}`))
	f.Add([]byte(`{"filter":[{"op":"and","items":[{"op":"and","items":[]}]}]}`))
	f.Add([]byte(`{"filter":[{"op":"exist","field":"createDate"},{"op":"lt","field":"createDate","value":"2030-01-01"}]}`))
	f.Add([]byte(`[]`))
	sb, err := atsandbox.New(atsandbox.Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		f.Fatal(err)
	}
	h := sb.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, entity := range []string{"Companies", "Contracts"} {
			req := httptest.NewRequest("POST", "/ATServicesRest/V1.0/"+entity+"/query", bytes.NewReader(body))
			for k, v := range creds() {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var out map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("answer %d %q is not JSON", rec.Code, rec.Body.Bytes())
			}
			switch rec.Code {
			case http.StatusOK:
				if _, ok := out["items"]; !ok {
					t.Fatalf("200 without items: %s", rec.Body.Bytes())
				}
			case http.StatusInternalServerError:
				var msgs []string
				if err := json.Unmarshal(out["errors"], &msgs); err != nil || len(msgs) == 0 {
					t.Fatalf("500 without an errors array: %s", rec.Body.Bytes())
				}
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("status %d for body %q", rec.Code, body)
			}
		}
	})
}
