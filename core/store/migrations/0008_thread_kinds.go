package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0008ThreadKinds keeps an app's threads and chats apart, and a
// provider's message ids apart from inbound ones.
//
// Thread keys become "a:" and the app's conversationId for an app's
// thread, "c:" and the contact's number for a chat: an app naming a
// conversation after a contact's number no longer lands in, or takes over,
// that contact's chat. A provider's id of a message sent through a
// connection moves to a column of its own, outside the unique index that
// deduplicates inbound message ids: a provider that repeats an id can no
// longer make recording the send fail.
func m0008ThreadKinds() *gormigrate.Migration {
	type message struct {
		ProviderMessageID string `gorm:"not null;default:''"`
	}
	return &gormigrate.Migration{
		ID: "0008_thread_kinds",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("messages").Migrator().AddColumn(&message{}, "ProviderMessageID"); err != nil {
				return err
			}
			for _, q := range []string{
				`UPDATE conversations SET thread_key = 'c:' || thread_key WHERE thread_key IS NOT NULL AND connection_id <> ''`,
				`UPDATE conversations SET thread_key = 'a:' || thread_key WHERE thread_key IS NOT NULL AND connection_id = ''`,
				`UPDATE messages SET provider_message_id = external_id, external_id = NULL WHERE direction = 'outbound' AND connection_id <> '' AND external_id IS NOT NULL`,
				`DROP INDEX idx_messages_provider`,
				`CREATE INDEX idx_messages_provider ON messages (connection_id, provider_message_id) WHERE connection_id <> ''`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Table("messages").Migrator().DropColumn(&message{}, "ProviderMessageID")
		},
	}
}
