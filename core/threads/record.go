package threads

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
)

// Record decides what a batch of inbound items becomes, inside the
// transaction that records it (a store.Recorder): it drops repeated
// message ids, matches each sender to a contact, threads each message into
// its conversation, stores the messages, moves the conversations' activity
// on, and plans and writes the deliveries each stored message causes.
func (s *Service) Record(ctx context.Context, b *store.Batch, items []store.IngestItem) ([]store.IngestResult, error) {
	results := make([]store.IngestResult, len(items))
	// A repeated message id is dropped before its thread and sender are
	// looked up, so a repeat under a new conversationId creates neither.
	stored, err := b.StoredMessageIDs(ctx, items)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]struct{}, len(items))
	msgs := make([]recorded, 0, len(items))
	for i := range items {
		it := &items[i]
		switch {
		case it.Message != nil:
			key := it.IntegrationID + "\x00" + it.Message.ExternalID
			_, dup := seen[key]
			if _, ok := stored[key]; ok {
				dup = true
			}
			if dup {
				results[i].Status, results[i].Error = domain.EventSkip, duplicateError(it.Message.ExternalID)
				continue
			}
			seen[key] = struct{}{}
			contactID, err := s.contact(ctx, b, it.WorkspaceID, &it.Message.From)
			if err != nil {
				return nil, err
			}
			convID, err := b.EnsureThread(ctx, s.thread(it, contactID, b.Now()))
			if err != nil {
				return nil, err
			}
			results[i].ContactID, results[i].ConversationID = contactID, convID
			msgs = append(msgs, recorded{item: i, msg: store.NewMessage{ID: store.NewID(), WorkspaceID: it.WorkspaceID,
				IntegrationID: it.IntegrationID, ConversationID: convID, ConnectionID: it.ConnectionID, Message: it.Message}})
		case it.Raw != nil:
			results[i].Status = store.IngestKept
		default:
			results[i].Status, results[i].Error = it.Status, it.Error
		}
	}

	batch := make([]store.NewMessage, len(msgs))
	for i, pm := range msgs {
		batch[i] = pm.msg
	}
	inserted, err := b.InsertMessages(ctx, batch)
	if err != nil {
		return nil, err
	}
	ok := msgs[:0]
	for _, pm := range msgs {
		r := &results[pm.item]
		if _, in := inserted[pm.msg.ID]; !in {
			// Stored meanwhile by another batch: a repeat after all.
			r.Status, r.Error = domain.EventSkip, duplicateError(items[pm.item].Message.ExternalID)
			r.ContactID, r.ConversationID = "", ""
			continue
		}
		r.Status, r.MessageID = domain.EventOK, pm.msg.ID
		ok = append(ok, pm)
	}
	msgs = ok

	if err := s.touch(ctx, b, items, msgs); err != nil {
		return nil, err
	}
	for _, pm := range msgs {
		it := &items[pm.item]
		n, err := s.fanout(ctx, b, it, pm.msg, results[pm.item].ContactID)
		if err != nil {
			return nil, err
		}
		results[pm.item].Deliveries = n
	}
	return results, nil
}

// recorded is a message of the batch on its way to being stored.
type recorded struct {
	item int
	msg  store.NewMessage
}

