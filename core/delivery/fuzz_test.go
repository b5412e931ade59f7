package delivery

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core/domain"
)

// The fuzz targets of this file keep their seeds in testdata/fuzz/FuzzXxx;
// plain `go test` runs them as ordinary tests, `make fuzz` explores.

// fuzzVars gives every template variable the value v.
func fuzzVars(v string) map[string]string {
	m := make(map[string]string, len(Variables))
	for _, name := range Variables {
		m[name] = v
	}
	return m
}

// FuzzTemplate expands a <<name>> template. It never panics, its output is
// bounded by the template and the values it embeds, it is deterministic, and
// a template the validator accepts names known variables only.
func FuzzTemplate(f *testing.F) {
	f.Add("id <<conversationId>>", "abc")
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		valid := checkPlaceholders("f", tmpl) == nil
		vars := fuzzVars(value)
		for _, escape := range []func(string) string{nil, url.PathEscape} {
			out := expand(tmpl, vars, escape)
			if again := expand(tmpl, vars, escape); again != out {
				t.Fatalf("not deterministic: %q then %q", out, again)
			}
			// Each placeholder takes at least 4 bytes of the template
			// ("<<>>") and becomes one (possibly escaped) value.
			per := len(value)
			if escape != nil {
				per = len(escape(value))
			}
			if limit := len(tmpl) + strings.Count(tmpl, "<<")*per; len(out) > limit {
				t.Fatalf("output of %d bytes from a template of %d and values of %d", len(out), len(tmpl), per)
			}
		}
		fv := Field{Key: "k", Type: "variable", Value: tmpl}
		if got := fv.render(vars); got != "" && got != value {
			t.Fatalf("a variable field rendered %q, not its value or nothing", got)
		}
		if valid {
			ft := Field{Key: "k", Type: "text", Value: tmpl}
			if ft.render(vars) != expand(tmpl, vars, nil) {
				t.Fatal("a text field renders unlike its template")
			}
		}
	})
}

// FuzzBodyNotation builds bodies from key.child and key[] keys (one per line
// of keys). It never panics, whatever the keys; keys the validator accepts
// give valid JSON, deterministic and bounded, in which every key's value is
// found at its path.
func FuzzBodyNotation(f *testing.F) {
	f.Add("a.b\ntags[]\ntags[]", "v")
	f.Fuzz(func(t *testing.T, keys, value string) {
		lines := strings.Split(keys, "\n")
		if len(lines) > 64 {
			lines = lines[:64]
		}
		fs := make([]Field, len(lines))
		for i, k := range lines {
			fs[i] = Field{Key: k, Type: "text", Value: "<<text>>"}
		}
		vars := fuzzVars(value)
		body := buildBody(fs, vars) // never panics, even on refused keys
		if checkBodyShape(fs) != nil {
			return
		}
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("body cannot be encoded: %v", err)
		}
		again, _ := json.Marshal(buildBody(fs, vars))
		if !bytes.Equal(raw, again) {
			t.Fatalf("not deterministic:\n%s\n%s", raw, again)
		}
		// JSON escaping at most sextuples a byte (\u00XX).
		if limit := 6*(len(keys)+len(lines)*len(value)) + 8*len(lines) + 2; len(raw) > limit {
			t.Fatalf("body of %d bytes from %d keys of %d bytes, value %d", len(raw), len(lines), len(keys), len(value))
		}
		var back map[string]any
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("body is not valid JSON: %v\n%s", err, raw)
		}
		if !utf8.ValidString(keys) {
			return // JSON carries invalid UTF-8 as U+FFFD, so keys may merge; config keys come from JSON anyway
		}
		want := string([]rune(value)) // JSON carries invalid UTF-8 as U+FFFD
		appended := map[string]int{}
		for _, k := range lines {
			segs := strings.Split(k, ".")
			var node any = back
			for _, s := range segs[:len(segs)-1] {
				node = node.(map[string]any)[s]
			}
			last := segs[len(segs)-1]
			if name, ok := strings.CutSuffix(last, "[]"); ok {
				arr := node.(map[string]any)[name].([]any)
				i := appended[k]
				appended[k]++
				if i >= len(arr) || arr[i] != want {
					t.Fatalf("%s: element %d of %v is not %q", k, i, arr, want)
				}
				continue
			}
			if got := node.(map[string]any)[last]; got != want {
				t.Fatalf("%s = %v, want %q", k, got, want)
			}
		}
	})
}

