package adminui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
)

// pages are the parsed templates: each page with the layout and partials.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"configures": func(s *domain.Session) bool { return s != nil && staff(s.User.Role) },
	"owns":       func(s *domain.Session) bool { return s != nil && owners(s.User.Role) },
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case string:
			if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return ts.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			return v
		}
		return ""
	},
	"pretty": func(v any) string {
		var b []byte
		switch x := v.(type) {
		case json.RawMessage:
			var out bytes.Buffer
			if json.Indent(&out, x, "", "  ") == nil {
				return out.String()
			}
			return string(x)
		default:
			b, _ = json.MarshalIndent(v, "", "  ")
		}
		return string(b)
	},
	"lower":       strings.ToLower,
	"list":        func(v ...string) []string { return v },
	"emptyErrors": func() *formErrors { return &formErrors{Fields: map[string]string{}} },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	partials, err := fs.Glob(assets, "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range names {
		files := append([]string{"templates/layout.html"}, partials...)
		t, err := template.New("").Funcs(funcs).ParseFS(assets, append(files, name)...)
		if err != nil {
			return nil, fmt.Errorf("adminui: parse %s: %w", name, err)
		}
		p.byName[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	Session *domain.Session
	// Nav names the navigation entry to highlight.
	Nav  string
	Data any
}

// render writes a page inside the layout. With ?fragment=NAME it writes
// only that template of the page, for the scripts that refresh a part.
func (u *UI) render(w http.ResponseWriter, r *http.Request, s *domain.Session, status int, page string, data any) {
	t, ok := u.pages.byName[page]
	if !ok {
		u.fail(w, r, s, fmt.Errorf("adminui: no page %q", page))
		return
	}
	name := "layout"
	if f := r.URL.Query().Get("fragment"); f != "" {
		switch {
		case t.Lookup("fragment-"+f) != nil:
			name = "fragment-" + f
		case status < 400:
			http.Error(w, "no such fragment", http.StatusNotFound)
			return
		}
		// An error page has no fragments: it is written whole, with its
		// status, so a refusal stays a refusal.
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, view{Session: s, Nav: navOf(page), Data: data}); err != nil {
		u.fail(w, r, s, fmt.Errorf("adminui: render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// navOf is the navigation entry a page belongs to: its name up to a dash.
func navOf(page string) string {
	if i := strings.IndexByte(page, '-'); i > 0 {
		return page[:i]
	}
	return page
}

func (u *UI) renderError(w http.ResponseWriter, r *http.Request, s *domain.Session, status int, msg string) {
	u.render(w, r, s, status, "error", map[string]any{"Status": status, "Message": msg})
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request) {
	s, _ := u.session(r)
	u.renderError(w, r, s, http.StatusNotFound, "There is no such page.")
}

// fail answers an unexpected error with a safe message and an id that ties
// it to the log line holding the whole error.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *domain.Session, err error) {
	id := randomToken()[:12]
	u.Log.Error("admin UI request failed", "error_id", id, "path", r.URL.Path, "err", err)
	u.renderError(w, r, s, http.StatusInternalServerError, "Something went wrong. Quote "+id+" when reporting it.")
}
