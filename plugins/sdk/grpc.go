package sdk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchboardhq/switchboard/plugins/proto"
)

// grpcServer runs inside the plugin process and calls the author's Channel.
type grpcServer struct {
	proto.UnimplementedChannelServer
	impl Channel
}

func (s *grpcServer) Describe(context.Context, *proto.DescribeRequest) (*proto.DescribeResponse, error) {
	info := s.impl.Info()
	return &proto.DescribeResponse{
		Kind:               info.Kind,
		Version:            info.Version,
		DisplayName:        info.DisplayName,
		ConfigSchema:       info.ConfigSchema,
		ProtocolVersion:    ProtocolVersion,
		Channel:            info.Channel,
		Auth:               string(info.AuthMode()),
		Sends:              info.Sends,
		ReplyWindowSeconds: int64(info.ReplyWindow / time.Second),
	}, nil
}

func (s *grpcServer) HandleInbound(ctx context.Context, in *proto.InboundRequest) (*proto.InboundResponse, error) {
	res, err := s.handle(ctx, in)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return res, nil
}

// HandleInboundBatch runs the plugin's HandleInbound for each request; a
// failure on one is reported in its own response.
func (s *grpcServer) HandleInboundBatch(ctx context.Context, in *proto.InboundBatchRequest) (*proto.InboundBatchResponse, error) {
	out := &proto.InboundBatchResponse{Responses: make([]*proto.InboundResponse, len(in.Requests))}
	for i, req := range in.Requests {
		res, err := s.handle(ctx, req)
		if err != nil {
			res = &proto.InboundResponse{Failure: err.Error()}
		}
		out.Responses[i] = res
	}
	return out, nil
}

// handle calls the plugin and turns a RejectError into a rejection.
func (s *grpcServer) handle(ctx context.Context, in *proto.InboundRequest) (*proto.InboundResponse, error) {
	res, err := s.impl.HandleInbound(ctx, inboundRequestFromProto(in))
	var rej *RejectError
	if errors.As(err, &rej) {
		return &proto.InboundResponse{Rejection: &proto.Rejection{
			Reason:  proto.Rejection_Reason(rej.Reason),
			Field:   rej.Field,
			Message: rej.Message,
		}}, nil
	}
	if err != nil {
		return nil, err
	}
	return inboundResultToProto(res), nil
}

func (s *grpcServer) Send(ctx context.Context, in *proto.SendRequest) (*proto.SendResponse, error) {
	res, err := s.impl.Send(ctx, &SendRequest{
		Config:           in.Config,
		To:               in.To,
		From:             in.From,
		Content:          in.Content,
		ContentType:      in.ContentType,
		MediaURL:         in.MediaUrl,
		ThreadExternalID: in.ThreadExternalId,
		MessageID:        in.MessageId,
		CallbackURL:      in.CallbackUrl,
		AllowPrivate:     in.AllowPrivateAddresses,
	})
	var perr *ProviderError
	var rej *RejectError
	if errors.As(err, &rej) && rej.Reason == ReasonBadConfig {
		// Sending again with the same settings would fail the same way.
		perr = &ProviderError{Message: rej.Message}
	}
	if perr != nil || errors.As(err, &perr) {
		return &proto.SendResponse{ProviderError: &proto.ProviderError{
			StatusCode:   int32(perr.StatusCode),
			Retryable:    perr.Retryable,
			Message:      perr.Message,
			RetryAfterMs: perr.RetryAfter.Milliseconds(),
		}}, nil
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &proto.SendResponse{ExternalId: res.ExternalID}, nil
}

// Client is the hub's side of a plugin: a Channel whose calls cross the
// process boundary. Errors wrap ErrPluginUnavailable when the process could
// not be reached, so the hub can keep the traffic for later.
type Client struct {
	rpc  proto.ChannelClient
	info Info
	// noBatch is set once the plugin answered that it has no batch call.
	noBatch atomic.Bool
}

var _ Channel = (*Client)(nil)

// Describe asks the plugin who it is and remembers the answer for Info.
func (c *Client) Describe(ctx context.Context) (Info, int, error) {
	res, err := c.rpc.Describe(ctx, &proto.DescribeRequest{})
	if err != nil {
		return Info{}, 0, clientError("describe", err)
	}
	c.info = Info{Kind: res.Kind, Version: res.Version, DisplayName: res.DisplayName, ConfigSchema: res.ConfigSchema,
		Channel: res.Channel, Auth: AuthMode(res.Auth), Sends: res.Sends,
		ReplyWindow: time.Duration(res.ReplyWindowSeconds) * time.Second}
	return c.info, int(res.ProtocolVersion), nil
}

// Info returns what the last Describe reported.
func (c *Client) Info() Info { return c.info }

// HandleInbound sends one request to the plugin.
func (c *Client) HandleInbound(ctx context.Context, req *InboundRequest) (*InboundResult, error) {
	res, err := c.rpc.HandleInbound(ctx, inboundRequestToProto(req))
	if err != nil {
		return nil, clientError("handle inbound", err)
	}
	if rej := res.Rejection; rej != nil {
		return nil, &RejectError{Reason: Reason(rej.Reason), Field: rej.Field, Message: rej.Message}
	}
	return inboundResultFromProto(res), nil
}

// InboundOutcome is the result of one request of a batch.
type InboundOutcome struct {
	Result *InboundResult
	// Err is a *RejectError, a plugin failure on this request, or the
	// failure of the whole call (wrapping ErrPluginUnavailable if the
	// process could not be reached).
	Err error
}

// HandleInboundBatch sends several requests in one call. With a plugin built
// before the batch call existed it sends them one by one.
func (c *Client) HandleInboundBatch(ctx context.Context, reqs []*InboundRequest) []InboundOutcome {
	out := make([]InboundOutcome, len(reqs))
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
					out[i].Err = &RejectError{Reason: Reason(r.Rejection.Reason), Field: r.Rejection.Field, Message: r.Rejection.Message}
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
func (c *Client) Send(ctx context.Context, req *SendRequest) (*SendResult, error) {
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
		return nil, &ProviderError{StatusCode: int(pe.StatusCode), Retryable: pe.Retryable, Message: pe.Message,
			RetryAfter: time.Duration(pe.RetryAfterMs) * time.Millisecond}
	}
	return &SendResult{ExternalID: res.ExternalId}, nil
}

// clientError separates "the plugin could not be reached" from "the plugin
// reported an error".
func clientError(op string, err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded:
		return fmt.Errorf("plugin %s: %w: %v", op, ErrPluginUnavailable, err)
	}
	if s, ok := status.FromError(err); ok {
		return fmt.Errorf("plugin %s: %s", op, s.Message())
	}
	return fmt.Errorf("plugin %s: %w", op, err)
}

