package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a PEM certificate and key, as an operator's mTLS pair.
func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "acronis-autotask-worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// noProfile keeps a developer's own ~/.config/temporalio/temporal.toml out of the tests.
func noProfile(t *testing.T, e map[string]string) map[string]string {
	if _, ok := e["TEMPORAL_CONFIG_FILE"]; !ok {
		e["TEMPORAL_CONFIG_FILE"] = filepath.Join(t.TempDir(), "absent.toml")
	}
	return e
}

func TestTemporalOptions_PlainAddressIsTheLocalDevServerWithoutTLS(t *testing.T) {
	c, err := Load(env(noProfile(t, validEnv())))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Temporal
	if o.HostPort != "127.0.0.1:7233" || o.Namespace != "default" || o.ConnectionOptions.TLS != nil || o.Credentials != nil {
		t.Errorf("options = %q %q TLS %v credentials %v; want the dev server's, no TLS, no credentials", o.HostPort, o.Namespace, o.ConnectionOptions.TLS, o.Credentials)
	}
}

func TestTemporalOptions_APIKeyMeansTemporalCloudOverTLS(t *testing.T) {
	e := noProfile(t, validEnv())
	e["TEMPORAL_ADDRESS"] = "eu-west-1.aws.api.temporal.io:7233"
	e["TEMPORAL_NAMESPACE"] = "msp.a1b2c"
	e["TEMPORAL_API_KEY"] = "key-0123456789"
	c, err := Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Temporal
	if c.TemporalAddress != "eu-west-1.aws.api.temporal.io:7233" || c.TemporalNamespace != "msp.a1b2c" {
		t.Errorf("address %q namespace %q", c.TemporalAddress, c.TemporalNamespace)
	}
	if o.ConnectionOptions.TLS == nil {
		t.Error("an API key without TLS settings: TLS is off, want on (Temporal Cloud)")
	}
	if o.Credentials == nil {
		t.Fatal("no credentials from TEMPORAL_API_KEY (worker's TestClientOptions_APIKeyReachesTheFrontendOverTLS checks what they send)")
	}
}

func TestTemporalOptions_MutualTLSFromCertificateFiles(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	dir := t.TempDir()
	for name, data := range map[string]string{"client.pem": certPEM, "client.key": keyPEM, "ca.pem": certPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := noProfile(t, validEnv())
	e["TEMPORAL_ADDRESS"] = "temporal.internal:7233"
	e["TEMPORAL_TLS_CLIENT_CERT_PATH"] = filepath.Join(dir, "client.pem")
	e["TEMPORAL_TLS_CLIENT_KEY_PATH"] = filepath.Join(dir, "client.key")
	e["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] = filepath.Join(dir, "ca.pem")
	e["TEMPORAL_TLS_SERVER_NAME"] = "frontend.temporal.internal"
	c, err := Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	tls := c.Temporal.ConnectionOptions.TLS
	if tls == nil {
		t.Fatal("no TLS with client certificates")
	}
	if len(tls.Certificates) != 1 || tls.RootCAs == nil || tls.ServerName != "frontend.temporal.internal" {
		t.Errorf("TLS: %d certificates, RootCAs %v, ServerName %q; want 1, the CA, frontend.temporal.internal", len(tls.Certificates), tls.RootCAs != nil, tls.ServerName)
	}
	if c.Temporal.Credentials != nil {
		t.Error("mTLS needs no API key credentials")
	}
}

func TestTemporalOptions_TLSWithoutClientCertificates(t *testing.T) {
	e := noProfile(t, validEnv())
	e["TEMPORAL_TLS"] = "true"
	c, err := Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	if tls := c.Temporal.ConnectionOptions.TLS; tls == nil || len(tls.Certificates) != 0 {
		t.Errorf("TEMPORAL_TLS=true: TLS %v, want on without client certificates", tls)
	}
}

func TestTemporalOptions_ProfileFileWithEnvironmentOverrides(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.toml")
	toml := `
[profile.default]
address = "localhost:7233"

[profile.prod]
address = "prod.tmprl.cloud:7233"
namespace = "prod.acct"
api_key = "from-file"
`
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	e := validEnv()
	e["TEMPORAL_CONFIG_FILE"] = file
	e["TEMPORAL_PROFILE"] = "prod"
	e["TEMPORAL_NAMESPACE"] = "override.acct"
	c, err := Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalAddress != "prod.tmprl.cloud:7233" || c.TemporalNamespace != "override.acct" || c.Temporal.Credentials == nil || c.Temporal.ConnectionOptions.TLS == nil {
		t.Errorf("profile prod + TEMPORAL_NAMESPACE: %q %q credentials %v TLS %v", c.TemporalAddress, c.TemporalNamespace, c.Temporal.Credentials != nil, c.Temporal.ConnectionOptions.TLS != nil)
	}
	e["TEMPORAL_PROFILE"] = "missing"
	if _, err := Load(env(e)); err == nil || !strings.Contains(err.Error(), "TEMPORAL_") {
		t.Errorf("a profile the file lacks: error %v, want one naming TEMPORAL_*", err)
	}
}

func TestTemporalOptions_IncompleteMutualTLSIsAnError(t *testing.T) {
	certPEM, _ := selfSigned(t)
	e := noProfile(t, validEnv())
	e["TEMPORAL_TLS_CLIENT_CERT_DATA"] = certPEM
	if _, err := Load(env(e)); err == nil || !strings.Contains(err.Error(), "TEMPORAL_") {
		t.Errorf("a client certificate without its key: error %v, want one naming TEMPORAL_*", err)
	}
}

