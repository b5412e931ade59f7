package adminui

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/store"
)

// The inbox's live stream: GET /conversations/live tells an open inbox,
// as Server-Sent Events, that something in the workspace's conversations
// changed (a message, a reply, a transfer, an end), and the page then
// refreshes its parts as it does on its timer. It carries no data: what
// the page shows is still read through the admin API, with the user's
// rights. Without it (no EventSource, a refused stream, a proxy that
// buffers) the page refreshes every two seconds, as before.

// Stream bounds and timings.
const (
	// uiStreamsMax bounds the inbox streams open in a process;
	// uiStreamsPerUser those of one user (each tab has one).
	uiStreamsMax     = 1000
	uiStreamsPerUser = 8
	// uiStreamGap is the least time between two events: changes that come
	// faster are told together.
	uiStreamGap = time.Second
	// uiStreamHeartbeat is how often an idle stream sends a comment, which
	// keeps proxies from closing it; the session is checked again then.
	uiStreamHeartbeat = 25 * time.Second
	// uiStreamLife closes a stream after this long; the browser opens
	// another, which checks the session anew.
	uiStreamLife = 10 * time.Minute
	// uiStreamRetry is the reconnection delay the browser is told, in ms.
	uiStreamRetry        = 3000
	uiStreamWriteTimeout = 15 * time.Second
)

// uiStreams counts the open inbox streams.
type uiStreams struct {
	mu     sync.Mutex
	total  int
	byUser map[string]int
}

// acquire takes a place for a user's stream; release gives it back.
// Refused, status says why: 429 for a user with too many, 503 for a
// process with too many.
func (l *uiStreams) acquire(user string) (release func(), status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byUser[user] >= uiStreamsPerUser {
		return nil, http.StatusTooManyRequests
	}
	if l.total >= uiStreamsMax {
		return nil, http.StatusServiceUnavailable
	}
	if l.byUser == nil {
		l.byUser = map[string]int{}
	}
	l.total++
	l.byUser[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.byUser[user]--; l.byUser[user] <= 0 {
				delete(l.byUser, user)
			}
		})
	}, http.StatusOK
}

// OpenStreams counts the inbox streams open in this process.
func (u *UI) OpenStreams() int {
	u.streams.mu.Lock()
	defer u.streams.mu.Unlock()
	return u.streams.total
}

// CloseStreams ends the inbox streams, for a shutdown: the browsers
// reconnect, to this process once it is back or to another.
func (u *UI) CloseStreams() { u.closeOnce.Do(func() { close(u.closing) }) }

// liveInbox streams a workspace's conversation changes to an inbox.
func (u *UI) liveInbox(w http.ResponseWriter, r *http.Request) {
	s, err := u.session(r)
	if errors.Is(err, store.ErrNotFound) {
		// An EventSource cannot follow a login page: say it plainly.
		http.Error(w, "log in again", http.StatusUnauthorized)
		return
	}
	if err != nil {
		u.Log.Error("inbox stream: read session", "err", err)
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	if u.Live == nil {
		http.Error(w, "no live updates here", http.StatusNotFound)
		return
	}
	release, status := u.streams.acquire(s.User.ID)
	if status != http.StatusOK {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many open inboxes", status)
		return
	}
	defer release()
	sub := u.Live.Subscribe(live.Workspace(s.User.WorkspaceID))
	defer sub.Close()

	rc := http.NewResponseController(w)
	// The server's read timeout would end the stream: the client never
	// sends another byte.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(text string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(uiStreamWriteTimeout))
		if _, err := w.Write([]byte(text)); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: " + strconv.Itoa(uiStreamRetry) + "\n\n") {
		return
	}

	ctx := r.Context()
	heartbeat := time.NewTicker(uiStreamHeartbeat)
	defer heartbeat.Stop()
	life := time.NewTimer(uiStreamLife)
	defer life.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.closing:
			return
		case <-life.C:
			return
		case <-heartbeat.C:
			if _, err := u.session(r); err != nil {
				return // logged out, or expired: the reconnection is refused
			}
			if !send(": keepalive\n\n") {
				return
			}
		case <-sub.C():
			if !send("event: change\ndata: {}\n\n") {
				return
			}
			// Changes meanwhile wait in the subscription, as one.
			gap := time.NewTimer(uiStreamGap)
			select {
			case <-ctx.Done():
				gap.Stop()
				return
			case <-u.closing:
				gap.Stop()
				return
			case <-gap.C:
			}
		}
	}
}
