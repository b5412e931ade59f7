package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

func m0001Initial() *gormigrate.Migration {
	type workspace struct {
		ID        string `gorm:"primaryKey"`
		Name      string `gorm:"not null;uniqueIndex"`
		CreatedAt time.Time
	}
	type adminToken struct {
		ID          string `gorm:"primaryKey"`
		WorkspaceID string `gorm:"not null;index"`
		Name        string `gorm:"not null;default:''"`
		TokenHash   string `gorm:"not null;uniqueIndex"`
		CreatedAt   time.Time
	}
	type user struct {
		ID           string `gorm:"primaryKey"`
		WorkspaceID  string `gorm:"not null;index"`
		Email        string `gorm:"not null;uniqueIndex"`
		PasswordHash string `gorm:"not null"`
		CreatedAt    time.Time
	}
	type integration struct {
		ID                     string `gorm:"primaryKey;index:idx_integrations_workspace,priority:2"`
		WorkspaceID            string `gorm:"not null;index:idx_integrations_workspace,priority:1"`
		Name                   string `gorm:"not null"`
		Kind                   string `gorm:"not null"`
		Status                 string `gorm:"not null"`
		OutboundURL            string `gorm:"not null;default:''"`
		Delivery               string `gorm:"not null;default:''"`
		APIKeyHash             string `gorm:"not null;default:''"`
		ResponseTokenHash      string `gorm:"not null;default:''"`
		SigningSecret          string `gorm:"not null;default:''"`
		PrevSigningSecret      string `gorm:"not null;default:''"`
		PrevSigningSecretUntil *time.Time
		CreatedAt              time.Time
		UpdatedAt              time.Time
		DeletedAt              *time.Time `gorm:"index"`
	}
	type contact struct {
		ID          string `gorm:"primaryKey"`
		WorkspaceID string `gorm:"not null;uniqueIndex:idx_contacts_external,priority:1;index:idx_contacts_email,priority:1"`
		ExternalID  string `gorm:"not null;uniqueIndex:idx_contacts_external,priority:2"`
		Name        string `gorm:"not null;default:''"`
		Email       string `gorm:"not null;default:''"`
		EmailLower  string `gorm:"not null;default:'';index:idx_contacts_email,priority:2"`
		Phone       string `gorm:"not null;default:''"`
		CreatedAt   time.Time
	}
	type conversation struct {
		ID            string `gorm:"primaryKey;index:idx_conversations_workspace,priority:2"`
		WorkspaceID   string `gorm:"not null;index:idx_conversations_workspace,priority:1"`
		IntegrationID string `gorm:"not null;uniqueIndex:idx_conversations_external,priority:1"`
		ExternalID    string `gorm:"not null;uniqueIndex:idx_conversations_external,priority:2"`
		ContactID     string `gorm:"not null;index"`
		Subject       string `gorm:"not null;default:''"`
		Status        string `gorm:"not null"`
		TeamID        string `gorm:"not null;default:''"`
		LastMessageAt time.Time
		CreatedAt     time.Time
	}
	type message struct {
		ID             string  `gorm:"primaryKey;index:idx_messages_conversation,priority:2"`
		WorkspaceID    string  `gorm:"not null"`
		IntegrationID  string  `gorm:"not null;uniqueIndex:idx_messages_external,priority:1"`
		ConversationID string  `gorm:"not null;index:idx_messages_conversation,priority:1"`
		Direction      string  `gorm:"not null"`
		ExternalID     *string `gorm:"uniqueIndex:idx_messages_external,priority:2"`
		Content        string  `gorm:"not null"`
		ContentType    string  `gorm:"not null"`
		SentAt         time.Time
		Status         string `gorm:"not null"`
		CreatedAt      time.Time
	}
	type event struct {
		ID            string `gorm:"primaryKey;index:idx_events_integration,priority:2"`
		WorkspaceID   string `gorm:"not null"`
		IntegrationID string `gorm:"not null;index:idx_events_integration,priority:1"`
		Status        string `gorm:"not null"`
		EventType     string `gorm:"not null"`
		Error         string `gorm:"not null;default:''"`
		CreatedAt     time.Time
	}
	type delivery struct {
		ID             string    `gorm:"primaryKey;index:idx_deliveries_integration,priority:2"`
		WorkspaceID    string    `gorm:"not null"`
		IntegrationID  string    `gorm:"not null;index:idx_deliveries_integration,priority:1"`
		ConversationID string    `gorm:"not null;default:''"`
		MessageID      string    `gorm:"not null;default:''"`
		EventType      string    `gorm:"not null"`
		Payload        string    `gorm:"not null"`
		Status         string    `gorm:"not null;index:idx_deliveries_due,priority:1"`
		AttemptCount   int       `gorm:"not null;default:0"`
		NextAttemptAt  time.Time `gorm:"index:idx_deliveries_due,priority:2"`
		ClaimedUntil   *time.Time
		ClaimedBy      string `gorm:"not null;default:''"`
		LastError      string `gorm:"not null;default:''"`
		CreatedAt      time.Time
		UpdatedAt      time.Time
	}
	type deliveryAttempt struct {
		ID              string `gorm:"primaryKey"`
		DeliveryID      string `gorm:"not null;index"`
		N               int    `gorm:"not null"`
		StatusCode      int    `gorm:"not null;default:0"`
		DurationMs      int64  `gorm:"not null;default:0"`
		Error           string `gorm:"not null;default:''"`
		ResponseExcerpt string `gorm:"not null;default:''"`
		At              time.Time
	}
	type inboxItem struct {
		ID            string `gorm:"primaryKey"`
		IntegrationID string `gorm:"not null"`
		Kind          string `gorm:"not null;index"`
		ConnectionID  string `gorm:"not null;default:''"`
		Method        string `gorm:"not null"`
		URL           string `gorm:"not null"`
		Headers       string `gorm:"not null"`
		Body          []byte
		ReceivedAt    time.Time
		Attempts      int    `gorm:"not null;default:0"`
		LastError     string `gorm:"not null;default:''"`
	}
	tables := []any{
		&workspace{}, &adminToken{}, &user{}, &integration{}, &contact{}, &conversation{},
		&message{}, &event{}, &delivery{}, &deliveryAttempt{}, &inboxItem{},
	}
	return &gormigrate.Migration{
		ID: "0001_initial",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().CreateTable(tables...)
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(tables...)
		},
	}
}
