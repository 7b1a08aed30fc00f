package testenv

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

// AcronisSandbox serves an Acronis sandbox for the test and returns it with a
// client signed in to it.
func AcronisSandbox(tb testing.TB, opts acsandbox.Options) (*acsandbox.Sandbox, *acronis.Client) {
	tb.Helper()
	sb, err := acsandbox.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	tb.Cleanup(srv.Close)
	c, err := acronis.New(context.Background(), acronis.Config{BaseURL: srv.URL, ClientID: sb.ClientID(), ClientSecret: sb.ClientSecret()})
	if err != nil {
		tb.Fatal(err)
	}
	return sb, c
}
