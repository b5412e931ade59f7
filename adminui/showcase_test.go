package adminui_test

import (
	"context"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/browsertest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
)

// showcase is a workspace after some use, for the pages' pictures and for
// visiting every page with data in it: SMS and WhatsApp numbers on fake
// providers, integrations active, partly active and on the website chat,
// conversations on each channel with replies, deliveries that succeeded
// at once, after a retry and never, and events of each kind.
type showcase struct {
	h                            *apptest.Hub
	support, shop, partner, chat apptest.Integration
	smsThread, shopThread        string // conversation ids
	retried, dead                string // delivery ids
	subscription                 string
}

// Users of the showcase; their passwords are what NewUser made.
const (
	showOwner = "maya@example.com"
	showAdmin = "sam@example.com"
	showAgent = "alex@example.com"
)

func newShowcase(t *testing.T) *showcase {
	t.Helper()
	h := apptest.Start(t, storetest.SQLite(t))
	s := &showcase{h: h}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tw := fakeprovider.NewTwilio(fakeprovider.TwilioOptions{Callbacks: true, CallbackDelay: 10 * time.Millisecond})
	if err := tw.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tw.Close() })
	wa := fakeprovider.NewCloudAPI(fakeprovider.CloudAPIOptions{StatusDelay: 20 * time.Millisecond})
	if err := wa.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wa.Close() })

	inbound := map[string]string{}
	connection := func(body map[string]any) {
		t.Helper()
		r := h.Admin("POST", "/api/connections", body)
		if r.Status != http.StatusCreated {
			t.Fatalf("connection %v: %d %s", body["code"], r.Status, r.Body)
		}
		inbound[body["code"].(string)] = r.Map(t)["inboundUrl"].(string)
	}
	twilio := map[string]any{"accountSid": tw.AccountSID(), "authToken": tw.AuthToken(), "baseUrl": tw.URL()}
	connection(map[string]any{"code": "sms-support", "channel": "SMS", "sender": "+15550100100", "provider": twilio})
	connection(map[string]any{"code": "sms-sales", "channel": "SMS", "sender": "+15550100200", "provider": twilio})
	connection(map[string]any{"code": "sms-partners", "channel": "SMS", "sender": "+15550100300", "provider": twilio})
	o := wa.Options()
	connection(map[string]any{"code": "wa-support", "channel": "WHATSAPP", "sender": o.DisplayPhoneNumber,
		"provider": map[string]any{"phoneNumberId": o.PhoneNumberID, "accessToken": o.AccessToken, "appSecret": o.AppSecret,
			"verifyToken": "showcase-verify", "baseUrl": wa.URL()}})

	crm := apptest.NewReceiver(t)
	// The shop's endpoint is down for the first reply's first attempt, and
	// its refunds service never answers well.
	shopHook := apptest.NewReceiver(t)
	shopHook.Respond = func(n int, r *apptest.Received) apptest.Reply {
		switch {
		case strings.Contains(string(r.Body), "refund"):
			return apptest.Reply{Status: 500, Header: map[string]string{"Content-Type": "application/json"}, Body: `{"error":"refunds service unavailable"}`}
		case n == 1:
			return apptest.Reply{Status: 503, Body: "Service Unavailable"}
		}
		return apptest.Reply{Status: 200}
	}

	start := func(in apptest.Integration) {
		t.Helper()
		if r := h.Admin("POST", "/api/integrations/"+in.ID+"/start", nil); r.Status != http.StatusOK {
			t.Fatalf("start %s: %d %s", in.Name, r.Status, r.Body)
		}
	}
	s.support = h.CreateIntegration(map[string]any{"name": "Support desk", "kind": "custom", "connections": []string{"sms-support", "wa-support"},
		"delivery": map[string]any{"method": "POST", "url": crm.URL + "/switchboard/messages",
			"auth":    map[string]any{"type": "bearer", "token": "crm-token-123"},
			"headers": []map[string]any{{"key": "X-Source", "type": "text", "value": "switchboard"}}}})
	start(s.support)
	sales := h.CreateIntegration(map[string]any{"name": "Sales line", "kind": "custom", "connections": []string{"sms-sales"}, "outboundUrl": crm.URL + "/sales"})
	start(sales)
	s.partner = h.CreateIntegration(map[string]any{"name": "Partner referrals", "kind": "custom", "connections": []string{"sms-partners", "sms-sales"},
		"outboundUrl": crm.URL + "/partners"})
	start(s.partner) // sms-sales is Sales line's: a partial start
	s.shop = h.CreateIntegration(map[string]any{"name": "Web shop", "kind": "custom", "outboundUrl": shopHook.URL + "/hooks/switchboard"})
	s.chat = h.CreateIntegration(map[string]any{"name": "Website chat", "kind": "webchat"})

	// Contacts write: by SMS and WhatsApp to the support desk, through the
	// web shop's app.
	for _, text := range []string{"Hi, my order #1042 hasn't arrived yet. Can you check?", "It was due on Monday."} {
		if _, err := tw.SendInbound(ctx, inbound["sms-support"], fakeprovider.TwilioInbound{From: "+15557654321", To: "+15550100100", Body: text}); err != nil {
			t.Fatal(err)
		}
	}
	wa.SetWebhook(inbound["wa-support"])
	if code, err := wa.SendInboundText(ctx, "34600111222", "María López", "Hola, ¿hacéis envíos a Madrid?"); err != nil || code != http.StatusOK {
		t.Fatalf("WhatsApp inbound: %d %v", code, err)
	}
	shopMessage := func(thread, id, name, subject, content string) {
		t.Helper()
		body := map[string]any{"messageId": id, "conversationId": thread, "content": content, "subject": subject,
			"from": map[string]any{"externalId": "user-" + thread, "name": name, "email": strings.ToLower(strings.Fields(name)[0]) + "@example.org"}}
		if r := h.PostCustom(s.shop.ID, s.shop.APIKey, body); r.Status != http.StatusOK {
			t.Fatalf("shop message %s: %d %s", id, r.Status, r.Body)
		}
	}
	shopMessage("order-1042", "m1", "Jane Cooper", "Order 1042: delivery date", "Hello! When will order 1042 be delivered?")
	shopMessage("order-1042", "m2", "Jane Cooper", "", "I need it before Friday, it's a gift.")
	shopMessage("order-0977", "m3", "Ravi Patel", "Refund for a damaged lamp", "The lamp arrived broken. I'd like a refund, please.")
	shopMessage("order-1100", "m4", "Lena Fischer", "Gift wrapping", "Do you offer gift wrapping?")
	h.PostCustom(s.shop.ID, "sbk_not-the-key", map[string]any{"messageId": "m5"})                   // signature_failure
	h.PostCustom(s.shop.ID, s.shop.APIKey, map[string]any{"conversationId": "x", "content": "?"})   // routing_error
	shopMessage("order-1100", "m4", "Lena Fischer", "Gift wrapping", "Do you offer gift wrapping?") // a duplicate: skip

	// Agents answer.
	conversation := func(external string) string {
		t.Helper()
		var id string
		apptest.Eventually(t, 10*time.Second, func() error {
			var list struct{ Conversations []apiConversation }
			h.Admin("GET", "/api/conversations?limit=100", nil).JSON(t, &list)
			for _, c := range list.Conversations {
				if c.ExternalID == external {
					id = c.ID
					return nil
				}
			}
			return fmt.Errorf("no conversation %s yet", external)
		})
		return id
	}
	reply := func(conv, content string) {
		t.Helper()
		if r := h.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": content}); r.Status != http.StatusCreated {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
	}
	s.smsThread = conversation("+15557654321")
	reply(s.smsThread, "Hi! Your parcel left our warehouse this morning and should reach you tomorrow.")
	s.shopThread = conversation("order-1042")
	reply(s.shopThread, "Hi Jane, it ships today and arrives on Thursday.")
	shopHook.WaitFor(t, 2, 10*time.Second) // the 503, then the retry
	reply(conversation("order-0977"), "Sorry about that! Your refund is on its way.")

	// The rest of the workspace.
	h.NewUser(showAdmin, domain.RoleAdmin)
	h.NewUser(showAgent, domain.RoleAgent)
	for _, team := range []string{"Billing", "Tier 2 support"} {
		h.Admin("POST", "/api/teams", map[string]any{"name": team})
	}
	sub := h.Admin("POST", "/api/webhooks/", map[string]any{"url": crm.URL + "/events", "subscribedEvents": []string{"messages", "transfers"}})
	if sub.Status != http.StatusCreated {
		t.Fatalf("subscription: %d %s", sub.Status, sub.Body)
	}
	s.subscription = sub.Map(t)["id"].(string)
	h.Admin("POST", "/api/campaigns", map[string]any{"name": "Spring sale keywords", "type": "keyword", "senders": []string{"+15550100300"}})
	h.Admin("POST", "/api/auto-replies", map[string]any{"connection": "sms-partners", "message": "Thanks! A partner manager will text you back within one business day.", "active": false})

	// Wait for the deliveries to settle: one retried to success, one dead
	// after its last attempt, the SMS reply delivered by the provider.
	apptest.Eventually(t, 20*time.Second, func() error {
		var list struct {
			Deliveries []struct{ ID, Status string }
		}
		h.Admin("GET", "/api/deliveries?integrationId="+s.shop.ID, nil).JSON(t, &list)
		s.retried, s.dead = "", ""
		for _, d := range list.Deliveries {
			switch d.Status {
			case domain.DeliverySucceeded:
				s.retried = d.ID
			case domain.DeliveryDead:
				s.dead = d.ID
			}
		}
		if s.retried == "" || s.dead == "" {
			return fmt.Errorf("the shop's deliveries: %+v", list.Deliveries)
		}
		for _, m := range messagesOf(t, h, s.smsThread) {
			if m.Direction == "outbound" && m.Status != "delivered" {
				return fmt.Errorf("the SMS reply is %s", m.Status)
			}
		}
		return nil
	})
	return s
}

