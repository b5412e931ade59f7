package adminui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
)

// postCustom sends a contact's message through the custom webhook.
func postCustom(t *testing.T, h *apptest.Hub, in apptest.Integration, thread, msgID, content string, more map[string]any) {
	t.Helper()
	body := map[string]any{
		"messageId": msgID, "conversationId": thread, "content": content,
		"from": map[string]any{"externalId": "contact-" + thread, "name": "Jane " + thread, "email": strings.ToLower(thread) + "@example.com"},
	}
	for k, v := range more {
		body[k] = v
	}
	if r := h.PostCustom(in.ID, in.APIKey, body); r.Status != http.StatusOK {
		t.Fatalf("inbound %s: %d %s", msgID, r.Status, r.Body)
	}
}

type apiConversation struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId"`
	Status     string `json:"status"`
	TeamID     string `json:"teamId"`
}

// conversationOf is the hub's id of the thread an app calls external.
func conversationOf(t *testing.T, h *apptest.Hub, external string) apiConversation {
	t.Helper()
	var list struct{ Conversations []apiConversation }
	h.Admin("GET", "/api/conversations?limit=500", nil).JSON(t, &list)
	for _, c := range list.Conversations {
		if c.ExternalID == external {
			return c
		}
	}
	t.Fatalf("no conversation %q in %+v", external, list.Conversations)
	return apiConversation{}
}

type apiMessage struct {
	Direction, Content, ContentType, Status string
}

func messagesOf(t *testing.T, h *apptest.Hub, conv string) []apiMessage {
	t.Helper()
	var list struct{ Messages []apiMessage }
	h.Admin("GET", "/api/conversations/"+conv+"/messages", nil).JSON(t, &list)
	return list.Messages
}

// inOrder reports whether each string occurs in body, each after the one before.
func inOrder(body string, parts ...string) bool {
	at := 0
	for _, p := range parts {
		i := strings.Index(body[at:], p)
		if i < 0 {
			return false
		}
		at += i + len(p)
	}
	return true
}

