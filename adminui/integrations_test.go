package adminui_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

var apiKeyOnPage = regexp.MustCompile(`sbk_[A-Za-z0-9_-]+`)

// TestCreateIntegrationShowsKeyOnce: the key is on the page that creates
// the integration, works, and is never shown again.
func TestCreateIntegrationShowsKeyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
		p := c.Post("/integrations", url.Values{"name": {"Shop"}, "kind": {"custom"}, "delivery.method": {"POST"}, "delivery.url": {""}, "auth.type": {"none"}})
		if p.Status != http.StatusCreated {
			t.Fatalf("create: %d\n%s", p.Status, p.Body)
		}
		key := apiKeyOnPage.FindString(p.Body)
		id := regexp.MustCompile(`/api/webhooks/custom/([0-9a-f-]{36})`).FindStringSubmatch(p.Body)
		if key == "" || id == nil || !strings.Contains(p.Body, "sbr_") {
			t.Fatalf("the created page has no key, token or id:\n%s", p.Body)
		}
		r := h.PostCustom(id[1], key, map[string]any{"messageId": "m1", "conversationId": "c1", "from": map[string]any{"externalId": "u1"}, "content": "hi"})
		if r.Status != http.StatusOK {
			t.Errorf("the shown key: %d", r.Status)
		}
		for _, path := range []string{"/integrations", "/integrations/" + id[1], "/integrations/" + id[1] + "/edit"} {
			if p := c.Get(path); p.Status != http.StatusOK || apiKeyOnPage.MatchString(p.Body) || strings.Contains(p.Body, "sbr_") {
				t.Errorf("%s: %d, shows a key again", path, p.Status)
			}
		}
		p = c.Post("/integrations/"+id[1]+"/regenerate-key", nil)
		newKey := apiKeyOnPage.FindString(p.Body)
		if p.Status != http.StatusOK || newKey == "" || newKey == key {
			t.Fatalf("regenerate: %d, key %q", p.Status, newKey)
		}
	})
}

// TestContentIsEscaped: a name with markup is shown as text.
func TestContentIsEscaped(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("e@example.com", h.NewUser("e@example.com", domain.RoleOwner))
	h.CreateIntegration(map[string]any{"name": `<script>alert("x")</script><img src=x onerror=alert(1)>`, "kind": "custom"})
	p := c.Get("/integrations")
	if strings.Contains(p.Body, "<script>alert") || strings.Contains(p.Body, "<img src=x") || !strings.Contains(p.Body, "&lt;script&gt;") {
		t.Errorf("the name is not escaped:\n%s", p.Body)
	}
}

// TestOtherWorkspacesAreInvisible: a user sees only their workspace.
func TestOtherWorkspacesAreInvisible(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "Theirs", "kind": "custom"})
	c := h.LoginUI("x@example.com", h.NewUserIn("other", "x@example.com", domain.RoleOwner))
	if p := c.Get("/integrations"); strings.Contains(p.Body, "Theirs") {
		t.Errorf("another workspace's integration is listed")
	}
	if p := c.Get("/integrations/" + in.ID); p.Status != http.StatusNotFound {
		t.Errorf("another workspace's integration: %d, want 404", p.Status)
	}
	if p := c.Post("/integrations/"+in.ID+"/delete", nil); p.Status != http.StatusNotFound {
		t.Errorf("deleting another workspace's integration: %d, want 404", p.Status)
	}
}

// TestFormErrorsBesideTheirField: a refused save shows the API's message
// beside the field it names, and keeps what was typed.
func TestFormErrorsBesideTheirField(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("f@example.com", h.NewUser("f@example.com", domain.RoleOwner))
	p := c.Post("/integrations", url.Values{"name": {"Typo"}, "kind": {"custom"}, "delivery.method": {"POST"},
		"delivery.url": {"https://example.com/hook"}, "auth.type": {"none"},
		"params.key": {"who"}, "params.type": {"variable"}, "params.value": {"nosuchvariable"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) || !strings.Contains(p.Body, "nosuchvariable") ||
		!strings.Contains(p.Body, `value="Typo"`) {
		t.Errorf("a refused save: %d\n%s", p.Status, p.Body)
	}
}

// TestSigningSecret: the secret deliveries are signed with is shown on
// request, as the API has it, and rotated with a new one shown.
func TestSigningSecret(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("s@example.com", h.NewUser("s@example.com", domain.RoleOwner))
	in := h.CreateIntegration(map[string]any{"name": "Signed", "kind": "custom"})
	var api struct{ Secret string }
	h.Admin("GET", "/api/integrations/"+in.ID+"/signing-secret", nil).JSON(t, &api)
	if p := c.Get("/integrations/" + in.ID); strings.Contains(html.UnescapeString(p.Body), api.Secret) {
		t.Errorf("the integration page shows the signing secret unasked")
	}
	if p := c.Post("/integrations/"+in.ID+"/signing-secret", nil); p.Status != http.StatusOK || !strings.Contains(html.UnescapeString(p.Body), api.Secret) {
		t.Errorf("show signing secret: %d, secret on page: %v", p.Status, strings.Contains(html.UnescapeString(p.Body), api.Secret))
	}
	p := c.Post("/integrations/"+in.ID+"/signing-secret/rotate", nil)
	var rotated struct{ Secret string }
	h.Admin("GET", "/api/integrations/"+in.ID+"/signing-secret", nil).JSON(t, &rotated)
	if p.Status != http.StatusOK || rotated.Secret == api.Secret || !strings.Contains(html.UnescapeString(p.Body), rotated.Secret) {
		t.Errorf("rotate: %d, new secret shown: %v", p.Status, strings.Contains(html.UnescapeString(p.Body), rotated.Secret))
	}
	agent := h.LoginUI("a2@example.com", h.NewUser("a2@example.com", domain.RoleAgent))
	if p := agent.Post("/integrations/"+in.ID+"/signing-secret", nil); p.Status != http.StatusForbidden || strings.Contains(p.Body, "whsec_") {
		t.Errorf("an agent asks for the signing secret: %d", p.Status)
	}
}

// TestIDsAreOnePathSegment: an id in a page's URL becomes one segment of the
// admin API path the page calls in process. An id that holds a slash (sent
// as %2F) or is a dot segment must not name another API route, where the
// user's in-process identity would reach what no page of theirs calls.
func TestIDsAreOnePathSegment(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "custom"})
	c := h.LoginUI("admin@example.com", h.NewUser("admin@example.com", domain.RoleAdmin))
	for _, path := range []string{
		"/subscriptions/custom%2F" + in.ID + "/edit", // GET /api/webhooks/custom/{id}: the inbound webhook
		"/integrations/" + in.ID + "%2Fcampaigns/edit",
		"/integrations/" + in.ID + "%2Fcampaigns",
		"/deliveries/..%2Fintegrations",
		"/integrations/%2E%2E/edit",
	} {
		if p := c.Get(path); p.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.Status)
		}
	}
}
