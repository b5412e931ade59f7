package config

import (
	"net/url"
	"regexp"
	"strings"
)

// redactedPassword replaces a password in printed database URLs, as
// net/url's URL.Redacted does.
const redactedPassword = "xxxxx"

// keyValuePassword finds password=… in a libpq key=value string, quoted or not.
var keyValuePassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)`)

// RedactDatabaseURL returns a database URL fit to print or log: a password,
// whether in the user info, a password= query parameter or a key=value
// string, reads xxxxx. Everything else is kept so the URL still says where
// the database is.
func RedactDatabaseURL(s string) string {
	if strings.HasPrefix(s, "sqlite://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return redactUnparsed(s)
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redactedPassword)
		}
	}
	if strings.Contains(strings.ToLower(u.RawQuery), "password") {
		q := u.Query()
		for k := range q {
			if strings.EqualFold(k, "password") {
				q[k] = []string{redactedPassword}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redactUnparsed redacts what url.Parse refused: a key=value string, or a
// URL whose password holds characters that should have been escaped.
func redactUnparsed(s string) string {
	s = keyValuePassword.ReplaceAllString(s, "${1}"+redactedPassword)
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			if user, _, hasPassword := strings.Cut(rest[:at], ":"); hasPassword {
				s = scheme + "://" + user + ":" + redactedPassword + rest[at:]
			}
		}
	}
	return s
}

// databasePasswords returns the passwords a database URL holds, as written
// and unescaped, so error texts can be searched for them.
func databasePasswords(s string) []string {
	var out []string
	add := func(p string) {
		if p != "" && p != redactedPassword {
			out = append(out, p)
			if un, err := url.QueryUnescape(p); err == nil && un != p {
				out = append(out, un)
			}
		}
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		for k, vs := range u.Query() {
			if strings.EqualFold(k, "password") {
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	for _, m := range keyValuePassword.FindAllStringSubmatch(s, -1) {
		add(strings.Trim(m[2], "'"))
	}
	if _, rest, ok := strings.Cut(s, "://"); ok {
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			if _, p, ok := strings.Cut(rest[:at], ":"); ok {
				add(p)
			}
		}
	}
	return out
}

// RedactDatabaseError returns err with any password of databaseURL blotted
// out of its text; errors.Is and errors.As still see the original.
func RedactDatabaseError(err error, databaseURL string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	redacted := msg
	for _, p := range databasePasswords(databaseURL) {
		redacted = strings.ReplaceAll(redacted, p, redactedPassword)
	}
	if redacted == msg {
		return err
	}
	return &redactedError{msg: redacted, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
