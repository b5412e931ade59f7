// Package storetest gives tests a fresh database of each kind: SQLite always,
// PostgreSQL when SWITCHBOARD_TEST_DATABASE_URL is set.
package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema setup
)

// EnvDatabaseURL names the PostgreSQL server tests may use.
const EnvDatabaseURL = "SWITCHBOARD_TEST_DATABASE_URL"

// Database is one test database.
type Database struct {
	Name string
	URL  string
}

// Databases returns a fresh SQLite database and, when configured, a fresh
// schema on the test PostgreSQL server, dropped when the test ends.
func Databases(t testing.TB) []Database {
	t.Helper()
	dbs := []Database{{Name: "sqlite", URL: SQLite(t)}}
	if pg := Postgres(t); pg != "" {
		dbs = append(dbs, Database{Name: "postgres", URL: pg})
	}
	return dbs
}

// SQLite returns the URL of a new SQLite database in the test's temp dir.
func SQLite(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "switchboard.db")
}

// Postgres returns the URL of a new, empty schema on the test server, or ""
// when no server is configured.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		return ""
	}
	schema := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: open %s: %v", EnvDatabaseURL, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Each runs fn once per test database, as a subtest named after it.
func Each(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	for _, db := range Databases(t) {
		t.Run(db.Name, func(t *testing.T) { fn(t, db.URL) })
	}
}

// String describes the databases in use, for test logs.
func String() string {
	if os.Getenv(EnvDatabaseURL) == "" {
		return "sqlite"
	}
	return "sqlite and postgres"
}

// Exec runs statements on a test database directly, beside the hub, for a
// test that needs the database itself to behave in some way (a trigger that
// refuses a row, say). SQLite's driver is the one the store registers.
func Exec(t testing.TB, databaseURL string, stmts ...string) {
	t.Helper()
	driver, dsn := "pgx", databaseURL
	if rest, ok := strings.CutPrefix(databaseURL, "sqlite://"); ok {
		driver, dsn = "sqlite", "file:"+rest+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("storetest: exec %.60q: %v", q, err)
		}
	}
}

// PoisonMessages makes the database itself refuse any message whose content
// is "poison", as it may refuse a row for a reason no validation foresaw.
func PoisonMessages(t testing.TB, databaseURL string) {
	t.Helper()
	if strings.HasPrefix(databaseURL, "sqlite://") {
		Exec(t, databaseURL, `CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW
			WHEN (NEW.content = 'poison') BEGIN SELECT RAISE(ABORT, 'poisoned message'); END`)
		return
	}
	Exec(t, databaseURL,
		`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.content = 'poison' THEN RAISE EXCEPTION 'poisoned message'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION poison()`)
}
