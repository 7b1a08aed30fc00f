package bounds

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate_CutsOnARuneBoundaryAndMarksTheCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 5, "abcde…"},
		{"ééééé", 3, "é…"}, // é is 2 bytes: cutting at 3 would split the second one
	} {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("界", 1_000_000)
	got := Truncate(long, ErrorMessage)
	if len(got) > ErrorMessage+len("…") || !utf8.ValidString(got) {
		t.Fatalf("Truncate of 3 MB = %d bytes (valid UTF-8: %v), want at most %d", len(got), utf8.ValidString(got), ErrorMessage+len("…"))
	}
}
