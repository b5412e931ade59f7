package adminui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

const accountSid = "AC0123456789abcdef0123456789abcdef"

// smsForm is a valid create form for an SMS connection.
func smsForm(code, sender, authToken string) url.Values {
	return url.Values{"code": {code}, "channel": {"SMS"}, "sender": {sender}, "route": {"main"},
		"provider.accountSid": {accountSid}, "provider.authToken": {authToken}, "provider.baseUrl": {"http://127.0.0.1:9"}}
}

// idAfter finds the id in a page after a prefix such as `id="connection-`.
func idAfter(t *testing.T, body, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(prefix) + `([0-9a-f-]{36})`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s… on the page:\n%s", prefix, body)
	}
	return m[1]
}

// TestConnectionCreatedFromTheSchema: the provider settings come from the
// SMS plugin's schema; the auth token is a password input, is stored, and
// never shows again, on any page.
func TestConnectionCreatedFromTheSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))

		p := c.Get("/connections")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="connections-empty"`) || !strings.Contains(p.Body, `href="/connections" aria-current="page"`) {
			t.Fatalf("empty list: %d\n%s", p.Status, p.Body)
		}
		p = c.Get("/connections/new?channel=sms")
		for _, want := range []string{
			`<option value="SMS" selected>`, `<option value="WHATSAPP">`, `data-channel-select="/connections/new"`, `src="/static/workspace.js"`,
			`type="text" name="provider.accountSid"`, `type="password" name="provider.authToken"`, `type="url" name="provider.baseUrl"`,
			"AC followed by 32 hexadecimal digits",
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the SMS form lacks %s", want)
			}
		}
		if strings.Contains(p.Body, "phoneNumberId") {
			t.Errorf("the SMS form shows WhatsApp settings")
		}
		// Another channel's plugin brings its own settings, no UI change.
		p = c.Get("/connections/new?channel=WHATSAPP&code=wa-1&sender=%2B15550001111")
		if !strings.Contains(p.Body, `name="code" value="wa-1"`) || !strings.Contains(p.Body, `name="sender" value="&#43;15550001111"`) {
			t.Errorf("switching channel loses what was typed")
		}
		for _, want := range []string{`name="provider.phoneNumberId"`, `type="password" name="provider.accessToken"`, `type="password" name="provider.appSecret"`, `type="password" name="provider.verifyToken"`, `name="provider.apiVersion"`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the WhatsApp form lacks %s", want)
			}
		}

		const secret = "sms-auth-token-5f1c9e"
		p = c.Post("/connections", smsForm("sms-main", "+1 555 000 1111", secret))
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/connections?done=created&id=") {
			t.Fatalf("create: %d %q\n%s", p.Status, p.Location, p.Body)
		}
		id := strings.TrimPrefix(p.Location, "/connections?done=created&id=")
		p = c.Get(p.Location)
		for _, want := range []string{
			`id="connection-` + id + `" data-code="sms-main" class="just-created"`, "Connection created.",
			`<td class="sender">&#43;15550001111</td>`, `<td class="route">main</td>`,
			`<code class="wrap" id="inbound-` + id + `">` + h.URL + `/api/webhooks/sms/` + id + `</code>`,
			`data-copy="inbound-` + id + `"`, accountSid, "********", `data-confirm="Delete the connection sms-main?`,
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the list lacks %s\n%s", want, p.Body)
			}
		}
		// The token was stored (the API masks it), and no page shows it.
		api := h.Admin("GET", "/api/connections/"+id, nil).Map(t)
		if prov := api["provider"].(map[string]any); prov["authToken"] != "********" || prov["accountSid"] != accountSid {
			t.Errorf("stored provider: %v", prov)
		}
		for _, path := range []string{"/connections", "/connections/new", "/connections/new?channel=SMS", "/campaigns", "/integrations/new"} {
			if p := c.Get(path); strings.Contains(p.Body, secret) {
				t.Errorf("%s shows the auth token", path)
			}
		}
	})
}

