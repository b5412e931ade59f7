package adminui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// markup is what an attacker puts in every value they control.
const markup = `<script>alert("x")</script><img src=x onerror=alert(1)>`

// noMarkup fails the test when markup reached the page unescaped.
func noMarkup(t *testing.T, what string, p *apptest.UIPage) {
	t.Helper()
	if strings.Contains(p.Body, `<script>alert`) || strings.Contains(p.Body, `<img src=x`) {
		t.Errorf("%s shows markup unescaped:\n%s", what, p.Body)
	}
}

type apiDelivery struct {
	ID, Status, IntegrationID string
	AttemptCount              int
}

// converse opens a conversation on a custom integration and replies in it
// n times: each reply is a delivery to the integration's target.
func converse(t *testing.T, h *apptest.Hub, in apptest.Integration, thread string, n int) {
	t.Helper()
	r := h.PostCustom(in.ID, in.APIKey, map[string]any{"messageId": "in-" + thread, "conversationId": thread,
		"from": map[string]any{"externalId": "u-" + thread, "name": "Jane"}, "content": "hi"})
	if r.Status != http.StatusOK {
		t.Fatalf("inbound: %d", r.Status)
	}
	var convs struct {
		Conversations []struct{ ID, ExternalID string }
	}
	h.Admin("GET", "/api/conversations?integrationId="+in.ID, nil).JSON(t, &convs)
	conv := ""
	for _, c := range convs.Conversations {
		if c.ExternalID == thread {
			conv = c.ID
		}
	}
	if conv == "" {
		t.Fatalf("no conversation %s: %+v", thread, convs)
	}
	for i := range n {
		if r := h.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": fmt.Sprintf("reply %d", i)}); r.Status != http.StatusCreated {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
	}
}

// waitDelivery waits until the integration's only delivery has status.
func waitDelivery(t *testing.T, h *apptest.Hub, integrationID, status string) apiDelivery {
	t.Helper()
	var got apiDelivery
	apptest.Eventually(t, 10*time.Second, func() error {
		var list struct{ Deliveries []apiDelivery }
		h.Admin("GET", "/api/deliveries?integrationId="+integrationID, nil).JSON(t, &list)
		if len(list.Deliveries) != 1 || list.Deliveries[0].Status != status {
			return fmt.Errorf("deliveries %+v, want one %s", list.Deliveries, status)
		}
		got = list.Deliveries[0]
		return nil
	})
	return got
}

// deadDelivery makes a delivery that every attempt fails with 500 and the
// given body, until healthy is set.
func deadDelivery(t *testing.T, h *apptest.Hub, rc *apptest.Receiver, healthy *atomic.Bool, name, body string) (apptest.Integration, apiDelivery) {
	t.Helper()
	rc.Respond = func(n int, r *apptest.Received) apptest.Reply {
		if healthy.Load() {
			return apptest.Reply{Status: 200, Body: "ok"}
		}
		return apptest.Reply{Status: 500, Body: body}
	}
	in := h.CreateIntegration(map[string]any{"name": name, "kind": "custom", "outboundUrl": rc.URL + "/hook"})
	converse(t, h, in, "thread-"+name, 1)
	return in, waitDelivery(t, h, in.ID, domain.DeliveryDead)
}

