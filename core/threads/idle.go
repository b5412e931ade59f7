package threads

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
)

// idleBatch bounds the chats one sweep ends.
const idleBatch = 200

// EndIdleChats ends, every interval, the chats on connections that have had
// no message for timeout; each end is delivered like any other (an END
// event to the integration's target). Several hub processes may sweep at
// once: a chat is ended once, by whichever gets there first. notify is told
// when ends queued deliveries.
func (s *Service) EndIdleChats(ctx context.Context, log *slog.Logger, timeout, interval time.Duration, notify func()) {
	if timeout <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			chats, err := s.store.IdleChats(ctx, time.Now().Add(-timeout), idleBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("find idle chats", "err", err)
				}
				break
			}
			queued := 0
			for _, conv := range chats {
				_, n, err := s.End(ctx, conv.WorkspaceID, conv.ID, domain.Route{Channel: conv.Channel, Chat: true})
				if err != nil && !errors.Is(err, store.ErrConflict) {
					log.Error("end idle chat", "conversation", conv.ID, "err", err)
					continue
				}
				queued += n
			}
			if queued > 0 && notify != nil {
				notify()
			}
			if len(chats) < idleBatch {
				break
			}
		}
	}
}