// FuzzParseTarget decodes arbitrary delivery configurations. It never
// panics; a configuration it accepts renders deterministically, to a request
// bounded by the configuration and the values it embeds, whose body is JSON.
func FuzzParseTarget(f *testing.F) {
	f.Add([]byte(`{"url":"https://example.com/<<chatId>>","body":[{"key":"a.b","type":"variable","value":"text"}]}`), "value")
	f.Fuzz(func(t *testing.T, raw []byte, value string) {
		tg, err := ParseTarget(raw, nil, nil)
		if err != nil {
			var ve *ValidationError
			if !asValidation(err, &ve) || !strings.HasPrefix(ve.Field, "delivery") {
				t.Fatalf("error %v does not name a delivery field", err)
			}
			return
		}
		vars := fuzzVars(value)
		r1, r2 := tg.Render(vars), tg.Render(vars)
		if !reflect.DeepEqual(r1, r2) {
			t.Fatalf("not deterministic:\n%+v\n%+v", r1, r2)
		}
		body, err := json.Marshal(r1.Body)
		if err != nil || !json.Valid(body) {
			t.Fatalf("body is not JSON: %v", err)
		}
		size := len(r1.URL) + len(body)
		for k, v := range r1.Params {
			size += len(k) + len(v)
		}
		for k, v := range r1.Headers {
			size += len(k) + len(v)
		}
		// Literal text grows at most 6 times over (JSON escapes, base64 of
		// basic auth); every placeholder or variable costs at least 4 bytes of
		// config and yields one value, escaped at most 6 times over; the
		// default body holds 9 values.
		per := 6*len(value) + 6
		if limit := 6*len(raw) + (len(raw)/4+10)*per + 512; size > limit {
			t.Fatalf("rendered %d bytes from %d of config and a value of %d", size, len(raw), len(value))
		}
		if !utf8.ValidString(r1.Method) || !strings.Contains("GET POST PUT DELETE", r1.Method) {
			t.Fatalf("method %q", r1.Method)
		}
		// What an update sends back redacted keeps the stored secrets.
		red := tg.Redact()
		red.KeepSecrets(tg)
		if !reflect.DeepEqual(red.Auth, tg.Auth) {
			t.Fatalf("redact then keep changed auth: %+v → %+v", tg.Auth, red.Auth)
		}
	})
}

func asValidation(err error, ve **ValidationError) bool {
	v, ok := err.(*ValidationError)
	*ve = v
	return ok
}

