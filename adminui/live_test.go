package adminui_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// The inbox's live stream, GET /conversations/live.

// loggedIn is an HTTP client with a session of the admin UI.
func loggedIn(t *testing.T, h *apptest.Hub, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", h.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.URL)
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	return c
}

// inboxStream is an open inbox stream: its lines, until it ends.
type inboxStream struct {
	lines  chan string
	cancel context.CancelFunc
}

// openInbox opens the inbox stream; the answer's status, and the stream
// when it is 200.
func openInbox(t *testing.T, c *http.Client, hubURL string) (int, *inboxStream) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", hubURL+"/conversations/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	r, err := c.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if r.StatusCode != http.StatusOK {
		r.Body.Close()
		cancel()
		return r.StatusCode, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	s := &inboxStream{lines: make(chan string, 100), cancel: cancel}
	t.Cleanup(cancel)
	go func() {
		defer close(s.lines)
		defer r.Body.Close()
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	return http.StatusOK, s
}

// next waits for the next line that is not empty, or "" when the stream ends.
func (s *inboxStream) next(t *testing.T) string {
	t.Helper()
	timeout := time.After(liveWait)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return ""
			}
			if line != "" {
				return line
			}
		case <-timeout:
			t.Fatal("nothing on the inbox stream")
		}
	}
}

// TestInboxStreamTellsOfChanges: a logged-in user's stream says when a
// conversation of the workspace changes, a contact's message or a reply;
// on PostgreSQL, also a change made on another hub process.
func TestInboxStreamTellsOfChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db string) {
		h := apptest.Start(t, db)
		other := h
		if !strings.HasPrefix(db, "sqlite") {
			other = apptest.Start(t, db)
		}
		in := h.CreateIntegration(map[string]any{"name": "Shop", "kind": "custom"})
		c := loggedIn(t, h, "a@example.com", h.NewUser("a@example.com", domain.RoleAgent))

		if st, _ := openInbox(t, http.DefaultClient, h.URL); st != http.StatusUnauthorized {
			t.Errorf("without a session: %d, want 401", st)
		}
		st, s := openInbox(t, c, h.URL)
		if st != http.StatusOK {
			t.Fatalf("open: %d", st)
		}
		if got := s.next(t); got != "retry: 3000" {
			t.Fatalf("first line %q", got)
		}
		postCustom(t, other, apptest.Integration{ID: in.ID, APIKey: in.APIKey}, "T1", "m1", "Hello", nil)
		if got := s.next(t); got != "event: change" {
			t.Fatalf("after a message: %q", got)
		}
		if got := s.next(t); got != "data: {}" {
			t.Fatalf("the event's data: %q", got)
		}
		conv := conversationOf(t, h, "T1")
		if r := other.Admin("POST", "/api/conversations/"+conv.ID+"/messages", map[string]any{"content": "Hi!"}); r.Status != http.StatusCreated {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		if got := s.next(t); got != "event: change" {
			t.Fatalf("after a reply: %q", got)
		}
	})
}

// TestInboxStreamsAreBounded: one user holds a few streams at most, and
// a shutdown ends them at once.
func TestInboxStreamsAreBounded(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	c := loggedIn(t, h, "a@example.com", h.NewUser("a@example.com", domain.RoleAgent))
	var streams []*inboxStream
	for i := range 8 {
		st, s := openInbox(t, c, h.URL)
		if st != http.StatusOK {
			t.Fatalf("stream %d: %d", i+1, st)
		}
		s.next(t)
		streams = append(streams, s)
	}
	if st, _ := openInbox(t, c, h.URL); st != http.StatusTooManyRequests {
		t.Errorf("a ninth stream: %d, want 429", st)
	}
	// Another user has streams of their own.
	other := loggedIn(t, h, "b@example.com", h.NewUser("b@example.com", domain.RoleAgent))
	if st, s := openInbox(t, other, h.URL); st != http.StatusOK {
		t.Errorf("another user's stream: %d", st)
	} else {
		streams = append(streams, s)
	}
	// A closed stream gives its place back.
	streams[0].cancel()
	for range streams[0].lines {
	}
	var st int
	for deadline := time.Now().Add(liveWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var s *inboxStream
		if st, s = openInbox(t, c, h.URL); st == http.StatusOK {
			streams[0] = s
			break
		}
	}
	if st != http.StatusOK {
		t.Errorf("after closing one: %d", st)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with inbox streams open: %v", err)
	}
	for _, s := range streams {
		for range s.lines { // ends
		}
	}
	if n := h.App.OpenInboxStreams(); n != 0 {
		t.Errorf("%d streams open after the shutdown", n)
	}
}
