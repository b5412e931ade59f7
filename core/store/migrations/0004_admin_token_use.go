package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0004AdminTokenUse records when each admin token was last used, so
// operators can tell live tokens from forgotten ones before revoking.
func m0004AdminTokenUse() *gormigrate.Migration {
	type adminToken struct {
		LastUsedAt *time.Time
	}
	return &gormigrate.Migration{
		ID: "0004_admin_token_use",
		Migrate: func(tx *gorm.DB) error {
			return tx.Table("admin_tokens").Migrator().AddColumn(&adminToken{}, "LastUsedAt")
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Table("admin_tokens").Migrator().DropColumn(&adminToken{}, "LastUsedAt")
		},
	}
}
