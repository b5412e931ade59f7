package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
)

// smsChannel is a hub with an SMS connection on a fake Twilio, started on
// an integration whose target is a receiver.
type smsChannel struct {
	hub  *apptest.Hub
	tw   *fakeprovider.Twilio
	rc   *apptest.Receiver
	in   apptest.Integration
	conn map[string]any
}

const (
	smsSender  = "+15550001111"
	smsContact = "+15557654321"
)

func startSMSChannel(t *testing.T, dbURL string, opts ...apptest.Option) *smsChannel {
	t.Helper()
	h := apptest.Start(t, dbURL, opts...)
	tw := fakeprovider.NewTwilio(fakeprovider.TwilioOptions{Callbacks: true, CallbackDelay: 10 * time.Millisecond})
	if err := tw.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tw.Close() })
	rc := apptest.NewReceiver(t)
	conn := h.Admin("POST", "/api/connections", map[string]any{
		"code": "sms-main", "channel": "SMS", "sender": smsSender, "route": "141518",
		"provider": map[string]any{"accountSid": tw.AccountSID(), "authToken": tw.AuthToken(), "baseUrl": tw.URL()},
	})
	if conn.Status != http.StatusCreated {
		t.Fatalf("create connection: %d %s", conn.Status, conn.Body)
	}
	if strings.Contains(string(conn.Body), tw.AuthToken()) {
		t.Fatalf("the auth token is in the connection's answer: %s", conn.Body)
	}
	in := h.CreateIntegration(map[string]any{"name": "sms desk", "kind": "custom", "outboundUrl": rc.URL + "/hook", "connections": []string{"sms-main"}})
	if in.Status != "inactive" {
		t.Fatalf("an integration with connections is %q before start, want inactive", in.Status)
	}
	start := h.Admin("POST", "/api/integrations/"+in.ID+"/start", nil)
	if start.Status != http.StatusOK {
		t.Fatalf("start: %d %s", start.Status, start.Body)
	}
	return &smsChannel{hub: h, tw: tw, rc: rc, in: in, conn: conn.Map(t)}
}

func (c *smsChannel) inboundURL() string { return c.conn["inboundUrl"].(string) }

// respond posts to the response API.
func (c *smsChannel) respond(chat string, body any) *apptest.Response {
	return c.hub.Do("POST", "/integrations/live-chat/"+c.in.ID+"/chats/"+chat+"/events",
		map[string]string{"Authorization": "Bearer " + c.in.ResponseToken}, body)
}

type messageView struct {
	ID, Direction, Content, Status, Error, ExternalID string
}

func (c *smsChannel) messages(t *testing.T, conv string) []messageView {
	var out struct{ Messages []messageView }
	c.hub.Admin("GET", "/api/conversations/"+conv+"/messages", nil).JSON(t, &out)
	return out.Messages
}

