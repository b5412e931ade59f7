package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// TestInboundTextThroughFake: the fake posts a contact's text, signed, to a
// stand-in hub route, and the plugin normalises it.
func TestInboundTextThroughFake(t *testing.T) {
	e := newEnv(t)
	hub := newMiniHub(t, e)
	e.fake.SetWebhook(hub.url())
	before := time.Now().Add(-time.Second).Truncate(time.Second)
	status, err := e.fake.SendInboundText(t.Context(), "447700900123", "Zoë Price", "Hello from WhatsApp 👋")
	if err != nil || status != http.StatusOK {
		t.Fatalf("webhook: %d %v", status, err)
	}
	results, errs := hub.wait(t, 1)
	if errs[0] != nil {
		t.Fatalf("HandleInbound: %v", errs[0])
	}
	res := results[0]
	if len(res.Messages) != 1 || len(res.Statuses) != 0 {
		t.Fatalf("result %+v", res)
	}
	m := res.Messages[0]
	hooks := e.fake.Webhooks()
	want := sdk.InboundMessage{
		ExternalID:       hooks[0].MessageID,
		ThreadExternalID: "447700900123",
		From:             sdk.Contact{ExternalID: "447700900123", Phone: "447700900123", Name: "Zoë Price"},
		Content:          "Hello from WhatsApp 👋",
		ContentType:      "text",
		Event:            sdk.EventMessage,
		Sender:           "15550000001",
		SentAt:           m.SentAt,
	}
	if m != want {
		t.Errorf("message\n got %+v\nwant %+v", m, want)
	}
	if !strings.HasPrefix(m.ExternalID, "wamid.") {
		t.Errorf("external ID %q", m.ExternalID)
	}
	if m.SentAt.Before(before) || m.SentAt.After(time.Now()) {
		t.Errorf("sentAt %v is not the post's timestamp", m.SentAt)
	}
	if r := res.Reply; r == nil || r.Status != http.StatusOK || len(r.Body) != 0 {
		t.Errorf("reply %+v, want 200 with no body", r)
	}
}

