package adminui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

var eventRow = regexp.MustCompile(`<tr class="event" data-status="([a-z_]+)">`)

func statusesOf(body string) []string {
	var out []string
	for _, m := range eventRow.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func message(id string) map[string]any {
	return map[string]any{"messageId": id, "conversationId": "c1", "from": map[string]any{"externalId": "u1"}, "content": "hi"}
}

// TestEventsFilterAndFragment: the event log newest first, filtered by
// status; the table alone for the refresh keeps the filter.
func TestEventsFilterAndFragment(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	in := h.CreateIntegration(map[string]any{"name": "Shop", "kind": "custom"})
	h.PostCustom(in.ID, in.APIKey, message("m1"))          // ok
	h.PostCustom(in.ID, "sbk_wrong", message("m2"))        // signature_failure
	h.PostCustom(in.ID, in.APIKey, map[string]any{"x": 1}) // routing_error
	h.PostCustom(in.ID, in.APIKey, message("m1"))          // skip: a duplicate

	p := c.Get("/integrations/" + in.ID + "/events")
	if p.Status != http.StatusOK {
		t.Fatalf("events: %d\n%s", p.Status, p.Body)
	}
	if got := strings.Join(statusesOf(p.Body), " "); got != "skip routing_error signature_failure ok" {
		t.Errorf("all events, newest first: %q", got)
	}
	if !strings.Contains(p.Body, `data-refresh="/integrations/`+in.ID+`/events?fragment=events"`) {
		t.Errorf("the table does not refresh itself:\n%s", p.Body)
	}
	if !strings.Contains(p.Body, `href="/integrations" aria-current="page"`) {
		t.Errorf("the Integrations entry is not highlighted")
	}

	p = c.Get("/integrations/" + in.ID + "/events?status=signature_failure")
	if got := statusesOf(p.Body); len(got) != 1 || got[0] != "signature_failure" {
		t.Errorf("filtered by signature_failure: %v", got)
	}
	refresh := `data-refresh="/integrations/` + in.ID + `/events?fragment=events&amp;status=signature_failure"`
	if !strings.Contains(p.Body, refresh) {
		t.Errorf("the refresh forgets the filter; want %s in\n%s", refresh, p.Body)
	}

	f := c.Get("/integrations/" + in.ID + "/events?fragment=events&status=routing_error")
	if f.Status != http.StatusOK || strings.Contains(f.Body, "<html") || strings.Contains(f.Body, "<nav") {
		t.Fatalf("the fragment: %d, not the table alone:\n%s", f.Status, f.Body)
	}
	if got := statusesOf(f.Body); len(got) != 1 || got[0] != "routing_error" || !strings.Contains(f.Body, "messageId is required") {
		t.Errorf("the fragment filtered by routing_error: %v\n%s", got, f.Body)
	}
	if f := c.Get("/integrations/" + in.ID + "/events?fragment=events&status=ok"); len(statusesOf(f.Body)) != 1 {
		t.Errorf("the ok fragment: %v", statusesOf(f.Body))
	}
	if p := c.Get("/integrations/" + in.ID + "/events?status=nonsense"); len(statusesOf(p.Body)) != 4 {
		t.Errorf("an unknown status should show every event: %v", statusesOf(p.Body))
	}
	if p := c.Get("/integrations/" + in.ID + "/events?status=skip&limit=1"); len(statusesOf(p.Body)) != 1 {
		t.Errorf("limit=1: %v", statusesOf(p.Body))
	}
}

// TestAPIDetails: the custom webhook's endpoint, headers, fields and
// answers, and the response API's, with Try Out forms whose key is a
// password input the form never sends.
func TestAPIDetails(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	in := h.CreateIntegration(map[string]any{"name": "Shop", "kind": "custom"})
	p := c.Get("/integrations/" + in.ID + "/api")
	if p.Status != http.StatusOK {
		t.Fatalf("api: %d\n%s", p.Status, p.Body)
	}
	for _, want := range []string{
		in.InboundURL, "X-Api-Key", "Bearer sbk_…", "messageId", "conversationId", "from.externalId", "from.email", "contentType", "sentAt",
		`&#34;ok&#34;`, "signature_failure", "routing_error",
		h.URL + "/integrations/live-chat/" + in.ID + "/chats/{chatIdentifier}/events", "Bearer sbr_…", "MESSAGE | END", "msg",
		`<code>202</code>`, `<code>401</code>`, `<code>404</code>`, `<code>409</code>`, `<code>422</code>`,
		`data-path="/api/webhooks/custom/` + in.ID + `"`, `data-path="/integrations/live-chat/` + in.ID + `/chats/"`,
		`src="/static/tools.js"`,
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, input := range regexp.MustCompile(`<input type="password"[^>]*>`).FindAllString(p.Body, -1) {
		if strings.Contains(input, "name=") {
			t.Errorf("a key input would be posted: %s", input)
		}
	}
	if n := strings.Count(p.Body, `<input type="password"`); n != 2 {
		t.Errorf("%d key inputs, want 2", n)
	}
	if r, err := http.Get(h.URL + "/static/tools.js"); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("tools.js: %v %v", r, err)
	}

	// With a connection: its own inbound URL, and the response API's
	// sample answers through it.
	r := h.Admin("POST", "/api/connections", map[string]any{"code": "sms-shop", "channel": "SMS", "sender": "+15550001111",
		"provider": map[string]any{"accountSid": "AC" + strings.Repeat("1", 32), "authToken": "twilio-secret"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("connection: %d %s", r.Status, r.Body)
	}
	var conn struct{ InboundURL string }
	r.JSON(t, &conn)
	chat := h.CreateIntegration(map[string]any{"name": "Texts", "kind": "custom", "connections": []string{"sms-shop"}})
	p = c.Get("/integrations/" + chat.ID + "/api")
	for _, want := range []string{conn.InboundURL, "+15550001111", `"connection": "sms-shop"`} {
		if !strings.Contains(html.UnescapeString(p.Body), want) {
			t.Errorf("with a connection, the page lacks %q", want)
		}
	}
	if strings.Contains(p.Body, "twilio-secret") || strings.Contains(p.Body, "lists no connections") {
		t.Errorf("with a connection:\n%s", p.Body)
	}
}

var curlOnPage = regexp.MustCompile(`(?s)<pre id="curl-(?:inbound|response)" class="curl">(.*?)</pre>`)

// runCurl runs a built command in bash with curl replaced by a function
// that prints its arguments, and returns them.
func runCurl(t *testing.T, dir, cmd string, env ...string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := "curl() { printf '%s\\0' \"$@\"; }\n" + cmd + "\n"
	run := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	run.Dir = dir
	run.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := run.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, cmd)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// TestTryOutCurlQuoting: the curl command carries the body exactly, with
// quotes, command substitutions and newlines inert, and never the key.
func TestTryOutCurlQuoting(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	in := h.CreateIntegration(map[string]any{"name": "Shop", "kind": "custom"})
	body := "{\n  \"messageId\": \"it's $(touch pwned) `touch pwned2` ${HOME} \\\\\",\n  \"content\": \"line one\nline 'two'\"\n}\n'; touch pwned3; echo '"
	p := c.Post("/integrations/"+in.ID+"/api", url.Values{"api": {"inbound"}, "body": {body}, "keyAs": {"Authorization: Bearer"},
		"key": {"sbk_typed_secret"}})
	if p.Status != http.StatusOK {
		t.Fatalf("build curl: %d\n%s", p.Status, p.Body)
	}
	if strings.Contains(p.Body, "sbk_typed_secret") {
		t.Errorf("the page shows the key back")
	}
	m := curlOnPage.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no curl command on the page:\n%s", p.Body)
	}
	cmd := html.UnescapeString(m[1])
	if !strings.Contains(p.Body, "The body is not valid JSON") {
		t.Errorf("no warning about a body that is not JSON")
	}
	dir := t.TempDir()
	args := runCurl(t, dir, cmd, "SWITCHBOARD_API_KEY=sbk_from_env")
	want := []string{"-sS", "-X", "POST", in.InboundURL, "-H", "Content-Type: application/json", "-H", "Authorization: Bearer sbk_from_env", "--data-raw", body}
	if fmt.Sprintf("%q", args) != fmt.Sprintf("%q", want) {
		t.Errorf("curl gets\n%q\nwant\n%q\nfrom\n%s", args, want, cmd)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("the command ran something: %v", entries)
	}

	// The fragment the page's script asks for is the same command alone.
	f := c.Post("/integrations/"+in.ID+"/api?fragment=curl", url.Values{"api": {"inbound"}, "body": {`{"a": "it's"}`}})
	if f.Status != http.StatusOK || strings.Contains(f.Body, "<html") || !strings.Contains(f.Body, `--data-raw &#39;{&#34;a&#34;: &#34;it&#39;\&#39;&#39;s&#34;}&#39;`) {
		t.Errorf("the curl fragment: %d\n%s", f.Status, f.Body)
	}

	// The response API's command names the chat as one path segment.
	p = c.Post("/integrations/"+in.ID+"/api", url.Values{"api": {"response"}, "chat": {"+1 555 'x'/y"}, "body": {`{"type": "END"}`}})
	m = curlOnPage.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no response curl:\n%s", p.Body)
	}
	args = runCurl(t, dir, html.UnescapeString(m[1]), "SWITCHBOARD_RESPONSE_TOKEN=sbr_env")
	wantURL := h.URL + "/integrations/live-chat/" + in.ID + "/chats/+1%20555%20%27x%27%2Fy/events"
	if len(args) != 10 || args[3] != wantURL || args[7] != "Authorization: Bearer sbr_env" || args[9] != `{"type": "END"}` {
		t.Errorf("response curl gets %q, want URL %s", args, wantURL)
	}
}

// TestTryOutStaysOnThisHub: nothing in a Try Out form moves its command, or
// the page's Send, off this hub's own inbound endpoints.
func TestTryOutStaysOnThisHub(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	in := h.CreateIntegration(map[string]any{"name": "Shop", "kind": "custom"})
	path := "/integrations/" + in.ID + "/api"

	p := c.Post(path, url.Values{"api": {"inbound"}, "body": {"{}"}, "url": {"https://evil.example/steal"},
		"path": {"//evil.example/x"}, "target": {"http://169.254.169.254/"}})
	m := curlOnPage.FindStringSubmatch(p.Body)
	if m == nil || !strings.HasPrefix(html.UnescapeString(m[1]), "curl -sS -X POST '"+in.InboundURL+"'") {
		t.Errorf("the command left the inbound URL: %v", m)
	}
	for _, bad := range []string{"evil.example", "169.254.169.254"} {
		if strings.Contains(p.Body, bad) {
			t.Errorf("the page takes %s from the form", bad)
		}
	}
	if p := c.Post(path, url.Values{"api": {"https://evil.example/"}, "body": {"{}"}}); p.Status != http.StatusBadRequest {
		t.Errorf("an unknown API: %d, want 400", p.Status)
	}
	for _, chat := range []string{"..", ".", " .. ", ""} {
		p := c.Post(path, url.Values{"api": {"response"}, "chat": {chat}, "body": {"{}"}})
		if p.Status != http.StatusUnprocessableEntity || curlOnPage.MatchString(p.Body) {
			t.Errorf("chat %q: %d, a command was built", chat, p.Status)
		}
	}
	p = c.Post(path, url.Values{"api": {"response"}, "chat": {"../../../api/integrations"}, "body": {"{}"}})
	m = curlOnPage.FindStringSubmatch(p.Body)
	if m == nil || !strings.Contains(m[1], "/chats/..%2F..%2F..%2Fapi%2Fintegrations/events") {
		t.Errorf("a chat with slashes is not one path segment: %v", m)
	}

	// The page's Send builds its URL the same way: from the page's paths,
	// on the page's own origin.
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node to run static/tools.js")
	}
	script := `
const {sendURL} = require(process.argv[1]);
const o = "https://hub.example";
const out = {};
const cases = {
  inbound: ["/api/webhooks/custom/ID", ""],
  response: ["/integrations/live-chat/ID/chats/", "+1 555/../x"],
  dots: ["/integrations/live-chat/ID/chats/", ".."],
  encodedDots: ["/integrations/live-chat/ID/chats/", "%2e%2e"],
  absolute: ["https://evil.example/api/webhooks/custom/ID", ""],
  protocolRelative: ["//evil.example/api/webhooks/custom/ID", ""],
  adminAPI: ["/api/integrations/ID", ""],
  traversal: ["/api/webhooks/custom/..", ""],
  traversal2: ["/api/webhooks/%2e%2e/ID", ""],
  query: ["/api/webhooks/custom/ID?x=1", ""],
  emptyChat: ["/integrations/live-chat/ID/chats/", " "],
  visitor: ["/webchat/ID/messages", ""],
  visitorTraversal: ["/webchat/../messages", ""],
  visitorOther: ["/webchat/ID/widget.js", ""],
};
for (const [k, [p, chat]] of Object.entries(cases)) {
  try { out[k] = sendURL(p, chat, o); } catch (e) { out[k] = "refused"; }
}
console.log(JSON.stringify(out));
`
	js, _ := filepath.Abs("static/tools.js")
	raw, err := exec.Command(node, "-e", script, js).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal(bytes.TrimSpace(raw), &got); err != nil {
		t.Fatalf("node said %s", raw)
	}
	want := map[string]string{
		"inbound":          "https://hub.example/api/webhooks/custom/ID",
		"response":         "https://hub.example/integrations/live-chat/ID/chats/%2B1%20555%2F..%2Fx/events",
		"dots":             "refused",
		"encodedDots":      "https://hub.example/integrations/live-chat/ID/chats/%252e%252e/events",
		"absolute":         "refused",
		"protocolRelative": "refused",
		"adminAPI":         "refused",
		"traversal":        "refused",
		"traversal2":       "refused",
		"query":            "refused",
		"emptyChat":        "refused",
		"visitor":          "https://hub.example/webchat/ID/messages",
		"visitorTraversal": "refused",
		"visitorOther":     "refused",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("sendURL %s: %q, want %q", k, got[k], w)
		}
	}
}

