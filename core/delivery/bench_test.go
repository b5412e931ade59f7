package delivery

import (
	"context"
	"os"
	"testing"

	"github.com/switchboardhq/switchboard/scripts"
)

// TestMain lets the test binary serve as a transform runner.
func TestMain(m *testing.M) {
	scripts.RunnerMain()
	os.Exit(m.Run())
}

// BenchmarkRenderAndTransform is the per-event cost of shaping a request:
// params, headers and a nested body from templates, then a transform.
func BenchmarkRenderAndTransform(b *testing.B) {
	t, err := ParseTarget([]byte(`{"method":"POST","url":"https://example.com/c/<<conversationId>>",
		"params":[{"key":"src","type":"text","value":"hub-<<channel>>"}],
		"auth":{"type":"bearer","token":"t"},
		"headers":[{"key":"X-Contact","type":"variable","value":"contact.name"}],
		"body":[{"key":"chat.id","type":"variable","value":"chatId"},{"key":"chat.text","type":"text","value":"<<contact.name>>: <<text>>"},
			{"key":"tags[]","type":"text","value":"one"},{"key":"tags[]","type":"variable","value":"channel"}],
		"transform":"function transform(request, event) { request.headers['X-Message'] = event.messageId; request.body.seen = true; return request; }"}`), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	engine := scripts.NewEngine(scripts.Options{})
	defer engine.Close()
	vars := SampleVars()
	ev := stringMapAny(vars)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res := engine.Run(ctx, t.Transform, t.Render(vars), ev)
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

// BenchmarkRender is the templates alone.
func BenchmarkRender(b *testing.B) {
	t, _ := ParseTarget([]byte(`{"url":"https://example.com/c/<<conversationId>>","body":[{"key":"chat.id","type":"variable","value":"chatId"},{"key":"chat.text","type":"text","value":"<<contact.name>>: <<text>>"}]}`), nil, nil)
	vars := SampleVars()
	b.ReportAllocs()
	for b.Loop() {
		t.Render(vars)
	}
}
