package core_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestNULInAnAttemptIsRecordedAndHoldsNothingBack: a target answering with a
// NUL byte, and a transform throwing one, are recorded with the NUL shown
// rather than stored, and another workspace's deliveries recorded in the same
// batches all succeed, each sent once.
func TestNULInAnAttemptIsRecordedAndHoldsNothingBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		rc := apptest.NewReceiver(t)
		rc.Respond = func(n int, r *apptest.Received) apptest.Reply {
			if r.Path == "/nul" {
				return apptest.Reply{Status: 200, Body: "a\x00b"}
			}
			return apptest.Reply{}
		}
		h := apptest.Start(t, dbURL)
		nul := h.CreateIntegration(map[string]any{"name": "nul", "kind": "custom", "delivery": map[string]any{"url": rc.URL + "/nul"}})
		throws := h.CreateIntegration(map[string]any{"name": "throws", "kind": "custom",
			"delivery": map[string]any{"url": rc.URL + "/never", "transform": `function transform(r) { console.log("x\u0000y"); throw new Error("bad\u0000byte"); }`}})

		victimToken := h.NewAdminToken("victim-nul")
		var victim apptest.Integration
		r := h.AdminAs(victimToken, "POST", "/api/integrations", map[string]any{"name": "victim", "kind": "custom", "delivery": map[string]any{"url": rc.URL + "/victim"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("victim integration: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &victim)

		const n = 6
		var nulConvs, throwConvs, victimConvs []string
		for i := range n {
			nulConvs = append(nulConvs, conversationOf(t, h, h.Token, nul, fmt.Sprint("nul-", i)))
			throwConvs = append(throwConvs, conversationOf(t, h, h.Token, throws, fmt.Sprint("throw-", i)))
			victimConvs = append(victimConvs, conversationOf(t, h, victimToken, victim, fmt.Sprint("victim-", i)))
		}
		for i := range n {
			reply(t, h, nulConvs[i], "hostile")
			reply(t, h, throwConvs[i], "hostile")
			if r := h.AdminAs(victimToken, "POST", "/api/conversations/"+victimConvs[i]+"/messages", map[string]any{"content": fmt.Sprint("v", i)}); r.Status != http.StatusCreated {
				t.Fatalf("victim reply: %d %s", r.Status, r.Body)
			}
		}

		var victimDs struct{ Deliveries []deliveryView }
		apptest.Eventually(t, 10*time.Second, func() error {
			h.AdminAs(victimToken, "GET", "/api/deliveries?limit=500&integrationId="+victim.ID, nil).JSON(t, &victimDs)
			for _, d := range victimDs.Deliveries {
				if d.Status != "succeeded" {
					return fmt.Errorf("victim delivery %s: %s %q", d.ID, d.Status, d.LastError)
				}
			}
			if len(victimDs.Deliveries) != n {
				return fmt.Errorf("victim has %d deliveries", len(victimDs.Deliveries))
			}
			for _, in := range []apptest.Integration{nul, throws} {
				for _, d := range deliveries(t, h, "integrationId="+in.ID) {
					if d.Status == "pending" {
						return fmt.Errorf("hostile delivery %s still pending (%d attempts)", d.ID, d.AttemptCount)
					}
				}
			}
			return nil
		})

		for _, d := range deliveries(t, h, "integrationId="+nul.ID) {
			full := delivery(t, h, d.ID)
			if full.Status != "succeeded" || len(full.Attempts) != 1 {
				t.Fatalf("NUL answer: %s after %d attempts", full.Status, len(full.Attempts))
			}
			if got := full.Attempts[0].ResponseExcerpt; got != `a\x00b` {
				t.Errorf("NUL answer recorded as %q, want %q", got, `a\x00b`)
			}
		}
		for _, d := range deliveries(t, h, "integrationId="+throws.ID) {
			full := delivery(t, h, d.ID)
			// One attempt; more only when a loaded machine made an attempt
			// run out of time first (a temporary failure, retried).
			if full.Status != "failed" || len(full.Attempts) < 1 {
				t.Fatalf("NUL error: %s after %d attempts", full.Status, len(full.Attempts))
			}
			a := full.Attempts[len(full.Attempts)-1]
			if !strings.Contains(a.Error, `bad\x00byte`) || !strings.Contains(full.LastError, `bad\x00byte`) || strings.Contains(a.Error+full.LastError, "\x00") {
				t.Errorf("NUL error recorded as %q, lastError %q", a.Error, full.LastError)
			}
			if len(a.Logs) == 0 || strings.Contains(strings.Join(a.Logs, ""), "\x00") {
				t.Errorf("NUL log recorded as %q", a.Logs)
			}
		}
		// Nothing was sent twice.
		seen := map[string]int{}
		for _, rq := range rc.Requests() {
			seen[rq.Path+" "+string(rq.Body)]++
		}
		for k, c := range seen {
			if c > 1 && !strings.HasPrefix(k, "/nul ") {
				t.Errorf("%s sent %d times", k, c)
			}
		}
		if got := len(rc.Requests()); got != 2*n {
			t.Errorf("receiver got %d requests, want %d", got, 2*n)
		}
	})
}