// TestDeliveryRetry: a dead delivery is listed, filtered, shown with its
// attempts and the endpoint's answer escaped, and retried by hand.
func TestDeliveryRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		h := apptest.Start(t, dbURL, apptest.WithRetrySchedule(0, 50*time.Millisecond))
		c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
		var healthy atomic.Bool
		in, d := deadDelivery(t, h, rc, &healthy, "Shop "+markup, "upstream says "+markup)

		p := c.Get("/deliveries")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="delivery-`+d.ID+`" class="delivery" data-status="dead"`) {
			t.Fatalf("the list: %d\n%s", p.Status, p.Body)
		}
		noMarkup(t, "the list", p)
		for query, want := range map[string]bool{
			"?integrationId=" + in.ID:                    true,
			"?integrationId=" + in.ID + "&status=dead":   true,
			"?status=dead":                               true,
			"?integrationId=" + in.ID + "&status=failed": false,
			"?status=succeeded":                          false,
		} {
			p := c.Get("/deliveries" + query)
			if p.Status != http.StatusOK || strings.Contains(p.Body, "delivery-"+d.ID) != want || strings.Contains(p.Body, `id="no-deliveries"`) == want {
				t.Errorf("%s: %d, listed %v, want %v", query, p.Status, !want, want)
			}
			noMarkup(t, query, p)
		}
		if p := c.Get("/deliveries?status=lost"); p.Status != http.StatusBadRequest {
			t.Errorf("an unknown status: %d, want 400", p.Status)
		}
		if p := c.Get("/deliveries?integrationId=" + in.ID + "&fragment=list"); p.Status != http.StatusOK ||
			strings.Contains(p.Body, "<html") || !strings.Contains(p.Body, "delivery-"+d.ID) {
			t.Errorf("the list's fragment: %d\n%s", p.Status, p.Body)
		}

		p = c.Get("/deliveries/" + d.ID)
		if p.Status != http.StatusOK {
			t.Fatalf("the delivery: %d\n%s", p.Status, p.Body)
		}
		noMarkup(t, "the delivery", p)
		excerpt := `<pre class="response-excerpt">upstream says &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</pre>`
		if strings.Count(p.Body, excerpt) != 2 || !strings.Contains(p.Body, `id="attempt-2"`) || !strings.Contains(p.Body, `id="retry"`) {
			t.Errorf("the delivery page lacks its attempts, escaped excerpts or retry button:\n%s", p.Body)
		}

		// Without the token the retry changes nothing.
		if p := c.Post("/deliveries/"+d.ID+"/retry", url.Values{"_csrf": {""}}); p.Status != http.StatusForbidden {
			t.Errorf("a retry without the token: %d, want 403", p.Status)
		}
		waitDelivery(t, h, in.ID, domain.DeliveryDead)

		healthy.Store(true)
		p = c.Post("/deliveries/"+d.ID+"/retry", nil)
		if p.Status != http.StatusSeeOther || p.Location != "/deliveries/"+d.ID+"?done=retried" {
			t.Fatalf("retry: %d to %q\n%s", p.Status, p.Location, p.Body)
		}
		if p := c.Get(p.Location); !strings.Contains(p.Body, `id="notice"`) {
			t.Errorf("no notice after the retry:\n%s", p.Body)
		}
		if got := waitDelivery(t, h, in.ID, domain.DeliverySucceeded); got.AttemptCount != 3 {
			t.Errorf("after the retry: %+v, want 3 attempts", got)
		}
		p = c.Get("/deliveries/" + d.ID + "?fragment=delivery")
		if !strings.Contains(p.Body, `data-status="succeeded"`) || strings.Contains(p.Body, `id="retry"`) || strings.Contains(p.Body, "<html") {
			t.Errorf("the succeeded delivery's fragment:\n%s", p.Body)
		}
		// A delivery that succeeded is not retried: the page says why.
		if p := c.Post("/deliveries/"+d.ID+"/retry", nil); p.Status != http.StatusConflict || !strings.Contains(p.Body, "only a dead or failed delivery") {
			t.Errorf("retrying a succeeded delivery: %d\n%s", p.Status, p.Body)
		}
	})
}

// TestRetryAllDeliveries: the integration's dead deliveries are retried at once.
func TestRetryAllDeliveries(t *testing.T) {
	rc := apptest.NewReceiver(t)
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithRetrySchedule(0))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	var healthy atomic.Bool
	in, _ := deadDelivery(t, h, rc, &healthy, "bulk", "down")
	p := c.Get("/deliveries?integrationId=" + in.ID + "&status=dead")
	if !strings.Contains(p.Body, `id="retry-all"`) {
		t.Fatalf("no retry-all form:\n%s", p.Body)
	}
	healthy.Store(true)
	p = c.Post("/deliveries/retry", url.Values{"integrationId": {in.ID}, "status": {"dead"}})
	if p.Status != http.StatusSeeOther || !strings.Contains(p.Location, "retried=1") {
		t.Fatalf("retry all: %d to %q\n%s", p.Status, p.Location, p.Body)
	}
	if p := c.Get(p.Location); !strings.Contains(p.Body, "1 delivery is attempted again now.") {
		t.Errorf("no notice after retrying all:\n%s", p.Body)
	}
	waitDelivery(t, h, in.ID, domain.DeliverySucceeded)
}

// TestDeliveriesPaging: the list pages with a More link that keeps the filter.
func TestDeliveriesPaging(t *testing.T) {
	rc := apptest.NewReceiver(t)
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	in := h.CreateIntegration(map[string]any{"name": "busy", "kind": "custom", "outboundUrl": rc.URL})
	other := h.CreateIntegration(map[string]any{"name": "quiet", "kind": "custom", "outboundUrl": rc.URL})
	converse(t, h, in, "many", 53)
	converse(t, h, other, "one", 1)
	rows := regexp.MustCompile(`id="delivery-([0-9a-f-]+)"`)
	more := regexp.MustCompile(`<a href="([^"]+)" id="more"`)

	p := c.Get("/deliveries?integrationId=" + in.ID)
	first := rows.FindAllStringSubmatch(p.Body, -1)
	m := more.FindStringSubmatch(p.Body)
	if len(first) != 50 || m == nil {
		t.Fatalf("the first page: %d rows, more link %v", len(first), m)
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.Contains(next, "integrationId="+in.ID) || !strings.Contains(next, "cursor=") {
		t.Errorf("the More link drops the filter: %s", next)
	}
	p = c.Get(next)
	second := rows.FindAllStringSubmatch(p.Body, -1)
	if len(second) != 3 || more.MatchString(p.Body) {
		t.Errorf("the second page: %d rows, want 3 and no More link", len(second))
	}
	seen := map[string]bool{}
	for _, r := range append(first, second...) {
		if seen[r[1]] {
			t.Errorf("delivery %s is on both pages", r[1])
		}
		seen[r[1]] = true
	}
}

