package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestRecordAttemptsIsolatesARefusedOutcome: an attempt the database refuses
// fails alone; the others of its batch, of any workspace, are recorded.
func TestRecordAttemptsIsolatesARefusedOutcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openMigrated(t, url)
		if strings.HasPrefix(url, "sqlite://") {
			storetest.Exec(t, url, `CREATE TRIGGER poison BEFORE INSERT ON delivery_attempts FOR EACH ROW
				WHEN (NEW.error = 'poison') BEGIN SELECT RAISE(ABORT, 'poisoned attempt'); END`)
		} else {
			storetest.Exec(t, url,
				`CREATE FUNCTION poison_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF NEW.error = 'poison' THEN RAISE EXCEPTION 'poisoned attempt'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER poison_attempt BEFORE INSERT ON delivery_attempts FOR EACH ROW EXECUTE FUNCTION poison_attempt()`)
		}
		now := time.Now().UTC()
		for _, ws := range []string{"victim", "hostile", "victim"} {
			row := deliveryRow{ID: NewID(), WorkspaceID: ws, IntegrationID: "i-" + ws, EventType: "message", Payload: "{}", TargetType: domain.TargetSubscription,
				SubscriptionID: "s-" + ws, Status: domain.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
			if err := s.db.Create(&row).Error; err != nil {
				t.Fatal(err)
			}
		}
		claimed, err := s.ClaimDeliveries(ctx, "w1", 10, time.Minute)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claimed %d (%v)", len(claimed), err)
		}
		var out []AttemptOutcome
		for _, d := range claimed {
			o := AttemptOutcome{Delivery: d, Attempt: domain.Attempt{N: 1, At: now}, Status: domain.DeliverySucceeded, TargetOK: true}
			if d.WorkspaceID == "hostile" {
				o.Attempt.Error, o.Status = "poison", domain.DeliveryFailed
			}
			out = append(out, o)
		}
		held, _, err := s.RecordAttempts(ctx, out, 0)
		if err == nil {
			t.Error("a refused attempt reported no error")
		}
		for i, o := range out {
			if want := o.Delivery.WorkspaceID == "victim"; held[i] != want {
				t.Errorf("%s: recorded %v, want %v", o.Delivery.WorkspaceID, held[i], want)
			}
			d, err := s.Delivery(ctx, o.Delivery.WorkspaceID, o.Delivery.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: domain.DeliverySucceeded, false: domain.DeliveryPending}[o.Delivery.WorkspaceID == "victim"]; d.Status != want {
				t.Errorf("%s: status %s, want %s", o.Delivery.WorkspaceID, d.Status, want)
			}
		}
	})
}