// TestConnectionRefusedShowsFieldErrors: each refusal is beside its field;
// what was typed comes back, secrets excepted.
func TestConnectionRefusedShowsFieldErrors(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	const secret = "typed-secret-81d0a7"
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		field  string
		status int
	}{
		{"a bad account sid", func(f url.Values) { f.Set("provider.accountSid", "nope-sid") }, "provider.accountSid", 422},
		{"no auth token", func(f url.Values) { f.Del("provider.authToken") }, "provider.authToken", 422},
		{"a bad sender", func(f url.Values) { f.Set("sender", "not a number!") }, "sender", 422},
		{"no code", func(f url.Values) { f.Set("code", "") }, "code", 422},
		{"an unknown channel", func(f url.Values) { f.Set("channel", "PIGEON") }, "channel", 422},
		{"a long route", func(f url.Values) { f.Set("route", strings.Repeat("r", 65)) }, "route", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := smsForm("typo-conn", "15550002222", secret)
			tc.change(f)
			p := c.Post("/connections", f)
			if p.Status != tc.status || !strings.Contains(p.Body, `data-error-for="`+tc.field+`"`) {
				t.Fatalf("%d, want %d with an error beside %s:\n%s", p.Status, tc.status, tc.field, p.Body)
			}
			if strings.Contains(p.Body, secret) {
				t.Errorf("the refused form shows the auth token again")
			}
			if strings.Count(p.Body, `class="field-error"`) != 1 {
				t.Errorf("the message shows %d times", strings.Count(p.Body, `class="field-error"`))
			}
			if tc.field != "code" && !strings.Contains(p.Body, `name="code" value="typo-conn"`) {
				t.Errorf("the code typed is lost")
			}
		})
	}
	p := c.Post("/connections", smsForm("typo-conn", "15550002222", secret))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create: %d", p.Status)
	}
	p = c.Post("/connections", smsForm("typo-conn", "15550003333", secret))
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `data-error-for="code"`) || !strings.Contains(p.Body, "already exists") {
		t.Errorf("a taken code: %d\n%s", p.Status, p.Body)
	}
	f := smsForm("bad-sid-kept", "15550004444", secret)
	f.Set("provider.accountSid", "AC-kept-as-typed")
	if p := c.Post("/connections", f); !strings.Contains(p.Body, `value="AC-kept-as-typed"`) {
		t.Errorf("a setting that is not a secret is not kept after a refusal")
	}
}

// startedSMS makes an integration holding an active SMS connection.
func startedSMS(t *testing.T, h *apptest.Hub, code, sender string) (connID string) {
	t.Helper()
	r := h.Admin("POST", "/api/connections", map[string]any{"code": code, "channel": "SMS", "sender": sender,
		"provider": map[string]any{"accountSid": accountSid, "authToken": "held-token", "baseUrl": "http://127.0.0.1:9"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("connection: %d %s", r.Status, r.Body)
	}
	connID = r.Map(t)["id"].(string)
	in := h.CreateIntegration(map[string]any{"name": "holder", "kind": "custom", "connections": []string{code}})
	if r := h.Admin("POST", "/api/integrations/"+in.ID+"/start", nil); r.Status != http.StatusOK {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	return connID
}

func TestConnectionDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
		p := c.Post("/connections", smsForm("spare", "15550005555", "spare-token"))
		id := strings.TrimPrefix(p.Location, "/connections?done=created&id=")
		if p := c.Post("/connections/"+id+"/delete", nil); p.Status != http.StatusSeeOther || p.Location != "/connections?done=deleted" {
			t.Fatalf("delete: %d %q", p.Status, p.Location)
		}
		if p := c.Get("/connections?done=deleted"); strings.Contains(p.Body, "spare") || !strings.Contains(p.Body, "Connection deleted.") {
			t.Errorf("after delete:\n%s", p.Body)
		}
		if p := c.Post("/connections/"+id+"/delete", nil); p.Status != http.StatusNotFound {
			t.Errorf("deleting twice: %d, want 404", p.Status)
		}
		// In use by an active integration: the API's refusal is a notice.
		held := startedSMS(t, h, "held", "15550006666")
		p = c.Post("/connections/"+held+"/delete", nil)
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `data-notice="error"`) || !strings.Contains(p.Body, "stop the integration") ||
			!strings.Contains(p.Body, `id="connection-`+held+`"`) {
			t.Errorf("deleting a connection in use: %d\n%s", p.Status, p.Body)
		}
	})
}

