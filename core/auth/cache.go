package auth

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard/core/cache"
	"github.com/switchboardhq/switchboard/core/domain"
)

// AdminTokens resolves admin tokens to workspaces.
type AdminTokens struct {
	lookup func(ctx context.Context, hash string) (string, error)
	cache  *cache.TTL[string]
}

// NewAdminTokens caches lookup's answers for a few seconds.
func NewAdminTokens(lookup func(ctx context.Context, hash string) (string, error)) *AdminTokens {
	return &AdminTokens{lookup: lookup, cache: cache.NewTTL[string](5*time.Second, 10_000)}
}

// Workspace returns the workspace of a presented admin token.
func (a *AdminTokens) Workspace(ctx context.Context, token string) (string, error) {
	h := Hash(token)
	if ws, ok := a.cache.Get(h); ok {
		return ws, nil
	}
	ws, err := a.lookup(ctx, h)
	if err != nil {
		return "", err
	}
	a.cache.Put(h, ws)
	return ws, nil
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
