// Package host is the hub's side of the plugin protocol: go-plugin's
// configuration for starting a plugin, and the Client through which the hub
// calls one. Plugin authors never import it; they build on package sdk.
package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sync/atomic"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchboardhq/switchboard/plugins/internal/wire"
	"github.com/switchboardhq/switchboard/plugins/proto"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// SupportedProtocols are the plugin protocol versions the hub speaks. The
// versions share one gRPC service whose messages only ever gained fields
// and calls, so one Client speaks them all.
var SupportedProtocols = []int{1, 2, 3}

// Handshake is go-plugin's handshake for Switchboard plugins.
var Handshake = wire.Handshake

// ErrUnavailable is wrapped by the Client's errors when the plugin process
// could not be reached, so the hub can keep the traffic for later.
var ErrUnavailable = errors.New("plugin unavailable")

// PluginSets is what the hub offers go-plugin: every supported protocol
// version; go-plugin picks the highest both sides know.
func PluginSets() map[int]plugin.PluginSet {
	out := make(map[int]plugin.PluginSet, len(SupportedProtocols))
	for _, v := range SupportedProtocols {
		out[v] = plugin.PluginSet{proto.PluginName: clientPlugin{}}
	}
	return out
}

// Dispense returns the channel a started plugin serves.
func Dispense(c plugin.ClientProtocol) (*Client, error) {
	raw, err := c.Dispense(proto.PluginName)
	if err != nil {
		return nil, err
	}
	ch, ok := raw.(*Client)
	if !ok {
		return nil, fmt.Errorf("not a channel plugin: %T", raw)
	}
	return ch, nil
}

// NewClient calls the plugin served on conn.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: proto.NewChannelClient(conn)}
}

// clientPlugin is go-plugin's view of the hub's side.
type clientPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (clientPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("host: the hub serves no plugin")
}

func (clientPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}

// Client is the hub's side of a plugin: an sdk.Channel whose calls cross the
// process boundary. Errors wrap ErrUnavailable when the process could
// not be reached, so the hub can keep the traffic for later.
type Client struct {
	rpc  proto.ChannelClient
	info sdk.Info
	// checks and activates are what Describe declared.
	checks, activates bool
	// noBatch is set once the plugin answered that it has no batch call.
	noBatch atomic.Bool
}

var _ sdk.Channel = (*Client)(nil)

// Describe asks the plugin who it is and remembers the answer for Info.
func (c *Client) Describe(ctx context.Context) (sdk.Info, int, error) {
	res, err := c.rpc.Describe(ctx, &proto.DescribeRequest{})
	if err != nil {
		return sdk.Info{}, 0, clientError("describe", err)
	}
	c.info = sdk.Info{Kind: res.Kind, Version: res.Version, DisplayName: res.DisplayName, ConfigSchema: res.ConfigSchema,
		Channel: res.Channel, Auth: sdk.AuthMode(res.Auth), Sends: res.Sends,
		ReplyWindow: time.Duration(res.ReplyWindowSeconds) * time.Second}
	c.checks, c.activates = res.ChecksConfig, res.Activates
	return c.info, int(res.ProtocolVersion), nil
}

// ChecksConfig says whether the plugin declared that it checks settings.
func (c *Client) ChecksConfig() bool { return c.checks }

// Activates says whether the plugin declared that it prepares its provider
// when a connection is activated.
func (c *Client) Activates() bool { return c.activates }

// Info returns what the last Describe reported.
func (c *Client) Info() sdk.Info { return c.info }

// HandleInbound sends one request to the plugin.
func (c *Client) HandleInbound(ctx context.Context, req *sdk.InboundRequest) (*sdk.InboundResult, error) {
	res, err := c.rpc.HandleInbound(ctx, inboundRequestToProto(req))
	if err != nil {
		return nil, clientError("handle inbound", err)
	}
	if rej := res.Rejection; rej != nil {
		return nil, rejectionFromProto(rej)
	}
	return inboundResultFromProto(res), nil
}

// Outcome is the result of one request of a batch.
type Outcome struct {
	Result *sdk.InboundResult
	// Err is a *sdk.RejectError, a plugin failure on this request, or the
	// failure of the whole call (wrapping ErrUnavailable if the
	// process could not be reached).
	Err error
}

// HandleInboundBatch sends several requests in one call. With a plugin built
// before the batch call existed it sends them one by one.
func (c *Client) HandleInboundBatch(ctx context.Context, reqs []*sdk.InboundRequest) []Outcome {
	out := make([]Outcome, len(reqs))
	if !c.noBatch.Load() {
		in := &proto.InboundBatchRequest{Requests: make([]*proto.InboundRequest, len(reqs))}
		for i, r := range reqs {
			in.Requests[i] = inboundRequestToProto(r)
		}
		res, err := c.rpc.HandleInboundBatch(ctx, in)
		switch {
		case status.Code(err) == codes.Unimplemented:
			c.noBatch.Store(true)
		case err != nil:
			err = clientError("handle inbound batch", err)
			for i := range out {
				out[i].Err = err
			}
			return out
		case len(res.Responses) != len(reqs):
			err = fmt.Errorf("plugin handle inbound batch: %d answers to %d requests", len(res.Responses), len(reqs))
			for i := range out {
				out[i].Err = err
			}
			return out
		default:
			for i, r := range res.Responses {
				switch {
				case r.Failure != "":
					out[i].Err = fmt.Errorf("plugin handle inbound: %s", r.Failure)
				case r.Rejection != nil:
					out[i].Err = rejectionFromProto(r.Rejection)
				default:
					out[i].Result = inboundResultFromProto(r)
				}
			}
			return out
		}
	}
	for i, r := range reqs {
		out[i].Result, out[i].Err = c.HandleInbound(ctx, r)
	}
	return out
}