// TestInboxShowsWebhookMessages: messages posted through the custom
// webhook appear in an agent's inbox: threads by newest activity, the open
// thread's messages oldest first, its contact and status, and a filter by
// integration that names integrations and nothing else of them.
func TestInboxShowsWebhookMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		rc := apptest.NewReceiver(t)
		support := h.CreateIntegration(map[string]any{"name": "Support site", "kind": "custom", "outboundUrl": rc.URL + "/private-hook-path"})
		shop := h.CreateIntegration(map[string]any{"name": "Shop", "kind": "custom"})
		postCustom(t, h, support, "A", "a1", "first message", map[string]any{"subject": "Order 1234", "sentAt": "2026-01-02T10:00:00Z"})
		postCustom(t, h, support, "A", "a2", "second message\non two lines", map[string]any{"sentAt": "2026-01-02T10:05:00Z"})
		postCustom(t, h, support, "B", "b1", "hello from B", map[string]any{"sentAt": "2026-01-02T10:10:00Z"})
		postCustom(t, h, shop, "C", "c1", "hello from the shop", map[string]any{"sentAt": "2026-01-02T09:00:00Z"})
		a, b, c := conversationOf(t, h, "A"), conversationOf(t, h, "B"), conversationOf(t, h, "C")

		agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
		if p := agent.Get("/"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="threads"`) {
			t.Fatalf("an agent's home: %d, want the inbox\n%s", p.Status, p.Body)
		}
		p := agent.Get("/conversations")
		if p.Status != http.StatusOK {
			t.Fatalf("inbox: %d\n%s", p.Status, p.Body)
		}
		if !inOrder(p.Body, `id="thread-`+b.ID+`"`, `id="thread-`+a.ID+`"`, `id="thread-`+c.ID+`"`) {
			t.Errorf("threads are not newest activity first:\n%s", p.Body)
		}
		if !strings.Contains(p.Body, `<option value="`+support.ID+`">Support site</option>`) || !strings.Contains(p.Body, `<option value="`+shop.ID+`">Shop</option>`) {
			t.Errorf("the filter does not name both integrations:\n%s", p.Body)
		}
		if !strings.Contains(p.Body, `id="no-thread"`) {
			t.Errorf("no thread is open, yet the page does not say so")
		}

		p = agent.Get("/conversations/" + a.ID)
		if p.Status != http.StatusOK {
			t.Fatalf("thread: %d\n%s", p.Status, p.Body)
		}
		for _, want := range []string{
			`<h2 id="thread-subject">Order 1234</h2>`,
			`id="thread-status">open</span>`,
			`<dd id="contact-name">Jane A</dd>`,
			`<dd id="contact-email">a@example.com</dd>`,
			`<div class="content text">second message` + "\n" + `on two lines</div>`,
			`href="/conversations/` + a.ID + `" aria-current="true"`,
			`id="reply-form"`, `id="end-form"`,
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the thread lacks %s", want)
			}
		}
		if !inOrder(p.Body, `id="messages"`, "first message", "second message") {
			t.Errorf("messages are not oldest first")
		}
		// Nothing of the integration's configuration reaches an agent.
		for _, secret := range []string{support.APIKey, support.ResponseToken, rc.URL, "private-hook-path", "/api/webhooks/custom", "sbk_", "sbr_", "whsec_"} {
			if strings.Contains(p.Body, secret) {
				t.Errorf("the agent's page holds %q", secret)
			}
		}

		p = agent.Get("/conversations/" + a.ID + "?integration=" + shop.ID)
		if !strings.Contains(p.Body, `id="thread-`+c.ID+`"`) || strings.Contains(p.Body, `id="thread-`+b.ID+`"`) {
			t.Errorf("filtered by the shop, the list is wrong:\n%s", p.Body)
		}
		if !strings.Contains(p.Body, `<option value="`+shop.ID+`" selected>Shop</option>`) {
			t.Errorf("the filter does not show its choice")
		}
		if !strings.Contains(p.Body, `href="/conversations/`+c.ID+`?integration=`+shop.ID+`"`) {
			t.Errorf("thread links lose the filter")
		}
		if !strings.Contains(p.Body, `<h2 id="thread-subject">Order 1234</h2>`) {
			t.Errorf("the open thread closes when the list is filtered")
		}
	})
}

// TestInboxReply: an agent's reply is in the conversation and is
// delivered to the integration's target.
func TestInboxReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		rc := apptest.NewReceiver(t)
		in := h.CreateIntegration(map[string]any{"name": "Support site", "kind": "custom", "outboundUrl": rc.URL + "/hook"})
		postCustom(t, h, in, "T1", "m1", "where is my order?", nil)
		conv := conversationOf(t, h, "T1")
		agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
		agent.Get("/conversations/" + conv.ID)

		p := agent.Post("/conversations/"+conv.ID+"/messages?integration="+in.ID, url.Values{"content": {"It ships <today>."}})
		if p.Status != http.StatusSeeOther || p.Location != "/conversations/"+conv.ID+"?integration="+in.ID+"#newest" {
			t.Fatalf("reply: %d to %q\n%s", p.Status, p.Location, p.Body)
		}
		msgs := messagesOf(t, h, conv.ID)
		if len(msgs) != 2 || msgs[0].Direction != "outbound" || msgs[0].Content != "It ships <today>." {
			t.Fatalf("messages after the reply: %+v", msgs)
		}
		got := rc.WaitFor(t, 1, 10*time.Second)
		var delivered map[string]any
		if err := json.Unmarshal(got[0].Body, &delivered); err != nil || delivered["conversationId"] != "T1" || delivered["content"] != "It ships <today>." {
			t.Errorf("delivered %s (%v)", got[0].Body, err)
		}
		p = agent.Get("/conversations/" + conv.ID)
		if !strings.Contains(p.Body, `<div class="content text">It ships &lt;today&gt;.</div>`) {
			t.Errorf("the reply is not shown, escaped:\n%s", p.Body)
		}
		if !inOrder(p.Body, "where is my order?", "It ships") {
			t.Errorf("the reply is not after the message it answers")
		}
	})
}

// TestInboxRefusalsShowAsNotices: a reply the API refuses (an empty one,
// one to an ended conversation) shows the reason on the thread, the
// reply kept to send again.
func TestInboxRefusalsShowAsNotices(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "Support site", "kind": "custom"})
	postCustom(t, h, in, "T1", "m1", "hello", nil)
	conv := conversationOf(t, h, "T1")
	agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))

	p := agent.Post("/conversations/"+conv.ID+"/messages", url.Values{"content": {"   "}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="notice">The reply was not sent: content is required.</div>`) {
		t.Errorf("an empty reply: %d\n%s", p.Status, p.Body)
	}
	long := strings.Repeat("<long> ", 10<<10)
	p = agent.Post("/conversations/"+conv.ID+"/messages", url.Values{"content": {long}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="notice">The reply was not sent: content is longer than 64 KiB.</div>`) ||
		!strings.Contains(p.Body, `name="content" rows="3" required>`+strings.Repeat("&lt;long&gt; ", 10<<10)+`</textarea>`) {
		t.Errorf("a reply too long: %d, want the notice and the reply kept to edit", p.Status)
	}
	if r := h.Admin("POST", "/api/conversations/"+conv.ID+"/end", nil); r.Status != http.StatusOK {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
	p = agent.Post("/conversations/"+conv.ID+"/messages", url.Values{"content": {"too <late>"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `role="alert" id="notice">The reply was not sent: the conversation has ended.</div>`) {
		t.Errorf("a reply to an ended conversation: %d\n%s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, `<blockquote class="draft" id="unsent-reply">too &lt;late&gt;</blockquote>`) {
		t.Errorf("the refused reply is lost")
	}
	if len(messagesOf(t, h, conv.ID)) != 1 {
		t.Errorf("a refused reply was stored")
	}
}

// TestInboxWhatsAppWindow: a reply the API refuses because WhatsApp's
// 24-hour window is closed shows why, the reply kept in its box; the
// agent's page holds nothing of the connection's settings.
func TestInboxWhatsAppWindow(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	wa := fakeprovider.NewCloudAPI(fakeprovider.CloudAPIOptions{})
	if err := wa.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wa.Close() })
	o := wa.Options()
	conn := h.Admin("POST", "/api/connections", map[string]any{
		"code": "wa-main", "channel": "WHATSAPP", "sender": o.DisplayPhoneNumber,
		"provider": map[string]any{"phoneNumberId": o.PhoneNumberID, "accessToken": o.AccessToken, "appSecret": o.AppSecret,
			"verifyToken": "verify-me-5b1e", "baseUrl": wa.URL()},
	})
	if conn.Status != http.StatusCreated {
		t.Fatalf("connection: %d %s", conn.Status, conn.Body)
	}
	in := h.CreateIntegration(map[string]any{"name": "WhatsApp desk", "kind": "custom", "connections": []string{"wa-main"}})
	if r := h.Admin("POST", "/api/integrations/"+in.ID+"/start", nil); r.Status != http.StatusOK {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	wa.SetWebhook(conn.Map(t)["inboundUrl"].(string))
	old := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": o.WABAID, "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]any{"display_phone_number": o.DisplayPhoneNumber, "phone_number_id": o.PhoneNumberID},
			"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Old Friend"}, "wa_id": "15550009999"}},
			"messages": []any{map[string]any{"from": "15550009999", "id": "wamid.old-1", "type": "text", "text": map[string]any{"body": "from yesterday"},
				"timestamp": fmt.Sprint(time.Now().Add(-25 * time.Hour).Unix())}},
		}}}}},
	}
	raw, _ := json.Marshal(old)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if st, err := wa.PostWebhook(ctx, raw); err != nil || st != http.StatusOK {
		t.Fatalf("old message: %d %v", st, err)
	}
	var conv apiConversation
	apptest.Eventually(t, 10*time.Second, func() error {
		var list struct{ Conversations []apiConversation }
		h.Admin("GET", "/api/conversations", nil).JSON(t, &list)
		if len(list.Conversations) != 1 {
			return fmt.Errorf("%d conversations", len(list.Conversations))
		}
		conv = list.Conversations[0]
		return nil
	})
	agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
	p := agent.Get("/conversations/" + conv.ID)
	if !strings.Contains(p.Body, `<dd id="thread-integration">WhatsApp desk · WHATSAPP</dd>`) || !strings.Contains(p.Body, "from yesterday") {
		t.Errorf("the chat is not shown:\n%s", p.Body)
	}
	p = agent.Post("/conversations/"+conv.ID+"/messages", url.Values{"content": {"sorry, <late>"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="notice">The reply was not sent: the WHATSAPP reply window is closed`) ||
		!strings.Contains(p.Body, `required>sorry, &lt;late&gt;</textarea>`) {
		t.Errorf("a reply outside the window: %d\n%s", p.Status, p.Body)
	}
	for _, secret := range []string{o.AccessToken, o.AppSecret, "verify-me-5b1e", wa.URL(), o.PhoneNumberID, in.APIKey, "wa-main"} {
		if strings.Contains(p.Body, secret) {
			t.Errorf("the agent's page holds %q", secret)
		}
	}
	if len(wa.Messages()) != 0 {
		t.Errorf("a reply outside the window reached the provider")
	}
}

