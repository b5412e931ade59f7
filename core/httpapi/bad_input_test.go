package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// maxEventError is what the event log may hold for one entry's error.
const maxEventError = 2 << 10

// TestBadInboundInput sends hostile and broken bodies to the custom webhook
// through real HTTP. Each is answered 200 "ok", logged as a routing_error
// naming the field, stores nothing, and leaves the hub working: the outcome
// is the same on SQLite and PostgreSQL.
func TestBadInboundInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})

		// body builds a message whose field holds raw, written into the JSON as is.
		body := func(field, raw string) string {
			f := map[string]string{
				"messageId": `"m1"`, "conversationId": `"c1"`, "from.externalId": `"u1"`, "from.name": `"Pat"`,
				"from.email": `"pat@example.com"`, "content": `"hello"`, "subject": `"help"`, "contentType": `"text"`,
				"sentAt": `"2024-05-01T12:00:00Z"`,
			}
			extra := ""
			if _, ok := f[field]; ok {
				f[field] = raw
			} else {
				extra = fmt.Sprintf(`,%q:%s`, field, raw)
			}
			return fmt.Sprintf(`{"messageId":%s,"conversationId":%s,"from":{"externalId":%s,"name":%s,"email":%s},"content":%s,"subject":%s,"contentType":%s,"sentAt":%s%s}`,
				f["messageId"], f["conversationId"], f["from.externalId"], f["from.name"], f["from.email"], f["content"], f["subject"], f["contentType"], f["sentAt"], extra)
		}
		type badCase struct {
			name      string
			body      string
			wantError string // a substring of the event's error
		}
		var tests []badCase
		for _, field := range []string{"messageId", "conversationId", "from.externalId", "from.name", "from.email", "content", "subject", "contentType", "sentAt", "metadata"} {
			tests = append(tests,
				badCase{name: "raw NUL in " + field, body: body(field, "\"a\x00b\""), wantError: field + ": contains a NUL byte"},
				badCase{name: "escaped NUL in " + field, body: body(field, `"a\u0000b"`), wantError: field + ": contains a NUL byte"},
				badCase{name: "invalid UTF-8 in " + field, body: body(field, "\"a\xff\xfeb\""), wantError: field + ": invalid UTF-8"},
				badCase{name: "truncated UTF-8 in " + field, body: body(field, "\"caf\xc3\""), wantError: field + ": invalid UTF-8"},
				badCase{name: "lone surrogate escape in " + field, body: body(field, `"a\ud800b"`), wantError: field + ": invalid UTF-8"},
			)
		}
		tests = append(tests,
			badCase{name: "NUL in a nested value", body: body("metadata", `{"k":["x","\u0000"]}`), wantError: "metadata.k[1]: contains a NUL byte"},
			badCase{name: "invalid UTF-8 in a key", body: body("metadata", "{\"k\xff\":\"v\"}"), wantError: "metadata: a key: invalid UTF-8"},
			badCase{name: "huge messageId", body: body("messageId", `"`+strings.Repeat("m", 300)+`"`), wantError: "messageId is longer"},
			badCase{name: "huge subject", body: body("subject", `"`+strings.Repeat("s", 2000)+`"`), wantError: "subject is longer"},
			badCase{name: "huge invalid sentAt", body: body("sentAt", `"`+strings.Repeat("9", 60<<10)+`"`), wantError: "sentAt"},
			badCase{name: "deeply nested JSON", body: body("metadata", strings.Repeat("[", 20000)+strings.Repeat("]", 20000)), wantError: "nested too deeply"},
			badCase{name: "messageId a number", body: body("messageId", `5`), wantError: "messageId must be a string"},
			badCase{name: "from a string", body: `{"messageId":"m1","conversationId":"c1","from":"u1","content":"x"}`, wantError: "from must be an object"},
			badCase{name: "content an object", body: body("content", `{"a":1}`), wantError: "content must be a string"},
			badCase{name: "missing messageId", body: `{"conversationId":"c1","from":{"externalId":"u1"},"content":"x"}`, wantError: "messageId is required"},
			badCase{name: "missing conversationId", body: `{"messageId":"m1","from":{"externalId":"u1"},"content":"x"}`, wantError: "conversationId is required"},
			badCase{name: "missing from", body: `{"messageId":"m1","conversationId":"c1","content":"x"}`, wantError: "from.externalId is required"},
			badCase{name: "missing content", body: `{"messageId":"m1","conversationId":"c1","from":{"externalId":"u1"}}`, wantError: "content is required"},
			badCase{name: "blank content", body: body("content", `"   "`), wantError: "content is required"},
			badCase{name: "null messageId", body: body("messageId", `null`), wantError: "messageId is required"},
			badCase{name: "invalid sentAt", body: body("sentAt", `"yesterday"`), wantError: "sentAt"},
			badCase{name: "not JSON", body: `messageId=m1&content=x`, wantError: "body"},
			badCase{name: "JSON array", body: `[{"messageId":"m1"}]`, wantError: "body"},
			badCase{name: "truncated JSON", body: `{"messageId":"m1","content":`, wantError: "body"},
			badCase{name: "trailing data", body: body("subject", `"x"`) + ` {}`, wantError: "body"},
			badCase{name: "empty body", body: ``, wantError: "body"},
			badCase{name: "raw NUL outside a string", body: "{\"messageId\":\"m1\"\x00}", wantError: "body: contains a NUL byte"},
			badCase{name: "oversize body", body: body("content", `"`+strings.Repeat("x", 70<<10)+`"`), wantError: "exceeds"},
		)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.PostCustom(in.ID, in.APIKey, tt.body)
				if r.Status != http.StatusOK || string(r.Body) != `"ok"` {
					t.Fatalf("answer = %d %s, want 200 \"ok\"", r.Status, r.Body)
				}
				ev := events(t, h, in.ID, "?limit=1")
				if len(ev) != 1 {
					t.Fatal("no event logged")
				}
				if ev[0].Status != "routing_error" || !strings.Contains(ev[0].Error, tt.wantError) {
					t.Errorf("event = %s %.300q, want routing_error naming %q", ev[0].Status, ev[0].Error, tt.wantError)
				}
				if len(ev[0].Error) > 512 {
					t.Errorf("event error is %d bytes; a sender's value is echoed whole: %.200q", len(ev[0].Error), ev[0].Error)
				}
			})
		}

		// Nothing of the bad ones was stored, and the hub still works.
		if r := h.Do("GET", "/healthz", nil, nil); r.Status != http.StatusOK {
			t.Fatalf("healthz after bad input: %d", r.Status)
		}
		var convs struct{ Conversations []struct{ ID string } }
		h.Admin("GET", "/api/conversations", nil).JSON(t, &convs)
		if len(convs.Conversations) != 0 {
			t.Fatalf("bad input stored %d conversations", len(convs.Conversations))
		}
		r := h.PostCustom(in.ID, in.APIKey, body("content", `"Zoë says hi \u00e9"`))
		if ev := events(t, h, in.ID, "?limit=1"); r.Status != http.StatusOK || ev[0].Status != "ok" {
			t.Fatalf("valid message after bad input: %d, event %+v", r.Status, ev[0])
		}
		h.Admin("GET", "/api/conversations", nil).JSON(t, &convs)
		if len(convs.Conversations) != 1 {
			t.Fatalf("valid message stored %d conversations, want 1", len(convs.Conversations))
		}
		var msgs struct{ Messages []struct{ Content string } }
		h.Admin("GET", "/api/conversations/"+convs.Conversations[0].ID+"/messages", nil).JSON(t, &msgs)
		if len(msgs.Messages) != 1 || msgs.Messages[0].Content != "Zoë says hi é" {
			t.Errorf("stored messages = %+v", msgs.Messages)
		}
	})
}