// TestCampaignsAndAutoReplies: create, go live, pause, a refusal as a
// notice; auto-replies created, toggled and deleted.
func TestCampaignsAndAutoReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
		startedSMS(t, h, "held", "15550007777")
		chat := h.CreateIntegration(map[string]any{"name": "Bot endpoint", "kind": "custom"})

		p := c.Get("/campaigns")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="campaigns-empty"`) || !strings.Contains(p.Body, `<option value="`+chat.ID+`">Bot endpoint (custom, active)</option>`) ||
			!strings.Contains(p.Body, `<option value="held">held (SMS 15550007777)</option>`) {
			t.Fatalf("campaigns page: %d\n%s", p.Status, p.Body)
		}
		if p := c.Post("/campaigns", url.Values{"name": {"Spring"}, "type": {"keyword"}, "senders": {"15550008888, 12345\n+15550009999"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", p.Status, p.Body)
		}
		if p := c.Post("/campaigns", url.Values{"name": {"Helper"}, "type": {"chatbot"}, "integrationId": {chat.ID}}); p.Status != http.StatusSeeOther {
			t.Fatalf("create a chatbot: %d\n%s", p.Status, p.Body)
		}
		if p := c.Post("/campaigns", url.Values{"name": {"Clash"}, "type": {"keyword"}, "senders": {"15550007777"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("create a clashing campaign: %d\n%s", p.Status, p.Body)
		}
		p = c.Get("/campaigns?done=created")
		spring := idAfter(t, p.Body[strings.Index(p.Body, `data-name="Spring"`)-60:], `id="campaign-`)
		clash := idAfter(t, p.Body[strings.Index(p.Body, `data-name="Clash"`)-60:], `id="campaign-`)
		for _, want := range []string{"Campaign created as a draft.", `<td class="senders">15550008888, 12345, &#43;15550009999</td>`,
			`<td class="integration">Bot endpoint</td>`, `<span class="badge status-draft">draft</span>`, `action="/campaigns/` + spring + `/live"`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the list lacks %s", want)
			}
		}
		if p := c.Post("/campaigns/"+spring+"/live", nil); p.Status != http.StatusSeeOther || p.Location != "/campaigns?done=live" {
			t.Fatalf("go live: %d %q\n%s", p.Status, p.Location, p.Body)
		}
		if p := c.Get("/campaigns"); !strings.Contains(p.Body, `id="campaign-`+spring+`" data-name="Spring" data-status="live"`) || !strings.Contains(p.Body, `action="/campaigns/`+spring+`/pause"`) {
			t.Errorf("after going live:\n%s", p.Body)
		}
		if p := c.Post("/campaigns/"+spring+"/pause", nil); p.Status != http.StatusSeeOther {
			t.Errorf("pause: %d", p.Status)
		}
		if p := c.Get("/campaigns"); !strings.Contains(p.Body, `data-name="Spring" data-status="paused"`) {
			t.Errorf("after pausing: not paused")
		}
		// A sender an active integration holds: the API's 409 as a notice.
		p = c.Post("/campaigns/"+clash+"/live", nil)
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `data-notice="error"`) || !strings.Contains(p.Body, "the campaign cannot go live") {
			t.Errorf("a refused go-live: %d\n%s", p.Status, p.Body)
		}
		// Refused creations: beside their field, or above the form.
		for _, tc := range []struct {
			form  url.Values
			field string
			form2 string
		}{
			{url.Values{"name": {""}, "type": {"keyword"}}, "name", ""},
			{url.Values{"name": {"x"}, "type": {"keyword"}, "senders": {"ok1 not-a-sender!"}}, "senders", ""},
			{url.Values{"name": {"x"}, "type": {"raffle"}}, "type", ""},
			{url.Values{"name": {"x"}, "type": {"chatbot"}}, "", "needs integrationId or senders"},
			{url.Values{"name": {"x"}, "type": {"keyword"}, "integrationId": {"01a1fe7b-0000-7000-8000-000000000000"}}, "integrationId", ""},
		} {
			p := c.Post("/campaigns", tc.form)
			if tc.field != "" && !strings.Contains(p.Body, `data-error-for="`+tc.field+`"`) {
				t.Errorf("%v: %d, no error beside %s\n%s", tc.form, p.Status, tc.field, p.Body)
			}
			if tc.form2 != "" && (!strings.Contains(p.Body, `class="notice error"`) || !strings.Contains(p.Body, tc.form2)) {
				t.Errorf("%v: %d, no error above the form", tc.form, p.Status)
			}
			if p.Status < 400 {
				t.Errorf("%v: %d", tc.form, p.Status)
			}
		}

		// Auto-replies.
		if p := c.Post("/auto-replies", url.Values{"connection": {"held"}, "message": {"We are closed until Monday."}}); p.Status != http.StatusSeeOther {
			t.Fatalf("create an auto-reply: %d\n%s", p.Status, p.Body)
		}
		p = c.Get("/campaigns")
		ar := idAfter(t, p.Body, `id="auto-reply-`)
		if !strings.Contains(p.Body, `id="auto-reply-`+ar+`" data-connection="held" data-active="false"`) || !strings.Contains(p.Body, "We are closed until Monday.") {
			t.Errorf("the auto-reply (created without active): \n%s", p.Body)
		}
		if p := c.Post("/auto-replies/"+ar+"/active", url.Values{"active": {"true"}}); p.Status != http.StatusSeeOther {
			t.Errorf("activate: %d", p.Status)
		}
		if p := c.Get("/campaigns"); !strings.Contains(p.Body, `data-connection="held" data-active="true"`) {
			t.Errorf("not active after activating")
		}
		if p := c.Post("/auto-replies/"+ar+"/active", url.Values{"active": {"false"}}); p.Status != http.StatusSeeOther {
			t.Errorf("deactivate: %d", p.Status)
		}
		if p := c.Get("/campaigns"); !strings.Contains(p.Body, `data-connection="held" data-active="false"`) || !strings.Contains(p.Body, `data-confirm="Delete the auto-reply on held?"`) {
			t.Errorf("not inactive after deactivating")
		}
		for _, tc := range []struct {
			form  url.Values
			field string
		}{
			{url.Values{"connection": {"held"}, "message": {""}}, "message"},
			{url.Values{"connection": {"nosuch"}, "message": {"hi"}}, "connection"},
			{url.Values{"connection": {"held"}, "message": {strings.Repeat("m", 1601)}}, "message"},
		} {
			if p := c.Post("/auto-replies", tc.form); p.Status < 400 || !strings.Contains(p.Body, `data-error-for="`+tc.field+`"`) {
				t.Errorf("%v: %d, no error beside %s", tc.form, p.Status, tc.field)
			}
		}
		if p := c.Post("/auto-replies/"+ar+"/delete", nil); p.Status != http.StatusSeeOther {
			t.Errorf("delete: %d", p.Status)
		}
		if p := c.Get("/campaigns"); strings.Contains(p.Body, `id="auto-reply-`+ar) {
			t.Errorf("the deleted auto-reply is listed")
		}
	})
}