func TestInboundPayloads(t *testing.T) {
	e := newEnv(t)
	pn := e.opts.PhoneNumberID
	msg := func(typ string, extra map[string]any) map[string]any {
		m := map[string]any{"from": "15551234567", "id": "wamid.X", "timestamp": "1750857384", "type": typ}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	value := func(msgs ...map[string]any) map[string]any {
		list := make([]any, len(msgs))
		for i, m := range msgs {
			list[i] = m
		}
		return map[string]any{
			"contacts": []any{map[string]any{"profile": map[string]any{"name": "Ann"}, "wa_id": "15551234567"}},
			"messages": list,
		}
	}
	body := func(v map[string]any) string { return string(notificationBody(t, pn, v)) }
	const msgPath = "entry[0].changes[0].value.messages[0]"

	tests := []struct {
		name        string
		body        string
		wantContent []string // contents of the messages, in order
		wantReason  sdk.Reason
		wantField   string
		check       func(t *testing.T, res *sdk.InboundResult)
	}{
		{name: "text", body: body(value(msg("text", map[string]any{"text": map[string]any{"body": "hi"}}))), wantContent: []string{"hi"},
			check: func(t *testing.T, res *sdk.InboundResult) {
				m := res.Messages[0]
				if !m.SentAt.Equal(time.Unix(1750857384, 0)) || m.Sender != "15550000001" || m.From.Name != "Ann" || m.From.Phone != "15551234567" {
					t.Errorf("message %+v", m)
				}
			}},
		{name: "numeric timestamp", body: strings.Replace(body(value(msg("text", map[string]any{"text": map[string]any{"body": "hi"}}))), `"1750857384"`, `1750857384`, 1), wantContent: []string{"hi"}},
		{name: "no timestamp is the time of receipt", body: body(value(map[string]any{"from": "15551234567", "id": "wamid.X", "type": "text", "text": map[string]any{"body": "hi"}})), wantContent: []string{"hi"},
			check: func(t *testing.T, res *sdk.InboundResult) {
				if !res.Messages[0].SentAt.Equal(testReceivedAt) {
					t.Errorf("sentAt %v", res.Messages[0].SentAt)
				}
			}},
		{name: "name of the matching contact", wantContent: []string{"a", "b"},
			body: body(map[string]any{
				"contacts": []any{
					map[string]any{"profile": map[string]any{"name": "Ann"}, "wa_id": "111"},
					map[string]any{"profile": map[string]any{"name": "Bob"}, "wa_id": "222"},
				},
				"messages": []any{
					map[string]any{"from": "222", "id": "wamid.1", "timestamp": "1", "type": "text", "text": map[string]any{"body": "a"}},
					map[string]any{"from": "111", "id": "wamid.2", "timestamp": "1", "type": "text", "text": map[string]any{"body": "b"}},
				},
			}),
			check: func(t *testing.T, res *sdk.InboundResult) {
				if res.Messages[0].From.Name != "Bob" || res.Messages[1].From.Name != "Ann" {
					t.Errorf("names %q %q", res.Messages[0].From.Name, res.Messages[1].From.Name)
				}
			}},
		{name: "location", wantContent: []string{"[location] Office 1 Main St (51.5, -0.12)"},
			body: body(value(msg("location", map[string]any{"location": map[string]any{"latitude": 51.5, "longitude": -0.12, "name": "Office", "address": "1 Main St"}})))},
		{name: "button reply", wantContent: []string{"Yes, please"},
			body: body(value(msg("interactive", map[string]any{"interactive": map[string]any{"type": "button_reply", "button_reply": map[string]any{"id": "b1", "title": "Yes, please"}}})))},
		{name: "list reply", wantContent: []string{"Express"},
			body: body(value(msg("interactive", map[string]any{"interactive": map[string]any{"type": "list_reply", "list_reply": map[string]any{"id": "r1", "title": "Express"}}})))},
		{name: "template quick reply", wantContent: []string{"Stop promotions"},
			body: body(value(msg("button", map[string]any{"button": map[string]any{"payload": "STOP", "text": "Stop promotions"}})))},
		{name: "contact card", wantContent: []string{"[contact] Jo Bloggs +44 7700 900000"},
			body: body(value(msg("contacts", map[string]any{"contacts": []any{map[string]any{"name": map[string]any{"formatted_name": "Jo Bloggs"}, "phones": []any{map[string]any{"phone": "+44 7700 900000"}}}}})))},
		{name: "reaction", wantContent: []string{"[reaction] 👍"},
			body: body(value(msg("reaction", map[string]any{"reaction": map[string]any{"message_id": "wamid.Y", "emoji": "👍"}})))},
		{name: "withdrawn reaction is skipped", wantContent: []string{},
			body: body(value(msg("reaction", map[string]any{"reaction": map[string]any{"message_id": "wamid.Y", "emoji": ""}})))},
		{name: "system notice is skipped", wantContent: []string{},
			body: body(value(msg("system", map[string]any{"system": map[string]any{"body": "changed number", "type": "user_changed_number"}})))},
		{name: "unsupported", wantContent: []string{"[unsupported message]"},
			body: body(value(msg("unsupported", map[string]any{"errors": []any{map[string]any{"code": 131051, "title": "Message type unknown"}}})))},
		{name: "odd type name", wantContent: []string{"[unknown message]"}, body: body(value(msg("Poll-Update!", nil)))},
		{name: "another change field is ignored", wantContent: []string{},
			body: `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT","messages":"not a list"}}]}]}`},
		{name: "no entries", wantContent: []string{}, body: `{"object":"whatsapp_business_account","entry":[]}`},
		{name: "another phone number only", wantReason: sdk.ReasonUnsupported,
			body: string(notificationBody(t, "999999", value(msg("text", map[string]any{"text": map[string]any{"body": "not ours"}}))))},
		{name: "mixed phone numbers keep ours", wantContent: []string{"ours"},
			body: `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[` +
				`{"field":"messages","value":{"metadata":{"display_phone_number":"1","phone_number_id":"999999"},"messages":[{"from":"1","id":"wamid.A","timestamp":"1","type":"text","text":{"body":"theirs"}}]}},` +
				`{"field":"messages","value":{"metadata":{"display_phone_number":"1","phone_number_id":"` + pn + `"},"messages":[{"from":"1","id":"wamid.B","timestamp":"1","type":"text","text":{"body":"ours"}}]}}]}]}`},
		{name: "another object", wantReason: sdk.ReasonUnsupported, body: `{"object":"page","entry":[]}`},
		{name: "not JSON", wantReason: sdk.ReasonInvalidPayload, wantField: "body", body: `{"object":`},
		{name: "array", wantReason: sdk.ReasonInvalidPayload, wantField: "body", body: `[]`},
		{name: "empty", wantReason: sdk.ReasonInvalidPayload, wantField: "body", body: ``},
		{name: "escaped NUL in a text", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".text.body",
			body: strings.Replace(body(value(msg("text", map[string]any{"text": map[string]any{"body": "PLACEHOLDER"}}))), "PLACEHOLDER", `a\u0000b`, 1)},
		{name: "raw invalid UTF-8 in a profile name", wantReason: sdk.ReasonInvalidPayload, wantField: "entry[0].changes[0].value.contacts[0].profile.name",
			body: strings.Replace(body(value(msg("text", map[string]any{"text": map[string]any{"body": "hi"}}))), `"Ann"`, "\"A\xffn\"", 1)},
		{name: "profile name too long", wantReason: sdk.ReasonInvalidPayload, wantField: "entry[0].changes[0].value.contacts[0].profile.name",
			body: strings.Replace(body(value(msg("text", map[string]any{"text": map[string]any{"body": "hi"}}))), `"Ann"`, `"`+strings.Repeat("n", maxNameLen+1)+`"`, 1)},
		{name: "lone surrogate in a caption", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".image.caption",
			body: strings.Replace(body(value(msg("image", map[string]any{"image": map[string]any{"id": "1", "caption": "PLACEHOLDER"}}))), "PLACEHOLDER", `\ud800`, 1)},
		{name: "text too long", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".text.body",
			body: body(value(msg("text", map[string]any{"text": map[string]any{"body": strings.Repeat("x", maxTextLen+1)}})))},
		{name: "text message without text", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".text.body", body: body(value(msg("text", nil)))},
		{name: "image without its object", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".image", body: body(value(msg("image", nil)))},
		{name: "media ID with a path in it", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".image.id",
			body: body(value(msg("image", map[string]any{"image": map[string]any{"id": "../../v21.0/me?x=1"}})))},
		{name: "missing message ID", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".id",
			body: body(value(map[string]any{"from": "1", "timestamp": "1", "type": "text", "text": map[string]any{"body": "x"}}))},
		{name: "missing sender", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".from",
			body: body(value(map[string]any{"id": "wamid.1", "timestamp": "1", "type": "text", "text": map[string]any{"body": "x"}}))},
		{name: "sender with a space", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".from",
			body: body(value(map[string]any{"from": "1 2", "id": "wamid.1", "timestamp": "1", "type": "text", "text": map[string]any{"body": "x"}}))},
		{name: "timestamp not a number", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".timestamp",
			body: body(value(map[string]any{"from": "1", "id": "wamid.1", "timestamp": "yesterday", "type": "text", "text": map[string]any{"body": "x"}}))},
		{name: "timestamp past year 9999", wantReason: sdk.ReasonInvalidPayload, wantField: msgPath + ".timestamp",
			body: body(value(map[string]any{"from": "1", "id": "wamid.1", "timestamp": "999999999999999", "type": "text", "text": map[string]any{"body": "x"}}))},
		{name: "timestamp an object", wantReason: sdk.ReasonInvalidPayload,
			body: body(value(map[string]any{"from": "1", "id": "wamid.1", "timestamp": map[string]any{}, "type": "text", "text": map[string]any{"body": "x"}}))},
		{name: "messages not a list", wantReason: sdk.ReasonInvalidPayload, wantField: "entry[0].changes[0].value.messages",
			body: body(map[string]any{"messages": "x"})},
		{name: "message ID a number", wantReason: sdk.ReasonInvalidPayload, wantField: "entry[0].changes[0].value.messages.id",
			body: body(value(map[string]any{"from": "1", "id": 7, "timestamp": "1", "type": "text", "text": map[string]any{"body": "x"}}))},
		{name: "entry not a list", wantReason: sdk.ReasonInvalidPayload, wantField: "entry", body: `{"object":"whatsapp_business_account","entry":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.post(t, []byte(tt.body))
			if tt.wantReason != 0 {
				if res != nil {
					t.Errorf("refused post produced %+v", res)
				}
				rej := wantReject(t, err, tt.wantReason, tt.wantField)
				if rej.Message == "" {
					t.Error("rejection without a message")
				}
				return
			}
			if err != nil {
				t.Fatalf("HandleInbound: %v", err)
			}
			got := []string{}
			for _, m := range res.Messages {
				got = append(got, m.Content)
				if m.ContentType != "text" || m.Event != sdk.EventMessage {
					t.Errorf("contentType %q event %q", m.ContentType, m.Event)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantContent) {
				t.Errorf("contents %q, want %q", got, tt.wantContent)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// TestInboundLimits: a post may not carry more messages and statuses than
// the plugin takes at once.
func TestInboundLimits(t *testing.T) {
	e := newEnv(t)
	build := func(n int) []byte {
		msgs := make([]any, n)
		for i := range msgs {
			msgs[i] = map[string]any{"from": "1", "id": fmt.Sprintf("wamid.%d", i), "timestamp": "1", "type": "text", "text": map[string]any{"body": "x"}}
		}
		return notificationBody(t, e.opts.PhoneNumberID, map[string]any{"messages": msgs})
	}
	res, err := e.post(t, build(maxItems))
	if err != nil || len(res.Messages) != maxItems {
		t.Fatalf("%d messages: err %v", maxItems, err)
	}
	_, err = e.post(t, build(maxItems+1))
	wantReject(t, err, sdk.ReasonInvalidPayload, "entry[0].changes[0].value.messages")

	changes := make([]string, maxChanges+1)
	for i := range changes {
		changes[i] = `{"field":"account_update","value":{}}`
	}
	_, err = e.post(t, []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[`+strings.Join(changes, ",")+`]}]}`))
	wantReject(t, err, sdk.ReasonInvalidPayload, "entry")
}

func TestStatuses(t *testing.T) {
	e := newEnv(t)
	st := func(id, status string, extra map[string]any) any {
		s := map[string]any{"id": id, "status": status, "timestamp": "1750857390", "recipient_id": "15551234567"}
		for k, v := range extra {
			s[k] = v
		}
		return s
	}
	body := notificationBody(t, e.opts.PhoneNumberID, map[string]any{"statuses": []any{
		st("wamid.S", "sent", map[string]any{"conversation": map[string]any{"id": "c1", "origin": map[string]any{"type": "service"}}, "pricing": map[string]any{"billable": true}}),
		st("wamid.D", "delivered", nil),
		st("wamid.R", "read", nil),
		st("wamid.F", "failed", map[string]any{"errors": []any{map[string]any{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable", "error_data": map[string]any{"details": "Receiver is incapable of receiving this message"}}}}),
		st("wamid.G", "failed", map[string]any{"errors": []any{map[string]any{"code": 131047, "message": "Re-engagement message"}}}),
		st("wamid.H", "failed", nil),
		st("wamid.Z", "deleted", nil),
	}})
	res, err := e.post(t, body)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1750857390, 0).UTC()
	want := []sdk.StatusUpdate{
		{ExternalID: "wamid.S", Status: sdk.StatusSent, At: at},
		{ExternalID: "wamid.D", Status: sdk.StatusDelivered, At: at},
		{ExternalID: "wamid.R", Status: sdk.StatusDelivered, At: at},
		{ExternalID: "wamid.F", Status: sdk.StatusFailed, Error: "131026: Message undeliverable (Receiver is incapable of receiving this message)", At: at},
		{ExternalID: "wamid.G", Status: sdk.StatusFailed, Error: "131047: Re-engagement message", At: at},
		{ExternalID: "wamid.H", Status: sdk.StatusFailed, Error: "failed without a reason", At: at},
	}
	if len(res.Messages) != 0 || fmt.Sprint(res.Statuses) != fmt.Sprint(want) {
		t.Errorf("statuses\n got %+v\nwant %+v", res.Statuses, want)
	}

	bad := notificationBody(t, e.opts.PhoneNumberID, map[string]any{"statuses": []any{st("", "sent", nil)}})
	_, err = e.post(t, bad)
	wantReject(t, err, sdk.ReasonInvalidPayload, "entry[0].changes[0].value.statuses[0].id")
	bad = []byte(strings.Replace(string(notificationBody(t, e.opts.PhoneNumberID, map[string]any{"statuses": []any{
		st("wamid.F", "failed", map[string]any{"errors": []any{map[string]any{"code": 1, "title": "PLACEHOLDER"}}}),
	}})), "PLACEHOLDER", `\u0000`, 1))
	_, err = e.post(t, bad)
	wantReject(t, err, sdk.ReasonInvalidPayload, "entry[0].changes[0].value.statuses[0].errors[0].title")
}

// TestStatusesThroughFake: a reply sent through the plugin is reported by
// the fake's status webhooks, which the plugin maps to the hub's statuses.
func TestStatusesThroughFake(t *testing.T) {
	for _, tt := range []struct {
		final string
		want  []string
	}{
		{final: "delivered", want: []string{sdk.StatusSent, sdk.StatusDelivered}},
		{final: "read", want: []string{sdk.StatusSent, sdk.StatusDelivered, sdk.StatusDelivered}},
		{final: "failed", want: []string{sdk.StatusSent, sdk.StatusFailed}},
	} {
		t.Run(tt.final, func(t *testing.T) {
			e := newEnvWith(t, fakeprovider.CloudAPIOptions{FinalStatus: tt.final})
			hub := newMiniHub(t, e)
			e.fake.SetWebhook(hub.url())
			sent, err := e.send(t, sdk.SendRequest{To: "15551234567", Content: "Your order has shipped."})
			if err != nil {
				t.Fatal(err)
			}
			results, errs := hub.wait(t, len(tt.want))
			var got []string
			for i, res := range results {
				if errs[i] != nil {
					t.Fatalf("status post %d: %v", i, errs[i])
				}
				for _, st := range res.Statuses {
					if st.ExternalID != sent.ExternalID {
						t.Errorf("status for %q, want %q", st.ExternalID, sent.ExternalID)
					}
					if st.Status == sdk.StatusFailed && !strings.HasPrefix(st.Error, "131026: ") {
						t.Errorf("failure reason %q", st.Error)
					}
					got = append(got, st.Status)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("statuses %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMediaThroughFake(t *testing.T) {
	e := newEnv(t)
	hub := newMiniHub(t, e)
	e.fake.SetWebhook(hub.url())
	e.fake.AddMedia("1122334455", "image/jpeg", []byte("jpeg bytes"))
	if _, err := e.fake.SendInboundMedia(t.Context(), "15551234567", "Ann", "1122334455", "", "my receipt"); err != nil {
		t.Fatal(err)
	}
	results, errs := hub.wait(t, 1)
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	m := results[0].Messages[0]
	if m.MediaURL != e.fake.URL()+"/media/1122334455" || m.MediaCaption != "my receipt" || m.Content != "my receipt" {
		t.Fatalf("message %+v", m)
	}
	// The URL serves the media to a caller with the access token.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, m.MediaURL, nil)
	req.Header.Set("Authorization", "Bearer "+e.opts.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("media URL answered %d", resp.StatusCode)
	}
}

func TestMediaLookupFailures(t *testing.T) {
	e := newEnv(t)
	e.fake.AddMedia("1122334455", "image/jpeg", []byte("jpeg bytes"))
	body := notificationBody(t, e.opts.PhoneNumberID, map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]any{"name": "Ann"}, "wa_id": "15551234567"}},
		"messages": []any{
			map[string]any{"from": "15551234567", "id": "wamid.M", "timestamp": "1", "type": "image", "image": map[string]any{"id": "1122334455", "mime_type": "image/jpeg"}},
			map[string]any{"from": "15551234567", "id": "wamid.N", "timestamp": "2", "type": "document", "document": map[string]any{"id": "1122334455", "filename": "receipt.pdf", "mime_type": "application/pdf"}},
		},
	})
	mediaURL := e.fake.URL() + "/media/1122334455"

	t.Run("resolved once for two messages", func(t *testing.T) {
		res, err := e.post(t, body)
		if err != nil {
			t.Fatal(err)
		}
		a, b := res.Messages[0], res.Messages[1]
		if a.MediaURL != mediaURL || b.MediaURL != mediaURL || a.Content != "[image]" || b.Content != "[document: receipt.pdf]" || a.MediaCaption != "" {
			t.Errorf("messages %+v", res.Messages)
		}
	})
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(fmt.Sprintf("%d is a plugin failure, kept for replay", status), func(t *testing.T) {
			e.fake.FailNext(status, 1)
			res, err := e.post(t, body)
			var rej *sdk.RejectError
			if err == nil || errors.As(err, &rej) {
				t.Fatalf("err = %v, result %+v; want a plugin failure", err, res)
			}
			e.noSecrets(t, err.Error())
			// The replay, once the provider is back, succeeds.
			res, err = e.post(t, body)
			if err != nil || res.Messages[0].MediaURL != mediaURL {
				t.Fatalf("replay: %v %+v", err, res)
			}
		})
	}
	for _, status := range []int{http.StatusNotFound, http.StatusBadRequest, http.StatusForbidden} {
		t.Run(fmt.Sprintf("%d keeps the message without its URL", status), func(t *testing.T) {
			e.fake.FailNext(status, 1)
			res, err := e.post(t, body)
			if err != nil {
				t.Fatal(err)
			}
			if res.Messages[0].MediaURL != "" || res.Messages[0].Content != "[image]" {
				t.Errorf("message %+v", res.Messages[0])
			}
			if res.Messages[1].MediaURL != "" {
				t.Errorf("the second message of the same media was looked up again: %+v", res.Messages[1])
			}
		})
	}
	t.Run("wrong access token keeps the message without its URL", func(t *testing.T) {
		cfg := e.configWith(map[string]any{"accessToken": "not-the-token"})
		res, err := e.postWith(t, body, fakeprovider.CloudAPISignature(e.opts.AppSecret, body), cfg, true)
		if err != nil || res.Messages[0].MediaURL != "" {
			t.Fatalf("err %v, result %+v", err, res)
		}
	})
	t.Run("unknown media keeps the message without its URL", func(t *testing.T) {
		other := []byte(strings.ReplaceAll(string(body), "1122334455", "999"))
		res, err := e.post(t, other)
		if err != nil || res.Messages[0].MediaURL != "" {
			t.Fatalf("err %v, result %+v", err, res)
		}
	})
	t.Run("private address refused unless allowed keeps the message without its URL", func(t *testing.T) {
		res, err := e.postWith(t, body, fakeprovider.CloudAPISignature(e.opts.AppSecret, body), e.config, false)
		if err != nil || len(res.Messages) == 0 || res.Messages[0].MediaURL != "" {
			t.Fatalf("err = %v, result %+v: want the message, without a URL the hub's address policy refused to look up", err, res)
		}
	})
	t.Run("provider down", func(t *testing.T) {
		cfg := e.configWith(map[string]any{"baseUrl": "http://127.0.0.1:1"})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := e.client.HandleInbound(ctx, &sdk.InboundRequest{
			Method: http.MethodPost, Header: http.Header{SignatureHeader: {fakeprovider.CloudAPISignature(e.opts.AppSecret, body)}},
			Body: body, Config: cfg, AllowPrivate: true,
		})
		var rej *sdk.RejectError
		if err == nil || errors.As(err, &rej) {
			t.Fatalf("err = %v, want a plugin failure", err)
		}
		e.noSecrets(t, err.Error())
	})
}

// TestMediaLookupAnswers: a lookup answered 2xx but without a usable URL
// keeps the message without one; nothing from the answer is trusted.
func TestMediaLookupAnswers(t *testing.T) {
	for _, tt := range []struct {
		name, answer, wantURL string
	}{
		{name: "https URL", answer: `{"url":"https://lookaside.example/x?mid=1","mime_type":"image/jpeg"}`, wantURL: "https://lookaside.example/x?mid=1"},
		{name: "no URL", answer: `{"id":"1"}`},
		{name: "javascript URL", answer: `{"url":"javascript:alert(1)"}`},
		{name: "relative URL", answer: `{"url":"/media/1"}`},
		{name: "URL with NUL", answer: `{"url":"https://x.example/\u0000"}`},
		{name: "not JSON", answer: `<html>`},
		{name: "URL too long", answer: `{"url":"https://x.example/` + strings.Repeat("a", maxMediaURLLen) + `"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			graph := newFakeGraph(t, http.StatusOK, tt.answer)
			cfg := e.configWith(map[string]any{"baseUrl": graph.URL})
			body := notificationBody(t, e.opts.PhoneNumberID, map[string]any{"messages": []any{
				map[string]any{"from": "1", "id": "wamid.M", "timestamp": "1", "type": "audio", "audio": map[string]any{"id": "42"}},
			}})
			res, err := e.postWith(t, body, fakeprovider.CloudAPISignature(e.opts.AppSecret, body), cfg, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Messages[0].MediaURL; got != tt.wantURL {
				t.Errorf("media URL %q, want %q", got, tt.wantURL)
			}
			graph.mu.Lock()
			defer graph.mu.Unlock()
			if len(graph.auths) != 1 || graph.auths[0] != "Bearer "+e.opts.AccessToken {
				t.Errorf("lookups with %q, want one with the bearer token", graph.auths)
			}
		})
	}
}
