package inbound

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"testing"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/domain"
)

// BenchmarkAPIKeyCheck is an inbound request's key check: the integration
// from the process's cache, the key from its header, and its SHA-256
// compared in constant time with the stored hash. The baseline is that
// hash and comparison alone, the least any check of a hashed key costs.
//
//	go test -run '^$' -bench APIKeyCheck ./core/inbound/
func BenchmarkAPIKeyCheck(b *testing.B) {
	key, hash := auth.NewSecret("sbk_")
	ints := auth.NewIntegrations(func(ctx context.Context, id string) (domain.IntegrationAuth, error) {
		return domain.IntegrationAuth{Integration: domain.Integration{ID: id}, APIKeyHash: []byte(hash)}, nil
	})
	h := http.Header{}
	h.Set("X-Api-Key", key)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		want := sha256.Sum256([]byte(key))
		b.ReportAllocs()
		for b.Loop() {
			got := sha256.Sum256([]byte(h.Get("X-Api-Key")))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				b.Fatal("no match")
			}
		}
	})
	b.Run("hub", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in, err := ints.Get(ctx, "integration")
			if err != nil {
				b.Fatal(err)
			}
			if msg, ok := checkAPIKey(h, in.APIKeyHash); !ok {
				b.Fatal(msg)
			}
		}
	})
}
