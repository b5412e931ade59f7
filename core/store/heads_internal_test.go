package store

import (
	"context"
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
		s, err := Open(ctx, url, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
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
