package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"gorm.io/gorm"
)

// TestHotQueriesUseTheirIndexes asks each database how it would run the
// delivery queue's queries and the ingest's duplicate lookup on tables
// holding a long history: before any statistics are gathered (a new
// database), and after, once an integration has grown far beyond what the
// statistics say of it. Every step must go by index, and the duplicate
// lookup by both columns of its unique index, not by the integration alone
// and a filter over all its messages, which is what made PostgreSQL's
// ingest and drain slow down as the tables grew.
func TestHotQueriesUseTheirIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openMigrated(t, url)
		fillHistory(t, s, 20_000)

		ids := []any{"grown"}
		for i := range 64 {
			if i > 0 && s.dialect == "postgres" {
				ids = append(ids, "grown")
			}
			ids = append(ids, fmt.Sprintf("m-%d", i))
		}
		queries := []struct {
			name, q, index string
			args           []any
		}{
			{"claim", s.claimQuery(), "idx_deliveries_ready", []any{time.Now(), "w", time.Now(), time.Now(), 64}},
			{"claim's order check", s.claimQuery(), "idx_deliveries_pending", []any{time.Now(), "w", time.Now(), time.Now(), 64}},
			{"hold on insert", s.rebind(pendingKeysQueries[8]), "idx_deliveries_pending", padded([]any{"k:1", "k:2"}, 8)},
			{"release of heads", s.rebind(releaseHeadsQuery(2)), "idx_deliveries_pending", []any{"k:1", "k:2"}},
			{"duplicate lookup", s.rebind(s.storedIDsQueries[64]), "idx_messages_external", ids},
			{"a disabled target's pending deliveries", gormSQL(s, func(tx *gorm.DB) *gorm.DB {
				return pendingOfTarget(tx, ClaimedDelivery{Delivery: domain.Delivery{TargetType: domain.TargetSubscription, SubscriptionID: "s"}}).
					Updates(map[string]any{"status": domain.DeliveryFailed})
			}), "idx_deliveries_pending", nil},
			{"the list of dead deliveries", gormSQL(s, func(tx *gorm.DB) *gorm.DB {
				return deliveriesOf(tx, "w", DeliveryFilter{Status: domain.DeliveryDead}).Order("id DESC").Limit(51).Find(&[]deliveryRow{})
			}), "idx_deliveries_unsent", nil},
		}
		for _, stats := range []string{"without statistics", "with statistics older than the rows"} {
			if stats != "without statistics" {
				if _, err := s.sql.ExecContext(ctx, "ANALYZE"); err != nil {
					t.Fatal(err)
				}
				addMessages(t, s, "grown", 20_000)
			}
			for _, q := range queries {
				t.Run(stats+"/"+q.name, func(t *testing.T) {
					plan := s.explain(t, q.q, q.args...)
					if !strings.Contains(plan, q.index) {
						t.Errorf("the plan does not use %s:\n%s", q.index, plan)
					}
					if step := fullScan(s.dialect, plan); step != "" {
						t.Errorf("the plan reads a whole table (%s):\n%s", step, plan)
					}
					if q.index == "idx_messages_external" && !lookupByBothColumns(s.dialect, plan) {
						t.Errorf("the lookup does not search by integration and message id together:\n%s", plan)
					}
					// PostgreSQL plans a statement prepared once without its
					// values after a few runs: the index must fit then too,
					// which it does only for conditions written as literals.
					if s.dialect == "postgres" && q.args != nil {
						if plan := s.explainGeneric(t, q.q, q.args...); !strings.Contains(plan, q.index) {
							t.Errorf("the generic plan does not use %s:\n%s", q.index, plan)
						}
					}
				})
			}
		}
	})
}

