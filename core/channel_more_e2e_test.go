package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
)

// TestChatInactivityTimeout: a chat with no message for the timeout ends
// by itself, and the integration's target hears END.
func TestChatInactivityTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startSMSChannel(t, dbURL, apptest.WithChatInactivityTimeout(time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := c.tw.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: smsContact, To: smsSender, Body: "hello?"}); err != nil {
			t.Fatal(err)
		}
		got := c.rc.WaitFor(t, 2, 10*time.Second)
		var body map[string]any
		json.Unmarshal(got[1].Body, &body)
		if body["event"] != "END" || body["chatId"] != smsContact {
			t.Fatalf("second delivery = %s, want the chat's END", got[1].Body)
		}
		if at := got[1].At.Sub(got[0].At); at < time.Second {
			t.Errorf("the chat ended %s after its message, before the timeout", at)
		}
		var convs struct{ Conversations []struct{ Status string } }
		c.hub.Admin("GET", "/api/conversations", nil).JSON(t, &convs)
		if len(convs.Conversations) != 1 || convs.Conversations[0].Status != "ended" {
			t.Errorf("conversations: %+v", convs)
		}
	})
}

// TestSMSBehindPublicURL: behind a proxy, Twilio signs the public URL it
// calls, not the hub's own address; the hub checks against --public-url.
func TestSMSBehindPublicURL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		const public = "https://hub.example.com"
		c := startSMSChannel(t, dbURL, apptest.WithPublicURL(public))
		inbound := c.inboundURL()
		if !strings.HasPrefix(inbound, public+"/api/webhooks/sms/") {
			t.Fatalf("inboundUrl = %s, want it under %s", inbound, public)
		}
		local := c.hub.URL + strings.TrimPrefix(inbound, public)
		post := func(signedURL, sid string) {
			form := c.tw.InboundForm(fakeprovider.TwilioInbound{MessageSID: sid, From: smsContact, To: smsSender, Body: "via the proxy"})
			req, _ := http.NewRequest("POST", local, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(fakeprovider.TwilioSignatureHeader, fakeprovider.TwilioSignature(c.tw.AuthToken(), signedURL, form))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		lastEvent := func() string {
			var events struct{ Events []struct{ Status string } }
			c.hub.Admin("GET", "/api/integrations/"+c.in.ID+"/events?limit=1", nil).JSON(t, &events)
			if len(events.Events) == 0 {
				return ""
			}
			return events.Events[0].Status
		}
		post(local, "SM"+strings.Repeat("1", 32))
		if st := lastEvent(); st != "signature_failure" {
			t.Errorf("signed over the hub's own address: %q, want signature_failure", st)
		}
		post(inbound, "SM"+strings.Repeat("2", 32))
		if st := lastEvent(); st != "ok" {
			t.Errorf("signed over the public URL: %q, want ok", st)
		}
		if got := c.rc.WaitFor(t, 1, 10*time.Second); !strings.Contains(string(got[0].Body), "via the proxy") {
			t.Errorf("delivered %s", got[0].Body)
		}
	})
}

