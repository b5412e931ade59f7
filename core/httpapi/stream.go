package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// The live stream: GET {prefix}/{id}/events?visitor=KEY streams a public
// sender's conversation as Server-Sent Events. The key is the thread's
// external id, an unguessable secret the sender's browser made and holds
// (see sdk.AuthPublic): whoever presents it reads that conversation, and
// nothing else. Each message is an event whose id is the message's; a
// browser that reconnects sends the last one as Last-Event-ID and gets what
// it missed. The conversation's end is an "end" event, after which the
// stream closes.

// Stream timings and bounds.
const (
	// minPublicKey is the shortest key a public thread may be read by: 128
	// bits in base64url.
	minPublicKey = 22
	maxPublicKey = 255
	// streamHeartbeat is how often an idle stream sends a comment, which
	// keeps proxies from closing it and finds dead connections; the stream
	// also re-reads the conversation then, in case a change was missed.
	streamHeartbeat = 25 * time.Second
	// streamIdle closes a stream after this long without a message; the
	// browser reconnects if the page is still open.
	streamIdle = 30 * time.Minute
	// streamWriteTimeout bounds each write to a stream's client.
	streamWriteTimeout = 15 * time.Second
	// streamHistory is how many messages a new stream starts with.
	streamHistory = 100
	// streamPage bounds the messages read at once.
	streamPage = 200
	// streamLookback is how far back, from the newest message sent, a
	// stream keeps looking for messages: ids are made before their
	// transaction commits, so a message may become visible after a newer
	// one (another writer, another process, a slightly different clock).
	streamLookback = 30 * time.Second
	// streamRetry is the reconnection delay the browser is told, in ms.
	streamRetry = 3000
)

// streamMessage is a message as the stream shows it to the sender.
type streamMessage struct {
	ID string `json:"id"`
	// Direction is "inbound" for the sender's own messages, "outbound" for
	// the replies.
	Direction   string    `json:"direction"`
	ExternalID  string    `json:"externalId,omitempty"`
	Content     string    `json:"content"`
	ContentType string    `json:"contentType"`
	SentAt      time.Time `json:"sentAt"`
}

// stream serves a public sender's conversation as Server-Sent Events.
func (s *Server) stream(c *gin.Context, in domain.IntegrationAuth) {
	key := c.Query("visitor")
	if len(key) < minPublicKey || len(key) > maxPublicKey || sdk.CheckText("visitor", key) != nil {
		s.fail(c, errBadRequest("visitor must be the visitor's id, as the widget made it (%d to %d characters)", minPublicKey, maxPublicKey))
		return
	}
	if !s.senders.allow(clientKey(c.Request), time.Now()) {
		// Opening a stream reads the database, as posting writes it: one
		// address's requests of either kind share its bucket.
		c.Header("Retry-After", "1")
		c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "rate_limited", "message": "too many requests from this address; wait a moment"})
		return
	}
	ctx := c.Request.Context()
	conv, err := s.Store.PublicChat(ctx, in.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		// Nothing to read yet (or ever): a browser's EventSource stops on
		// 204 and the widget opens the stream again once it has written.
		c.Status(http.StatusNoContent)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	release, ok := s.streams.acquire(in.ID, clientKey(c.Request))
	if !ok {
		c.Header("Retry-After", "30")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "unavailable", "message": "too many open chats; try again later"})
		return
	}
	defer release()

	// Subscribe before the first read, so no change in between is missed.
	sub := s.Live.Subscribe(live.Conversation(conv.ID))
	defer sub.Close()

	w := c.Writer
	rc := http.NewResponseController(w)
	// The server's read timeout would otherwise end the stream: the request
	// has no body left to read, and the client never sends another byte.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)

	cs := &chatStream{s: s, conv: conv.ID, sent: map[string]struct{}{}}
	cs.drain = func(buf *bytes.Buffer) bool { return cs.flush(rc, w, buf) }
	var buf bytes.Buffer
	buf.WriteString("retry: " + strconv.Itoa(streamRetry) + "\n\n")
	if err := cs.start(ctx, &buf, lastEventID(c)); err != nil {
		s.Log.Warn("live stream: read conversation", "conversation", conv.ID, "err", err)
		return
	}
	if !cs.flush(rc, w, &buf) || cs.ended {
		return
	}

	heartbeat := time.NewTicker(streamHeartbeat)
	defer heartbeat.Stop()
	idle := time.NewTimer(streamIdle)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return // shutting down: the browser reconnects, to another process
		case <-idle.C:
			return
		case <-sub.C():
		case <-heartbeat.C:
			buf.WriteString(": keepalive\n\n")
		}
		n, err := cs.next(ctx, &buf)
		if err != nil {
			if ctx.Err() == nil {
				s.Log.Warn("live stream: read conversation", "conversation", conv.ID, "err", err)
			}
			return
		}
		if n > 0 {
			idle.Reset(streamIdle)
		}
		if !cs.flush(rc, w, &buf) || cs.ended {
			return
		}
	}
}

