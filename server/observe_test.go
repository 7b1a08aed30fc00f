package server

import (
	"log/slog"
	"testing"
	"time"
)

// Routine requests stay out of the info log; what an operator acts on does not.
func TestRequestLevel(t *testing.T) {
	cases := []struct {
		status  int
		elapsed time.Duration
		want    slog.Level
	}{
		{200, 10 * time.Millisecond, slog.LevelDebug},
		{204, 10 * time.Millisecond, slog.LevelDebug},
		{404, 10 * time.Millisecond, slog.LevelInfo},
		{200, 1500 * time.Millisecond, slog.LevelWarn},
		{503, 10 * time.Millisecond, slog.LevelError},
		{500, 2 * time.Second, slog.LevelError},
	}
	for _, c := range cases {
		if got := requestLevel(c.status, c.elapsed); got != c.want {
			t.Errorf("requestLevel(%d, %s) = %s, want %s", c.status, c.elapsed, got, c.want)
		}
	}
}
