package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0005ConversationActivity keeps last_message_at current on the conversation
// row and indexes it, so conversations list by last activity. Until now the
// column held the first message's time; it is set from each conversation's
// newest message.
func m0005ConversationActivity() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0005_conversation_activity",
		Migrate: func(tx *gorm.DB) error {
			err := tx.Exec(`UPDATE conversations SET last_message_at =
				(SELECT m.sent_at FROM messages m WHERE m.conversation_id = conversations.id ORDER BY m.id DESC LIMIT 1)
				WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id)`).Error
			if err != nil {
				return err
			}
			return tx.Exec(`CREATE INDEX idx_conversations_activity ON conversations (workspace_id, last_message_at, id)`).Error
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Exec(`DROP INDEX idx_conversations_activity`).Error
		},
	}
}
