package core_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestPluginKilledUnderTraffic: the custom plugin is killed again and
// again while apps post messages. The hub answers every request, loses no
// message it acknowledged (those that arrived while the plugin was down
// are kept and replayed), stores none twice, and reports the restarts.
func TestPluginKilledUnderTraffic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		const senders, each = 4, 100
		var wg sync.WaitGroup
		var mu sync.Mutex
		acked := map[string]bool{}
		failures := 0
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					id := fmt.Sprintf("s%d-m%d", s, i)
					r := h.PostCustom(in.ID, in.APIKey, map[string]any{"messageId": id, "conversationId": fmt.Sprint("c", s),
						"from": map[string]any{"externalId": fmt.Sprint("u", s)}, "content": "under fire"})
					mu.Lock()
					if r.Status == http.StatusOK {
						acked[id] = true
					} else {
						failures++
					}
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
		kills := 0
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
	killing:
		for kills < 5 {
			select {
			case <-done:
				break killing
			case <-time.After(150 * time.Millisecond):
			}
			if p := customPlugin(h); p.Running && p.PID != 0 {
				if err := syscall.Kill(p.PID, syscall.SIGKILL); err == nil {
					kills++
				}
			}
		}
		<-done
		if kills < 2 {
			t.Fatalf("only %d kills landed during the traffic", kills)
		}
		if failures > 0 {
			t.Errorf("%d requests were not acknowledged; the hub must answer while its plugin restarts", failures)
		}
		// Every acknowledged message is stored once, the kept ones after replay.
		apptest.Eventually(t, 30*time.Second, func() error {
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
			for id := range acked {
				if stored[id] != 1 {
					return fmt.Errorf("message %s stored %d times (%d acknowledged, %d stored)", id, stored[id], len(acked), len(stored))
				}
			}
			return nil
		})
		var plugins struct {
			Plugins []struct {
				Kind, State string
				Restarts    int
			}
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			h.Admin("GET", "/api/plugins", nil).JSON(t, &plugins)
			for _, p := range plugins.Plugins {
				if p.Kind == "custom" && p.State == "running" && p.Restarts >= kills {
					return nil
				}
			}
			return fmt.Errorf("plugins: %+v, want custom running after %d restarts", plugins.Plugins, kills)
		})
	})
}

// TestAlteredPluginIsNotRestarted: an executable replaced while the hub
// runs no longer matches its manifest, so when its process dies it is not
// started again; the hub keeps answering (keeping the traffic) and says
// the plugin is not ready.
func TestAlteredPluginIsNotRestarted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		plugins := apptest.CopyPlugins(t)
		h := apptest.Start(t, dbURL, apptest.WithPluginDir(plugins))
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		other, err := os.ReadFile(filepath.Join(plugins, "sms"))
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(plugins, "custom")
		if err := os.Rename(bin, bin+".old"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, other, 0o755); err != nil {
			t.Fatal(err)
		}
		pid := customPlugin(h).PID
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // several restart attempts
		if p := customPlugin(h); p.Running {
			t.Fatalf("the altered executable was started: %+v", p)
		}
		if r := h.Do("GET", "/readyz", nil, nil); r.Status != http.StatusServiceUnavailable {
			t.Errorf("readyz with the plugin refused: %d %s", r.Status, r.Body)
		}
		r := h.PostCustom(in.ID, in.APIKey, map[string]any{"messageId": "kept-1", "conversationId": "c",
			"from": map[string]any{"externalId": "u"}, "content": "while refused"})
		if r.Status != http.StatusOK {
			t.Errorf("inbound while the plugin is refused: %d", r.Status)
		}
		// Put the vouched-for executable back: it starts, and the kept message is stored.
		if err := os.Rename(bin+".old", bin); err != nil {
			t.Fatal(err)
		}
		apptest.Eventually(t, 20*time.Second, func() error {
			var convs struct{ Conversations []struct{ ID string } }
			h.Admin("GET", "/api/conversations?integrationId="+in.ID, nil).JSON(t, &convs)
			if len(convs.Conversations) != 1 {
				return fmt.Errorf("kept message not stored yet (plugin %+v)", customPlugin(h))
			}
			return nil
		})
	})
}
