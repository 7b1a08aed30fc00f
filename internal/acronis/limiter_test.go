package acronis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

func TestClient_RateLimitBusyPastTheDeadlineIsThrottledNotAServerError(t *testing.T) {
	e := newEnv(t, acsandbox.Options{Dataset: "demo"}, func(c *acronis.Config) { c.RequestsPerSecond, c.Burst = 0.5, 2 })
	ctx := context.Background()
	if _, err := e.client.GetTenant(ctx, acsandbox.LitwareID); err != nil { // the token and this call use the burst
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.client.GetTenant(short, acsandbox.LitwareID)
	var ae *acronis.Error
	if !errors.As(err, &ae) || ae.Kind != acronis.KindThrottled || ae.RetryAfter < time.Second {
		t.Fatalf("err = %v; want Throttled with a Retry-After of seconds", err)
	}
	// Under the 500 ms deadline: a limiter that waited would hit the deadline instead.
	if d := time.Since(start); d > 450*time.Millisecond {
		t.Fatalf("took %s; want an immediate answer instead of waiting out the deadline", d)
	}
}
