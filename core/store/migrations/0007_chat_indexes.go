package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0007ChatIndexes narrows the indexes 0006 added for chats to the rows
// that are chats: an app's conversations and messages, the ingest hot
// path, no longer maintain them on every insert and activity update.
func m0007ChatIndexes() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0007_chat_indexes",
		Migrate: func(tx *gorm.DB) error {
			for _, q := range []string{
				`DROP INDEX idx_conversations_open_chats`,
				`CREATE INDEX idx_conversations_open_chats ON conversations (last_message_at) WHERE status = 'open' AND connection_id <> ''`,
				`DROP INDEX idx_messages_provider`,
				`CREATE INDEX idx_messages_provider ON messages (connection_id, external_id) WHERE connection_id <> ''`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, q := range []string{
				`DROP INDEX idx_conversations_open_chats`,
				`CREATE INDEX idx_conversations_open_chats ON conversations (status, connection_id, last_message_at)`,
				`DROP INDEX idx_messages_provider`,
				`CREATE INDEX idx_messages_provider ON messages (connection_id, external_id)`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}
