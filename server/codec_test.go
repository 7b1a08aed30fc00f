package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
)

const uiOrigin = "http://localhost:8233"

// codecServer is the real router with only what the codec endpoints need (no
// database), as the dev stack runs it: anonymous codec, the UI's origin allowed.
func codecServer(t *testing.T) (*Server, *codec.Codec) {
	t.Helper()
	kr, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	c := codec.New(kr)
	srv, err := New(Deps{Codec: c, CodecOrigins: []string{uiOrigin}, CodecAnonymous: true, Version: "test"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return srv, c
}

// TestCodecRoutes_AnswerTheBrowserPreflightWithCORSHeaders sends the preflight
// a browser sends before the Temporal UI's cross-origin POST, through the
// router: without the CORS headers the browser never sends the POST and the UI
// shows "Codec Server could not connect".
func TestCodecRoutes_AnswerTheBrowserPreflightWithCORSHeaders(t *testing.T) {
	srv, _ := codecServer(t)
	for _, path := range []string{"/codec/decode", "/codec/encode"} {
		t.Run(path, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodOptions, path, nil)
			req.Header.Set("Origin", uiOrigin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			h := rec.Header()
			if rec.Code/100 != 2 {
				t.Fatalf("preflight = %d, want 2xx", rec.Code)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != uiOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q (headers %v)", got, uiOrigin, h)
			}
			if got := h.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") {
				t.Errorf("Access-Control-Allow-Methods = %q, want POST", got)
			}
			allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
			for _, want := range []string{"content-type", "x-namespace", "authorization"} {
				if !strings.Contains(allowed, want) {
					t.Errorf("Access-Control-Allow-Headers = %q, want %s", allowed, want)
				}
			}
		})
	}
}

func TestCodecRoutes_PreflightFromAnotherOriginGetsNoCORSHeaders(t *testing.T) {
	srv, _ := codecServer(t)
	req := httptest.NewRequest(http.MethodOptions, "/codec/decode", nil)
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("Access-Control-Allow-Origin = %q for an origin not allowed", got)
	}
}

// TestCodecRoutes_DecodeThroughRouterForTheUI is the request the UI sends
// after the preflight: the decoded payload comes back with the CORS header.
func TestCodecRoutes_DecodeThroughRouterForTheUI(t *testing.T) {
	srv, c := codecServer(t)
	enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"Contoso Ltd"`)}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc[0].GetData(), []byte("Contoso")) {
		t.Fatal("encoded payload holds the clear text")
	}
	body, _ := json.Marshal(map[string]any{"payloads": enc})
	req := httptest.NewRequest(http.MethodPost, "/codec/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", uiOrigin)
	req.Header.Set("X-Namespace", "acronis-autotask")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("decode = %d %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != uiOrigin {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, uiOrigin)
	}
	var out struct {
		Payloads []struct {
			Data []byte `json:"data"`
		} `json:"payloads"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode body %s: %v", rec.Body, err)
	}
	if len(out.Payloads) != 1 || string(out.Payloads[0].Data) != `"Contoso Ltd"` {
		t.Fatalf("decoded = %s", rec.Body)
	}
}
