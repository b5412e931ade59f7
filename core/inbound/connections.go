package inbound

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// maxLoggedIntegrations bounds the event logs told of traffic on a
// connection that no active integration holds.
const maxLoggedIntegrations = 5

// connection returns a connection by id, cached briefly: provider traffic
// names the connection alone, whatever its workspace.
func (s *Service) connection(ctx context.Context, id string) (*domain.Connection, error) {
	if c, ok := s.connections.Get(id); ok {
		return c, nil
	}
	c, err := s.store.ConnectionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.connections.Put(id, &c)
	return &c, nil
}

// ForgetConnection drops a cached connection after a change.
func (s *Service) ForgetConnection(id string) { s.connections.Drop(id) }

// connectionTraffic is what handling one request on a connection needs.
type connectionTraffic struct {
	conn *domain.Connection
	// owner is the active integration holding the connection's sender, if any.
	owner *domain.IntegrationAuth
}

// logItems records an outcome without a message: in the owner's event log,
// or, when no integration holds the connection, in the logs of those that
// list it (or the workspace's, when none does).
func (s *Service) logItems(ctx context.Context, t *connectionTraffic, base store.IngestItem, status, msg string) ([]store.IngestItem, error) {
	base.Status, base.Error, base.EventType = status, msg, domain.EventMessageReceived
	if t.owner != nil {
		base.IntegrationID = t.owner.ID
		return []store.IngestItem{base}, nil
	}
	ids, err := s.store.IntegrationsListing(ctx, t.conn.WorkspaceID, t.conn.Code, maxLoggedIntegrations)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		base.IntegrationID = ""
		return []store.IngestItem{base}, nil
	}
	items := make([]store.IngestItem, len(ids))
	for i, id := range ids {
		items[i] = base
		items[i].IntegrationID = id
	}
	return items, nil
}

// traffic loads a connection and the active integration holding it.
func (s *Service) traffic(ctx context.Context, connectionID, channel string) (*connectionTraffic, error) {
	conn, err := s.connection(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	if conn.Channel != channel {
		// Another kind's connection: as unknown as a missing one.
		return nil, store.ErrNotFound
	}
	t := &connectionTraffic{conn: conn}
	ownerID, err := s.store.ConnectionOwner(ctx, *conn)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return t, nil
	case err != nil:
		return nil, err
	}
	in, err := s.integrations.Get(ctx, ownerID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return t, nil
	case err != nil:
		return nil, err
	}
	t.owner = &in
	return t, nil
}

// handleConnection takes provider traffic for a connection: the plugin
// checks the provider's signature with the connection's secrets and
// normalises the request; messages go to the active integration holding
// the connection's sender, status reports to the messages they name.
func (s *Service) handleConnection(ctx context.Context, req *Request, info sdk.Info) (Outcome, error) {
	t, err := s.traffic(ctx, req.IntegrationID, info.Channel)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Info("inbound request for unknown connection", "kind", logID(req.Kind), "connection", logID(req.IntegrationID))
		return Outcome{}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	base := store.IngestItem{WorkspaceID: t.conn.WorkspaceID, Channel: t.conn.Channel, ReceivedAt: req.ReceivedAt,
		Chat: true, ConnectionID: t.conn.ID, Sender: t.conn.Sender}
	record := func(status, msg string) (Outcome, error) {
		items, err := s.logItems(ctx, t, base, status, msg)
		if err != nil {
			return Outcome{}, err
		}
		for _, it := range items {
			if _, err := s.writer.Write(ctx, it); err != nil {
				return Outcome{}, err
			}
		}
		return Outcome{Status: status}, nil
	}
	if req.TooLarge {
		return record(domain.EventRoutingError, fmt.Sprintf("body exceeds the limit of %d bytes", s.maxBody))
	}
	res, err := s.callPlugin(ctx, req, t.conn.ID, t.conn.Provider)
	var rej *sdk.RejectError
	switch {
	case errors.As(err, &rej):
		return record(rejectionStatus(rej), rej.Message)
	case err != nil:
		s.log.Warn("plugin unavailable; keeping request", "kind", req.Kind, "connection", t.conn.ID, "err", err)
		item := base
		if t.owner != nil {
			item.IntegrationID = t.owner.ID
		}
		item.Raw = &store.RawInbound{Kind: req.Kind, ConnectionID: t.conn.ID, Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body}
		if _, err := s.writer.Write(ctx, item); err != nil {
			return Outcome{}, err
		}
		return Outcome{Status: store.IngestKept}, nil
	}
	items, err := s.connectionItems(ctx, t, base, res)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Status: domain.EventOK, Reply: res.Reply}
	queued := 0
	for _, it := range items {
		r, err := s.writer.Write(ctx, it)
		if err != nil {
			return Outcome{}, err
		}
		if it.Message != nil || it.Status != "" {
			out.Status = r.Status
		}
		queued += r.Deliveries
	}
	if queued > 0 && s.notify != nil {
		s.notify()
	}
	return out, nil
}

