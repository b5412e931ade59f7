package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// ConversationFilter narrows a conversation listing.
type ConversationFilter struct {
	IntegrationID string
}

// Conversations lists a workspace's conversations with their contacts, by
// last activity: the conversation with the newest message first. The cursor
// is the last one's activity time and id.
func (s *Store) Conversations(ctx context.Context, workspaceID string, f ConversationFilter, page domain.Page) ([]domain.Conversation, string, error) {
	q := s.db.WithContext(ctx).Model(&conversationRow{}).Where("workspace_id = ?", workspaceID)
	if f.IntegrationID != "" {
		q = q.Where("integration_id = ?", f.IntegrationID)
	}
	if page.Cursor != "" {
		at, id, ok := parseActivityCursor(page.Cursor)
		if !ok {
			return nil, "", ErrBadCursor
		}
		q = q.Where("(last_message_at < ? OR (last_message_at = ? AND id < ?))", at, at, id)
	}
	limit := clampLimit(page.Limit)
	var rows []conversationRow
	if err := q.Order("last_message_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("store: list conversations: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = strconv.FormatInt(last.LastMessageAt.UnixMicro(), 10) + "_" + last.ID
	}
	out, err := s.withContacts(ctx, rows)
	return out, next, err
}

// ErrBadCursor is a paging cursor this store did not make.
var ErrBadCursor = errors.New("store: cursor is not one this API returned")

func parseActivityCursor(c string) (time.Time, string, bool) {
	us, id, ok := strings.Cut(c, "_")
	if !ok || id == "" {
		return time.Time{}, "", false
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return time.Time{}, "", false
	}
	return time.UnixMicro(n).UTC(), id, true
}

// activityTime is a message time as last_message_at keeps it: UTC, to the
// microsecond both databases hold, so a cursor made from it matches exactly.
func activityTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Conversation returns one conversation of a workspace.
func (s *Store) Conversation(ctx context.Context, workspaceID, id string) (domain.Conversation, error) {
	var row conversationRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Conversation{}, notFound("fetch conversation "+id, err)
	}
	out, err := s.withContacts(ctx, []conversationRow{row})
	if err != nil {
		return domain.Conversation{}, err
	}
	return out[0], nil
}

func (s *Store) withContacts(ctx context.Context, rows []conversationRow) ([]domain.Conversation, error) {
	ids := make([]string, 0, len(rows))
	for i := range rows {
		ids = append(ids, rows[i].ContactID)
	}
	contacts := map[string]domain.Contact{}
	if len(ids) > 0 {
		var crows []contactRow
		if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&crows).Error; err != nil {
			return nil, fmt.Errorf("store: fetch contacts: %w", err)
		}
		for i := range crows {
			contacts[crows[i].ID] = crows[i].domain()
		}
	}
	out := make([]domain.Conversation, len(rows))
	for i, r := range rows {
		out[i] = domain.Conversation{
			ID:            r.ID,
			WorkspaceID:   r.WorkspaceID,
			IntegrationID: r.IntegrationID,
			ExternalID:    r.ExternalID,
			Subject:       r.Subject,
			Status:        r.Status,
			Contact:       contacts[r.ContactID],
			TeamID:        r.TeamID,
			ConnectionID:  r.ConnectionID,
			Channel:       r.Channel,
			Sender:        r.Sender,
			LastMessageAt: r.LastMessageAt.UTC(),
			LastInboundAt: utcPtr(r.LastInboundAt),
			EndedAt:       utcPtr(r.EndedAt),
			CreatedAt:     r.CreatedAt.UTC(),
		}
	}
	return out, nil
}

// Chat returns an integration's chat on a connection with a contact: the
// open one if any, else the latest that ended. externalID is the chat's
// identifier, the contact's number. An app's thread is not a chat.
func (s *Store) Chat(ctx context.Context, integrationID, externalID string) (domain.Conversation, error) {
	var row conversationRow
	err := s.db.WithContext(ctx).Where("integration_id = ? AND thread_key = ? AND connection_id <> ''", integrationID, ThreadKey(externalID, true)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		err = s.db.WithContext(ctx).Where("integration_id = ? AND external_id = ? AND connection_id <> ''", integrationID, externalID).
			Order("id DESC").Limit(1).Take(&row).Error
	}
	if err != nil {
		return domain.Conversation{}, notFound("fetch chat", err)
	}
	out, err := s.withContacts(ctx, []conversationRow{row})
	if err != nil {
		return domain.Conversation{}, err
	}
	return out[0], nil
}

// IdleChats returns up to limit open chats on connections whose last
// message is older than before, oldest first.
func (s *Store) IdleChats(ctx context.Context, before time.Time, limit int) ([]domain.Conversation, error) {
	var rows []conversationRow
	// The predicate is written as the partial index's (see migration 0007).
	err := s.db.WithContext(ctx).Where("status = 'open' AND connection_id <> '' AND last_message_at < ?", before).
		Order("last_message_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: idle chats: %w", err)
	}
	return s.withContacts(ctx, rows)
}
