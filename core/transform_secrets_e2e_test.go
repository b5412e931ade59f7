package core_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