// connectionItems applies a plugin's status reports and turns its messages
// into the items that record them, on the live path and on replay alike.
func (s *Service) connectionItems(ctx context.Context, t *connectionTraffic, base store.IngestItem, res *sdk.InboundResult) ([]store.IngestItem, error) {
	if len(res.Statuses) > 0 {
		reports, err := statusReports(res.Statuses)
		if err != nil {
			return s.logItems(ctx, t, base, domain.EventRoutingError, err.Error())
		}
		if _, err := s.store.ApplyStatusReports(ctx, t.conn.ID, reports); err != nil {
			return nil, err
		}
	}
	if len(res.Messages) == 0 {
		return nil, nil
	}
	if err := checkMessages(res.Messages); err != nil {
		return s.logItems(ctx, t, base, domain.EventRoutingError, err.Error())
	}
	if t.owner == nil {
		if err := s.autoReply(ctx, t.conn, res.Messages); err != nil {
			return nil, err
		}
		return s.logItems(ctx, t, base, domain.EventRoutingError,
			fmt.Sprintf("sender %s of connection %q is not active on any integration", t.conn.Sender, t.conn.Code))
	}
	if t.owner.Status != domain.StatusActive {
		return s.logItems(ctx, t, base, domain.EventSkip, "integration is stopped")
	}
	items := make([]store.IngestItem, len(res.Messages))
	for i := range res.Messages {
		items[i] = base
		items[i].IntegrationID = t.owner.ID
		items[i].Message = toDomain(&res.Messages[i])
		// The hub knows which sender the contact wrote to.
		items[i].Message.Sender = t.conn.Sender
	}
	return items, nil
}

// autoReply answers each contact through the connection when an active
// auto-reply holds its sender.
func (s *Service) autoReply(ctx context.Context, conn *domain.Connection, msgs []sdk.InboundMessage) error {
	ar, ok, err := s.store.ActiveAutoReply(ctx, *conn)
	if err != nil || !ok {
		return err
	}
	queued := 0
	for i := range msgs {
		to := msgs[i].From.Phone
		if to == "" {
			to = msgs[i].From.ExternalID
		}
		if to == "" {
			continue
		}
		if err := s.store.QueueProviderSend(ctx, *conn, to, ar.Message); err != nil {
			return err
		}
		queued++
	}
	if queued > 0 && s.notify != nil {
		s.notify()
	}
	return nil
}

// statusReports checks a plugin's reports: known statuses, text the
// database stores faithfully.
func statusReports(in []sdk.StatusUpdate) ([]store.StatusReport, error) {
	out := make([]store.StatusReport, 0, len(in))
	for _, u := range in {
		switch u.Status {
		case sdk.StatusQueued, sdk.StatusSent, sdk.StatusDelivered, sdk.StatusFailed:
		default:
			return nil, fmt.Errorf("status %s is not queued, sent, delivered or failed", sdk.Quote(u.Status))
		}
		if err := sdk.CheckText("status.id", u.ExternalID); err != nil {
			return nil, err
		}
		if err := sdk.CheckText("status.error", u.Error); err != nil {
			return nil, err
		}
		if u.ExternalID == "" {
			return nil, errors.New("status.id is required")
		}
		out = append(out, store.StatusReport{ExternalID: u.ExternalID, Status: u.Status, Error: u.Error})
	}
	return out, nil
}
