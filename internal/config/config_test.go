package config

import (
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func validEnv() map[string]string {
	return map[string]string{
		"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x?sslmode=disable",
		"API_TOKENS":   "ops:admin:0123456789abcdef0123,dash:read:fedcba9876543210fedc",
		"SECRETS_KEY":  secrets.GenerateKey(),
	}
}

func TestLoad_DefaultsFromSpec(t *testing.T) {
	c, err := Load(env(validEnv()))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.TemporalAddress != "127.0.0.1:7233" || c.TemporalNamespace != "default" || c.HTTPAddr != ":8080" {
		t.Fatalf("defaults = %q %q %q; want 127.0.0.1:7233 default :8080", c.TemporalAddress, c.TemporalNamespace, c.HTTPAddr)
	}
	if len(c.Tokens) != 2 || c.Tokens[1].Role != RoleReadOnly {
		t.Fatalf("tokens = %+v", c.Tokens)
	}
	if c.AcronisRequestsPerSecond != 20 || c.WorkflowCacheSize != 1000 {
		t.Fatalf("AcronisRequestsPerSecond = %v, WorkflowCacheSize = %d; want 20 and 1000", c.AcronisRequestsPerSecond, c.WorkflowCacheSize)
	}
}

func TestLoad_NamesEveryBadVariable(t *testing.T) {
	e := validEnv()
	delete(e, "DATABASE_URL")
	e["SECRETS_KEY"] = "short"
	e["TEMPORAL_ADDRESS"] = "nohostport"
	e["API_TOKENS"] = "ops:root:0123456789abcdef0123"
	e["AUTOTASK_BASE_URL"] = "ftp://x"
	e["LOG_LEVEL"] = "loud"
	e["ACRONIS_REQUESTS_PER_SECOND"] = "0"
	e["WORKFLOW_CACHE_SIZE"] = "lots"
	_, err := Load(env(e))
	if err == nil {
		t.Fatal("Load succeeded; want errors")
	}
	for _, name := range []string{"DATABASE_URL", "SECRETS_KEY", "TEMPORAL_ADDRESS", "API_TOKENS", "AUTOTASK_BASE_URL", "LOG_LEVEL", "ACRONIS_REQUESTS_PER_SECOND", "WORKFLOW_CACHE_SIZE"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "0123456789abcdef0123") {
		t.Errorf("error leaks a token: %v", err)
	}
}

func TestParseTokens_RejectsDuplicatesAndShortTokens(t *testing.T) {
	for _, s := range []string{"a:admin:short", "a:admin:0123456789abcdef,a:read:0123456789abcdeX", "a:admin"} {
		if _, err := ParseTokens(s); err == nil {
			t.Errorf("ParseTokens(%q) succeeded; want error", s)
		}
	}
}
