package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// Namespace is the namespace of the benchmark's own dev server.
const Namespace = "acronis-autotask-bench"

// TemporalCLI is $TEMPORAL_CLI, else bin/temporal under the working
// directory (what `make tools` builds); the benchmark never downloads one.
func TemporalCLI(getenv func(string) string) (string, error) {
	if p := getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	p, err := filepath.Abs(filepath.Join("bin", "temporal"))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("temporal CLI not found at %s: run `make tools` (or set TEMPORAL_CLI)", p)
	}
	return p, nil
}

// StartTemporal starts an in-memory Temporal dev server from the CLI at path
// with the project's search attributes; Stop it when done. It is
// internal/testenv's starter without testing.TB.
func StartTemporal(ctx context.Context, path string) (*testsuite.DevServer, error) {
	var updates []temporal.SearchAttributeUpdate
	for _, k := range workflows.SearchAttributes() {
		kw, ok := k.(temporal.SearchAttributeKeyKeyword)
		if !ok {
			return nil, fmt.Errorf("search attribute %s is not a keyword", k.GetName())
		}
		updates = append(updates, kw.ValueSet(""))
	}
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     path,
		ClientOptions:    &client.Options{Namespace: Namespace},
		LogLevel:         "error",
		SearchAttributes: temporal.NewSearchAttributes(updates...),
		Stdout:           io.Discard,
		Stderr:           io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("start Temporal dev server from %s: %w", path, err)
	}
	return srv, nil
}

// CreateDatabase creates and migrates a throwaway database on the server of
// baseURL and returns its URL.
func CreateDatabase(ctx context.Context, baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("database URL must be postgres://, got %q", baseURL)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	u.Path = "/bench_" + time.Now().UTC().Format("20060102150405") + "_" + hex.EncodeToString(b)
	u.RawPath = ""
	dbURL := u.String()
	if err := store.EnsureDatabase(ctx, dbURL); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	if err := store.Migrate(ctx, dbURL); err != nil {
		_ = DropDatabase(context.WithoutCancel(ctx), dbURL)
		return "", fmt.Errorf("migrate: %w", err)
	}
	return dbURL, nil
}

// DropDatabase removes the database at dbURL, disconnecting its sessions.
func DropDatabase(ctx context.Context, dbURL string) error {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// statusCounter counts every response a sandbox sends by status code,
// including the thread-limit 429s the Autotask sandbox answers before its
// request log sees the request.
type statusCounter struct {
	mu    sync.Mutex
	codes map[int]int64
}

func newStatusCounter() *statusCounter { return &statusCounter{codes: map[int]int64{}} }

func (c *statusCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		c.mu.Lock()
		c.codes[rec.code]++
		c.mu.Unlock()
	})
}

func (c *statusCounter) count(code int) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codes[code]
}

// serverErrors counts 5xx answers.
func (c *statusCounter) serverErrors() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for code, v := range c.codes {
		if code >= 500 {
			n += v
		}
	}
	return n
}

type statusRecorder struct {
	http.ResponseWriter
	code    int
	written bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.written {
		r.code, r.written = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.written = true
	return r.ResponseWriter.Write(b)
}

// serve listens on a free local port and serves h until the returned stop is called.
func serve(h http.Handler) (addr string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return l.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// freeAddr returns a local address nothing listens on right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