// deliveringIntegration makes an integration whose target is a receiver
// with a bearer secret.
func deliveringIntegration(t *testing.T, h *apptest.Hub, rc *apptest.Receiver, transform string) apptest.Integration {
	d := map[string]any{"method": "POST", "url": rc.URL + "/hook", "auth": map[string]any{"type": "bearer", "token": "tok-s3cret"},
		"headers": []map[string]any{{"key": "X-Channel", "type": "variable", "value": "channel"}}}
	if transform != "" {
		d["transform"] = transform
	}
	return h.CreateIntegration(map[string]any{"name": "Shop", "kind": "custom", "delivery": d})
}

// TestTransformErrorNamesItsLine: a script that throws shows the error,
// its line named and marked, with and without the page's script.
func TestTransformErrorNamesItsLine(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	in := deliveringIntegration(t, h, apptest.NewReceiver(t), "")

	p := c.Get("/integrations/" + in.ID + "/transform")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "function transform(request, event)") || !strings.Contains(p.Body, `&#34;integrationId&#34;: &#34;`+in.ID) {
		t.Fatalf("the editor: %d\n%s", p.Status, p.Body)
	}
	script := "function transform(request, event) {\n  var who = event[\"contact.name\"];\n  throw new Error(\"no luck for \" + who);\n  return request;\n}\n"
	form := url.Values{"script": {script}, "event": {`{"contact.name": "Ana"}`}}
	p = c.Post("/integrations/"+in.ID+"/transform/test", form)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Error on line 3") || !strings.Contains(p.Body, "no luck for Ana") {
		t.Fatalf("a throwing script: %d\n%s", p.Status, p.Body)
	}
	marked := regexp.MustCompile(`<li class="error-line"[^>]*><code>([^<]*)</code>`).FindStringSubmatch(p.Body)
	if marked == nil || !strings.Contains(html.UnescapeString(marked[1]), `throw new Error("no luck for " + who);`) {
		t.Errorf("the line is not marked: %v", marked)
	}
	if !strings.Contains(p.Body, `<textarea id="script"`) || !strings.Contains(html.UnescapeString(p.Body), script) {
		t.Errorf("the editor lost the script")
	}
	f := c.Post("/integrations/"+in.ID+"/transform/test?fragment=result", form)
	if f.Status != http.StatusOK || strings.Contains(f.Body, "<textarea") || !strings.Contains(f.Body, `data-error-line="3"`) {
		t.Errorf("the result fragment: %d\n%s", f.Status, f.Body)
	}

	// A script that works: the request, its headers (the secret hidden),
	// its body and the console.
	ok := "function transform(request, event) {\n  console.log(\"for\", event.conversationId);\n  request.body.shout = event.content.toUpperCase();\n  return request;\n}"
	p = c.Post("/integrations/"+in.ID+"/transform/test", url.Values{"script": {ok}, "event": {`{"content": "hello", "conversationId": "c-42"}`}})
	for _, want := range []string{"The request that would be sent", "/hook", "Authorization", "********", "X-Channel", "&#34;shout&#34;: &#34;HELLO&#34;", "for c-42"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("a working test lacks %q", want)
		}
	}
	if strings.Contains(p.Body, "tok-s3cret") {
		t.Errorf("a test shows the target's secret")
	}
	p = c.Post("/integrations/"+in.ID+"/transform/test", url.Values{"script": {ok}, "event": {`[1, 2`}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "The sample event is not a JSON object") {
		t.Errorf("a broken event: %d", p.Status)
	}
}