// fillHistory writes n finished deliveries over n/10 conversations, a few
// pending ones, and the messages of two integrations.
func fillHistory(t *testing.T, s *Store, n int) {
	t.Helper()
	now := time.Now().UTC()
	deliveries := make([]deliveryRow, 0, n+20)
	for i := range n {
		status := domain.DeliverySucceeded
		deliveries = append(deliveries, deliveryRow{ID: NewID(), WorkspaceID: "w", IntegrationID: "old", EventType: "message", Payload: "{}",
			TargetType: domain.TargetSubscription, SubscriptionID: "s", OrderingKey: fmt.Sprintf("k:%d", i%(n/10)),
			Status: status, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
	}
	for i := range 20 {
		deliveries = append(deliveries, deliveryRow{ID: NewID(), WorkspaceID: "w", IntegrationID: "old", EventType: "message", Payload: "{}",
			TargetType: domain.TargetSubscription, SubscriptionID: "s", OrderingKey: fmt.Sprintf("k:%d", i%10), Held: i >= 10,
			Status: domain.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
	}
	if err := s.db.CreateInBatches(deliveries, 500).Error; err != nil {
		t.Fatal(err)
	}
	addMessages(t, s, "old", n)
	addMessages(t, s, "older", n/2)
}

// addMessages writes n messages of an integration.
func addMessages(t *testing.T, s *Store, integrationID string, n int) {
	t.Helper()
	now := time.Now().UTC()
	messages := make([]messageRow, n)
	for i := range messages {
		ext := NewID()
		messages[i] = messageRow{ID: NewID(), WorkspaceID: "w", IntegrationID: integrationID, ConversationID: "c",
			Direction: "inbound", ExternalID: &ext, Content: "x", ContentType: "text", SentAt: now, Status: "received", CreatedAt: now}
	}
	if err := s.db.CreateInBatches(messages, 500).Error; err != nil {
		t.Fatal(err)
	}
}

// gormSQL is the statement a GORM query runs, its values written in.
func gormSQL(s *Store, q func(tx *gorm.DB) *gorm.DB) string {
	return s.db.ToSQL(q)
}

// explain returns the database's plan for q, one step a line.
func (s *Store) explain(t *testing.T, q string, args ...any) string {
	t.Helper()
	prefix := "EXPLAIN "
	if s.dialect != "postgres" {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := s.sql.QueryContext(context.Background(), prefix+q, args...)
	if err != nil {
		t.Fatalf("explain %.60s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1])) // the step's text is the last column
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// explainGeneric returns PostgreSQL's plan for q prepared once and run
// without regard to its values, as a long-lived connection's statement is.
func (s *Store) explainGeneric(t *testing.T, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := s.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lits := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			lits[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case time.Time:
			lits[i] = "'" + v.UTC().Format(time.RFC3339Nano) + "'"
		case int:
			lits[i] = fmt.Sprint(v)
		default:
			t.Fatalf("explainGeneric: no literal for %T", a)
		}
	}
	for _, stmt := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE hot AS " + q} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%.60s: %v", stmt, err)
		}
	}
	defer conn.ExecContext(ctx, "DEALLOCATE hot; RESET plan_cache_mode")
	rows, err := conn.QueryContext(ctx, "EXPLAIN EXECUTE hot("+strings.Join(lits, ", ")+")")
	if err != nil {
		t.Fatalf("explain the generic plan: %v", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// fullScan returns a step of plan that reads a whole table, if any.
func fullScan(dialect, plan string) string {
	for _, line := range strings.Split(plan, "\n") {
		step := strings.TrimSpace(line)
		if dialect == "postgres" {
			if strings.Contains(step, "Seq Scan") {
				return step
			}
			continue
		}
		// SQLite: "SCAN d" reads a table; "SCAN d USING INDEX …" and
		// "SEARCH …" go by index. Subquery and compound steps name no table.
		if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "INDEX") && !strings.Contains(step, "CONSTANT ROW") {
			return step
		}
	}
	return ""
}

// lookupByBothColumns says whether each search of messages in plan goes by
// integration and message id together.
func lookupByBothColumns(dialect, plan string) bool {
	if dialect == "postgres" {
		return !strings.Contains(plan, "Filter:") && strings.Contains(plan, "external_id = ")
	}
	for _, line := range strings.Split(plan, "\n") {
		if strings.Contains(line, "messages") && !strings.Contains(line, "integration_id=? AND external_id=?") {
			return false
		}
	}
	return strings.Contains(plan, "messages")
}
