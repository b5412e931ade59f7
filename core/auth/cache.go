package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core/cache"
	"github.com/switchboardhq/switchboard/core/domain"
)

// AdminTokenStore is what AdminTokens needs of the store.
type AdminTokenStore interface {
	AdminTokenByHash(ctx context.Context, hash string) (domain.AdminToken, error)
	TouchAdminToken(ctx context.Context, id string, at time.Time) error
}

// AdminTokenCacheTTL is how long a token revoked by another process sharing
// the database may go on working here. A token revoked through this
// process's API stops at once.
const AdminTokenCacheTTL = 5 * time.Second

// AdminTokenUseInterval is how often, at most, a token's last use is written:
// a write per request would cost more than the answer is worth.
const AdminTokenUseInterval = time.Minute

// AdminTokens resolves admin tokens to workspaces and records their use.
type AdminTokens struct {
	store AdminTokenStore
	log   *slog.Logger
	cache *cache.TTL[domain.AdminToken]

	mu sync.Mutex
	// gen counts revocations: a lookup that overlapped one is not cached.
	gen uint64
	// used holds when each token's use was last written, by token id.
	used map[string]time.Time
}

// NewAdminTokens caches the store's answers for AdminTokenCacheTTL.
func NewAdminTokens(st AdminTokenStore, log *slog.Logger) *AdminTokens {
	return &AdminTokens{store: st, log: log, cache: cache.NewTTL[domain.AdminToken](AdminTokenCacheTTL, 10_000), used: map[string]time.Time{}}
}

// Workspace returns the workspace of a presented admin token.
func (a *AdminTokens) Workspace(ctx context.Context, token string) (string, error) {
	h := Hash(token)
	tok, ok := a.cache.Get(h)
	if !ok {
		a.mu.Lock()
		gen := a.gen
		a.mu.Unlock()
		var err error
		if tok, err = a.store.AdminTokenByHash(ctx, h); err != nil {
			return "", err
		}
		a.mu.Lock()
		if a.gen == gen {
			a.cache.Put(h, tok)
		}
		a.mu.Unlock()
	}
	a.recordUse(ctx, tok)
	return tok.WorkspaceID, nil
}

// recordUse writes a token's last use unless it was written less than
// AdminTokenUseInterval ago, by this process or (as the row says) another.
func (a *AdminTokens) recordUse(ctx context.Context, tok domain.AdminToken) {
	now := time.Now()
	a.mu.Lock()
	last, ok := a.used[tok.ID]
	if !ok && tok.LastUsedAt != nil {
		last, ok = *tok.LastUsedAt, true
	}
	due := !ok || now.Sub(last) >= AdminTokenUseInterval
	if due {
		a.used[tok.ID] = now
	}
	a.mu.Unlock()
	if !due {
		return
	}
	if err := a.store.TouchAdminToken(ctx, tok.ID, now); err != nil {
		a.log.Warn("admin token: record use", "token_id", tok.ID, "err", err)
		a.mu.Lock()
		delete(a.used, tok.ID) // the next request tries again
		a.mu.Unlock()
	}
}

// Revoked is told that a token was revoked through this process: every
// cached token is dropped, so the revoked one answers 401 from the next request.
func (a *AdminTokens) Revoked(id string) {
	a.mu.Lock()
	a.gen++
	a.cache.Clear()
	delete(a.used, id)
	a.mu.Unlock()
}

// Integrations caches integrations with their key hashes for inbound traffic.
// A change made through this process drops its entry at once; one made by
// another process sharing the database is seen within the TTL.
type Integrations struct {
	lookup func(ctx context.Context, id string) (domain.IntegrationAuth, error)
	cache  *cache.TTL[domain.IntegrationAuth]
}

// IntegrationCacheTTL is how long another process's key change may take to be seen.
const IntegrationCacheTTL = time.Second

// NewIntegrations wraps lookup with a cache.
func NewIntegrations(lookup func(ctx context.Context, id string) (domain.IntegrationAuth, error)) *Integrations {
	return &Integrations{lookup: lookup, cache: cache.NewTTL[domain.IntegrationAuth](IntegrationCacheTTL, 100_000)}
}

// Get returns an integration by id.
func (i *Integrations) Get(ctx context.Context, id string) (domain.IntegrationAuth, error) {
	if in, ok := i.cache.Get(id); ok {
		return in, nil
	}
	in, err := i.lookup(ctx, id)
	if err != nil {
		return in, err
	}
	i.cache.Put(id, in)
	return in, nil
}

// Forget drops an integration after it changed.
func (i *Integrations) Forget(id string) { i.cache.Drop(id) }