// TestTransformSaveKeepsTheAuthSecret: saving a transform sends the target
// back with its secret redacted, and the stored secret is still the one
// deliveries use. A script that does not compile is refused beside the
// editor and changes nothing.
func TestTransformSaveKeepsTheAuthSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
		rc := apptest.NewReceiver(t)
		in := deliveringIntegration(t, h, rc, "")
		script := "function transform(request, event) {\n  request.headers[\"X-Shaped\"] = \"yes\";\n  return request;\n}\n"
		p := c.Post("/integrations/"+in.ID+"/transform", url.Values{"script": {script}, "event": {"{}"}})
		if p.Status != http.StatusSeeOther || p.Location != "/integrations/"+in.ID+"/transform?done=saved" {
			t.Fatalf("save: %d %s\n%s", p.Status, p.Location, p.Body)
		}
		if p := c.Get(p.Location); !strings.Contains(p.Body, "Saved.") || !strings.Contains(p.Body, "X-Shaped") {
			t.Errorf("after saving: %s", p.Body)
		}
		stored := storedTarget(t, h, in.ID)
		if stored.Auth == nil || stored.Auth.Token != "tok-s3cret" || stored.Transform != script || len(stored.Headers) != 1 {
			t.Fatalf("stored target: %+v auth %+v", stored, stored.Auth)
		}

		bad := "function transform(request, event) {\n  return request;\n  }}\n"
		p = c.Post("/integrations/"+in.ID+"/transform", url.Values{"script": {bad}, "event": {"{}"}})
		if p.Status != http.StatusUnprocessableEntity || !regexp.MustCompile(`<p class="field-error" id="script-error"[^>]*>delivery.transform: [^<]*line 3`).MatchString(p.Body) {
			t.Errorf("a script that does not compile: %d\n%s", p.Status, p.Body)
		}
		if !strings.Contains(p.Body, "  }}") {
			t.Errorf("the refused script is not kept in the editor")
		}
		if got := storedTarget(t, h, in.ID); got.Transform != script || got.Auth.Token != "tok-s3cret" {
			t.Errorf("a refused save changed the target: %+v", got)
		}

		// A delivery goes out with the stored secret and the saved script.
		h.PostCustom(in.ID, in.APIKey, message("m1"))
		var convs struct{ Conversations []struct{ ID string } }
		h.Admin("GET", "/api/conversations?integrationId="+in.ID, nil).JSON(t, &convs)
		if len(convs.Conversations) != 1 {
			t.Fatalf("conversations: %+v", convs)
		}
		if r := h.Admin("POST", "/api/conversations/"+convs.Conversations[0].ID+"/messages", map[string]any{"content": "on its way"}); r.Status != http.StatusCreated {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			if len(rc.Requests()) == 0 {
				return fmt.Errorf("nothing delivered")
			}
			return nil
		})
		got := rc.Requests()[0]
		if got.Header.Get("Authorization") != "Bearer tok-s3cret" || got.Header.Get("X-Shaped") != "yes" {
			t.Errorf("delivered with %v", got.Header)
		}

		// Emptying the editor removes the transform, and keeps the secret.
		if p := c.Post("/integrations/"+in.ID+"/transform", url.Values{"script": {"  \n"}}); p.Status != http.StatusSeeOther {
			t.Errorf("removing the transform: %d\n%s", p.Status, p.Body)
		}
		if got := storedTarget(t, h, in.ID); got.Transform != "" || got.Auth.Token != "tok-s3cret" {
			t.Errorf("after removing the transform: %+v", got)
		}

		// The starting point the editor offers changes nothing, and is not stored.
		m := regexp.MustCompile(`(?s)<textarea id="script"[^>]*>(.*?)</textarea>`).FindStringSubmatch(c.Get("/integrations/" + in.ID + "/transform").Body)
		if m == nil || !strings.Contains(m[1], "function transform") {
			t.Fatalf("no starting point in the editor: %v", m)
		}
		if p := c.Post("/integrations/"+in.ID+"/transform", url.Values{"script": {html.UnescapeString(m[1])}}); p.Status != http.StatusSeeOther {
			t.Errorf("saving the starting point: %d", p.Status)
		}
		if got := storedTarget(t, h, in.ID); got.Transform != "" {
			t.Errorf("the starting point was stored: %q", got.Transform)
		}
	})
}

