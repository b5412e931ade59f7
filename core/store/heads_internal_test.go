package store

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestReleaseHeadsRepairsAWrongHold: a head left held (as two processes
// inserting and finishing at once could leave it) is never claimed until
// the sweep releases it; a delivery truly behind another stays held.
func TestReleaseHeadsRepairsAWrongHold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openMigrated(t, url)
		now := time.Now().UTC()
		for i, id := range []string{NewID(), NewID(), NewID()} {
			key := "k:a"
			if i == 2 {
				key = "k:b"
			}
			row := deliveryRow{ID: id, WorkspaceID: "w", IntegrationID: "i", EventType: "message", Payload: "{}", TargetType: domain.TargetSubscription,
				SubscriptionID: "s", OrderingKey: key, Held: true, Status: domain.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
			if err := s.db.Create(&row).Error; err != nil {
				t.Fatal(err)
			}
		}
		if ds, _ := s.ClaimDeliveries(ctx, "w1", 10, time.Minute); len(ds) != 0 {
			t.Fatalf("claimed %d held deliveries", len(ds))
		}
		n, err := s.ReleaseHeads(ctx)
		if err != nil || n != 2 {
			t.Fatalf("released %d (%v), want the head of each key", n, err)
		}
		ds, _ := s.ClaimDeliveries(ctx, "w1", 10, time.Minute)
		if len(ds) != 2 || ds[0].OrderingKey == ds[1].OrderingKey {
			t.Fatalf("after the sweep claimed %+v", ds)
		}
	})
}

// TestHoldsReleasedAfterCommit plays both orders in which a writer holding
// a new delivery and a worker finishing the one before it can commit on
// PostgreSQL, each unable to see the other's uncommitted row. Either way
// the new delivery is claimable at once, without the repair sweep.
func TestHoldsReleasedAfterCommit(t *testing.T) {
	url := storetest.Postgres(t)
	if url == "" {
		t.Skip("needs PostgreSQL: SQLite runs one write transaction at a time")
	}
	ctx := context.Background()
	s := openMigrated(t, url)
	for _, writerFirst := range []bool{true, false} {
		key := fmt.Sprintf("k:%v", writerFirst)
		now := time.Now().UTC()
		first := deliveryRow{ID: NewID(), WorkspaceID: "w", IntegrationID: "i", EventType: "message", Payload: "{}", TargetType: domain.TargetSubscription,
			SubscriptionID: "s", OrderingKey: key, Status: domain.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := s.db.Create(&first).Error; err != nil {
			t.Fatal(err)
		}
		claimed, err := s.ClaimDeliveries(ctx, "w1", 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim the first: %v %v", claimed, err)
		}

		// The writer inserts the next delivery of the key: held, since the
		// first is pending as far as it can see.
		writer := s.db.Begin()
		ev := &domain.OutboundEvent{WorkspaceID: "w", IntegrationID: "i", Conversation: domain.Conversation{ID: "c"}}
		heldKeys, err := insertDeliveries(ctx, gormExec(writer), gormQuery(writer), queued(ev,
			[]NewDelivery{{TargetType: domain.TargetSubscription, SubscriptionID: "s", OrderingKey: key, EventType: "message", Payload: []byte("{}")}}), now)
		if err != nil || len(heldKeys) != 1 {
			t.Fatalf("insert: held %v, %v", heldKeys, err)
		}
		// The worker finishes the first in its own transaction.
		finish := func() {
			out := []AttemptOutcome{{Delivery: claimed[0], Attempt: domain.Attempt{N: 1, At: now}, Status: domain.DeliverySucceeded}}
			worker, err := s.sql.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.finishClaims(ctx, worker, out, now); err != nil {
				t.Fatal(err)
			}
			if err := worker.Commit(); err != nil {
				t.Fatal(err)
			}
			s.releaseHeadsAfterCommit(ctx, []string{key})
		}
		commitWriter := func() {
			if err := writer.Commit().Error; err != nil {
				t.Fatal(err)
			}
			s.releaseHeadsAfterCommit(ctx, heldKeys)
		}
		if writerFirst {
			commitWriter()
			finish()
		} else {
			finish()
			commitWriter()
		}
		next, err := s.ClaimDeliveries(ctx, "w1", 10, time.Minute)
		if err != nil || len(next) != 1 || next[0].OrderingKey != key {
			t.Errorf("writer first %v: the next delivery is not claimable: %+v %v", writerFirst, next, err)
		}
	}
}

// TestReleaseAfterCommitOutlivesTheRequest: a caller whose context ends right
// after its commit (a client that hung up) still releases the heads it held.
func TestReleaseAfterCommitOutlivesTheRequest(t *testing.T) {
	url := storetest.Postgres(t)
	if url == "" {
		t.Skip("needs PostgreSQL: on SQLite the release happens inside the transaction")
	}
	ctx := context.Background()
	s := openMigrated(t, url)
	now := time.Now().UTC()
	key := "k:gone:" + NewID()
	row := deliveryRow{ID: NewID(), WorkspaceID: "w", IntegrationID: "i", EventType: "message", Payload: "{}", TargetType: domain.TargetSubscription,
		SubscriptionID: "s", OrderingKey: key, Held: true, Status: domain.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.db.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	s.releaseHeadsAfterCommit(gone, []string{key})
	ds, err := s.ClaimDeliveries(ctx, "w1", 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == row.ID {
			return
		}
	}
	t.Fatalf("the head stayed held after a release with an ended context (claimed %d others)", len(ds))
}

// openMigrated opens and migrates the store at url, closed when the test ends.
func openMigrated(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBatchHoldsLaterDeliveriesOfAKey: an ingest batch writes its
// deliveries together, and holds each ordered one behind an earlier one of
// its key, whether that one is in the table already or earlier in the batch.
func TestBatchHoldsLaterDeliveriesOfAKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openMigrated(t, url)
		// Each item is one delivery ordered by the key in its channel field.
		record := func(ctx context.Context, b *Batch, items []IngestItem) ([]IngestResult, error) {
			out := make([]IngestResult, len(items))
			for i, it := range items {
				ev := &domain.OutboundEvent{WorkspaceID: "w", IntegrationID: "i", Conversation: domain.Conversation{ID: it.Channel}}
				d := NewDelivery{TargetType: domain.TargetSubscription, SubscriptionID: "s", OrderingKey: it.Channel, EventType: "message", Payload: []byte("{}")}
				b.QueueDeliveries(ev, []NewDelivery{d})
				out[i] = IngestResult{Status: domain.EventSkip}
			}
			return out, nil
		}
		batch := func(keys ...string) {
			t.Helper()
			items := make([]IngestItem, len(keys))
			for i, k := range keys {
				items[i] = IngestItem{WorkspaceID: "w", IntegrationID: "i", Channel: k, ReceivedAt: time.Now()}
			}
			if _, err := s.Ingest(ctx, items, record); err != nil {
				t.Fatal(err)
			}
		}
		held := func() map[string][]bool {
			t.Helper()
			var rows []deliveryRow
			if err := s.db.Order("id").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			out := map[string][]bool{}
			for _, r := range rows {
				out[r.OrderingKey] = append(out[r.OrderingKey], r.Held)
			}
			return out
		}
		batch("k:a", "k:b", "k:a", "k:a")
		batch("k:a", "k:c")
		got := held()
		want := map[string][]bool{"k:a": {false, true, true, true}, "k:b": {false}, "k:c": {false}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("held, by key in insertion order: %v, want %v", got, want)
		}
		claimed, err := s.ClaimDeliveries(ctx, "w1", 10, time.Minute)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claimed %d (%v), want the head of each of 3 keys", len(claimed), err)
		}
	})
}

