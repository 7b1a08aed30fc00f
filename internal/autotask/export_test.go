package autotask

import "net/http"

// ClassifyForTest exposes classify to the external tests.
func ClassifyForTest(status int, h http.Header, body []byte) *Error {
	if h == nil {
		h = http.Header{}
	}
	return classify("GET", "/x", status, h, body)
}
