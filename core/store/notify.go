package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// liveChannel is the PostgreSQL notification channel hub processes tell
// each other of changes on.
const liveChannel = "switchboard_live"

// LiveListenerName is the application_name of the connection a hub process
// listens for changes on, as pg_stat_activity shows it.
const LiveListenerName = "switchboard-live"

// quietCheck is how long the listener waits for a notification before it
// checks that its connection still answers.
const quietCheck = 30 * time.Second

// NotifyBus carries live changes between hub processes through PostgreSQL's
// LISTEN/NOTIFY (see core/live). Publishing goes through the pool;
// listening holds one connection of its own, outside the pool, and
// reconnects when it is lost.
type NotifyBus struct {
	s   *Store
	log *slog.Logger
}

// NotifyBus returns the bus of a PostgreSQL database, or nil on SQLite,
// which one process serves alone.
func (s *Store) NotifyBus() *NotifyBus {
	if s.dialect != "postgres" {
		return nil
	}
	return &NotifyBus{s: s, log: s.log}
}

// Publish sends a payload to every listening process. pg_notify takes
// effect when its own statement commits: call it after the change it
// announces has committed.
func (b *NotifyBus) Publish(ctx context.Context, payload string) error {
	if _, err := b.s.sql.ExecContext(ctx, `SELECT pg_notify($1, $2)`, liveChannel, payload); err != nil {
		return fmt.Errorf("store: notify: %w", err)
	}
	return nil
}

// Listen calls receive with every payload published, until ctx ends. After
// each (re)connection it calls resync: whatever was published while no
// connection listened is lost.
func (b *NotifyBus) Listen(ctx context.Context, receive func(string), resync func()) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		err := b.listen(ctx, receive, resync)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		b.log.Warn("live: listening connection lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (b *NotifyBus) listen(ctx context.Context, receive func(string), resync func()) error {
	cfg, err := pgx.ParseConfig(b.s.dsn)
	if err != nil {
		return errors.New("store: listen: the database URL cannot be parsed")
	}
	cfg.RuntimeParams["application_name"] = LiveListenerName
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("store: listen: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{liveChannel}.Sanitize()); err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	resync()
	for {
		wctx, cancel := context.WithTimeout(ctx, quietCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			receive(n.Payload)
			continue
		case ctx.Err() != nil:
			return nil
		case !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err):
			return fmt.Errorf("store: listen: %w", err)
		}
		// Quiet for a while: make sure the connection is still there, so
		// a silently dropped one is noticed and replaced.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("store: listen: ping: %w", err)
		}
	}
}
