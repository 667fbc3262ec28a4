package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/reehub/reehub/store"
)

// freshPostgres returns the URL of a new empty database, or skips without Postgres.
func freshPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv("REEHUB_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("REEHUB_TEST_DATABASE_URL is not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer conn.Close(ctx)
	name := "reehub_schema_" + uuid.NewString()[:8]
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	c := conn.Config()
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", c.User, c.Password, c.Host, c.Port, name)
}

// column is a column as both dialects can describe it.
type column struct {
	Type    string // int, text, time or bool
	NotNull bool
}

// sqliteSchema describes reehub's tables (River's are River's) in SQLite.
func sqliteSchema(t *testing.T, db *sql.DB) map[string]map[string]column {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'river%' AND name NOT LIKE 'sqlite%'`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Close())
	out := map[string]map[string]column{}
	for _, table := range tables {
		cols, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, table)
		require.NoError(t, err)
		out[table] = map[string]column{}
		for cols.Next() {
			var name, typ string
			var notNull, pk int
			require.NoError(t, cols.Scan(&name, &typ, &notNull, &pk))
			out[table][name] = column{Type: family(typ), NotNull: notNull == 1 || pk > 0}
		}
		require.NoError(t, cols.Close())
	}
	return out
}

// postgresSchema describes reehub's tables in Postgres.
func postgresSchema(t *testing.T, db *sql.DB) map[string]map[string]column {
	t.Helper()
	rows, err := db.Query(`SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name NOT LIKE 'river%'`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]map[string]column{}
	for rows.Next() {
		var table, name, typ, nullable string
		require.NoError(t, rows.Scan(&table, &name, &typ, &nullable))
		if out[table] == nil {
			out[table] = map[string]column{}
		}
		out[table][name] = column{Type: family(typ), NotNull: nullable == "NO"}
	}
	require.NoError(t, rows.Err())
	return out
}

// family maps a declared type of either dialect to what it holds.
func family(typ string) string {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "int"), strings.Contains(t, "serial"):
		return "int"
	case strings.Contains(t, "text"), strings.Contains(t, "char"):
		return "text"
	case strings.Contains(t, "time"), strings.Contains(t, "date"):
		return "time"
	case strings.Contains(t, "bool"):
		return "bool"
	case t == "blob", t == "bytea":
		return "bytes"
	}
	return "other:" + t
}

// TestSchemasAgree: after all migrations, SQLite and Postgres have the same
// tables with the same columns, nullability and comparable types.
func TestSchemasAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg, err := store.Open(ctx, store.Config{PostgresURL: freshPostgres(t)})
	require.NoError(t, err)
	defer pg.Close()
	lite, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "x.db")})
	require.NoError(t, err)
	defer lite.Close()

	ls, ps := sqliteSchema(t, lite.SQLDB()), postgresSchema(t, pg.SQLDB())
	require.Contains(t, ls, "jobs")
	names := func(m map[string]map[string]column) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	require.Equal(t, names(ls), names(ps), "the same tables")
	for table, cols := range ls {
		require.Equal(t, cols, ps[table], "columns of %s", table)
	}
}

// TestConcurrentOpenOnPostgres: instances starting together on one empty
// database all migrate it (the advisory lock serialises them); without the
// lock, CREATE TABLE races fail one of them.
func TestConcurrentOpenOnPostgres(t *testing.T) {
	t.Parallel()
	url := freshPostgres(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := store.Open(context.Background(), store.Config{PostgresURL: url})
			if err == nil {
				err = st.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "instance %d", i)
	}
}

// TestProcessesMigrateIntoJobs: processes recorded before the job engine
// become jobs of the REE family with their REE row and output.
func TestProcessesMigrateIntoJobs(t *testing.T) {
	t.Parallel()
	type dialect struct {
		name   string
		driver string
		dsn    func(t *testing.T) (string, store.Config)
	}
	dialects := []dialect{
		{"sqlite", "sqlite", func(t *testing.T) (string, store.Config) {
			p := filepath.Join(t.TempDir(), "old.db")
			return "file:" + p, store.Config{SQLitePath: p}
		}},
		{"postgres", "pgx", func(t *testing.T) (string, store.Config) {
			u := freshPostgres(t)
			return u, store.Config{PostgresURL: u}
		}},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			dsn, cfg := d.dsn(t)
			db, err := sql.Open(d.driver, dsn)
			require.NoError(t, err)
			init, err := os.ReadFile(filepath.Join("migrations", d.name, "0001_init.sql"))
			require.NoError(t, err)
			for _, stmt := range strings.Split(string(init), ";\n") {
				if strings.TrimSpace(stmt) != "" {
					_, err := db.Exec(stmt)
					require.NoError(t, err, stmt)
				}
			}
			ph := func(q string) string {
				if d.name == "postgres" {
					for i := 1; strings.Contains(q, "?"); i++ {
						q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
					}
				}
				return q
			}
			now := time.Now().UTC()
			mustExec := func(q string, args ...any) {
				_, err := db.Exec(ph(q), args...)
				require.NoError(t, err, q)
			}
			mustExec(`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`)
			mustExec(`INSERT INTO schema_migrations (version, applied_at) VALUES ('0001_init', ?)`, now)
			mustExec(`INSERT INTO users (id, name, role, created_at) VALUES (7, 'old', 'user', ?)`, now)
			done, queued := uuid.NewString(), uuid.NewString()
			mustExec(`INSERT INTO processes (id, owner_id, kind, tag, state, dockerfile, input_digest, output_digest, log_digest, job_id, created_at, started_at, finished_at)
				VALUES (?, 7, 'recording', 'v1', 'processed', 'Dockerfile', 'sha256:in', 'sha256:out', 'sha256:log', 3, ?, ?, ?)`, done, now, now, now)
			mustExec(`INSERT INTO processes (id, owner_id, kind, state, input_digest, created_at) VALUES (?, 7, 'replay', 'queued', 'sha256:in2', ?)`, queued, now)
			require.NoError(t, db.Close())

			st, err := store.Open(context.Background(), cfg)
			require.NoError(t, err)
			defer st.Close()
			ctx := context.Background()
			p, err := st.ProcessOf(ctx, 7, done)
			require.NoError(t, err)
			require.Equal(t, "ree", p.Family)
			require.Equal(t, "ree_recording", p.Kind)
			require.Equal(t, "succeeded", p.State)
			require.Equal(t, "v1", *p.Tag)
			require.Equal(t, "sha256:log", p.LogDigest)
			require.Equal(t, "Dockerfile", p.Dockerfile)
			require.JSONEq(t, `{"dockerfile":"Dockerfile","input_digest":"sha256:in","tag":"v1"}`, p.Args)
			outs, err := st.JobOutputs(ctx, done)
			require.NoError(t, err)
			require.Equal(t, []store.JobOutput{{JobID: done, Name: "ree.zip", Digest: "sha256:out", MediaType: "application/zip"}}, outs)
			q, err := st.ProcessOf(ctx, 7, queued)
			require.NoError(t, err)
			require.Equal(t, "queued", q.State)
			require.Equal(t, "ree_replay", q.Kind)
			require.Nil(t, q.Tag)
			require.Equal(t, 0, q.Attempt)
		})
	}
}
