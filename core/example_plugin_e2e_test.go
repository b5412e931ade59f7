package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/pluginhost"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// buildExample builds the example third-party plugin from its own module,
// as its author would, into dir, and vouches for it with a manifest.
func buildExample(t *testing.T, dir string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	module := filepath.Join(filepath.Dir(file), "..", "examples", "telegram")
	bin := filepath.Join(dir, "telegram")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = module
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the example plugin from its module: %v\n%s", err, out)
	}
	if _, err := pluginhost.WriteManifest(context.Background(), bin, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return bin
}

// fakeBotAPI takes setWebhook and sendMessage calls as Telegram's Bot API
// would for one bot token, and records them.
type fakeBotAPI struct {
	srv     *httptest.Server
	mu      sync.Mutex
	sent    []map[string]any
	webhook map[string]any
}

func newFakeBotAPI(t *testing.T, token string) *fakeBotAPI {
	f := &fakeBotAPI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		switch r.URL.Path {
		case "/bot" + token + "/setWebhook":
			f.mu.Lock()
			f.webhook = body
			f.mu.Unlock()
			io.WriteString(w, `{"ok":true,"result":true,"description":"Webhook was set"}`)
			return
		case "/bot" + token + "/sendMessage":
		default:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
			return
		}
		f.mu.Lock()
		f.sent = append(f.sent, body)
		n := len(f.sent)
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d}}`, 1000+n)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBotAPI) messages() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.sent...)
}

// TestExampleThirdPartyPlugin: the example channel, built from its own
// module against the public SDK, is discovered, verified and used end to
// end: its own check refuses a malformed token when the connection is
// saved; starting the integration registers the connection's inbound URL
// as the bot's webhook, and keeps a connection whose token the Bot API
// refuses inactive; an update from the (fake) Bot API opens a chat
// delivered to the client's webhook, and the response API's answer
// reaches the Bot API. Altered, it is refused.
func TestExampleThirdPartyPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		plugins := apptest.CopyPlugins(t)
		bin := buildExample(t, plugins)
		h := apptest.Start(t, dbURL, apptest.WithPluginDir(plugins))
		const token, secret = "777:example-bot-token", "example-hook-secret"
		api := newFakeBotAPI(t, token)
		rc := apptest.NewReceiver(t)
		conn := h.Admin("POST", "/api/connections", map[string]any{"code": "tg", "channel": "TELEGRAM", "sender": "ShopBot",
			"provider": map[string]any{"botToken": token, "secretToken": secret, "baseUrl": api.srv.URL}})
		if conn.Status != http.StatusCreated {
			t.Fatalf("connection: %d %s", conn.Status, conn.Body)
		}
		malformed := h.Admin("POST", "/api/connections", map[string]any{"code": "tg-typo", "channel": "TELEGRAM", "sender": "TypoBot",
			"provider": map[string]any{"botToken": "example-bot-token", "secretToken": secret, "baseUrl": api.srv.URL}})
		if malformed.Status != http.StatusUnprocessableEntity || !strings.Contains(string(malformed.Body), "provider.botToken") ||
			strings.Contains(string(malformed.Body), "example-bot-token") {
			t.Errorf("a malformed token: %d %s", malformed.Status, malformed.Body)
		}
		if r := h.Admin("POST", "/api/connections", map[string]any{"code": "tg-old", "channel": "TELEGRAM", "sender": "OldBot",
			"provider": map[string]any{"botToken": "888:revoked-token", "secretToken": secret, "baseUrl": api.srv.URL}}); r.Status != http.StatusCreated {
			t.Fatalf("connection: %d %s", r.Status, r.Body)
		}
		in := h.CreateIntegration(map[string]any{"name": "tg desk", "kind": "custom", "outboundUrl": rc.URL + "/hook", "connections": []string{"tg", "tg-old"}})
		start := h.Admin("POST", "/api/integrations/"+in.ID+"/start", nil)
		if start.Status != http.StatusOK {
			t.Fatalf("start: %d %s", start.Status, start.Body)
		}
		var started struct {
			Connections []struct{ Code, Status, Error string }
		}
		start.JSON(t, &started)
		states := map[string]string{}
		for _, c := range started.Connections {
			states[c.Code] = c.Status + " " + c.Error
		}
		if states["tg"] != "active " || !strings.HasPrefix(states["tg-old"], "inactive") || !strings.Contains(states["tg-old"], "does not know this bot token") {
			t.Errorf("connection states after start: %q", states)
		}
		inbound := conn.Map(t)["inboundUrl"].(string)
		if !strings.Contains(inbound, "/api/webhooks/telegram/") {
			t.Fatalf("inboundUrl %s", inbound)
		}
		api.mu.Lock()
		hook := api.webhook
		api.mu.Unlock()
		if hook["url"] != inbound || hook["secret_token"] != secret {
			t.Errorf("the bot's webhook was set to %v, want %s", hook, inbound)
		}
		post := func(header string) int {
			req, _ := http.NewRequest("POST", inbound, strings.NewReader(`{"update_id":1,"message":{"message_id":7,"date":1700000000,
				"text":"where is my parcel?","from":{"id":4242,"first_name":"Ana"},"chat":{"id":4242}}}`))
			req.Header.Set("Content-Type", "application/json")
			if header != "" {
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		post("forged")
		if st := post(secret); st != http.StatusOK {
			t.Fatalf("update: %d", st)
		}
		got := rc.WaitFor(t, 1, 10*time.Second)
		var body map[string]any
		json.Unmarshal(got[0].Body, &body)
		if body["chatId"] != "4242" || body["text"] != "where is my parcel?" || body["channel"] != "TELEGRAM" || body["sender"] != "ShopBot" {
			t.Errorf("client webhook got %s", got[0].Body)
		}
		r := h.Do("POST", "/integrations/live-chat/"+in.ID+"/chats/4242/events", map[string]string{"Authorization": "Bearer " + in.ResponseToken},
			map[string]any{"type": "MESSAGE", "channel": map[string]any{"type": "TELEGRAM", "connection": "tg"}, "msg": "It arrives tomorrow."})
		if r.Status != http.StatusAccepted {
			t.Fatalf("response API: %d %s", r.Status, r.Body)
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			sent := api.messages()
			if len(sent) != 1 || sent[0]["text"] != "It arrives tomorrow." || sent[0]["chat_id"] != float64(4242) {
				return fmt.Errorf("Bot API got %v", sent)
			}
			return nil
		})
		var events struct{ Events []struct{ Status string } }
		h.Admin("GET", "/api/integrations/"+in.ID+"/events?limit=10", nil).JSON(t, &events)
		forged := false
		for _, e := range events.Events {
			forged = forged || e.Status == "signature_failure"
		}
		if !forged {
			t.Errorf("the forged update left no signature_failure: %+v", events.Events)
		}

		// Altered, the executable is refused by the next hub.
		// (A running executable cannot be written: replace the file.)
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin+".new", append(b, "altered"...), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(bin+".new", bin); err != nil {
			t.Fatal(err)
		}
		h2 := apptest.Start(t, dbURL, apptest.WithPluginDir(plugins))
		var list struct {
			Plugins []struct{ Name, State, Error string }
		}
		h2.Admin("GET", "/api/plugins", nil).JSON(t, &list)
		refused := false
		for _, p := range list.Plugins {
			refused = refused || (p.Name == "telegram" && p.State == "refused" && strings.Contains(p.Error, "checksum"))
		}
		if !refused {
			t.Errorf("the altered example plugin was not refused: %+v", list.Plugins)
		}
	})
}