func TestTeamsPage(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleAdmin))
	if p := c.Get("/teams"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="teams-empty"`) {
		t.Fatalf("teams: %d", p.Status)
	}
	if p := c.Post("/teams", url.Values{"name": {"Billing"}}); p.Status != http.StatusSeeOther || p.Location != "/teams?done=created" {
		t.Fatalf("create: %d %q", p.Status, p.Location)
	}
	p := c.Get("/teams?done=created")
	if !strings.Contains(p.Body, `data-name="Billing"`) || !strings.Contains(p.Body, "Team created.") {
		t.Errorf("after create:\n%s", p.Body)
	}
	var list struct{ Teams []struct{ ID, Name string } }
	h.Admin("GET", "/api/teams", nil).JSON(t, &list)
	if len(list.Teams) != 1 || !strings.Contains(p.Body, `id="team-`+list.Teams[0].ID+`"`) {
		t.Errorf("the API's teams %+v", list)
	}
	if p := c.Post("/teams", url.Values{"name": {"  "}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `data-error-for="name"`) {
		t.Errorf("an empty name: %d", p.Status)
	}
}

var tokenOnPage = regexp.MustCompile(`sba_[A-Za-z0-9_-]{43}`)

// TestTokenCreatedInTheUI: a token made on the page works against the API,
// is never shown again, and stops working once revoked on the page.
func TestTokenCreatedInTheUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
		p := c.Get("/tokens")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="token-form"`) || !strings.Contains(p.Body, `data-name="test"`) {
			t.Fatalf("tokens: %d\n%s", p.Status, p.Body)
		}
		p = c.Post("/tokens", url.Values{"name": {"deploy"}})
		token := tokenOnPage.FindString(p.Body)
		if p.Status != http.StatusCreated || token == "" || strings.Count(p.Body, token) != 1 || !strings.Contains(p.Body, `id="token-warning"`) ||
			!strings.Contains(p.Body, `id="secret-value-token"`) || !strings.Contains(p.Body, `data-copy="secret-value-token"`) {
			t.Fatalf("created: %d\n%s", p.Status, p.Body)
		}
		id := idAfter(t, p.Body[strings.Index(p.Body, `data-name="deploy"`)-60:], `id="token-`)
		if !strings.Contains(p.Body, `id="token-`+id+`" data-name="deploy" class="just-created"`) {
			t.Errorf("the new token is not pointed out in the list")
		}
		if r := h.AdminAs(token, "GET", "/api/integrations", nil); r.Status != http.StatusOK {
			t.Fatalf("the token from the page: %d", r.Status)
		}
		p = c.Get("/tokens")
		if strings.Contains(p.Body, token) || tokenOnPage.MatchString(p.Body) {
			t.Errorf("the token shows again")
		}
		if !strings.Contains(p.Body, `id="token-`+id+`" data-name="deploy"`) || !strings.Contains(p.Body, `data-confirm="Revoke the token deploy?`) {
			t.Errorf("the token is not listed with a confirmation")
		}
		if p := c.Post("/tokens/"+id+"/revoke", nil); p.Status != http.StatusSeeOther || p.Location != "/tokens?done=revoked" {
			t.Fatalf("revoke: %d %q", p.Status, p.Location)
		}
		if r := h.AdminAs(token, "GET", "/api/integrations", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("the revoked token: %d, want 401 at once", r.Status)
		}
		if p := c.Get("/tokens?done=revoked"); strings.Contains(p.Body, `id="token-`+id) || !strings.Contains(p.Body, "Token revoked.") {
			t.Errorf("after revoking:\n%s", p.Body)
		}
		if p := c.Post("/tokens", url.Values{"name": {strings.Repeat("n", 201)}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `data-error-for="name"`) || tokenOnPage.MatchString(p.Body) {
			t.Errorf("a long name: %d", p.Status)
		}
		if p := c.Post("/tokens/"+id+"/revoke", nil); p.Status != http.StatusNotFound {
			t.Errorf("revoking twice: %d, want 404", p.Status)
		}

		// An admin sees and revokes tokens but cannot make one: a token can
		// do what an owner can.
		admin := h.LoginUI("a@example.com", h.NewUser("a@example.com", domain.RoleAdmin))
		if p := admin.Get("/tokens"); p.Status != http.StatusOK || strings.Contains(p.Body, `id="token-form"`) || !strings.Contains(p.Body, `id="tokens-owner-only"`) {
			t.Errorf("admin's tokens page: %d", p.Status)
		}
		if p := admin.Post("/tokens", url.Values{"name": {"mine"}}); p.Status != http.StatusForbidden || tokenOnPage.MatchString(p.Body) {
			t.Errorf("admin creates a token: %d, want 403", p.Status)
		}
		other := h.Admin("POST", "/api/tokens", map[string]any{"name": "leaver"}).Map(t)
		if p := admin.Post("/tokens/"+other["id"].(string)+"/revoke", nil); p.Status != http.StatusSeeOther {
			t.Errorf("admin revokes a token: %d", p.Status)
		}
		if r := h.AdminAs(other["token"].(string), "GET", "/api/tokens", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("the token the admin revoked: %d, want 401", r.Status)
		}
	})
}

