// Package storetest gives tests a fresh reehub database: a SQLite file always,
// and a new Postgres database when REEHUB_TEST_DATABASE_URL names a server
// (make test's Postgres pass sets it). It is imported by tests only.
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/reehub/reehub/store"
)

// DatabaseURLEnv names the variable that holds the Postgres server tests may
// create databases on.
const DatabaseURLEnv = "REEHUB_TEST_DATABASE_URL"

// Dialects returns the databases a test runs on: "sqlite" always, and
// "postgres" too when DatabaseURLEnv is set.
func Dialects() []string {
	if os.Getenv(DatabaseURLEnv) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Config returns the store configuration of a new, empty database of dialect:
// reehub.db in dir for "sqlite", or a Postgres database named after prefix and
// a random suffix for "postgres". It fails the test when the database cannot
// be created.
func Config(t testing.TB, dialect, dir, prefix string) store.Config {
	t.Helper()
	switch dialect {
	case "sqlite":
		return store.Config{SQLitePath: filepath.Join(dir, "reehub.db")}
	case "postgres":
		url, err := CreatePostgres(context.Background(), os.Getenv(DatabaseURLEnv), prefix)
		if err != nil {
			t.Fatalf("storetest: %v", err)
		}
		return store.Config{PostgresURL: url}
	default:
		t.Fatalf("storetest: unknown dialect %q", dialect)
		return store.Config{}
	}
}

// Default returns the configuration of a new database of the richest dialect
// available: Postgres when DatabaseURLEnv is set, else SQLite in a test
// directory. It suits tests that run on one dialect per pass.
func Default(t testing.TB, prefix string) store.Config {
	t.Helper()
	if os.Getenv(DatabaseURLEnv) != "" {
		return Config(t, "postgres", "", prefix)
	}
	return Config(t, "sqlite", t.TempDir(), prefix)
}

// Open opens a store on Default's database and closes it when the test ends.
func Open(t testing.TB, prefix string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), Default(t, prefix))
	if err != nil {
		t.Fatalf("storetest: open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// CreatePostgres creates an empty database named prefix_<random> on the
// server of baseURL and returns its URL.
func CreatePostgres(ctx context.Context, baseURL, prefix string) (string, error) {
	if baseURL == "" {
		return "", fmt.Errorf("create test database: %s is not set", DatabaseURLEnv)
	}
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return "", fmt.Errorf("create test database: connect: %w", err)
	}
	defer conn.Close(ctx)
	name := strings.ToLower(prefix) + "_" + uuid.NewString()[:8]
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create test database %s: %w", name, err)
	}
	c := conn.Config()
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", c.User, c.Password, c.Host, c.Port, name), nil
}
