package delivery

import (
	"context"
	"net/url"
	"os"
	"strings"
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

// BenchmarkRender is the templates alone, beside a baseline that builds
// the same URL and body by hand: a strings.Replacer and a literal nested
// map, with none of the templates' parsing, escaping or checks.
//
//	go test -run '^$' -bench Render ./core/delivery/
func BenchmarkRender(b *testing.B) {
	vars := SampleVars()
	b.Run("baseline", func(b *testing.B) {
		r := strings.NewReplacer("<<conversationId>>", url.PathEscape(vars["conversationId"]))
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Replace("https://example.com/c/<<conversationId>>")
			_ = map[string]any{"chat": map[string]any{"id": vars["chatId"], "text": vars["contact.name"] + ": " + vars["text"]}}
		}
	})
	b.Run("templates", func(b *testing.B) {
		t, err := ParseTarget([]byte(`{"url":"https://example.com/c/<<conversationId>>","body":[{"key":"chat.id","type":"variable","value":"chatId"},{"key":"chat.text","type":"text","value":"<<contact.name>>: <<text>>"}]}`), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			t.Render(vars)
		}
	})
}
