package core_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

type connState struct {
	Code, Channel, Sender, Status, Error string
}

type integrationView struct {
	ID, Status  string
	Connections []connState
}

func smsConnection(t *testing.T, h *apptest.Hub, code, sender string) {
	t.Helper()
	r := h.Admin("POST", "/api/connections", map[string]any{
		"code": code, "channel": "SMS", "sender": sender,
		"provider": map[string]any{"accountSid": "AC" + strings.Repeat("1", 32), "authToken": "token-" + code},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("connection %s: %d %s", code, r.Status, r.Body)
	}
}

func stateOf(v integrationView, code string) connState {
	for _, c := range v.Connections {
		if c.Code == code {
			return c
		}
	}
	return connState{}
}

// TestActivation: starting evaluates each connection on its own. All,
// some or none may activate; a sender held by another active integration,
// used by a live campaign or answered by an active auto-reply is refused
// with its reason; stop releases the senders.
func TestActivation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		for code, sender := range map[string]string{
			"sms-a": "15550000001", "sms-b": "15550000002", "sms-c": "15550000003",
			"sms-d": "15550000004", "sms-e": "15550000005", "sms-a2": "15550000001",
		} {
			smsConnection(t, h, code, sender)
		}
		start := func(id string) (*apptest.Response, integrationView) {
			r := h.Admin("POST", "/api/integrations/"+id+"/start", nil)
			var v integrationView
			r.JSON(t, &v)
			return r, v
		}
		get := func(id string) integrationView {
			var v integrationView
			h.Admin("GET", "/api/integrations/"+id, nil).JSON(t, &v)
			return v
		}

		// Full success.
		x := h.CreateIntegration(map[string]any{"name": "x", "kind": "custom", "connections": []string{"sms-a", "sms-b"}})
		if r, v := start(x.ID); r.Status != http.StatusOK || v.Status != "active" ||
			stateOf(v, "sms-a").Status != "active" || stateOf(v, "sms-b").Status != "active" {
			t.Fatalf("full start: %d %s", r.Status, r.Body)
		}

		// Adding a connection whose sender is taken never fails; starting
		// activates what it can.
		y := h.CreateIntegration(map[string]any{"name": "y", "kind": "custom", "connections": []string{"sms-a2", "sms-c"}})
		r, v := start(y.ID)
		if r.Status != http.StatusOK || v.Status != "active" {
			t.Fatalf("partial start: %d %s", r.Status, r.Body)
		}
		if st := stateOf(v, "sms-a2"); st.Status != "inactive" || !strings.Contains(st.Error, "already active on integration") {
			t.Errorf("sms-a2 (sender held by x): %+v", st)
		}
		if st := stateOf(v, "sms-c"); st.Status != "active" || st.Error != "" {
			t.Errorf("sms-c: %+v", st)
		}
		if kept := get(y.ID); stateOf(kept, "sms-a2").Error == "" || stateOf(kept, "sms-c").Status != "active" {
			t.Errorf("the states are not kept for later reads: %+v", kept)
		}

		// Live campaign and active auto-reply conflicts; none activated: 409.
		camp := h.Admin("POST", "/api/campaigns", map[string]any{"name": "spring keywords", "type": "keyword", "senders": []string{"15550000004"}})
		if camp.Status != http.StatusCreated {
			t.Fatalf("campaign: %d %s", camp.Status, camp.Body)
		}
		if r := h.Admin("POST", "/api/campaigns/"+camp.Map(t)["id"].(string)+"/live", nil); r.Status != http.StatusOK {
			t.Fatalf("campaign live: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/auto-replies", map[string]any{"connection": "sms-e", "message": "We are closed", "active": true}); r.Status != http.StatusCreated {
			t.Fatalf("auto-reply: %d %s", r.Status, r.Body)
		}
		z := h.CreateIntegration(map[string]any{"name": "z", "kind": "custom", "connections": []string{"sms-a", "sms-d", "sms-e"}})
		r, _ = start(z.ID)
		if r.Status != http.StatusConflict {
			t.Fatalf("start with no connection activatable: %d %s, want 409", r.Status, r.Body)
		}
		var conflict struct {
			Error, Message string
			Connections    []connState
		}
		r.JSON(t, &conflict)
		v = integrationView{Connections: conflict.Connections}
		for code, reason := range map[string]string{
			"sms-a": "already active on integration",
			"sms-d": `live keyword campaign "spring keywords"`,
			"sms-e": "active auto-reply",
		} {
			if st := stateOf(v, code); st.Status != "inactive" || !strings.Contains(st.Error, reason) {
				t.Errorf("%s: %+v, want inactive with %q", code, st, reason)
			}
		}
		if conflict.Error != "conflict" || conflict.Message == "" {
			t.Errorf("409 body: %s", r.Body)
		}
		if got := get(z.ID); got.Status != "inactive" {
			t.Errorf("z after a failed start is %s, want inactive", got.Status)
		}

		// Stop releases the senders: z can take sms-a now.
		if r := h.Admin("POST", "/api/integrations/"+x.ID+"/stop", nil); r.Status != http.StatusOK || r.Map(t)["status"] != "inactive" {
			t.Fatalf("stop x: %d %s", r.Status, r.Body)
		}
		r, v = start(z.ID)
		if r.Status != http.StatusOK || stateOf(v, "sms-a").Status != "active" || stateOf(v, "sms-d").Status != "inactive" {
			t.Errorf("z after x stopped: %d %s", r.Status, r.Body)
		}
		// A connection in use cannot be deleted; a free one can.
		conns := map[string]string{}
		var list struct{ Connections []struct{ ID, Code string } }
		h.Admin("GET", "/api/connections", nil).JSON(t, &list)
		for _, c := range list.Connections {
			conns[c.Code] = c.ID
		}
		if r := h.Admin("DELETE", "/api/connections/"+conns["sms-a"], nil); r.Status != http.StatusConflict {
			t.Errorf("delete an active connection: %d %s, want 409", r.Status, r.Body)
		}
		// Another workspace learns nothing of it: 404, as for a missing one.
		other := h.NewAdminToken("other")
		if r := h.AdminAs(other, "DELETE", "/api/connections/"+conns["sms-a"], nil); r.Status != http.StatusNotFound {
			t.Errorf("another workspace deleting an active connection: %d %s, want 404", r.Status, r.Body)
		}
		if r := h.Admin("DELETE", "/api/connections/"+conns["sms-b"], nil); r.Status != http.StatusNoContent {
			t.Errorf("delete a free connection: %d %s", r.Status, r.Body)
		}
		// x lists the deleted sms-b: starting it says so.
		r, v = start(x.ID)
		if st := stateOf(v, "sms-b"); st.Status != "inactive" || !strings.Contains(st.Error, "no connection") {
			t.Errorf("a deleted connection on start: %d %+v", r.Status, st)
		}
	})
}

