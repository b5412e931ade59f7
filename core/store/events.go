package store

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

// EventFilter narrows an event-log listing.
type EventFilter struct {
	Status string
}

// Events lists an integration's event log, newest first. The integration
// must belong to the workspace.
func (s *Store) Events(ctx context.Context, workspaceID, integrationID string, f EventFilter, page domain.Page) ([]domain.Event, string, error) {
	q := s.db.WithContext(ctx).Model(&eventRow{}).Where("workspace_id = ? AND integration_id = ?", workspaceID, integrationID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	rows, next, err := paginate(q, page, func(r *eventRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list events: %w", err)
	}
	out := make([]domain.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// maxEventErrorLen bounds the error text of one event-log entry: whatever a
// plugin or a sender put in it, one entry stays small.
const maxEventErrorLen = 2 << 10

// eventError is text as the event log stores it: valid UTF-8 without NUL
// bytes (which PostgreSQL refuses), cut on a character boundary to at most
// maxEventErrorLen bytes.
func eventError(s string) string {
	return boundText(s, maxEventErrorLen)
}

func boundText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", `\x00`)
	}
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// BeforeCreate bounds an event's error text, for the events written through GORM.
func (r *eventRow) BeforeCreate(*gorm.DB) error {
	r.Error = eventError(r.Error)
	return nil
}
