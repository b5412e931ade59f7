package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestChatIdentifiersStayOutOfLogs: the response API's path names a chat
// by its identifier, a contact's phone number or a website visitor's id,
// which is the visitor's only credential (it reads their chat). The
// access log keeps the path, so it must keep it without that segment.
func TestChatIdentifiersStayOutOfLogs(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := store.Open(ctx, storetest.SQLite(t), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := New(Deps{Store: st, AdminTokens: auth.NewAdminTokens(st, log), Log: log, Registry: prometheus.NewRegistry()})
	const visitor = "on4iRj9U2Zqmyp0TA1oYVQu9YWO4uM4whSsEJr87HmQ"
	for _, chat := range []string{visitor, "+15555550123"} {
		req := httptest.NewRequest("POST", "/integrations/live-chat/01a2272f-cf50-7000-bb27-7d2d16157f4b/chats/"+chat+"/events", strings.NewReader(`{}`))
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("response API without a token: %d %s", rec.Code, rec.Body)
		}
		if !strings.Contains(logs.String(), "/integrations/live-chat/") {
			t.Fatalf("no access log line:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), chat) {
			t.Errorf("the log holds the chat identifier %q:\n%s", chat, logs.String())
		}
	}
}
