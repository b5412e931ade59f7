package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0010PendingDeliveryIndexes narrows the delivery queue's indexes to the
// rows still pending.
//
// Finished deliveries stay in the table as its history, so it only grows,
// while the queue's queries only ever look at pending rows: the claim (due
// heads of conversations, in next-attempt order), its check for an earlier
// pending delivery of the same conversation, the hold on insert and the
// release of the next head. Partial indexes keep those lookups the size of
// the queue rather than of the history, and make each query's index the
// only one that fits, so a planner without statistics (a new database, a
// table that just grew) cannot pick another. The queries name the same
// constant conditions as the predicates, which both databases need to use
// a partial index.
func m0010PendingDeliveryIndexes() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0010_pending_delivery_indexes",
		Migrate: func(tx *gorm.DB) error {
			return execAll(tx,
				`DROP INDEX idx_deliveries_ready`,
				`DROP INDEX idx_deliveries_due`,
				`DROP INDEX idx_deliveries_ordering`,
				`CREATE INDEX idx_deliveries_ready ON deliveries (next_attempt_at) WHERE status = 'pending' AND held = FALSE`,
				`CREATE INDEX idx_deliveries_pending ON deliveries (ordering_key, id) WHERE status = 'pending'`,
			)
		},
		Rollback: func(tx *gorm.DB) error {
			return execAll(tx,
				`DROP INDEX idx_deliveries_ready`,
				`DROP INDEX idx_deliveries_pending`,
				`CREATE INDEX idx_deliveries_ready ON deliveries (status, held, next_attempt_at)`,
				`CREATE INDEX idx_deliveries_due ON deliveries (status, next_attempt_at)`,
				`CREATE INDEX idx_deliveries_ordering ON deliveries (ordering_key, status, id)`,
			)
		},
	}
}
