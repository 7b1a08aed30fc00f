package config

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// temporalVariables are the SDK's environment configuration variables
// (go.temporal.io/sdk/contrib/envconfig) that Load passes on; TEMPORAL_GRPC_META_*
// headers come from a profile in TEMPORAL_CONFIG_FILE instead.
var temporalVariables = []string{
	"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_CLIENT_AUTHORITY",
	"TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_CERT_DATA",
	"TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_KEY_DATA", "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
	"TEMPORAL_TLS_SERVER_CA_CERT_DATA", "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
	"TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE",
}

// getenvLookup lets envconfig read the injected environment; an empty
// variable counts as unset, as everywhere else in Load.
type getenvLookup struct{ getenv Getenv }

func (g getenvLookup) LookupEnv(k string) (string, bool) {
	v := strings.TrimSpace(g.getenv(k))
	return v, v != ""
}

func (g getenvLookup) Environ() []string {
	var out []string
	for _, k := range temporalVariables {
		if v, ok := g.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// TemporalOptions connects to Temporal the way the ecosystem does: the SDK's
// environment configuration, a TOML profile (TEMPORAL_CONFIG_FILE,
// TEMPORAL_PROFILE) overridden by TEMPORAL_* variables. An API key turns TLS
// on (Temporal Cloud); TEMPORAL_TLS_CLIENT_CERT_* give mTLS. Without an
// address or namespace the local dev server's are used.
func TemporalOptions(getenv Getenv) (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: getenvLookup{getenv}})
	if err != nil {
		return client.Options{}, fmt.Errorf("Temporal environment configuration: %w", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = "127.0.0.1:7233"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	return opts, nil
}
