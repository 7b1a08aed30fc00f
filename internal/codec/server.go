package codec

import (
	"net/http"
	"slices"

	"go.temporal.io/sdk/converter"
)

// Handler serves POST /encode and POST /decode for the Temporal UI and the
// `temporal` CLI (--codec-endpoint). Browsers from allowedOrigins may call it
// (CORS with the X-Namespace header the UI sends); authorize gates every call
// except CORS pre-flights, and may be nil where the listener is private.
func Handler(c *Codec, allowedOrigins []string, authorize func(*http.Request) bool) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && (slices.Contains(allowedOrigins, origin) || slices.Contains(allowedOrigins, "*")) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
			w.Header().Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if authorize != nil && !authorize(r) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	})
}
