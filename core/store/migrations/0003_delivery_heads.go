package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0003DeliveryHeads marks ordered deliveries that wait behind an earlier
// one of their conversation, so the claim query finds the heads by index.
func m0003DeliveryHeads() *gormigrate.Migration {
	type delivery struct {
		Held bool `gorm:"not null;default:false"`
	}
	return &gormigrate.Migration{
		ID: "0003_delivery_heads",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("deliveries").Migrator().AddColumn(&delivery{}, "Held"); err != nil {
				return err
			}
			return tx.Exec(`CREATE INDEX idx_deliveries_ready ON deliveries (status, held, next_attempt_at)`).Error
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Exec(`DROP INDEX idx_deliveries_ready`).Error
		},
	}
}