// TestInboxTransferAndEnd: an agent transfers a conversation to a team and
// ends it, after a confirmation; an ended one offers neither reply nor end.
func TestInboxTransferAndEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "Support site", "kind": "custom"})
		postCustom(t, h, in, "T1", "m1", "hello", nil)
		conv := conversationOf(t, h, "T1")
		team := h.Admin("POST", "/api/teams", map[string]any{"name": "Billing"}).Map(t)["id"].(string)
		agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))

		p := agent.Get("/conversations/" + conv.ID)
		if !strings.Contains(p.Body, `<option value="`+team+`">Billing</option>`) || !strings.Contains(p.Body, `<dd id="thread-team">none</dd>`) {
			t.Errorf("the transfer form does not offer the team:\n%s", p.Body)
		}
		if !strings.Contains(p.Body, `id="end-form" data-confirm="End the conversation with Jane T1?`) {
			t.Errorf("ending does not ask first")
		}
		p = agent.Post("/conversations/"+conv.ID+"/transfer", url.Values{"teamId": {team}})
		if p.Status != http.StatusSeeOther || p.Location != "/conversations/"+conv.ID+"?done=transferred#newest" {
			t.Fatalf("transfer: %d to %q\n%s", p.Status, p.Location, p.Body)
		}
		if got := conversationOf(t, h, "T1"); got.TeamID != team {
			t.Errorf("after the transfer: %+v", got)
		}
		p = agent.Get(p.Location)
		if !strings.Contains(p.Body, `id="notice">Transferred to Billing.</div>`) || !strings.Contains(p.Body, `<dd id="thread-team">Billing</dd>`) {
			t.Errorf("the transfer is not shown:\n%s", p.Body)
		}
		p = agent.Post("/conversations/"+conv.ID+"/transfer", url.Values{"teamId": {"01a1fe7b-0000-7000-8000-000000000000"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="notice">The conversation was not transferred: teamId: no team`) {
			t.Errorf("a transfer to no team: %d\n%s", p.Status, p.Body)
		}

		p = agent.Post("/conversations/"+conv.ID+"/end", nil)
		if p.Status != http.StatusSeeOther || p.Location != "/conversations/"+conv.ID+"?done=ended#newest" {
			t.Fatalf("end: %d to %q\n%s", p.Status, p.Location, p.Body)
		}
		if got := conversationOf(t, h, "T1"); got.Status != domain.ConversationEnded {
			t.Errorf("after the end: %+v", got)
		}
		p = agent.Get(p.Location)
		if !strings.Contains(p.Body, `id="thread-status">ended</span>`) || !strings.Contains(p.Body, `id="thread-closed"`) {
			t.Errorf("the ended thread does not say so:\n%s", p.Body)
		}
		for _, gone := range []string{`id="reply-form"`, `id="end-form"`, `id="transfer-form"`} {
			if strings.Contains(p.Body, gone) {
				t.Errorf("an ended thread still offers %s", gone)
			}
		}
		p = agent.Post("/conversations/"+conv.ID+"/end", nil)
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="notice">The conversation was not ended: the conversation has already ended.</div>`) {
			t.Errorf("ending twice: %d\n%s", p.Status, p.Body)
		}
	})
}