// TestUsersPage: an owner adds users who log in with their role, removes
// them (their sessions end), and cannot remove the last owner or themselves.
func TestUsersPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("owner@example.com", h.NewUser("owner@example.com", domain.RoleOwner))
		p := c.Get("/users")
		me := idAfter(t, p.Body, `id="user-`)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="user-self"`) || strings.Contains(p.Body, `action="/users/`+me+`/delete"`) {
			t.Fatalf("users: %d\n%s", p.Status, p.Body)
		}
		const pw = "agent-password-1"
		if p := c.Post("/users", url.Values{"email": {"Agent@Example.com"}, "role": {"agent"}, "password": {pw}}); p.Status != http.StatusSeeOther || p.Location != "/users?done=created" {
			t.Fatalf("create: %d\n%s", p.Status, p.Body)
		}
		p = c.Get("/users?done=created")
		agentID := idAfter(t, p.Body, `id="user-`)
		if !strings.Contains(p.Body, `id="user-`+agentID+`" data-email="agent@example.com" data-role="agent"`) || strings.Contains(p.Body, pw) || strings.Contains(p.Body, "$2a$") {
			t.Fatalf("the new user:\n%s", p.Body)
		}
		if !strings.Contains(p.Body, `data-confirm="Remove agent@example.com? Their sessions end at once."`) {
			t.Errorf("no confirmation on remove")
		}

		// The new user logs in as an agent: conversations only.
		agent := h.LoginUI("agent@example.com", pw)
		home := agent.Get("/")
		if !strings.Contains(home.Body, "agent@example.com · agent") || strings.Contains(home.Body, `href="/connections"`) || strings.Contains(home.Body, `href="/users"`) {
			t.Errorf("the agent's page:\n%s", home.Body)
		}
		for _, path := range []string{"/connections", "/connections/new", "/campaigns", "/teams", "/tokens", "/users", "/integrations"} {
			if p := agent.Get(path); p.Status != http.StatusForbidden {
				t.Errorf("agent GET %s: %d, want 403", path, p.Status)
			}
		}

		// Refusals beside their field; the password never comes back.
		for _, tc := range []struct {
			form   url.Values
			field  string
			status int
		}{
			{url.Values{"email": {"new@example.com"}, "role": {"agent"}, "password": {"short"}}, "password", 422},
			{url.Values{"email": {"new@example.com"}, "role": {"agent"}, "password": {strings.Repeat("p", 73)}}, "password", 422},
			{url.Values{"email": {"not-an-email"}, "role": {"agent"}, "password": {"long-enough-pw"}}, "email", 422},
			{url.Values{"email": {"new@example.com"}, "role": {"root"}, "password": {"long-enough-pw"}}, "role", 422},
			{url.Values{"email": {"AGENT@example.com"}, "role": {"admin"}, "password": {"long-enough-pw"}}, "email", 409},
		} {
			p := c.Post("/users", tc.form)
			if p.Status != tc.status || !strings.Contains(p.Body, `data-error-for="`+tc.field+`"`) {
				t.Errorf("%v: %d, want %d beside %s\n%s", tc.form, p.Status, tc.status, tc.field, p.Body)
			}
			if strings.Contains(p.Body, tc.form.Get("password")) {
				t.Errorf("%v: the password is on the page", tc.form)
			}
			if !strings.Contains(p.Body, `name="email" value="`+tc.form.Get("email")+`"`) {
				t.Errorf("%v: the email typed is lost", tc.form)
			}
		}

		// The only owner can remove neither themselves nor the last owner.
		p = c.Post("/users/"+me+"/delete", nil)
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `data-notice="error"`) {
			t.Errorf("the last owner removes themselves: %d\n%s", p.Status, p.Body)
		}
		second := h.LoginUI("second@example.com", h.NewUser("second@example.com", domain.RoleOwner))
		if p := second.Post("/users/"+me+"/delete", nil); p.Status != http.StatusSeeOther {
			t.Errorf("another owner removes the first: %d\n%s", p.Status, p.Body)
		}
		if p := c.Get("/users"); !strings.Contains(p.Body, `action="/login"`) {
			t.Errorf("the removed owner's session still works")
		}
		var users struct{ Users []struct{ ID, Role string } }
		h.Admin("GET", "/api/users", nil).JSON(t, &users)
		var lastOwner string
		for _, u := range users.Users {
			if u.Role == domain.RoleOwner {
				lastOwner = u.ID
			}
		}
		p = second.Post("/users/"+lastOwner+"/delete", nil)
		if p.Status != http.StatusConflict {
			t.Errorf("the last owner removes themselves: %d", p.Status)
		}
		if r := h.Admin("DELETE", "/api/users/"+lastOwner, nil); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "last owner") {
			t.Errorf("the last owner removed over the API: %d %s", r.Status, r.Body)
		}

		// Removing the agent ends their session.
		if p := second.Post("/users/"+agentID+"/delete", nil); p.Status != http.StatusSeeOther || p.Location != "/users?done=deleted" {
			t.Errorf("remove the agent: %d", p.Status)
		}
		if p := agent.Get("/"); !strings.Contains(p.Body, `action="/login"`) {
			t.Errorf("the removed agent's session still works")
		}
		if p := second.Post("/users/"+agentID+"/delete", nil); p.Status != http.StatusNotFound {
			t.Errorf("removing twice: %d, want 404", p.Status)
		}
	})
}

