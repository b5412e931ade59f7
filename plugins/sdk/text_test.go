package sdk

import (
	"runtime"
	"strings"
	"testing"
)

func TestCheckJSONText(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // the error message, "" for none
	}{
		{name: "clean", body: `{"a":"x","from":{"name":"Zoë"},"list":["ok"]}`},
		{name: "escaped backslash before u0000 is not NUL", body: `{"a":"\\u0000"}`},
		{name: "raw NUL in a nested value", body: "{\"from\":{\"name\":\"a\x00b\"}}", want: "from.name: contains a NUL byte"},
		{name: "escaped NUL", body: `{"content":"a\u0000"}`, want: "content: contains a NUL byte"},
		{name: "invalid UTF-8", body: "{\"a\":\"x\",\"subject\":\"\xff\"}", want: "subject: invalid UTF-8"},
		{name: "in an array", body: "{\"list\":[\"a\",\"\xc3\"]}", want: "list[1]: invalid UTF-8"},
		{name: "in a key", body: "{\"from\":{\"na\xffme\":\"x\"}}", want: "from: a key: invalid UTF-8"},
		{name: "outside any string", body: "{\"a\":1\x00}", want: "body: contains a NUL byte"},
		{name: "after a nested object", body: "{\"from\":{\"name\":\"x\"},\"content\":\"\x00\"}", want: "content: contains a NUL byte"},
		{name: "escaped quote inside a value", body: `{"a":"say \"hi\"","b":"\u0000"}`, want: "b: contains a NUL byte"},
		{name: "surrogate pair", body: `{"a":"\ud83d\ude00","b":"\uD83D\uDE00x"}`},
		{name: "escaped backslash before ud800 is not a surrogate", body: `{"a":"\\ud800"}`},
		{name: "lone high surrogate", body: `{"name":"\ud800"}`, want: "name: invalid UTF-8"},
		{name: "high surrogate then text", body: `{"a":"x","content":"\uD800abcdef"}`, want: "content: invalid UTF-8"},
		{name: "two high surrogates", body: `{"content":"\ud800\ud800"}`, want: "content: invalid UTF-8"},
		{name: "lone low surrogate", body: `{"list":["\udc00"]}`, want: "list[0]: invalid UTF-8"},
		{name: "low then high", body: `{"content":"\udc00\ud800"}`, want: "content: invalid UTF-8"},
		{name: "high surrogate at the end", body: `{"content":"\ud800`, want: "content: invalid UTF-8"},
		{name: "surrogate in a key", body: `{"from":{"\udfff":"x"}}`, want: "from: a key: invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckJSONText([]byte(tt.body))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckJSONText(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestQuoteBounds(t *testing.T) {
	q := Quote(strings.Repeat("é", 1000))
	if len(q) > 80 || !strings.HasSuffix(q, "…") {
		t.Errorf("Quote of a long value = %q", q)
	}
	if q := Quote("noon"); q != `"noon"` {
		t.Errorf("Quote(noon) = %s", q)
	}
}

// TestCheckJSONTextDepth: a body nested deeper than any decoder accepts is
// refused at the limit, naming where, without one frame per byte of input.
func TestCheckJSONTextDepth(t *testing.T) {
	deep := []byte(strings.Repeat("[", 1<<20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := CheckJSONText(deep)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.HasPrefix(err.Error(), "body: nested too deeply") || !strings.Contains(err.Error(), "[0][0]") {
		t.Fatalf("CheckJSONText(1 MiB of [) = %v, want body: nested too deeply, naming the path", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("allocated %d bytes for a 1 MiB body", n)
	}
	ok := strings.Repeat(`{"a":`, maxJSONDepth) + `"x"` + strings.Repeat("}", maxJSONDepth)
	if err := CheckJSONText([]byte(ok)); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}
