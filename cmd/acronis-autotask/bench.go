package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/acronis-autotask/acronis-autotask/internal/bench"
	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// benchDatabaseURL is the PostgreSQL server where the benchmark creates (and
// drops) its throwaway database, unless BENCH_DATABASE_URL says otherwise.
const benchDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// runBench runs the whole system in this process on a generated data set and
// reports cold provisioning, steady state, propagation, memory and histories.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stdout)
	o := bench.Options{}
	var jsonOut, logPath string
	var inProcess bool
	fs.IntVar(&o.Companies, "companies", 1000, "Autotask companies to generate")
	fs.IntVar(&o.Workers, "workers", 1, "worker processes to run beside the server (they share one Autotask budget)")
	fs.IntVar(&o.Changes, "changes", 100, "contract unit changes for the propagation phase (0: skip)")
	fs.IntVar(&o.Alerts, "alerts", 1000, "alerts for the alert → ticket phase (when the alert workflows run)")
	fs.Uint64Var(&o.DataSeed, "seed", 1, "seed of the generated data set and of the random choices")
	fs.DurationVar(&o.ColdTimeout, "cold-timeout", 25*time.Minute, "give up cold provisioning after this long (later phases are skipped)")
	fs.DurationVar(&o.SettleMax, "settle", 3*time.Minute, "longest wait for provisioning traffic to stop before the steady-state window")
	fs.DurationVar(&o.SteadyWindow, "steady", 3*time.Minute, "steady-state window; requests are extrapolated to an hour")
	fs.DurationVar(&o.ChangeSpread, "spread", time.Minute, "spread the contract changes (and alerts) over this long")
	fs.DurationVar(&o.PropagationTimeout, "propagation-timeout", 20*time.Minute, "a change not in Acronis this long after the last change counts as timed out")
	fs.DurationVar(&o.AlertTimeout, "alert-timeout", 10*time.Minute, "an alert without a ticket this long after the last alert counts as timed out")
	fs.Float64Var(&o.AcronisRate, "acronis-rps", 100, "the Acronis client's request rate (ACRONIS_REQUESTS_PER_SECOND); the sandbox's limit is 100")
	fs.BoolVar(&inProcess, "in-process", false, "run server and worker inside the bench process instead of as `acronis-autotask server` and `acronis-autotask worker` processes (worker RSS then includes the sandboxes)")
	fs.StringVar(&jsonOut, "json", "", "also write the JSON summary to this file")
	fs.StringVar(&logPath, "log", "", "application log file (default .data/bench-<companies>.log)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cli, err := bench.TemporalCLI(getenv)
	if err != nil {
		return err
	}
	o.TemporalCLI = cli
	o.DatabaseBaseURL = benchDatabaseURL
	if u := getenv("BENCH_DATABASE_URL"); u != "" {
		o.DatabaseBaseURL = u
	}
	if logPath == "" {
		logPath = filepath.Join(".data", fmt.Sprintf("bench-%d.log", o.Companies))
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	logs, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logs.Close()
	fmt.Fprintf(stdout, "application log: %s\n", logPath)
	o.Logs, o.Progress = logs, stdout
	o.Command = "acronis-autotask bench " + strings.Join(args, " ")
	o.Seed = seedBench
	if o.Workers < 1 || o.Workers > 16 {
		return fmt.Errorf("--workers must be from 1 to 16, got %d", o.Workers)
	}
	o.RunApp = runAppProcesses(o.Workers)
	if inProcess {
		if o.Workers != 1 {
			return errors.New("--in-process runs one worker; drop --workers or --in-process")
		}
		o.RunApp = func(ctx context.Context, getenv func(string) string, logs io.Writer, workerPID func(int)) error {
			cfg, err := config.Load(getenv)
			if err != nil {
				return fmt.Errorf("configuration:\n%w", err)
			}
			workerPID(os.Getpid())
			return runApp(ctx, cfg, logs, roleServer|roleWorker, codecOptions{anonymous: true})
		}
	}

	res, runErr := bench.Run(ctx, o)
	if res == nil {
		return runErr
	}
	if runErr != nil {
		res.Error = runErr.Error()
	}
	bench.Print(stdout, res)
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if jsonOut != "" {
		if err := os.WriteFile(jsonOut, append(raw, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nJSON summary written to %s\n", jsonOut)
	} else {
		fmt.Fprintf(stdout, "\n%s\n", raw)
	}
	return runErr
}

// runAppProcesses runs this binary's `worker` command workers times and its
// `server` command once as child processes, as they are deployed, so a
// worker's memory is measured on its own. All stop (SIGINT, then SIGKILL
// after 30 s) when ctx ends.
func runAppProcesses(workers int) func(ctx context.Context, getenv func(string) string, logs io.Writer, workerPID func(int)) error {
	return func(ctx context.Context, getenv func(string) string, logs io.Writer, workerPID func(int)) error {
		roles := make([]string, 0, workers+1)
		for range workers {
			roles = append(roles, "worker")
		}
		return runRoles(ctx, append(roles, "server"), getenv, logs, workerPID)
	}
}

// runRoles runs one child process per role; workerPID gets the first worker's id.
func runRoles(ctx context.Context, roles []string, getenv func(string) string, logs io.Writer, workerPID func(int)) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, v := range config.Variables {
		if val := getenv(v.Name); val != "" {
			env = append(env, v.Name+"="+val)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	first := true
	for _, role := range roles {
		cmd := exec.CommandContext(gctx, exe, role)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, logs, logs
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 30 * time.Second
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", role, err)
		}
		if role == "worker" && first {
			first = false
			workerPID(cmd.Process.Pid)
		}
		g.Go(func() error {
			err := cmd.Wait()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s process exited: %v", role, err)
		})
	}
	return g.Wait()
}

// seedBench stores what `make dev` stores for the sandboxes (seedDemo, and
// the alert mappings and ticket settings of seedDemoTickets) without the
// demo's Litware mapping, which the generated data set does not have.
func seedBench(ctx context.Context, st *store.Store) error {
	if _, err := seedDemo(ctx, st); err != nil {
		return err
	}
	return seedTicketSettings(ctx, st, store.Actor{Name: "bench", Reason: "benchmark on the generated data set"})
}
