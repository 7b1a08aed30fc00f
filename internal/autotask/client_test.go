package autotask_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

func TestNew_DiscoversZoneFromUserName(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	want := e.srv.URL + "/atservicesrest/v1.0/"
	if got := e.client.BaseURL(); got != want {
		t.Errorf("BaseURL() = %q, want %q", got, want)
	}
	if got := e.client.Zone().ZoneName; got != "Sandbox" {
		t.Errorf("Zone().ZoneName = %q, want Sandbox", got)
	}
	if got := e.sb.RequestLog().Count("GET /atservicesrest/v1.0/zoneInformation"); got != 1 {
		t.Errorf("zone lookups = %d, want 1", got)
	}
}

func TestNew_BaseURLSkipsZoneLookup(t *testing.T) {
	var zoneURL string
	e := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) {
		zoneURL = c.ZoneLookupURL
		c.BaseURL = strings.TrimSuffix(c.ZoneLookupURL, "/v1.0/zoneInformation") + "/"
	})
	if got := e.sb.RequestLog().Total(); got != 0 {
		t.Errorf("requests during New with BaseURL = %d, want 0 (no zone lookup)", got)
	}
	if got, want := e.client.BaseURL(), strings.TrimSuffix(zoneURL, "zoneInformation"); got != want {
		t.Errorf("BaseURL() = %q, want %q", got, want)
	}
	if _, err := autotask.Get[autotask.Company](ctx(t), e.client, 101); err != nil {
		t.Errorf("Get through BaseURL: %v", err)
	}
}

func TestNew_UnknownUserIsUnauthorized(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	_, err := autotask.New(ctx(t), autotask.Config{Username: "nobody@example.com", Secret: "x", IntegrationCode: "y",
		ZoneLookupURL: e.srv.URL + "/atservicesrest/v1.0/zoneInformation"})
	if !autotask.IsUnauthorized(err) {
		t.Fatalf("New(unknown user) error = %v, want Unauthorized", err)
	}
	if !strings.Contains(err.Error(), "Zone information could not be determined") {
		t.Errorf("error %q does not carry Autotask's message", err)
	}
}

func TestNew_RequiresCredentials(t *testing.T) {
	_, err := autotask.New(context.Background(), autotask.Config{Username: "u"})
	if err == nil || !strings.Contains(err.Error(), "Secret") || !strings.Contains(err.Error(), "IntegrationCode") {
		t.Fatalf("New(missing secret and code) error = %v, want one naming Secret and IntegrationCode", err)
	}
}

func TestAuth_WrongSecretIsUnauthorizedAndNeverEchoed(t *testing.T) {
	const secret = "wrong-secret-value-123"
	e := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.Secret = secret })
	_, err := autotask.Get[autotask.Company](ctx(t), e.client, 101)
	if !autotask.IsUnauthorized(err) {
		t.Fatalf("Get with wrong secret: error = %v, want Unauthorized", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error text %q contains the secret", err)
	}
	if got := e.client.Stats().Retries; got != 0 {
		t.Errorf("retries after 401 = %d, want 0", got)
	}
}

func TestAuth_RegularUserIsRefused(t *testing.T) {
	e := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.Username = atsandbox.RegularUsername })
	if e.client.Zone().URL == "" {
		t.Fatalf("zone lookup for the regular user found no zone; want it found (the user exists)")
	}
	_, err := autotask.Get[autotask.Company](ctx(t), e.client, 101)
	if !autotask.IsUnauthorized(err) {
		t.Fatalf("Get as regular user: error = %v, want Unauthorized", err)
	}
}

func TestConfig_RedactsSecret(t *testing.T) {
	cfg := autotask.Config{Username: "api@x", Secret: "s3cr3t-value", IntegrationCode: "CODE-VALUE"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "config", cfg)
	for name, text := range map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"%s": fmt.Sprintf("%s", cfg), "slog": logs.String(),
	} {
		if strings.Contains(text, "s3cr3t-value") || strings.Contains(text, "CODE-VALUE") {
			t.Errorf("%s output %q leaks a credential", name, text)
		}
		if !strings.Contains(text, "api@x") {
			t.Errorf("%s output %q lacks the user name", name, text)
		}
	}
}

func TestGet_MissingRecordIsNotFound(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	c, err := autotask.Get[autotask.Company](ctx(t), e.client, 101)
	if err != nil {
		t.Fatalf("Get(101): %v", err)
	}
	if c.CompanyName != "Contoso Ltd" {
		t.Errorf("company 101 name = %q, want Contoso Ltd", c.CompanyName)
	}
	_, err = autotask.Get[autotask.Company](ctx(t), e.client, 999999)
	if !autotask.IsNotFound(err) {
		t.Errorf("Get(999999) error = %v, want NotFound", err)
	}
}

