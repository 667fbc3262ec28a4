// Package store is reehub's persistence: GORM models, the queries on them and the
// embedded, versioned migrations. It is the only package that imports gorm.
//
// The embedded default is SQLite in the data directory (pure Go, WAL, foreign
// keys on); Postgres is used when a database URL is configured. The same
// *sql.DB (SQLite) or URL (Postgres) also serves River, the job engine.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite" // registers the pure-Go "sqlite" database/sql driver
	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/reehub/reehub/fault"
)

//go:embed migrations/*/*.sql
var migrationFS embed.FS

// Dialect names the database behind a Store.
type Dialect string

const (
	// SQLite is the embedded default database.
	SQLite Dialect = "sqlite"
	// Postgres is the scale-out database.
	Postgres Dialect = "postgres"
)

// Config says which database to open.
type Config struct {
	// SQLitePath is the SQLite file, used when PostgresURL is empty.
	SQLitePath string
	// PostgresURL is a postgres:// URL; when set, Postgres is used.
	PostgresURL string
	// NowFunc returns the current time; defaults to time.Now (tests inject a clock).
	NowFunc func() time.Time
}

// Store holds the database handle. A Store returned by InTx is bound to a transaction.
type Store struct {
	db    *gorm.DB
	sqlDB *sql.DB
	// rdb serves the hot read-only lookups (read); on SQLite it is a separate
	// pool of query_only connections, so that readers do not queue behind the
	// one writer connection. Nil in a transaction and on Postgres, where db
	// serves reads too. (Prepared statements are not cached: the pure-Go
	// driver prepares again on every query, so a cache saves nothing.)
	rdb     *gorm.DB
	rsqlDB  *sql.DB
	dialect Dialect
	now     func() time.Time
}

// readPoolSize is the number of connections of the SQLite read pool. Readers
// in WAL mode run beside each other and beside the writer.
const readPoolSize = 8

// read returns the handle for a read outside a transaction.
func (s *Store) read() *gorm.DB {
	if s.rdb != nil {
		return s.rdb
	}
	return s.db
}

// Open opens (and creates) the database and applies pending migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	gcfg := &gorm.Config{
		TranslateError: true,
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return cfg.NowFunc().UTC() },
	}
	s := &Store{now: cfg.NowFunc}
	switch {
	case cfg.PostgresURL != "":
		db, err := gorm.Open(postgres.Open(cfg.PostgresURL), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		s.db, s.dialect = db, Postgres
	default:
		if cfg.SQLitePath == "" {
			return nil, errors.New("open store: neither a SQLite path nor a Postgres URL is configured")
		}
		// WAL lets readers run beside the writer; busy_timeout makes a writer wait
		// for the lock instead of failing; foreign keys are off by default in SQLite.
		dsn := "file:" + cfg.SQLitePath + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		sqlDB, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", cfg.SQLitePath, err)
		}
		// SQLite has one writer at a time: one connection makes writers (River's
		// and the store's) queue in the pool instead of polling for the lock, as
		// River's SQLite driver recommends. Hot reads use the read pool.
		sqlDB.SetMaxOpenConns(1)
		db, err := gorm.Open(&sqlite.Dialector{Conn: sqlDB}, gcfg)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", cfg.SQLitePath, err)
		}
		s.db, s.dialect = db, SQLite
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.sqlDB = sqlDB
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("ping %s database: %w", s.dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if s.dialect == SQLite {
		if err := s.openReadPool(cfg.SQLitePath, gcfg); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	return s, nil
}

// openReadPool opens the SQLite read pool: query_only connections, through
// which a write fails.
func (s *Store) openReadPool(path string, gcfg *gorm.Config) error {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	rsqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open sqlite read pool %s: %w", path, err)
	}
	rsqlDB.SetMaxOpenConns(readPoolSize)
	rsqlDB.SetMaxIdleConns(readPoolSize)
	rdb, err := gorm.Open(&sqlite.Dialector{Conn: rsqlDB}, gcfg)
	if err != nil {
		_ = rsqlDB.Close()
		return fmt.Errorf("open sqlite read pool %s: %w", path, err)
	}
	s.rdb, s.rsqlDB = rdb, rsqlDB
	return nil
}

// Dialect reports which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// SQLDB returns the underlying pool; River's SQLite driver shares it.
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Close closes the database pools.
func (s *Store) Close() error {
	if s.rsqlDB != nil {
		_ = s.rsqlDB.Close()
	}
	return s.sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.sqlDB.PingContext(ctx) }

// InTx runs fn with a Store bound to one transaction, committed when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, sqlDB: s.sqlDB, dialect: s.dialect, now: s.now})
	})
}

// migrationLockKey is the Postgres advisory lock that serialises migrations
// of all instances on one database.
const migrationLockKey int64 = 0x7265656875620001

// WithMigrationLock runs fn holding the database-wide migration lock. On
// Postgres it is a session advisory lock (pg_advisory_lock) on a dedicated
// connection, so that instances starting together apply reehub's and River's
// migrations one after the other instead of racing on CREATE TABLE; on SQLite
// (one instance per file, and its writers are serialised anyway) fn just runs.
func (s *Store) WithMigrationLock(ctx context.Context, fn func() error) error {
	if s.dialect != Postgres {
		return fn()
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey)
	}()
	return fn()
}

// migrate applies the embedded migrations of the dialect that are not yet
// recorded in schema_migrations, each in its own transaction, in file-name
// order, under the migration lock.
func (s *Store) migrate(ctx context.Context) error {
	return s.WithMigrationLock(ctx, func() error { return s.applyMigrations(ctx) })
}

func (s *Store) applyMigrations(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`).Error; err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	dir := path.Join("migrations", string(s.dialect))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		version := strings.TrimSuffix(e.Name(), ".sql")
		var n int64
		if err := db.Table("schema_migrations").Where("version = ?", version).Count(&n).Error; err != nil {
			return fmt.Errorf("check migration %s: %w", version, err)
		}
		if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("read migration %s: %w", version, err)
		}
		err = db.Transaction(func(tx *gorm.DB) error {
			for _, stmt := range splitStatements(string(body)) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%s: %w", firstLine(stmt), err)
				}
			}
			return tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, s.Now()).Error
		})
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", version, err)
		}
	}
	return nil
}

// splitStatements splits a migration file on semicolons that end a line.
func splitStatements(sqlText string) []string {
	var out []string
	for _, part := range strings.Split(sqlText, ";\n") {
		if p := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";")); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// translate maps GORM errors to fault kinds, naming what was looked up.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fault.NotFoundf("%s not found", what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fault.Conflictf("%s already exists", what)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// conflictf returns a conflict error with a formatted message.
func conflictf(format string, args ...any) error { return fault.Conflictf(format, args...) }