// logInAs logs the browser in as one of the showcase's users.
func (s *showcase) logInAs(t *testing.T, b *browsertest.Browser, email, role string) {
	t.Helper()
	logIn(t, s.h, b, email, role)
}

// TestBrowserPagesLoadOnlyFromTheHub: every page of the UI, with data in
// it, loads its scripts, styles and images from the hub itself and nothing
// from anywhere else (the browser could not reach it anyway: the test would
// fail on the failed request), and reports no problem.
func TestBrowserPagesLoadOnlyFromTheHub(t *testing.T) {
	s := newShowcase(t)
	b := browsertest.New(t)
	b.Go(s.h.URL + "/login")
	checkOrigins(t, b, s.h.URL, "/login")
	s.logInAs(t, b, showOwner, domain.RoleOwner)
	pages := []string{
		"/integrations", "/integrations/new", "/integrations/" + s.support.ID, "/integrations/" + s.support.ID + "/edit",
		"/integrations/" + s.support.ID + "/events", "/integrations/" + s.shop.ID + "/events", "/integrations/" + s.support.ID + "/api",
		"/integrations/" + s.support.ID + "/transform", "/integrations/" + s.chat.ID, "/integrations/" + s.chat.ID + "/api",
		"/conversations", "/conversations/" + s.smsThread, "/conversations/" + s.shopThread,
		"/deliveries", "/deliveries/" + s.retried, "/deliveries/" + s.dead,
		"/subscriptions", "/subscriptions/new", "/subscriptions/" + s.subscription + "/edit",
		"/connections", "/connections/new", "/campaigns", "/teams", "/tokens", "/users", "/plugins",
	}
	for _, p := range pages {
		b.Go(s.h.URL + p)
		b.WaitVisible("main h1")
		checkOrigins(t, b, s.h.URL, p)
	}
}