// TestSMSChannelEndToEnd: a signed inbound SMS opens a chat and reaches
// the client's webhook with the seed's body; the response API answers in
// the chat through the provider; the provider's callbacks mark the message
// delivered; a provider 500 is retried and the message sent once.
func TestSMSChannelEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startSMSChannel(t, dbURL)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()

		reply, err := c.tw.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: smsContact, To: smsSender, Body: "Is my order on its way?"})
		if err != nil {
			t.Fatal(err)
		}
		if reply.StatusCode != http.StatusOK || !strings.Contains(string(reply.Body), "<Response>") {
			t.Fatalf("hub's answer to Twilio: %d %s %q", reply.StatusCode, reply.ContentType, reply.Body)
		}

		got := c.rc.WaitFor(t, 1, 10*time.Second)
		var body map[string]any
		if err := json.Unmarshal(got[0].Body, &body); err != nil {
			t.Fatalf("webhook body: %v: %s", err, got[0].Body)
		}
		for k, want := range map[string]any{"chatId": smsContact, "contact": smsContact, "event": "MESSAGE",
			"text": "Is my order on its way?", "sender": smsSender, "channel": "SMS"} {
			if body[k] != want {
				t.Errorf("webhook body %s = %v, want %v (body %s)", k, body[k], want, got[0].Body)
			}
		}
		if mm, ok := body["multimedia"].(map[string]any); !ok || mm["url"] != "" || mm["caption"] != "" {
			t.Errorf("webhook body multimedia = %v", body["multimedia"])
		}
		if ts, _ := body["timestamp"].(string); ts == "" {
			t.Errorf("webhook body has no timestamp: %s", got[0].Body)
		} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("timestamp %q: %v", ts, err)
		}
		if got[0].Header.Get("Webhook-Signature") == "" {
			t.Errorf("the delivery is not signed")
		}

		var convs struct {
			Conversations []struct {
				ID, ExternalID, Status string
				Contact                struct{ Phone string }
			}
		}
		c.hub.Admin("GET", "/api/conversations?integrationId="+c.in.ID, nil).JSON(t, &convs)
		if len(convs.Conversations) != 1 || convs.Conversations[0].ExternalID != smsContact || convs.Conversations[0].Status != "open" {
			t.Fatalf("conversations: %+v", convs)
		}
		conv := convs.Conversations[0].ID

		r := c.respond(smsContact, map[string]any{"type": "MESSAGE",
			"channel": map[string]any{"type": "SMS", "route": "141518", "connection": "sms-main"},
			"msg":     "Yes, it leaves today."})
		if r.Status != http.StatusAccepted {
			t.Fatalf("response API: %d %s", r.Status, r.Body)
		}
		ack := r.Map(t)
		if ack["id"] == "" || ack["status"] != "queued" {
			t.Errorf("response API answer = %v, want an id and status queued", ack)
		}
		sent, err := c.tw.WaitMessages(ctx, 1)
		if err != nil {
			t.Fatalf("the provider never got the reply: %v", err)
		}
		if sent[0].To != smsContact || sent[0].From != smsSender || sent[0].Body != "Yes, it leaves today." {
			t.Errorf("provider got %+v", sent[0])
		}
		if !strings.HasSuffix(sent[0].StatusCallback, "/api/webhooks/sms/"+c.conn["id"].(string)) {
			t.Errorf("status callback URL = %q", sent[0].StatusCallback)
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			for _, m := range c.messages(t, conv) {
				if m.ID == ack["id"] {
					if m.Status != "delivered" || m.ExternalID != sent[0].SID {
						return fmt.Errorf("reply is %s (external id %q), want delivered with %s", m.Status, m.ExternalID, sent[0].SID)
					}
					return nil
				}
			}
			return fmt.Errorf("reply not listed")
		})

		// A provider that fails once is retried; the message goes out once.
		c.tw.FailNext(http.StatusInternalServerError, 1)
		r = c.respond(smsContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main"}, "msg": "Second try"})
		if r.Status != http.StatusAccepted {
			t.Fatalf("response API: %d %s", r.Status, r.Body)
		}
		second := r.Map(t)["id"]
		sent, err = c.tw.WaitMessages(ctx, 2)
		if err != nil {
			t.Fatalf("the retried reply never arrived: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(c.tw.Messages()); n != 2 || sent[1].Body != "Second try" {
			t.Fatalf("provider holds %d messages (%+v), want the retried one once", n, c.tw.Messages())
		}
		var dels struct {
			Deliveries []struct {
				ID, EventType, Status string
				AttemptCount          int
			}
		}
		c.hub.Admin("GET", "/api/deliveries?integrationId="+c.in.ID, nil).JSON(t, &dels)
		found := false
		for _, d := range dels.Deliveries {
			if d.EventType == "message.send" && d.AttemptCount == 2 && d.Status == "succeeded" {
				found = true
			}
		}
		if !found {
			t.Errorf("no provider delivery succeeded at its second attempt: %+v", dels.Deliveries)
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			for _, m := range c.messages(t, conv) {
				if m.ID == second && m.Status != "delivered" {
					return fmt.Errorf("retried reply is %s", m.Status)
				}
			}
			return nil
		})

		// The chat ends through the response API; the target hears END.
		if r := c.respond(smsContact, map[string]any{"type": "END"}); r.Status != http.StatusAccepted {
			t.Fatalf("END: %d %s", r.Status, r.Body)
		}
		got = c.rc.WaitFor(t, 2, 10*time.Second)
		json.Unmarshal(got[1].Body, &body)
		if body["event"] != "END" || body["chatId"] != smsContact {
			t.Errorf("end delivered as %s", got[1].Body)
		}
		if r := c.respond(smsContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main"}, "msg": "late"}); r.Status != http.StatusConflict {
			t.Errorf("a response to an ended chat: %d %s, want 409", r.Status, r.Body)
		}
		// The contact writes again: a new chat opens.
		if _, err := c.tw.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: smsContact, To: smsSender, Body: "One more thing"}); err != nil {
			t.Fatal(err)
		}
		c.rc.WaitFor(t, 3, 10*time.Second)
		c.hub.Admin("GET", "/api/conversations?integrationId="+c.in.ID, nil).JSON(t, &convs)
		if len(convs.Conversations) != 2 || convs.Conversations[0].Status != "open" || convs.Conversations[0].ID == conv {
			t.Errorf("after the end, the contact's message should open a new chat: %+v", convs.Conversations)
		}
		if r := c.respond(smsContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main"}, "msg": "Welcome back"}); r.Status != http.StatusAccepted {
			t.Errorf("a response in the new chat: %d %s", r.Status, r.Body)
		}
	})
}

