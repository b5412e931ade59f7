package store

import (
	"encoding/json"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
)

// Rows mirror the tables the migrations create. They never leave this package.

type workspaceRow struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

func (workspaceRow) TableName() string { return "workspaces" }

type adminTokenRow struct {
	ID          string
	WorkspaceID string
	Name        string
	TokenHash   string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
}

func (adminTokenRow) TableName() string { return "admin_tokens" }

type userRow struct {
	ID           string
	WorkspaceID  string
	Email        string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

type sessionRow struct {
	ID          string
	UserID      string
	WorkspaceID string
	CSRFToken   string `gorm:"column:csrf_token"`
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

func (sessionRow) TableName() string { return "sessions" }

type integrationRow struct {
	ID                     string
	WorkspaceID            string
	Name                   string
	Kind                   string
	Status                 string
	OutboundURL            string
	Delivery               string
	APIKeyHash             string
	ResponseTokenHash      string
	SigningSecret          string
	PrevSigningSecret      string
	PrevSigningSecretUntil *time.Time
	DeliveryFailingSince   *time.Time
	DeliveryDisabledAt     *time.Time
	Config                 string
	CreatedAt              time.Time
	UpdatedAt              time.Time
	DeletedAt              *time.Time
}

func (integrationRow) TableName() string { return "integrations" }

func (r *integrationRow) domain() domain.Integration {
	var d json.RawMessage
	if r.Delivery != "" {
		d = json.RawMessage(r.Delivery)
	}
	return domain.Integration{
		ID:                 r.ID,
		WorkspaceID:        r.WorkspaceID,
		Name:               r.Name,
		Kind:               r.Kind,
		Status:             r.Status,
		OutboundURL:        r.OutboundURL,
		Delivery:           d,
		Config:             json.RawMessage(r.Config),
		CreatedAt:          r.CreatedAt.UTC(),
		DeliveryDisabledAt: utcPtr(r.DeliveryDisabledAt),
		UpdatedAt:          r.UpdatedAt.UTC(),
	}
}

type contactRow struct {
	ID          string
	WorkspaceID string
	ExternalID  string
	Name        string
	Email       string
	EmailLower  string
	Phone       string
	CreatedAt   time.Time
}

func (contactRow) TableName() string { return "contacts" }

func (r *contactRow) domain() domain.Contact {
	return domain.Contact{
		ID:          r.ID,
		WorkspaceID: r.WorkspaceID,
		ExternalID:  r.ExternalID,
		Name:        r.Name,
		Email:       r.Email,
		Phone:       r.Phone,
		CreatedAt:   r.CreatedAt.UTC(),
	}
}

type conversationRow struct {
	ID            string
	WorkspaceID   string
	IntegrationID string
	ExternalID    string
	ContactID     string
	Subject       string
	Status        string
	TeamID        string
	ThreadKey     *string
	ConnectionID  string
	Channel       string
	Sender        string
	LastMessageAt time.Time
	LastInboundAt *time.Time
	CreatedAt     time.Time
	EndedAt       *time.Time
}

func (conversationRow) TableName() string { return "conversations" }

type messageRow struct {
	ID             string
	WorkspaceID    string
	IntegrationID  string
	ConversationID string
	Direction      string
	ExternalID     *string
	Content        string
	ContentType    string
	SentAt         time.Time
	Status         string
	Error          string
	MediaURL       string
	MediaCaption   string
	ConnectionID   string
	// ProviderMessageID is a provider's id of a message sent through a connection.
	ProviderMessageID string
	CreatedAt         time.Time
}

func (messageRow) TableName() string { return "messages" }

func (r *messageRow) domain() domain.Message {
	m := domain.Message{
		ID:             r.ID,
		WorkspaceID:    r.WorkspaceID,
		IntegrationID:  r.IntegrationID,
		ConversationID: r.ConversationID,
		Direction:      r.Direction,
		Content:        r.Content,
		ContentType:    r.ContentType,
		SentAt:         r.SentAt.UTC(),
		Status:         r.Status,
		Error:          r.Error,
		MediaURL:       r.MediaURL,
		MediaCaption:   r.MediaCaption,
		ConnectionID:   r.ConnectionID,
		CreatedAt:      r.CreatedAt.UTC(),
	}
	if r.ProviderMessageID != "" {
		m.ExternalID = r.ProviderMessageID
	}
	if r.ExternalID != nil {
		m.ExternalID = *r.ExternalID
	}
	return m
}

type eventRow struct {
	ID            string
	WorkspaceID   string
	IntegrationID string
	Status        string
	EventType     string
	Error         string
	CreatedAt     time.Time
}

func (eventRow) TableName() string { return "events" }

func (r *eventRow) domain() domain.Event {
	return domain.Event{
		ID:            r.ID,
		WorkspaceID:   r.WorkspaceID,
		IntegrationID: r.IntegrationID,
		Status:        r.Status,
		EventType:     r.EventType,
		Error:         r.Error,
		CreatedAt:     r.CreatedAt.UTC(),
	}
}

type deliveryRow struct {
	ID             string
	WorkspaceID    string
	IntegrationID  string
	ConversationID string
	MessageID      string
	EventType      string
	Payload        string
	TargetType     string
	SubscriptionID string
	OrderingKey    string
	Held           bool
	Status         string
	AttemptCount   int
	NextAttemptAt  time.Time
	ClaimedUntil   *time.Time
	ClaimedBy      string
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (deliveryRow) TableName() string { return "deliveries" }

func (r *deliveryRow) domain() domain.Delivery {
	return domain.Delivery{
		ID:             r.ID,
		WorkspaceID:    r.WorkspaceID,
		IntegrationID:  r.IntegrationID,
		ConversationID: r.ConversationID,
		MessageID:      r.MessageID,
		EventType:      r.EventType,
		Payload:        json.RawMessage(r.Payload),
		TargetType:     r.TargetType,
		SubscriptionID: r.SubscriptionID,
		Status:         r.Status,
		AttemptCount:   r.AttemptCount,
		NextAttemptAt:  r.NextAttemptAt.UTC(),
		LastError:      r.LastError,
		CreatedAt:      r.CreatedAt.UTC(),
		UpdatedAt:      r.UpdatedAt.UTC(),
	}
}

type deliveryAttemptRow struct {
	ID              string
	DeliveryID      string
	N               int
	StatusCode      int
	DurationMs      int64
	Error           string
	ResponseExcerpt string
	Logs            string
	At              time.Time
}

func (deliveryAttemptRow) TableName() string { return "delivery_attempts" }

type subscriptionRow struct {
	ID               string
	WorkspaceID      string
	URL              string
	Enabled          bool
	SubscribedEvents string
	ExtraHeaders     string
	Format           string
	SigningSecret    string
	FailingSince     *time.Time
	DisabledReason   string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (subscriptionRow) TableName() string { return "webhook_subscriptions" }

type teamRow struct {
	ID          string
	WorkspaceID string
	Name        string
	CreatedAt   time.Time
}

func (teamRow) TableName() string { return "teams" }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type inboxRow struct {
	ID            string
	IntegrationID string
	Kind          string
	ConnectionID  string
	Method        string
	URL           string
	Headers       string
	Body          []byte
	ReceivedAt    time.Time
	Attempts      int
	LastError     string
}

func (inboxRow) TableName() string { return "inbox_items" }
