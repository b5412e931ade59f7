package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v3"
)

// benchForwardHeader tells a bare server where to relay a body after
// answering it, for the end-to-end ceiling: the bench's own receiver.
const benchForwardHeader = "X-Bench-Forward"

// benchBareServerCommand is the ceiling `switchboard bench --bare` measures:
// a bare net/http server in a process of its own, as a hub is, that reads
// each body and answers 200. Told to, it relays each body afterwards to the
// bench's receiver, as a hub with a subscription would, but with nothing
// stored on the way.
func benchBareServerCommand() *cli.Command {
	return &cli.Command{
		Name:   "bench-bare-server",
		Usage:  "a bare HTTP server that answers every POST 200, the ceiling beside a hub for switchboard bench --bare",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Usage: "where to listen", Value: "127.0.0.1:0"},
			&cli.IntFlag{Name: "forwarders", Usage: "relays in flight at once, as a hub's delivery workers", Value: 64},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			ln, err := net.Listen("tcp", cmd.String("addr"))
			if err != nil {
				return fmt.Errorf("bench-bare-server: listen: %w", err)
			}
			// Relays queued at shutdown still go out: the bench waits for them.
			s := newBareServer(context.WithoutCancel(ctx), slog.New(slog.NewTextHandler(os.Stderr, nil)), max(1, cmd.Int("forwarders")))
			srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(os.Stdout, "http://%s\n", ln.Addr())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return fmt.Errorf("bench-bare-server: serve: %w", err)
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = srv.Shutdown(sctx)
			s.close()
			if dropped := s.dropped.Load(); dropped > 0 {
				s.log.Warn("bench-bare-server: relays dropped, the queue was full", "dropped", dropped)
			}
			return err
		},
	}
}

// maxBareBody bounds what the bare server reads of a body, as a hub does.
const maxBareBody = 1 << 20

// bareServer answers every request 200 and relays bodies it is asked to.
type bareServer struct {
	ctx     context.Context
	log     *slog.Logger
	client  *http.Client
	queue   chan relay
	wg      sync.WaitGroup
	dropped atomic.Int64
	// allowed is the last forward URL found to be on loopback: the bench
	// sends the same one with every request.
	allowed atomic.Pointer[string]
}

type relay struct {
	to   string
	body []byte
}

func newBareServer(ctx context.Context, log *slog.Logger, forwarders int) *bareServer {
	s := &bareServer{
		ctx:   ctx,
		log:   log,
		queue: make(chan relay, 1<<16),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: forwarders, MaxConnsPerHost: forwarders,
		}},
	}
	for range forwarders {
		s.wg.Add(1)
		go s.forward()
	}
	return s
}

func (s *bareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBareBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	to := r.Header.Get(benchForwardHeader)
	if to != "" && !s.loopback(to) {
		http.Error(w, benchForwardHeader+" must be a loopback http URL", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "4")
	io.WriteString(w, `"ok"`)
	if to == "" {
		return
	}
	// The answer goes out before the relay is queued, as a hub answers
	// before it delivers.
	http.NewResponseController(w).Flush()
	select {
	case s.queue <- relay{to: to, body: body}:
	default:
		s.dropped.Add(1)
	}
}

// loopback reports whether raw is an http URL on a loopback address: the
// bare server relays to the bench on the same machine and nowhere else.
func (s *bareServer) loopback(raw string) bool {
	if p := s.allowed.Load(); p != nil && *p == raw {
		return true
	}
	if !isLoopbackURL(raw) {
		return false
	}
	s.allowed.Store(&raw)
	return true
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// forward relays queued bodies in the shape the bench's receiver reads (a
// legacy message event's messageExternalId), one at a time, until close.
func (s *bareServer) forward() {
	defer s.wg.Done()
	var buf bytes.Buffer
	for r := range s.queue {
		var msg struct {
			MessageID string `json:"messageId"`
		}
		if err := json.Unmarshal(r.body, &msg); err != nil || msg.MessageID == "" {
			s.log.Debug("bench-bare-server: a body without messageId is not relayed")
			continue
		}
		buf.Reset()
		json.NewEncoder(&buf).Encode(map[string]string{"eventType": "message", "messageExternalId": msg.MessageID})
		if err := s.post(r.to, buf.Bytes()); err != nil {
			s.log.Warn("bench-bare-server: relay", "err", err)
		}
	}
}

func (s *bareServer) post(to string, body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, "POST", to, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bench-bare-server: relay: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("bench-bare-server: relay: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return errors.New("bench-bare-server: relay: HTTP " + resp.Status)
	}
	return nil
}

// close stops taking relays and waits for those queued.
func (s *bareServer) close() {
	close(s.queue)
	s.wg.Wait()
}