// FuzzSubscriptionPayload builds the webhook payloads of every subscription
// format and event from arbitrary event fields. They are always valid JSON,
// carry the event's fields (invalid UTF-8 as U+FFFD), and so do the
// integration target's variables.
func FuzzSubscriptionPayload(f *testing.F) {
	f.Add("ws", "int", "custom", "conv", "thread", "contact", "ext", "+15550100", "Jane", "jane@example.com",
		"msg", "msg-ext", "hello", "team", "Team A", "", int64(1700000000123), int64(1700000000000), true, false)
	f.Fuzz(func(t *testing.T, workspace, integration, channel, convID, convExt, contactID, contactExt, phone, name, email,
		msgID, msgExt, content, teamID, teamName, prevTeam string, at, sentAt int64, inbound, legacy bool) {
		direction := domain.Outbound
		if inbound {
			direction = domain.Inbound
		}
		ev := &domain.OutboundEvent{
			Kind: domain.OutboundMessage, WorkspaceID: workspace, IntegrationID: integration, Channel: channel,
			Conversation: domain.Conversation{ID: convID, ExternalID: convExt,
				Contact: domain.Contact{ID: contactID, ExternalID: contactExt, Phone: phone, Name: name, Email: email}},
			Message:        &domain.Message{ID: msgID, ExternalID: msgExt, Content: content, Direction: direction, SentAt: time.UnixMilli(sentAt)},
			PreviousTeamID: prevTeam,
			Team:           &domain.Team{ID: teamID, Name: teamName},
			At:             time.UnixMilli(at),
		}
		format := ""
		if legacy {
			format = domain.FormatLegacy
		}
		sub := &domain.Subscription{ID: "sub", SubscribedEvents: []string{domain.SubscribeMessages, domain.SubscribeTransfers}, Format: format}
		u := func(s string) string { return string([]rune(s)) }
		opt := func(s string) any {
			if s == "" {
				return nil
			}
			return u(s)
		}

		d := planSubscription(sub, ev, teamID)
		if d == nil {
			t.Fatal("no message delivery")
		}
		p := decodePayload(t, d.Payload)
		if legacy {
			expect(t, p, "customerId", u(contactID))
			expect(t, p, "customerThreadId", u(convID))
			expect(t, p, "messageId", u(msgID))
			expect(t, p, "messageBody", u(content))
			expect(t, p, "messageExternalId", opt(msgExt))
			expect(t, p, "businessId", opt(teamID))
			expect(t, p, "messageTimestamp", float64(sentAt))
			expect(t, p, "fromCustomer", inbound)
		} else {
			expect(t, p, "eventType", "message")
			expect(t, p, "timestamp", float64(at))
			data, _ := p["data"].(map[string]any)
			expect(t, data, "customerThreadId", u(convID))
			expect(t, data, "organizationId", u(workspace))
			expect(t, data, "customerId", u(contactID))
			expect(t, data, "messageId", u(msgID))
			expect(t, data, "messageBody", u(content))
			expect(t, data, "channel", u(channel))
			expect(t, data, "integrationId", u(integration))
			expect(t, data, "businessId", opt(teamID))
			expect(t, data, "messageTimestamp", float64(sentAt))
			expect(t, data, "fromCustomer", inbound)
		}

		ev.Kind = domain.OutboundTransfer
		d = planSubscription(sub, ev, teamID)
		if legacy {
			if d != nil {
				t.Fatal("a legacy subscription got a transfer")
			}
		} else {
			if d == nil {
				t.Fatal("no transfer delivery")
			}
			p := decodePayload(t, d.Payload)
			expect(t, p, "eventType", "transfer")
			expect(t, p, "timestamp", float64(at))
			data, _ := p["data"].(map[string]any)
			expect(t, data, "customerThreadId", u(convID))
			expect(t, data, "organizationId", u(workspace))
			expect(t, data, "previousBusinessId", opt(prevTeam))
			expect(t, data, "newBusinessId", u(teamID))
			expect(t, data, "newBusinessName", u(teamName))
			expect(t, data, "customerChannel", u(channel))
		}

		// The integration target's payload is its variables, read back by the worker.
		ev.Kind = domain.OutboundMessage
		vars := Vars(ev)
		raw, err := json.Marshal(vars)
		if err != nil || !json.Valid(raw) {
			t.Fatalf("variables are not JSON: %v", err)
		}
		var back map[string]string
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if len(back) != len(vars) {
			t.Fatalf("%d variables came back of %d", len(back), len(vars))
		}
		for k, v := range vars {
			if back[k] != u(v) {
				t.Fatalf("variable %s: %q came back %q", k, v, back[k])
			}
		}
	})
}

func decodePayload(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	if !json.Valid(raw) {
		t.Fatalf("payload is not valid JSON: %q", raw)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(&m); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return m
}

func expect(t *testing.T, m map[string]any, key string, want any) {
	t.Helper()
	got, ok := m[key]
	if !ok {
		t.Fatalf("payload has no %s: %v", key, m)
	}
	if got != want {
		t.Fatalf("payload %s = %#v, want %#v", key, got, want)
	}
}

// FuzzExpandMatchesThePattern: the hand-written placeholder scanner finds
// exactly what the placeholder pattern finds, so templates saved under the
// pattern's rules render as they always did.
func FuzzExpandMatchesThePattern(f *testing.F) {
	for _, s := range []string{"", "plain", "<<text>>", "a <<contact.name>> b <<text>>", "<<<text>>>", "<< text >>",
		"<<a>b>>", "<<\ttext\n>>", "<<>>", "<<text>", "<<<<text>>>>", ">>text<<", "x<<\u00a0text>>", "<<te<<text>>"} {
		f.Add(s, "v/?&")
	}
	f.Fuzz(func(t *testing.T, s, v string) {
		vars := fuzzVars(v)
		vars["te"], vars[""] = "TE", "EMPTY"
		for _, escape := range []func(string) string{nil, url.PathEscape} {
			want := placeholder.ReplaceAllStringFunc(s, func(p string) string {
				r := vars[placeholder.FindStringSubmatch(p)[1]]
				if escape != nil {
					r = escape(r)
				}
				return r
			})
			if got := expand(s, vars, escape); got != want {
				t.Fatalf("expand(%q) = %q, the pattern gives %q", s, got, want)
			}
		}
	})
}
