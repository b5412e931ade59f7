package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
)

// prefillDeliveries inserts n finished deliveries (succeeded, one attempt
// made) straight into the deliveries table, with the hub stopped (SQLite
// has one writer, the hub's), to show whether a drain slows as the table
// grows. They spread over 1,000 ordering keys as conversations would, and
// their ids sort before any the hub makes (UUIDv7 of time zero), so they
// are the old rows a real table holds. Only columns without a default are
// set: the table may gain columns without the suite's knowing.
func prefillDeliveries(ctx context.Context, dbURL string, n int) error {
	driver, dsn, q := "pgx", dbURL, `INSERT INTO deliveries
		(id, workspace_id, integration_id, conversation_id, message_id, event_type, payload, status,
		 attempt_count, next_attempt_at, created_at, updated_at, ordering_key)
		SELECT '00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'), 'bench-prefill', 'bench-prefill',
			'bench-prefill-' || (g % 1000), 'bench-prefill-' || g, 'message', '{}', $1,
			1, $2, $2, $2, 'bench-prefill-' || (g % 1000)
		FROM generate_series(1, $3::int) AS g`
	if path, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
		q = `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?3)
		INSERT INTO deliveries
		(id, workspace_id, integration_id, conversation_id, message_id, event_type, payload, status,
		 attempt_count, next_attempt_at, created_at, updated_at, ordering_key)
		SELECT printf('00000000-0000-7000-8000-%012x', n), 'bench-prefill', 'bench-prefill',
			'bench-prefill-' || (n % 1000), 'bench-prefill-' || n, 'message', '{}', ?1,
			1, ?2, ?2, ?2, 'bench-prefill-' || (n % 1000)
		FROM g`
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return fmt.Errorf("benchsuite: prefill: %w", err)
	}
	defer db.Close()
	// Times go through the driver, so they are stored as the hub stores its own.
	at := time.Now().UTC().Add(-time.Hour)
	if _, err := db.ExecContext(ctx, q, domain.DeliverySucceeded, at, n); err != nil {
		return fmt.Errorf("benchsuite: prefill %d deliveries: %w", n, err)
	}
	return nil
}

// countDeliveries is the table's size, for the doc.
func countDeliveries(ctx context.Context, dbURL string) (int, error) {
	driver, dsn := "pgx", dbURL
	if path, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return 0, fmt.Errorf("benchsuite: count deliveries: %w", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM deliveries").Scan(&n); err != nil {
		return 0, fmt.Errorf("benchsuite: count deliveries: %w", err)
	}
	return n, nil
}
