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

// TestStalledTransformsHoldNoOtherWorkspace: one workspace's integrations
// with transforms that never finish, and many deliveries queued for them,
// leave enough senders for another workspace's subscription, whose
// deliveries keep arriving within a bounded time.
func TestStalledTransformsHoldNoOtherWorkspace(t *testing.T) {
	if testing.Short() {
		t.Skip("kills runners repeatedly")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		h := apptest.Start(t, dbURL, apptest.WithRetrySchedule(0, time.Second, time.Second))

		const integrations, perIntegration = 4, 15
		var convs []string
		for i := range integrations {
			in := h.CreateIntegration(map[string]any{"name": fmt.Sprint("stall-", i), "kind": "custom",
				"delivery": map[string]any{"url": rc.URL + "/stall", "ordered": false, "transform": "function transform(r) { for (;;) {} }"}})
			convs = append(convs, conversationOf(t, h, h.Token, in, fmt.Sprint("stall-", i)))
		}

		victimToken := h.NewAdminToken("victim-fair")
		var victim apptest.Integration
		if r := h.AdminAs(victimToken, "POST", "/api/integrations", map[string]any{"name": "victim", "kind": "custom"}); r.Status != http.StatusCreated {
			t.Fatalf("victim integration: %d %s", r.Status, r.Body)
		} else {
			r.JSON(t, &victim)
		}
		if r := h.AdminAs(victimToken, "POST", "/api/webhooks/", map[string]any{"url": rc.URL + "/victim", "enabled": true, "subscribedEvents": []string{"messages"}}); r.Status != http.StatusCreated {
			t.Fatalf("victim subscription: %d %s", r.Status, r.Body)
		}

		// Queue the stalling deliveries, all at once.
		var wg sync.WaitGroup
		for _, c := range convs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range perIntegration {
					h.Admin("POST", "/api/conversations/"+c+"/messages", map[string]any{"content": fmt.Sprint("stall ", n)})
				}
			}()
		}
		wg.Wait()

		// The victim's messages, while the stalls are queued.
		const victimMessages = 20
		sent := map[string]time.Time{}
		for n := range victimMessages {
			id := fmt.Sprintf("victim-content-%d-end", n)
			sent[id] = time.Now()
			body := fmt.Sprintf(`{"messageId":"vm-%d","conversationId":"victim-%d","from":{"externalId":"v"},"content":%q}`, n, n, id)
			if r := h.PostCustom(victim.ID, victim.APIKey, body); r.Status != 200 {
				t.Fatalf("victim inbound: %d", r.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
		var lat []time.Duration
		apptest.Eventually(t, 30*time.Second, func() error {
			lat = lat[:0]
			for _, rq := range rc.Requests() {
				if rq.Path != "/victim" {
					continue
				}
				for id, at := range sent {
					if strings.Contains(string(rq.Body), id) {
						lat = append(lat, rq.At.Sub(at))
					}
				}
			}
			if len(lat) < victimMessages {
				var paths []string
				for _, rq := range rc.Requests() {
					paths = append(paths, rq.Path)
				}
				return fmt.Errorf("victim received %d of %d (%d requests in all)", len(lat), victimMessages, len(paths))
			}
			return nil
		})
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		t.Logf("victim latency beside stalled transforms: p50 %s, max %s", lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
		if max := lat[len(lat)-1]; max > 2*time.Second {
			t.Errorf("a victim delivery took %s, want under 2s", max.Round(time.Millisecond))
		}
	})
}