// TestProviderBaseURLGuard: a connection's baseUrl is where the hub's
// plugins send credentials: it may not name the hub's own network.
func TestProviderBaseURLGuard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL, apptest.WithoutPrivateTargets())
		for _, base := range []string{"http://127.0.0.1:9", "http://169.254.169.254/latest", "http://[::1]/", "http://10.0.0.8", "http://localhost:8080", "ftp://example.com",
			"https://u:t0k3n-value@example.com", "https://example.com/?t0k3n-value", "https://example.com/#frag"} {
			r := h.Admin("POST", "/api/connections", map[string]any{
				"code": "c-" + fmt.Sprint(len(base)), "channel": "SMS", "sender": "15550001111",
				"provider": map[string]any{"accountSid": "AC" + strings.Repeat("a", 32), "authToken": "t0k3n-value", "baseUrl": base},
			})
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "provider.baseUrl") {
				t.Errorf("baseUrl %s: %d %s, want 422 naming provider.baseUrl", base, r.Status, r.Body)
			}
			if strings.Contains(string(r.Body), "t0k3n-value") {
				t.Errorf("the refusal repeats the token: %s", r.Body)
			}
		}
		for name, provider := range map[string]any{
			"missing":       nil,
			"not an object": "AC123",
			"unknown field": map[string]any{"accountSid": "AC" + strings.Repeat("a", 32), "authToken": "t", "region": "x"},
			"no token":      map[string]any{"accountSid": "AC" + strings.Repeat("a", 32)},
		} {
			body := map[string]any{"code": "bad", "channel": "SMS", "sender": "15550001111"}
			if provider != nil {
				body["provider"] = provider
			}
			if r := h.Admin("POST", "/api/connections", body); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("provider %s: %d %s, want 422", name, r.Status, r.Body)
			}
		}
		for name, body := range map[string]map[string]any{
			"unknown channel": {"code": "x", "channel": "PIGEON", "sender": "1"},
			"bad code":        {"code": "has space", "channel": "SMS", "sender": "1"},
			"NUL in sender":   {"code": "x", "channel": "SMS", "sender": "1\x002"},
			"long sender":     {"code": "x", "channel": "SMS", "sender": strings.Repeat("1", 40)},
			"LF in token": {"code": "x", "channel": "SMS", "sender": "1", "provider": map[string]any{
				"accountSid": "AC" + strings.Repeat("a", 32), "authToken": "t\nX-Injected: 1"}},
		} {
			if body["provider"] == nil {
				body["provider"] = map[string]any{"accountSid": "AC" + strings.Repeat("a", 32), "authToken": "t"}
			}
			if r := h.Admin("POST", "/api/connections", body); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %s, want 422", name, r.Status, r.Body)
			}
		}
		ok := map[string]any{"code": "dup", "channel": "sms", "sender": "+1 555 000 1111",
			"provider": map[string]any{"accountSid": "AC" + strings.Repeat("a", 32), "authToken": "t"}}
		if r := h.Admin("POST", "/api/connections", ok); r.Status != http.StatusCreated || r.Map(t)["channel"] != "SMS" || r.Map(t)["sender"] != "+15550001111" {
			t.Errorf("a valid connection: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/connections", ok); r.Status != http.StatusConflict {
			t.Errorf("a repeated code: %d %s, want 409", r.Status, r.Body)
		}
	})
}

// TestResponseAPIAnswersChatsOnly: the response API answers in chats on
// connections; an app's thread of the same integration is not one, and a
// kind that serves connections is not an integration's kind.
func TestResponseAPIAnswersChatsOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startSMSChannel(t, dbURL)
		// An app message on the same integration, whose thread id is a phone number.
		r := c.hub.PostCustom(c.in.ID, c.in.APIKey, map[string]any{"messageId": "app-1", "conversationId": "+15550004444",
			"from": map[string]any{"externalId": "+15550004444"}, "content": "from the app"})
		if r.Status != http.StatusOK {
			t.Fatalf("app message: %d", r.Status)
		}
		resp := c.respond("+15550004444", map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS", "connection": "sms-main"}, "msg": "x"})
		if resp.Status != http.StatusNotFound {
			t.Errorf("a response into an app's thread: %d %s, want 404", resp.Status, resp.Body)
		}
		if n := len(c.tw.Messages()); n != 0 {
			t.Errorf("an SMS went to the app's contact")
		}
		if r := c.hub.Admin("POST", "/api/integrations", map[string]any{"name": "x", "kind": "sms"}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("an integration of a connection kind: %d %s, want 422", r.Status, r.Body)
		}
	})
}

