package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// routeCase is one concrete call of a route. Path and Body may name
// workspace A's objects as {integration}, {conversation}, {delivery},
// {subscription}, {token} and {team}; the walk fills in real ids.
type routeCase struct {
	Path string
	Body any
	// Expect is what workspace B's token gets on this call:
	//   foreign    404 not_found: the path or body names A's object
	//   collection 200, none of A's data in the answer
	//   create     201 in B's own workspace, none of A's data in the answer
	Expect string
}

// routeSpec classifies one registered route. Every route the hub serves
// needs one, so a new route is a conscious decision: admin (with at least
// one case) or public (with the reason why).
type routeSpec struct {
	Public string // why anyone may call it; empty for admin routes
	// PublicCase is a call of the public side, which must not answer 5xx.
	PublicCase string
	Admin      []routeCase
}

// routeTable is every route of the hub. A route missing here, or listed
// here but not served, fails TestRouterWalk.
var routeTable = map[string]routeSpec{
	"GET /healthz": {Public: "liveness probe for orchestrators; says nothing but ok", PublicCase: "/healthz"},
	"GET /readyz":  {Public: "readiness probe for orchestrators and load balancers", PublicCase: "/readyz"},
	"GET /metrics": {Public: "Prometheus scrape endpoint (CONTRACT §1); label values are bounded, no tenant data", PublicCase: "/metrics"},

	// /api/webhooks/{kind}/{id} is inbound traffic, authenticated per
	// integration by its key or the provider's signature, never by an admin
	// token. The same pattern carries the subscriptions' update and delete.
	"POST /api/webhooks/:a/:b": {
		Public:     "inbound webhooks of every kind, authenticated by the integration's key or the provider's signature",
		PublicCase: "/api/webhooks/custom/{integration}",
		Admin: []routeCase{
			{Path: "/api/webhooks/{subscription}/update", Body: map[string]any{"enabled": false}, Expect: "foreign"},
			{Path: "/api/webhooks/{subscription}/delete", Expect: "foreign"},
		},
	},
	"GET /api/webhooks/:a/:b": {
		Public:     "provider handshakes (WhatsApp hub.challenge), authenticated by the connection's verify token",
		PublicCase: "/api/webhooks/custom/{integration}",
	},
	"POST /api/webhooks":   {Admin: []routeCase{{Path: "/api/webhooks", Body: newSubscription, Expect: "create"}}},
	"POST /api/webhooks/":  {Admin: []routeCase{{Path: "/api/webhooks/", Body: newSubscription, Expect: "create"}}},
	"GET /api/webhooks":    {Admin: []routeCase{{Path: "/api/webhooks", Expect: "collection"}}},
	"GET /api/webhooks/":   {Admin: []routeCase{{Path: "/api/webhooks/", Expect: "collection"}}},
	"GET /api/webhooks/:a": {Admin: []routeCase{{Path: "/api/webhooks/{subscription}", Expect: "foreign"}}},

	"POST /api/integrations": {Admin: []routeCase{{Path: "/api/integrations", Body: map[string]any{"name": "b-integration", "kind": "custom"}, Expect: "create"}}},
	"GET /api/integrations":  {Admin: []routeCase{{Path: "/api/integrations", Expect: "collection"}}},
	"GET /api/integrations/:id": {Admin: []routeCase{
		{Path: "/api/integrations/{integration}", Expect: "foreign"},
	}},
	"PATCH /api/integrations/:id": {Admin: []routeCase{
		{Path: "/api/integrations/{integration}", Body: map[string]any{"name": "taken over"}, Expect: "foreign"},
	}},
	"DELETE /api/integrations/:id": {Admin: []routeCase{{Path: "/api/integrations/{integration}", Expect: "foreign"}}},
	"POST /api/integrations/:id/regenerate-key": {Admin: []routeCase{
		{Path: "/api/integrations/{integration}/regenerate-key", Expect: "foreign"},
	}},
	"POST /api/integrations/:id/regenerate-response-token": {Admin: []routeCase{
		{Path: "/api/integrations/{integration}/regenerate-response-token", Expect: "foreign"},
	}},
	"GET /api/integrations/:id/signing-secret": {Admin: []routeCase{
		{Path: "/api/integrations/{integration}/signing-secret", Expect: "foreign"},
	}},
	"POST /api/integrations/:id/signing-secret/rotate": {Admin: []routeCase{
		{Path: "/api/integrations/{integration}/signing-secret/rotate", Expect: "foreign"},
	}},
	"POST /api/integrations/:id/start": {Admin: []routeCase{{Path: "/api/integrations/{integration}/start", Expect: "foreign"}}},
	"POST /api/integrations/:id/stop":  {Admin: []routeCase{{Path: "/api/integrations/{integration}/stop", Expect: "foreign"}}},
	"GET /api/integrations/:id/events": {Admin: []routeCase{
		{Path: "/api/integrations/{integration}/events", Expect: "foreign"},
		{Path: "/api/integrations/{integration}/events?status=ok&limit=500", Expect: "foreign"},
	}},
	"POST /api/integrations/:id/transform/test": {Admin: []routeCase{
		{Path: "/api/integrations/{integration}/transform/test", Body: map[string]any{}, Expect: "foreign"},
		{Path: "/api/integrations/{integration}/transform/test", Body: map[string]any{"script": "function transform(r, e) { return r }"}, Expect: "foreign"},
	}},

	"GET /api/conversations": {Admin: []routeCase{
		{Path: "/api/conversations", Expect: "collection"},
		{Path: "/api/conversations?integrationId={integration}", Expect: "collection"},
	}},
	"GET /api/conversations/integrations": {Admin: []routeCase{{Path: "/api/conversations/integrations", Expect: "collection"}}},
	"GET /api/conversations/:id":          {Admin: []routeCase{{Path: "/api/conversations/{conversation}", Expect: "foreign"}}},
	"GET /api/conversations/:id/messages": {Admin: []routeCase{
		{Path: "/api/conversations/{conversation}/messages", Expect: "foreign"},
	}},
	"POST /api/conversations/:id/messages": {Admin: []routeCase{
		{Path: "/api/conversations/{conversation}/messages", Body: map[string]any{"content": "from workspace b"}, Expect: "foreign"},
	}},
	"POST /api/conversations/:id/transfer": {Admin: []routeCase{
		{Path: "/api/conversations/{conversation}/transfer", Body: map[string]any{"teamId": "{team}"}, Expect: "foreign"},
	}},
	"POST /api/conversations/:id/end": {Admin: []routeCase{{Path: "/api/conversations/{conversation}/end", Expect: "foreign"}}},
	"POST /api/teams":                 {Admin: []routeCase{{Path: "/api/teams", Body: map[string]any{"name": "b-team"}, Expect: "create"}}},
	"GET /api/teams":                  {Admin: []routeCase{{Path: "/api/teams", Expect: "collection"}}},

	"GET /api/deliveries": {Admin: []routeCase{
		{Path: "/api/deliveries", Expect: "collection"},
		{Path: "/api/deliveries?integrationId={integration}", Expect: "collection"},
	}},
	"GET /api/deliveries/:id":        {Admin: []routeCase{{Path: "/api/deliveries/{delivery}", Expect: "foreign"}}},
	"POST /api/deliveries/:id/retry": {Admin: []routeCase{{Path: "/api/deliveries/{delivery}/retry", Expect: "foreign"}}},
	"POST /api/deliveries/retry": {Admin: []routeCase{
		{Path: "/api/deliveries/retry", Body: map[string]any{"integrationId": "{integration}"}, Expect: "foreign"},
	}},

	"POST /api/tokens": {Admin: []routeCase{
		{Path: "/api/tokens", Body: map[string]any{"name": "b-token"}, Expect: "create"},
		{Path: "/api/tokens", Expect: "create"},
	}},
	"GET /api/tokens":        {Admin: []routeCase{{Path: "/api/tokens", Expect: "collection"}}},
	"GET /api/plugins":       {Admin: []routeCase{{Path: "/api/plugins", Expect: "collection"}}},
	"DELETE /api/tokens/:id": {Admin: []routeCase{{Path: "/api/tokens/{token}", Expect: "foreign"}}},

	"GET /api/users": {Admin: []routeCase{{Path: "/api/users", Expect: "collection"}}},
	"POST /api/users": {Admin: []routeCase{
		{Path: "/api/users", Body: map[string]any{"email": "b-user@example.com", "password": "b-password-1", "role": "agent"}, Expect: "create"},
	}},
	"DELETE /api/users/:id": {Admin: []routeCase{
		{Path: "/api/users/{user}", Expect: "foreign"},
		{Path: "/api/users/{owner}", Expect: "foreign"},
	}},

	"POST /api/connections": {Admin: []routeCase{{Path: "/api/connections", Body: map[string]any{
		"code": "b-conn", "channel": "SMS", "sender": "15550003333",
		"provider": map[string]any{"accountSid": "AC" + strings.Repeat("b", 32), "authToken": "b-token"},
	}, Expect: "create"}}},
	"GET /api/connections":        {Admin: []routeCase{{Path: "/api/connections", Expect: "collection"}}},
	"GET /api/connections/:id":    {Admin: []routeCase{{Path: "/api/connections/{connection}", Expect: "foreign"}}},
	"DELETE /api/connections/:id": {Admin: []routeCase{{Path: "/api/connections/{connection}", Expect: "foreign"}}},
	"POST /api/campaigns": {Admin: []routeCase{
		{Path: "/api/campaigns", Body: map[string]any{"name": "b-campaign", "type": "keyword", "senders": []string{"15550004444"}}, Expect: "create"},
		{Path: "/api/campaigns", Body: map[string]any{"name": "b-chatbot", "type": "chatbot", "integrationId": "{integration}"}, Expect: "foreign"},
	}},
	"GET /api/campaigns":                  {Admin: []routeCase{{Path: "/api/campaigns", Expect: "collection"}}},
	"POST /api/campaigns/:id/live":        {Admin: []routeCase{{Path: "/api/campaigns/{campaign}/live", Expect: "foreign"}}},
	"POST /api/campaigns/:id/pause":       {Admin: []routeCase{{Path: "/api/campaigns/{campaign}/pause", Expect: "foreign"}}},
	"GET /api/integrations/:id/campaigns": {Admin: []routeCase{{Path: "/api/integrations/{integration}/campaigns", Expect: "foreign"}}},
	"POST /api/auto-replies": {Admin: []routeCase{
		{Path: "/api/auto-replies", Body: map[string]any{"connection": "{connectionCode}", "message": "b says hi"}, Expect: "foreign"},
	}},
	"GET /api/auto-replies":        {Admin: []routeCase{{Path: "/api/auto-replies", Expect: "collection"}}},
	"PATCH /api/auto-replies/:id":  {Admin: []routeCase{{Path: "/api/auto-replies/{autoReply}", Body: map[string]any{"active": true}, Expect: "foreign"}}},
	"DELETE /api/auto-replies/:id": {Admin: []routeCase{{Path: "/api/auto-replies/{autoReply}", Expect: "foreign"}}},
	"POST /integrations/live-chat/:id/chats/:chat/events": {
		Public:     "the response API (CONTRACT §6), authenticated by the integration's sbr_ response token, never an admin token",
		PublicCase: "/integrations/live-chat/{integration}/chats/alpha-thread-9c1d/events",
	},

	// The website chat (CONTRACT §7): visitors hold no key. Only
	// integrations of a kind whose plugin declares public senders answer;
	// a stream reads only the conversation its unguessable visitor id names.
	"GET /webchat/:id": {
		Public:     "the website chat's demo page, served by its plugin; anyone may embed the widget",
		PublicCase: "/webchat/{integration}",
	},
	"GET /webchat/:id/*path": {
		Public:     "the widget's script, and a visitor's live stream (events?visitor=), read by the visitor's secret id",
		PublicCase: "/webchat/{integration}/events?visitor=" + strings.Repeat("a", 43),
	},
	"POST /webchat/:id/*path": {
		Public:     "a visitor's message, checked by the plugin, rate limited per visitor and per address",
		PublicCase: "/webchat/{integration}/messages",
	},
	"OPTIONS /webchat/:id": {
		Public:     "CORS preflight of the website chat, which runs on other sites' pages",
		PublicCase: "/webchat/{integration}",
	},
	"OPTIONS /webchat/:id/*path": {
		Public:     "CORS preflight of the website chat, which runs on other sites' pages",
		PublicCase: "/webchat/{integration}/messages",
	},
}

