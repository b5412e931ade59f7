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

const (
	waContact     = "15557654321"
	waVerifyToken = "verify-me-7c2d"
)

type waChannel struct {
	hub  *apptest.Hub
	wa   *fakeprovider.CloudAPI
	rc   *apptest.Receiver
	in   apptest.Integration
	conn map[string]any
}

func startWAChannel(t *testing.T, dbURL string) *waChannel {
	t.Helper()
	h := apptest.Start(t, dbURL)
	wa := fakeprovider.NewCloudAPI(fakeprovider.CloudAPIOptions{StatusDelay: 20 * time.Millisecond})
	if err := wa.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wa.Close() })
	rc := apptest.NewReceiver(t)
	o := wa.Options()
	conn := h.Admin("POST", "/api/connections", map[string]any{
		"code": "wa-main", "channel": "WHATSAPP", "sender": o.DisplayPhoneNumber,
		"provider": map[string]any{"phoneNumberId": o.PhoneNumberID, "accessToken": o.AccessToken, "appSecret": o.AppSecret,
			"verifyToken": waVerifyToken, "baseUrl": wa.URL()},
	})
	if conn.Status != http.StatusCreated {
		t.Fatalf("create connection: %d %s", conn.Status, conn.Body)
	}
	for _, secret := range []string{o.AccessToken, o.AppSecret, waVerifyToken} {
		if strings.Contains(string(conn.Body), secret) {
			t.Fatalf("a secret is in the connection's answer: %s", conn.Body)
		}
	}
	in := h.CreateIntegration(map[string]any{"name": "whatsapp desk", "kind": "custom", "outboundUrl": rc.URL + "/hook", "connections": []string{"wa-main"}})
	if r := h.Admin("POST", "/api/integrations/"+in.ID+"/start", nil); r.Status != http.StatusOK {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	c := &waChannel{hub: h, wa: wa, rc: rc, in: in, conn: conn.Map(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ok, err := wa.Subscribe(ctx, c.inboundURL(), "not-the-token"); err != nil || ok {
		t.Fatalf("the handshake with a wrong verify token succeeded (%v, %v)", ok, err)
	}
	if ok, err := wa.Subscribe(ctx, c.inboundURL(), waVerifyToken); err != nil || !ok {
		t.Fatalf("the handshake failed: %v, %v", ok, err)
	}
	wa.SetWebhook(c.inboundURL())
	return c
}

func (c *waChannel) inboundURL() string { return c.conn["inboundUrl"].(string) }

func (c *waChannel) respond(chat string, body any) *apptest.Response {
	return c.hub.Do("POST", "/integrations/live-chat/"+c.in.ID+"/chats/"+chat+"/events",
		map[string]string{"Authorization": "Bearer " + c.in.ResponseToken}, body)
}

// waMessage builds a signed-ready webhook body with one text message.
func waMessage(o fakeprovider.CloudAPIOptions, from, id, text string, at time.Time) []byte {
	body := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": o.WABAID, "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]any{"display_phone_number": o.DisplayPhoneNumber, "phone_number_id": o.PhoneNumberID},
			"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Old Friend"}, "wa_id": from}},
			"messages": []any{map[string]any{"from": from, "id": id, "timestamp": fmt.Sprint(at.Unix()),
				"type": "text", "text": map[string]any{"body": text}}},
		}}}}},
	}
	b, _ := json.Marshal(body)
	return b
}

