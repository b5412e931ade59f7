package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// FuzzCustomBody feeds arbitrary bodies to the custom webhook's parser. It
// never panics; it either refuses the body naming a field, or returns one
// message whose fields are valid UTF-8, within their limits, and which
// parses back to itself when posted again. Seeds are in
// testdata/fuzz/FuzzCustomBody; `go test` runs them as ordinary tests.
func FuzzCustomBody(f *testing.F) {
	f.Add([]byte(`{"messageId":"m","conversationId":"c","from":{"externalId":"u"},"content":"hi"}`))
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := (&Custom{}).HandleInbound(t.Context(), &sdk.InboundRequest{Body: body, ReceivedAt: received})
		if err != nil {
			var rej *sdk.RejectError
			if !errors.As(err, &rej) {
				t.Fatalf("error %T %v is not a rejection", err, err)
			}
			if rej.Reason != sdk.ReasonInvalidPayload || rej.Field == "" || rej.Message == "" {
				t.Fatalf("rejection %+v does not name a field and a cause", rej)
			}
			if !utf8.ValidString(rej.Message) {
				t.Fatalf("rejection message is not valid UTF-8: %q", rej.Message)
			}
			return
		}
		if len(res.Messages) != 1 {
			t.Fatalf("%d messages, want 1", len(res.Messages))
		}
		m := res.Messages[0]
		for name, v := range map[string]string{
			"messageId": m.ExternalID, "conversationId": m.ThreadExternalID, "from.externalId": m.From.ExternalID,
			"from.name": m.From.Name, "from.email": m.From.Email, "content": m.Content, "subject": m.Subject,
			"contentType": m.ContentType,
		} {
			if !utf8.ValidString(v) {
				t.Fatalf("%s is not valid UTF-8: %q", name, v)
			}
		}
		for name, v := range map[string]string{"messageId": m.ExternalID, "conversationId": m.ThreadExternalID, "from.externalId": m.From.ExternalID, "content": m.Content} {
			if strings.TrimSpace(v) == "" {
				t.Fatalf("required %s accepted blank", name)
			}
		}
		if len(m.ExternalID) > maxIDLen || len(m.ThreadExternalID) > maxIDLen || len(m.From.ExternalID) > maxIDLen ||
			len(m.From.Name) > maxNameLen || len(m.Subject) > maxSubjectLen || len(m.Content) > maxContentLen {
			t.Fatalf("a field exceeds its limit: %+v", m)
		}
		if m.ContentType != "text" && m.ContentType != "html" {
			t.Fatalf("contentType %q", m.ContentType)
		}
		if m.SentAt.Location() != time.UTC {
			t.Fatalf("sentAt %v is not UTC", m.SentAt)
		}

		// Round trip: the message, posted again as the app would, is itself.
		again, err := json.Marshal(map[string]any{
			"messageId": m.ExternalID, "conversationId": m.ThreadExternalID,
			"from":    map[string]any{"externalId": m.From.ExternalID, "name": m.From.Name, "email": m.From.Email},
			"content": m.Content, "contentType": m.ContentType, "subject": m.Subject,
			"sentAt": m.SentAt.Format(time.RFC3339Nano),
		})
		if err != nil {
			t.Fatal(err)
		}
		res2, err := (&Custom{}).HandleInbound(t.Context(), &sdk.InboundRequest{Body: again, ReceivedAt: received.Add(time.Hour)})
		if err != nil {
			t.Fatalf("accepted message refused when posted again: %v\n%s", err, again)
		}
		m2 := res2.Messages[0]
		if !m2.SentAt.Equal(m.SentAt) {
			t.Fatalf("sentAt %v became %v", m.SentAt, m2.SentAt)
		}
		m2.SentAt = m.SentAt
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
	})
}
