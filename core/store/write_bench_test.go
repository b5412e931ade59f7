package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/threads"
)

// BenchmarkStoreWrite is one inbound message made durable on its own: a
// transaction that threads it (contact and conversation known after the
// first), stores it, logs its event and commits. The baseline is the least
// a durable write can be on the same database: one row of the same size
// inserted and committed, with nothing looked up.
//
//	SWITCHBOARD_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench StoreWrite ./core/store/
func BenchmarkStoreWrite(b *testing.B) {
	for _, db := range storetest.Databases(b) {
		b.Run(db.Name+"/baseline", func(b *testing.B) {
			openStore(b, db.URL) // the same file or schema, with the same settings
			storetest.Exec(b, db.URL, `CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, body TEXT NOT NULL)`)
			conn := rawConn(b, db.URL)
			q := `INSERT INTO bench_rows (id, body) VALUES (?, ?)`
			if !strings.HasPrefix(db.URL, "sqlite://") {
				q = `INSERT INTO bench_rows (id, body) VALUES ($1, $2)`
			}
			body := strings.Repeat("x", 200)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				tx, err := conn.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, q, store.NewID(), body); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(db.Name+"/ingest", func(b *testing.B) {
			ctx := context.Background()
			s := openStore(b, db.URL)
			ws, _ := s.EnsureWorkspace(ctx, "w")
			in, err := s.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "i", Kind: "custom", Status: "active"}, store.IntegrationSecrets{})
			if err != nil {
				b.Fatal(err)
			}
			record := threads.NewService(s, nil, nil).Record
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				m := msg(fmt.Sprint("m-", i), fmt.Sprint("c-", i%16), fmt.Sprint("u-", i%16), "", "")
				item := store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "custom", ReceivedAt: time.Now(), Message: m}
				if _, err := s.Ingest(ctx, []store.IngestItem{item}, record); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rawConn opens the database beside the store, with the store's SQLite
// settings (WAL, synchronous=FULL) already in the file.
func rawConn(b *testing.B, url string) *sql.DB {
	b.Helper()
	driver, dsn := "pgx", url
	if rest, ok := strings.CutPrefix(url, "sqlite://"); ok {
		driver, dsn = "sqlite", "file:"+rest+"?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	return db
}
