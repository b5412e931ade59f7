package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0006Connections adds connections and what activation needs (the
// integrations' connection lists and the senders active integrations hold),
// campaigns, auto-replies, per-kind integration config, chats on
// connections, and provider status on messages.
//
// A conversation's thread key is what new messages find it by: its
// external id while it takes messages. A chat's key is cleared when it
// ends, so the contact's next message opens a new chat; an app's thread
// keeps its key, since the app names it.
func m0006Connections() *gormigrate.Migration {
	type connection struct {
		ID          string `gorm:"primaryKey"`
		WorkspaceID string `gorm:"not null;uniqueIndex:idx_connections_code,priority:1"`
		Code        string `gorm:"not null;uniqueIndex:idx_connections_code,priority:2"`
		Channel     string `gorm:"not null"`
		Sender      string `gorm:"not null"`
		Route       string `gorm:"not null;default:''"`
		Provider    string `gorm:"not null;default:'{}'"`
		CreatedAt   time.Time
		UpdatedAt   time.Time
	}
	type integrationConnection struct {
		IntegrationID  string `gorm:"primaryKey"`
		ConnectionCode string `gorm:"primaryKey"`
		WorkspaceID    string `gorm:"not null;index"`
		Position       int    `gorm:"not null"`
		Status         string `gorm:"not null;default:'inactive'"`
		Error          string `gorm:"not null;default:''"`
		UpdatedAt      time.Time
	}
	// senderBinding: one active integration holds a sender of a channel in
	// a workspace; the unique index makes concurrent starts agree.
	type senderBinding struct {
		WorkspaceID   string `gorm:"primaryKey"`
		Channel       string `gorm:"primaryKey"`
		Sender        string `gorm:"primaryKey"`
		IntegrationID string `gorm:"not null;index"`
		ConnectionID  string `gorm:"not null;index"`
		CreatedAt     time.Time
	}
	type campaign struct {
		ID            string `gorm:"primaryKey;index:idx_campaigns_workspace,priority:2"`
		WorkspaceID   string `gorm:"not null;index:idx_campaigns_workspace,priority:1"`
		Name          string `gorm:"not null"`
		Type          string `gorm:"not null"`
		IntegrationID string `gorm:"not null;default:'';index"`
		Senders       string `gorm:"not null;default:'[]'"`
		Status        string `gorm:"not null"`
		IntegratedAt  *time.Time
		CreatedAt     time.Time
		UpdatedAt     time.Time
	}
	type autoReply struct {
		ID             string `gorm:"primaryKey;index:idx_auto_replies_workspace,priority:2"`
		WorkspaceID    string `gorm:"not null;index:idx_auto_replies_workspace,priority:1"`
		ConnectionCode string `gorm:"not null"`
		Message        string `gorm:"not null"`
		Active         bool   `gorm:"not null"`
		CreatedAt      time.Time
		UpdatedAt      time.Time
	}
	// messageReceipt: a provider's status report that arrived before the
	// send that it reports on was recorded; applied when it is.
	type messageReceipt struct {
		ID           string `gorm:"primaryKey"`
		ConnectionID string `gorm:"not null;index:idx_receipts_message,priority:1"`
		ExternalID   string `gorm:"not null;index:idx_receipts_message,priority:2"`
		Status       string `gorm:"not null"`
		Error        string `gorm:"not null;default:''"`
		CreatedAt    time.Time
	}
	type integration struct {
		Config string `gorm:"not null;default:'{}'"`
	}
	type conversation struct {
		ThreadKey     *string
		ConnectionID  string `gorm:"not null;default:''"`
		Channel       string `gorm:"not null;default:''"`
		Sender        string `gorm:"not null;default:''"`
		LastInboundAt *time.Time
	}
	type message struct {
		Error        string `gorm:"not null;default:''"`
		MediaURL     string `gorm:"not null;default:''"`
		MediaCaption string `gorm:"not null;default:''"`
		ConnectionID string `gorm:"not null;default:''"`
	}
	return &gormigrate.Migration{
		ID: "0006_connections",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().CreateTable(&connection{}, &integrationConnection{}, &senderBinding{},
				&campaign{}, &autoReply{}, &messageReceipt{}); err != nil {
				return err
			}
			adds := []struct {
				table  string
				model  any
				fields []string
			}{
				{"integrations", &integration{}, []string{"Config"}},
				{"conversations", &conversation{}, []string{"ThreadKey", "ConnectionID", "Channel", "Sender", "LastInboundAt"}},
				{"messages", &message{}, []string{"Error", "MediaURL", "MediaCaption", "ConnectionID"}},
			}
			for _, a := range adds {
				for _, f := range a.fields {
					if err := tx.Table(a.table).Migrator().AddColumn(a.model, f); err != nil {
						return err
					}
				}
			}
			for _, q := range []string{
				`UPDATE conversations SET thread_key = external_id`,
				`CREATE UNIQUE INDEX idx_conversations_thread ON conversations (integration_id, thread_key)`,
				`DROP INDEX idx_conversations_external`,
				`CREATE INDEX idx_conversations_external ON conversations (integration_id, external_id)`,
				// Open chats by last activity, for the inactivity sweep.
				`CREATE INDEX idx_conversations_open_chats ON conversations (status, connection_id, last_message_at)`,
				// A provider's status report names the message by its id at the provider.
				`CREATE INDEX idx_messages_provider ON messages (connection_id, external_id)`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&connection{}, &integrationConnection{}, &senderBinding{},
				&campaign{}, &autoReply{}, &messageReceipt{})
		},
	}
}