// TestInboxFragments: the list and the open thread refresh themselves from
// fragments of the page, which show new messages without a reload.
func TestInboxFragments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "Support site", "kind": "custom"})
		postCustom(t, h, in, "T1", "m1", "hello", nil)
		conv := conversationOf(t, h, "T1")
		agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))

		page := agent.Get("/conversations/" + conv.ID + "?integration=" + in.ID)
		for _, want := range []string{
			`data-refresh="/conversations/` + conv.ID + `?fragment=threads&amp;integration=` + in.ID + `" data-every="2000"`,
			`data-refresh="/conversations/` + conv.ID + `?fragment=thread&amp;integration=` + in.ID + `" data-every="2000"`,
			`<script src="/static/inbox.js" defer></script>`,
		} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("the page lacks %s", want)
			}
		}

		threads := agent.Get("/conversations/" + conv.ID + "?fragment=threads&integration=" + in.ID)
		thread := agent.Get("/conversations/" + conv.ID + "?fragment=thread&integration=" + in.ID)
		for name, p := range map[string]*apptest.UIPage{"threads": threads, "thread": thread} {
			if p.Status != http.StatusOK || strings.Contains(p.Body, "<html") || strings.Contains(p.Body, `id="reply-form"`) {
				t.Errorf("fragment %s: %d, want the part alone\n%s", name, p.Status, p.Body)
			}
		}
		if !strings.Contains(threads.Body, `id="thread-`+conv.ID+`"`) || !strings.Contains(thread.Body, `id="messages"`) {
			t.Errorf("fragments lack their content:\n%s\n%s", threads.Body, thread.Body)
		}

		postCustom(t, h, in, "T1", "m2", "a newer message", nil)
		postCustom(t, h, in, "T2", "m3", "another thread", nil)
		t2 := conversationOf(t, h, "T2")
		if p := agent.Get("/conversations/" + conv.ID + "?fragment=thread"); !inOrder(p.Body, "hello", "a newer message") {
			t.Errorf("the thread fragment does not show the new message:\n%s", p.Body)
		}
		if p := agent.Get("/conversations?fragment=threads"); !inOrder(p.Body, `id="thread-`+t2.ID+`"`, `id="thread-`+conv.ID+`"`) {
			t.Errorf("the list fragment does not show the new thread first:\n%s", p.Body)
		}
		if p := agent.Get("/conversations/" + conv.ID + "?fragment=nope"); p.Status != http.StatusNotFound {
			t.Errorf("an unknown fragment: %d", p.Status)
		}
	})
}