// checkOrigins fails the test unless everything the page loaded, and every
// address it names to load, is on the hub (or an inline data: URL).
func checkOrigins(t *testing.T, b *browsertest.Browser, hub, page string) {
	t.Helper()
	var urls []string
	b.Eval(`[...performance.getEntriesByType("resource").map(e => e.name),
		...[...document.querySelectorAll("script[src], img[src], iframe[src], source[src], audio[src], video[src], embed[src]")].map(e => e.src),
		...[...document.querySelectorAll("link[href]")].map(e => e.href),
		...[...document.querySelectorAll("object[data]")].map(e => e.data),
		...[...document.querySelectorAll("form[action]")].map(e => e.action)]`, &urls)
	if len(urls) == 0 {
		t.Errorf("%s loads nothing: not even its stylesheet?", page)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, hub+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("%s loads or posts to %s, outside the hub", page, u)
		}
	}
}

// TestScreenshots takes the pictures of docs/images/, 1280×800, from the
// showcase: SWITCHBOARD_SCREENSHOTS=DIR (make screenshots) writes them
// there. Without it they go to the test's artifact directory (kept with go
// test -artifacts), so the test runs in make test too and cannot rot.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("SWITCHBOARD_SCREENSHOTS")
	if dir == "" {
		dir = t.ArtifactDir()
	}
	s := newShowcase(t)
	b := browsertest.New(t)
	shoot := func(name string) {
		t.Helper()
		// No caret blinking in a focused field, no hover: a still picture.
		b.Eval(`document.activeElement && document.activeElement.blur(), document.fonts.ready.then(() => true)`, nil)
		path := filepath.Join(dir, name+".png")
		b.ScreenshotWindow(path)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cfg, err := png.DecodeConfig(f)
		st, _ := f.Stat()
		if err != nil || cfg.Width != 1280 || cfg.Height != 800 || st.Size() > 200<<10 {
			t.Errorf("%s: %dx%d, %d bytes (%v); want 1280x800 and at most 200 KB", path, cfg.Width, cfg.Height, st.Size(), err)
		}
	}

	b.Go(s.h.URL + "/login")
	b.Fill(`input[name="email"]`, showOwner)
	shoot("login")
	s.logInAs(t, b, showOwner, domain.RoleOwner)

	b.Go(s.h.URL + "/integrations")
	b.WaitVisible("article.card .conn")
	shoot("integrations")

	// The create form, on the Body tab.
	b.Go(s.h.URL + "/integrations/new")
	b.Fill(`input[name="name"]`, "Billing portal")
	b.Fill(`input[name="delivery.url"]`, "https://billing.example.com/hooks/switchboard")
	b.Click(`[data-tab="body"]`)
	b.Click(`input[name="body.default"]`)
	addRow(b, "body", "reply", "variable", "content")
	addRow(b, "body", "ticket.id", "variable", "conversationId")
	addRow(b, "body", "note", "text", "From <<contact.name>> on <<channel>>")
	b.Eval(`document.querySelector(".tabs").scrollIntoView({block: "center"})`, nil)
	shoot("integration-form")

	// Created: the key, shown once. The target is outside, so delivery
	// goes: the picture needs none.
	b.Fill(`input[name="delivery.url"]`, "")
	b.Click(`.integration-form button[type="submit"].primary`)
	b.WaitVisible("#secret-value-apiKey")
	b.Click(`button[data-copy="secret-value-apiKey"]`)
	b.WaitText(`button[data-copy="secret-value-apiKey"]`, "Copied")
	shoot("integration-created")

	b.Go(s.h.URL + "/integrations/" + s.shop.ID + "/events")
	b.WaitVisible(`tr.event[data-status="routing_error"]`)
	shoot("events")

	b.Go(s.h.URL + "/integrations/" + s.support.ID + "/transform")
	b.Fill("#script", showcaseTransform)
	b.Click("button[data-test]")
	b.WaitText("#transform-result", "The request that would be sent")
	b.Eval(`document.querySelector(".transform-grid").scrollIntoView()`, nil)
	shoot("transform")

	b.Go(s.h.URL + "/conversations/" + s.smsThread)
	b.WaitVisible("#messages .message.outbound")
	shoot("conversations")

	b.Go(s.h.URL + "/deliveries")
	b.WaitVisible(`tr.delivery[data-status="dead"]`)
	shoot("deliveries")
	b.Go(s.h.URL + "/deliveries/" + s.dead)
	b.WaitVisible("#attempt-3")
	shoot("delivery-attempts")

	b.Go(s.h.URL + "/plugins")
	b.WaitVisible(`#plugin-health[data-healthy="true"]`)
	shoot("plugins")
}

// showcaseTransform is the script the transform picture tests.
const showcaseTransform = `// Shape each delivery for the CRM's ticket API.
function transform(request, event) {
  if (event.event !== "MESSAGE") return null;
  request.body = {
    ticket: event.chatId,
    channel: event.channel,
    text: event.text,
  };
  request.headers["X-Priority"] = /urgent|asap/i.test(event.text) ? "high" : "normal";
  console.log("ticket", event.chatId, "on", event.channel);
  return request;
}`