// TestBadInboundPath: an integration id no database could hold is an unknown
// integration, answered like any other.
func TestBadInboundPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		for _, id := range []string{"%00", "a%00b", "%FF%FE"} {
			r := h.PostCustom(id, "sbk_x", `{}`)
			if r.Status != http.StatusOK || string(r.Body) != `"ok"` {
				t.Errorf("POST /api/webhooks/custom/%s = %d %s, want 200 \"ok\"", id, r.Status, r.Body)
			}
		}
	})
}

// TestBadAdminInput: NUL bytes and invalid UTF-8 anywhere in an admin
// request, body or parameters, answer 422 naming the field, on every database.
func TestBadAdminInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
		h.PostCustom(in.ID, in.APIKey, seedExample)
		var convs struct{ Conversations []struct{ ID string } }
		h.Admin("GET", "/api/conversations", nil).JSON(t, &convs)
		if len(convs.Conversations) != 1 {
			t.Fatalf("conversations: %+v", convs)
		}
		conv := convs.Conversations[0].ID

		tests := []struct {
			name, method, path, body string
			wantField                string
		}{
			{"integration name with escaped NUL", "POST", "/api/integrations", `{"name":"a\u0000b","kind":"custom"}`, "name: contains a NUL byte"},
			{"integration name with raw NUL", "POST", "/api/integrations", "{\"name\":\"a\x00b\",\"kind\":\"custom\"}", "name: contains a NUL byte"},
			{"integration name with invalid UTF-8", "POST", "/api/integrations", "{\"name\":\"a\xffb\",\"kind\":\"custom\"}", "name: invalid UTF-8"},
			{"integration name with a lone surrogate escape", "POST", "/api/integrations", `{"name":"\ud800","kind":"custom"}`, "name: invalid UTF-8"},
			{"reply content with a lone low surrogate escape", "POST", "/api/conversations/" + conv + "/messages", `{"content":"hi\udc00"}`, "content: invalid UTF-8"},
			{"integration kind with NUL", "POST", "/api/integrations", `{"name":"x","kind":"custom\u0000"}`, "kind: contains a NUL byte"},
			{"rename with NUL", "PATCH", "/api/integrations/" + in.ID, `{"name":"\u0000"}`, "name: contains a NUL byte"},
			{"delivery header with NUL", "PATCH", "/api/integrations/" + in.ID, `{"delivery":{"method":"POST","url":"http://127.0.0.1:9/x","headers":[{"key":"X-A","type":"text","value":"\u0000"}]}}`, "delivery.headers[0].value: contains a NUL byte"},
			{"subscription url with NUL", "POST", "/api/webhooks/", `{"url":"http://127.0.0.1:9/\u0000","enabled":true,"subscribedEvents":["messages"]}`, "url: contains a NUL byte"},
			{"subscription header with invalid UTF-8", "POST", "/api/webhooks/", "{\"url\":\"http://127.0.0.1:9/\",\"enabled\":true,\"subscribedEvents\":[\"messages\"],\"extraHeaders\":[{\"name\":\"X-A\",\"value\":\"\xc3\"}]}", "extraHeaders[0].value: invalid UTF-8"},
			{"delivery header with CR/LF", "PATCH", "/api/integrations/" + in.ID, `{"delivery":{"method":"POST","url":"http://127.0.0.1:9/x","headers":[{"key":"X-A","type":"text","value":"a\r\nX-B: c"}]}}`, "delivery.headers[0].value: not a valid HTTP header value"},
			{"delivery bearer token with LF", "PATCH", "/api/integrations/" + in.ID, `{"delivery":{"method":"POST","url":"http://127.0.0.1:9/x","auth":{"type":"bearer","token":"t\n"}}}`, "delivery.auth.token: not a valid HTTP header value"},
			{"subscription header with a control byte", "POST", "/api/webhooks/", `{"url":"http://127.0.0.1:9/","enabled":true,"subscribedEvents":["messages"],"extraHeaders":[{"name":"X-A","value":"a\u0001"}]}`, "extraHeaders[0].value: not a valid HTTP header value"},
			{"reply content with NUL", "POST", "/api/conversations/" + conv + "/messages", `{"content":"hi\u0000"}`, "content: contains a NUL byte"},
			{"reply content with invalid UTF-8", "POST", "/api/conversations/" + conv + "/messages", "{\"content\":\"hi\xff\"}", "content: invalid UTF-8"},
			{"team name with NUL", "POST", "/api/teams", `{"name":"\u0000"}`, "name: contains a NUL byte"},
			{"transfer team with NUL", "POST", "/api/conversations/" + conv + "/transfer", `{"teamId":"\u0000"}`, "teamId: contains a NUL byte"},
			{"transform test script with NUL", "POST", "/api/integrations/" + in.ID + "/transform/test", `{"script":"\u0000"}`, "script: contains a NUL byte"},
			{"query with NUL", "GET", "/api/conversations?integrationId=%00", "", "integrationId: contains a NUL byte"},
			{"query with invalid UTF-8", "GET", "/api/deliveries?status=%C3", "", "status: invalid UTF-8"},
			{"events filter with NUL", "GET", "/api/integrations/" + in.ID + "/events?status=ok%00", "", "status: contains a NUL byte"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var body any
				if tt.body != "" {
					body = tt.body
				}
				r := h.Admin(tt.method, tt.path, body)
				if r.Status != http.StatusUnprocessableEntity {
					t.Fatalf("%s %s = %d %s, want 422", tt.method, tt.path, r.Status, r.Body)
				}
				m := r.Map(t)
				if msg, _ := m["message"].(string); !strings.Contains(msg, tt.wantField) {
					t.Errorf("message = %q, want it to name %q", msg, tt.wantField)
				}
			})
		}
		// A path id no database could hold names nothing: 404, as any unknown id.
		for _, p := range []string{"/api/integrations/a%00b", "/api/conversations/%FF/messages", "/api/webhooks/%00", "/api/deliveries/%C3%00"} {
			if r := h.Admin("GET", p, nil); r.Status != http.StatusNotFound {
				t.Errorf("GET %s = %d %s, want 404", p, r.Status, r.Body)
			}
		}
		// Nothing was changed and the hub still answers.
		r := h.Admin("GET", "/api/integrations/"+in.ID, nil)
		if r.Status != http.StatusOK || r.Map(t)["name"] != "app" {
			t.Errorf("integration after bad input: %d %s", r.Status, r.Body)
		}
		var ints struct{ Integrations []struct{ ID string } }
		h.Admin("GET", "/api/integrations", nil).JSON(t, &ints)
		if len(ints.Integrations) != 1 {
			t.Errorf("bad input created integrations: %d", len(ints.Integrations))
		}
	})
}

