package connections

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"testing"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunWithDB(m)) }

func TestEffective_StoredWinsOverEnvironmentAndMissingIsNamed(t *testing.T) {
	ctx := context.Background()
	st := testenv.MustOpenDB(t)
	env := map[string]store.Credential{Acronis: {System: Acronis, Secret: "env", Public: map[string]string{"clientId": "from-env"}}}
	p := New(st, env, nil)

	if _, _, err := p.Effective(ctx, Autotask); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("Autotask with nothing configured: err = %v, want ErrNotConfigured", err)
	}
	c, src, err := p.Effective(ctx, Acronis)
	if err != nil || src != "environment" || c.Public["clientId"] != "from-env" {
		t.Fatalf("Effective = %v %q %v; want the environment's", c.Public, src, err)
	}
	if err := st.SaveCredential(ctx, store.Credential{System: Acronis, Secret: "stored-secret-value", Public: map[string]string{"clientId": "from-api"}}, store.Actor{Name: "ops"}); err != nil {
		t.Fatal(err)
	}
	c, src, err = p.Effective(ctx, Acronis)
	if err != nil || src != "api" || c.Public["clientId"] != "from-api" || c.Secret != "stored-secret-value" {
		t.Fatalf("Effective = %v %q %v; want the stored one", c.Public, src, err)
	}
}

func TestAcronis_ClientIsRebuiltOnlyWhenCredentialsChange(t *testing.T) {
	ctx := context.Background()
	st := testenv.MustOpenDB(t)
	sb, err := acsandbox.New(acsandbox.Options{Dataset: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	save := func(secret string) {
		t.Helper()
		if err := st.SaveCredential(ctx, store.Credential{System: Acronis, Secret: secret,
			Public: map[string]string{"baseUrl": srv.URL, "clientId": sb.ClientID()}}, store.Actor{Name: "ops"}); err != nil {
			t.Fatal(err)
		}
	}
	p := New(st, nil, nil)
	save(sb.ClientSecret())
	first, err := p.Acronis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.Acronis(ctx)
	if again != first {
		t.Fatal("unchanged credentials built a new client")
	}
	save("wrong-secret")
	if _, err := p.Acronis(ctx); err == nil {
		t.Fatal("a wrong secret still connected: the cached client was reused")
	}
	save(sb.ClientSecret())
	if _, err := p.Acronis(ctx); err != nil {
		t.Fatalf("after saving the right secret again: %v; want a working client", err)
	}
}
