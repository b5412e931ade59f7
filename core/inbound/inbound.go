// Package inbound takes provider and app traffic from the HTTP layer to the
// store: it authenticates, asks the kind's plugin to normalise the request,
// and records the outcome. When the plugin cannot be reached the raw request
// is kept and processed once the plugin is back, so nothing acknowledged is lost.
package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/cache"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/threads"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Plugins is the part of the plugin host this package needs.
type Plugins interface {
	Channel(kind string) (sdk.Channel, error)
	// Known says whether a plugin of the kind is installed.
	Known(kind string) bool
	// Info is what the kind's plugin declared.
	Info(kind string) (sdk.Info, bool)
}

// otherKind is the metric label of every kind no plugin handles: the kind
// comes from the URL, and each distinct label value is a series kept forever.
const otherKind = "other"

// Request is one inbound HTTP request.
type Request struct {
	Kind          string
	IntegrationID string
	Method        string
	URL           string
	Header        http.Header
	Body          []byte
	// TooLarge is set when the body exceeded the limit and was cut off.
	TooLarge   bool
	ReceivedAt time.Time
}

// Outcome says what became of a request.
type Outcome struct {
	// Status is an event-log status, store.IngestKept, or "" when the
	// integration does not exist and nothing could be logged.
	Status string
	// Reply is the answer a plugin chose, if any.
	Reply *sdk.HTTPReply
	// Error is what the event log says of a request that was refused or
	// skipped: the reason, worded for the sender.
	Error string
}

// ErrUnavailable is returned for a request that needs its kind's plugin
// right away (a public kind's page or script) while the plugin is down.
var ErrUnavailable = errors.New("inbound: the kind's plugin is not available")

// Service handles inbound traffic.
type Service struct {
	store        *store.Store
	writer       *threads.BatchWriter
	plugins      Plugins
	integrations *auth.Integrations
	log          *slog.Logger
	maxBody      int64
	callTimeout  time.Duration

	allowPrivate bool
	connections  *cache.TTL[*domain.Connection]

	replayMu sync.Map // kind → *sync.Mutex
	batchers sync.Map // kind → *pluginBatcher
	batchMu  sync.Mutex
	notify   func() // told when stored messages queued deliveries

	outcomes *prometheus.CounterVec
}

// Options configure a Service.
type Options struct {
	MaxBodyBytes int64
	// PluginTimeout bounds one call to a plugin.
	PluginTimeout time.Duration
	// AllowPrivate lets plugins call providers on private addresses.
	AllowPrivate bool
}

// NewService wires the inbound pipeline.
func NewService(s *store.Store, w *threads.BatchWriter, p Plugins, ints *auth.Integrations, log *slog.Logger, reg prometheus.Registerer, opts Options) *Service {
	if opts.PluginTimeout <= 0 {
		opts.PluginTimeout = 5 * time.Second
	}
	svc := &Service{
		store: s, writer: w, plugins: p, integrations: ints, log: log,
		maxBody: opts.MaxBodyBytes, callTimeout: opts.PluginTimeout, allowPrivate: opts.AllowPrivate,
		connections: cache.NewTTL[*domain.Connection](time.Second, 10_000),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_inbound_requests_total",
			Help: "Inbound webhook requests by kind and outcome.",
		}, []string{"kind", "status"}),
	}
	if reg != nil {
		reg.MustRegister(svc.outcomes)
	}
	return svc
}

// OnDeliveries registers fn to be told when stored messages queued deliveries.
func (s *Service) OnDeliveries(fn func()) { s.notify = fn }

// Handle processes one request for an integration's own kind. It returns an
// error only when the outcome could not be made durable.
func (s *Service) Handle(ctx context.Context, req *Request) (Outcome, error) {
	out, err := s.handle(ctx, req)
	status := out.Status
	if err != nil {
		status = "error"
	} else if status == "" {
		status = "unknown_integration"
	}
	kind := req.Kind
	if !s.plugins.Known(kind) {
		kind = otherKind
	}
	s.outcomes.WithLabelValues(kind, status).Inc()
	return out, err
}

