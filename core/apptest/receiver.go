package apptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Received is one request a Receiver got.
type Received struct {
	Method string
	Path   string
	Query  map[string][]string
	Header http.Header
	Body   []byte
	At     time.Time
}

// Reply is how a Receiver answers; the zero value is 200 with no body.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Receiver is a customer endpoint on loopback that records what it gets and
// answers as its Respond function says.
type Receiver struct {
	URL string
	mu  sync.Mutex
	got []Received
	// Respond chooses the answer to the nth request (from 1).
	Respond func(n int, r *Received) Reply
	srv     *httptest.Server
	signal  chan struct{}
}

// NewReceiver starts a receiver, closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	rc := &Receiver{signal: make(chan struct{}, 1)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := Received{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, At: time.Now()}
		rc.mu.Lock()
		rc.got = append(rc.got, rec)
		n := len(rc.got)
		respond := rc.Respond
		rc.mu.Unlock()
		reply := Reply{Status: 200}
		if respond != nil {
			reply = respond(n, &rec)
			if reply.Status == 0 {
				reply.Status = 200
			}
		}
		for k, v := range reply.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(reply.Status)
		io.WriteString(w, reply.Body)
		select {
		case rc.signal <- struct{}{}:
		default:
		}
	}))
	rc.URL = rc.srv.URL
	t.Cleanup(rc.srv.Close)
	return rc
}

// Requests returns what was received so far.
func (rc *Receiver) Requests() []Received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Received(nil), rc.got...)
}

// WaitFor waits until at least n requests arrived and returns them.
func (rc *Receiver) WaitFor(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := rc.Requests(); len(got) >= n {
			return got
		}
		select {
		case <-rc.signal:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("receiver got %d requests, want %d, within %s", len(rc.Requests()), n, timeout)
		}
	}
}
