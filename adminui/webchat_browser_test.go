package adminui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/browsertest"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// The website chat in real browsers: a visitor writes in the widget on a
// customer's website (another origin than the hub's), an agent answers in
// the admin UI's inbox in a second browser, and the answer appears in the
// widget without a reload.

// widget drives the website chat's widget in a page. The widget lives in
// the open shadow root of the element its script adds to the page, which
// the browser's selectors do not reach: its parts are found by their part
// attribute, in page scripts.
type widget struct {
	t *testing.T
	b *browsertest.Browser
}

// widgetJS finds the widget's shadow root and a part of it.
const widgetJS = `const host = document.querySelector("[data-switchboard-webchat]");
	const root = host && host.shadowRoot;
	const part = (name) => root && root.querySelector('[part~="' + name + '"]');`

// wait waits until the JavaScript condition, which may use root and part,
// holds in the page.
func (w widget) wait(cond string, args ...any) {
	w.t.Helper()
	fn := "(...args) => { " + widgetJS + " return !!(" + cond + "); }"
	w.b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.PollFunction[bool](fn, chromedp.WithPollingArgs(args...), chromedp.WithPollingTimeout(0))(ctx, t)
		return err
	}))
}

// eval evaluates a JavaScript expression, which may use root and part, and
// decodes its value into out.
func (w widget) eval(expr string, out any) {
	w.t.Helper()
	w.b.Eval("(() => { "+widgetJS+" return ("+expr+"); })()", out)
}

// waitLog waits until the panel's messages contain text (shown or not:
// the panel may be closed).
func (w widget) waitLog(text string) {
	w.t.Helper()
	w.wait(`part("log") && part("log").textContent.includes(args[0])`, text)
}

// click clicks the middle of a part with the mouse, as a person would.
func (w widget) click(name string) {
	w.t.Helper()
	w.wait(`part(args[0]) && part(args[0]).getClientRects().length > 0`, name)
	var at struct{ X, Y float64 }
	w.eval(`(() => { const r = part(`+jsString(name)+`).getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`, &at)
	w.b.Do(chromedp.MouseClickXY(at.X, at.Y))
}

// open opens the panel with the button.
func (w widget) open() {
	w.t.Helper()
	w.click("launcher")
	w.wait(`part("panel").getClientRects().length > 0 && root.activeElement === part("input")`)
}

// write types a message into the box key by key and sends it with Enter,
// or with the Send button when button is set, then waits until the hub
// has stored it and the stream has brought it back: it shows once, no
// longer faded.
func (w widget) write(text string, button bool) {
	w.t.Helper()
	w.click("input")
	w.b.Do(chromedp.KeyEvent(text))
	if button {
		w.click("send")
	} else {
		w.b.Do(pressEnter)
	}
	w.wait(`[...root.querySelectorAll('[part~="visitor"]')].filter((b) => b.textContent === args[0] && b.parentNode.style.opacity !== "0.6").length === 1 &&
		part("input").value === ""`, text)
}

// pressEnter presses Enter as a keyboard does: the key's text comes with
// its keydown, so a page that prevents the keydown's default gets no new
// line (chromedp.KeyEvent types the text in a separate event, which would).
var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	enc := kb.Encode('\r')
	down, up := *enc[0], *enc[len(enc)-1]
	down.Type, down.Text, down.UnmodifiedText = kb.KeyDown, "\r", "\r"
	if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
		return err
	}
	_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, up)
	return err
})

// follow clicks what sel matches, a link or a form's button, and waits
// until the page it leads to has loaded: a wait right after a plain Click
// could poll the page being left.
func follow(b *browsertest.Browser, sel string) {
	b.Do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		return err
	}))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// customerSite serves a page of a customer's website that embeds the