func (s *Service) handle(ctx context.Context, req *Request) (Outcome, error) {
	if sdk.CheckText("integration id", req.IntegrationID) != nil {
		// No integration has such an id, and the database may refuse to look.
		return Outcome{}, nil
	}
	info, known := s.plugins.Info(req.Kind)
	if known && info.Channel != "" {
		// The kind serves connections: the id in the path is a connection's.
		return s.handleConnection(ctx, req, info)
	}
	in, err := s.integrations.Get(ctx, req.IntegrationID)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Info("inbound request for unknown integration", "kind", logID(req.Kind), "integration", logID(req.IntegrationID))
		return Outcome{}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	event := func(status, msg string) (Outcome, error) {
		_, err := s.writer.Write(ctx, store.IngestItem{
			WorkspaceID: in.WorkspaceID, IntegrationID: in.ID, Channel: in.Kind, ReceivedAt: req.ReceivedAt,
			Status: status, EventType: domain.EventMessageReceived, Error: msg,
		})
		return Outcome{Status: status, Error: msg}, err
	}
	if info.AuthMode() == sdk.AuthPublic && !carriesMessages(req.Method) {
		return s.fetch(ctx, req, &in.Integration)
	}
	if in.Kind != req.Kind {
		return event(domain.EventRoutingError, fmt.Sprintf("integration is of kind %q; its inbound URL is /api/webhooks/%s/%s", in.Kind, in.Kind, in.ID))
	}
	switch info.AuthMode() {
	case sdk.AuthAPIKey:
		if msg, ok := checkAPIKey(req.Header, in.APIKeyHash); !ok {
			return event(domain.EventSignatureFailure, msg)
		}
		// Authenticated here, once: the plugin has no use for the key, and a
		// request kept while the plugin is down must not store it.
		req.Header = withoutAPIKey(req.Header)
	case sdk.AuthSignature, sdk.AuthPublic:
		// The plugin checks the provider's signature, or, for the public,
		// whatever the sender sends; the hub has nothing to check or strip.
	}
	if req.TooLarge {
		return event(domain.EventRoutingError, fmt.Sprintf("body exceeds the limit of %d bytes", s.maxBody))
	}
	if in.Status != domain.StatusActive {
		return event(domain.EventSkip, "integration is stopped")
	}
	item := store.IngestItem{WorkspaceID: in.WorkspaceID, IntegrationID: in.ID, Channel: in.Kind, ReceivedAt: req.ReceivedAt,
		Chat: known && threads.ChatKind(info)}
	res, err := s.callPlugin(ctx, req, "", in.Config)
	var rej *sdk.RejectError
	switch {
	case errors.As(err, &rej):
		return event(rejectionStatus(rej), rej.Message)
	case err != nil:
		// The plugin is down or failed: keep the request for later.
		s.log.Warn("plugin unavailable; keeping request", "kind", req.Kind, "integration", in.ID, "err", err)
		item.Raw = &store.RawInbound{Kind: req.Kind, Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body}
		if _, err := s.writer.Write(ctx, item); err != nil {
			return Outcome{}, err
		}
		return Outcome{Status: store.IngestKept}, nil
	}
	if err := checkMessages(res.Messages); err != nil {
		return event(domain.EventRoutingError, err.Error())
	}
	out := Outcome{Status: domain.EventOK, Reply: res.Reply}
	queued := 0
	for i := range res.Messages {
		item.Message = toDomain(&res.Messages[i])
		r, err := s.writer.Write(ctx, item)
		if err != nil {
			return Outcome{}, err
		}
		out.Status, out.Error = r.Status, r.Error
		queued += r.Deliveries
	}
	if queued > 0 && s.notify != nil {
		s.notify()
	}
	return out, nil
}

