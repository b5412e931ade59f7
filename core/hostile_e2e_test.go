package core_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestHostileTransformsHurtOnlyThemselves saves hostile transforms in one
// workspace and triggers them while another workspace's messages and
// deliveries flow through the same hub: the hub stays up, every hostile
// delivery fails once with the limit it hit, and every one of the other
// workspace's messages and deliveries goes through.
func TestHostileTransformsHurtOnlyThemselves(t *testing.T) {
	if testing.Short() {
		t.Skip("starts runners and kills them repeatedly")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		h := apptest.Start(t, dbURL, apptest.WithRetrySchedule(0, 50*time.Millisecond, 100*time.Millisecond))

		// The attacker's workspace: scripts that once crashed or stalled the hub.
		bombs := []struct{ name, src, want string }{
			{"grow then sort", "function transform(r) { var a = []; a.length = 1e9; a.sort(); return r; }", "transform exceeded its memory limit of 128 MiB"},
			{"fill", "function transform(r) { new Float64Array(1e9).fill(1); return r; }", "transform exceeded its memory limit of 128 MiB"},
			{"backtracking regexp", "function transform(r) { /^(?=a)(a+)+$/.test('a'.repeat(40) + 'b'); return r; }", "transform exceeded its time limit of 100ms"},
			{"loop", "function transform(r) { for (;;) {} }", "transform exceeded its time limit of 100ms"},
			{"poison the prototype", "Object.prototype.toJSON = function () { return 'pwned'; };\nfunction transform(r) { r.body = {x: 1}; return r; }", ""},
		}
		attacker := make([]apptest.Integration, len(bombs))
		for i, b := range bombs {
			attacker[i] = h.CreateIntegration(map[string]any{"name": b.name, "kind": "custom",
				"delivery": map[string]any{"url": rc.URL + "/attacker", "transform": b.src}})
		}

		// The victim's workspace: an ordinary transform on the same runners.
		victimToken := h.NewAdminToken("victim")
		var victim apptest.Integration
		r := h.AdminAs(victimToken, "POST", "/api/integrations", map[string]any{"name": "victim", "kind": "custom",
			"delivery": map[string]any{"url": rc.URL + "/victim", "transform": "function transform(r, e) { r.headers['X-Seen'] = e.content; return r; }"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("victim integration: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &victim)
		victimConv := conversationOf(t, h, victimToken, victim, "victim-conv")

		attackerConvs := make([]string, len(attacker))
		for i, in := range attacker {
			attackerConvs[i] = conversationOf(t, h, h.Token, in, fmt.Sprintf("attack-%d", i))
		}

		// Attack and ordinary traffic at once.
		const rounds = 4
		const victimReplies = 60
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for round := range rounds {
				for i := range attacker {
					h.Admin("POST", "/api/conversations/"+attackerConvs[i]+"/messages", map[string]any{"content": fmt.Sprint("bomb ", round)})
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		inboundFailures := 0
		sent := map[string]time.Time{}
		go func() {
			defer wg.Done()
			for n := range victimReplies {
				body := fmt.Sprintf(`{"messageId":"v-%d","conversationId":"victim-conv","from":{"externalId":"v"},"content":"in %d"}`, n, n)
				if r := h.PostCustom(victim.ID, victim.APIKey, body); r.Status != 200 || string(r.Body) != `"ok"` {
					inboundFailures++
				}
				content := fmt.Sprint("reply-", n)
				sent[content] = time.Now()
				if r := h.AdminAs(victimToken, "POST", "/api/conversations/"+victimConv+"/messages", map[string]any{"content": content}); r.Status != http.StatusCreated {
					t.Errorf("victim reply: %d %s", r.Status, r.Body)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		wg.Wait()
		if inboundFailures > 0 {
			t.Errorf("%d of the victim's inbound messages were not answered 200 \"ok\"", inboundFailures)
		}

		// Every victim delivery arrives, in order, with its transform applied.
		var got []apptest.Received
		apptest.Eventually(t, 30*time.Second, func() error {
			got = got[:0]
			for _, rq := range rc.Requests() {
				if rq.Path == "/victim" {
					got = append(got, rq)
				}
			}
			if len(got) != victimReplies {
				return fmt.Errorf("victim received %d of %d", len(got), victimReplies)
			}
			return nil
		})
		var lat []time.Duration
		for i, rq := range got {
			want := fmt.Sprint("reply-", i)
			if rq.Header.Get("X-Seen") != want {
				t.Errorf("victim delivery %d carries X-Seen %q, want %q", i, rq.Header.Get("X-Seen"), want)
			}
			lat = append(lat, rq.At.Sub(sent[want]))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		t.Logf("victim deliveries during the attack: %d, latency p50 %s, max %s", len(lat), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
		if max := lat[len(lat)-1]; max > 2*time.Second {
			t.Errorf("a victim delivery took %s during the attack, want under 2s", max.Round(time.Millisecond))
		}

		// Every hostile delivery failed, saying which limit it hit, and was not retried for it.
		for i, b := range bombs {
			apptest.Eventually(t, 30*time.Second, func() error {
				ds := deliveries(t, h, "integrationId="+attacker[i].ID)
				if len(ds) != rounds {
					return fmt.Errorf("%s: %d deliveries", b.name, len(ds))
				}
				for _, d := range ds {
					if b.want == "" {
						if d.Status != "succeeded" {
							return fmt.Errorf("%s: %s %q", b.name, d.Status, d.LastError)
						}
						continue
					}
					if d.Status != "failed" {
						return fmt.Errorf("%s: status %s (%s)", b.name, d.Status, d.LastError)
					}
					// "failed", not "dead": the limit's failure is final, not
					// retried to the end of the schedule. Usually after one
					// attempt; on a machine so loaded that the worker's own
					// wait for the run (10× the limit) ran out before the
					// runner was stopped, that attempt is a temporary failure
					// and retried like any other, within the schedule.
					if d.LastError != b.want || d.AttemptCount < 1 || d.AttemptCount > 3 {
						t.Errorf("%s: lastError %q after %d attempts, want %q within the schedule's 3", b.name, d.LastError, d.AttemptCount, b.want)
					}
				}
				return nil
			})
		}
		// The prototype poisoning reached nothing: not the hub's own JSON, not the next run.
		for _, rq := range rc.Requests() {
			if rq.Path == "/attacker" && string(rq.Body) != `{"x":1}` {
				t.Errorf("poisoned run sent %s", rq.Body)
			}
			if strings.Contains(string(rq.Body), "pwned") {
				t.Errorf("a delivery carries the poisoned prototype: %s %s", rq.Path, rq.Body)
			}
		}
		if r := h.Do("GET", "/healthz", nil, nil); r.Status != 200 {
			t.Errorf("healthz after the attack: %d", r.Status)
		}
	})
}

// conversationOf posts a first message to in and returns the conversation's id.
func conversationOf(t *testing.T, h *apptest.Hub, token string, in apptest.Integration, external string) string {
	t.Helper()
	body := fmt.Sprintf(`{"messageId":"first-%s","conversationId":%q,"from":{"externalId":"u-%s"},"content":"hi"}`, external, external, external)
	if r := h.PostCustom(in.ID, in.APIKey, body); r.Status != 200 {
		t.Fatalf("inbound: %d", r.Status)
	}
	var convs struct {
		Conversations []struct{ ID, ExternalID string }
	}
	h.AdminAs(token, "GET", "/api/conversations?integrationId="+in.ID, nil).JSON(t, &convs)
	for _, c := range convs.Conversations {
		if c.ExternalID == external {
			return c.ID
		}
	}
	t.Fatalf("conversation %s not found", external)
	return ""
}
