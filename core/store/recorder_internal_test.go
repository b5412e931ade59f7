package store

import (
	"context"

	"github.com/switchboardhq/switchboard/core/domain"
)

// plainRecorder records each message in a lasting thread named by its
// thread id, its sender by external id, and plans no delivery: the store's
// side of ingest, for tests of its mechanics, without the threading
// service's rules (tested in package threads).
func plainRecorder(ctx context.Context, b *Batch, items []IngestItem) ([]IngestResult, error) {
	results := make([]IngestResult, len(items))
	var msgs []NewMessage
	var idx []int
	for i := range items {
		it := &items[i]
		switch {
		case it.Message != nil:
			m := it.Message
			contactID, _, err := b.EnsureContact(ctx, it.WorkspaceID, m.From.ExternalID, &m.From)
			if err != nil {
				return nil, err
			}
			convID, err := b.EnsureThread(ctx, NewThread{WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID,
				Key: m.ThreadExternalID, ContactID: contactID, Subject: m.Subject, At: m.SentAt, Lasting: true})
			if err != nil {
				return nil, err
			}
			results[i].ContactID, results[i].ConversationID = contactID, convID
			msgs = append(msgs, NewMessage{ID: NewID(), WorkspaceID: it.WorkspaceID, IntegrationID: it.IntegrationID, ConversationID: convID, Message: m})
			idx = append(idx, i)
		case it.Raw != nil:
			results[i].Status = IngestKept
		default:
			results[i].Status, results[i].Error = it.Status, it.Error
		}
	}
	inserted, err := b.InsertMessages(ctx, msgs)
	if err != nil {
		return nil, err
	}
	for j, m := range msgs {
		r := &results[idx[j]]
		if _, ok := inserted[m.ID]; ok {
			r.Status, r.MessageID = domain.EventOK, m.ID
		} else {
			r.Status, r.Error = domain.EventSkip, "duplicate"
		}
	}
	return results, nil
}
