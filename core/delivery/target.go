package delivery

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/scripts"
	"golang.org/x/net/http/httpguts"
)

// Variables a template may use, as CONTRACT §5 names them.
var Variables = []string{
	"chatId", "contact", "event", "text", "multimedia.url", "multimedia.caption", "sender", "channel",
	"timestamp", "conversationId", "messageId", "content", "contact.name", "contact.email",
	"contact.externalId", "integrationId", "direction",
}

var knownVariable = func() map[string]bool {
	m := make(map[string]bool, len(Variables))
	for _, v := range Variables {
		m[v] = true
	}
	return m
}()

// Field is one templated key/value: a param, a header or a body field.
type Field struct {
	Key string `json:"key"`
	// Type is "text" (the value may embed <<name>> placeholders) or
	// "variable" (the value names one variable).
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Auth is how the target authenticates the hub.
type Auth struct {
	Type     string `json:"type"`
	Header   string `json:"header,omitempty"`
	Value    string `json:"value,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
}

// Target is an integration's delivery configuration.
type Target struct {
	Method  string  `json:"method"`
	URL     string  `json:"url"`
	Params  []Field `json:"params,omitempty"`
	Auth    *Auth   `json:"auth,omitempty"`
	Headers []Field `json:"headers,omitempty"`
	// Body nil means the default body for the event; an empty list sends {}.
	Body      []Field `json:"body"`
	Transform string  `json:"transform,omitempty"`
	// Ordered keeps one conversation's deliveries in order (default true).
	Ordered *bool `json:"ordered,omitempty"`
	// VerifyToken, when set, makes saving the target verify the endpoint
	// first (see VerifyEndpoint).
	VerifyToken string `json:"verifyToken,omitempty"`
}

// IsOrdered reports whether deliveries keep conversation order.
func (t *Target) IsOrdered() bool { return t.Ordered == nil || *t.Ordered }

// Redacted is the placeholder shown instead of an auth secret. Sending it
// back in an update keeps the stored secret.
const Redacted = "********"

// ValidationError names the field at fault.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var placeholder = regexp.MustCompile(`<<\s*([^<>]*?)\s*>>`)

// reservedHeaders are set by the hub and cannot be templated.
var reservedHeaders = map[string]bool{
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
	"content-length": true, "host": true, "transfer-encoding": true, "connection": true,
}

// ParseTarget decodes and validates a delivery configuration strictly: an
// unknown field, an unknown variable, a bad URL or header name, or a
// duplicate key is an error naming the field. g checks the URL's address; a
// nil g, for targets already validated when saved, checks only its form.
// compile checks the transform.
func ParseTarget(raw []byte, g *Guard, compile func(string) error) (*Target, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var t Target
	if err := dec.Decode(&t); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, invalid("delivery."+typeErr.Field, "has the wrong type")
		}
		if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, invalid("delivery", "unknown field %s", msg)
		}
		return nil, invalid("delivery", "is not a valid object: %v", err)
	}
	if err := t.validate(g, compile); err != nil {
		return nil, err
	}
	return &t, nil
}

func (t *Target) validate(g *Guard, compile func(string) error) error {
	t.Method = strings.ToUpper(strings.TrimSpace(t.Method))
	if t.Method == "" {
		t.Method = "POST"
	}
	if !scripts.Methods[t.Method] {
		return invalid("delivery.method", "must be GET, POST, PUT or DELETE, not %q", t.Method)
	}
	if strings.TrimSpace(t.URL) == "" {
		return invalid("delivery.url", "is required")
	}
	if err := checkPlaceholders("delivery.url", t.URL); err != nil {
		return err
	}
	sample := expand(t.URL, sampleVars, url.PathEscape)
	if err := g.ValidateURL(sample); err != nil {
		return invalid("delivery.url", "%v", err)
	}
	if err := checkFields("delivery.params", t.Params, false); err != nil {
		return err
	}
	if err := checkFields("delivery.headers", t.Headers, true); err != nil {
		return err
	}
	if err := checkFields("delivery.body", t.Body, false); err != nil {
		return err
	}
	if err := checkBodyShape(t.Body); err != nil {
		return err
	}
	if err := t.checkAuth(); err != nil {
		return err
	}
	if len(t.VerifyToken) > maxVerifyToken {
		return invalid("delivery.verifyToken", "is %d bytes; the limit is %d", len(t.VerifyToken), maxVerifyToken)
	}
	if !httpguts.ValidHeaderFieldValue(t.VerifyToken) {
		return invalid("delivery.verifyToken", "must be printable text")
	}
	if t.Transform != "" && compile != nil {
		if err := compile(t.Transform); err != nil {
			if se := (*scripts.Error)(nil); errors.As(err, &se) && se.Temporary() {
				return err // the sandbox's trouble, not the script's
			}
			return invalid("delivery.transform", "%v", err)
		}
	}
	return nil
}

func (t *Target) checkAuth() error {
	a := t.Auth
	if a == nil {
		return nil
	}
	switch a.Type {
	case "", "none":
		a.Type = "none"
	case "apiKey":
		if !scripts.ValidHeaderName(a.Header) {
			return invalid("delivery.auth.header", "must be a header name, e.g. X-Api-Key")
		}
		if reservedHeaders[strings.ToLower(a.Header)] {
			return invalid("delivery.auth.header", "%q is set by the hub", a.Header)
		}
		if a.Value == "" {
			return invalid("delivery.auth.value", "is required for apiKey auth")
		}
		if !httpguts.ValidHeaderFieldValue(a.Value) {
			return invalid("delivery.auth.value", "not a valid HTTP header value")
		}
	case "basic":
		if a.Username == "" {
			return invalid("delivery.auth.username", "is required for basic auth")
		}
		// RFC 7617: neither may hold a control character.
		if hasControl(a.Username) {
			return invalid("delivery.auth.username", "must not contain control characters")
		}
		if hasControl(a.Password) {
			return invalid("delivery.auth.password", "must not contain control characters")
		}
	case "bearer":
		if a.Token == "" {
			return invalid("delivery.auth.token", "is required for bearer auth")
		}
		if !httpguts.ValidHeaderFieldValue(a.Token) {
			return invalid("delivery.auth.token", "not a valid HTTP header value")
		}
	default:
		return invalid("delivery.auth.type", "must be none, apiKey, basic or bearer, not %q", a.Type)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

func checkFields(field string, fs []Field, headers bool) error {
	seen := map[string]bool{}
	for i, f := range fs {
		at := fmt.Sprintf("%s[%d]", field, i)
		key := strings.TrimSpace(f.Key)
		if key == "" {
			return invalid(at+".key", "is required")
		}
		norm := key
		if headers {
			if !scripts.ValidHeaderName(key) {
				return invalid(at+".key", "%q is not a valid header name", key)
			}
			norm = strings.ToLower(key)
			if reservedHeaders[norm] {
				return invalid(at+".key", "%q is set by the hub", key)
			}
		}
		if seen[norm] && !strings.HasSuffix(key, "[]") {
			return invalid(at+".key", "duplicate key %q", key)
		}
		seen[norm] = true
		switch f.Type {
		case "text":
			if err := checkPlaceholders(at+".value", f.Value); err != nil {
				return err
			}
			// The template itself: a variable's value is checked when sent.
			if headers && !httpguts.ValidHeaderFieldValue(f.Value) {
				return invalid(at+".value", "not a valid HTTP header value")
			}
		case "variable":
			name := variableName(f.Value)
			if !knownVariable[name] {
				return invalid(at+".value", "unknown variable %q; known: %s", f.Value, strings.Join(Variables, ", "))
			}
		default:
			return invalid(at+".type", "must be \"text\" or \"variable\", not %q", f.Type)
		}
	}
	return nil
}

// checkBodyShape refuses keys that cannot all be built: "a" and "a.b", or a
// segment that is empty.
func checkBodyShape(fs []Field) error {
	kinds := map[string]string{} // path → "leaf" | "object" | "array"
	for i, f := range fs {
		at := fmt.Sprintf("delivery.body[%d].key", i)
		segs := strings.Split(f.Key, ".")
		path := ""
		for j, seg := range segs {
			name, isArray := strings.CutSuffix(seg, "[]")
			if name == "" || strings.ContainsAny(name, "[]") {
				return invalid(at, "%q: use dot notation (a.b) for nesting and key[] at the end to append", f.Key)
			}
			if isArray && j != len(segs)-1 {
				return invalid(at, "%q: [] may only end a key", f.Key)
			}
			if path != "" {
				path += "."
			}
			path += name
			want := "object"
			if j == len(segs)-1 {
				want = "leaf"
				if isArray {
					want = "array"
				}
			}
			if have, ok := kinds[path]; ok && (have != want || want == "leaf") {
				return invalid(at, "%q conflicts with another body key", f.Key)
			}
			kinds[path] = want
		}
	}
	return nil
}

func checkPlaceholders(field, s string) error {
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !knownVariable[m[1]] {
			return invalid(field, "unknown variable <<%s>>; known: %s", m[1], strings.Join(Variables, ", "))
		}
	}
	return nil
}

func variableName(v string) string {
	v = strings.TrimSpace(v)
	if m := placeholder.FindStringSubmatch(v); m != nil && m[0] == v {
		return m[1]
	}
	return v
}

var sampleVars = func() map[string]string {
	m := map[string]string{}
	for _, v := range Variables {
		m[v] = "x"
	}
	return m
}()

// expand replaces each <<name>> in s with the variable's value, escaped by
// escape if given. It finds what the placeholder pattern matches, by hand:
// it runs for every field of every delivery, where the regular expression
// cost ten times the rest of rendering.
func expand(s string, vars map[string]string, escape func(string) string) string {
	var b strings.Builder
	done := 0 // s[:done] is written
	for i := 0; i+1 < len(s); {
		start, end, name, ok := nextPlaceholder(s, i)
		if !ok {
			break
		}
		if b.Len() == 0 {
			b.Grow(len(s) + 32)
		}
		b.WriteString(s[done:start])
		v := vars[name]
		if escape != nil {
			v = escape(v)
		}
		b.WriteString(v)
		done, i = end, end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// nextPlaceholder finds the leftmost "<<name>>" in s at or after from, as
// the placeholder pattern does: no '<' or '>' between the brackets, the
// name without the spaces around it.
func nextPlaceholder(s string, from int) (start, end int, name string, ok bool) {
	for {
		k := strings.Index(s[from:], "<<")
		if k < 0 {
			return 0, 0, "", false
		}
		start = from + k
		j := start + 2
		for j < len(s) && s[j] != '<' && s[j] != '>' {
			j++
		}
		if strings.HasPrefix(s[j:], ">>") {
			return start, j + 2, strings.Trim(s[start+2:j], " \t\n\f\r"), true
		}
		from = start + 1
	}
}

func (f *Field) render(vars map[string]string) string {
	if f.Type == "variable" {
		return vars[variableName(f.Value)]
	}
	return expand(f.Value, vars, nil)
}

// Render builds the request the templates describe for an event's variables.
func (t *Target) Render(vars map[string]string) *scripts.Request {
	r := &scripts.Request{
		Method:  t.Method,
		URL:     expand(t.URL, vars, url.PathEscape),
		Params:  make(map[string]string, len(t.Params)),
		Headers: make(map[string]string, len(t.Headers)+2),
	}
	for i := range t.Params {
		r.Params[t.Params[i].Key] = t.Params[i].render(vars)
	}
	for i := range t.Headers {
		r.Headers[t.Headers[i].Key] = t.Headers[i].render(vars)
	}
	if a := t.Auth; a != nil {
		switch a.Type {
		case "apiKey":
			r.Headers[a.Header] = a.Value
		case "basic":
			r.Headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password))
		case "bearer":
			r.Headers["Authorization"] = "Bearer " + a.Token
		}
	}
	if t.Body == nil {
		r.Body = DefaultBody(vars)
	} else {
		r.Body = buildBody(t.Body, vars)
	}
	return r
}

// buildBody nests dotted keys and appends key[] values to arrays.
func buildBody(fs []Field, vars map[string]string) map[string]any {
	root := map[string]any{}
	for i := range fs {
		segs := strings.Split(fs[i].Key, ".")
		node := root
		for _, seg := range segs[:len(segs)-1] {
			child, ok := node[seg].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[seg] = child
			}
			node = child
		}
		last := segs[len(segs)-1]
		v := fs[i].render(vars)
		if name, ok := strings.CutSuffix(last, "[]"); ok {
			arr, _ := node[name].([]any)
			node[name] = append(arr, v)
			continue
		}
		node[last] = v
	}
	return root
}

// DefaultBody is the body sent when no body fields are configured: the app
// API's {conversationId, content} for an agent's reply (direction
// "outbound"), and the chat parameters for a contact's message or a chat's
// end on a connection or the webchat widget.
func DefaultBody(vars map[string]string) map[string]any {
	if vars["direction"] == domain.Outbound {
		return map[string]any{"conversationId": vars["conversationId"], "content": vars["content"]}
	}
	return map[string]any{
		"chatId":     vars["chatId"],
		"contact":    vars["contact"],
		"event":      vars["event"],
		"text":       vars["text"],
		"multimedia": map[string]any{"url": vars["multimedia.url"], "caption": vars["multimedia.caption"]},
		"sender":     vars["sender"],
		"channel":    vars["channel"],
		"timestamp":  vars["timestamp"],
	}
}

// Redact returns a copy with auth secrets replaced by Redacted.
func (t *Target) Redact() *Target {
	c := *t
	if c.VerifyToken != "" {
		c.VerifyToken = Redacted
	}
	if t.Auth != nil {
		a := *t.Auth
		for _, s := range []*string{&a.Value, &a.Password, &a.Token} {
			if *s != "" {
				*s = Redacted
			}
		}
		c.Auth = &a
	}
	return &c
}

// SecretValues lists every form in which the target's auth secrets reach a
// transform: each secret, the Basic credentials' base64, and the whole
// Authorization value; longest first, so RedactSecrets replaces a whole
// header value before a part of it.
func (t *Target) SecretValues() []string {
	a := t.Auth
	if a == nil {
		return nil
	}
	var v []string
	switch a.Type {
	case "apiKey":
		v = append(v, a.Value)
	case "basic":
		b64 := base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + a.Password))
		v = append(v, "Basic "+b64, b64, a.Password)
	case "bearer":
		v = append(v, "Bearer "+a.Token, a.Token)
	}
	out := make([]string, 0, 6*len(v))
	for _, s := range v {
		if s == "" {
			continue
		}
		out = append(out, s)
		// As JSON.stringify, a JSON body (some escape "/" too) or a URL
		// would write it.
		forms := []string{strings.ReplaceAll(s, "/", `\/`), url.QueryEscape(s), url.PathEscape(s)}
		if b, err := json.Marshal(s); err == nil {
			forms = append(forms, string(b[1:len(b)-1]), strings.ReplaceAll(string(b[1:len(b)-1]), "/", `\/`))
		}
		for _, f := range forms {
			if f != s && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// SameOrigin reports whether two target URLs name the same scheme, host and
// port: stored credentials may follow a URL that changes its path, never one
// that changes where the request goes.
func SameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "http") {
			return "80"
		}
		return "443"
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Hostname(), ub.Hostname()) && port(ua) == port(ub)
}

// RedactSecrets replaces every occurrence of each secret in s with Redacted.
func RedactSecrets(s string, secrets []string) string {
	for _, v := range secrets {
		if v != "" && strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

// KeepSecrets copies the stored secrets into fields an update sent back redacted.
func (t *Target) KeepSecrets(old *Target) {
	if old != nil && t.VerifyToken == Redacted {
		t.VerifyToken = old.VerifyToken
	}
	if t.Auth == nil || old == nil || old.Auth == nil || t.Auth.Type != old.Auth.Type {
		return
	}
	if t.Auth.Value == Redacted {
		t.Auth.Value = old.Auth.Value
	}
	if t.Auth.Password == Redacted {
		t.Auth.Password = old.Auth.Password
	}
	if t.Auth.Token == Redacted {
		t.Auth.Token = old.Auth.Token
	}
}

// HasRedacted reports a secret still redacted after KeepSecrets: the update
// sent the placeholder with nothing stored to keep.
func (t *Target) HasRedacted() bool {
	return t.VerifyToken == Redacted || t.Auth != nil && (t.Auth.Value == Redacted || t.Auth.Password == Redacted || t.Auth.Token == Redacted)
}

// SortedKeys is a helper for stable output of a string map.
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
