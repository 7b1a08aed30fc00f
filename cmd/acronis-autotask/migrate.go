package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// runMigrate needs only DATABASE_URL, so it can run before secrets exist.
func runMigrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	url := strings.TrimSpace(getenv("DATABASE_URL"))
	if url == "" {
		return errors.New("DATABASE_URL: is required")
	}
	if err := store.EnsureDatabase(ctx, url); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	if err := store.Migrate(ctx, url); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}
