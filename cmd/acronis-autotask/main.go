// Command acronis-autotask is the one binary of the integration: REST API,
// Temporal worker, migrations, API sandboxes and a dev mode that runs them all.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "acronis-autotask:", err)
		os.Exit(1)
	}
}

const usage = `usage: acronis-autotask <command> [flags]

commands:
  server    serve the REST API
  worker    run the Temporal worker
  migrate   create the database if needed and apply migrations
  sandbox   serve the Autotask and Acronis API sandboxes
  dev       everything in one process against a running Temporal dev server,
            with both sandboxes and demo data
  bench     measure the whole system on N generated companies (--companies N,
            --workers K worker processes on one Autotask budget)
  help      show this text and the environment variables
`

// run is main without process globals, so tests can drive every command.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("a command is required")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "server":
		return runServices(ctx, getenv, stdout, roleServer)
	case "worker":
		return runServices(ctx, getenv, stdout, roleWorker)
	case "migrate":
		return runMigrate(ctx, getenv, stdout)
	case "sandbox":
		return runSandbox(ctx, rest, stdout)
	case "dev":
		return runDev(ctx, rest, getenv, stdout)
	case "bench":
		return runBench(ctx, rest, getenv, stdout)
	case "help", "-h", "--help":
		printHelp(stdout)
		return nil
	default:
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
