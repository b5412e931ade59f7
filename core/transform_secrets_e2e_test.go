package core_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestTransformLogsHideCredentials: a transform printing or throwing the
// request's credentials leaves none of them in the API's deliveries, while
// the target still receives them.
func TestTransformLogsHideCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		h := apptest.Start(t, dbURL)
		const pass, token, key = `pa"ss-S3cret`, "tok-S3cret-bearer", "key-S3cret-apikey"
		b64 := base64.StdEncoding.EncodeToString([]byte("alice:" + pass))
		secrets := []string{pass, `pa\"ss-S3cret`, token, key, b64}
		logAll := `console.log(JSON.stringify(r.headers)); for (var k in r.headers) console.log(k, r.headers[k]);`
		auths := []map[string]any{
			{"type": "basic", "username": "alice", "password": pass},
			{"type": "bearer", "token": token},
			{"type": "apiKey", "header": "X-Key", "value": key},
		}
		for i, auth := range auths {
			for _, throw := range []bool{false, true} {
				src := "function transform(r) { " + logAll + " return r; }"
				if throw {
					src = "function transform(r) { " + logAll + " throw new Error(JSON.stringify(r.headers)); }"
				}
				in := h.CreateIntegration(map[string]any{"name": fmt.Sprint("auth-", i, throw), "kind": "custom",
					"delivery": map[string]any{"url": rc.URL + "/hook", "auth": auth, "transform": src}})
				conv := startConversation(t, h, in, fmt.Sprint("c-", i, throw))
				reply(t, h, conv, "hello")
				want := "succeeded"
				if throw {
					want = "failed"
				}
				d := waitDelivery(t, h, in.ID, want)
				r := h.Admin("GET", "/api/deliveries/"+d.ID, nil)
				list := h.Admin("GET", "/api/deliveries?integrationId="+in.ID, nil)
				body := string(r.Body) + string(list.Body)
				for _, s := range secrets {
					if strings.Contains(body, s) {
						t.Errorf("%v (throw %v): the API shows the secret %q: %s", auth["type"], throw, s, r.Body)
					}
				}
				if !strings.Contains(string(r.Body), "********") {
					t.Errorf("%v (throw %v): no redacted value in %s", auth["type"], throw, r.Body)
				}
			}
		}
		got := rc.WaitFor(t, 3, 5*time.Second)
		if a := got[0].Header.Get("Authorization"); a != "Basic "+b64 {
			t.Errorf("the target got Authorization %q", a)
		}
	})
}

// TestEchoedCredentialsAreNotKept: a target that echoes the request's
// headers in its answer leaves none of the credentials in the attempt's
// response excerpt, for an integration's auth and a subscription's
// extraHeaders alike.
func TestEchoedCredentialsAreNotKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "you sent %q %q", r.Header.Get("Authorization"), r.Header.Get("X-Sub-Key"))
		}))
		defer echo.Close()
		h := apptest.Start(t, dbURL)
		const token, subKey = "tok-S3cret-echoed", "sub-S3cret-echoed"
		in := h.CreateIntegration(map[string]any{"name": "echo", "kind": "custom",
			"delivery": map[string]any{"url": echo.URL + "/hook", "auth": map[string]any{"type": "bearer", "token": token}}})
		if r := h.Admin("POST", "/api/webhooks/", map[string]any{"url": echo.URL + "/sub", "subscribedEvents": []string{"messages"},
			"extraHeaders": []map[string]string{{"name": "X-Sub-Key", "value": subKey}}}); r.Status != http.StatusCreated {
			t.Fatalf("subscription: %d %s", r.Status, r.Body)
		}
		reply(t, h, startConversation(t, h, in, "echo-1"), "hello")
		var body string
		apptest.Eventually(t, 10*time.Second, func() error {
			list := deliveries(t, h, "status=succeeded")
			if len(list) < 3 { // the inbound message and the reply to the subscription, the reply to the target
				return fmt.Errorf("%d deliveries succeeded", len(list))
			}
			body = ""
			for _, d := range list {
				body += string(h.Admin("GET", "/api/deliveries/"+d.ID, nil).Body)
			}
			return nil
		})
		for _, s := range []string{token, subKey} {
			if strings.Contains(body, s) {
				t.Errorf("an attempt keeps the echoed secret %q: %s", s, body)
			}
		}
		if !strings.Contains(body, "you sent") || !strings.Contains(body, "********") {
			t.Errorf("want the echoed answer with the credentials masked: %s", body)
		}
	})
}

