// Package bounds holds the size limits that keep one oversized value from
// breaking more than its own request: text echoed into answers, logs,
// workflow histories and activity failures is cut to a known length, so a
// 900 KB identifier can never push a Temporal payload past its 2 MB limit.
package bounds

import "unicode/utf8"

// Sizes of text the service repeats back.
const (
	// ErrorMessage bounds an error message carried in an activity failure,
	// a workflow's status or a customer mapping's last error.
	ErrorMessage = 2048
	// Echo bounds a client's value quoted back in an error message.
	Echo = 100
)

// Truncate shortens s to at most n bytes, cutting on a rune boundary and
// marking the cut with "…", so the result stays valid UTF-8.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