// TestSubscriptionLifecycle: create (the signing secret shown once, header
// values never), disable and enable in one click, edit headers and events,
// refusals beside their field, delete.
func TestSubscriptionLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		const bearer, tenant = "Bearer receiver-s3cret", `acme"><script>alert(1)</script>`
		// No space: the URL must still reach the receiver.
		hookURL := rc.URL + `/hook?tag=<script>alert("x")</script>`

		if p := c.Get("/subscriptions"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="no-subscriptions"`) {
			t.Fatalf("the empty list: %d\n%s", p.Status, p.Body)
		}
		if p := c.Get("/subscriptions/new"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="subscription-form"`) ||
			!strings.Contains(p.Body, `id="event-messages" checked`) {
			t.Fatalf("the new form: %d\n%s", p.Status, p.Body)
		}
		p := c.Post("/subscriptions", url.Values{"url": {hookURL}, "enabled": {"1"}, "subscribedEvents": {"messages"}, "format": {""},
			"headers.name": {"Authorization", "X-Tenant", ""}, "headers.value": {bearer, tenant, ""}})
		if p.Status != http.StatusCreated {
			t.Fatalf("create: %d\n%s", p.Status, p.Body)
		}
		noMarkup(t, "the created page", p)
		secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=_-]+`).FindString(p.Body)
		id := regexp.MustCompile(`id="subscription-([0-9a-f-]{36})" class="subscription created"`).FindStringSubmatch(p.Body)
		if secret == "" || id == nil || !strings.Contains(p.Body, `id="secret-secret"`) {
			t.Fatalf("the created page has no secret or row:\n%s", p.Body)
		}
		if strings.Contains(p.Body, "receiver-s3cret") || strings.Contains(p.Body, "acme") {
			t.Errorf("the created page shows a header value")
		}
		sub := id[1]

		// Never again: neither the secret nor a header value.
		for _, path := range []string{"/subscriptions", "/subscriptions/" + sub + "/edit"} {
			p := c.Get(path)
			if p.Status != http.StatusOK || strings.Contains(p.Body, secret) || strings.Contains(p.Body, "whsec_") ||
				strings.Contains(p.Body, "receiver-s3cret") || strings.Contains(p.Body, "acme") {
				t.Errorf("%s: %d, shows a secret\n%s", path, p.Status, p.Body)
			}
			noMarkup(t, path, p)
			if !strings.Contains(p.Body, "X-Tenant") || !strings.Contains(p.Body, "/hook?tag=&lt;script&gt;") {
				t.Errorf("%s lacks the header name or the escaped url", path)
			}
		}
		if p := c.Get("/subscriptions/" + sub + "/edit"); strings.Count(p.Body, `name="headers.value" value="********"`) != 2 {
			t.Errorf("the edit form does not mask the stored values:\n%s", p.Body)
		}

		// Deliveries carry the real values.
		converse(t, h, in, "s-1", 0)
		got := rc.WaitFor(t, 1, 10*time.Second)
		if got[0].Header.Get("Authorization") != bearer || got[0].Header.Get("X-Tenant") != tenant {
			t.Errorf("delivered headers: %v", got[0].Header)
		}

		// One click each way.
		for _, step := range []struct{ action, button string }{{"disable", `data-toggle="enable"`}, {"enable", `data-toggle="disable"`}} {
			p := c.Post("/subscriptions/"+sub+"/"+step.action, nil)
			if p.Status != http.StatusSeeOther {
				t.Fatalf("%s: %d\n%s", step.action, p.Status, p.Body)
			}
			var api struct{ Enabled bool }
			h.Admin("GET", "/api/webhooks/"+sub, nil).JSON(t, &api)
			if api.Enabled != (step.action == "enable") {
				t.Errorf("after %s: enabled %v", step.action, api.Enabled)
			}
			if p := c.Get(p.Location); !strings.Contains(p.Body, step.button) {
				t.Errorf("after %s the list lacks %s", step.action, step.button)
			}
		}

		// Refusals show beside their field and keep what was typed.
		for name, tc := range map[string]struct {
			form  url.Values
			field string
		}{
			"no event":     {url.Values{"url": {hookURL}, "enabled": {"1"}}, "subscribedEvents"},
			"a bad header": {url.Values{"url": {hookURL}, "subscribedEvents": {"messages"}, "headers.name": {"Bad Name"}, "headers.value": {markup}}, "extraHeaders"},
			"a set header": {url.Values{"url": {hookURL}, "subscribedEvents": {"messages"}, "headers.name": {"webhook-id"}, "headers.value": {"v"}}, "extraHeaders"},
			"a mask to a new host": {url.Values{"url": {"http://localhost:1/other"}, "subscribedEvents": {"messages"},
				"headers.name": {"Authorization"}, "headers.value": {"********"}}, "extraHeaders"},
		} {
			p := c.Post("/subscriptions/"+sub, tc.form)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) || !strings.Contains(p.Body, tc.field) {
				t.Errorf("%s: %d, want 422 naming %s\n%s", name, p.Status, tc.field, p.Body)
			}
			noMarkup(t, name, p)
		}
		p = c.Post("/subscriptions", url.Values{"url": {markup}, "subscribedEvents": {"messages"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) || !strings.Contains(p.Body, "url") {
			t.Errorf("a create with a bad url: %d\n%s", p.Status, p.Body)
		}
		noMarkup(t, "a bad url", p)

		// Edit: keep one masked header, drop one, add one; both events; legacy.
		p = c.Post("/subscriptions/"+sub, url.Values{"url": {hookURL}, "enabled": {"1"}, "subscribedEvents": {"messages", "transfers"}, "format": {"legacy"},
			"headers.name": {"Authorization", "X-New"}, "headers.value": {"********", "new-value"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d\n%s", p.Status, p.Body)
		}
		var api struct {
			SubscribedEvents []string
			Format           string
			ExtraHeaders     []struct{ Name, Value string }
		}
		h.Admin("GET", "/api/webhooks/"+sub, nil).JSON(t, &api)
		if len(api.SubscribedEvents) != 2 || api.Format != "legacy" || len(api.ExtraHeaders) != 2 || api.ExtraHeaders[1].Name != "X-New" {
			t.Errorf("after the edit: %+v", api)
		}
		converse(t, h, in, "s-2", 0)
		got = rc.WaitFor(t, 2, 10*time.Second)
		if got[1].Header.Get("Authorization") != bearer || got[1].Header.Get("X-New") != "new-value" || got[1].Header.Get("X-Tenant") != "" {
			t.Errorf("headers after the edit: %v", got[1].Header)
		}

		p = c.Post("/subscriptions/"+sub+"/delete", nil)
		if p.Status != http.StatusSeeOther || p.Location != "/subscriptions?done=deleted" {
			t.Fatalf("delete: %d to %q", p.Status, p.Location)
		}
		if r := h.Admin("GET", "/api/webhooks/"+sub, nil); r.Status != http.StatusNotFound {
			t.Errorf("after delete: %d", r.Status)
		}
		if p := c.Get("/subscriptions/" + sub + "/edit"); p.Status != http.StatusNotFound {
			t.Errorf("the deleted subscription's form: %d", p.Status)
		}
	})
}

// TestSubscriptionFormsNeedTheToken: forged forms change nothing.
func TestSubscriptionFormsNeedTheToken(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	r := h.Admin("POST", "/api/webhooks/", map[string]any{"url": "https://example.com/hook", "subscribedEvents": []string{"messages"}})
	sub := r.Map(t)["id"].(string)
	if p := c.Post("/subscriptions", url.Values{"_csrf": {""}, "url": {"https://example.com/forged"}, "subscribedEvents": {"messages"}}); p.Status != http.StatusForbidden {
		t.Errorf("create without the token: %d", p.Status)
	}
	for _, action := range []string{"/delete", "/disable", ""} {
		if p := c.PostFrom("https://evil.example", "/subscriptions/"+sub+action, url.Values{"url": {"https://evil.example/"}}); p.Status != http.StatusForbidden {
			t.Errorf("%s from another origin: %d", action, p.Status)
		}
	}
	var list struct {
		Webhooks []struct {
			URL     string
			Enabled bool
		}
	}
	h.Admin("GET", "/api/webhooks/", nil).JSON(t, &list)
	if len(list.Webhooks) != 1 || list.Webhooks[0].URL != "https://example.com/hook" || !list.Webhooks[0].Enabled {
		t.Errorf("forged forms changed the subscriptions: %+v", list.Webhooks)
	}
}

// TestPluginsPage: every plugin with its state; an altered executable is
// refused and shown as unhealthy, in the page and in its fragment.
func TestPluginsPage(t *testing.T) {
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
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	for _, path := range []string{"/plugins", "/plugins?fragment=plugins"} {
		p := c.Get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, p.Status)
		}
		for _, want := range []string{
			`id="plugin-sms" class="plugin plugin-refused" data-state="refused"`,
			`id="plugin-custom" class="plugin plugin-running" data-state="running"`,
			`class="badge status-refused plugin-state"`,
			`data-healthy="false"`,
			"checksum",
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("%s lacks %s\n%s", path, want, p.Body)
			}
		}
		if frag := strings.Contains(path, "fragment"); frag == strings.Contains(p.Body, "<html") {
			t.Errorf("%s: the whole page %v", path, !frag)
		}
	}
	if p := c.Get("/plugins"); !strings.Contains(p.Body, `data-refresh="/plugins?fragment=plugins"`) {
		t.Errorf("the plugins page does not refresh itself")
	}
}

// TestOperationsNeedStaff: an agent sees none of these pages.
func TestOperationsNeedStaff(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
	admin := h.LoginUI("admin@example.com", h.NewUser("admin@example.com", domain.RoleAdmin))
	r := h.Admin("POST", "/api/webhooks/", map[string]any{"url": "https://example.com/hook", "subscribedEvents": []string{"messages"}})
	sub := r.Map(t)["id"].(string)
	if p := agent.Get("/conversations"); strings.Contains(p.Body, `href="/deliveries"`) || strings.Contains(p.Body, `href="/plugins"`) {
		t.Errorf("the agent's navigation links to operations")
	}
	for _, path := range []string{"/deliveries", "/deliveries/x", "/subscriptions", "/subscriptions/new", "/subscriptions/" + sub + "/edit", "/plugins"} {
		if p := agent.Get(path); p.Status != http.StatusForbidden {
			t.Errorf("agent GET %s: %d, want 403", path, p.Status)
		}
		if p := admin.Get(path); p.Status == http.StatusForbidden {
			t.Errorf("admin GET %s: 403", path)
		}
	}
	// A refused fragment is refused too (the error page has no such fragment).
	if p := agent.Get("/plugins?fragment=plugins"); p.Status == http.StatusOK || strings.Contains(p.Body, "plugin-") {
		t.Errorf("agent GET the plugins fragment: %d\n%s", p.Status, p.Body)
	}
	for _, path := range []string{"/deliveries/x/retry", "/deliveries/retry", "/subscriptions", "/subscriptions/" + sub, "/subscriptions/" + sub + "/disable", "/subscriptions/" + sub + "/delete"} {
		if p := agent.Post(path, url.Values{"url": {"https://example.com/x"}, "subscribedEvents": {"messages"}}); p.Status != http.StatusForbidden {
			t.Errorf("agent POST %s: %d, want 403", path, p.Status)
		}
	}
	if r := h.Admin("GET", "/api/webhooks/"+sub, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"enabled":true`) {
		t.Errorf("the agent changed the subscription: %d %s", r.Status, r.Body)
	}
}