// widget of integration id from hub, under a strict Content-Security-Policy
// that allows the hub in script-src and connect-src only, as the docs say.
func customerSite(t *testing.T, hubURL, id string) *httptest.Server {
	t.Helper()
	return customerSiteOn(t, listen(t), hubURL, id)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// customerSiteOn is customerSite on a listener of the test's.
func customerSiteOn(t *testing.T, l net.Listener, hubURL, id string) *httptest.Server {
	t.Helper()
	script := hubURL + "/webchat/" + id + "/widget.js"
	site := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src "+hubURL+"; connect-src "+hubURL+
			"; base-uri 'none'; form-action 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Query().Has("twice") {
			// Embedded twice, in order, both run before the page's load.
			fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Twice</title></head>
<body><p>The chat, twice.</p><script src="%[1]s"></script><script src="%[1]s"></script></body></html>`, html.EscapeString(script))
			return
		}
		fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ada's Shop</title></head>
<body>
<h1>Ada's Shop</h1>
<p>Welcome to the shop.</p>
<script src="%s" async data-name="Ada Lovelace" data-email="ada@example.com"></script>
</body></html>`, html.EscapeString(script))
	}))
	site.Listener.Close()
	site.Listener = l
	site.Start()
	t.Cleanup(site.Close)
	return site
}

// liveWait bounds a wait for the live notifier's news. It is generous, and
// shorter than the streams' 25-second heartbeat, after which a stream reads
// the conversation again whether told or not.
const liveWait = 20 * time.Second

type webchatConversation struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId"`
	Status     string `json:"status"`
	Contact    struct {
		ExternalID string `json:"externalId"`
		Name       string `json:"name"`
		Email      string `json:"email"`
	} `json:"contact"`
}

func webchatConversations(t *testing.T, h *apptest.Hub, integrationID string) []webchatConversation {
	t.Helper()
	var list struct {
		Conversations []webchatConversation `json:"conversations"`
	}
	h.Admin("GET", "/api/conversations?integrationId="+integrationID, nil).JSON(t, &list)
	return list.Conversations
}

// onlyLive waits until the inbox in b is told of changes live, then puts
// off its timed refreshes for an hour, and waits until the refresh that
// this starts is done: after it, the list and the thread change only when
// the hub tells the page of a change.
func onlyLive(b *browsertest.Browser) {
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.PollFunction[bool](`() => document.body.dataset.live === "open"`, chromedp.WithPollingTimeout(0))(ctx, t)
		return err
	}))
	const start = `(() => {
		const fetched = () => performance.getEntriesByType("resource").filter((e) => e.name.includes("fragment=")).length;
		const before = fetched();
		const parts = document.querySelectorAll("[data-refresh]");
		parts.forEach((el) => { el.dataset.everyLive = "3600000"; el.dispatchEvent(new CustomEvent("refresh-now")); });
		return before + parts.length;
	})()`
	var want int
	b.Eval(start, &want)
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.PollFunction[bool](`(want) => performance.getEntriesByType("resource").filter((e) => e.name.includes("fragment=")).length >= want`,
			chromedp.WithPollingArgs(want), chromedp.WithPollingTimeout(0))(ctx, t)
		return err
	}))
}

// loginBrowser logs a user in to the admin UI in the browser.
func loginBrowser(b *browsertest.Browser, h *apptest.Hub, email, password string) {
	b.Go(h.URL + "/login")
	b.Fill("input[name=email]", email)
	b.Fill("input[name=password]", password)
	follow(b, "button[type=submit]")
	b.WaitVisible("nav")
}