// TestUsersAreForOwners: an admin reaches no users page or action, and the
// navigation does not offer it.
func TestUsersAreForOwners(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	h.NewUser("owner@example.com", domain.RoleOwner)
	admin := h.LoginUI("admin@example.com", h.NewUser("admin@example.com", domain.RoleAdmin))
	var users struct{ Users []struct{ ID, Email string } }
	h.Admin("GET", "/api/users", nil).JSON(t, &users)
	if p := admin.Get("/connections"); p.Status != http.StatusOK || strings.Contains(p.Body, `href="/users"`) {
		t.Errorf("admin's navigation links to users")
	}
	if p := admin.Get("/users"); p.Status != http.StatusForbidden || strings.Contains(p.Body, "owner@example.com") {
		t.Errorf("admin GET /users: %d, want 403", p.Status)
	}
	if p := admin.Post("/users", url.Values{"email": {"me2@example.com"}, "role": {"owner"}, "password": {"escalated-pw"}}); p.Status != http.StatusForbidden {
		t.Errorf("admin creates an owner: %d, want 403", p.Status)
	}
	for _, u := range users.Users {
		if p := admin.Post("/users/"+u.ID+"/delete", nil); p.Status != http.StatusForbidden {
			t.Errorf("admin removes %s: %d, want 403", u.Email, p.Status)
		}
	}
	var after struct{ Users []struct{ Email string } }
	h.Admin("GET", "/api/users", nil).JSON(t, &after)
	if len(after.Users) != 2 {
		t.Errorf("users after the admin's attempts: %+v", after.Users)
	}
}