var newSubscription = map[string]any{"url": "https://example.com/b-hook", "subscribedEvents": []string{"messages"}}

// TestRouterWalk calls every route the hub serves. Admin routes answer 401
// without a token and with a bogus one, and 404 (or nothing of A's) to
// workspace B's token on workspace A's objects. Public routes are listed
// with their reason.
func TestRouterWalk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		a := seedWorkspace(t, h)
		tokenB := h.NewAdminToken("workspace-b")

		served := map[string]bool{}
		for _, r := range h.App.Routes() {
			key := r.Method + " " + r.Path
			served[key] = true
			spec, ok := routeTable[key]
			if !ok {
				t.Errorf("route %s is not classified: add it to routeTable in routes_test.go, as admin (with cases) or public (with the reason)", key)
				continue
			}
			if spec.Public == "" && len(spec.Admin) == 0 {
				t.Errorf("route %s: neither public nor any admin case", key)
			}
			if spec.Public != "" && spec.PublicCase == "" {
				t.Errorf("route %s: public without a case to call", key)
			}
		}
		for _, key := range sortedKeys(routeTable) {
			if !served[key] {
				t.Errorf("routeTable lists %s, which the hub does not serve", key)
			}
		}

		for _, key := range sortedKeys(routeTable) {
			method, _, _ := strings.Cut(key, " ")
			spec := routeTable[key]
			if spec.Public != "" {
				path := a.fill(spec.PublicCase)
				if r := h.Do(method, path, nil, nil); r.Status >= 500 {
					t.Errorf("public %s %s: %d %s", method, path, r.Status, r.Body)
				}
			}
			for _, rc := range spec.Admin {
				path := a.fill(rc.Path)
				body := a.fillBody(t, rc.Body)
				name := method + " " + path
				for _, cred := range []struct {
					name   string
					header map[string]string
				}{
					{"no token", nil},
					{"a bogus sba_ token", map[string]string{"Authorization": "Bearer sba_" + strings.Repeat("0", 43)}},
					{"A's token without its prefix", map[string]string{"Authorization": "Bearer " + strings.TrimPrefix(h.Token, "sba_")}},
					{"A's token in a Basic header", map[string]string{"Authorization": "Basic " + h.Token}},
					{"A's integration api key", map[string]string{"X-Api-Key": a.apiKey}},
				} {
					r := h.Do(method, path, cred.header, body)
					if r.Status != http.StatusUnauthorized || errorCode(r) != "unauthorized" {
						t.Errorf("%s with %s: %d %s, want 401 unauthorized", name, cred.name, r.Status, trim(r.Body))
					}
				}
				r := h.AdminAs(tokenB, method, path, body)
				if leak := a.leak(r.Body, path, body); leak != "" {
					t.Errorf("%s as workspace B: the answer holds workspace A's %s: %s", name, leak, trim(r.Body))
				}
				switch rc.Expect {
				case "foreign":
					if r.Status != http.StatusNotFound || errorCode(r) != "not_found" {
						t.Errorf("%s as workspace B: %d %s, want 404 not_found", name, r.Status, trim(r.Body))
					}
				case "collection":
					if r.Status != http.StatusOK {
						t.Errorf("%s as workspace B: %d %s, want 200", name, r.Status, trim(r.Body))
					}
				case "create":
					if r.Status != http.StatusCreated {
						t.Errorf("%s as workspace B: %d %s, want 201", name, r.Status, trim(r.Body))
					}
				default:
					t.Fatalf("%s: unknown expectation %q", name, rc.Expect)
				}
			}
		}

		// Nothing B did reached A: every object is still there, unchanged.
		a.checkIntact(t, h)
	})
}