// lastEventID is the id of the last event a reconnecting client saw.
func lastEventID(c *gin.Context) string {
	if id := c.GetHeader("Last-Event-ID"); id != "" {
		return id
	}
	return c.Query("lastEventId")
}

// chatStream is what one stream has sent of its conversation.
type chatStream struct {
	s    *Server
	conv string
	// floor is the id after which messages are still looked for; sent holds
	// the ids after it that were sent.
	floor string
	sent  map[string]struct{}
	ended bool
	// drain sends what is buffered when a read has more pages to come;
	// false when the client is gone.
	drain func(*bytes.Buffer) bool
}

// errClientGone ends a stream whose client stopped reading.
var errClientGone = errors.New("httpapi: live stream: the client is gone")

// start writes the conversation's latest messages, or, for a client that
// reconnects, those since its last event.
func (cs *chatStream) start(ctx context.Context, buf *bytes.Buffer, last string) error {
	if t, ok := store.IDTime(last); ok {
		// Look again a little before the last event: a message may have
		// committed after it. The client ignores ids it already has.
		cs.floor = store.IDFloor(t.Add(-streamLookback))
		_, err := cs.next(ctx, buf)
		return err
	}
	msgs, err := cs.s.Store.LatestMessages(ctx, cs.conv, streamHistory)
	if err != nil {
		return err
	}
	if len(msgs) > 0 {
		cs.floor = msgs[0].ID
	}
	cs.write(buf, msgs)
	cs.advance()
	return cs.checkEnd(ctx, buf)
}

// next writes the messages not sent yet, and the end if it came; it
// reports how many messages it wrote.
func (cs *chatStream) next(ctx context.Context, buf *bytes.Buffer) (int, error) {
	total := 0
	for {
		msgs, err := cs.s.Store.MessagesAfter(ctx, cs.conv, cs.floor, streamPage)
		if err != nil {
			return total, err
		}
		total += cs.write(buf, msgs)
		if len(msgs) < streamPage {
			break
		}
		// A burst larger than a page, or a client resuming from long ago:
		// move on past it, and send this page before reading the next, so
		// a stream holds one page at a time, however long the history.
		cs.floor = msgs[len(msgs)-1].ID
		cs.advance()
		if cs.drain != nil && !cs.drain(buf) {
			return total, errClientGone
		}
	}
	cs.advance()
	return total, cs.checkEnd(ctx, buf)
}

// write adds the messages not sent yet as events.
func (cs *chatStream) write(buf *bytes.Buffer, msgs []domain.Message) int {
	n := 0
	for _, m := range msgs {
		if _, done := cs.sent[m.ID]; done {
			continue
		}
		cs.sent[m.ID] = struct{}{}
		data, err := json.Marshal(streamMessage{ID: m.ID, Direction: m.Direction, ExternalID: m.ExternalID,
			Content: m.Content, ContentType: m.ContentType, SentAt: m.SentAt})
		if err != nil {
			continue
		}
		// JSON holds no raw line breaks, so the data is one line.
		buf.WriteString("id: " + m.ID + "\nevent: message\ndata: ")
		buf.Write(data)
		buf.WriteString("\n\n")
		n++
	}
	return n
}

// advance moves the floor up to the lookback before the newest message
// sent, and forgets the ids below it, which no read returns again.
func (cs *chatStream) advance() {
	newest := ""
	for id := range cs.sent {
		newest = max(newest, id)
	}
	if t, ok := store.IDTime(newest); ok {
		cs.floor = max(cs.floor, store.IDFloor(t.Add(-streamLookback)))
	}
	for id := range cs.sent {
		if id <= cs.floor {
			delete(cs.sent, id)
		}
	}
}

// checkEnd writes the end event once the conversation has ended.
func (cs *chatStream) checkEnd(ctx context.Context, buf *bytes.Buffer) error {
	status, err := cs.s.Store.ConversationStatus(ctx, cs.conv)
	if err != nil {
		return err
	}
	if status == domain.ConversationEnded && !cs.ended {
		cs.ended = true
		buf.WriteString("event: end\ndata: {}\n\n")
	}
	return nil
}

// flush sends what is buffered; false when the client is gone.
func (cs *chatStream) flush(rc *http.ResponseController, w gin.ResponseWriter, buf *bytes.Buffer) bool {
	if buf.Len() == 0 {
		return true
	}
	_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_, err := w.Write(buf.Bytes())
	buf.Reset()
	if err != nil {
		return false
	}
	return rc.Flush() == nil
}