// TestWorkspaceFormsNeedTheToken: every form of these pages is refused
// without the session's CSRF token or from another origin.
func TestWorkspaceFormsNeedTheToken(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	for _, path := range []string{"/connections", "/campaigns", "/auto-replies", "/teams", "/tokens", "/users",
		"/connections/x/delete", "/campaigns/x/live", "/campaigns/x/pause", "/auto-replies/x/active", "/auto-replies/x/delete",
		"/tokens/x/revoke", "/users/x/delete"} {
		if p := c.Post(path, url.Values{"_csrf": {""}, "name": {"forged"}}); p.Status != http.StatusForbidden {
			t.Errorf("POST %s without the token: %d, want 403", path, p.Status)
		}
		if p := c.PostFrom("https://evil.example", path, url.Values{"name": {"forged"}}); p.Status != http.StatusForbidden {
			t.Errorf("POST %s from another origin: %d, want 403", path, p.Status)
		}
	}
	var teams struct{ Teams []any }
	h.Admin("GET", "/api/teams", nil).JSON(t, &teams)
	var tokens struct{ Tokens []any }
	h.Admin("GET", "/api/tokens", nil).JSON(t, &tokens)
	if len(teams.Teams) != 0 || len(tokens.Tokens) != 1 {
		t.Errorf("forged forms made %d teams and %d tokens", len(teams.Teams), len(tokens.Tokens)-1)
	}
}

// TestWorkspacePagesEscape: markup in every value a user controls is text.
func TestWorkspacePagesEscape(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := h.LoginUI("o@example.com", h.NewUser("o@example.com", domain.RoleOwner))
	const x = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	h.CreateIntegration(map[string]any{"name": x, "kind": "custom"})
	if r := h.Admin("POST", "/api/connections", map[string]any{"code": "c1", "channel": "SMS", "sender": "15550001234", "route": x[:40],
		"provider": map[string]any{"accountSid": accountSid, "authToken": "t"}}); r.Status != http.StatusCreated {
		t.Fatalf("connection: %d %s", r.Status, r.Body)
	}
	c.Post("/campaigns", url.Values{"name": {x}, "type": {"keyword"}, "senders": {"15550004321"}})
	c.Post("/auto-replies", url.Values{"connection": {"c1"}, "message": {x}, "active": {"1"}})
	c.Post("/teams", url.Values{"name": {x}})
	c.Post("/tokens", url.Values{"name": {x}})
	pages := map[string]*apptest.UIPage{}
	for _, path := range []string{"/connections", "/campaigns", "/teams", "/tokens", "/users"} {
		pages[path] = c.Get(path)
	}
	// Refusals that quote what was sent.
	pages["refused role"] = c.Post("/users", url.Values{"email": {"a@example.com"}, "role": {x}, "password": {"long-enough-pw"}})
	pages["refused campaign"] = c.Post("/campaigns", url.Values{"name": {x}, "type": {x}})
	pages["refused connection"] = c.Post("/connections", url.Values{"code": {x}, "channel": {x}, "sender": {x}, "route": {x}})
	pages["notice"] = c.Get("/connections?done=" + url.QueryEscape(x) + "&id=" + url.QueryEscape(x))
	for name, p := range pages {
		if strings.Contains(p.Body, "<script>alert") || strings.Contains(p.Body, "<img src=x") {
			t.Errorf("%s: markup is not escaped:\n%s", name, p.Body)
		}
	}
	for _, path := range []string{"/campaigns", "/teams", "/tokens"} {
		if !strings.Contains(pages[path].Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: the value is not shown as text", path)
		}
	}
	if !strings.Contains(pages["/connections"].Body, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img") {
		t.Errorf("the route is not shown as text")
	}
}

