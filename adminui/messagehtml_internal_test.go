package adminui

import "testing"

// TestMessageHTML: an HTML message keeps its formatting and safe links;
// anything that could run, restyle the page or reach outside is removed.
func TestMessageHTML(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"formatting stays", `<p><b>bold</b> &amp; <i>it</i></p>`, `<p><b>bold</b> &amp; <i>it</i></p>`},
		{"bare text is escaped", `a < b & "c"`, `a &lt; b &amp; &#34;c&#34;`},
		{"a script goes with its content", `<script>alert(1)</script>hello`, `hello`},
		{"a style element goes with its content", `<style>body{display:none}</style>hi`, `hi`},
		{"an image with a handler goes", `<img src=x onerror="alert(1)">hi`, `hi`},
		{"any image goes", `<img src="https://tracker.example/p.gif">`, ``},
		{"svg with onload goes", `<svg onload=alert(1)><circle r=1 /></svg>ok`, `ok`},
		{"event handlers, style, id and class go", `<p onclick="x()" style="color:red" id="reply-form" class="primary">p</p>`, `<p>p</p>`},
		{"a javascript: link loses its href", `<a href="javascript:alert(1)">x</a>`, `x`},
		{"a mixed-case javascript: link too", `<a href=" JaVaScRiPt:alert(1)">x</a>`, `x`},
		{"a data: link too", `<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">d</a>`, `d`},
		{"a relative link into the hub goes", `<a href="/logout">out</a>`, `out`},
		{"an outside link opens apart, without referrer or opener",
			`<a href="https://example.com/a?b=1&c=2" target="_self" rel="opener">l</a>`,
			`<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noreferrer noopener" target="_blank">l</a>`},
		{"a mailto link stays", `<a href="mailto:jane@example.com">mail</a>`, `<a href="mailto:jane@example.com" rel="nofollow noreferrer">mail</a>`},
		{"frames go with their content", `<iframe src="https://evil.example/"></iframe>`, ``},
		{"forms are flattened to text", `<form action="/integrations"><input name="a"><button>go</button></form>`, `go`},
		{"an unclosed tag cannot swallow the page", `<b>open <div`, `<b>open `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(messageHTML(tc.in)); got != tc.want {
				t.Errorf("messageHTML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
