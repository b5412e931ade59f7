// Package store is all of the hub's database code: GORM rows, their mapping
// to domain types, and the hand-written SQL of the hot paths.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/store/migrations"
)

// Errors the store returns; gorm's never leave it.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Store is the hub's database.
type Store struct {
	db      *gorm.DB
	sql     *sql.DB
	dialect string
	// dsn is the database's connection string, for connections of their
	// own outside the pool (the live bus's listener).
	dsn     string
	log     *slog.Logger
	threads *threadCache
	// touchQueries and storedIDsQueries are batch statements in this
	// dialect, by how many rows they take.
	touchQueries, storedIDsQueries map[int]string

	// writeMu serialises the hot write paths on SQLite, which has one writer:
	// waiting on a Go mutex wakes at once, where SQLite's busy handler sleeps
	// in steps of milliseconds.
	writeMu sync.Mutex
}

// lockWrites takes the SQLite write lock in-process; on PostgreSQL, where
// writers run concurrently, it does nothing.
func (s *Store) lockWrites() func() {
	if s.dialect != "sqlite" {
		return func() {}
	}
	s.writeMu.Lock()
	return s.writeMu.Unlock
}

// planningTx runs fn in a transaction under the write lock. Transactions
// that plan deliveries may read on a second pooled connection (the
// planner's caches): on SQLite, unlocked, a burst of them could hold every
// connection waiting for the one writer, which in turn waits for a
// connection, until the busy timeout fails them all.
func (s *Store) planningTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	unlock := s.lockWrites()
	defer unlock()
	return s.db.WithContext(ctx).Transaction(fn)
}

// Open connects to the database a URL names. It does not migrate. Its
// errors never carry the URL's password, whatever the driver put in them.
func Open(ctx context.Context, databaseURL string, log *slog.Logger) (*Store, error) {
	s, err := open(ctx, databaseURL, log)
	return s, config.RedactDatabaseError(err, databaseURL)
}

func open(ctx context.Context, databaseURL string, log *slog.Logger) (*Store, error) {
	dbc, err := config.ParseDatabaseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	gcfg := &gorm.Config{
		Logger:                                   logger.Discard,
		DisableForeignKeyConstraintWhenMigrating: true,
		SkipDefaultTransaction:                   true,
		PrepareStmt:                              false,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
	}
	var dialector gorm.Dialector
	switch dbc.Driver {
	case "sqlite":
		if dir := filepath.Dir(dbc.DSN); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("store: create database directory: %w", err)
			}
		}
		// WAL with synchronous=FULL: a commit is on disk before it returns.
		// BEGIN IMMEDIATE avoids lock upgrades failing under concurrency.
		dsn := "file:" + dbc.DSN + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
			"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)&_pragma=cache_size(-65536)&_pragma=temp_store(memory)&_txlock=immediate"
		dialector = sqlite.Open(dsn)
	case "postgres":
		dialector = postgres.New(postgres.Config{DSN: dbc.DSN})
	}
	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s database: %w", dbc.Driver, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: open %s database: %w", dbc.Driver, err)
	}
	if dbc.Driver == "sqlite" {
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: connect to %s database: %w", dbc.Driver, err)
	}
	return &Store{db: db, sql: sqlDB, dialect: dbc.Driver, dsn: dbc.DSN, log: log, threads: newThreadCache(), touchQueries: touchQueries(dbc.Driver), storedIDsQueries: storedIDsQueries(dbc.Driver)}, nil
}

// Migrate applies every pending migration.
func (s *Store) Migrate(ctx context.Context) error {
	if err := migrations.Run(s.db.WithContext(ctx)); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.sql.PingContext(ctx)
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.sql.Close() }

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// NewID returns a time-ordered unique id (UUIDv7): newest-first lists sort by it.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// rebind turns ? placeholders into $1, $2 … for PostgreSQL.
func (s *Store) rebind(q string) string {
	if s.dialect != "postgres" {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// notFound maps gorm's not-found to ours and wraps everything else.
func notFound(op string, err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// isUniqueViolation reports a unique-constraint failure on either database.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// isRetryable reports a transaction failure that a retry can cure:
// a deadlock or serialization failure on PostgreSQL, a busy SQLite.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40P01" || pgErr.Code == "40001"
	}
	return err != nil && (strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked"))
}

// isConnectionError says whether err is the connection's or the context's
// rather than the data's: trying the same statements again, one item at a
// time, would fail the same way.
func isConnectionError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is a connection exception; 57P01-57P03 the server going away.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	if pgconn.Timeout(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "database is closed") || strings.Contains(msg, "broken pipe")
}

// clampLimit applies the API's paging bounds.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

func now() time.Time { return time.Now().UTC() }
