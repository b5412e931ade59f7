package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// Unit is one write transaction outside the ingest path: a reply, an end,
// a transfer. The caller decides what it holds, planning its deliveries
// itself, and the unit writes it; all of it commits, or none.
type Unit struct {
	s    *Store
	ctx  context.Context
	tx   *gorm.DB
	t    time.Time
	held []string
}

// Write runs fn in one transaction. Delivery heads it held are released
// once it has committed.
func (s *Store) Write(ctx context.Context, fn func(u *Unit) error) error {
	var held []string
	err := s.planningTx(ctx, func(tx *gorm.DB) error {
		u := &Unit{s: s, ctx: ctx, tx: tx, t: now()}
		err := fn(u)
		held = u.held
		return err
	})
	if err != nil {
		return err
	}
	s.releaseHeadsAfterCommit(ctx, held)
	return nil
}

// Now is the unit's time: when its rows are created.
func (u *Unit) Now() time.Time { return u.t }

// Conversation reads a conversation inside the unit.
func (u *Unit) Conversation(workspaceID, id string) (domain.Conversation, error) {
	var row conversationRow
	if err := u.tx.Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Conversation{}, notFound("fetch conversation "+id, err)
	}
	out, err := u.s.withContacts(u.ctx, []conversationRow{row})
	if err != nil {
		return domain.Conversation{}, err
	}
	return out[0], nil
}

// LockConversation reads a conversation's status and holds its row until
// the unit ends, so an end and a reply to the same conversation are
// decided one after the other.
func (u *Unit) LockConversation(id string) (string, error) {
	q := `SELECT status FROM conversations WHERE id = ?`
	if u.s.dialect == "postgres" {
		q += ` FOR UPDATE`
	}
	var status string
	if err := u.tx.Raw(q, id).Row().Scan(&status); err != nil {
		return "", notFound("lock conversation "+id, err)
	}
	return status, nil
}

// LockWorkspace serialises a workspace's activation changes (starts,
// stops, campaigns going live, connections deleted) across processes, for
// the rest of the unit. SQLite runs one write transaction at a time already.
func (u *Unit) LockWorkspace(workspaceID string) error {
	return lockWorkspace(u.tx, u.s.dialect, workspaceID)
}

func lockWorkspace(tx *gorm.DB, dialect, workspaceID string) error {
	if dialect != "postgres" {
		return nil
	}
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 7))`, "workspace:"+workspaceID).Error; err != nil {
		return fmt.Errorf("store: lock workspace: %w", err)
	}
	return nil
}

// InsertOutboundMessage stores an outbound message and moves its
// conversation's last activity to it.
func (u *Unit) InsertOutboundMessage(m domain.Message) error {
	row := messageRow{ID: m.ID, WorkspaceID: m.WorkspaceID, IntegrationID: m.IntegrationID, ConversationID: m.ConversationID,
		Direction: domain.Outbound, Content: m.Content, ContentType: m.ContentType, SentAt: m.SentAt, Status: m.Status,
		MediaURL: m.MediaURL, MediaCaption: m.MediaCaption, ConnectionID: m.ConnectionID, CreatedAt: m.CreatedAt}
	if err := u.tx.Create(&row).Error; err != nil {
		return fmt.Errorf("store: insert message: %w", err)
	}
	err := u.tx.Model(&conversationRow{}).Where("id = ?", m.ConversationID).Update("last_message_at", activityTime(m.SentAt)).Error
	if err != nil {
		return fmt.Errorf("store: touch conversation: %w", err)
	}
	return nil
}

// LogEvent adds an entry to an integration's event log.
func (u *Unit) LogEvent(workspaceID, integrationID, status, eventType string) error {
	err := u.tx.Create(&eventRow{ID: NewID(), WorkspaceID: workspaceID, IntegrationID: integrationID,
		Status: status, EventType: eventType, CreatedAt: u.t}).Error
	if err != nil {
		return fmt.Errorf("store: log event: %w", err)
	}
	return nil
}

// EndConversation marks an open conversation ended; ErrConflict when it
// was not open. With releaseKey its thread key is freed, so the next
// message of its contact opens a new conversation.
func (u *Unit) EndConversation(id string, releaseKey bool) error {
	set := map[string]any{"status": domain.ConversationEnded, "ended_at": u.t}
	if releaseKey {
		set["thread_key"] = nil
	}
	res := u.tx.Model(&conversationRow{}).Where("id = ? AND status = ?", id, domain.ConversationOpen).Updates(set)
	if res.Error != nil {
		return fmt.Errorf("store: end conversation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// SetConversationTeam moves a conversation to a team.
func (u *Unit) SetConversationTeam(id, teamID string) error {
	if err := u.tx.Model(&conversationRow{}).Where("id = ?", id).Update("team_id", teamID).Error; err != nil {
		return fmt.Errorf("store: set team: %w", err)
	}
	return nil
}

// Team reads a team of a workspace inside the unit.
func (u *Unit) Team(workspaceID, id string) (domain.Team, error) {
	var row teamRow
	if err := u.tx.Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return domain.Team{}, ErrTeamNotFound
		}
		return domain.Team{}, fmt.Errorf("store: fetch team: %w", err)
	}
	return domain.Team{ID: row.ID, WorkspaceID: row.WorkspaceID, Name: row.Name, CreatedAt: row.CreatedAt.UTC()}, nil
}

// InsertDeliveries writes the deliveries an event causes.
func (u *Unit) InsertDeliveries(ev *domain.OutboundEvent, ds []NewDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	keys, err := insertDeliveries(u.ctx, gormExec(u.tx), gormQuery(u.tx), queued(ev, ds), u.t)
	if err != nil {
		return err
	}
	u.held = append(u.held, keys...)
	return nil
}
