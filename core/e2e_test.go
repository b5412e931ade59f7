package core_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestMain(m *testing.M) { apptest.Main(m) }

// verifyStandardWebhook checks a delivery's signature the way a receiver
// following the Standard Webhooks spec would, independently of the hub's code.
func verifyStandardWebhook(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	signed := h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signed))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		version, value, _ := strings.Cut(sig, ",")
		if version == "v1" && hmac.Equal([]byte(value), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no v1 signature matches in %q", h.Get("webhook-signature"))
}

func firstConversation(t *testing.T, h *apptest.Hub, integrationID string) string {
	t.Helper()
	var convs struct{ Conversations []struct{ ID string } }
	h.Admin("GET", "/api/conversations?integrationId="+integrationID, nil).JSON(t, &convs)
	if len(convs.Conversations) == 0 {
		t.Fatal("no conversation")
	}
	return convs.Conversations[0].ID
}

func TestAgentReplyRetriedUntilReceiverUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		// Reserve a loopback port, then leave it closed: the receiver is down.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()

		h := apptest.Start(t, dbURL, apptest.WithRetrySchedule(0, 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond, time.Second))
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom", "outboundUrl": "http://" + addr + "/replies"})
		secret := h.Admin("GET", "/api/integrations/"+in.ID+"/signing-secret", nil).Map(t)["secret"].(string)
		h.PostCustom(in.ID, in.APIKey, `{"messageId":"m1","conversationId":"session_abc123","from":{"externalId":"u"},"content":"help"}`)
		conv := firstConversation(t, h, in.ID)

		r := h.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": "Hello Jane!"})
		if r.Status != http.StatusCreated || r.Map(t)["direction"] != "outbound" || r.Map(t)["status"] != "queued" {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}

		// The first attempt fails against the closed port.
		var deliveryID string
		apptest.Eventually(t, 5*time.Second, func() error {
			var list struct {
				Deliveries []struct {
					ID, Status, LastError string
					AttemptCount          int
				}
			}
			h.Admin("GET", "/api/deliveries?integrationId="+in.ID, nil).JSON(t, &list)
			if len(list.Deliveries) != 1 || list.Deliveries[0].AttemptCount < 1 {
				return fmt.Errorf("deliveries %+v", list.Deliveries)
			}
			if d := list.Deliveries[0]; d.Status != "pending" || d.LastError == "" {
				return fmt.Errorf("want a failed first attempt, got %+v", d)
			}
			deliveryID = list.Deliveries[0].ID
			return nil
		})
		if st := replyStatus(t, h, conv); st != "queued" {
			t.Errorf("reply status while its delivery is pending = %q, want queued", st)
		}

		// Now the receiver comes up.
		type received struct {
			header http.Header
			body   []byte
		}
		got := make(chan received, 10)
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("reopen %s: %v", addr, err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if r.URL.Path == "/replies" && r.Method == "POST" {
				got <- received{r.Header.Clone(), b}
			}
			io.WriteString(w, "thanks")
		})}
		go srv.Serve(ln)
		defer srv.Close()

		select {
		case rec := <-got:
			var body map[string]any
			if err := json.Unmarshal(rec.body, &body); err != nil {
				t.Fatalf("body %s: %v", rec.body, err)
			}
			if len(body) != 2 || body["conversationId"] != "session_abc123" || body["content"] != "Hello Jane!" {
				t.Errorf("body = %s, want exactly {conversationId, content}", rec.body)
			}
			if err := verifyStandardWebhook(secret, rec.header, rec.body); err != nil {
				t.Errorf("signature: %v", err)
			}
			if rec.header.Get("webhook-id") != deliveryID {
				t.Errorf("webhook-id = %q, want the delivery id %q", rec.header.Get("webhook-id"), deliveryID)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the reply never reached the receiver")
		}

		apptest.Eventually(t, 5*time.Second, func() error {
			var d struct {
				Status       string
				AttemptCount int
				Attempts     []struct {
					N, StatusCode   int
					Error           string
					ResponseExcerpt string
				}
			}
			h.Admin("GET", "/api/deliveries/"+deliveryID, nil).JSON(t, &d)
			if d.Status != "succeeded" {
				return fmt.Errorf("status %s", d.Status)
			}
			last := d.Attempts[len(d.Attempts)-1]
			if d.AttemptCount < 2 || len(d.Attempts) != d.AttemptCount || last.StatusCode != 200 || last.ResponseExcerpt != "thanks" || d.Attempts[0].Error == "" {
				return fmt.Errorf("attempts %+v", d)
			}
			return nil
		})
		// The reply's status follows its delivery.
		if st := replyStatus(t, h, conv); st != "sent" {
			t.Errorf("reply status after its delivery succeeded = %q, want sent", st)
		}
	})
}

// replyStatus is the status of the one outbound message in conv.
func replyStatus(t *testing.T, h *apptest.Hub, conv string) string {
	t.Helper()
	var msgs struct {
		Messages []struct{ Direction, Status string }
	}
	h.Admin("GET", "/api/conversations/"+conv+"/messages", nil).JSON(t, &msgs)
	for _, m := range msgs.Messages {
		if m.Direction == "outbound" {
			return m.Status
		}
	}
	t.Fatalf("no outbound message in %+v", msgs.Messages)
	return ""
}

