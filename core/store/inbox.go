package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"gorm.io/gorm"
	"time"
)

// KeptRequest is a raw inbound request waiting for its plugin.
type KeptRequest struct {
	ID            string
	IntegrationID string
	WorkspaceID   string
	Raw           RawInbound
	ReceivedAt    time.Time
	Attempts      int
}

// KeptRequests returns up to limit kept requests for a kind, oldest first.
func (s *Store) KeptRequests(ctx context.Context, kind string, limit int) ([]KeptRequest, error) {
	var rows []inboxRow
	if err := s.db.WithContext(ctx).Where("kind = ?", kind).Order("id ASC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list kept requests: %w", err)
	}
	out := make([]KeptRequest, len(rows))
	for i, r := range rows {
		var h http.Header
		if err := json.Unmarshal([]byte(r.Headers), &h); err != nil {
			return nil, fmt.Errorf("store: kept request %s: headers: %w", r.ID, err)
		}
		out[i] = KeptRequest{
			ID:            r.ID,
			IntegrationID: r.IntegrationID,
			Raw:           RawInbound{Kind: r.Kind, ConnectionID: r.ConnectionID, Method: r.Method, URL: r.URL, Header: h, Body: r.Body},
			ReceivedAt:    r.ReceivedAt.UTC(),
			Attempts:      r.Attempts,
		}
	}
	return out, nil
}

// KeptRequestFailed records a failed replay of a kept request.
func (s *Store) KeptRequestFailed(ctx context.Context, id, reason string) error {
	err := s.db.WithContext(ctx).Model(&inboxRow{}).Where("id = ?", id).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": reason}).Error
	if err != nil {
		return fmt.Errorf("store: mark kept request %s: %w", id, err)
	}
	return nil
}

// KeptRequestCount counts requests waiting for a plugin of this kind.
func (s *Store) KeptRequestCount(ctx context.Context, kind string) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&inboxRow{}).Where("kind = ?", kind).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count kept requests: %w", err)
	}
	return n, nil
}
