// Package migrations holds the store's schema history. Each migration is a
// frozen snapshot: it declares the tables it creates with its own types, so
// later changes to the store's rows never alter what an old migration does.
package migrations

import (
	"fmt"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// All returns every migration, oldest first. Append; never edit or reorder.
func All() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		m0001Initial(),
		m0002DeliveryEngine(),
		m0003DeliveryHeads(),
		m0004AdminTokenUse(),
		m0005ConversationActivity(),
		m0006Connections(),
		m0007ChatIndexes(),
		m0008ThreadKinds(),
		m0009UISessions(),
		m0010PendingDeliveryIndexes(),
		m0011UnsentDeliveryIndex(),
	}
}

// Run applies every pending migration.
func Run(db *gorm.DB) error {
	opts := *gormigrate.DefaultOptions
	opts.TableName = "schema_migrations"
	opts.UseTransaction = true
	return gormigrate.New(db, &opts, All()).Migrate()
}

// execAll runs statements in order, naming the one that fails.
func execAll(tx *gorm.DB, statements ...string) error {
	for _, q := range statements {
		if err := tx.Exec(q).Error; err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