// TestBadInputLeavesOtherWorkspacesAlone: a hostile sender's bad messages,
// interleaved with another workspace's valid traffic, never fail the valid ones.
func TestBadInputLeavesOtherWorkspacesAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		bad := h.CreateIntegration(map[string]any{"name": "hostile", "kind": "custom"})
		other := h.NewAdminToken("victim")
		r := h.AdminAs(other, "POST", "/api/integrations", map[string]any{"name": "victim", "kind": "custom"})
		var good apptest.Integration
		r.JSON(t, &good)

		const n = 40
		errs := make(chan error, 2*n)
		for i := range n {
			go func() {
				r := h.PostCustom(bad.ID, bad.APIKey, fmt.Sprintf(`{"messageId":"b%d","conversationId":"c","from":{"externalId":"u","name":"x\u0000"},"content":"x"}`, i))
				if r.Status != http.StatusOK {
					errs <- fmt.Errorf("hostile message %d: %d %s", i, r.Status, r.Body)
					return
				}
				errs <- nil
			}()
			go func() {
				r := h.PostCustom(good.ID, good.APIKey, fmt.Sprintf(`{"messageId":"g%d","conversationId":"c%d","from":{"externalId":"u%d"},"content":"fine"}`, i, i%5, i))
				if r.Status != http.StatusOK {
					errs <- fmt.Errorf("valid message %d: %d %s", i, r.Status, r.Body)
					return
				}
				errs <- nil
			}()
		}
		for range 2 * n {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		r = h.AdminAs(other, "GET", "/api/integrations/"+good.ID+"/events?status=ok&limit=500", nil)
		var evs struct{ Events []event }
		r.JSON(t, &evs)
		if len(evs.Events) != n {
			t.Errorf("victim has %d ok events, want %d", len(evs.Events), n)
		}
		for _, ev := range events(t, h, bad.ID, "?limit=500") {
			if ev.Status != "routing_error" || !strings.Contains(ev.Error, "from.name: contains a NUL byte") {
				t.Errorf("hostile event = %+v", ev)
			}
		}
	})
}