// TestAutoReply: an active auto-reply answers a contact who writes to its
// sender while no integration holds it, through the provider; once the
// auto-reply is off, the traffic is a routing error again and nobody answers.
func TestAutoReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startSMSChannel(t, dbURL)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if r := c.hub.Admin("POST", "/api/integrations/"+c.in.ID+"/stop", nil); r.Status != http.StatusOK {
			t.Fatalf("stop: %d %s", r.Status, r.Body)
		}
		ar := c.hub.Admin("POST", "/api/auto-replies", map[string]any{"connection": "sms-main", "message": "We are closed until Monday.", "active": true})
		if ar.Status != http.StatusCreated {
			t.Fatalf("auto-reply: %d %s", ar.Status, ar.Body)
		}
		if _, err := c.tw.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: smsContact, To: smsSender, Body: "open?"}); err != nil {
			t.Fatal(err)
		}
		sent, err := c.tw.WaitMessages(ctx, 1)
		if err != nil {
			t.Fatalf("no auto-reply: %v", err)
		}
		if sent[0].To != smsContact || sent[0].From != smsSender || sent[0].Body != "We are closed until Monday." {
			t.Errorf("auto-reply sent as %+v", sent[0])
		}
		// While it is active, starting the integration cannot take its sender.
		r := c.hub.Admin("POST", "/api/integrations/"+c.in.ID+"/start", nil)
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "auto-reply") {
			t.Errorf("start while an auto-reply holds the sender: %d %s, want 409 naming it", r.Status, r.Body)
		}
		id := ar.Map(t)["id"].(string)
		if r := c.hub.Admin("PATCH", "/api/auto-replies/"+id, map[string]any{"active": false}); r.Status != http.StatusOK || r.Map(t)["active"] != false {
			t.Fatalf("turn off: %d %s", r.Status, r.Body)
		}
		if _, err := c.tw.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: smsContact, To: smsSender, Body: "hello?"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(c.tw.Messages()); n != 1 {
			t.Errorf("an inactive auto-reply answered: %d messages", n)
		}
		if r := c.hub.Admin("POST", "/api/integrations/"+c.in.ID+"/start", nil); r.Status != http.StatusOK {
			t.Errorf("start once the auto-reply is off: %d %s", r.Status, r.Body)
		}
	})
}

// TestAppThreadsCannotTakeChats: an app that names a conversation after a
// contact's number keeps its own thread; the contact's chat and its
// replies stay the contact's.
func TestAppThreadsCannotTakeChats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startSMSChannel(t, dbURL)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r := c.hub.PostCustom(c.in.ID, c.in.APIKey, map[string]any{"messageId": "pre-1", "conversationId": smsContact,
			"from": map[string]any{"externalId": "+15550666666"}, "content": "seed"})
		if r.Status != http.StatusOK {
			t.Fatalf("app message: %d", r.Status)
		}
		if _, err := c.tw.SendInbound(ctx, c.inboundURL(), fakeprovider.TwilioInbound{From: smsContact, To: smsSender, Body: "my code please"}); err != nil {
			t.Fatal(err)
		}
		c.rc.WaitFor(t, 1, 10*time.Second)
		if r := c.respond(smsContact, map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS"}, "msg": "Your code is 987654"}); r.Status != http.StatusAccepted {
			t.Fatalf("response: %d %s", r.Status, r.Body)
		}
		sent, err := c.tw.WaitMessages(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if sent[0].To != smsContact {
			t.Errorf("the reply went to %s, not to the contact who wrote (%s)", sent[0].To, smsContact)
		}
		var convs struct {
			Conversations []struct{ ID, ExternalID, Channel string }
		}
		c.hub.Admin("GET", "/api/conversations?integrationId="+c.in.ID, nil).JSON(t, &convs)
		if len(convs.Conversations) != 2 {
			t.Errorf("the app's thread and the chat are one conversation: %+v", convs)
		}
	})
}