// TestInboxHostileContent: markup in messages and in every other value an
// outsider controls is shown as text, or sanitised when the message is
// HTML; nothing of it can run.
func TestInboxHostileContent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": `<img src=x onerror=alert("integration")>`, "kind": "custom"})
		h.Admin("POST", "/api/teams", map[string]any{"name": `<script>alert("team")</script>`})
		hostile := `<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">click</a><p style="position:fixed" onclick="alert(4)">styled</p><b>bold</b>`
		body := map[string]any{
			"messageId": "h1", "conversationId": `"><script>alert("thread")</script>`,
			"from":    map[string]any{"externalId": `<svg onload=alert("id")>`, "name": `<b onmouseover=alert("name")>Eve</b>`, "email": `eve&o'neil@example.com`},
			"subject": `<iframe src="javascript:alert('subject')">`, "content": hostile, "contentType": "text",
		}
		if r := h.PostCustom(in.ID, in.APIKey, body); r.Status != http.StatusOK {
			t.Fatalf("inbound: %d", r.Status)
		}
		conv := conversationOf(t, h, `"><script>alert("thread")</script>`)
		body["messageId"], body["contentType"] = "h2", "html"
		h.PostCustom(in.ID, in.APIKey, body)
		if n := len(messagesOf(t, h, conv.ID)); n != 2 {
			t.Fatalf("%d messages stored, want 2", n)
		}
		agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
		agent.Post("/conversations/"+conv.ID+"/messages", url.Values{"content": {`<script>alert("reply")</script>`}})

		for _, path := range []string{"/conversations/" + conv.ID, "/conversations/" + conv.ID + "?fragment=thread", "/conversations?fragment=threads"} {
			p := agent.Get(path)
			if p.Status != http.StatusOK {
				t.Fatalf("%s: %d", path, p.Status)
			}
			for _, bad := range unsafeMarkup(t, p.Body) {
				t.Errorf("%s holds %s", path, bad)
			}
		}
		p := agent.Get("/conversations/" + conv.ID)
		for _, want := range []string{
			// The text message, escaped, as it was written.
			`<div class="content text">&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#34;alert(2)&#34;&gt;`,
			// The HTML message, sanitised: the harmless part kept as markup.
			`<div class="content html">click<p>styled</p><b>bold</b></div>`,
			// The agent's reply, a text message.
			`<div class="content text">&lt;script&gt;alert(&#34;reply&#34;)&lt;/script&gt;</div>`,
			`&lt;b onmouseover=alert(&#34;name&#34;)&gt;Eve&lt;/b&gt;`,
			`&lt;iframe src=&#34;javascript:alert(&#39;subject&#39;)&#34;&gt;`,
			`&lt;script&gt;alert(&#34;team&#34;)&lt;/script&gt;`,
			`<dd id="contact-email">eve&amp;o&#39;neil@example.com</dd>`,
			`<dd id="thread-integration">&lt;img src=x onerror=alert(&#34;integration&#34;)&gt;</dd>`,
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the thread lacks %s", want)
			}
		}
	})
}