// Send asks the plugin to send one message.
func (c *Client) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResult, error) {
	res, err := c.rpc.Send(ctx, &proto.SendRequest{
		Config:                req.Config,
		To:                    req.To,
		From:                  req.From,
		Content:               req.Content,
		ContentType:           req.ContentType,
		MediaUrl:              req.MediaURL,
		ThreadExternalId:      req.ThreadExternalID,
		MessageId:             req.MessageID,
		CallbackUrl:           req.CallbackURL,
		AllowPrivateAddresses: req.AllowPrivate,
	})
	if err != nil {
		return nil, clientError("send", err)
	}
	if pe := res.ProviderError; pe != nil {
		return nil, providerErrorFromProto(pe)
	}
	return &sdk.SendResult{ExternalID: res.ExternalId}, nil
}

var (
	_ sdk.ConfigChecker = (*Client)(nil)
	_ sdk.Activator     = (*Client)(nil)
)

// CheckConfig asks the plugin to check settings, if it declared that it
// does. The error is a *sdk.RejectError for settings it refused.
func (c *Client) CheckConfig(ctx context.Context, config json.RawMessage) error {
	if !c.checks {
		return nil
	}
	return c.checkConfig(ctx, "check config", &proto.CheckConfigRequest{Config: config})
}

// Activate asks the plugin to prepare its provider for a connection, if it
// declared that it does. The error is a *sdk.RejectError for settings the
// provider refused, or a *sdk.ProviderError.
func (c *Client) Activate(ctx context.Context, req *sdk.ActivateRequest) error {
	if !c.activates {
		return nil
	}
	return c.checkConfig(ctx, "activate", &proto.CheckConfigRequest{Config: req.Config, ConnectionId: req.ConnectionID,
		Activate: true, InboundUrl: req.InboundURL, AllowPrivateAddresses: req.AllowPrivate})
}

func (c *Client) checkConfig(ctx context.Context, op string, req *proto.CheckConfigRequest) error {
	res, err := c.rpc.CheckConfig(ctx, req)
	switch {
	case err != nil:
		return clientError(op, err)
	case res.Rejection != nil:
		return rejectionFromProto(res.Rejection)
	case res.ProviderError != nil:
		return providerErrorFromProto(res.ProviderError)
	}
	return nil
}

func rejectionFromProto(r *proto.Rejection) *sdk.RejectError {
	return &sdk.RejectError{Reason: sdk.Reason(r.Reason), Field: r.Field, Message: r.Message}
}

func providerErrorFromProto(e *proto.ProviderError) *sdk.ProviderError {
	return &sdk.ProviderError{StatusCode: int(e.StatusCode), Retryable: e.Retryable, Message: e.Message,
		RetryAfter: time.Duration(e.RetryAfterMs) * time.Millisecond}
}

// clientError separates "the plugin could not be reached" from "the plugin
// reported an error".
func clientError(op string, err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded:
		return fmt.Errorf("plugin %s: %w: %v", op, ErrUnavailable, err)
	}
	if s, ok := status.FromError(err); ok {
		return fmt.Errorf("plugin %s: %s", op, s.Message())
	}
	return fmt.Errorf("plugin %s: %w", op, err)
}

func inboundRequestToProto(r *sdk.InboundRequest) *proto.InboundRequest {
	headers := make([]*proto.Header, 0, len(r.Header))
	for name, values := range r.Header {
		headers = append(headers, &proto.Header{Name: name, Values: values})
	}
	return &proto.InboundRequest{
		IntegrationId:         r.IntegrationID,
		ConnectionId:          r.ConnectionID,
		Method:                r.Method,
		Url:                   r.URL,
		Headers:               headers,
		Body:                  r.Body,
		Config:                r.Config,
		ReceivedAtUnixMs:      r.ReceivedAt.UnixMilli(),
		AllowPrivateAddresses: r.AllowPrivate,
	}
}

func inboundResultFromProto(p *proto.InboundResponse) *sdk.InboundResult {
	out := &sdk.InboundResult{Messages: make([]sdk.InboundMessage, len(p.Messages))}
	for i, m := range p.Messages {
		var sent time.Time
		if m.SentAtUnixMs != 0 {
			sent = time.UnixMilli(m.SentAtUnixMs).UTC()
		}
		from := m.GetFrom()
		out.Messages[i] = sdk.InboundMessage{
			ExternalID:       m.ExternalId,
			ThreadExternalID: m.ThreadExternalId,
			From: sdk.Contact{
				ExternalID: from.GetExternalId(),
				Name:       from.GetName(),
				Email:      from.GetEmail(),
				Phone:      from.GetPhone(),
			},
			Content:      m.Content,
			ContentType:  m.ContentType,
			Subject:      m.Subject,
			SentAt:       sent,
			Event:        m.Event,
			MediaURL:     m.MediaUrl,
			MediaCaption: m.MediaCaption,
			Sender:       m.Sender,
		}
	}
	for _, st := range p.Statuses {
		var at time.Time
		if st.AtUnixMs != 0 {
			at = time.UnixMilli(st.AtUnixMs).UTC()
		}
		out.Statuses = append(out.Statuses, sdk.StatusUpdate{ExternalID: st.ExternalId, Status: st.Status, Error: st.Error, At: at})
	}
	if r := p.Reply; r != nil {
		out.Reply = &sdk.HTTPReply{Status: int(r.Status), ContentType: r.ContentType, Body: r.Body}
	}
	return out
}