// TestOperationsOfOtherWorkspaces: another workspace's deliveries and
// subscriptions answer 404, exactly as missing ones.
func TestOperationsOfOtherWorkspaces(t *testing.T) {
	rc := apptest.NewReceiver(t)
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithRetrySchedule(0))
	var healthy atomic.Bool
	in, d := deadDelivery(t, h, rc, &healthy, "theirs", "down")
	r := h.Admin("POST", "/api/webhooks/", map[string]any{"url": rc.URL + "/theirs", "subscribedEvents": []string{"messages"}})
	sub := r.Map(t)["id"].(string)

	c := h.LoginUI("x@example.com", h.NewUserIn("other", "x@example.com", domain.RoleOwner))
	if p := c.Get("/deliveries"); strings.Contains(p.Body, d.ID) || strings.Contains(p.Body, "theirs") {
		t.Errorf("another workspace's delivery is listed")
	}
	if p := c.Get("/subscriptions"); strings.Contains(p.Body, sub) || strings.Contains(p.Body, "/theirs") {
		t.Errorf("another workspace's subscription is listed")
	}
	for _, path := range []string{"/deliveries/" + d.ID, "/deliveries/" + d.ID + "?fragment=delivery", "/deliveries?integrationId=" + in.ID, "/subscriptions/" + sub + "/edit"} {
		if p := c.Get(path); p.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.Status)
		}
	}
	healthy.Store(true)
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{"/deliveries/" + d.ID + "/retry", nil},
		{"/deliveries/retry", url.Values{"integrationId": {in.ID}}},
		{"/subscriptions/" + sub, url.Values{"url": {"https://example.com/taken"}, "subscribedEvents": {"messages"}}},
		{"/subscriptions/" + sub + "/disable", nil},
		{"/subscriptions/" + sub + "/delete", nil},
	} {
		if p := c.Post(post.path, post.form); p.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", post.path, p.Status)
		}
	}
	waitDelivery(t, h, in.ID, domain.DeliveryDead)
	var got struct {
		URL     string
		Enabled bool
	}
	h.Admin("GET", "/api/webhooks/"+sub, nil).JSON(t, &got)
	if got.URL != rc.URL+"/theirs" || !got.Enabled {
		t.Errorf("another workspace changed the subscription: %+v", got)
	}
}

