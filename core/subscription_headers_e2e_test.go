package core_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// extraHeaders values are masked in every answer and sent for real.
func TestSubscriptionExtraHeadersMasked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		const secret, tenant = "Bearer receiver-s3cret", "acme-42"

		type view struct {
			ID           string
			ExtraHeaders []struct{ Name, Value string }
		}
		masked := func(what string, r *apptest.Response, wantStatus, wantHeaders int) view {
			t.Helper()
			if r.Status != wantStatus {
				t.Fatalf("%s: %d %s", what, r.Status, r.Body)
			}
			for _, v := range []string{"receiver-s3cret", tenant, "new-value"} {
				if strings.Contains(string(r.Body), v) {
					t.Errorf("%s shows a header value: %s", what, r.Body)
				}
			}
			var sub view
			r.JSON(t, &sub)
			if len(sub.ExtraHeaders) != wantHeaders {
				t.Fatalf("%s: %d headers, want %d: %s", what, len(sub.ExtraHeaders), wantHeaders, r.Body)
			}
			for _, eh := range sub.ExtraHeaders {
				if eh.Value != "********" {
					t.Errorf("%s: header %s = %q, want ********", what, eh.Name, eh.Value)
				}
			}
			return sub
		}

		sub := masked("create", h.Admin("POST", "/api/webhooks/", map[string]any{"url": rc.URL + "/hook", "subscribedEvents": []string{"messages"},
			"extraHeaders": []map[string]string{{"name": "Authorization", "value": secret}, {"name": "X-Tenant", "value": tenant}}}), http.StatusCreated, 2)
		masked("get", h.Admin("GET", "/api/webhooks/"+sub.ID, nil), http.StatusOK, 2)
		list := h.Admin("GET", "/api/webhooks/", nil)
		if strings.Contains(string(list.Body), "receiver-s3cret") || strings.Contains(string(list.Body), tenant) || !strings.Contains(string(list.Body), "********") {
			t.Errorf("list shows header values: %s", list.Body)
		}
		masked("update without headers", h.Admin("POST", "/api/webhooks/"+sub.ID+"/update", map[string]any{"enabled": true}), http.StatusOK, 2)

		startConversation(t, h, in, "c-1")
		got := rc.WaitFor(t, 1, 10*time.Second)
		if got[0].Header.Get("Authorization") != secret || got[0].Header.Get("X-Tenant") != tenant {
			t.Fatalf("delivery headers = %v", got[0].Header)
		}

		// Sending the masked headers back keeps the stored values; a new one is added.
		headers := []map[string]string{{"name": "authorization", "value": "********"}, {"name": "X-Tenant", "value": "********"}, {"name": "X-New", "value": "new-value"}}
		masked("update with masked headers", h.Admin("POST", "/api/webhooks/"+sub.ID+"/update", map[string]any{"extraHeaders": headers}), http.StatusOK, 3)
		startConversation(t, h, in, "c-2")
		got = rc.WaitFor(t, 2, 10*time.Second)
		if got[1].Header.Get("Authorization") != secret || got[1].Header.Get("X-Tenant") != tenant || got[1].Header.Get("X-New") != "new-value" {
			t.Fatalf("delivery headers after update = %v", got[1].Header)
		}

		// The mask keeps only what is stored: it is refused anywhere else.
		for name, r := range map[string]*apptest.Response{
			"create with a mask": h.Admin("POST", "/api/webhooks/", map[string]any{"url": rc.URL, "subscribedEvents": []string{"messages"},
				"extraHeaders": []map[string]string{{"name": "Authorization", "value": "********"}}}),
			"update masking an unknown header": h.Admin("POST", "/api/webhooks/"+sub.ID+"/update", map[string]any{
				"extraHeaders": []map[string]string{{"name": "X-Other", "value": "********"}}}),
		} {
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Map(t)["message"].(string), "extraHeaders[0]") {
				t.Errorf("%s: %d %s, want 422 naming the header", name, r.Status, r.Body)
			}
		}
		other := h.NewAdminToken("elsewhere")
		if r := h.AdminAs(other, "POST", "/api/webhooks/"+sub.ID+"/update", map[string]any{"extraHeaders": headers}); r.Status != http.StatusNotFound {
			t.Errorf("another workspace's update: %d, want 404", r.Status)
		}
		masked("get after refusals", h.Admin("GET", "/api/webhooks/"+sub.ID, nil), http.StatusOK, 3)
	})
}
