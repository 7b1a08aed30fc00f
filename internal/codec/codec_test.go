package codec

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
)

func keyring(t *testing.T) *secrets.Keyring {
	t.Helper()
	k, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDataConverter_PayloadHoldsNoClearText(t *testing.T) {
	dc := DataConverter(keyring(t))
	p, err := dc.ToPayload(map[string]string{"clientSecret": "hunter2-very-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("hunter2")) || string(p.Metadata[converter.MetadataEncoding]) != Encoding {
		t.Fatalf("payload not encrypted: encoding %q", p.Metadata[converter.MetadataEncoding])
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["clientSecret"] != "hunter2-very-secret" {
		t.Fatalf("round trip = %v, %v", back, err)
	}
}

func TestFailureConverter_EncryptsMessages(t *testing.T) {
	dc := DataConverter(keyring(t))
	f := FailureConverter(dc).ErrorToFailure(errString("Autotask said: secret=abc123"))
	if strings.Contains(f.GetMessage(), "abc123") || f.GetEncodedAttributes() == nil {
		t.Fatalf("failure message in clear text: %q", f.GetMessage())
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestHandler_DecodesForAuthorizedUIAndAnswersPreflight(t *testing.T) {
	k := keyring(t)
	c := New(k)
	enc, _ := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"hello"`)}})
	h := Handler(c, []string{"http://localhost:8233"}, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer ok" })

	pre := httptest.NewRequest(http.MethodOptions, "/decode", nil)
	pre.Header.Set("Origin", "http://localhost:8233")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, pre)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:8233" ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}

	body, _ := json.Marshal(map[string]any{"payloads": enc})
	req := httptest.NewRequest(http.MethodPost, "/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("decode without token: %d, want 401", rec.Code)
	}

	req = httptest.NewRequest(http.MethodPost, "/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer ok")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ImhlbGxvIg") { // base64 of "hello"
		t.Fatalf("decode: %d %s", rec.Code, rec.Body.String())
	}
}

func TestDecode_OtherKeyFails(t *testing.T) {
	enc, _ := New(keyring(t)).Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if _, err := New(keyring(t)).Decode(enc); err == nil {
		t.Fatal("decode with a different key succeeded")
	}
}