// TestSubscriptionDisabledByTheHub: a subscription whose endpoint kept
// failing shows why it was disabled, and one click enables it again.
func TestSubscriptionDisabledByTheHub(t *testing.T) {
	rc := apptest.NewReceiver(t)
	rc.Respond = func(int, *apptest.Received) apptest.Reply { return apptest.Reply{Status: 500} }
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithDisableAfter(400*time.Millisecond),
		apptest.WithRetrySchedule(0, 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond, time.Hour))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
	sub := h.Admin("POST", "/api/webhooks/", map[string]any{"url": rc.URL + "/failing", "subscribedEvents": []string{"messages"}}).Map(t)["id"].(string)
	converse(t, h, in, "d-1", 0)
	apptest.Eventually(t, 10*time.Second, func() error {
		if r := h.Admin("GET", "/api/webhooks/"+sub, nil); r.Map(t)["enabled"] != false {
			return fmt.Errorf("still enabled: %s", r.Body)
		}
		return nil
	})
	p := c.Get("/subscriptions")
	if !strings.Contains(p.Body, `data-enabled="false"`) || !strings.Contains(p.Body, `class="hint disabled-reason">target disabled: every attempt failed since`) {
		t.Errorf("the list does not say why it is disabled:\n%s", p.Body)
	}
	if p := c.Get("/subscriptions/" + sub + "/edit"); !strings.Contains(p.Body, `id="disabled-reason"`) || strings.Contains(p.Body, `id="subscription-enabled" value="1" checked`) {
		t.Errorf("the form does not say why it is disabled:\n%s", p.Body)
	}
	// The failed deliveries are listed with the subscription as target.
	if p := c.Get("/deliveries"); !strings.Contains(p.Body, `href="/subscriptions/`+sub+`/edit"`) {
		t.Errorf("the deliveries do not link to their subscription:\n%s", p.Body)
	}
	if p := c.Post("/subscriptions/"+sub+"/enable", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("enable: %d", p.Status)
	}
	if p := c.Get("/subscriptions"); !strings.Contains(p.Body, `data-enabled="true"`) || strings.Contains(p.Body, "disabled-reason") {
		t.Errorf("enabled again, the list still shows it disabled:\n%s", p.Body)
	}
}
