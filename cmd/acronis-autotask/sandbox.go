package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// sandboxFlags choose the data set and where each sandbox listens.
type sandboxFlags struct {
	dataset      string
	companies    int
	seed         uint64
	autotaskAddr string
	acronisAddr  string
}

func (f *sandboxFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataset, "dataset", "demo", "data set: empty, demo or generated")
	fs.IntVar(&f.companies, "companies", 1000, "companies to generate with --dataset generated")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the generated data set")
	fs.StringVar(&f.autotaskAddr, "autotask-addr", "127.0.0.1:8081", "listen address of the Autotask sandbox")
	fs.StringVar(&f.acronisAddr, "acronis-addr", "127.0.0.1:8082", "listen address of the Acronis sandbox")
}

// sandboxes are both fake APIs, listening.
type sandboxes struct {
	autotask    *atsandbox.Sandbox
	acronis     *acsandbox.Sandbox
	autotaskURL string // base URL clients use, ending in /ATServicesRest
	acronisURL  string
	servers     []*http.Server
}

func startSandboxes(f sandboxFlags, log io.Writer) (*sandboxes, error) {
	at, err := atsandbox.New(atsandbox.Options{Dataset: f.dataset, Companies: f.companies, Seed: f.seed})
	if err != nil {
		return nil, fmt.Errorf("autotask sandbox: %w", err)
	}
	ac, err := acsandbox.New(acsandbox.Options{Dataset: f.dataset, Companies: f.companies, Seed: f.seed, SimulateUsage: f.dataset == "demo"})
	if err != nil {
		return nil, fmt.Errorf("acronis sandbox: %w", err)
	}
	s := &sandboxes{autotask: at, acronis: ac}
	atAddr, err := s.serve(f.autotaskAddr, at.Handler())
	if err != nil {
		return nil, fmt.Errorf("autotask sandbox on %s: %w", f.autotaskAddr, err)
	}
	acAddr, err := s.serve(f.acronisAddr, ac.Handler())
	if err != nil {
		s.close()
		return nil, fmt.Errorf("acronis sandbox on %s: %w", f.acronisAddr, err)
	}
	s.autotaskURL = "http://" + atAddr + "/ATServicesRest"
	s.acronisURL = "http://" + acAddr
	fmt.Fprintf(log, "Autotask sandbox: %s (data set %s)\nAcronis sandbox:  %s\n", s.autotaskURL, f.dataset, s.acronisURL)
	return s, nil
}

func (s *sandboxes) serve(addr string, h http.Handler) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(l) }()
	return l.Addr().String(), nil
}

func (s *sandboxes) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
}

// parseSandboxFlags reads the sandbox flags of a command; nil flags and no
// error mean the user asked for -help, which has been printed.
func parseSandboxFlags(command string, args []string, stdout io.Writer) (*sandboxFlags, error) {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(stdout)
	var f sandboxFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil
		}
		return nil, err
	}
	return &f, nil
}

// runSandbox serves both sandboxes until interrupted.
func runSandbox(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := parseSandboxFlags("sandbox", args, stdout)
	if err != nil || f == nil {
		return err
	}
	s, err := startSandboxes(*f, stdout)
	if err != nil {
		return err
	}
	defer s.close()
	<-ctx.Done()
	return nil
}
