package delivery

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "https://example.com/next", 512, "https://example.com/next"},
		{"cut", strings.Repeat("a", 600), 512, strings.Repeat("a", 512) + "…"},
		{"cut before a split character", strings.Repeat("a", 511) + "é", 512, strings.Repeat("a", 511) + "…"},
		{"invalid UTF-8", "a\xffb", 512, "a\uFFFDb"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := clip(tt.in, tt.n); got != tt.want {
				t.Errorf("clip = %q, want %q", got, tt.want)
			}
			if got := clip(tt.in, tt.n); !utf8.ValidString(got) {
				t.Errorf("clip %q is not valid UTF-8", got)
			}
		})
	}
	if got := printable("a\tb\u0085c\x00d\ne"); got != "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe" {
		t.Errorf("printable = %q", got)
	}
}
