package core_test

import (
	"encoding/base64"
	"fmt"
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
