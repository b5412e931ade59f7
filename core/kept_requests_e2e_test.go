package core_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/pluginhost"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// rawRows opens the hub's database beside it and returns every column of
// every row of a table as text.
func rawRows(t *testing.T, dbURL, table string) [][]string {
	t.Helper()
	var d gorm.Dialector
	if path, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		d = sqlite.Open(path)
	} else {
		d = postgres.Open(dbURL)
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	rows, err := sqlDB.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				row[i] = string(b)
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func customPlugin(h *apptest.Hub) pluginhost.Plugin {
	for _, p := range h.App.Plugins.Plugins() {
		if p.Kind == "custom" {
			return p
		}
	}
	return pluginhost.Plugin{}
}

// While the custom plugin is down, requests are authenticated and kept
// without their API key; once it is back they are stored.
func TestKeptRequestsHoldNoAPIKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		plugins := apptest.CopyPlugins(t)
		h := apptest.Start(t, dbURL, apptest.WithPluginDir(plugins))
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})

		// Take the plugin away, then kill it: it cannot be restarted.
		bin := filepath.Join(plugins, "custom")
		if err := os.Rename(bin, bin+".away"); err != nil {
			t.Fatal(err)
		}
		pid := customPlugin(h).PID
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill plugin %d: %v", pid, err)
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			if p := customPlugin(h); p.Running {
				return fmt.Errorf("plugin still running: %+v", p)
			}
			return nil
		})

		body := func(id string) string {
			return fmt.Sprintf(`{"messageId":%q,"conversationId":"kept","from":{"externalId":"u1"},"content":"while down"}`, id)
		}
		for _, r := range []*apptest.Response{
			h.PostCustom(in.ID, in.APIKey, body("m-header")),
			h.Do("POST", "/api/webhooks/custom/"+in.ID, map[string]string{"Authorization": "Bearer " + in.APIKey}, body("m-bearer")),
			h.PostCustom(in.ID, "sbk_wrong", body("m-forged")),
		} {
			if r.Status != 200 || string(r.Body) != `"ok"` {
				t.Fatalf("inbound while the plugin is down: %d %s", r.Status, r.Body)
			}
		}
		kept := rawRows(t, dbURL, "inbox_items")
		if len(kept) != 2 {
			t.Fatalf("%d requests kept, want the 2 authenticated ones: %v", len(kept), kept)
		}
		for _, row := range kept {
			for i, col := range row {
				if strings.Contains(col, in.APIKey) || strings.Contains(col, strings.TrimPrefix(in.APIKey, "sbk_")) || strings.Contains(col, auth.Hash(in.APIKey)) {
					t.Errorf("kept request holds the API key in column %d: %q", i, col)
				}
			}
		}
		var events struct{ Events []struct{ Status string } }
		h.Admin("GET", "/api/integrations/"+in.ID+"/events", nil).JSON(t, &events)
		if len(events.Events) != 1 || events.Events[0].Status != "signature_failure" {
			t.Errorf("events while down = %+v, want the forged request's signature_failure only", events.Events)
		}

		// The plugin is back: both kept messages are stored, the forged one never.
		if err := os.Rename(bin+".away", bin); err != nil {
			t.Fatal(err)
		}
		apptest.Eventually(t, 30*time.Second, func() error {
			var convs struct{ Conversations []struct{ ID string } }
			h.Admin("GET", "/api/conversations?integrationId="+in.ID, nil).JSON(t, &convs)
			if len(convs.Conversations) != 1 {
				return fmt.Errorf("%d conversations", len(convs.Conversations))
			}
			var msgs struct{ Messages []struct{ ExternalID string } }
			h.Admin("GET", "/api/conversations/"+convs.Conversations[0].ID+"/messages", nil).JSON(t, &msgs)
			got := map[string]bool{}
			for _, m := range msgs.Messages {
				got[m.ExternalID] = true
			}
			if len(msgs.Messages) != 2 || !got["m-header"] || !got["m-bearer"] {
				return fmt.Errorf("stored %+v", msgs.Messages)
			}
			return nil
		})
		if left := rawRows(t, dbURL, "inbox_items"); len(left) != 0 {
			t.Errorf("%d kept requests left after replay", len(left))
		}
	})
}