// TestProviderRepeatingIDs: a provider that gives two messages one id
// cannot make recording the second send fail, nor make the hub send it
// again and again.
func TestProviderRepeatingIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		var posts atomic.Int64
		sid := "AC" + strings.Repeat("a", 32)
		prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			posts.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"sid":"SM%s","status":"queued"}`, strings.Repeat("0", 32))
		}))
		defer prov.Close()
		token := "same-id-token"
		if r := h.Admin("POST", "/api/connections", map[string]any{"code": "same", "channel": "SMS", "sender": smsSender,
			"provider": map[string]any{"accountSid": sid, "authToken": token, "baseUrl": prov.URL}}); r.Status != http.StatusCreated {
			t.Fatalf("connection: %d %s", r.Status, r.Body)
		}
		var conns struct {
			Connections []struct{ ID, InboundURL string }
		}
		h.Admin("GET", "/api/connections", nil).JSON(t, &conns)
		in := h.CreateIntegration(map[string]any{"name": "x", "kind": "custom", "connections": []string{"same"}})
		if r := h.Admin("POST", "/api/integrations/"+in.ID+"/start", nil); r.Status != http.StatusOK {
			t.Fatalf("start: %d", r.Status)
		}
		tw := fakeprovider.NewTwilio(fakeprovider.TwilioOptions{AccountSID: sid, AuthToken: token})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for _, from := range []string{"+15550000011", "+15550000022"} {
			if _, err := tw.SendInbound(ctx, conns.Connections[0].InboundURL, fakeprovider.TwilioInbound{From: from, To: smsSender, Body: "hi"}); err != nil {
				t.Fatal(err)
			}
			r := h.Do("POST", "/integrations/live-chat/"+in.ID+"/chats/"+from+"/events", map[string]string{"Authorization": "Bearer " + in.ResponseToken},
				map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "SMS"}, "msg": "hello " + from})
			if r.Status != http.StatusAccepted {
				t.Fatalf("response: %d %s", r.Status, r.Body)
			}
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			var dels struct {
				Deliveries []struct{ EventType, Status string }
			}
			h.Admin("GET", "/api/deliveries?integrationId="+in.ID, nil).JSON(t, &dels)
			n := 0
			for _, d := range dels.Deliveries {
				if d.EventType == "message.send" && d.Status == "succeeded" {
					n++
				}
			}
			if n != 2 {
				return fmt.Errorf("%d provider deliveries succeeded: %+v", n, dels.Deliveries)
			}
			return nil
		})
		time.Sleep(500 * time.Millisecond)
		if n := posts.Load(); n != 2 {
			t.Errorf("the provider got %d posts, want 2", n)
		}
	})
}

// TestOneSenderTwoConnections: two connections of one sender listed by one
// integration are both active and both carry the sender's traffic.
func TestOneSenderTwoConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		c := startSMSChannel(t, dbURL)
		second := c.hub.Admin("POST", "/api/connections", map[string]any{
			"code": "sms-second", "channel": "SMS", "sender": smsSender,
			"provider": map[string]any{"accountSid": c.tw.AccountSID(), "authToken": c.tw.AuthToken(), "baseUrl": c.tw.URL()},
		})
		if second.Status != http.StatusCreated {
			t.Fatalf("second connection: %d %s", second.Status, second.Body)
		}
		if r := c.hub.Admin("PATCH", "/api/integrations/"+c.in.ID, map[string]any{"connections": []string{"sms-main", "sms-second"}}); r.Status != http.StatusOK {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		r := c.hub.Admin("POST", "/api/integrations/"+c.in.ID+"/start", nil)
		var v integrationView
		r.JSON(t, &v)
		if stateOf(v, "sms-main").Status != "active" || stateOf(v, "sms-second").Status != "active" {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for i, inbound := range []string{c.inboundURL(), second.Map(t)["inboundUrl"].(string)} {
			if _, err := c.tw.SendInbound(ctx, inbound, fakeprovider.TwilioInbound{From: fmt.Sprintf("+1555000770%d", i), To: smsSender, Body: "via " + inbound}); err != nil {
				t.Fatal(err)
			}
		}
		got := c.rc.WaitFor(t, 2, 10*time.Second)
		if len(got) != 2 {
			t.Fatalf("%d deliveries, want one per connection", len(got))
		}
		// The second connection is in use now: it cannot be deleted.
		if r := c.hub.Admin("DELETE", "/api/connections/"+second.Map(t)["id"].(string), nil); r.Status != http.StatusConflict {
			t.Errorf("delete an active second connection: %d %s, want 409", r.Status, r.Body)
		}
	})
}