// TestWebchatVisitorAndAgentInBrowsers: a visitor writes in the widget on
// a customer's page of another origin, which loads the widget from the hub
// under its own strict CSP; the message becomes a conversation; an agent
// answers in the inbox of the admin UI in a second browser, and the answer
// appears in the widget without a reload. Markup in a visitor's message is
// text in the widget and in the inbox, and runs nowhere. After a reload the
// visitor has the same identity, the history shows again, and the same
// conversation continues, live. On PostgreSQL the agent uses a second hub
// process on the same database, so the answer reaches the visitor's stream
// through LISTEN/NOTIFY.
func TestWebchatVisitorAndAgentInBrowsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db string) {
		hub := apptest.Start(t, db)
		agentHub := hub
		if !strings.HasPrefix(db, "sqlite") {
			agentHub = apptest.Start(t, db)
		}
		in := hub.CreateIntegration(map[string]any{"name": "Shop chat", "kind": "webchat",
			"config": map[string]any{"title": "Ask Ada's Shop", "greeting": "We answer within minutes."}})
		site := customerSite(t, hub.URL, in.ID)
		if strings.TrimPrefix(site.URL, "http://") == strings.TrimPrefix(hub.URL, "http://") {
			t.Fatal("the customer's site must be another origin than the hub")
		}

		visitor := widget{t, browsertest.New(t)}
		visitor.b.Go(site.URL + "/")
		visitor.wait(`part("launcher") && part("launcher").textContent === "Ask Ada's Shop"`)
		visitor.open()
		visitor.wait(`part("header").textContent.startsWith("Ask Ada's Shop") && part("greeting").textContent === "We answer within minutes."`)

		const hello = "Hello, where is my order #1042?"
		visitor.write(hello, false)

		// The message is a conversation of the integration's, named by the
		// visitor id the widget keeps for this website.
		var visitorID string
		visitor.b.Eval(`localStorage.getItem("switchboard-webchat:`+hub.URL+`/webchat/`+in.ID+`:visitor")`, &visitorID)
		convs := webchatConversations(t, hub, in.ID)
		if len(convs) != 1 || convs[0].ExternalID != visitorID || len(visitorID) != 43 || convs[0].Status != "open" ||
			convs[0].Contact.Name != "Ada Lovelace" || convs[0].Contact.Email != "ada@example.com" {
			t.Fatalf("visitor %q: conversations %+v", visitorID, convs)
		}
		conv := convs[0].ID

		// The agent answers in the inbox, in a browser of their own.
		agent := browsertest.New(t)
		loginBrowser(agent, agentHub, "agent@example.com", agentHub.NewUser("agent@example.com", "agent"))
		agent.Go(agentHub.URL + "/conversations")
		agent.WaitText("#thread-"+conv, "Ada Lovelace")
		agent.WaitText("#thread-"+conv, "Ask Ada's Shop")
		follow(agent, "#thread-"+conv+" a")
		agent.WaitText("#messages", hello)
		agent.WaitText("#thread-integration", "Shop chat")
		const reply = "Thanks, Ada! <b>Your order</b> ships today & arrives Friday."
		agent.Fill("#reply-content", reply)
		// The visitor's hub hears of the reply: on PostgreSQL, from the
		// agent's hub through the database, not by re-reading on its own.
		heard := hub.App.Live.Subscribe(live.Conversation(conv))
		defer heard.Close()
		follow(agent, "#reply-send")
		agent.WaitText("#messages", reply)
		select {
		case <-heard.C():
		case <-time.After(liveWait):
			t.Fatal("the visitor's hub was not told of the agent's reply")
		}

		// It appears in the widget, live, as text.
		visitor.waitLog(reply)
		visitor.wait(`[...root.querySelectorAll('[part~="agent"]')].some((b) => b.textContent === args[0]) && !root.querySelector("b")`, reply)

		// Markup a visitor writes is text everywhere: nothing runs, nothing
		// loads, no CSP violation (the browsers report any).
		// From here the inbox refreshes only when the hub tells it of a
		// change: its timers are put off for an hour.
		onlyLive(agent)

		const hostile = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2">`
		visitor.write(hostile, true)
		agent.WaitText("#threads", "Ada Lovelace")
		agent.WaitText("#messages", hostile)
		var clean bool
		agent.Eval(`window.pwned === undefined && !document.querySelector("#messages img, #messages script")`, &clean)
		if !clean {
			t.Error("the visitor's markup became elements in the inbox")
		}
		visitor.eval(`window.pwned === undefined && !root.querySelector("img, script")`, &clean)
		if !clean {
			t.Error("the visitor's markup became elements in the widget")
		}

		// A reload: the same visitor, the history again, without an unread
		// count for replies read before, and the same conversation goes on.
		visitor.b.Go(site.URL + "/")
		visitor.waitLog(reply)
		visitor.waitLog(hostile)
		var again string
		visitor.b.Eval(`localStorage.getItem("switchboard-webchat:`+hub.URL+`/webchat/`+in.ID+`:visitor")`, &again)
		if again != visitorID {
			t.Fatalf("visitor id after a reload: %q, was %q", again, visitorID)
		}
		var launcher string
		visitor.eval(`part("launcher").textContent`, &launcher)
		if launcher != "Ask Ada's Shop" {
			t.Errorf("the button after a reload says %q: the replies were read before it", launcher)
		}
		visitor.open()
		visitor.wait(`part("log").innerText.includes(args[0]) && part("log").innerText.includes(args[1])`, hello, reply)
		const more = "And can I change the address?"
		visitor.write(more, true)
		agent.WaitText("#messages", more)
		if convs := webchatConversations(t, hub, in.ID); len(convs) != 1 || convs[0].ID != conv {
			t.Fatalf("after a reload: conversations %+v, want only %s", convs, conv)
		}

		// Enter that ends an input method's composition sends nothing.
		visitor.click("input")
		visitor.b.Do(chromedp.KeyEvent("a word"))
		visitor.eval(`part("input").dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", isComposing: true, bubbles: true, cancelable: true}))`, nil)
		var typed string
		visitor.eval(`part("input").value`, &typed)
		if typed != "a word" {
			t.Errorf("after Enter in a composition the box holds %q", typed)
		}
		visitor.eval(`part("input").value = ""`, nil)

		// The reopened stream is live: an answer that arrives while the
		// panel is closed shows, and is counted on the button until opened.
		visitor.click("close")
		const second = "Yes: reply with the new one."
		agent.Fill("#reply-content", second)
		follow(agent, "#reply-send")
		agent.WaitText("#messages", second)
		visitor.waitLog(second)
		visitor.wait(`part("launcher").textContent === "Ask Ada's Shop (1)"`)
		visitor.open()
		visitor.wait(`part("launcher").textContent === "Ask Ada's Shop" && part("log").innerText.includes(args[0])`, second)

		// The agent ends the chat: the widget says so, and the visitor's
		// next message opens a new conversation, which is answered live too.
		if r := agentHub.Admin("POST", "/api/conversations/"+conv+"/end", nil); r.Status != http.StatusOK {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		visitor.wait(`part("notice").textContent.includes("This chat has ended")`)
		visitor.write("One more thing, please", false)
		visitor.wait(`part("notice").textContent === ""`)
		convs = webchatConversations(t, hub, in.ID)
		if len(convs) != 2 || convs[0].ID == conv || convs[0].ExternalID != visitorID || convs[0].Status != "open" {
			t.Fatalf("after the end: conversations %+v", convs)
		}
		const third = "Of course: what is it?"
		if r := agentHub.Admin("POST", "/api/conversations/"+convs[0].ID+"/messages", map[string]any{"content": third}); r.Status != http.StatusCreated {
			t.Fatalf("reply in the new conversation: %d %s", r.Status, r.Body)
		}
		visitor.waitLog(third)
	})
}

