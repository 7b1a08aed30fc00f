package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// Dev-mode defaults: only used by `dev`, never by `server` or `worker`.
const (
	devDatabaseURL = "postgres://postgres@127.0.0.1:5432/acronis_autotask?sslmode=disable"
	devNamespace   = "acronis-autotask"
	devAdminToken  = "dev-admin-token-0123456789"
	devReadToken   = "dev-read-token-0123456789"
	devKeyFile     = ".data/secrets.key"
	// devTemporalUI is where `make dev` serves the Temporal UI; TEMPORAL_UI_URL overrides it.
	devTemporalUI = "http://localhost:8233"
)

// runDev runs both sandboxes, migrations, the REST API and the worker in one
// process against a running Temporal dev server, with demo data.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f, err := parseSandboxFlags("dev", args, stdout)
	if err != nil || f == nil {
		return err
	}
	sb, err := startSandboxes(*f, stdout)
	if err != nil {
		return err
	}
	defer sb.close()

	key, err := devSecretsKey(getenv("SECRETS_KEY"))
	if err != nil {
		return err
	}
	uiURL := strings.TrimSuffix(devEnvironment(getenv, map[string]string{"TEMPORAL_UI_URL": devTemporalUI})("TEMPORAL_UI_URL"), "/")
	env := devEnvironment(getenv, map[string]string{
		"DATABASE_URL":              devDatabaseURL,
		"TEMPORAL_NAMESPACE":        devNamespace,
		"API_TOKENS":                "admin:admin:" + devAdminToken + ",viewer:read:" + devReadToken,
		"SECRETS_KEY":               key,
		"AUTOTASK_USERNAME":         "sandbox-api@acronis-autotask.dev",
		"AUTOTASK_SECRET":           "sandbox-secret",
		"AUTOTASK_INTEGRATION_CODE": "SANDBOXINTEGRATIONCODE",
		"AUTOTASK_BASE_URL":         sb.autotaskURL,
		"ACRONIS_BASE_URL":          sb.acronisURL,
		"ACRONIS_CLIENT_ID":         "00000000-0000-4000-8000-000000000001",
		"ACRONIS_CLIENT_SECRET":     "sandbox-secret",
		"CODEC_AUTH":                "none",
		"TEMPORAL_UI_URL":           uiURL,
		// The UI calls the codec from the browser, from its own origin.
		"CODEC_CORS_ORIGINS": uiURL + "," + strings.Replace(uiURL, "//localhost:", "//127.0.0.1:", 1),
	})
	cfg, err := config.Load(env)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	if err := store.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if f.dataset == "demo" {
		st, err := store.Open(ctx, cfg.DatabaseURL, cfg.Keyring)
		if err != nil {
			return err
		}
		seeded, err := seedDemo(ctx, st)
		if err == nil && seeded {
			err = seedDemoTickets(ctx, st)
		}
		st.Close()
		if err != nil {
			return err
		}
		if seeded {
			fmt.Fprintln(stdout, "demo seeded: settings (billing, automatic provisioning, tickets on), service and alert mappings, Litware mapped")
		}
	}
	base := httpURL(cfg.HTTPAddr)
	fmt.Fprintf(stdout, "Console:     %s/  (sign in with the admin token %s or the read-only token %s)\nREST API:    %s/api/v1\nTemporal:    %s (namespace %s)\nTemporal UI: %s/namespaces/%s/workflows\n",
		base, devAdminToken, devReadToken, base, cfg.TemporalAddress, cfg.TemporalNamespace, uiURL, cfg.TemporalNamespace)
	return runApp(ctx, cfg, stdout, roleServer|roleWorker, codecOptionsFromEnv(env))
}

// devEnvironment overlays defaults on the real environment: what the developer set wins.
func devEnvironment(getenv func(string) string, defaults map[string]string) func(string) string {
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return defaults[name]
	}
}

// devSecretsKey keeps one key across dev runs in .data/, so credentials stored
// in the dev database stay readable after a restart.
func devSecretsKey(fromEnv string) (string, error) {
	if fromEnv != "" {
		return fromEnv, nil
	}
	if b, err := os.ReadFile(devKeyFile); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	key := secrets.GenerateKey()
	if err := os.MkdirAll(filepath.Dir(devKeyFile), 0o700); err != nil {
		return "", fmt.Errorf("dev secrets key: %w", err)
	}
	if err := os.WriteFile(devKeyFile, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("dev secrets key: %w", err)
	}
	return key, nil
}

// httpURL is the URL a browser on this machine uses for a listen address:
// ":8080" and "0.0.0.0:8080" are reached at localhost.
func httpURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
