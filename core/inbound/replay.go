package inbound

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/threads"
	"github.com/switchboardhq/switchboard/plugins/host"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// maxReplayAttempts is how often a kept request may make its plugin fail
// before it is given up and logged as a routing error.
const maxReplayAttempts = 5

// Replay processes the requests kept for a kind while its plugin was down,
// oldest first, until none remain or the plugin fails again. Each page of
// kept requests is recorded and removed in one transaction.
func (s *Service) Replay(ctx context.Context, kind string) error {
	mu, _ := s.replayMu.LoadOrStore(kind, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	total := 0
	defer func() {
		if total > 0 {
			s.log.Info("replayed kept requests", "kind", kind, "count", total)
		}
	}()
	for {
		kept, err := s.store.KeptRequests(ctx, kind, 200)
		if err != nil || len(kept) == 0 {
			return err
		}
		items := make([]store.IngestItem, 0, len(kept))
		leftover := false
		for _, k := range kept {
			more, err := s.replayOne(ctx, k)
			if errors.Is(err, host.ErrUnavailable) {
				// Down again: record what was done; the next start resumes.
				if len(items) > 0 {
					_, err := s.writer.Commit(ctx, items)
					return err
				}
				return nil
			}
			if err != nil {
				return err
			}
			if len(more) == 0 {
				leftover = true // failed this time; the replay loop tries again later
			}
			items = append(items, more...)
		}
		if len(items) > 0 {
			if _, err := s.writer.Commit(ctx, items); err != nil {
				return err
			}
			if s.notify != nil {
				s.notify()
			}
		}
		total += len(kept)
		if leftover {
			return nil
		}
	}
}

// replayOne turns a kept request into the items that record it. The last
// item carries the inbox id, so the request is removed with its outcome.
func (s *Service) replayOne(ctx context.Context, k store.KeptRequest) ([]store.IngestItem, error) {
	if k.Raw.ConnectionID != "" {
		return s.replayConnection(ctx, k)
	}
	in, err := s.integrations.Get(ctx, k.IntegrationID)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted meanwhile: there is no log to write to; just drop it.
		s.log.Info("dropping kept request of a deleted integration", "integration", k.IntegrationID)
		return []store.IngestItem{{IntegrationID: k.IntegrationID, InboxID: k.ID, Status: domain.EventSkip}}, nil
	}
	if err != nil {
		return nil, err
	}
	info, _ := s.plugins.Info(k.Raw.Kind)
	base := store.IngestItem{WorkspaceID: in.WorkspaceID, IntegrationID: in.ID, Channel: in.Kind, ReceivedAt: k.ReceivedAt,
		EventType: domain.EventMessageReceived, Chat: threads.ChatKind(info)}
	res, err := s.callPlugin(ctx, &Request{Kind: k.Raw.Kind, IntegrationID: k.IntegrationID, Method: k.Raw.Method,
		URL: k.Raw.URL, Header: k.Raw.Header, Body: k.Raw.Body, ReceivedAt: k.ReceivedAt}, "", in.Config)
	var rej *sdk.RejectError
	switch {
	case errors.As(err, &rej):
		it := base
		it.Status, it.Error, it.InboxID = rejectionStatus(rej), rej.Message, k.ID
		return []store.IngestItem{it}, nil
	case errors.Is(err, host.ErrUnavailable):
		return nil, err
	case err != nil:
		if k.Attempts+1 >= maxReplayAttempts {
			it := base
			it.Status, it.Error, it.InboxID = domain.EventRoutingError, fmt.Sprintf("plugin failed %d times: %v", maxReplayAttempts, err), k.ID
			return []store.IngestItem{it}, nil
		}
		return nil, s.store.KeptRequestFailed(ctx, k.ID, err.Error())
	}
	if len(res.Messages) == 0 {
		it := base
		it.Status, it.Error, it.InboxID = domain.EventSkip, "plugin found no message in the request", k.ID
		return []store.IngestItem{it}, nil
	}
	if err := checkMessages(res.Messages); err != nil {
		it := base
		it.Status, it.Error, it.InboxID = domain.EventRoutingError, err.Error(), k.ID
		return []store.IngestItem{it}, nil
	}
	items := make([]store.IngestItem, len(res.Messages))
	for i := range res.Messages {
		items[i] = base
		items[i].EventType = ""
		items[i].Message = toDomain(&res.Messages[i])
	}
	items[len(items)-1].InboxID = k.ID
	return items, nil
}

// replayConnection is replayOne for a request kept for a connection.
func (s *Service) replayConnection(ctx context.Context, k store.KeptRequest) ([]store.IngestItem, error) {
	done := store.IngestItem{InboxID: k.ID}
	info, _ := s.plugins.Info(k.Raw.Kind)
	t, err := s.traffic(ctx, k.Raw.ConnectionID, info.Channel)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Info("dropping kept request of a deleted connection", "connection", k.Raw.ConnectionID)
		return []store.IngestItem{done}, nil
	}
	if err != nil {
		return nil, err
	}
	base := store.IngestItem{WorkspaceID: t.conn.WorkspaceID, Channel: t.conn.Channel, ReceivedAt: k.ReceivedAt,
		Chat: true, ConnectionID: t.conn.ID, Sender: t.conn.Sender}
	finish := func(items []store.IngestItem, err error) ([]store.IngestItem, error) {
		if err != nil {
			return nil, err
		}
		return append(items, done), nil
	}
	res, err := s.callPlugin(ctx, &Request{Kind: k.Raw.Kind, IntegrationID: k.Raw.ConnectionID, Method: k.Raw.Method,
		URL: k.Raw.URL, Header: k.Raw.Header, Body: k.Raw.Body, ReceivedAt: k.ReceivedAt}, t.conn.ID, t.conn.Provider)
	var rej *sdk.RejectError
	switch {
	case errors.As(err, &rej):
		return finish(s.logItems(ctx, t, base, rejectionStatus(rej), rej.Message))
	case errors.Is(err, host.ErrUnavailable):
		return nil, err
	case err != nil:
		if k.Attempts+1 >= maxReplayAttempts {
			return finish(s.logItems(ctx, t, base, domain.EventRoutingError, fmt.Sprintf("plugin failed %d times: %v", maxReplayAttempts, err)))
		}
		return nil, s.store.KeptRequestFailed(ctx, k.ID, err.Error())
	}
	return finish(s.connectionItems(ctx, t, base, res))
}

// ReplayLoop retries kept requests of the given kinds every interval, for
// requests kept by another hub process or while a plugin was failing.
func (s *Service) ReplayLoop(ctx context.Context, kinds func() []string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, kind := range kinds() {
			if err := s.Replay(ctx, kind); err != nil && ctx.Err() == nil {
				s.log.Error("replay kept requests", "kind", kind, "err", err)
			}
		}
	}
}
