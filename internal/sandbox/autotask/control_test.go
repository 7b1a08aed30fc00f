package autotask_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// The demo's vendor-side events (README "Simulate vendor-side events") go
// through these controls: change units, end and renew a contract.
func TestControls_ChangeUnitsEndAndRenewAContract(t *testing.T) {
	sb, err := atsandbox.New(atsandbox.Options{Dataset: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	contoso := atsandbox.DemoContractID(101)
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+atsandbox.ControlPrefix+path, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, res.StatusCode, raw, want)
		}
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return out
	}
	id := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	call("PUT", "contracts/"+id(contoso)+"/units", `{"serviceId": 301, "units": 30}`, 200)
	if n, _ := sb.CurrentUnits(contoso, atsandbox.ServiceWorkstations); n != 30 {
		t.Errorf("workstations after the change = %d, want 30", n)
	}
	call("PUT", "contracts/"+id(contoso)+"/units", `{"serviceId": 301}`, 400)
	call("PUT", "contracts/999999/units", `{"serviceId": 301, "units": 1}`, 404)

	call("PUT", "contracts/"+id(contoso)+"/end", ``, 200)
	k, _ := sb.Contract(contoso)
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	if got := k.EndDate.Format(time.DateOnly); got != yesterday {
		t.Errorf("end date = %s, want yesterday %s", got, yesterday)
	}
	if n, _ := sb.CurrentUnits(contoso, atsandbox.ServiceWorkstations); n != 0 {
		t.Errorf("workstations after the end = %d, want none", n)
	}

	out := call("POST", "contracts/"+id(contoso)+"/renew", `{"months": 12}`, 201)
	renewal := int64(out["contractId"].(float64))
	r, ok := sb.Contract(renewal)
	if !ok || r.RenewedContractID != contoso || r.CompanyID != 101 {
		t.Fatalf("renewal = %+v, want a contract of company 101 renewing %d", r, contoso)
	}
	// The change to 30 took effect today, after the old contract's last day.
	if n, _ := sb.CurrentUnits(renewal, atsandbox.ServiceWorkstations); n != 25 {
		t.Errorf("renewal's workstations = %d, want the 25 the old contract had on its last day", n)
	}
}
