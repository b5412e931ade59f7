package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboardhq/switchboard/core/domain"
)

// PublicChat returns the chat a public kind's sender names by its key (the
// thread's external id) on an integration: the open one if any, else the
// latest that ended. Chats on connections and an app's threads are never
// found this way, whatever their external id: a contact's number or an
// app's conversation id is not a secret.
func (s *Store) PublicChat(ctx context.Context, integrationID, key string) (domain.Conversation, error) {
	var row conversationRow
	err := s.db.WithContext(ctx).
		Where("integration_id = ? AND external_id = ? AND connection_id = '' AND (thread_key IS NULL OR thread_key = ?)",
			integrationID, key, ThreadKey(key, true)).
		Order("id DESC").Limit(1).Take(&row).Error
	if err != nil {
		return domain.Conversation{}, notFound("fetch public chat", err)
	}
	out, err := s.withContacts(ctx, []conversationRow{row})
	if err != nil {
		return domain.Conversation{}, err
	}
	return out[0], nil
}

// ConversationStatus returns a conversation's status (open or ended).
func (s *Store) ConversationStatus(ctx context.Context, id string) (string, error) {
	var status string
	err := s.db.WithContext(ctx).Model(&conversationRow{}).Where("id = ?", id).Select("status").Take(&status).Error
	if err != nil {
		return "", notFound("fetch conversation status", err)
	}
	return status, nil
}

// LatestMessages returns a conversation's newest messages, at most limit,
// oldest first.
func (s *Store) LatestMessages(ctx context.Context, conversationID string, limit int) ([]domain.Message, error) {
	var rows []messageRow
	err := s.db.WithContext(ctx).Where("conversation_id = ?", conversationID).Order("id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: latest messages: %w", err)
	}
	slices.Reverse(rows)
	return messagesOf(rows), nil
}

// MessagesAfter returns a conversation's messages whose id sorts after
// after (any string; see IDFloor), oldest first, at most limit.
func (s *Store) MessagesAfter(ctx context.Context, conversationID, after string, limit int) ([]domain.Message, error) {
	var rows []messageRow
	err := s.db.WithContext(ctx).Where("conversation_id = ? AND id > ?", conversationID, after).Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: messages after: %w", err)
	}
	return messagesOf(rows), nil
}

func messagesOf(rows []messageRow) []domain.Message {
	out := make([]domain.Message, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out
}

// IDTime returns the time an id was made at, for ids from NewID.
func IDTime(id string) (time.Time, bool) {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return time.Time{}, false
	}
	sec, nsec := u.Time().UnixTime()
	return time.Unix(sec, nsec).UTC(), true
}

// IDFloor is a string that sorts before every id NewID makes at t or later
// and after every id made before t's millisecond, in the ids' text form.
func IDFloor(t time.Time) string {
	ms := uint64(max(t.UnixMilli(), 0))
	var b [6]byte
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	h := hex.EncodeToString(b[:])
	return strings.Join([]string{h[:8], h[8:], "0000", "0000", "000000000000"}, "-")
}