// TestInboxOtherWorkspaces: another workspace's conversation is not
// listed and answers 404 to every page, fragment and form.
func TestInboxOtherWorkspaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "Theirs", "kind": "custom"})
		postCustom(t, h, in, "T1", "m1", "their secret message", nil)
		conv := conversationOf(t, h, "T1")
		h.Admin("POST", "/api/teams", map[string]any{"name": "Their team"})
		other := h.LoginUI("x@example.com", h.NewUserIn("other", "x@example.com", domain.RoleAgent))

		p := other.Get("/conversations?integration=" + in.ID)
		if p.Status != http.StatusOK || strings.Contains(p.Body, conv.ID) || strings.Contains(p.Body, "Theirs") || strings.Contains(p.Body, "Jane T1") {
			t.Errorf("another workspace's inbox: %d\n%s", p.Status, p.Body)
		}
		for _, path := range []string{"/conversations/" + conv.ID, "/conversations/" + conv.ID + "?fragment=thread", "/conversations/" + conv.ID + "?fragment=threads"} {
			if p := other.Get(path); p.Status != http.StatusNotFound || strings.Contains(p.Body, "their secret message") {
				t.Errorf("GET %s: %d, want 404", path, p.Status)
			}
		}
		for action, form := range map[string]url.Values{
			"messages": {"content": {"taken over"}},
			"transfer": {"teamId": {"x"}},
			"end":      nil,
		} {
			if p := other.Post("/conversations/"+conv.ID+"/"+action, form); p.Status != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404", action, p.Status)
			}
		}
		if got := conversationOf(t, h, "T1"); got.Status != domain.ConversationOpen || got.TeamID != "" || len(messagesOf(t, h, conv.ID)) != 1 {
			t.Errorf("another workspace changed the conversation: %+v", got)
		}
		// An id that would make another API path names no conversation.
		for _, id := range []string{"integrations", conv.ID + "%2Fmessages", "..%2F..%2Fintegrations", "%2E%2E"} {
			if p := other.Get("/conversations/" + id); p.Status != http.StatusNotFound {
				t.Errorf("GET /conversations/%s: %d, want 404", id, p.Status)
			}
			if p := other.Post("/conversations/"+id+"/end", nil); p.Status != http.StatusNotFound {
				t.Errorf("POST /conversations/%s/end: %d, want 404", id, p.Status)
			}
		}
	})
}