// workspaceA is what the walk knows of workspace A.
type workspaceA struct {
	ids     map[string]string // placeholder name → id
	apiKey  string
	secrets map[string]string // what must never reach B, by description
}

func (a *workspaceA) fill(s string) string {
	for k, v := range a.ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func (a *workspaceA) fillBody(t *testing.T, body any) any {
	if body == nil {
		return nil
	}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(a.fill(string(raw)))
}

// leak names the first of A's values found in an answer, ignoring the ids
// the caller itself sent.
func (a *workspaceA) leak(answer []byte, path string, body any) string {
	sent := path
	if b, ok := body.([]byte); ok {
		sent += string(b)
	}
	for what, v := range a.secrets {
		if strings.Contains(sent, v) {
			continue
		}
		if strings.Contains(string(answer), v) {
			return what
		}
	}
	return ""
}

// seedWorkspace gives the hub's own workspace (A) one object of every kind
// a route can name: an integration with a delivery target, a conversation
// with an agent reply and its delivery, a team, a subscription, and the
// admin token's id.
func seedWorkspace(t *testing.T, h *apptest.Hub) *workspaceA {
	t.Helper()
	rc := apptest.NewReceiver(t)
	in := h.CreateIntegration(map[string]any{"name": "alpha-integration-7f3a", "kind": "custom", "outboundUrl": rc.URL + "/alpha-hook"})
	msg := map[string]any{
		"messageId": "alpha-msg-1", "conversationId": "alpha-thread-9c1d",
		"from":    map[string]any{"externalId": "alpha-contact-4e2b", "name": "Alpha Person", "email": "alpha.person@example.com"},
		"content": "alpha inbound content 5d8e", "subject": "alpha subject 0b6c",
	}
	if r := h.PostCustom(in.ID, in.APIKey, msg); r.Status != http.StatusOK {
		t.Fatalf("inbound: %d %s", r.Status, r.Body)
	}
	var convs struct{ Conversations []struct{ ID string } }
	apptest.Eventually(t, 10*time.Second, func() error {
		h.Admin("GET", "/api/conversations?integrationId="+in.ID, nil).JSON(t, &convs)
		if len(convs.Conversations) != 1 {
			return fmt.Errorf("%d conversations", len(convs.Conversations))
		}
		return nil
	})
	conv := convs.Conversations[0].ID
	if r := h.Admin("POST", "/api/conversations/"+conv+"/messages", map[string]any{"content": "alpha agent reply 3a9f"}); r.Status != http.StatusCreated {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	var dels struct{ Deliveries []struct{ ID string } }
	apptest.Eventually(t, 10*time.Second, func() error {
		h.Admin("GET", "/api/deliveries?integrationId="+in.ID, nil).JSON(t, &dels)
		if len(dels.Deliveries) == 0 {
			return fmt.Errorf("no delivery yet")
		}
		return nil
	})
	team := h.Admin("POST", "/api/teams", map[string]any{"name": "alpha-team-81c4"})
	if team.Status != http.StatusCreated {
		t.Fatalf("team: %d %s", team.Status, team.Body)
	}
	sub := h.Admin("POST", "/api/webhooks/", map[string]any{
		"url": rc.URL + "/alpha-subscription", "subscribedEvents": []string{"messages", "transfers"},
		"extraHeaders": []map[string]string{{"name": "X-Alpha", "value": "alpha-header-value-2c7e"}},
	})
	if sub.Status != http.StatusCreated {
		t.Fatalf("subscription: %d %s", sub.Status, sub.Body)
	}
	var tokens tokenList
	h.Admin("GET", "/api/tokens", nil).JSON(t, &tokens)
	if len(tokens.Tokens) != 1 {
		t.Fatalf("tokens: %+v", tokens)
	}
	secret := h.Admin("GET", "/api/integrations/"+in.ID+"/signing-secret", nil).Map(t)["secret"].(string)
	conn := h.Admin("POST", "/api/connections", map[string]any{
		"code": "alpha-conn-5e1f", "channel": "SMS", "sender": "15550001111", "route": "alpha-route-71",
		"provider": map[string]any{"accountSid": "AC" + strings.Repeat("a", 32), "authToken": "alpha-auth-token-9d2a"},
	})
	if conn.Status != http.StatusCreated {
		t.Fatalf("connection: %d %s", conn.Status, conn.Body)
	}
	if strings.Contains(string(conn.Body), "alpha-auth-token-9d2a") {
		t.Fatalf("the connection's auth token is in the answer that creates it: %s", conn.Body)
	}
	camp := h.Admin("POST", "/api/campaigns", map[string]any{"name": "alpha-campaign-3b7c", "type": "keyword", "senders": []string{"15550002222"}})
	if camp.Status != http.StatusCreated {
		t.Fatalf("campaign: %d %s", camp.Status, camp.Body)
	}
	ar := h.Admin("POST", "/api/auto-replies", map[string]any{"connection": "alpha-conn-5e1f", "message": "alpha auto reply 6f1e", "active": false})
	if ar.Status != http.StatusCreated {
		t.Fatalf("auto-reply: %d %s", ar.Status, ar.Body)
	}

	user := h.Admin("POST", "/api/users", map[string]any{"email": "alpha.agent.8e4d@example.com", "password": "alpha-password-1", "role": "agent"})
	if user.Status != http.StatusCreated {
		t.Fatalf("user: %d %s", user.Status, user.Body)
	}
	owner := h.Admin("POST", "/api/users", map[string]any{"email": "alpha.owner.2a9c@example.com", "password": "alpha-password-2", "role": "owner"})
	if owner.Status != http.StatusCreated {
		t.Fatalf("owner: %d %s", owner.Status, owner.Body)
	}

	a := &workspaceA{
		ids: map[string]string{
			"integration":    in.ID,
			"conversation":   conv,
			"delivery":       dels.Deliveries[0].ID,
			"subscription":   sub.Map(t)["id"].(string),
			"team":           team.Map(t)["id"].(string),
			"token":          tokens.Tokens[0].ID,
			"connection":     conn.Map(t)["id"].(string),
			"connectionCode": "alpha-conn-5e1f",
			"campaign":       camp.Map(t)["id"].(string),
			"autoReply":      ar.Map(t)["id"].(string),
			"user":           user.Map(t)["id"].(string),
			"owner":          owner.Map(t)["id"].(string),
		},
		apiKey: in.APIKey,
		secrets: map[string]string{
			"integration name":    "alpha-integration-7f3a",
			"target URL":          "/alpha-hook",
			"thread id":           "alpha-thread-9c1d",
			"contact id":          "alpha-contact-4e2b",
			"contact email":       "alpha.person@example.com",
			"inbound content":     "alpha inbound content 5d8e",
			"subject":             "alpha subject 0b6c",
			"agent reply":         "alpha agent reply 3a9f",
			"team name":           "alpha-team-81c4",
			"subscription URL":    "/alpha-subscription",
			"subscription header": "alpha-header-value-2c7e",
			"api key":             in.APIKey,
			"response token":      in.ResponseToken,
			"signing secret":      secret,
			"admin token":         h.Token,
			"integration id":      in.ID,
			"conversation id":     conv,
			"delivery id":         dels.Deliveries[0].ID,
			"subscription id":     sub.Map(t)["id"].(string),
			"team id":             team.Map(t)["id"].(string),
			"token id":            tokens.Tokens[0].ID,
			"contact name":        "Alpha Person",
			"inbound message id":  "alpha-msg-1",
			"connection auth":     "alpha-auth-token-9d2a",
			"connection sender":   "15550001111",
			"connection route":    "alpha-route-71",
			"campaign name":       "alpha-campaign-3b7c",
			"auto-reply message":  "alpha auto reply 6f1e",
			"user email":          "alpha.agent.8e4d@example.com",
			"owner email":         "alpha.owner.2a9c@example.com",
			"user id":             user.Map(t)["id"].(string),
		},
	}
	return a
}

// checkIntact proves workspace B's calls changed nothing of A's.
func (a *workspaceA) checkIntact(t *testing.T, h *apptest.Hub) {
	t.Helper()
	in := h.Admin("GET", a.fill("/api/integrations/{integration}"), nil)
	if in.Status != http.StatusOK || in.Map(t)["name"] != "alpha-integration-7f3a" {
		t.Errorf("A's integration after the walk: %d %s", in.Status, in.Body)
	}
	if s := h.Admin("GET", a.fill("/api/integrations/{integration}/signing-secret"), nil).Map(t)["secret"]; s != a.secrets["signing secret"] {
		t.Errorf("A's signing secret changed")
	}
	if r := h.PostCustom(a.ids["integration"], a.apiKey, map[string]any{
		"messageId": "alpha-msg-2", "conversationId": "alpha-thread-9c1d", "from": map[string]any{"externalId": "alpha-contact-4e2b"}, "content": "still here",
	}); r.Status != http.StatusOK {
		t.Errorf("A's api key after the walk: %d", r.Status)
	}
	var events struct{ Events []struct{ Status string } }
	h.Admin("GET", a.fill("/api/integrations/{integration}/events?limit=1"), nil).JSON(t, &events)
	if len(events.Events) != 1 || events.Events[0].Status != "ok" {
		t.Errorf("A's api key no longer accepted after the walk: %+v", events)
	}
	var conv struct {
		Conversations []struct{ ID, Status, TeamID string }
	}
	h.Admin("GET", "/api/conversations", nil).JSON(t, &conv)
	if len(conv.Conversations) != 1 || conv.Conversations[0].Status == "ended" || conv.Conversations[0].TeamID != "" {
		t.Errorf("A's conversation after the walk: %+v", conv)
	}
	var msgs struct{ Messages []struct{ Content string } }
	h.Admin("GET", a.fill("/api/conversations/{conversation}/messages"), nil).JSON(t, &msgs)
	for _, m := range msgs.Messages {
		if m.Content == "from workspace b" {
			t.Errorf("workspace B's reply landed in A's conversation")
		}
	}
	if r := h.Admin("GET", a.fill("/api/webhooks/{subscription}"), nil); r.Status != http.StatusOK || r.Map(t)["enabled"] != true {
		t.Errorf("A's subscription after the walk: %d %s", r.Status, r.Body)
	}
	if r := h.Admin("GET", a.fill("/api/deliveries/{delivery}"), nil); r.Status != http.StatusOK {
		t.Errorf("A's delivery after the walk: %d %s", r.Status, r.Body)
	}
	if r := h.Admin("GET", "/api/tokens", nil); r.Status != http.StatusOK {
		t.Errorf("A's token after the walk: %d", r.Status)
	}
	if r := h.Admin("GET", a.fill("/api/connections/{connection}"), nil); r.Status != http.StatusOK || r.Map(t)["sender"] != "15550001111" {
		t.Errorf("A's connection after the walk: %d %s", r.Status, r.Body)
	}
	var camps struct{ Campaigns []struct{ ID, Status string } }
	h.Admin("GET", "/api/campaigns", nil).JSON(t, &camps)
	if len(camps.Campaigns) != 1 || camps.Campaigns[0].Status != "draft" {
		t.Errorf("A's campaigns after the walk: %+v", camps)
	}
	var users struct{ Users []struct{ Email string } }
	h.Admin("GET", "/api/users", nil).JSON(t, &users)
	if len(users.Users) != 2 {
		t.Errorf("A's users after the walk: %+v", users)
	}
	var ars struct{ AutoReplies []struct{ Active bool } }
	h.Admin("GET", "/api/auto-replies", nil).JSON(t, &ars)
	if len(ars.AutoReplies) != 1 || ars.AutoReplies[0].Active {
		t.Errorf("A's auto-replies after the walk: %+v", ars)
	}
}

func errorCode(r *apptest.Response) string {
	var e struct{ Error string }
	json.Unmarshal(r.Body, &e)
	return e.Error
}

func trim(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
