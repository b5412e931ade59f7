package adminui_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// The website chat in the admin UI: created from the form, with its
// settings, and shown with the line to embed it.

// webchatForm is the create form of a website chat as a browser posts it.
func webchatForm(name, title, greeting, origins string) url.Values {
	return url.Values{"name": {name}, "kind": {"webchat"}, "config.title": {title}, "config.greeting": {greeting},
		"config.allowedOrigins": {origins}, "delivery.method": {"POST"}, "delivery.url": {""}, "auth.type": {"none"}}
}

var integrationOnPage = regexp.MustCompile(`/integrations/([0-9a-f-]{36})`)

// TestCreateWebchatFromTheForm: the form of a webchat integration has its
// settings, allowedOrigins a list one a line and no connections; created,
// the settings take effect on the widget and on who may post, and the
// page shows the snippet to embed, escaped, and the demo page.
func TestCreateWebchatFromTheForm(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithPublicURL("https://chat.example.com"))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))

	p := c.Get("/integrations/new?kind=webchat")
	for _, want := range []string{`name="config.title"`, `name="config.greeting"`, `<textarea name="config.allowedOrigins"`, `id="webchat-hint"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if strings.Contains(p.Body, "<legend>Connections</legend>") {
		t.Errorf("the form of a website chat offers connections")
	}

	// A list with a bad origin is refused beside its field, as typed.
	p = c.Post("/integrations", webchatForm("Shop", "Ask us", "Hi!", "https://shop.example.com\nshop.example.com"))
	if p.Status != http.StatusUnprocessableEntity || strings.Count(p.Body, `class="field-error"`) != 1 || !strings.Contains(p.Body, "config.allowedOrigins.1:") ||
		!strings.Contains(p.Body, "https://shop.example.com\nshop.example.com</textarea>") {
		t.Fatalf("a bad origin: %d\n%s", p.Status, p.Body)
	}

	p = c.Post("/integrations", webchatForm(`Shop <b>"chat"</b>`, "Ask <us>", "We answer & help.",
		" https://shop.example.com \n\nhttps://www.example.com:8443\n"))
	if p.Status != http.StatusCreated {
		t.Fatalf("create: %d\n%s", p.Status, p.Body)
	}
	m := integrationOnPage.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no integration id on the created page:\n%s", p.Body)
	}
	id := m[1]
	demo := "https://chat.example.com/webchat/" + id
	snippet := `<script src="` + demo + `/widget.js" async></script>`
	if !strings.Contains(p.Body, `<code id="webchat-snippet">`+html.EscapeString(snippet)+`</code>`) ||
		!strings.Contains(p.Body, `href="`+demo+`"`) || strings.Contains(p.Body, "/api/webhooks/webchat/") {
		t.Errorf("the created page does not show how to embed the chat:\n%s", p.Body)
	}

	// The settings reached the widget and the plugin.
	r := h.Do("GET", "/webchat/"+id+"/widget.js", nil, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"title":"Ask \u003cus\u003e"`) || !strings.Contains(string(r.Body), `"greeting":"We answer \u0026 help."`) {
		t.Errorf("widget.js: %d, the settings are not in it", r.Status)
	}
	post := func(origin string) int {
		return h.Do("POST", "/webchat/"+id+"/messages", map[string]string{"Origin": origin},
			map[string]any{"visitorId": strings.Repeat("v", 43), "messageId": "m-" + strings.NewReplacer(":", "", "/", "", ".", "").Replace(origin), "content": "hi"}).Status
	}
	if got := post("https://www.example.com:8443"); got != http.StatusAccepted {
		t.Errorf("from a listed website: %d", got)
	}
	if got := post("https://evil.example.net"); got != http.StatusForbidden {
		t.Errorf("from an unlisted website: %d", got)
	}

	// The integration's page, its card in the list and its API details
	// show the same snippet, and no inbound URL of the generic webhook.
	for _, path := range []string{"/integrations/" + id, "/integrations/" + id + "/api"} {
		p := c.Get(path)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, html.EscapeString(snippet)) || !strings.Contains(p.Body, `data-copy="webchat-snippet"`) ||
			!strings.Contains(p.Body, `href="`+demo+`"`) || strings.Contains(p.Body, "<script src=\"https://chat.example.com") {
			t.Errorf("%s: %d, does not show the snippet escaped with its copy button and the demo page", path, p.Status)
		}
	}
	if p := c.Get("/integrations"); !strings.Contains(p.Body, `href="`+demo+`"`) || strings.Contains(p.Body, "/api/webhooks/webchat/"+id) {
		t.Errorf("the list does not link the demo page")
	}
	// Editing: the settings are not shown, and the form says what an empty one does.
	if p := c.Get("/integrations/" + id + "/edit"); !strings.Contains(p.Body, `id="settings-kept"`) {
		t.Errorf("the edit form does not say how settings are kept")
	}
	// Stopped, the page says the widget is gone.
	c.Post("/integrations/"+id+"/stop", nil)
	if p := c.Get("/integrations/" + id); !strings.Contains(p.Body, `id="webchat-stopped"`) {
		t.Errorf("a stopped chat's page does not say so")
	}
}

// TestWebchatAPIDetails: the API details of a website chat describe what
// the widget posts, to the chat's own route without a key, and the
// response API that answers a visitor by the visitor id; Try Out builds
// the command for the visitors' route.
func TestWebchatAPIDetails(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	in := h.CreateIntegration(map[string]any{"name": "Shop", "kind": "webchat"})
	p := c.Get("/integrations/" + in.ID + "/api")
	if p.Status != http.StatusOK {
		t.Fatalf("api: %d\n%s", p.Status, p.Body)
	}
	for _, want := range []string{
		h.URL + "/webchat/" + in.ID + "/messages", `data-path="/webchat/` + in.ID + `/messages"`, "visitorId", "messageId", "allowedOrigins",
		"/webchat/" + in.ID + "/events?visitor={visitorId}", `<code>202</code>`, `<code>429</code>`,
		h.URL + "/integrations/live-chat/" + in.ID + "/chats/{chatIdentifier}/events", "Response API: answer a visitor", "Bearer sbr_…",
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(p.Body, "X-Api-Key") || strings.Contains(p.Body, "lists none") {
		t.Errorf("the page asks for a key, or says there is no response API")
	}
	sample := regexp.MustCompile(`(?s)<section class="api" id="api-inbound">.*?<textarea name="body"[^>]*>(.*?)</textarea>`).FindStringSubmatch(p.Body)
	if sample == nil {
		t.Fatalf("no sample body")
	}
	body := html.UnescapeString(sample[1])
	p = c.Post("/integrations/"+in.ID+"/api", url.Values{"api": {"inbound"}, "body": {body}})
	m := curlOnPage.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("curl: %d\n%s", p.Status, p.Body)
	}
	args := runCurl(t, t.TempDir(), html.UnescapeString(m[1]))
	if got := strings.Join(args, " "); !strings.Contains(got, "POST "+h.URL+"/webchat/"+in.ID+"/messages") || args[len(args)-1] != body ||
		strings.Contains(got, "Authorization") || strings.Contains(got, "X-Api-Key") {
		t.Errorf("curl args: %q", args)
	}
	// The sample posts as the widget does, and opens a conversation.
	r, err := http.Post(h.URL+"/webchat/"+in.ID+"/messages", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusAccepted || len(webchatConversations(t, h, in.ID)) != 1 {
		t.Errorf("the sample as sent: %d", r.StatusCode)
	}
}