// touch moves each conversation's last activity on to its newest message,
// and records on each chat where and when its contact last wrote. It goes
// in conversation id order, so concurrent batches lock rows in one order;
// activity never moves back, as messages arrive in any order.
func (s *Service) touch(ctx context.Context, b *store.Batch, items []store.IngestItem, msgs []recorded) error {
	latest := map[string]int{} // conversation → item of its newest message
	for _, pm := range msgs {
		if cur, ok := latest[pm.msg.ConversationID]; !ok || activity(&items[pm.item], b.Now()).After(activity(&items[cur], b.Now())) {
			latest[pm.msg.ConversationID] = pm.item
		}
	}
	ids := make([]string, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	acts := make([]store.ConversationActivity, len(ids))
	for i, id := range ids {
		acts[i] = store.ConversationActivity{ConversationID: id, At: activity(&items[latest[id]], b.Now())}
	}
	if err := b.TouchConversations(ctx, acts); err != nil {
		return err
	}
	for _, id := range ids {
		it := &items[latest[id]]
		at := activity(it, b.Now())
		if it.ConnectionID != "" {
			if err := b.TouchChat(ctx, id, it.ConnectionID, it.Channel, it.Sender, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// fanout plans the deliveries a stored message causes and writes them.
func (s *Service) fanout(ctx context.Context, b *store.Batch, it *store.IngestItem, nm store.NewMessage, contactID string) (int, error) {
	m := it.Message
	msg := &domain.Message{ID: nm.ID, WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID, ConversationID: nm.ConversationID,
		Direction: domain.Inbound, ExternalID: m.ExternalID, Content: m.Content, ContentType: m.ContentType,
		SentAt: m.SentAt, Status: domain.MessageReceived, MediaURL: m.MediaURL, MediaCaption: m.MediaCaption,
		ConnectionID: it.ConnectionID, CreatedAt: b.Now()}
	from := m.From
	from.ID = contactID
	ev := &domain.OutboundEvent{
		Kind: domain.OutboundMessage, WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID, Channel: it.Channel, Chat: it.Chat,
		Conversation: domain.Conversation{ID: nm.ConversationID, WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID,
			ExternalID: m.ThreadExternalID, Status: domain.ConversationOpen, Contact: from,
			ConnectionID: it.ConnectionID, Channel: it.Channel, Sender: it.Sender},
		Message: msg, At: b.Now(),
	}
	ds, err := s.plan(ctx, ev)
	if err != nil {
		return 0, err
	}
	b.QueueDeliveries(ev, ds)
	return len(ds), nil
}

// contact matches a message's sender: by email (case-insensitive, within
// the workspace), else by external id (or phone), else a new contact. A
// contact first known without an email takes the one it comes with.
func (s *Service) contact(ctx context.Context, b *store.Batch, workspaceID string, from *domain.Contact) (string, error) {
	email := strings.ToLower(strings.TrimSpace(from.Email))
	if email != "" {
		id, found, err := b.ContactByEmail(ctx, workspaceID, email)
		if err != nil || found {
			return id, err
		}
	}
	extID := from.ExternalID
	if extID == "" {
		extID = from.Phone
	}
	id, known, err := b.EnsureContact(ctx, workspaceID, extID, from)
	if err != nil {
		return "", err
	}
	if known && email != "" {
		if err := b.SetContactEmail(ctx, workspaceID, id, from.Email); err != nil {
			return "", err
		}
	}
	return id, nil
}

// thread is the conversation an item's message belongs to. Its subject is
// the first message's. An app's thread is named by the app for good; a
// chat, by its contact's number while it is open: once it ends, the next
// message opens a new chat.
func (s *Service) thread(it *store.IngestItem, contactID string, now time.Time) store.NewThread {
	th := store.NewThread{
		WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID, Key: it.Message.ThreadExternalID,
		ContactID: contactID, Subject: it.Message.Subject, At: activity(it, now), Lasting: !it.Chat,
	}
	if it.ConnectionID != "" {
		th.ConnectionID, th.Channel, th.Sender = it.ConnectionID, it.Channel, it.Sender
	}
	return th
}

// activity is the time a message counts for in its conversation's last
// activity: its sentAt as the sender gave it, or when it was received. A
// chat's message never counts as later than now: a provider's timestamp
// in the future would keep the chat's reply window open and the chat
// from ever going idle.
func activity(it *store.IngestItem, now time.Time) time.Time {
	at := it.Message.SentAt
	if at.IsZero() {
		at = it.ReceivedAt
	}
	if at.IsZero() || (it.ConnectionID != "" && at.After(now)) {
		at = now
	}
	return at
}

func duplicateError(externalID string) string {
	return fmt.Sprintf("duplicate messageId %q: already stored", externalID)
}