func TestReplyWithoutTargetIsStoredOnly(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
	h.PostCustom(in.ID, in.APIKey, `{"messageId":"m1","conversationId":"c","from":{"externalId":"u"},"content":"help"}`)
	conv := firstConversation(t, h, in.ID)
	for _, body := range []string{`{}`, `{"content":"  "}`} {
		if r := h.Admin("POST", "/api/conversations/"+conv+"/messages", body); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "content") {
			t.Errorf("reply %s: %d %s", body, r.Status, r.Body)
		}
	}
	r := h.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": "noted"})
	if r.Status != http.StatusCreated || r.Map(t)["status"] != "stored" {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	var list struct{ Deliveries []any }
	h.Admin("GET", "/api/deliveries", nil).JSON(t, &list)
	if len(list.Deliveries) != 0 {
		t.Errorf("a reply without a target was queued: %+v", list.Deliveries)
	}
	var msgs struct {
		Messages []struct{ Direction, Content string }
	}
	h.Admin("GET", "/api/conversations/"+conv+"/messages", nil).JSON(t, &msgs)
	if len(msgs.Messages) != 2 || msgs.Messages[0].Direction != "outbound" || msgs.Messages[0].Content != "noted" {
		t.Errorf("messages = %+v", msgs.Messages)
	}
}

func TestPrivateTargetRefusedOnSave(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithoutPrivateTargets())
	for _, target := range []string{"http://127.0.0.1:9/x", "https://127.0.0.1/x", "https://localhost/x", "https://10.1.2.3/x", "https://[::1]/x", "https://169.254.169.254/latest"} {
		r := h.Admin("POST", "/api/integrations", map[string]any{"name": "a", "kind": "custom", "outboundUrl": target})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "outboundUrl") {
			t.Errorf("%s accepted without --allow-private-targets: %d %s", target, r.Status, r.Body)
		}
	}
}

func TestPluginKilledDuringStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		pid := h.App.Plugins.Plugins()[0].PID

		const senders, perSender = 8, 60
		var mu sync.Mutex
		acked := map[string]bool{}
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 30 * time.Second}
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perSender {
					id := fmt.Sprintf("s%d-%d", s, i)
					body := fmt.Sprintf(`{"messageId":%q,"conversationId":"conv-%d","from":{"externalId":"u%d"},"content":"n"}`, id, s, s)
					req, _ := http.NewRequest("POST", h.URL+"/api/webhooks/custom/"+in.ID, strings.NewReader(body))
					req.Header.Set("X-Api-Key", in.APIKey)
					resp, err := client.Do(req)
					if err != nil {
						continue
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 && string(b) == `"ok"` {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		// Kill the plugin once the stream is flowing.
		apptest.Eventually(t, 10*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(acked) < 40 {
				return fmt.Errorf("%d acked", len(acked))
			}
			return nil
		})
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill plugin %d: %v", pid, err)
		}
		wg.Wait()
		if len(acked) < senders*perSender/2 {
			t.Fatalf("only %d of %d requests acknowledged", len(acked), senders*perSender)
		}

		// Once the plugin is back, every acknowledged message is stored exactly once.
		apptest.Eventually(t, 20*time.Second, func() error {
			p := h.App.Plugins.Plugins()[0]
			if !p.Running || p.PID == pid || p.Restarts < 1 {
				return fmt.Errorf("plugin not restarted: %+v", p)
			}
			stored := map[string]int{}
			var convs struct{ Conversations []struct{ ID string } }
			h.Admin("GET", "/api/conversations?integrationId="+in.ID, nil).JSON(t, &convs)
			for _, c := range convs.Conversations {
				var msgs struct{ Messages []struct{ ExternalID string } }
				h.Admin("GET", "/api/conversations/"+c.ID+"/messages?limit=500", nil).JSON(t, &msgs)
				for _, m := range msgs.Messages {
					stored[m.ExternalID]++
				}
			}
			for id, n := range stored {
				if n != 1 {
					t.Fatalf("message %s stored %d times", id, n)
				}
			}
			for id := range acked {
				if stored[id] != 1 {
					return fmt.Errorf("acknowledged message %s not stored yet (%d stored of %d acked)", id, len(stored), len(acked))
				}
			}
			return nil
		})
	})
}

func TestShutdownStopsPlugins(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	pid := h.App.Plugins.Plugins()[0].PID
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("plugin %d not running: %v", pid, err)
	}
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	if err := h.App.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	apptest.Eventually(t, 5*time.Second, func() error {
		if err := syscall.Kill(pid, 0); err == nil {
			return fmt.Errorf("plugin %d still running", pid)
		}
		return nil
	})
}

func TestEndConversation(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
	h.PostCustom(in.ID, in.APIKey, `{"messageId":"m1","conversationId":"c","from":{"externalId":"u"},"content":"bye"}`)
	conv := firstConversation(t, h, in.ID)
	r := h.Admin("POST", "/api/conversations/"+conv+"/end", nil)
	if r.Status != http.StatusOK || r.Map(t)["status"] != "ended" {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
	if r := h.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": "late"}); r.Status != http.StatusConflict {
		t.Errorf("reply to an ended conversation: %d %s", r.Status, r.Body)
	}
	if r := h.Admin("POST", "/api/conversations/"+conv+"/end", nil); r.Status != http.StatusConflict {
		t.Errorf("ending twice: %d %s", r.Status, r.Body)
	}
	if r := h.Admin("POST", "/api/conversations/01a1fe7b-0000-7000-8000-000000000000/end", nil); r.Status != http.StatusNotFound {
		t.Errorf("ending a missing conversation: %d", r.Status)
	}
}