// TestCampaignStopGuard: a chatbot campaign links an active integration
// without connections; while it is live the integration cannot be stopped.
func TestCampaignStopGuard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		smsConnection(t, h, "sms-a", "15550000001")
		bot := h.CreateIntegration(map[string]any{"name": "bot backend", "kind": "custom"})
		if bot.Status != "active" {
			t.Fatalf("an integration without connections is %s, want active", bot.Status)
		}
		withConns := h.CreateIntegration(map[string]any{"name": "with conns", "kind": "custom", "connections": []string{"sms-a"}})
		if r := h.Admin("POST", "/api/campaigns", map[string]any{"name": "nope", "type": "chatbot", "integrationId": withConns.ID}); r.Status != http.StatusConflict {
			t.Errorf("chatbot campaign on an integration with connections: %d %s, want 409", r.Status, r.Body)
		}

		camp := h.Admin("POST", "/api/campaigns", map[string]any{"name": "Support bot", "type": "chatbot", "integrationId": bot.ID})
		if camp.Status != http.StatusCreated {
			t.Fatalf("campaign: %d %s", camp.Status, camp.Body)
		}
		id := camp.Map(t)["id"].(string)
		var list struct {
			Campaigns []struct {
				ID, Name     string
				IntegratedAt *string
			}
		}
		h.Admin("GET", "/api/integrations/"+bot.ID+"/campaigns", nil).JSON(t, &list)
		if len(list.Campaigns) != 1 || list.Campaigns[0].IntegratedAt != nil {
			t.Errorf("before going live: %+v", list)
		}
		// A draft campaign does not hold the integration.
		if r := h.Admin("POST", "/api/integrations/"+bot.ID+"/stop", nil); r.Status != http.StatusOK {
			t.Fatalf("stop with a draft campaign: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/campaigns/"+id+"/live", nil); r.Status != http.StatusConflict {
			t.Errorf("live on an inactive integration: %d %s, want 409", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/integrations/"+bot.ID+"/start", nil); r.Status != http.StatusOK {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/campaigns/"+id+"/live", nil); r.Status != http.StatusOK || r.Map(t)["status"] != "live" {
			t.Fatalf("live: %d %s", r.Status, r.Body)
		}
		h.Admin("GET", "/api/integrations/"+bot.ID+"/campaigns", nil).JSON(t, &list)
		if len(list.Campaigns) != 1 || list.Campaigns[0].Name != "Support bot" || list.Campaigns[0].IntegratedAt == nil {
			t.Errorf("campaigns of the integration: %+v", list)
		}
		r := h.Admin("POST", "/api/integrations/"+bot.ID+"/stop", nil)
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "Support bot") {
			t.Errorf("stop with a live campaign: %d %s, want 409 naming it", r.Status, r.Body)
		}
		if r := h.Admin("DELETE", "/api/integrations/"+bot.ID, nil); r.Status != http.StatusConflict {
			t.Errorf("delete with a live campaign: %d %s, want 409", r.Status, r.Body)
		}
		if r := h.Admin("PATCH", "/api/integrations/"+bot.ID, map[string]any{"connections": []string{"sms-a"}}); r.Status != http.StatusConflict {
			t.Errorf("adding connections under a live chatbot campaign: %d %s, want 409", r.Status, r.Body)
		}
		if v := h.Admin("GET", "/api/integrations/"+bot.ID, nil).Map(t); v["status"] != "active" {
			t.Errorf("after a refused stop: %v", v["status"])
		}
		if r := h.Admin("POST", "/api/campaigns/"+id+"/pause", nil); r.Status != http.StatusOK || r.Map(t)["status"] != "paused" {
			t.Fatalf("pause: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("POST", "/api/integrations/"+bot.ID+"/stop", nil); r.Status != http.StatusOK {
			t.Errorf("stop after the pause: %d %s", r.Status, r.Body)
		}
	})
}
