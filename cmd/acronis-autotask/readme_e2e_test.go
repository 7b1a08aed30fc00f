package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// readmeBlocks returns the ```sh blocks of the README that run against a dev
// stack: every one except those calling make (the quick start, which this
// test stands in for).
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(raw), -1) {
		if regexp.MustCompile(`(?m)^make `).MatchString(m[1]) {
			continue
		}
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestREADME_CommandsRunAsWritten starts the `dev` composition (sandboxes,
// demo seed, REST API and worker) on free ports, reads the addresses from its
// banner, and runs each of the README's sh blocks with bash, only the hosts
// and ports replaced: every command must succeed, so the README and the
// product cannot drift apart.
func TestREADME_CommandsRunAsWritten(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's commands need %s: %v", tool, err)
		}
	}
	blocks := readmeBlocks(t)
	if len(blocks) < 2 {
		t.Fatalf("found %d runnable sh blocks in the README, want the Try it and sandbox blocks", len(blocks))
	}
	temporal := testenv.StartTemporal(t, client.Options{}, workflows.SearchAttributes())
	httpAddr, atAddr, acAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	env := map[string]string{
		"DATABASE_URL":       testenv.NewTestDatabase(t),
		"TEMPORAL_ADDRESS":   temporal.FrontendHostPort(),
		"TEMPORAL_NAMESPACE": testenv.TestNamespace,
		"TASK_QUEUE":         "readme",
		"HTTP_ADDR":          httpAddr,
		"SECRETS_KEY":        secrets.GenerateKey(), // else dev keeps one in .data/
		"TEMPORAL_UI_URL":    "http://localhost:18233",
		"LOG_LEVEL":          "warn",
	}
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDev(ctx, []string{"--autotask-addr", atAddr, "--acronis-addr", acAddr}, func(k string) string { return env[k] }, out)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dev stopped with error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("dev did not stop within 30s")
		}
	})

	// The banner names the addresses in use.
	api := "http://" + httpAddr
	eventually(t, 60*time.Second, "dev ready", func() (bool, string) {
		res, err := http.Get(api + "/readyz")
		if err != nil {
			return false, err.Error() + "\n" + out.String()
		}
		res.Body.Close()
		return res.StatusCode == 200, out.String()
	})
	banner := out.String()
	for _, want := range []string{"REST API:    " + api, "Autotask sandbox: http://" + atAddr, "Acronis sandbox:  http://" + acAddr,
		"Temporal:    " + temporal.FrontendHostPort(), "Temporal UI: http://localhost:18233/namespaces/" + testenv.TestNamespace} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	// The README's commands assume the demo has settled: Fabrikam (the
	// pay-as-you-go customer) and Northwind have tenants.
	a := &app{t: t, base: api}
	for _, id := range []int{102, 103} {
		eventually(t, 90*time.Second, fmt.Sprintf("company %d provisioned", id), func() (bool, string) {
			_, body := a.call("GET", fmt.Sprintf("/api/v1/customers/%d", id), devReadToken, "", nil)
			return body["tenantId"] != nil && body["tenantId"] != "", fmt.Sprint(body["_raw"])
		})
	}

	hosts := strings.NewReplacer("localhost:8080", httpAddr, "127.0.0.1:8081", atAddr, "127.0.0.1:8082", acAddr)
	for i, block := range blocks {
		script := hosts.Replace(block)
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		res, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("README block %d failed (%v):\n%s\noutput:\n%s", i+1, err, block, res)
			continue
		}
		t.Logf("README block %d:\n%s", i+1, res)
	}
}
