package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
	"github.com/switchboardhq/switchboard/core/threads"
)

type fanoutPlanner struct{}

func (fanoutPlanner) Plan(_ context.Context, ev *domain.OutboundEvent) ([]store.NewDelivery, error) {
	return []store.NewDelivery{{TargetType: domain.TargetSubscription, SubscriptionID: "sub", EventType: "message",
		Payload: []byte(`{}`), OrderingKey: "s:sub:" + ev.Conversation.ID}}, nil
}

// BenchmarkClaim claims and completes deliveries from a backlog of 10,000
// spread over 1,000 ordered conversations, 64 at a time.
func BenchmarkClaim(b *testing.B) {
	const backlog = 20000
	for _, db := range storetest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			ctx := context.Background()
			s := openStore(b, db.URL)
			ws, _ := s.EnsureWorkspace(ctx, "w")
			in, _ := s.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "i", Kind: "custom", Status: "active"}, store.IntegrationSecrets{})
			fill := func(n int) {
				for start := 0; start < n; start += 500 {
					var items []store.IngestItem
					for i := start; i < start+500 && i < n; i++ {
						items = append(items, store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "custom", Message: &domain.InboundMessage{
							ExternalID: fmt.Sprint(time.Now().UnixNano(), "-", i), ThreadExternalID: fmt.Sprint("c", i%1000), Content: "x",
							ContentType: "text", SentAt: time.Now(), From: domain.Contact{ExternalID: fmt.Sprint("u", i%1000)}}})
					}
					if _, err := s.Ingest(ctx, items, threads.NewService(s, nil, fanoutPlanner{}).Record); err != nil {
						b.Fatal(err)
					}
				}
			}
			fill(backlog)
			b.ResetTimer()
			claimed := 0
			// Keep two batches in flight, as a worker does: claimed, not yet recorded.
			var inflight [][]store.ClaimedDelivery
			for b.Loop() {
				ds, err := s.ClaimDeliveries(ctx, "w1", 64, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				inflight = append(inflight, ds)
				if len(inflight) <= 2 {
					continue
				}
				ds, inflight = inflight[0], inflight[1:]
				if len(ds) == 0 {
					continue
				}
				outs := make([]store.AttemptOutcome, len(ds))
				for i, d := range ds {
					outs[i] = store.AttemptOutcome{Delivery: d, Attempt: domain.Attempt{N: 1, At: time.Now(), StatusCode: 200}, Status: domain.DeliverySucceeded, TargetOK: true}
				}
				if _, _, err := s.RecordAttempts(ctx, outs, 0); err != nil {
					b.Fatal(err)
				}
				claimed += len(ds)
			}
			b.ReportMetric(float64(claimed)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// TestClaimOrderAndHeads: a conversation's deliveries are claimed one at a
// time in order, other conversations alongside, and finishing one releases
// the next.
func TestClaimOrderAndHeads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openStore(t, url)
		ws, _ := s.EnsureWorkspace(ctx, "w")
		in, _ := s.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "i", Kind: "custom", Status: "active"}, store.IntegrationSecrets{})
		var items []store.IngestItem
		for i := range 3 {
			items = append(items, store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "custom", Message: &domain.InboundMessage{
				ExternalID: fmt.Sprint("m", i), ThreadExternalID: "one", Content: fmt.Sprint(i), ContentType: "text",
				SentAt: time.Now(), From: domain.Contact{ExternalID: "u"}}})
		}
		items = append(items, store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "custom", Message: &domain.InboundMessage{
			ExternalID: "other", ThreadExternalID: "two", Content: "x", ContentType: "text", SentAt: time.Now(), From: domain.Contact{ExternalID: "v"}}})
		if _, err := s.Ingest(ctx, items, threads.NewService(s, nil, fanoutPlanner{}).Record); err != nil {
			t.Fatal(err)
		}
		claim := func() []store.ClaimedDelivery {
			ds, err := s.ClaimDeliveries(ctx, "w1", 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		finish := func(ds []store.ClaimedDelivery) {
			outs := make([]store.AttemptOutcome, len(ds))
			for i, d := range ds {
				outs[i] = store.AttemptOutcome{Delivery: d, Attempt: domain.Attempt{N: 1, At: time.Now()}, Status: domain.DeliverySucceeded}
			}
			if held, _, err := s.RecordAttempts(ctx, outs, 0); err != nil || len(held) != len(ds) {
				t.Fatal(err)
			}
		}
		first := claim()
		if len(first) != 2 {
			t.Fatalf("first claim took %d, want the head of each conversation", len(first))
		}
		if more := claim(); len(more) != 0 {
			t.Fatalf("claimed %d while the heads are in flight", len(more))
		}
		finish(first)
		second := claim()
		if len(second) != 1 || second[0].ConversationID != first[0].ConversationID && second[0].ConversationID != first[1].ConversationID {
			t.Fatalf("second claim = %+v", second)
		}
		finish(second)
		third := claim()
		if len(third) != 1 {
			t.Fatalf("third claim took %d", len(third))
		}
		finish(third)
		if n, err := s.ReleaseHeads(ctx); err != nil || n != 0 {
			t.Errorf("sweep with nothing held: released %d, %v", n, err)
		}
	})
}