// TestReleaseOfManyHeads: a batch that held deliveries of more keys than
// one statement takes (64) names each key once, and releasing them frees
// the next delivery of every key.
func TestReleaseOfManyHeads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openMigrated(t, url)
		ev := &domain.OutboundEvent{WorkspaceID: "w", IntegrationID: "i", Conversation: domain.Conversation{ID: "c"}}
		var first, second []NewDelivery
		for i := range 70 {
			d := NewDelivery{TargetType: domain.TargetSubscription, SubscriptionID: "s", OrderingKey: fmt.Sprintf("k:%d", i), EventType: "message", Payload: []byte("{}")}
			first = append(first, d)
			second = append(second, d, d) // two more of each key: the key is held once
		}
		write := func(ds []NewDelivery) []string {
			t.Helper()
			keys, err := insertDeliveries(ctx, gormExec(s.db), gormQuery(s.db), queued(ev, ds), time.Now().UTC())
			if err != nil {
				t.Fatal(err)
			}
			return keys
		}
		if held := write(first); len(held) != 0 {
			t.Fatalf("the first of each key was held: %v", held)
		}
		held := write(second)
		if len(held) != 70 {
			t.Fatalf("held keys %d, want each of 70 once", len(held))
		}
		if err := s.db.Exec(`UPDATE deliveries SET status = 'succeeded' WHERE held = FALSE`).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.releaseHeadsOf(ctx, s.sql.ExecContext, held); err != nil {
			t.Fatal(err)
		}
		claimed, err := s.ClaimDeliveries(ctx, "w1", 200, time.Minute)
		if err != nil || len(claimed) != 70 {
			t.Fatalf("claimed %d (%v) after the release, want the next of each of 70 keys", len(claimed), err)
		}
	})
}
