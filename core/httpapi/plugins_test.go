package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestListPlugins: an admin sees each plugin's health, without the host's
// paths or process ids.
func TestListPlugins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		r := h.Admin("GET", "/api/plugins", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		var out struct {
			Plugins []struct{ Name, Kind, Channel, State, Version, Auth string }
		}
		r.JSON(t, &out)
		got := map[string]string{}
		for _, p := range out.Plugins {
			got[p.Kind] = p.State + " " + p.Channel + " " + p.Auth
		}
		for kind, want := range map[string]string{"custom": "running  api_key", "sms": "running SMS signature", "whatsapp": "running WHATSAPP signature"} {
			if got[kind] != want {
				t.Errorf("%s: %q, want %q (%s)", kind, got[kind], want, r.Body)
			}
		}
		if strings.Contains(string(r.Body), "/tmp") || strings.Contains(string(r.Body), "pid") {
			t.Errorf("the answer describes the host: %s", r.Body)
		}
	})
}

// TestListPluginsRefused: a plugin whose executable does not match its
// manifest is refused, and its error names it as Name does, never by the
// host's path.
func TestListPluginsRefused(t *testing.T) {
	dir := apptest.CopyPlugins(t)
	bin := filepath.Join(dir, "sms")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, append(b, "altered"...), 0o755); err != nil {
		t.Fatal(err)
	}
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithPluginDir(dir))
	r := h.Admin("GET", "/api/plugins", nil)
	var out struct {
		Plugins []struct{ Name, State, Error string }
	}
	r.JSON(t, &out)
	refused := false
	for _, p := range out.Plugins {
		refused = refused || (p.Name == "sms" && p.State == "refused" && strings.Contains(p.Error, "refused sms: ") && strings.Contains(p.Error, "checksum"))
	}
	if !refused || strings.Contains(string(r.Body), dir) {
		t.Errorf("the altered plugin: %s", r.Body)
	}
}