// carriesMessages reports whether a request of this method may carry
// messages to record: a GET or HEAD only fetches something.
func carriesMessages(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

// fetch answers a public kind's GET or HEAD (a widget's script, a page) from
// its plugin alone. Such a request carries no message, so it is neither
// logged nor kept while the plugin is down: fetching the widget on every
// page view of a website writes nothing, and neither does an outsider's
// flood of fetches. Messages the plugin returns anyway are ignored.
func (s *Service) fetch(ctx context.Context, req *Request, in *domain.Integration) (Outcome, error) {
	if in.Kind != req.Kind || in.Status != domain.StatusActive {
		return Outcome{}, nil
	}
	res, err := s.callPlugin(ctx, req, "", in.Config)
	var rej *sdk.RejectError
	switch {
	case errors.As(err, &rej):
		return Outcome{Status: rejectionStatus(rej), Error: rej.Message}, nil
	case err != nil:
		s.log.Warn("plugin unavailable for a public request", "kind", req.Kind, "integration", in.ID, "err", err)
		return Outcome{}, ErrUnavailable
	}
	return Outcome{Status: domain.EventOK, Reply: res.Reply}, nil
}

// callPlugin hands a request to its kind's plugin, batched with whatever
// other requests of that kind are waiting, with the configuration of the
// integration or connection it is for.
func (s *Service) callPlugin(_ context.Context, req *Request, connectionID string, config []byte) (*sdk.InboundResult, error) {
	r := &sdk.InboundRequest{
		Method:       req.Method,
		URL:          req.URL,
		Header:       req.Header,
		Body:         req.Body,
		Config:       config,
		ReceivedAt:   req.ReceivedAt,
		AllowPrivate: s.allowPrivate,
	}
	if connectionID != "" {
		r.ConnectionID = connectionID
	} else {
		r.IntegrationID = req.IntegrationID
	}
	return s.batcher(req.Kind).call(r)
}

func (s *Service) batcher(kind string) *pluginBatcher {
	if b, ok := s.batchers.Load(kind); ok {
		return b.(*pluginBatcher)
	}
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	if b, ok := s.batchers.Load(kind); ok {
		return b.(*pluginBatcher)
	}
	b := newPluginBatcher(kind, s.plugins, s.callTimeout)
	s.batchers.Store(kind, b)
	return b
}

// Close stops the plugin batchers, once no request can arrive any more.
func (s *Service) Close() {
	s.batchers.Range(func(_, b any) bool {
		b.(*pluginBatcher).close()
		return true
	})
}

// logID bounds an id taken from a URL before it is logged: anyone can
// send a path of any length.
func logID(id string) string {
	const max = 80
	if len(id) <= max {
		return id
	}
	return strings.ToValidUTF8(id[:max], "") + "…"
}

// rejectionStatus is the event-log status of a plugin's refusal.
func rejectionStatus(rej *sdk.RejectError) string {
	if rej.Reason == sdk.ReasonBadSignature {
		return domain.EventSignatureFailure
	}
	return domain.EventRoutingError
}

// checkAPIKey reads the key from X-Api-Key or "Authorization: Bearer sbk_…"
// and compares it with the stored hash. The message never repeats the key.
func checkAPIKey(h http.Header, hash []byte) (string, bool) {
	key := strings.TrimSpace(h.Get("X-Api-Key"))
	if key == "" {
		if v := h.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			key = strings.TrimSpace(v[7:])
		}
	}
	if key == "" {
		return "API key missing: send it in the X-Api-Key header", false
	}
	if !auth.Matches(key, hash) {
		return "API key is not valid for this integration", false
	}
	return "", true
}

// withoutAPIKey returns a copy of h without the headers an API key travels in.
func withoutAPIKey(h http.Header) http.Header {
	out := h.Clone()
	out.Del("X-Api-Key")
	out.Del("Authorization")
	return out
}

// checkMessages refuses messages with text no database stores faithfully
// (NUL bytes, invalid UTF-8), naming the field, whichever plugin made them:
// checked here, once, the outcome is the same on every database.
func checkMessages(msgs []sdk.InboundMessage) error {
	for i := range msgs {
		m := &msgs[i]
		fields := []struct{ name, v string }{
			{"messageId", m.ExternalID}, {"conversationId", m.ThreadExternalID},
			{"from.externalId", m.From.ExternalID}, {"from.name", m.From.Name},
			{"from.email", m.From.Email}, {"from.phone", m.From.Phone},
			{"content", m.Content}, {"contentType", m.ContentType}, {"subject", m.Subject},
			{"event", m.Event}, {"multimedia.url", m.MediaURL}, {"multimedia.caption", m.MediaCaption},
			{"sender", m.Sender},
		}
		for _, f := range fields {
			if err := sdk.CheckText(f.name, f.v); err != nil {
				return err
			}
		}
	}
	return nil
}

func toDomain(m *sdk.InboundMessage) *domain.InboundMessage {
	return &domain.InboundMessage{
		ExternalID:       m.ExternalID,
		ThreadExternalID: m.ThreadExternalID,
		From:             domain.Contact{ExternalID: m.From.ExternalID, Name: m.From.Name, Email: m.From.Email, Phone: m.From.Phone},
		Content:          m.Content,
		ContentType:      m.ContentType,
		Subject:          m.Subject,
		SentAt:           m.SentAt,
		Event:            m.Event,
		MediaURL:         m.MediaURL,
		MediaCaption:     m.MediaCaption,
		Sender:           m.Sender,
	}
}