func TestGet_EveryEntityOfTheDemo(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	c := ctx(t)
	check := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := autotask.Get[autotask.Contact](c, e.client, atsandbox.DemoContactID(101))
	check("Contact", err)
	ct, err := autotask.Get[autotask.Contract](c, e.client, atsandbox.DemoContractID(101))
	check("Contract", err)
	if err == nil && (ct.ContractType != 7 || ct.Status != 1) {
		t.Errorf("contract type/status = %d/%d, want 7/1", ct.ContractType, ct.Status)
	}
	_, err = autotask.Get[autotask.Service](c, e.client, atsandbox.ServiceWorkstations)
	check("Service", err)
	_, err = autotask.Get[autotask.ServiceBundle](c, e.client, atsandbox.ServiceBundleServer)
	check("ServiceBundle", err)
	_, err = autotask.Get[autotask.BillingCode](c, e.client, atsandbox.BillingCodeAcronis)
	check("BillingCode", err)
	_, err = autotask.Get[autotask.UserDefinedFieldDefinition](c, e.client, atsandbox.PAYGUDFID)
	check("UserDefinedFieldDefinition", err)
	for _, q := range []func() error{
		func() error {
			_, err := autotask.QueryAll[autotask.ContractService](c, e.client, autotask.All())
			return err
		},
		func() error {
			_, err := autotask.QueryAll[autotask.ContractServiceUnit](c, e.client, autotask.All())
			return err
		},
		func() error {
			_, err := autotask.QueryAll[autotask.ContractServiceBundle](c, e.client, autotask.All())
			return err
		},
		func() error {
			_, err := autotask.QueryAll[autotask.ContractServiceBundleUnit](c, e.client, autotask.All())
			return err
		},
		func() error {
			_, err := autotask.QueryAll[autotask.ServiceBundleService](c, e.client, autotask.All())
			return err
		},
		func() error {
			_, err := autotask.QueryAll[autotask.UserDefinedFieldListItem](c, e.client, autotask.All())
			return err
		},
		func() error {
			_, err := autotask.QueryAll[autotask.TicketNote](c, e.client, autotask.All())
			return err
		},
	} {
		check("query", q())
	}
	pc, err := e.client.PrimaryContact(c, 110)
	check("PrimaryContact", err)
	if err == nil && pc.EmailAddress != "jack.kowalski@blueyonder.example" {
		t.Errorf("primary contact email of 110 = %q, want jack.kowalski@blueyonder.example", pc.EmailAddress)
	}
}

func TestEntityInformation_SaysWhatEachEntityAllows(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	tickets, err := e.client.EntityInformation(ctx(t), "Tickets")
	if err != nil {
		t.Fatalf("EntityInformation(Tickets): %v", err)
	}
	if !tickets.CanCreate || !tickets.CanQuery || !tickets.CanUpdate || tickets.CanDelete || !tickets.HasUserDefinedFields {
		t.Errorf("Tickets info = %+v, want create/query/update, no delete, with UDFs", tickets)
	}
	adj, err := e.client.EntityInformation(ctx(t), "ContractServiceAdjustments")
	if err != nil {
		t.Fatalf("EntityInformation(ContractServiceAdjustments): %v", err)
	}
	if !adj.CanCreate || adj.CanQuery || adj.CanUpdate {
		t.Errorf("ContractServiceAdjustments info = %+v, want create only", adj)
	}
}

func TestZoneMove_RediscoversOnceOn401(t *testing.T) {
	// The old zone refuses the credentials; the zone lookup then points to the new one.
	oldZone := newEnv(t, atsandbox.Options{Secret: "rotated-elsewhere"}, func(c *autotask.Config) { c.Secret = "rotated-elsewhere" })
	newZone := newEnv(t, atsandbox.Options{})
	lookups := 0
	zones := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups++
		target := oldZone.srv.URL
		if lookups > 1 {
			target = newZone.srv.URL
		}
		fmt.Fprintf(w, `{"zoneName":"Z%d","url":%q,"webUrl":"","ci":1}`, lookups, target+"/ATServicesRest/")
	}))
	defer zones.Close()
	c, err := autotask.New(ctx(t), autotask.Config{Username: atsandbox.DefaultUsername, Secret: atsandbox.DefaultSecret,
		IntegrationCode: atsandbox.DefaultIntegrationCode, ZoneLookupURL: zones.URL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	co, err := autotask.Get[autotask.Company](ctx(t), c, 101)
	if err != nil || co.ID != 101 {
		t.Fatalf("Get after a zone move = %v, %v; want company 101 from the new zone", co, err)
	}
	if lookups != 2 || c.Zone().ZoneName != "Z2" || !strings.HasPrefix(c.BaseURL(), newZone.srv.URL) {
		t.Errorf("lookups %d, zone %q, base %s; want 2, Z2, the new zone", lookups, c.Zone().ZoneName, c.BaseURL())
	}
	// Wrong credentials everywhere: one re-lookup, then Unauthorized.
	bad, err := autotask.New(ctx(t), autotask.Config{Username: atsandbox.DefaultUsername, Secret: "wrong",
		IntegrationCode: atsandbox.DefaultIntegrationCode, ZoneLookupURL: zones.URL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := autotask.Get[autotask.Company](ctx(t), bad, 101); !autotask.IsUnauthorized(err) {
		t.Errorf("Get with a wrong secret = %v, want Unauthorized", err)
	}
	if lookups != 4 {
		t.Errorf("zone lookups = %d, want 4 (one at New and one after the 401)", lookups)
	}
}