// TestWhatsAppChannelEndToEnd: the webhook handshake, a signed text and a
// media message with its caption open a chat and reach the client's
// webhook; the response API answers in the chat through the fake Cloud
// API; status webhooks mark the reply delivered; a provider 500 is retried
// and the reply sent once; outside the 24-hour window the answer is 409.
func TestWhatsAppChannelEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startWAChannel(t, dbURL)
		o := c.wa.Options()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()

		if st, err := c.wa.SendInboundText(ctx, waContact, "Ana", "Hola, ¿tienen envío?"); err != nil || st != http.StatusOK {
			t.Fatalf("inbound text: %d %v", st, err)
		}
		got := c.rc.WaitFor(t, 1, 10*time.Second)
		var body map[string]any
		json.Unmarshal(got[0].Body, &body)
		for k, want := range map[string]any{"chatId": waContact, "contact": waContact, "event": "MESSAGE",
			"text": "Hola, ¿tienen envío?", "sender": o.DisplayPhoneNumber, "channel": "WHATSAPP"} {
			if body[k] != want {
				t.Errorf("webhook body %s = %v, want %v (%s)", k, body[k], want, got[0].Body)
			}
		}

		c.wa.AddMedia("media-77", "image/jpeg", []byte("\xff\xd8\xff fake jpeg"))
		if st, err := c.wa.SendInboundMedia(ctx, waContact, "Ana", "media-77", "image/jpeg", "the parcel label"); err != nil || st != http.StatusOK {
			t.Fatalf("inbound media: %d %v", st, err)
		}
		got = c.rc.WaitFor(t, 2, 10*time.Second)
		json.Unmarshal(got[1].Body, &body)
		mm, _ := body["multimedia"].(map[string]any)
		if mm == nil || !strings.HasPrefix(fmt.Sprint(mm["url"]), c.wa.URL()) || mm["caption"] != "the parcel label" {
			t.Errorf("media message delivered as %s", got[1].Body)
		}

		var convs struct {
			Conversations []struct{ ID, ExternalID string }
		}
		c.hub.Admin("GET", "/api/conversations?integrationId="+c.in.ID, nil).JSON(t, &convs)
		if len(convs.Conversations) != 1 || convs.Conversations[0].ExternalID != waContact {
			t.Fatalf("both messages belong to one chat: %+v", convs)
		}
		conv := convs.Conversations[0].ID

		r := c.respond(waContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "WHATSAPP", "sender": o.DisplayPhoneNumber}, "msg": "Sí, enviamos hoy."})
		if r.Status != http.StatusAccepted {
			t.Fatalf("response API: %d %s", r.Status, r.Body)
		}
		id := r.Map(t)["id"]
		sent, err := c.wa.WaitMessages(ctx, 1)
		if err != nil {
			t.Fatalf("the provider never got the reply: %v", err)
		}
		if sent[0].To != waContact || sent[0].Text != "Sí, enviamos hoy." || sent[0].Authorization != "Bearer "+o.AccessToken {
			t.Errorf("provider got %+v", sent[0])
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			var msgs struct{ Messages []messageView }
			c.hub.Admin("GET", "/api/conversations/"+conv+"/messages", nil).JSON(t, &msgs)
			for _, m := range msgs.Messages {
				if m.ID == id {
					if m.Status != "delivered" || m.ExternalID != sent[0].ID {
						return fmt.Errorf("reply is %s (%q), want delivered with %s", m.Status, m.ExternalID, sent[0].ID)
					}
					return nil
				}
			}
			return fmt.Errorf("reply not listed")
		})

		c.wa.FailNext(http.StatusInternalServerError, 1)
		if r := c.respond(waContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "WHATSAPP", "sender": o.DisplayPhoneNumber}, "msg": "again"}); r.Status != http.StatusAccepted {
			t.Fatalf("response API: %d %s", r.Status, r.Body)
		}
		if _, err := c.wa.WaitMessages(ctx, 2); err != nil {
			t.Fatalf("the retried reply never arrived: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(c.wa.Messages()); n != 2 {
			t.Errorf("provider holds %d messages, want the retried one once", n)
		}

		// A contact whose last message is 25 hours old: the window is closed.
		old := waMessage(o, "15550009999", "wamid.old-1", "from yesterday", time.Now().Add(-25*time.Hour))
		if st, err := c.wa.PostWebhook(ctx, old); err != nil || st != http.StatusOK {
			t.Fatalf("old message: %d %v", st, err)
		}
		c.rc.WaitFor(t, 3, 10*time.Second)
		r = c.respond("15550009999", map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "WHATSAPP", "sender": o.DisplayPhoneNumber}, "msg": "too late"})
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "window") {
			t.Errorf("outside the 24-hour window: %d %s, want 409 saying the window is closed", r.Status, r.Body)
		}
		var oldConvs struct {
			Conversations []struct{ ID, ExternalID string }
		}
		c.hub.Admin("GET", "/api/conversations?integrationId="+c.in.ID, nil).JSON(t, &oldConvs)
		for _, cv := range oldConvs.Conversations {
			if cv.ExternalID != "15550009999" {
				continue
			}
			r := c.hub.Admin("POST", "/api/conversations/"+cv.ID+"/messages", map[string]any{"content": "agent, too late"})
			if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "window") {
				t.Errorf("an agent's reply outside the window: %d %s, want 409", r.Status, r.Body)
			}
		}
		if n := len(c.wa.Messages()); n != 2 {
			t.Errorf("a message outside the window reached the provider")
		}
		// The contact writes again: the window opens.
		if st, err := c.wa.PostWebhook(ctx, waMessage(o, "15550009999", "wamid.new-1", "still there?", time.Now())); err != nil || st != http.StatusOK {
			t.Fatalf("new message: %d %v", st, err)
		}
		c.rc.WaitFor(t, 4, 10*time.Second)
		if r := c.respond("15550009999", map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "WHATSAPP", "sender": o.DisplayPhoneNumber}, "msg": "yes"}); r.Status != http.StatusAccepted {
			t.Errorf("inside the window again: %d %s", r.Status, r.Body)
		}

		// A permanent refusal fails the message with the provider's reason.
		if _, err := c.wa.WaitMessages(ctx, 3); err != nil {
			t.Fatalf("the reply inside the window never arrived: %v", err)
		}
		c.wa.FailNext(http.StatusBadRequest, 1)
		r = c.respond(waContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "WHATSAPP", "sender": o.DisplayPhoneNumber}, "msg": "refused"})
		if r.Status != http.StatusAccepted {
			t.Fatalf("response API: %d %s", r.Status, r.Body)
		}
		refused := r.Map(t)["id"]
		apptest.Eventually(t, 10*time.Second, func() error {
			var msgs struct{ Messages []messageView }
			c.hub.Admin("GET", "/api/conversations/"+conv+"/messages", nil).JSON(t, &msgs)
			for _, m := range msgs.Messages {
				if m.ID == refused {
					if m.Status != "failed" || !strings.Contains(m.Error, "400") {
						return fmt.Errorf("refused message is %s (%q), want failed with the provider's reason", m.Status, m.Error)
					}
					if strings.Contains(m.Error, o.AccessToken) {
						t.Errorf("the reason holds the access token: %s", m.Error)
					}
					return nil
				}
			}
			return fmt.Errorf("not listed")
		})
	})
}