// TestWebchatDemoPageAndAllowedOrigins: the hub's demo page shows the
// snippet to embed, as text, and its widget works even when the
// integration lists the websites allowed to post (allowedOrigins), which
// the hub's own origin need not be in; a page of a listed website posts; a
// page of an unlisted one is refused, and the widget says why and gives the
// text back.
func TestWebchatDemoPageAndAllowedOrigins(t *testing.T) {
	hub := apptest.Start(t, storetest.SQLite(t))
	listed := listen(t)
	in := hub.CreateIntegration(map[string]any{"name": "Shop chat", "kind": "webchat",
		"config": map[string]any{"allowedOrigins": []string{"http://" + listed.Addr().String()}}})
	site := customerSiteOn(t, listed, hub.URL, in.ID)
	unlisted := customerSite(t, hub.URL, in.ID)

	b := browsertest.New(t)
	w := widget{t, b}
	b.Go(hub.URL + "/webchat/" + in.ID)
	b.WaitText("h1", "Chat with us")
	snippet := `<script src="` + hub.URL + `/webchat/` + in.ID + `/widget.js" async></script>`
	if got := b.Text("pre code"); got != snippet {
		t.Errorf("the demo page's snippet reads %q, want %q", got, snippet)
	}
	w.open()
	w.write("Trying the demo page", false)
	if convs := webchatConversations(t, hub, in.ID); len(convs) != 1 {
		t.Fatalf("after the demo page: conversations %+v", convs)
	}

	b.Go(unlisted.URL + "/")
	w.open()
	w.click("input")
	b.Do(chromedp.KeyEvent("From an unlisted website"))
	b.Do(pressEnter)
	w.wait(`part("notice").textContent.includes("allowed websites only") && part("input").value === args[0] &&
		!root.querySelector('[part~="visitor"]')`, "From an unlisted website")
	for _, p := range b.Problems() {
		// The refusal, which the browser logs as a failed request.
		if p.Kind != browsertest.ConsoleError || !strings.Contains(p.Text, "403") {
			t.Errorf("the unlisted website's page reported %s", p)
		}
	}

	b.Go(site.URL + "/")
	w.open()
	w.write("From the shop", true)

	// A page that embeds the chat twice shows it once.
	b.Go(site.URL + "/?twice")
	var widgets int
	b.Eval(`document.querySelectorAll("[data-switchboard-webchat]").length`, &widgets)
	if widgets != 1 {
		t.Errorf("the chat embedded twice shows %d times", widgets)
	}
	if convs := webchatConversations(t, hub, in.ID); len(convs) != 2 {
		t.Fatalf("after the listed website: conversations %+v", convs)
	}
}

