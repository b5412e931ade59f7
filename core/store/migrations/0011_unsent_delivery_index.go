package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0011UnsentDeliveryIndex indexes a workspace's deliveries that failed or
// died, which the deliveries list filters by and a bulk retry takes: 0010
// dropped the index on status, and these are few among the finished. The
// queries repeat the predicate's words so both databases use it.
func m0011UnsentDeliveryIndex() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0011_unsent_delivery_index",
		Migrate: func(tx *gorm.DB) error {
			return execAll(tx, `CREATE INDEX idx_deliveries_unsent ON deliveries (workspace_id, id) WHERE status IN ('failed', 'dead')`)
		},
		Rollback: func(tx *gorm.DB) error {
			return execAll(tx, `DROP INDEX idx_deliveries_unsent`)
		},
	}
}
