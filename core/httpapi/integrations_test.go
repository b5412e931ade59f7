package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestAdminAuth(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"not bearer", map[string]string{"Authorization": h.Token}, http.StatusUnauthorized},
		{"unknown token", map[string]string{"Authorization": "Bearer sba_nope"}, http.StatusUnauthorized},
		{"API key instead", map[string]string{"Authorization": "Bearer sbk_x"}, http.StatusUnauthorized},
		{"valid", map[string]string{"Authorization": "Bearer " + h.Token}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.Do("GET", "/api/integrations", tt.header, nil)
			if r.Status != tt.want {
				t.Fatalf("status = %d, want %d (%s)", r.Status, tt.want, r.Body)
			}
			if tt.want == http.StatusUnauthorized {
				m := r.Map(t)
				if m["error"] != "unauthorized" || m["message"] == "" {
					t.Errorf("error body = %s", r.Body)
				}
			}
		})
	}
}

func TestWorkspaceIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		in := h.CreateIntegration(map[string]any{"name": "mine", "kind": "custom"})
		h.PostCustom(in.ID, in.APIKey, seedExample)
		var convs struct{ Conversations []struct{ ID string } }
		h.Admin("GET", "/api/conversations", nil).JSON(t, &convs)
		if len(convs.Conversations) != 1 {
			t.Fatalf("own conversations: %d", len(convs.Conversations))
		}
		conv := convs.Conversations[0].ID

		other := h.NewAdminToken("other-workspace")
		for _, req := range []struct{ method, path string }{
			{"GET", "/api/integrations/" + in.ID},
			{"PATCH", "/api/integrations/" + in.ID},
			{"DELETE", "/api/integrations/" + in.ID},
			{"GET", "/api/integrations/" + in.ID + "/events"},
			{"POST", "/api/integrations/" + in.ID + "/regenerate-key"},
			{"GET", "/api/integrations/" + in.ID + "/signing-secret"},
			{"POST", "/api/integrations/" + in.ID + "/stop"},
			{"GET", "/api/conversations/" + conv + "/messages"},
			{"POST", "/api/conversations/" + conv + "/messages"},
		} {
			var body any
			if req.method == "PATCH" {
				body = map[string]any{"name": "stolen"}
			}
			if strings.HasSuffix(req.path, "/messages") && req.method == "POST" {
				body = map[string]any{"content": "hi"}
			}
			r := h.AdminAs(other, req.method, req.path, body)
			missing := h.AdminAs(other, req.method, strings.Replace(req.path, in.ID, "01a1fe7b-0000-7000-8000-000000000000", 1), body)
			if r.Status != http.StatusNotFound || missing.Status != http.StatusNotFound {
				t.Errorf("%s %s from another workspace: %d (missing object: %d), want 404", req.method, req.path, r.Status, missing.Status)
			}
		}
		var list struct{ Integrations []any }
		h.AdminAs(other, "GET", "/api/integrations", nil).JSON(t, &list)
		h.AdminAs(other, "GET", "/api/conversations", nil).JSON(t, &convs)
		if len(list.Integrations) != 0 || len(convs.Conversations) != 0 {
			t.Errorf("another workspace sees %d integrations, %d conversations", len(list.Integrations), len(convs.Conversations))
		}
		// Nothing was changed by the attempts.
		if r := h.Admin("GET", "/api/integrations/"+in.ID, nil); r.Map(t)["name"] != "mine" || r.Map(t)["status"] != "active" {
			t.Errorf("integration changed by another workspace: %s", r.Body)
		}
	})
}