// TestInboxForms: every role uses the inbox, an agent no configuration
// page, and the inbox's forms need the session's CSRF token, sent from
// this origin.
func TestInboxForms(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "Support site", "kind": "custom"})
	postCustom(t, h, in, "T1", "m1", "hello", nil)
	conv := conversationOf(t, h, "T1")
	agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
	if p := agent.Get("/conversations/" + conv.ID); p.Status != http.StatusOK {
		t.Errorf("an agent's inbox: %d", p.Status)
	}
	for _, path := range []string{"/integrations", "/integrations/" + in.ID} {
		if p := agent.Get(path); p.Status != http.StatusForbidden {
			t.Errorf("agent GET %s: %d, want 403", path, p.Status)
		}
	}
	for _, action := range []string{"messages", "transfer", "end"} {
		path := "/conversations/" + conv.ID + "/" + action
		if p := agent.Post(path, url.Values{"content": {"forged"}, "_csrf": {""}}); p.Status != http.StatusForbidden {
			t.Errorf("%s without the token: %d, want 403", action, p.Status)
		}
		if p := agent.PostFrom("https://evil.example", path, url.Values{"content": {"forged"}}); p.Status != http.StatusForbidden {
			t.Errorf("%s from another origin: %d, want 403", action, p.Status)
		}
	}
	if got := conversationOf(t, h, "T1"); got.Status != domain.ConversationOpen || len(messagesOf(t, h, conv.ID)) != 1 {
		t.Errorf("a forged form changed the conversation: %+v", got)
	}
	for _, role := range []string{domain.RoleOwner, domain.RoleAdmin} {
		c := h.LoginUI(role+"@example.com", h.NewUser(role+"@example.com", role))
		if p := c.Get("/conversations/" + conv.ID); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="reply-form"`) {
			t.Errorf("the %s's inbox: %d", role, p.Status)
		}
	}
	if p := h.UIClient().Get("/conversations/" + conv.ID); !strings.Contains(p.Body, `action="/login"`) {
		t.Errorf("without a session the inbox opens")
	}
}

// TestInboxPaging: the thread shows its newest messages, with a link to
// earlier ones, which do not refresh away.
func TestInboxPaging(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "Support site", "kind": "custom"})
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for i := range 102 {
		postCustom(t, h, in, "T1", fmt.Sprintf("m%d", i), fmt.Sprintf("message number %03d", i),
			map[string]any{"sentAt": start.Add(time.Duration(i) * time.Second).Format(time.RFC3339)})
	}
	conv := conversationOf(t, h, "T1")
	agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
	p := agent.Get("/conversations/" + conv.ID)
	if strings.Contains(p.Body, "message number 001") || !inOrder(p.Body, "message number 002", "message number 101") {
		t.Errorf("the thread does not show its 100 newest messages, oldest first")
	}
	i := strings.Index(p.Body, `id="messages-earlier" href="`)
	if i < 0 {
		t.Fatalf("no link to earlier messages")
	}
	href := p.Body[i+len(`id="messages-earlier" href="`):]
	href = strings.ReplaceAll(href[:strings.IndexByte(href, '"')], "&amp;", "&")
	p = agent.Get(href)
	if !inOrder(p.Body, "message number 000", "message number 001") || strings.Contains(p.Body, "message number 002") {
		t.Errorf("earlier messages: %s\n%s", href, p.Body)
	}
	if strings.Contains(p.Body, `data-refresh="/conversations/`+conv.ID+`?before`) || !strings.Contains(p.Body, `id="messages-newest"`) {
		t.Errorf("the earlier page refreshes, or offers no way back")
	}
}

// TestUnsafeMarkup: the check above finds what it looks for.
func TestUnsafeMarkup(t *testing.T) {
	for _, doc := range []string{`<img src=x>`, `<p onclick="x()">`, `<a href=" JavaScript:x()">`, `<div style="color:red">`,
		`<script>alert(1)</script>`, `<script src="https://evil.example/x.js"></script>`, `<svg></svg>`, `<iframe></iframe>`} {
		if len(unsafeMarkup(t, doc)) == 0 {
			t.Errorf("%s passes", doc)
		}
	}
	if bad := unsafeMarkup(t, `<p>&lt;img src=x onerror=alert(1)&gt;</p><script src="/static/app.js"></script><a href="https://example.com/">x</a>`); len(bad) != 0 {
		t.Errorf("safe markup is flagged: %v", bad)
	}
}

// unsafeMarkup parses a page or fragment as a browser would and lists what
// in it could run or restyle the page: a script other than the UI's own,
// images, frames, SVG, style elements or attributes, event handlers, and
// javascript: or data: URLs.
func unsafeMarkup(t *testing.T, body string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(a.Key, "on"):
					bad = append(bad, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
				case a.Key == "style":
					bad = append(bad, fmt.Sprintf("<%s style=%q>", n.Data, a.Val))
				case (a.Key == "href" || a.Key == "src" || a.Key == "action") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "data:")):
					if !(n.Data == "link" && attrs["rel"] == "icon") {
						bad = append(bad, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
					}
				}
			}
			switch n.Data {
			case "script":
				if !strings.HasPrefix(attrs["src"], "/static/") || n.FirstChild != nil {
					bad = append(bad, fmt.Sprintf("a script %q", attrs["src"]))
				}
			case "img", "svg", "iframe", "frame", "object", "embed", "style", "math", "base":
				bad = append(bad, "<"+n.Data+">")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return bad
}
