package core_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// A 3xx answer is a failed attempt naming where it pointed; the hub never
// follows it, so neither the request nor its auth header goes elsewhere.
func TestRedirectIsAFailedAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		elsewhere := apptest.NewReceiver(t)
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(elsewhere.URL, "http://"))
		away := "http://localhost:" + port + "/collect" // another host than the target's 127.0.0.1
		long := away + "?nel=\u0085&pad=" + strings.Repeat("a", 2000)
		// Go cannot parse this one: the attempt fails all the same, its error bounded.
		unparsable := away + "?tab=\t&pad=" + strings.Repeat("a", 2000)

		rc := apptest.NewReceiver(t)
		rc.Respond = func(_ int, r *apptest.Received) apptest.Reply {
			switch r.Path {
			case "/sub":
				return apptest.Reply{Status: http.StatusMovedPermanently, Header: map[string]string{"Location": long}}
			case "/unparsable":
				return apptest.Reply{Status: http.StatusFound, Header: map[string]string{"Location": unparsable}}
			}
			return apptest.Reply{Status: http.StatusTemporaryRedirect, Header: map[string]string{"Location": away}, Body: "moved"}
		}
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "redirected", "kind": "custom", "delivery": map[string]any{
			"url":  rc.URL + "/hook",
			"auth": map[string]any{"type": "apiKey", "header": "X-Custom-Key", "value": "k-redirect-secret"},
		}})
		bad := h.CreateIntegration(map[string]any{"name": "unparsable", "kind": "custom", "outboundUrl": rc.URL + "/unparsable"})
		if r := h.Admin("POST", "/api/webhooks/", map[string]any{"url": rc.URL + "/sub", "subscribedEvents": []string{"messages"},
			"extraHeaders": []map[string]string{{"name": "Authorization", "value": "Bearer sub-secret"}}}); r.Status != http.StatusCreated {
			t.Fatalf("subscription: %d %s", r.Status, r.Body)
		}
		conv := startConversation(t, h, in, "redirect-1")
		reply(t, h, conv, "over here")
		reply(t, h, startConversation(t, h, bad, "redirect-2"), "and here")

		byTarget := map[string]deliveryView{}
		apptest.Eventually(t, 15*time.Second, func() error {
			ds := deliveries(t, h, "")
			// Each reply to its integration; both messages and both replies to the subscription.
			if len(ds) != 6 {
				return fmt.Errorf("%d deliveries", len(ds))
			}
			unparsableID := ""
			for _, d := range deliveries(t, h, "integrationId="+bad.ID) {
				if d.Target == "integration" {
					unparsableID = d.ID
				}
			}
			for _, d := range ds {
				if d.Status != "dead" {
					return fmt.Errorf("delivery %s is %s (%s)", d.ID, d.Status, d.LastError)
				}
				key := d.Target
				if d.ID == unparsableID {
					key = "unparsable"
				}
				byTarget[key] = delivery(t, h, d.ID)
			}
			return nil
		})

		d := byTarget["integration"]
		if len(d.Attempts) != 3 {
			t.Fatalf("integration delivery: %d attempts, want the whole schedule of 3", len(d.Attempts))
		}
		want := "target answered 307, a redirect to " + away + ", which is not followed"
		if d.LastError != want {
			t.Errorf("lastError = %q, want %q", d.LastError, want)
		}
		for _, a := range d.Attempts {
			if a.StatusCode != http.StatusTemporaryRedirect || a.Error != want || a.ResponseExcerpt != "moved" {
				t.Errorf("attempt %d: %d %q %q", a.N, a.StatusCode, a.Error, a.ResponseExcerpt)
			}
		}

		s := byTarget["subscription"]
		if !strings.HasPrefix(s.LastError, "target answered 301, a redirect to "+away+"?nel=\uFFFD&pad=aaa") || !strings.Contains(s.LastError, "…") {
			t.Errorf("subscription lastError = %q", s.LastError)
		}
		if len(s.LastError) > 700 || strings.ContainsAny(s.LastError, "\u0085\r\n") {
			t.Errorf("subscription lastError is not bounded and clean: %d bytes", len(s.LastError))
		}
		if u := byTarget["unparsable"]; len(u.LastError) > 1100 || !strings.Contains(u.LastError, "Location") || u.Attempts[0].StatusCode != 0 {
			t.Errorf("unparsable Location: lastError %d bytes %q", len(u.LastError), u.LastError)
		}

		if got := elsewhere.Requests(); len(got) != 0 {
			t.Errorf("the redirect's target got %d requests, first with headers %v", len(got), got[0].Header)
		}
		for _, got := range rc.Requests() {
			if got.Path == "/hook" && got.Header.Get("X-Custom-Key") != "k-redirect-secret" {
				t.Errorf("the target itself did not get its key: %v", got.Header)
			}
		}
		all := string(h.Admin("GET", "/api/deliveries?limit=500", nil).Body)
		for _, secret := range []string{"k-redirect-secret", "sub-secret"} {
			if strings.Contains(all, secret) || strings.Contains(fmt.Sprint(byTarget), secret) {
				t.Errorf("a delivery shows %q", secret)
			}
		}
	})
}

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
		// Forms a resolver may read as a loopback or private address.
		"2130706433", "0x7f.0.0.1", "017700000001", "127.1", "0x7f000001", "0177.0.0.1", "127.0.1",
		"127.000.000.001", "0", "10.0.0.1.", "127。0。0。1", "ＬＯＣＡＬＨＯＳＴ",
		// Impossible ports.
		"1.1.1.1:0", "1.1.1.1:99999",
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