func TestIntegrationValidation(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t), apptest.WithoutPrivateTargets())
	tests := []struct {
		name      string
		body      string
		want      int
		wantInMsg string
	}{
		{"empty body", ``, 400, "empty"},
		{"not JSON", `{`, 400, "JSON"},
		{"unknown field", `{"name":"a","kind":"custom","colour":"blue"}`, 400, "colour"},
		{"wrong type", `{"name":5,"kind":"custom"}`, 400, "name"},
		{"missing name", `{"kind":"custom"}`, 422, "name"},
		{"missing kind", `{"name":"a"}`, 422, "kind"},
		{"unknown kind", `{"name":"a","kind":"telegraph"}`, 422, "telegraph"},
		{"relative outboundUrl", `{"name":"a","kind":"custom","outboundUrl":"/x"}`, 422, "outboundUrl"},
		{"private outboundUrl", `{"name":"a","kind":"custom","outboundUrl":"https://127.0.0.1/x"}`, 422, "outboundUrl"},
		{"plain http outboundUrl", `{"name":"a","kind":"custom","outboundUrl":"http://example.com/x"}`, 422, "https"},
		{"valid", `{"name":"a","kind":"custom","outboundUrl":"https://example.com/hook"}`, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.Admin("POST", "/api/integrations", tt.body)
			if r.Status != tt.want {
				t.Fatalf("status = %d, want %d: %s", r.Status, tt.want, r.Body)
			}
			if tt.wantInMsg != "" {
				m := r.Map(t)
				if msg, _ := m["message"].(string); !strings.Contains(msg, tt.wantInMsg) || m["error"] == "" {
					t.Errorf("error = %s, want a message naming %q", r.Body, tt.wantInMsg)
				}
			}
		})
	}
}

func TestIntegrationLifecycleAndPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		var ids []string
		for i := range 5 {
			ids = append(ids, h.CreateIntegration(map[string]any{"name": fmt.Sprintf("i%d", i), "kind": "custom"}).ID)
		}
		var seen []string
		cursor := ""
		for {
			var page struct {
				Integrations []struct{ ID string }
				NextCursor   string
			}
			h.Admin("GET", "/api/integrations?limit=2&cursor="+cursor, nil).JSON(t, &page)
			for _, in := range page.Integrations {
				seen = append(seen, in.ID)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		if len(seen) != 5 || seen[0] != ids[4] || seen[4] != ids[0] {
			t.Errorf("paged %v, want newest first %v", seen, ids)
		}
		if r := h.Admin("GET", "/api/integrations?limit=501", nil); r.Status != http.StatusOK || len(r.Map(t)["integrations"].([]any)) != 5 {
			t.Errorf("limit 501 is read as 500: %d %s", r.Status, r.Body)
		}
		for _, bad := range []string{"0", "-1", "ten"} {
			if r := h.Admin("GET", "/api/integrations?limit="+bad, nil); r.Status != http.StatusBadRequest {
				t.Errorf("limit %s: %d", bad, r.Status)
			}
		}

		r := h.Admin("PATCH", "/api/integrations/"+ids[0], map[string]any{"name": "renamed", "outboundUrl": "http://127.0.0.1:9/x"})
		if r.Status != http.StatusOK || r.Map(t)["name"] != "renamed" || r.Map(t)["outboundUrl"] != "http://127.0.0.1:9/x" {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		sec := h.Admin("GET", "/api/integrations/"+ids[0]+"/signing-secret", nil).Map(t)["secret"].(string)
		rot := h.Admin("POST", "/api/integrations/"+ids[0]+"/signing-secret/rotate", nil).Map(t)["secret"].(string)
		if !strings.HasPrefix(sec, "whsec_") || !strings.HasPrefix(rot, "whsec_") || sec == rot {
			t.Errorf("signing secrets %q then %q", sec, rot)
		}
		if got := h.Admin("GET", "/api/integrations/"+ids[0]+"/signing-secret", nil).Map(t)["secret"]; got != rot {
			t.Errorf("after rotation secret = %v, want the new one", got)
		}
		tok := h.Admin("POST", "/api/integrations/"+ids[0]+"/regenerate-response-token", nil).Map(t)["responseToken"].(string)
		if !strings.HasPrefix(tok, "sbr_") {
			t.Errorf("response token %q", tok)
		}
		if r := h.Admin("DELETE", "/api/integrations/"+ids[0], nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("GET", "/api/integrations/"+ids[0], nil); r.Status != http.StatusNotFound {
			t.Errorf("deleted integration: %d", r.Status)
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		r := h.Do("GET", path, nil, nil)
		if r.Status != 200 || r.Map(t)["status"] != want {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	in := h.CreateIntegration(map[string]any{"name": "m", "kind": "custom"})
	h.PostCustom(in.ID, in.APIKey, seedExample)
	r := h.Do("GET", "/metrics", nil, nil)
	for _, want := range []string{`switchboard_inbound_requests_total{kind="custom",status="ok"} 1`, "switchboard_ingest_batch_size_bucket", "switchboard_http_request_duration_seconds"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