// TestCredentialsInAnswersAreMasked: whatever shape a target's answer
// quotes the credentials in (a redirect's Location, a body that reaches
// past the excerpt, JSON with "/" escaped, URL-encoded), no attempt keeps
// them, nor any part of them.
func TestCredentialsInAnswersAreMasked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		const token = "TOK/SECRET+value_abcdefghijklmnop"
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			switch r.URL.Path {
			case "/redirect":
				w.Header().Set("Location", "https://evil.example/?a="+url.QueryEscape(got)+"&b="+got)
				w.WriteHeader(http.StatusFound)
			case "/cut": // the token starts 20 bytes before the excerpt ends
				io.WriteString(w, strings.Repeat("P", 1024-20)+got)
			case "/escaped":
				io.WriteString(w, `{"seen":"`+strings.ReplaceAll(got, "/", `\/`)+`"}`)
			}
		}))
		defer target.Close()
		h := apptest.Start(t, dbURL, apptest.WithRetrySchedule(0, time.Hour))
		var ids []string
		for _, path := range []string{"/redirect", "/cut", "/escaped"} {
			in := h.CreateIntegration(map[string]any{"name": "mask" + path, "kind": "custom",
				"delivery": map[string]any{"url": target.URL + path, "auth": map[string]any{"type": "bearer", "token": token}}})
			reply(t, h, startConversation(t, h, in, "mask"+path), "hello")
			ids = append(ids, in.ID)
		}
		var body string
		apptest.Eventually(t, 10*time.Second, func() error {
			body = ""
			for _, id := range ids {
				ds := deliveries(t, h, "integrationId="+id)
				if len(ds) != 1 || ds[0].AttemptCount < 1 {
					return fmt.Errorf("integration %s: %+v", id, ds)
				}
				body += string(h.Admin("GET", "/api/deliveries/"+ds[0].ID, nil).Body)
			}
			return nil
		})
		for _, s := range []string{"TOK/SECRET", `TOK\/SECRET`, `TOK\\/SECRET`, "TOK%2FSECRET", "SECRET+value", "SECRET%2Bvalue"} {
			if strings.Contains(body, s) {
				t.Errorf("an attempt keeps %q of the credentials: %s", s, body)
			}
		}
		if !strings.Contains(body, "a redirect to https://evil.example/") || !strings.Contains(body, "PPPP") {
			t.Errorf("want the redirect and the excerpts, masked: %s", body)
		}
	})
}

// TestStoredSecretsStayWithTheirHost: "********" keeps a stored credential
// only while the target stays on its host; pointing an integration or a
// subscription elsewhere needs the credentials themselves.
func TestStoredSecretsStayWithTheirHost(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	auth := func(token string) map[string]any { return map[string]any{"type": "bearer", "token": token} }
	in := h.CreateIntegration(map[string]any{"name": "crm", "kind": "custom",
		"delivery": map[string]any{"url": "https://crm.example/hook", "auth": auth("tok-S3cret")}})
	for _, tt := range []struct {
		url, token string
		want       int
	}{
		{"https://attacker.example/hook", "********", http.StatusUnprocessableEntity},
		{"https://crm.example:8443/hook", "********", http.StatusUnprocessableEntity},
		{"http://crm.example/hook", "********", http.StatusUnprocessableEntity},
		{"https://CRM.example/other-path", "********", http.StatusOK},
		{"https://elsewhere.example/hook", "new-token", http.StatusOK},
	} {
		r := h.Admin("PATCH", "/api/integrations/"+in.ID, map[string]any{"delivery": map[string]any{"url": tt.url, "auth": auth(tt.token)}})
		if r.Status != tt.want {
			t.Errorf("integration to %s with %s: %d %s, want %d", tt.url, tt.token, r.Status, r.Body, tt.want)
		}
	}

	r := h.Admin("POST", "/api/webhooks/", map[string]any{"url": "https://a.example/events", "subscribedEvents": []string{"messages"},
		"extraHeaders": []map[string]string{{"name": "X-Key", "value": "sub-S3cret"}}})
	if r.Status != http.StatusCreated {
		t.Fatalf("subscription: %d %s", r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	masked := []map[string]string{{"name": "X-Key", "value": "********"}}
	for _, tt := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"url": "https://b.example/events"}, http.StatusUnprocessableEntity},
		{map[string]any{"url": "https://b.example/events", "extraHeaders": masked}, http.StatusUnprocessableEntity},
		{map[string]any{"url": "https://a.example/other", "extraHeaders": masked}, http.StatusOK},
		{map[string]any{"url": "https://a.example/again"}, http.StatusOK},
		{map[string]any{"url": "https://b.example/events", "extraHeaders": []map[string]string{{"name": "X-Key", "value": "fresh"}}}, http.StatusOK},
	} {
		if r := h.Admin("POST", "/api/webhooks/"+id+"/update", tt.body); r.Status != tt.want {
			t.Errorf("subscription update %v: %d %s, want %d", tt.body, r.Status, r.Body, tt.want)
		}
	}
}