// TestWebchatCreatedInTheBrowser: an admin creates a website chat with the
// form in a browser, copies the line to embed it with its button, and the
// demo page it links to shows the chat with the settings typed.
func TestWebchatCreatedInTheBrowser(t *testing.T) {
	hub := apptest.Start(t, storetest.SQLite(t))
	b := browsertest.New(t)
	loginBrowser(b, hub, "admin@example.com", hub.NewUser("admin@example.com", "admin"))
	b.Go(hub.URL + "/integrations/new")
	b.Fill("select[name=kind]", "webchat") // the form reloads with the kind's settings
	b.WaitVisible(`textarea[name="config.allowedOrigins"]`)
	b.Fill("input[name=name]", "Website")
	b.Fill(`input[name="config.title"]`, "Questions? Ask us")
	b.Fill(`input[name="config.greeting"]`, "We answer within minutes.")
	b.Fill(`textarea[name="config.allowedOrigins"]`, "https://shop.example.com\nhttps://www.example.com")
	follow(b, "button.primary[type=submit]")
	b.WaitText("h1", "Website is created")

	b.Click("#webchat-snippet-copy")
	b.WaitText("#webchat-snippet-copy", "Copied")
	snippet := b.Clipboard()
	var demo string
	b.Eval(`document.getElementById("webchat-demo").href`, &demo)
	if want := `<script src="` + demo + `/widget.js" async></script>`; snippet != want || !strings.HasPrefix(demo, hub.URL+"/webchat/") {
		t.Fatalf("copied %q, demo page %q", snippet, demo)
	}

	// The demo page shows the same line, and the chat as typed.
	b.Go(demo)
	if got := b.Text("pre code"); got != snippet {
		t.Errorf("the demo page's snippet %q, the UI's %q", got, snippet)
	}
	w := widget{t, b}
	w.open()
	w.wait(`part("header").textContent.startsWith("Questions? Ask us") && part("greeting").textContent === "We answer within minutes."`)
	w.write("Hello from the demo page", false)

	// Try Out on the API details posts a visitor's message from the admin UI.
	id := strings.TrimPrefix(demo, hub.URL+"/webchat/")
	b.Go(hub.URL + "/integrations/" + id + "/api")
	b.WaitText("#webchat-snippet", snippet)
	b.Click("#api-inbound [data-send]")
	b.WaitText("#api-inbound [data-output]", "HTTP 202")
	if convs := webchatConversations(t, hub, id); len(convs) != 2 {
		t.Errorf("after the demo page and Try Out: conversations %+v", convs)
	}
}

