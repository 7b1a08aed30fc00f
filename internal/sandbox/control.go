package sandbox

import (
	"encoding/json"
	"net/http"
)

// ControlPrefix is where each sandbox serves its control endpoints, so a
// sandbox running in another process can be steered by benchmarks and scripts.
const ControlPrefix = "/_sandbox/"

// Controls wraps a sandbox handler with the fault rules, the request log and the
// control endpoints: GET/POST/DELETE /_sandbox/faults and GET/DELETE
// /_sandbox/requests. Control requests are neither logged nor faulted.
func Controls(h http.Handler, f *Faults, l *RequestLog) http.Handler {
	wrapped := l.Middleware(f.Middleware(h))
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ControlPrefix+"faults", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, f.Rules()) })
	mux.HandleFunc("DELETE "+ControlPrefix+"faults", func(w http.ResponseWriter, _ *http.Request) { f.Reset(); w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST "+ControlPrefix+"faults", func(w http.ResponseWriter, r *http.Request) {
		var rule Rule
		if err := json.NewDecoder(r.Body).Decode(&rule); err != nil {
			http.Error(w, "bad rule: "+err.Error(), http.StatusBadRequest)
			return
		}
		f.Add(rule)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET "+ControlPrefix+"requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"total": l.Total(), "endpoints": l.Snapshot()})
	})
	mux.HandleFunc("DELETE "+ControlPrefix+"requests", func(w http.ResponseWriter, _ *http.Request) { l.Reset(); w.WriteHeader(http.StatusNoContent) })
	mux.Handle("/", wrapped)
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
