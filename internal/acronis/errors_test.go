package acronis_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
)

func TestDecodeError_Classification(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   acronis.Kind
		code   int
	}{
		{400, `{"error":{"code":1006,"message":"m"}}`, acronis.KindInvalid, 1006},
		{409, `{"error":{"code":1001,"message":"Version mismatch."}}`, acronis.KindVersionConflict, 1001},
		{409, `{"error":{"code":1004,"message":"Tenant name conflict."}}`, acronis.KindConflict, 1004},
		{426, ``, acronis.KindVersionConflict, 426},
		{404, `{"error":{"code":"404","message":"nf"}}`, acronis.KindNotFound, 404},
		{400, `{"error":{"code":1005}}`, acronis.KindNotFound, 1005},
		{401, `{"error":"invalid_client","error_description":"bad"}`, acronis.KindUnauthorized, 401},
		{403, `<html>nope</html>`, acronis.KindForbidden, 403},
		{429, `Too Many Requests`, acronis.KindThrottled, 429},
		{502, ``, acronis.KindServer, 502},
		{415, `{"error":null}`, acronis.KindInvalid, 415},
	} {
		e := acronis.DecodeError(tc.status, http.Header{}, []byte(tc.body))
		if e.Kind != tc.want || e.Code != tc.code {
			t.Errorf("DecodeError(%d, %s) = kind %v code %d, want %v %d", tc.status, tc.body, e.Kind, e.Code, tc.want, tc.code)
		}
		if !errors.Is(e, &acronis.Error{Kind: tc.want}) {
			t.Errorf("errors.Is(%v, kind %v) = false", e, tc.want)
		}
	}
	e := acronis.DecodeError(401, http.Header{}, []byte(`{"error":"invalid_client","error_description":"Client authentication failed"}`))
	if e.Reason != "invalid_client" || e.Message != "Client authentication failed" {
		t.Errorf("token error = reason %q message %q, want invalid_client / Client authentication failed", e.Reason, e.Message)
	}
	h := http.Header{}
	h.Set("Retry-After", "12")
	if got := acronis.DecodeError(503, h, nil).RetryAfter; got != 12*time.Second {
		t.Errorf("Retry-After 12 → %v, want 12s", got)
	}
	wrapped := fmt.Errorf("activity: %w", acronis.DecodeError(429, h, nil))
	if !acronis.IsThrottled(wrapped) || acronis.RetryAfter(wrapped) != 12*time.Second || !errors.Is(wrapped, acronis.ErrThrottled) {
		t.Errorf("wrapped 429 not classified: %v", wrapped)
	}
}

// FuzzDecodeError checks that any answer decodes without panicking into an
// error whose kind agrees with its status and whose text is valid UTF-8.
func FuzzDecodeError(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(samplesDir, "error-response.json")); err == nil {
		f.Add(400, b, "")
	}
	f.Add(401, []byte(`{"error":"invalid_client","error_description":"x"}`), "")
	f.Add(409, []byte(`{"error":{"code":1001,"message":"Version mismatch.","details":"s","context":[]}}`), "")
	f.Add(429, []byte(`Too Many Requests`), "3")
	f.Add(503, []byte(`{"error":{"code":"x"}}`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(500, []byte(`{"error":{"code":1e400}}`), "-1")
	f.Add(404, []byte{0xff, 0xfe, '{'}, "")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		if status < 400 || status > 599 {
			return
		}
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := acronis.DecodeError(status, h, body)
		if e.Status != status {
			t.Fatalf("status %d decoded as %d", status, e.Status)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative RetryAfter %v", e.RetryAfter)
		}
		switch {
		case status >= 500 && e.Kind != acronis.KindServer && e.Kind != acronis.KindVersionConflict && e.Kind != acronis.KindNotFound:
			t.Fatalf("status %d gave kind %v, want server", status, e.Kind)
		case status < 500 && e.Kind == acronis.KindServer:
			t.Fatalf("status %d gave kind server", status)
		case e.Kind == acronis.KindUnknown:
			t.Fatalf("status %d gave kind unknown", status)
		}
		msg := e.Error()
		if utf8.ValidString(string(body)) && !utf8.ValidString(msg) {
			t.Fatalf("error text is not valid UTF-8: %q", msg)
		}
		var env struct {
			Error struct {
				Code json.Number `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &env) == nil {
			if n, err := env.Error.Code.Int64(); err == nil && n > 0 && n < 1<<31 && e.Code != int(n) {
				t.Fatalf("code %d decoded as %d", n, e.Code)
			}
		}
	})
}

func TestConfig_SecretNeverPrinted(t *testing.T) {
	cfg := acronis.Config{BaseURL: "https://eu2-cloud.acronis.com", ClientID: "id-1", ClientSecret: "s3cr3t-value"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "acronis", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.String(), logged.String()} {
		if strings.Contains(s, "s3cr3t-value") {
			t.Errorf("secret printed in %q", s)
		}
		if !strings.Contains(s, "id-1") {
			t.Errorf("client id missing from %q", s)
		}
	}
}

func TestConfig_MissingFieldsNamed(t *testing.T) {
	_, err := acronis.New(ctx(t), acronis.Config{})
	if err == nil || !strings.Contains(err.Error(), "BaseURL") || !strings.Contains(err.Error(), "ClientSecret") {
		t.Fatalf("New(empty) = %v, want an error naming BaseURL and ClientSecret", err)
	}
}

func TestExplain_WrongSecretAndURL(t *testing.T) {
	e := acronis.DecodeError(401, http.Header{}, []byte(`{"error":"invalid_client"}`))
	e.Path = acronis.TokenPath
	if got := acronis.Explain(fmt.Errorf("verify: %w", e)); !strings.Contains(got, "client id or secret") {
		t.Errorf("Explain(401 on token) = %q, want it to name the client id or secret", got)
	}
	nf := acronis.DecodeError(404, http.Header{}, nil)
	nf.Path = acronis.TokenPath
	if got := acronis.Explain(nf); !strings.Contains(got, "data-center URL") {
		t.Errorf("Explain(404 on token) = %q, want it to name the data-center URL", got)
	}
}
