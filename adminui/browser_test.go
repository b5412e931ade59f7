package adminui_test

// Browser tests of the admin UI: each one is a user's story told with real
// clicks and typing in headless Chromium (core/browsertest), against a real
// hub with its real plugins. The admin API sets up what a story takes for
// granted (a connection that exists, a message a contact sent); what the
// story says the user does happens in the browser.
//
// Besides its own checks, every test fails on anything the page reports: a
// console error, a request answered 4xx or 5xx, an uncaught exception, a
// Content-Security-Policy violation, and a request for anything outside the
// hub (the browser reaches loopback only).
//
// They run on SQLite only. The pages are the same whatever the database: the
// UI reads and writes through the admin API, whose tests run on SQLite and
// PostgreSQL both.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/browsertest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// startUI starts a hub on SQLite and a browser. The browser starts second, so
// it closes first: its last refreshes never meet a hub that is gone.
func startUI(t *testing.T) (*apptest.Hub, *browsertest.Browser) {
	t.Helper()
	h := apptest.Start(t, storetest.SQLite(t))
	return h, browsertest.New(t)
}

// logIn makes a user with the role and logs them in on the login page, as a
// person would; it returns once the page after the login is shown.
func logIn(t *testing.T, h *apptest.Hub, b *browsertest.Browser, email, role string) {
	t.Helper()
	password := h.NewUser(email, role)
	b.Go(h.URL + "/login")
	b.Fill(`input[name="email"]`, email)
	b.Fill(`input[name="password"]`, password)
	b.Click(`section.login button[type="submit"]`)
	b.WaitVisible("header.top .who")
}

// pageHTML is the page's whole markup as it is now.
func pageHTML(b *browsertest.Browser) string {
	var s string
	b.Eval(`document.documentElement.outerHTML`, &s)
	return s
}

