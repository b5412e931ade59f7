package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Version of the plugin, reported to the hub.
const Version = "0.1.0"

// Limits on the app's fields. The hub bounds the whole body separately.
const (
	maxIDLen      = 255
	maxNameLen    = 255
	maxSubjectLen = 998
	maxContentLen = 256 << 10
)

// Custom validates and normalises the custom webhook's JSON payload.
// Authentication happens in the hub, before the plugin is called.
type Custom struct{}

var _ sdk.Channel = (*Custom)(nil)

// Info declares the plugin.
func (*Custom) Info() sdk.Info {
	return sdk.Info{
		Kind:         "custom",
		Version:      Version,
		DisplayName:  "Custom webhook",
		Auth:         sdk.AuthAPIKey,
		ConfigSchema: `{"type":"object","properties":{},"additionalProperties":false}`,
	}
}

// payload is the body an app posts. Pointers tell "absent" from "empty".
type payload struct {
	MessageID      *string `json:"messageId"`
	ConversationID *string `json:"conversationId"`
	From           *struct {
		ExternalID *string `json:"externalId"`
		Name       string  `json:"name"`
		Email      string  `json:"email"`
	} `json:"from"`
	Content     *string `json:"content"`
	ContentType string  `json:"contentType"`
	Subject     string  `json:"subject"`
	SentAt      string  `json:"sentAt"`
}

// HandleInbound turns one request into one message, or refuses it naming the field at fault.
func (*Custom) HandleInbound(_ context.Context, req *sdk.InboundRequest) (*sdk.InboundResult, error) {
	p, err := decode(req.Body)
	if err != nil {
		return nil, err
	}
	msg, err := p.normalise(req.ReceivedAt)
	if err != nil {
		return nil, err
	}
	return &sdk.InboundResult{Messages: []sdk.InboundMessage{msg}}, nil
}

// Send is not a channel of this plugin: replies to apps go out as deliveries.
func (*Custom) Send(context.Context, *sdk.SendRequest) (*sdk.SendResult, error) {
	return nil, &sdk.ProviderError{Message: "the custom webhook sends replies as deliveries, not through the plugin"}
}

func decode(body []byte) (*payload, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, sdk.InvalidField("body", "body is empty; expected a JSON object")
	}
	if body[0] != '{' {
		return nil, sdk.InvalidField("body", "body must be a JSON object")
	}
	// Decoding would pass \u0000 on and replace invalid UTF-8 silently:
	// refuse both first, naming the field.
	if err := sdk.CheckJSONText(body); err != nil {
		return nil, err
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return nil, sdk.InvalidField(typeErr.Field, "%s must be %s, not %s", typeErr.Field, expected(typeErr.Field), typeErr.Value)
		}
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return nil, sdk.InvalidField("body", "body is not valid JSON at byte %d", syntaxErr.Offset)
		}
		return nil, sdk.InvalidField("body", "body is not a valid message")
	}
	return &p, nil
}

func expected(field string) string {
	if field == "from" {
		return "an object"
	}
	return "a string"
}

func (p *payload) normalise(receivedAt time.Time) (sdk.InboundMessage, error) {
	var m sdk.InboundMessage
	var err error
	if m.ExternalID, err = required("messageId", p.MessageID, maxIDLen); err != nil {
		return m, err
	}
	if m.ThreadExternalID, err = required("conversationId", p.ConversationID, maxIDLen); err != nil {
		return m, err
	}
	if p.From == nil {
		return m, sdk.InvalidField("from.externalId", "from.externalId is required")
	}
	if m.From.ExternalID, err = required("from.externalId", p.From.ExternalID, maxIDLen); err != nil {
		return m, err
	}
	if m.From.Name, err = optional("from.name", p.From.Name, maxNameLen); err != nil {
		return m, err
	}
	if email := strings.TrimSpace(p.From.Email); email != "" {
		addr, perr := mail.ParseAddress(email)
		if perr != nil || addr.Address != email {
			return m, sdk.InvalidField("from.email", "from.email %s is not an email address", sdk.Quote(email))
		}
		m.From.Email = email
	}
	if m.Content, err = required("content", p.Content, maxContentLen); err != nil {
		return m, err
	}
	switch p.ContentType {
	case "", "text":
		m.ContentType = "text"
	case "html":
		m.ContentType = "html"
	default:
		return m, sdk.InvalidField("contentType", "contentType must be \"text\" or \"html\", not %s", sdk.Quote(p.ContentType))
	}
	if m.Subject, err = optional("subject", p.Subject, maxSubjectLen); err != nil {
		return m, err
	}
	m.SentAt = receivedAt
	if p.SentAt != "" {
		t, perr := time.Parse(time.RFC3339Nano, p.SentAt)
		if perr != nil {
			return m, sdk.InvalidField("sentAt", "sentAt %s is not an ISO-8601 timestamp such as 2024-05-01T12:00:00Z", sdk.Quote(p.SentAt))
		}
		m.SentAt = t.UTC()
	}
	m.Event = sdk.EventMessage
	return m, nil
}

func required(field string, v *string, max int) (string, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return "", sdk.InvalidField(field, "%s is required", field)
	}
	return optional(field, *v, max)
}

func optional(field, v string, max int) (string, error) {
	if err := sdk.CheckText(field, v); err != nil {
		return "", err
	}
	if len(v) > max {
		return "", sdk.InvalidField(field, "%s is longer than %s", field, size(max))
	}
	return v, nil
}

func size(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