// TestSMSChannelRefusals: what an attacker or a careless client sends.
func TestSMSChannelRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startSMSChannel(t, dbURL)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()

		// A forged inbound message: signed with another token.
		forger := fakeprovider.NewTwilio(fakeprovider.TwilioOptions{AccountSID: c.tw.AccountSID(), AuthToken: "not-the-token"})
		if _, err := forger.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: smsContact, To: smsSender, Body: "forged"}); err != nil {
			t.Fatal(err)
		}
		var events struct {
			Events []struct{ Status, Error string }
		}
		apptest.Eventually(t, 5*time.Second, func() error {
			c.hub.Admin("GET", "/api/integrations/"+c.in.ID+"/events", nil).JSON(t, &events)
			if len(events.Events) == 0 || events.Events[0].Status != "signature_failure" {
				return fmt.Errorf("events: %+v", events.Events)
			}
			return nil
		})
		if strings.Contains(events.Events[0].Error, c.tw.AuthToken()) {
			t.Errorf("the event names the auth token: %s", events.Events[0].Error)
		}
		var convs struct{ Conversations []struct{ ID string } }
		c.hub.Admin("GET", "/api/conversations", nil).JSON(t, &convs)
		if len(convs.Conversations) != 0 {
			t.Fatalf("a forged message was stored: %+v", convs)
		}

		// The response API before any chat exists, and with bad tokens.
		valid := map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main"}, "msg": "hi"}
		if r := c.respond(smsContact, valid); r.Status != http.StatusNotFound {
			t.Errorf("no chat yet: %d %s, want 404", r.Status, r.Body)
		}
		for name, header := range map[string]string{
			"none":          "",
			"the api key":   "Bearer " + c.in.APIKey,
			"admin token":   "Bearer " + c.hub.Token,
			"another token": "Bearer sbr_" + strings.Repeat("0", 43),
		} {
			h := map[string]string{}
			if header != "" {
				h["Authorization"] = header
			}
			r := c.hub.Do("POST", "/integrations/live-chat/"+c.in.ID+"/chats/"+smsContact+"/events", h, valid)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("response API with %s: %d %s, want 401", name, r.Status, r.Body)
			}
		}

		if _, err := c.tw.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: smsContact, To: smsSender, Body: "real"}); err != nil {
			t.Fatal(err)
		}
		c.rc.WaitFor(t, 1, 10*time.Second)
		for name, body := range map[string]any{
			"no type":              map[string]any{"channel": map[string]any{"type": "SMS"}, "msg": "x"},
			"unknown type":         map[string]any{"type": "TYPING", "channel": map[string]any{"type": "SMS"}, "msg": "x"},
			"no msg":               map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main"}},
			"no channel":           map[string]any{"type": "MESSAGE", "msg": "x"},
			"unknown connection":   map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "nope"}, "msg": "x"},
			"wrong route":          map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main", "route": "999"}, "msg": "x"},
			"channel not on it":    map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "WHATSAPP", "sender": smsSender}, "msg": "x"},
			"unknown field":        map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS"}, "msg": "x", "extra": 1},
			"msg a number":         map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS"}, "msg": 5},
			"NUL in msg":           map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main"}, "msg": "a\x00b"},
			"oversized msg":        map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main"}, "msg": strings.Repeat("x", 5000)},
			"channel not a object": map[string]any{"type": "MESSAGE", "channel": "SMS", "msg": "x"},
		} {
			if r := c.respond(smsContact, body); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %s, want 422", name, r.Status, r.Body)
			}
		}
		if n := len(c.tw.Messages()); n != 0 {
			t.Errorf("refused responses reached the provider: %d", n)
		}

		// Traffic for a stopped integration's connection is a routing error.
		if r := c.hub.Admin("POST", "/api/integrations/"+c.in.ID+"/stop", nil); r.Status != http.StatusOK {
			t.Fatalf("stop: %d %s", r.Status, r.Body)
		}
		if _, err := c.tw.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: "+15550009999", To: smsSender, Body: "anyone?"}); err != nil {
			t.Fatal(err)
		}
		apptest.Eventually(t, 5*time.Second, func() error {
			c.hub.Admin("GET", "/api/integrations/"+c.in.ID+"/events", nil).JSON(t, &events)
			if events.Events[0].Status != "routing_error" || !strings.Contains(events.Events[0].Error, "not active on any integration") {
				return fmt.Errorf("events: %+v", events.Events[0])
			}
			return nil
		})
		if r := c.respond(smsContact, valid); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("a response through a stopped integration's connection: %d %s, want 422", r.Status, r.Body)
		}
		c.hub.Admin("GET", "/api/conversations?integrationId="+c.in.ID, nil).JSON(t, &convs)
		if r := c.hub.Admin("POST", "/api/conversations/"+convs.Conversations[0].ID+"/messages", map[string]any{"content": "after stop"}); r.Status != http.StatusConflict {
			t.Errorf("an agent's reply through a stopped integration's connection: %d %s, want 409", r.Status, r.Body)
		}
	})
}