func storedTarget(t *testing.T, h *apptest.Hub, id string) *delivery.Target {
	t.Helper()
	ctx := context.Background()
	ws, err := h.App.Store.EnsureWorkspace(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	in, err := h.App.Store.Integration(ctx, ws.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := delivery.ParseTarget(in.Delivery, nil, nil)
	if err != nil {
		t.Fatalf("stored target %s: %v", in.Delivery, err)
	}
	return tg
}

// TestTransformWithoutTarget: the editor says a transform needs a target
// and Save refuses; an outbound URL becomes a full target on Save.
func TestTransformWithoutTarget(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	none := h.CreateIntegration(map[string]any{"name": "Bare", "kind": "custom"})
	p := c.Get("/integrations/" + none.ID + "/transform")
	if !strings.Contains(p.Body, "has no delivery target") || strings.Contains(p.Body, "data-save") {
		t.Errorf("without a target:\n%s", p.Body)
	}
	if p := c.Post("/integrations/"+none.ID+"/transform/test", url.Values{"script": {"function transform(r, e) { return r; }"}, "event": {"{}"}}); !strings.Contains(p.Body, "https://example.com/webhook") {
		t.Errorf("Test without a target does not use the sample one:\n%s", p.Body)
	}
	p = c.Post("/integrations/"+none.ID+"/transform", url.Values{"script": {"function transform(r, e) { return r; }"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="script-error"`) {
		t.Errorf("saving without a target: %d", p.Status)
	}

	rc := apptest.NewReceiver(t)
	short := h.CreateIntegration(map[string]any{"name": "Short", "kind": "custom", "outboundUrl": rc.URL + "/out"})
	if p := c.Post("/integrations/"+short.ID+"/transform", url.Values{"script": {"function transform(r, e) { return r; }"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("saving on an outbound URL: %d\n%s", p.Status, p.Body)
	}
	if got := storedTarget(t, h, short.ID); got.URL != rc.URL+"/out" || got.Method != "POST" || got.Body != nil || got.Transform == "" {
		t.Errorf("the outbound URL became %+v", got)
	}
}

// toolForm is a form that each tool's POST takes, fresh for each request
// (a client adds its CSRF token to it).
func toolForm() url.Values {
	return url.Values{"api": {"inbound"}, "body": {"{}"}, "script": {"function transform(r, e) { return r; }"}, "event": {"{}"}}
}

// toolPaths are every page and form of the tools.
func toolPaths(id string) []struct{ method, path string } {
	return []struct{ method, path string }{
		{"GET", "/integrations/" + id + "/events"},
		{"GET", "/integrations/" + id + "/events?fragment=events"},
		{"GET", "/integrations/" + id + "/api"},
		{"POST", "/integrations/" + id + "/api"},
		{"GET", "/integrations/" + id + "/transform"},
		{"POST", "/integrations/" + id + "/transform/test"},
		{"POST", "/integrations/" + id + "/transform"},
	}
}

// TestToolsNeedStaff: an agent gets 403 on every tool.
func TestToolsNeedStaff(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := deliveringIntegration(t, h, apptest.NewReceiver(t), "")
	agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
	admin := h.LoginUI("admin@example.com", h.NewUser("admin@example.com", domain.RoleAdmin))
	for _, tp := range toolPaths(in.ID) {
		var p, q *apptest.UIPage
		if tp.method == "GET" {
			p, q = agent.Get(tp.path), admin.Get(tp.path)
		} else {
			p, q = agent.Post(tp.path, toolForm()), admin.Post(tp.path, toolForm())
		}
		if p.Status != http.StatusForbidden {
			t.Errorf("agent %s %s: %d, want 403", tp.method, tp.path, p.Status)
		}
		if q.Status >= 400 {
			t.Errorf("admin %s %s: %d\n%s", tp.method, tp.path, q.Status, q.Body)
		}
	}
}

// TestToolsOfAnotherWorkspace: another workspace's integration is not
// found, on every tool.
func TestToolsOfAnotherWorkspace(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := deliveringIntegration(t, h, apptest.NewReceiver(t), "")
	c := h.LoginUI("x@example.com", h.NewUserIn("other", "x@example.com", domain.RoleOwner))
	for _, tp := range toolPaths(in.ID) {
		var p *apptest.UIPage
		if tp.method == "GET" {
			p = c.Get(tp.path)
		} else {
			p = c.Post(tp.path, toolForm())
		}
		if p.Status != http.StatusNotFound || strings.Contains(p.Body, "Shop") || strings.Contains(p.Body, "/hook") {
			t.Errorf("%s %s: %d, want 404", tp.method, tp.path, p.Status)
		}
	}
	if got := storedTarget(t, h, in.ID); got.Transform != "" {
		t.Errorf("another workspace saved a transform")
	}
}
