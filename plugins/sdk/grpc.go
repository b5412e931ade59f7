package sdk

import (
	"context"
	"errors"
	"net/http"
	"strings"
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
	_, checks := s.impl.(ConfigChecker)
	_, activates := s.impl.(Activator)
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
		ChecksConfig:       checks,
		Activates:          activates,
	}, nil
}

// CheckConfig runs the plugin's ConfigChecker or Activator.
func (s *grpcServer) CheckConfig(ctx context.Context, in *proto.CheckConfigRequest) (*proto.CheckConfigResponse, error) {
	var err error
	if in.Activate {
		if a, ok := s.impl.(Activator); ok {
			err = a.Activate(ctx, &ActivateRequest{ConnectionID: in.ConnectionId, Config: in.Config,
				InboundURL: in.InboundUrl, AllowPrivate: in.AllowPrivateAddresses})
		}
	} else if c, ok := s.impl.(ConfigChecker); ok {
		err = c.CheckConfig(ctx, in.Config)
	}
	var rej *RejectError
	var perr *ProviderError
	switch {
	case err == nil:
		return &proto.CheckConfigResponse{}, nil
	case errors.As(err, &rej):
		return &proto.CheckConfigResponse{Rejection: rejectionToProto(rej)}, nil
	case errors.As(err, &perr):
		return &proto.CheckConfigResponse{ProviderError: providerErrorToProto(perr)}, nil
	}
	return nil, status.Error(codes.Internal, err.Error())
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
		return &proto.InboundResponse{Rejection: rejectionToProto(rej)}, nil
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
		return &proto.SendResponse{ProviderError: providerErrorToProto(perr)}, nil
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &proto.SendResponse{ExternalId: res.ExternalID}, nil
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

func rejectionToProto(r *RejectError) *proto.Rejection {
	return &proto.Rejection{Reason: proto.Rejection_Reason(r.Reason), Field: validUTF8(r.Field), Message: validUTF8(r.Message)}
}

func providerErrorToProto(e *ProviderError) *proto.ProviderError {
	return &proto.ProviderError{
		StatusCode:   int32(e.StatusCode),
		Retryable:    e.Retryable,
		Message:      validUTF8(e.Message),
		RetryAfterMs: e.RetryAfter.Milliseconds(),
	}
}

// validUTF8 repairs a message quoting a provider's bytes: protobuf strings
// must be valid UTF-8, and an invalid one would fail the whole call.
func validUTF8(v string) string { return strings.ToValidUTF8(v, "\uFFFD") }