// pathOf is the path of the page the tab shows.
func pathOf(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	u, err := url.Parse(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// expectRefusals takes the problems the page reported and checks that each
// is the browser's note of an answer with one of the statuses, as a page that
// refuses a form on purpose makes; there must be at least one.
func expectRefusals(t *testing.T, b *browsertest.Browser, statuses ...int) {
	t.Helper()
	ps := b.Problems()
	if len(ps) == 0 {
		t.Errorf("the page reported no refusal, want one with status %v", statuses)
	}
	for _, p := range ps {
		ok := p.Kind == browsertest.ConsoleError && slices.ContainsFunc(statuses, func(s int) bool {
			return strings.Contains(p.Text, "status of "+strconv.Itoa(s))
		})
		if !ok {
			t.Errorf("the page reported %s, want only refusals with status %v", p, statuses)
		}
	}
}

// TestBrowserLogIn: a visitor who opens a page is sent to the login page; a
// wrong password is refused there with the email kept; the right one opens
// the page first asked for, with the user and role in the header; logging
// out ends the session.
func TestBrowserLogIn(t *testing.T) {
	h, b := startUI(t)
	password := h.NewUser("owner@example.com", domain.RoleOwner)

	b.Go(h.URL + "/integrations/new")
	b.WaitVisible("section.login form")
	if got := b.URL(); !strings.HasSuffix(got, "/login?next=%2Fintegrations%2Fnew") {
		t.Errorf("a visitor without a session is at %s, want the login page with next", got)
	}
	b.Fill(`input[name="email"]`, "Owner@Example.com")
	b.Fill(`input[name="password"]`, "not the password")
	b.Click(`section.login button[type="submit"]`)
	b.WaitText(".login .notice.error", "The email or the password is wrong.")
	expectRefusals(t, b, http.StatusUnauthorized)
	var email string
	b.Eval(`document.querySelector('input[name="email"]').value`, &email)
	if email != "owner@example.com" {
		t.Errorf("after a refusal the email input holds %q", email)
	}

	b.Fill(`input[name="password"]`, password)
	b.Click(`section.login button[type="submit"]`)
	b.WaitVisible(".integration-form")
	if got := pathOf(t, b); got != "/integrations/new" {
		t.Errorf("after logging in the page is %s, want the one first asked for", got)
	}
	if got := b.Text("header.top .who"); got != "owner@example.com · owner" {
		t.Errorf("the header says %q", got)
	}

	b.Click(`form.logout button[type="submit"]`)
	b.WaitVisible("section.login form")
	b.Go(h.URL + "/integrations")
	b.WaitVisible("section.login form")
	if got := pathOf(t, b); got != "/login" {
		t.Errorf("after logging out /integrations shows %s, want the login page", got)
	}
}

var sbk = regexp.MustCompile(`^sbk_[A-Za-z0-9_-]{20,}$`)

// TestBrowserCreateIntegrationShowsKeyOnce: an owner creates a custom
// integration from the list; the page after shows its key, which the Copy
// button puts on the clipboard and which works; no page shows it again.
func TestBrowserCreateIntegrationShowsKeyOnce(t *testing.T) {
	h, b := startUI(t)
	logIn(t, h, b, "owner@example.com", domain.RoleOwner)

	b.WaitVisible("p.empty") // no integrations yet
	b.Click(`.page-head a[href="/integrations/new"]`)
	b.WaitVisible(".integration-form")
	b.Fill(`input[name="name"]`, "Web shop")
	var kind string
	b.Eval(`document.querySelector('select[name="kind"]').value`, &kind)
	if kind != "custom" {
		t.Errorf("the kind chosen at first is %q, want custom", kind)
	}
	b.Click(`.integration-form button[type="submit"].primary`)

	b.WaitVisible("#secret-value-apiKey")
	key := b.Text("#secret-value-apiKey")
	if !sbk.MatchString(key) {
		t.Fatalf("the key shown is %q", key)
	}
	if got := b.Text("h1"); got != "Web shop is created" {
		t.Errorf("the heading is %q", got)
	}
	copyButton := `button[data-copy="secret-value-apiKey"]`
	if got := b.Text(copyButton); got != "Copy" {
		t.Errorf("the copy button says %q before a click", got)
	}
	b.Click(copyButton)
	b.WaitText(copyButton, "Copied")
	if got := b.Clipboard(); got != key {
		t.Errorf("the clipboard holds %q, want the key %q", got, key)
	}
	if token := b.Text("#secret-value-responseToken"); !strings.HasPrefix(token, "sbr_") {
		t.Errorf("the response token shown is %q", token)
	}

	b.Click(`a.button.primary[href^="/integrations/"]`) // I have copied them: continue
	b.WaitVisible(".subnav")
	id := strings.TrimPrefix(pathOf(t, b), "/integrations/")
	if r := h.PostCustom(id, key, message("m1")); r.Status != http.StatusOK {
		t.Errorf("the copied key: %d %s", r.Status, r.Body)
	}
	var events struct{ Events []struct{ Status string } }
	h.Admin("GET", "/api/integrations/"+id+"/events", nil).JSON(t, &events)
	if len(events.Events) != 1 || events.Events[0].Status != "ok" {
		t.Errorf("the message sent with the copied key: %+v", events.Events)
	}

	for _, page := range []string{"/integrations/" + id, "/integrations", "/integrations/" + id + "/edit", "/integrations/" + id + "/api"} {
		b.Go(h.URL + page)
		b.WaitVisible("main h1")
		if strings.Contains(pageHTML(b), key) {
			t.Errorf("%s shows the key again", page)
		}
	}
	b.Go(h.URL + "/integrations")
	if got := b.Text(`article.card#integration-` + id + ` h2`); got != "Web shop" {
		t.Errorf("the card of the new integration is titled %q", got)
	}
}

// addRow adds a row to a tab's table and fills it.
func addRow(b *browsertest.Browser, table, key, typ, value string) {
	b.Click(`button[data-add-row="` + table + `"]`)
	row := `table[data-rows="` + table + `"] tbody tr:last-child `
	b.Fill(row+`input[name="`+table+`.key"]`, key)
	b.Fill(row+`select[name="`+table+`.type"]`, typ)
	b.Fill(row+`input[name="`+table+`.value"]`, value)
}

// shownPanel is the tab panel that is not hidden.
func shownPanel(b *browsertest.Browser) string {
	var shown []string
	b.Eval(`[...document.querySelectorAll("[data-panel]")].filter(p => !p.hidden).map(p => p.dataset.panel)`, &shown)
	return strings.Join(shown, ",")
}

// TestBrowserDeliveryTabs: an owner configures an integration's delivery on
// each tab (query params, bearer auth, a header, a body of their own) and
// an agent's reply reaches the target exactly so; the edit page shows it all
// back with the token hidden, and saving it unchanged keeps the token.
func TestBrowserDeliveryTabs(t *testing.T) {
	h, b := startUI(t)
	rc := apptest.NewReceiver(t)
	logIn(t, h, b, "owner@example.com", domain.RoleOwner)

	b.Go(h.URL + "/integrations/new")
	b.Fill(`input[name="name"]`, "Helpdesk")
	b.Fill(`select[name="delivery.method"]`, "PUT")
	b.Fill(`input[name="delivery.url"]`, rc.URL+"/tickets")

	if got := shownPanel(b); got != "params" {
		t.Errorf("the panel shown first is %q, want params", got)
	}
	addRow(b, "params", "source", "text", "switchboard")
	addRow(b, "params", "conversation", "variable", "conversationId")

	b.Click(`[data-tab="auth"]`)
	if got := shownPanel(b); got != "auth" {
		t.Errorf("after clicking Auth the panel shown is %q", got)
	}
	b.Fill(`select[name="auth.type"]`, "bearer")
	b.WaitVisible(`input[name="auth.token"]`)
	var apiKeyShown bool
	b.Eval(`!document.querySelector('[data-auth="apiKey"]').hidden`, &apiKeyShown)
	if apiKeyShown {
		t.Errorf("with bearer chosen, the API key inputs are shown too")
	}
	b.Fill(`input[name="auth.token"]`, "hook-secret-123")

	b.Click(`[data-tab="headers"]`)
	addRow(b, "headers", "X-Conversation", "text", "conv-<<conversationId>>")

	b.Click(`[data-tab="body"]`)
	if got := shownPanel(b); got != "body" {
		t.Errorf("after clicking Body the panel shown is %q", got)
	}
	b.Click(`input[name="body.default"]`) // off: the body is the rows
	addRow(b, "body", "reply", "variable", "content")
	addRow(b, "body", "ticket.id", "variable", "conversationId")
	addRow(b, "body", "tags[]", "text", "chat")
	var selected string
	b.Eval(`document.querySelector('[data-tab][aria-selected="true"]').dataset.tab`, &selected)
	if selected != "body" {
		t.Errorf("the selected tab is %q", selected)
	}

	b.Click(`.integration-form button[type="submit"].primary`)
	b.WaitVisible("#secret-value-apiKey")
	key := b.Text("#secret-value-apiKey")
	b.Click(`a.button.primary[href^="/integrations/"]`)
	b.WaitVisible(".subnav")
	id := strings.TrimPrefix(pathOf(t, b), "/integrations/")
	if strings.Contains(pageHTML(b), "hook-secret-123") {
		t.Errorf("the integration's page shows the bearer token")
	}

	// A contact writes through the app, an agent answers: the answer is
	// delivered as configured.
	postCustom(t, h, apptest.Integration{ID: id, APIKey: key}, "order-7", "m1", "Where is my parcel?", nil)
	conv := conversationOf(t, h, "order-7")
	if r := h.Admin("POST", "/api/conversations/"+conv.ID+"/messages", map[string]any{"content": "It ships today."}); r.Status != http.StatusCreated {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	var got *apptest.Received
	apptest.Eventually(t, 10*time.Second, func() error {
		for _, r := range rc.Requests() {
			if strings.Contains(string(r.Body), "It ships today.") {
				got = &r
				return nil
			}
		}
		return errors.New("the reply is not delivered yet")
	})
	if got.Method != http.MethodPut || got.Path != "/tickets" {
		t.Errorf("delivered as %s %s", got.Method, got.Path)
	}
	if q := url.Values(got.Query); q.Get("source") != "switchboard" || q.Get("conversation") != "order-7" {
		t.Errorf("query %v", got.Query)
	}
	if a := got.Header.Get("Authorization"); a != "Bearer hook-secret-123" {
		t.Errorf("Authorization: %q", a)
	}
	if x := got.Header.Get("X-Conversation"); x != "conv-order-7" {
		t.Errorf("X-Conversation: %q", x)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("body %s: %v", got.Body, err)
	}
	if want := `{"reply":"It ships today.","tags":["chat"],"ticket":{"id":"order-7"}}`; string(mustJSON(t, body)) != want {
		t.Errorf("body %s, want %s", mustJSON(t, body), want)
	}

	// The edit page shows it all back; the token as ********.
	b.Go(h.URL + "/integrations/" + id + "/edit")
	b.WaitVisible(".integration-form")
	var form struct {
		Method, URL, Auth, Token string
		Params, Headers, Body    []string
		DefaultBody              bool
	}
	b.Eval(`(() => {
		const v = (s) => document.querySelector(s).value;
		const rows = (name) => [...document.querySelectorAll('table[data-rows="' + name + '"] tbody tr')]
			.map(tr => [...tr.querySelectorAll("input, select")].map(e => e.value).join(" "));
		return {method: v('select[name="delivery.method"]'), url: v('input[name="delivery.url"]'),
			auth: v('select[name="auth.type"]'), token: v('input[name="auth.token"]'),
			params: rows("params"), headers: rows("headers"), body: rows("body"),
			defaultBody: document.querySelector('input[name="body.default"]').checked};
	})()`, &form)
	if form.Method != "PUT" || form.URL != rc.URL+"/tickets" || form.Auth != "bearer" || form.Token != "********" || form.DefaultBody ||
		strings.Join(form.Params, "|") != "source text switchboard|conversation variable conversationId" ||
		strings.Join(form.Headers, "|") != "X-Conversation text conv-<<conversationId>>" ||
		strings.Join(form.Body, "|") != "reply variable content|ticket.id variable conversationId|tags[] text chat" {
		t.Errorf("the edit page shows %+v", form)
	}

	// Saved as shown, the target keeps its token: the next reply carries it.
	b.Click(`.integration-form button[type="submit"].primary`)
	b.WaitText(".notice.ok", "Saved.")
	if r := h.Admin("POST", "/api/conversations/"+conv.ID+"/messages", map[string]any{"content": "Tracking: ZX-42."}); r.Status != http.StatusCreated {
		t.Fatalf("second reply: %d %s", r.Status, r.Body)
	}
	apptest.Eventually(t, 10*time.Second, func() error {
		for _, r := range rc.Requests() {
			if strings.Contains(string(r.Body), "ZX-42") {
				if a := r.Header.Get("Authorization"); a != "Bearer hook-secret-123" {
					t.Fatalf("after saving the edit page unchanged, Authorization: %q", a)
				}
				return nil
			}
		}
		return errors.New("the second reply is not delivered yet")
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// smsConnection makes an SMS connection on a Twilio-shaped provider; starting
// an integration checks no provider, so none needs to listen.
func smsConnection(t *testing.T, h *apptest.Hub, code, sender string) {
	t.Helper()
	r := h.Admin("POST", "/api/connections", map[string]any{"code": code, "channel": "SMS", "sender": sender,
		"provider": map[string]any{"accountSid": "AC" + strings.Repeat("1", 32), "authToken": "token-" + code}})
	if r.Status != http.StatusCreated {
		t.Fatalf("connection %s: %d %s", code, r.Status, r.Body)
	}
}

// TestBrowserPartialStart: an owner creates an SMS integration on two
// numbers, one of which another active integration already answers, and
// starts it: the list says not every connection could be activated, and its
// link opens a dialog that says which one and why.
func TestBrowserPartialStart(t *testing.T) {
	h, b := startUI(t)
	smsConnection(t, h, "sms-support", "+15550100100")
	smsConnection(t, h, "sms-sales", "+15550100200")
	sales := h.CreateIntegration(map[string]any{"name": "Sales line", "kind": "custom", "connections": []string{"sms-sales"}})
	if r := h.Admin("POST", "/api/integrations/"+sales.ID+"/start", nil); r.Status != http.StatusOK {
		t.Fatalf("start Sales line: %d %s", r.Status, r.Body)
	}
	logIn(t, h, b, "owner@example.com", domain.RoleOwner)

	b.Go(h.URL + "/integrations/new")
	b.Fill(`input[name="name"]`, "Support texts")
	b.Click(`input[name="connections"][value="sms-support"]`)
	b.Click(`input[name="connections"][value="sms-sales"]`)
	b.Click(`.integration-form button[type="submit"].primary`)
	b.WaitVisible("#secret-value-apiKey")
	b.Click(`header.top a[href="/integrations"]`)
	b.WaitVisible("article.card")

	var id string
	b.Eval(`document.querySelector('article.card[data-name="Support texts"]').id.replace("integration-", "")`, &id)
	card := "#integration-" + id
	if got := b.Text(card + " .badge"); got != "inactive" {
		t.Errorf("before the start the card says %q", got)
	}
	b.Click(card + ` form[action$="/start"] button`)
	b.WaitText("#notice", "Started, but not every connection could be activated.")
	if got := b.Text(card + " header .badge"); got != "active" {
		t.Errorf("after the start the card says %q", got)
	}
	var conns map[string]string
	b.Eval(`Object.fromEntries([...document.querySelectorAll("`+card+` .connections .conn")].map(c => [c.textContent.trim(), c.className]))`, &conns)
	if conns["SMS sms-support"] != "conn conn-active" || conns["SMS sms-sales"] != "conn conn-inactive" {
		t.Errorf("the card's connections: %v", conns)
	}

	b.Click(`#notice button[data-open-dialog]`)
	dialog := "dialog#connections-" + id
	b.WaitVisible(dialog)
	var rows []string
	b.Eval(`[...document.querySelectorAll("`+dialog+` tbody tr")].map(tr => tr.innerText.replace(/\s+/g, " ").trim())`, &rows)
	slices.Sort(rows)
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "sms-sales SMS +15550100200 inactive") || !strings.Contains(rows[0], "already active on integration") ||
		rows[1] != "sms-support SMS +15550100100 active" {
		t.Errorf("the dialog's rows: %q", rows)
	}
	b.Click(dialog + ` form[method="dialog"] button`)
	b.Do(chromedp.WaitNotVisible(dialog))

	// The card's own link opens the same dialog.
	b.Click(card + ` button[data-open-dialog="connections-` + id + `"]`)
	b.WaitVisible(dialog)
}

// TestBrowserTransformThrows: an owner replaces the starter transform with
// one that throws on line 3 and tests it: the result names the line, lists
// the lines around it with that one marked, and selects it in the editor.
// The fixed script tests clean, showing the request it would send, and is
// saved.
func TestBrowserTransformThrows(t *testing.T) {
	h, b := startUI(t)
	rc := apptest.NewReceiver(t)
	in := h.CreateIntegration(map[string]any{"name": "Orders", "kind": "custom",
		"delivery": map[string]any{"method": "POST", "url": rc.URL + "/orders"}})
	logIn(t, h, b, "owner@example.com", domain.RoleOwner)

	b.Go(h.URL + "/integrations/" + in.ID)
	b.Click(`.subnav a[href$="/transform"]`)
	b.WaitVisible("#script")
	if got := b.Text("#transform-result"); got != "" {
		t.Errorf("before a test the result says %q", got)
	}
	broken := "function transform(request, event) {\n" +
		"  var total = event.order;\n" +
		"  request.body.total = total.amount;\n" +
		"  return request;\n" +
		"}"
	b.Fill("#script", broken)
	b.Click("button[data-test]")
	b.WaitText("#transform-result", "Error on line 3")
	if got := b.Text("#transform-result .notice.error p"); !strings.Contains(got, "amount") {
		t.Errorf("the error says %q, want the property it could not read", got)
	}
	if got := b.Text("#transform-result .listing li.error-line code"); got != "  request.body.total = total.amount;" {
		t.Errorf("the marked line is %q", got)
	}
	var listed []string
	b.Eval(`[...document.querySelectorAll("#transform-result .listing li")].map(li => li.querySelector("code").textContent)`, &listed)
	if len(listed) != 5 || listed[0] != "function transform(request, event) {" {
		t.Errorf("the listing around the line: %q", listed)
	}
	var sel struct {
		Focused  bool
		Selected string
	}
	b.Eval(`(() => { const s = document.getElementById("script");
		return {focused: document.activeElement === s, selected: s.value.slice(s.selectionStart, s.selectionEnd)}; })()`, &sel)
	if !sel.Focused || sel.Selected != "  request.body.total = total.amount;" {
		t.Errorf("the editor: %+v, want line 3 selected", sel)
	}

	fixed := strings.Replace(broken, "total.amount", "total ? total.amount : 0", 1)
	b.Fill("#script", fixed)
	b.Click("button[data-test]")
	b.WaitText("#transform-result", "The request that would be sent")
	if got := b.Text("#transform-result pre"); !strings.Contains(got, `"total": 0`) {
		t.Errorf("the body would be %s", got)
	}
	if strings.Contains(b.Text("#transform-result"), "Error") {
		t.Errorf("the fixed script still reports an error: %s", b.Text("#transform-result"))
	}

	b.Click("button[data-save]")
	b.WaitText(".notice.ok", "Saved.")
	var saved struct{ Delivery struct{ Transform string } }
	h.Admin("GET", "/api/integrations/"+in.ID, nil).JSON(t, &saved)
	if saved.Delivery.Transform != fixed {
		t.Errorf("saved transform %q, want %q", saved.Delivery.Transform, fixed)
	}
	var editor string
	b.Eval(`document.getElementById("script").value`, &editor)
	if editor != fixed {
		t.Errorf("after saving the editor holds %q", editor)
	}
}

// TestBrowserRecentEvents: after an app posts a message, an owner opens the
// integration's Recent events and sees it; a request with a wrong key that
// arrives while the page is open shows up by itself, and the status filter
// keeps only it.
func TestBrowserRecentEvents(t *testing.T) {
	h, b := startUI(t)
	in := h.CreateIntegration(map[string]any{"name": "Web shop", "kind": "custom"})
	logIn(t, h, b, "owner@example.com", domain.RoleOwner)
	if r := h.PostCustom(in.ID, in.APIKey, message("m1")); r.Status != http.StatusOK {
		t.Fatalf("inbound: %d %s", r.Status, r.Body)
	}

	b.Click(`article.card#integration-` + in.ID + ` h2 a`)
	b.WaitVisible(".subnav")
	b.Click(`.subnav a[href$="/events"]`)
	b.WaitVisible(`tr.event[data-status="ok"]`)
	if got := b.Text(`tr.event[data-status="ok"] code`); got == "" {
		t.Errorf("the event has no type")
	}
	if got := b.Text(`.subnav a[aria-current="page"]`); got != "Recent events" {
		t.Errorf("the current tool is %q", got)
	}

	if r := h.PostCustom(in.ID, "sbk_wrong", message("m2")); r.Status != http.StatusOK {
		t.Fatalf("inbound with a wrong key: %d", r.Status)
	}
	b.WaitVisible(`tr.event[data-status="signature_failure"]`) // the table refreshes itself
	var statuses []string
	b.Eval(`[...document.querySelectorAll("tr.event")].map(tr => tr.dataset.status)`, &statuses)
	if strings.Join(statuses, " ") != "signature_failure ok" {
		t.Errorf("the events, newest first: %v", statuses)
	}

	b.Click(`nav.filter a[href*="status=signature_failure"]`)
	b.WaitVisible(`nav.filter a[aria-current="true"] .status-signature_failure`)
	b.Eval(`[...document.querySelectorAll("tr.event")].map(tr => tr.dataset.status)`, &statuses)
	if strings.Join(statuses, " ") != "signature_failure" {
		t.Errorf("filtered by signature_failure: %v", statuses)
	}
}

// TestBrowserHostileMessageIsText: a contact's text message holding a
// script, and an HTML message holding an image whose onerror would run one,
// are shown to an agent as text and as sanitised markup: nothing runs,
// before or after the thread refreshes itself, nothing is fetched, and the
// page reports no CSP violation. The agent's own reply with markup is text
// too.
func TestBrowserHostileMessageIsText(t *testing.T) {
	h, b := startUI(t)
	in := h.CreateIntegration(map[string]any{"name": "Website", "kind": "custom"})
	script := `<script>window.pwned = "text"; document.title = "pwned"</script>`
	img := `<p>Hello <b>agent</b></p><img src=x onerror="window.pwned = 'html'; document.title = 'pwned'"><script>window.pwned = "html script"</script>`
	postCustom(t, h, in, "evil", "m1", script, map[string]any{"subject": "Order question"})
	postCustom(t, h, in, "evil", "m2", img, map[string]any{"contentType": "html"})
	logIn(t, h, b, "agent@example.com", domain.RoleAgent)

	b.WaitVisible("li.thread a") // an agent's home is the inbox
	b.Click("li.thread a")
	b.WaitVisible("#messages .message .content.html")
	nothingRan := func(when string) {
		t.Helper()
		var got struct{ Pwned, Title string }
		b.Eval(`({pwned: String(window.pwned), title: document.title})`, &got)
		if got.Pwned != "undefined" || got.Title == "pwned" {
			t.Errorf("%s: window.pwned = %s, title %q: the message's script ran", when, got.Pwned, got.Title)
		}
		var html struct {
			Scripts, Images, Handlers int
			Text, Markup              string
		}
		b.Eval(`({scripts: document.querySelectorAll("#messages script").length,
			images: document.querySelectorAll("#messages img").length,
			handlers: document.querySelectorAll("#messages [onerror], #messages [onload], #messages [onclick]").length,
			text: document.querySelector("#messages .content.text").textContent,
			markup: document.querySelector("#messages .content.html").innerHTML})`, &html)
		if html.Scripts+html.Images+html.Handlers != 0 {
			t.Errorf("%s: the messages hold %d scripts, %d images, %d handlers", when, html.Scripts, html.Images, html.Handlers)
		}
		if html.Text != script {
			t.Errorf("%s: the text message shows %q, want it as written", when, html.Text)
		}
		if html.Markup != "<p>Hello <b>agent</b></p>" {
			t.Errorf("%s: the HTML message is %q, want only its harmless markup", when, html.Markup)
		}
	}
	nothingRan("as loaded")

	// The thread refreshes itself by replacing its markup when it changed:
	// mark it, have the contact write again, and wait for the mark to go.
	b.Eval(`document.getElementById("messages").dataset.mark = "1"`, nil)
	postCustom(t, h, in, "evil", "m3", "Are you there?", nil)
	b.Do(chromedp.WaitNotPresent(`#messages[data-mark]`))
	b.WaitText("#messages", "Are you there?")
	nothingRan("after a refresh")

	reply := `<img src=x onerror="window.pwned = 'reply'">`
	b.Fill("#reply-content", reply)
	b.Click("#reply-send")
	b.WaitVisible("#messages .message.outbound")
	if got := b.Text("#messages .message.outbound .content.text"); got != reply {
		t.Errorf("the agent's reply shows as %q", got)
	}
	nothingRan("after the reply")
	for _, p := range b.Problems() {
		t.Errorf("the page reported %s", p)
	}
}

// TestBrowserReplyKeepsItsLines: an agent's reply of several lines, typed in
// the inbox, is stored and delivered with the line breaks typed, not with
// the CRLF that browsers send a textarea's line breaks as.
func TestBrowserReplyKeepsItsLines(t *testing.T) {
	h, b := startUI(t)
	rc := apptest.NewReceiver(t)
	in := h.CreateIntegration(map[string]any{"name": "Web shop", "kind": "custom", "outboundUrl": rc.URL + "/replies"})
	postCustom(t, h, in, "order-9", "m1", "Can I change the address?", nil)
	logIn(t, h, b, "agent@example.com", domain.RoleAgent)

	b.Click("li.thread a")
	b.WaitVisible("#reply-content")
	reply := "Yes, of course.\nWhich address should it go to?"
	b.Fill("#reply-content", reply)
	b.Click("#reply-send")
	b.WaitVisible("#messages .message.outbound")
	if got := b.Text("#messages .message.outbound .content.text"); got != reply {
		t.Errorf("the reply shows as %q", got)
	}
	var stored string
	for _, m := range messagesOf(t, h, conversationOf(t, h, "order-9").ID) {
		if m.Direction == "outbound" {
			stored = m.Content
		}
	}
	if stored != reply {
		t.Errorf("the reply is stored as %q, want %q", stored, reply)
	}
	got := rc.WaitFor(t, 1, 10*time.Second)
	var body struct{ Content string }
	if err := json.Unmarshal(got[0].Body, &body); err != nil || body.Content != reply {
		t.Errorf("the app gets %s, want the content %q", got[0].Body, reply)
	}
}
