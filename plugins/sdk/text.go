package sdk

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Text problems no database stores faithfully: PostgreSQL refuses NUL bytes
// in text, and invalid UTF-8 is either refused or silently replaced.
const (
	problemNUL     = "contains a NUL byte"
	problemInvalid = "invalid UTF-8"
)

// CheckText refuses a field holding a NUL byte or invalid UTF-8, naming it:
// "from.name: contains a NUL byte".
func CheckText(field, v string) error {
	if p := textProblem(v); p != "" {
		return InvalidField(field, "%s: %s", field, p)
	}
	return nil
}

func textProblem(v string) string {
	if strings.IndexByte(v, 0) >= 0 {
		return problemNUL
	}
	if !utf8.ValidString(v) {
		return problemInvalid
	}
	return ""
}

// CheckJSONText scans a JSON body, before it is decoded, for NUL bytes (raw
// or written as \u0000) and invalid UTF-8 (raw, or written as an unpaired
// surrogate escape such as \ud800), which decoding would otherwise
// pass on or silently replace, and refuses the first one naming the field
// it is in (from.name, items[2], or body when it is outside any field). The
// scan is tolerant: it only locates text problems and leaves the syntax to
// the decoder.
func CheckJSONText(body []byte) error {
	var stack []jsonFrame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if f.expectKey {
				break
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		var top *jsonFrame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch {
		case (c == '{' || c == '[') && len(stack) >= maxJSONDepth:
			return InvalidField("body", "body: nested too deeply (more than %d levels) at %s", maxJSONDepth, clipPath(path()))
		case c == '{':
			stack = append(stack, jsonFrame{expectKey: true})
		case c == '[':
			stack = append(stack, jsonFrame{array: true})
		case c == '}' || c == ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case c == ',' && top != nil:
			if top.array {
				top.index++
			} else {
				top.expectKey = true
			}
		case c == ':' && top != nil && !top.array:
			top.expectKey = false
		case c == '"':
			s, end, problem := scanJSONString(body, i+1)
			if problem != "" {
				field := path()
				if top != nil && !top.array && top.expectKey {
					return InvalidField(field, "%s: a key: %s", field, problem)
				}
				return InvalidField(field, "%s: %s", field, problem)
			}
			if top != nil && !top.array && top.expectKey {
				top.key = fieldName(s)
			}
			i = end
		case c == 0:
			return InvalidField("body", "body: %s", problemNUL)
		case c >= utf8.RuneSelf:
			return InvalidField("body", "body: %s", problemInvalid)
		}
	}
	return nil
}

// maxJSONDepth bounds the nesting CheckJSONText follows, one frame per
// level: well above what the JSON decoders accept, so no body they would
// take is refused here, and far below one frame per byte of a hostile body.
const maxJSONDepth = 1000

// clipPath shortens a deep path for an error message.
func clipPath(p string) string {
	const n = 64
	if len(p) <= n {
		return p
	}
	return p[:n] + "…"
}

type jsonFrame struct {
	array     bool
	index     int
	key       string
	expectKey bool
}

// scanJSONString reads the string starting at body[start] (just after its
// opening quote). It returns the raw text, the index of the closing quote
// (or the end of the body) and the first text problem in it.
func scanJSONString(body []byte, start int) (string, int, string) {
	for i := start; i < len(body); {
		c := body[i]
		switch {
		case c == '"':
			return string(body[start:i]), i, ""
		case c == '\\':
			if i+5 < len(body) && body[i+1] == 'u' && string(body[i+2:i+6]) == "0000" {
				return "", i, problemNUL
			}
			// A surrogate escape must be a high one followed by a low one;
			// alone, the decoder would replace it with U+FFFD.
			if r, ok := hexEscape(body, i); ok && utf16.IsSurrogate(r) {
				if low, ok := hexEscape(body, i+6); r < 0xdc00 && ok && low >= 0xdc00 && low <= 0xdfff {
					i += 12
					continue
				}
				return "", i, problemInvalid
			}
			i += 2
		case c == 0:
			return "", i, problemNUL
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", i, problemInvalid
			}
			i += size
		}
	}
	return string(body[start:]), len(body), ""
}

// hexEscape reads the \uXXXX escape at body[i], if there is one.
func hexEscape(body []byte, i int) (rune, bool) {
	if i+5 >= len(body) || body[i] != '\\' || body[i+1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// maxFieldNameLen bounds a key echoed in an error message.
const maxFieldNameLen = 64

// fieldName is a key as it may appear in a message: short and printable.
func fieldName(key string) string {
	if len(key) > maxFieldNameLen {
		cut := maxFieldNameLen
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		key = key[:cut] + "…"
	}
	return key
}

// Quote is v quoted for an error message, cut to a few dozen bytes on a
// character boundary, so a huge or hostile value is never echoed whole.
func Quote(v string) string {
	const max = 64
	if len(v) <= max {
		return strconv.Quote(v)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "…"
}