func inboundRequestToProto(r *InboundRequest) *proto.InboundRequest {
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

func inboundRequestFromProto(p *proto.InboundRequest) *InboundRequest {
	h := make(http.Header, len(p.Headers))
	for _, hd := range p.Headers {
		h[http.CanonicalHeaderKey(hd.Name)] = hd.Values
	}
	return &InboundRequest{
		IntegrationID: p.IntegrationId,
		ConnectionID:  p.ConnectionId,
		Method:        p.Method,
		URL:           p.Url,
		Header:        h,
		Body:          p.Body,
		Config:        p.Config,
		ReceivedAt:    time.UnixMilli(p.ReceivedAtUnixMs).UTC(),
		AllowPrivate:  p.AllowPrivateAddresses,
	}
}

func inboundResultToProto(r *InboundResult) *proto.InboundResponse {
	out := &proto.InboundResponse{}
	if r == nil {
		return out
	}
	out.Messages = make([]*proto.InboundMessage, len(r.Messages))
	for i, m := range r.Messages {
		var sent int64
		if !m.SentAt.IsZero() {
			sent = m.SentAt.UnixMilli()
		}
		out.Messages[i] = &proto.InboundMessage{
			ExternalId:       m.ExternalID,
			ThreadExternalId: m.ThreadExternalID,
			From: &proto.Contact{
				ExternalId: m.From.ExternalID,
				Name:       m.From.Name,
				Email:      m.From.Email,
				Phone:      m.From.Phone,
			},
			Content:      m.Content,
			ContentType:  m.ContentType,
			Subject:      m.Subject,
			SentAtUnixMs: sent,
			Event:        m.Event,
			MediaUrl:     m.MediaURL,
			MediaCaption: m.MediaCaption,
			Sender:       m.Sender,
		}
	}
	for _, st := range r.Statuses {
		var at int64
		if !st.At.IsZero() {
			at = st.At.UnixMilli()
		}
		out.Statuses = append(out.Statuses, &proto.StatusUpdate{ExternalId: st.ExternalID, Status: st.Status, Error: st.Error, AtUnixMs: at})
	}
	if r.Reply != nil {
		out.Reply = &proto.HTTPReply{Status: int32(r.Reply.Status), ContentType: r.Reply.ContentType, Body: r.Reply.Body}
	}
	return out
}

func inboundResultFromProto(p *proto.InboundResponse) *InboundResult {
	out := &InboundResult{Messages: make([]InboundMessage, len(p.Messages))}
	for i, m := range p.Messages {
		var sent time.Time
		if m.SentAtUnixMs != 0 {
			sent = time.UnixMilli(m.SentAtUnixMs).UTC()
		}
		from := m.GetFrom()
		out.Messages[i] = InboundMessage{
			ExternalID:       m.ExternalId,
			ThreadExternalID: m.ThreadExternalId,
			From: Contact{
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
		out.Statuses = append(out.Statuses, StatusUpdate{ExternalID: st.ExternalId, Status: st.Status, Error: st.Error, At: at})
	}
	if r := p.Reply; r != nil {
		out.Reply = &HTTPReply{Status: int(r.Status), ContentType: r.ContentType, Body: r.Body}
	}
	return out
}