// TestIngestBatchIsolation: a message the database itself refuses, posted
// while another workspace's valid messages are batched with it, fails alone:
// every valid message is answered, stored and logged ok.
func TestIngestBatchIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		storetest.PoisonMessages(t, dbURL)
		bad := h.CreateIntegration(map[string]any{"name": "hostile", "kind": "custom"})
		other := h.NewAdminToken("victim")
		var good apptest.Integration
		h.AdminAs(other, "POST", "/api/integrations", map[string]any{"name": "victim", "kind": "custom"}).JSON(t, &good)

		const rounds, perRound = 5, 30
		for round := range rounds {
			errs := make(chan error, perRound+perRound/3)
			for i := range perRound {
				go func() {
					r := h.PostCustom(good.ID, good.APIKey, fmt.Sprintf(`{"messageId":"g%d-%d","conversationId":"c%d","from":{"externalId":"u%d"},"content":"fine"}`, round, i, i%7, i))
					if r.Status != http.StatusOK {
						errs <- fmt.Errorf("valid message %d-%d: %d %s", round, i, r.Status, r.Body)
						return
					}
					errs <- nil
				}()
				if i%3 == 0 {
					go func() {
						h.PostCustom(bad.ID, bad.APIKey, fmt.Sprintf(`{"messageId":"b%d-%d","conversationId":"c","from":{"externalId":"u"},"content":"poison"}`, round, i))
						errs <- nil
					}()
				}
			}
			for range perRound + perRound/3 {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
		}
		var evs struct{ Events []event }
		h.AdminAs(other, "GET", "/api/integrations/"+good.ID+"/events?status=ok&limit=500", nil).JSON(t, &evs)
		if len(evs.Events) != rounds*perRound {
			t.Errorf("victim has %d ok events, want %d", len(evs.Events), rounds*perRound)
		}
		var convs struct{ Conversations []struct{ ID string } }
		h.Admin("GET", "/api/conversations", nil).JSON(t, &convs)
		if len(convs.Conversations) != 0 {
			t.Errorf("refused messages left %d conversations", len(convs.Conversations))
		}
	})
}