// TestWorkspaceObjectsOfOthers: another workspace's objects are neither
// listed nor reachable: 404, and nothing changes.
func TestWorkspaceObjectsOfOthers(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	connID := startedSMS(t, h, "theirs-conn", "15550001212")
	camp := h.Admin("POST", "/api/campaigns", map[string]any{"name": "theirs-campaign", "type": "keyword", "senders": []string{"15550003434"}}).Map(t)["id"].(string)
	ar := h.Admin("POST", "/api/auto-replies", map[string]any{"connection": "theirs-conn", "message": "theirs-reply", "active": false}).Map(t)["id"].(string)
	h.Admin("POST", "/api/teams", map[string]any{"name": "theirs-team"})
	var toks struct{ Tokens []struct{ ID string } }
	h.Admin("GET", "/api/tokens", nil).JSON(t, &toks)
	h.NewUser("theirs-owner@example.com", domain.RoleOwner)
	victim := h.NewUser("theirs-agent@example.com", domain.RoleAgent)
	var users struct{ Users []struct{ ID, Email string } }
	h.Admin("GET", "/api/users", nil).JSON(t, &users)

	c := h.LoginUI("x@example.com", h.NewUserIn("other", "x@example.com", domain.RoleOwner))
	for _, path := range []string{"/connections", "/campaigns", "/teams", "/tokens", "/users"} {
		p := c.Get(path)
		if p.Status != http.StatusOK {
			t.Errorf("%s: %d", path, p.Status)
		}
		for _, theirs := range []string{"theirs-", connID, camp, ar, toks.Tokens[0].ID} {
			if strings.Contains(p.Body, theirs) {
				t.Errorf("%s shows another workspace's %s", path, theirs)
			}
		}
	}
	posts := map[string]url.Values{
		"/connections/" + connID + "/delete":       nil,
		"/campaigns/" + camp + "/live":             nil,
		"/campaigns/" + camp + "/pause":            nil,
		"/auto-replies/" + ar + "/active":          {"active": {"true"}},
		"/auto-replies/" + ar + "/delete":          nil,
		"/tokens/" + toks.Tokens[0].ID + "/revoke": nil,
	}
	for _, u := range users.Users {
		posts["/users/"+u.ID+"/delete"] = nil
	}
	for path, form := range posts {
		if p := c.Post(path, form); p.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, p.Status)
		}
	}
	if p := c.Post("/auto-replies", url.Values{"connection": {"theirs-conn"}, "message": {"hijack"}}); p.Status == http.StatusSeeOther {
		t.Errorf("an auto-reply on another workspace's connection was made")
	}
	if p := c.Post("/campaigns", url.Values{"name": {"hijack"}, "type": {"keyword"}, "integrationId": {h.CreateIntegration(map[string]any{"name": "theirs-in", "kind": "custom"}).ID}}); p.Status == http.StatusSeeOther {
		t.Errorf("a campaign on another workspace's integration was made")
	}
	// Theirs, unchanged.
	if r := h.Admin("GET", "/api/connections/"+connID, nil); r.Status != http.StatusOK {
		t.Errorf("their connection: %d", r.Status)
	}
	if r := h.Admin("GET", "/api/tokens", nil); r.Status != http.StatusOK {
		t.Errorf("their token: %d", r.Status)
	}
	var after struct{ Users []any }
	h.Admin("GET", "/api/users", nil).JSON(t, &after)
	var ars struct{ AutoReplies []struct{ Active bool } }
	h.Admin("GET", "/api/auto-replies", nil).JSON(t, &ars)
	if len(after.Users) != 2 || len(ars.AutoReplies) != 1 || ars.AutoReplies[0].Active {
		t.Errorf("their users %d, auto-replies %+v", len(after.Users), ars.AutoReplies)
	}
	h.LoginUI("theirs-agent@example.com", victim)
}
