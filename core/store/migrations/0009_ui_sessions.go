package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0009UISessions gives admin-UI logins a role and keeps their sessions.
//
// A user is an owner, an admin or an agent; logins made before roles
// existed are owners. A session is stored by the SHA-256 of its cookie
// value, with the CSRF token its forms carry.
func m0009UISessions() *gormigrate.Migration {
	type user struct {
		Role string `gorm:"not null;default:'owner'"`
	}
	type session struct {
		ID          string    `gorm:"primaryKey"` // SHA-256 of the cookie value, hex
		UserID      string    `gorm:"not null;index"`
		WorkspaceID string    `gorm:"not null"`
		CSRFToken   string    `gorm:"not null"`
		CreatedAt   time.Time `gorm:"not null"`
		ExpiresAt   time.Time `gorm:"not null;index"`
	}
	return &gormigrate.Migration{
		ID: "0009_ui_sessions",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("users").Migrator().AddColumn(&user{}, "Role"); err != nil {
				return err
			}
			return tx.Table("sessions").Migrator().CreateTable(&session{})
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropTable("sessions"); err != nil {
				return err
			}
			return tx.Table("users").Migrator().DropColumn(&user{}, "Role")
		},
	}
}
