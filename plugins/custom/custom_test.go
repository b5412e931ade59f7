package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

func TestHandleInbound(t *testing.T) {
	client := plugintest.Connect(t, &Custom{})
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	tests := []struct {
		name      string
		body      string
		wantField string // empty when the request is accepted
		check     func(t *testing.T, m sdk.InboundMessage)
	}{
		{
			name: "seed example",
			body: `{"messageId":"msg_01j9xk","conversationId":"session_abc123","from":{"externalId":"user_42","name":"Jane Smith","email":"jane@example.com"},"subject":"Need help with my order","content":"Hi"}`,
			check: func(t *testing.T, m sdk.InboundMessage) {
				if m.ExternalID != "msg_01j9xk" || m.ThreadExternalID != "session_abc123" {
					t.Errorf("ids = %q, %q", m.ExternalID, m.ThreadExternalID)
				}
				if m.From != (sdk.Contact{ExternalID: "user_42", Name: "Jane Smith", Email: "jane@example.com"}) {
					t.Errorf("from = %+v", m.From)
				}
				if m.ContentType != "text" || m.Subject != "Need help with my order" || m.Event != sdk.EventMessage {
					t.Errorf("contentType %q subject %q event %q", m.ContentType, m.Subject, m.Event)
				}
				if !m.SentAt.Equal(received) {
					t.Errorf("sentAt = %v, want receipt time %v", m.SentAt, received)
				}
			},
		},
		{
			name: "html and sentAt",
			body: `{"messageId":"m","conversationId":"c","from":{"externalId":"u"},"content":"<b>hi</b>","contentType":"html","sentAt":"2025-06-01T10:00:00.250+02:00"}`,
			check: func(t *testing.T, m sdk.InboundMessage) {
				if m.ContentType != "html" || m.Content != "<b>hi</b>" {
					t.Errorf("content %q type %q", m.Content, m.ContentType)
				}
				if want := time.Date(2025, 6, 1, 8, 0, 0, 250e6, time.UTC); !m.SentAt.Equal(want) {
					t.Errorf("sentAt = %v, want %v", m.SentAt, want)
				}
			},
		},
		{name: "missing content", body: `{"messageId":"m","conversationId":"c","from":{"externalId":"u"}}`, wantField: "content"},
		{name: "blank content", body: `{"messageId":"m","conversationId":"c","from":{"externalId":"u"},"content":"  "}`, wantField: "content"},
		{name: "missing messageId", body: `{"conversationId":"c","from":{"externalId":"u"},"content":"x"}`, wantField: "messageId"},
		{name: "missing conversationId", body: `{"messageId":"m","from":{"externalId":"u"},"content":"x"}`, wantField: "conversationId"},
		{name: "missing from", body: `{"messageId":"m","conversationId":"c","content":"x"}`, wantField: "from.externalId"},
		{name: "missing from.externalId", body: `{"messageId":"m","conversationId":"c","from":{"name":"x"},"content":"x"}`, wantField: "from.externalId"},
		{name: "numeric messageId", body: `{"messageId":12,"conversationId":"c","from":{"externalId":"u"},"content":"x"}`, wantField: "messageId"},
		{name: "numeric from.externalId", body: `{"messageId":"m","conversationId":"c","from":{"externalId":7},"content":"x"}`, wantField: "from.externalId"},
		{name: "bad email", body: `{"messageId":"m","conversationId":"c","from":{"externalId":"u","email":"nope"},"content":"x"}`, wantField: "from.email"},
		{name: "bad contentType", body: `{"messageId":"m","conversationId":"c","from":{"externalId":"u"},"content":"x","contentType":"markdown"}`, wantField: "contentType"},
		{name: "bad sentAt", body: `{"messageId":"m","conversationId":"c","from":{"externalId":"u"},"content":"x","sentAt":"yesterday"}`, wantField: "sentAt"},
		{name: "not JSON", body: `{"messageId":`, wantField: "body"},
		{name: "array", body: `[1,2]`, wantField: "body"},
		{name: "empty", body: ``, wantField: "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := client.HandleInbound(t.Context(), &sdk.InboundRequest{Body: []byte(tt.body), ReceivedAt: received})
			if tt.wantField != "" {
				var rej *sdk.RejectError
				if !errors.As(err, &rej) {
					t.Fatalf("err = %v, want a rejection naming %s", err, tt.wantField)
				}
				if rej.Field != tt.wantField || rej.Reason != sdk.ReasonInvalidPayload {
					t.Errorf("rejection field %q reason %v, want %q", rej.Field, rej.Reason, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("HandleInbound: %v", err)
			}
			if len(res.Messages) != 1 {
				t.Fatalf("got %d messages, want 1", len(res.Messages))
			}
			tt.check(t, res.Messages[0])
		})
	}
}

func TestInfo(t *testing.T) {
	client := plugintest.Connect(t, &Custom{})
	if info := client.Info(); info.Kind != "custom" || info.Version != Version {
		t.Errorf("info = %+v", info)
	}
}

// boundarySeed is the payload core/pluginhost's BenchmarkRoundTrip sends
// through the plugin process: the two measure the same work with and
// without the plugin boundary.
var boundarySeed = []byte(`{"messageId":"m1","conversationId":"c1","from":{"externalId":"u1"},"content":"hi"}`)

// BenchmarkInProcess is one inbound request's work in the plugin, called
// directly: no gRPC, no process boundary.
func BenchmarkInProcess(b *testing.B) { benchHandleInbound(b) }

// benchHandleInbound times the custom channel's HandleInbound on the seed.
func benchHandleInbound(b *testing.B) {
	c := &Custom{}
	req := &sdk.InboundRequest{Body: boundarySeed, ReceivedAt: time.Now()}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.HandleInbound(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInMemoryGRPC is the same through the SDK's gRPC adapters over an
// in-memory connection: the cost of the protocol without the process.
func BenchmarkInMemoryGRPC(b *testing.B) {
	client := plugintest.Connect(b, &Custom{})
	req := &sdk.InboundRequest{Body: boundarySeed, ReceivedAt: time.Now()}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.HandleInbound(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPayloadValidation is the custom channel's check of an inbound
// body (decoding, required fields, limits, the message it becomes) beside
// its baseline: decoding the same JSON into a map, which checks nothing.
//
//	go test -run '^$' -bench PayloadValidation ./plugins/custom/
func BenchmarkPayloadValidation(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v map[string]any
			if err := json.Unmarshal(boundarySeed, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("custom", benchHandleInbound)
}
