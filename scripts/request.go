package scripts

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Request is the HTTP request a delivery sends, as a transform sees it.
type Request struct {
	Method  string
	URL     string
	Params  map[string]string
	Headers map[string]string
	// Body is a JSON value: an object, array, string, number, bool or nil.
	Body any
}

// Methods a delivery may use.
var Methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true}

// Bounds on the request a transform returns, so that a result always fits
// a result frame (maxResultFrame), JSON escaping included: the body is
// bounded as encoded, the rest as raw bytes, which escaping grows at most
// sixfold.
const (
	// maxResultBytes bounds the body, as JSON.
	maxResultBytes = 1 << 20
	// maxURLBytes bounds the URL.
	maxURLBytes = 8 << 10
	// maxEntries bounds the number of params, and of headers.
	maxEntries = 100
	// maxEntryBytes bounds one param or header, name and value together.
	maxEntryBytes = 8 << 10
	// maxEntriesBytes bounds all params and headers together.
	maxEntriesBytes = 64 << 10
)

func (r *Request) jsValue() map[string]any {
	params := make(map[string]any, len(r.Params))
	for k, v := range r.Params {
		params[k] = v
	}
	headers := make(map[string]any, len(r.Headers))
	for k, v := range r.Headers {
		headers[k] = v
	}
	return map[string]any{"method": r.Method, "url": r.URL, "params": params, "headers": headers, "body": r.Body}
}

// requestFromJS checks what a transform returned and turns it into a Request.
func requestFromJS(v any) (*Request, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("transform must return an object {method, url, params, headers, body} or null, not %s", jsType(v))}
	}
	r := &Request{Params: map[string]string{}, Headers: map[string]string{}}
	method, _ := m["method"].(string)
	r.Method = strings.ToUpper(method)
	if !Methods[r.Method] {
		return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("request.method must be GET, POST, PUT or DELETE, not %q", clip(method))}
	}
	r.URL, _ = m["url"].(string)
	if len(r.URL) > maxURLBytes {
		return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("request.url is %d bytes; the limit is %d", len(r.URL), maxURLBytes)}
	}
	u, err := url.Parse(r.URL)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("request.url must be an absolute http(s) URL, not %q", clip(r.URL))}
	}
	if err := stringMap(m["params"], "request.params", r.Params); err != nil {
		return nil, err
	}
	if err := stringMap(m["headers"], "request.headers", r.Headers); err != nil {
		return nil, err
	}
	if n := entriesBytes(r.Params) + entriesBytes(r.Headers); n > maxEntriesBytes {
		return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("request.params and request.headers are %d bytes together; the limit is %d", n, maxEntriesBytes)}
	}
	for k, v := range r.Headers {
		if !validHeaderName(k) {
			return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("request.headers: %q is not a valid header name", clip(k))}
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("request.headers.%s: not a valid HTTP header value (CR, LF or another control byte)", clip(k))}
		}
	}
	r.Body = m["body"]
	raw, err := json.Marshal(r.Body)
	if err != nil {
		return nil, &Error{Kind: KindResult, Message: "request.body cannot be sent as JSON: " + err.Error()}
	}
	if len(raw) > maxResultBytes {
		return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("request.body is %d bytes; the limit is %d", len(raw), maxResultBytes)}
	}
	r.Body = json.RawMessage(raw)
	return r, nil
}

func stringMap(v any, field string, into map[string]string) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return &Error{Kind: KindResult, Message: fmt.Sprintf("%s must be an object of strings, not %s", field, jsType(v))}
	}
	if len(m) > maxEntries {
		return &Error{Kind: KindResult, Message: fmt.Sprintf("%s has %d entries; the limit is %d", field, len(m), maxEntries)}
	}
	for k, val := range m {
		switch x := val.(type) {
		case string:
			into[k] = x
		case int64:
			into[k] = strconv.FormatInt(x, 10)
		case float64:
			into[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			into[k] = strconv.FormatBool(x)
		case nil:
			// null or undefined removes the entry.
		default:
			return &Error{Kind: KindResult, Message: fmt.Sprintf("%s.%s must be a string, not %s", field, clip(k), jsType(val))}
		}
		if n := len(k) + len(into[k]); n > maxEntryBytes {
			return &Error{Kind: KindResult, Message: fmt.Sprintf("%s.%s is %d bytes, name and value; the limit is %d", field, clip(k), n, maxEntryBytes)}
		}
	}
	return nil
}

func entriesBytes(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// clip shortens what a script chose, for quoting in an error message.
func clip(s string) string {
	return clipTo(s, 64)
}

// clipTo shortens s to about limit bytes.
func clipTo(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return strings.ToValidUTF8(s[:limit], "") + "…"
}

func jsType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// validHeaderName reports an RFC 7230 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ValidHeaderName is exported for config validation.
func ValidHeaderName(s string) bool { return validHeaderName(s) }

// EncodeURL returns the request's URL with its params added to the query,
// keys sorted for a stable result.
func (r *Request) EncodeURL() (string, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return "", err
	}
	if len(r.Params) == 0 {
		return u.String(), nil
	}
	q := u.Query()
	keys := make([]string, 0, len(r.Params))
	for k := range r.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Set(k, r.Params[k])
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