// TestWhatsAppChannelRefusals: forged posts and a wrong sender.
func TestWhatsAppChannelRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startWAChannel(t, dbURL)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		o := c.wa.Options()
		forger := fakeprovider.NewCloudAPI(fakeprovider.CloudAPIOptions{PhoneNumberID: o.PhoneNumberID, DisplayPhoneNumber: o.DisplayPhoneNumber, AppSecret: "guessed-secret"})
		forger.SetWebhook(c.inboundURL())
		if _, err := forger.SendInboundText(ctx, waContact, "Mallory", "forged"); err != nil {
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
		var convs struct{ Conversations []struct{ ID string } }
		c.hub.Admin("GET", "/api/conversations", nil).JSON(t, &convs)
		if len(convs.Conversations) != 0 {
			t.Fatalf("a forged message was stored: %+v", convs)
		}
		if st, err := c.wa.SendInboundText(ctx, waContact, "Ana", "real"); err != nil || st != http.StatusOK {
			t.Fatalf("inbound: %d %v", st, err)
		}
		c.rc.WaitFor(t, 1, 10*time.Second)
		if r := c.respond(waContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "WHATSAPP", "sender": "15559990000"}, "msg": "x"}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("a sender not on the integration: %d %s, want 422", r.Status, r.Body)
		}
		if r := c.respond(waContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "wa-main"}, "msg": "x"}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("the WhatsApp connection named as SMS: %d %s, want 422", r.Status, r.Body)
		}
		if n := len(c.wa.Messages()); n != 0 {
			t.Errorf("refused responses reached the provider: %d", n)
		}
	})
}
