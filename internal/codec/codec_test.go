package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/acronis-autotask/acronis-autotask/internal/bounds"
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

func TestFailureConverter_BoundsHugeMessagesAndRoundTrips(t *testing.T) {
	dc := DataConverter(keyring(t))
	fc := FailureConverter(dc)
	tenant := strings.Repeat("t", 900_000) // the 900 KB tenant id of issue 15
	err := fmt.Errorf("map tenant %s: %w", tenant, temporal.NewNonRetryableApplicationError("tenant "+tenant+" not found", "Refused", nil))
	f := fc.ErrorToFailure(err)
	raw, _ := proto.Marshal(f)
	if len(raw) > 16*bounds.ErrorMessage {
		t.Fatalf("failure is %d bytes, want it bounded (a few KB)", len(raw))
	}
	back := fc.FailureToError(f)
	if msg := back.Error(); !strings.HasPrefix(msg, "map tenant ttt") || len(msg) > 3*bounds.ErrorMessage {
		t.Fatalf("decoded message = %.80q… (%d bytes)", msg, len(msg))
	}
	var app *temporal.ApplicationError
	if !errors.As(errors.Unwrap(back), &app) || app.Type() != "Refused" || !app.NonRetryable() {
		t.Fatalf("the cause lost its type: %.200v", errors.Unwrap(back))
	}
	// A failure passed on again (as a workflow does with an activity's) keeps its text.
	again := fc.FailureToError(fc.ErrorToFailure(back))
	if again.Error() != back.Error() {
		t.Fatalf("re-converted failure changed:\n got %.120q\nwant %.120q", again.Error(), back.Error())
	}
	deep := error(errString("root"))
	for i := 0; i < 50; i++ {
		deep = fmt.Errorf("level %d: %w", i, deep)
	}
	n := 0
	for level := fc.ErrorToFailure(deep); level != nil; level = level.Cause {
		n++
	}
	if n != maxFailureDepth {
		t.Fatalf("a 51-level chain became %d failures, want %d", n, maxFailureDepth)
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
