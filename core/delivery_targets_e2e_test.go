package core_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// Every special-purpose address is refused when a URL is saved: 422 naming
// the field, for integrations and subscriptions alike.
func TestSpecialPurposeTargetsRefusedWhenSaved(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithoutPrivateTargets())
	in := h.CreateIntegration(map[string]any{"name": "public", "kind": "custom", "outboundUrl": "https://example.com/hook"})
	sub := h.Admin("POST", "/api/webhooks/", map[string]any{"url": "https://example.com/sub", "subscribedEvents": []string{"messages"}}).Map(t)
	subID, _ := sub["id"].(string)
	if subID == "" {
		t.Fatalf("subscription: %v", sub)
	}
	hosts := []string{
		"127.0.0.1", "localhost", "0.1.2.3", "10.0.0.1", "100.64.0.1", "169.254.169.254", "192.0.0.8", "198.18.0.1",
		"203.0.113.9", "240.0.0.1", "224.0.0.1", "[::1]", "[::ffff:10.0.0.1]", "[::127.0.0.1]", "[64:ff9b::a00:1]",
		"[2002:a00:1::1]", "[fec0::1]", "[fd00::1]", "[fe80::1]", "[2001:db8::1]",
	}
	for _, host := range hosts {
		t.Run(host, func(t *testing.T) {
			u := "https://" + host + "/hook"
			for _, tt := range []struct {
				name, method, path string
				body               map[string]any
				field              string
			}{
				{"create outboundUrl", "POST", "/api/integrations", map[string]any{"name": "x", "kind": "custom", "outboundUrl": u}, "outboundUrl"},
				{"update outboundUrl", "PATCH", "/api/integrations/" + in.ID, map[string]any{"outboundUrl": u}, "outboundUrl"},
				{"create delivery", "POST", "/api/integrations", map[string]any{"name": "x", "kind": "custom", "delivery": map[string]any{"url": u}}, "delivery.url"},
				{"update delivery", "PATCH", "/api/integrations/" + in.ID, map[string]any{"delivery": map[string]any{"url": u}}, "delivery.url"},
				{"create subscription", "POST", "/api/webhooks/", map[string]any{"url": u, "subscribedEvents": []string{"messages"}}, "url"},
				{"update subscription", "POST", "/api/webhooks/" + subID + "/update", map[string]any{"url": u}, "url"},
			} {
				r := h.Admin(tt.method, tt.path, tt.body)
				msg, _ := r.Map(t)["message"].(string)
				if r.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(msg, tt.field+":") {
					t.Errorf("%s: %d %s, want 422 naming %s", tt.name, r.Status, r.Body, tt.field)
				}
			}
		})
	}
}
