package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0002DeliveryEngine adds webhook subscriptions, teams, delivery targets and
// per-conversation ordering, target health, and console logs on attempts.
func m0002DeliveryEngine() *gormigrate.Migration {
	type webhookSubscription struct {
		ID               string `gorm:"primaryKey;index:idx_subscriptions_workspace,priority:2"`
		WorkspaceID      string `gorm:"not null;index:idx_subscriptions_workspace,priority:1"`
		URL              string `gorm:"not null"`
		Enabled          bool   `gorm:"not null"`
		SubscribedEvents string `gorm:"not null"`
		ExtraHeaders     string `gorm:"not null;default:'[]'"`
		Format           string `gorm:"not null;default:''"`
		SigningSecret    string `gorm:"not null"`
		FailingSince     *time.Time
		DisabledReason   string `gorm:"not null;default:''"`
		CreatedAt        time.Time
		UpdatedAt        time.Time
	}
	type team struct {
		ID          string `gorm:"primaryKey"`
		WorkspaceID string `gorm:"not null;index"`
		Name        string `gorm:"not null"`
		CreatedAt   time.Time
	}
	// Columns added to existing tables, declared on frozen copies of them.
	type delivery struct {
		TargetType     string `gorm:"not null;default:'integration'"`
		SubscriptionID string `gorm:"not null;default:''"`
		OrderingKey    string `gorm:"not null;default:''"`
	}
	type integration struct {
		DeliveryFailingSince *time.Time
		DeliveryDisabledAt   *time.Time
	}
	type deliveryAttempt struct {
		Logs string `gorm:"not null;default:''"`
	}
	type conversation struct {
		EndedAt *time.Time
	}
	return &gormigrate.Migration{
		ID: "0002_delivery_engine",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().CreateTable(&webhookSubscription{}, &team{}); err != nil {
				return err
			}
			adds := []struct {
				table  string
				model  any
				fields []string
			}{
				{"deliveries", &delivery{}, []string{"TargetType", "SubscriptionID", "OrderingKey"}},
				{"integrations", &integration{}, []string{"DeliveryFailingSince", "DeliveryDisabledAt"}},
				{"delivery_attempts", &deliveryAttempt{}, []string{"Logs"}},
				{"conversations", &conversation{}, []string{"EndedAt"}},
			}
			for _, a := range adds {
				for _, f := range a.fields {
					if err := tx.Table(a.table).Migrator().AddColumn(a.model, f); err != nil {
						return err
					}
				}
			}
			// The claim query looks for an earlier pending delivery of the same
			// conversation and target; this index answers it.
			return tx.Exec(`CREATE INDEX idx_deliveries_ordering ON deliveries (ordering_key, status, id)`).Error
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&webhookSubscription{}, &team{})
		},
	}
}