// streamCutter is a reverse proxy in front of a hub that can cut the open
// event streams, as a proxy or a network does, and hold the browser's
// reconnections until let through.
type streamCutter struct {
	*httptest.Server
	mu      sync.Mutex
	cancels []context.CancelFunc
	gate    chan struct{} // closed: reconnections go through
	lastIDs []string      // the Last-Event-ID of each stream request
}

func newStreamCutter(t *testing.T, hubURL string) *streamCutter {
	target, err := url.Parse(hubURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	c := &streamCutter{gate: make(chan struct{})}
	close(c.gate)
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/events") {
			c.mu.Lock()
			gate := c.gate
			c.lastIDs = append(c.lastIDs, r.Header.Get("Last-Event-ID"))
			c.mu.Unlock()
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
			ctx, cancel := context.WithCancel(r.Context())
			c.mu.Lock()
			c.cancels = append(c.cancels, cancel)
			c.mu.Unlock()
			r = r.WithContext(ctx)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

// cut ends the open streams and holds the reconnections.
func (c *streamCutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gate = make(chan struct{})
	for _, cancel := range c.cancels {
		cancel()
	}
	c.cancels = nil
}

// open lets the reconnections through.
func (c *streamCutter) open() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.gate)
}

// streamRequests is how many stream requests came, and the Last-Event-ID
// of the last one.
func (c *streamCutter) streamRequests() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lastIDs) == 0 {
		return 0, ""
	}
	return len(c.lastIDs), c.lastIDs[len(c.lastIDs)-1]
}

// TestWebchatReconnects: when the stream of a widget on another website
// breaks, the browser opens it again, across origins, with the id of the
// last message it had, and the answers sent meanwhile appear once.
func TestWebchatReconnects(t *testing.T) {
	hub := apptest.Start(t, storetest.SQLite(t))
	in := hub.CreateIntegration(map[string]any{"name": "Shop chat", "kind": "webchat"})
	edge := newStreamCutter(t, hub.URL)
	site := customerSite(t, edge.URL, in.ID)

	w := widget{t, browsertest.New(t)}
	w.b.Go(site.URL + "/")
	w.open()
	w.write("Hello over a flaky network", false)
	convs := webchatConversations(t, hub, in.ID)
	if len(convs) != 1 {
		t.Fatalf("conversations %+v", convs)
	}
	const first = "First answer, live."
	if r := hub.Admin("POST", "/api/conversations/"+convs[0].ID+"/messages", map[string]any{"content": first}); r.Status != http.StatusCreated {
		t.Fatalf("reply: %d", r.Status)
	}
	w.waitLog(first)
	n, _ := edge.streamRequests()

	edge.cut()
	// The browser tries again; the edge holds it until the answer is in.
	for deadline := time.Now().Add(liveWait); ; time.Sleep(20 * time.Millisecond) {
		if m, _ := edge.streamRequests(); m > n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the browser did not open the stream again")
		}
	}
	const second = "Second answer, sent while the stream was down."
	if r := hub.Admin("POST", "/api/conversations/"+convs[0].ID+"/messages", map[string]any{"content": second}); r.Status != http.StatusCreated {
		t.Fatalf("reply: %d", r.Status)
	}
	edge.open()
	w.waitLog(second)
	if _, last := edge.streamRequests(); last == "" {
		t.Error("the browser reopened the stream without Last-Event-ID")
	}
	for _, p := range w.b.Problems() {
		// The break itself, which the browser logs.
		if !strings.Contains(p.Text, "ERR_INCOMPLETE_CHUNKED_ENCODING") || !strings.Contains(p.URL, "/events?visitor=") {
			t.Errorf("the page reported %s", p)
		}
	}
	var shown int
	w.eval(`[...root.querySelectorAll('[part~="message"]')].filter((b) => b.textContent === `+jsString(first)+`).length`, &shown)
	if shown != 1 {
		t.Errorf("the answer before the break shows %d times", shown)
	}
}
