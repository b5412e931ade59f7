package adminui

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// schemaField is one setting of a plugin's configuration schema, as a form
// input: the top-level properties of an object schema become fields, so a
// new plugin's settings need no change to the UI.
type schemaField struct {
	Name        string
	Title       string
	Description string
	// Input is the input type: text, password, url, number, checkbox,
	// select, or list (a list of strings, one per line of a textarea).
	Input    string
	Options  []string
	Required bool
	Pattern  string
	Value    string
	Checked  bool
}

type schemaDoc struct {
	Type       any                   `json:"type"`
	Properties map[string]schemaProp `json:"properties"`
	Required   []string              `json:"required"`
}

type schemaProp struct {
	Type        any      `json:"type"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Format      string   `json:"format"`
	Enum        []any    `json:"enum"`
	Pattern     string   `json:"pattern"`
	WriteOnly   bool     `json:"writeOnly"`
	Default     any      `json:"default"`
	Examples    []any    `json:"examples"`
	Deprecated  bool     `json:"deprecated"`
	OneOf       []any    `json:"oneOf"`
	Items       any      `json:"items"`
	Minimum     *float64 `json:"minimum"`
}

func (p schemaProp) typeName() string {
	switch t := p.Type.(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok && s != "null" {
				return s
			}
		}
	}
	return "string"
}

// secretName guesses that a setting holds a secret when its schema does
// not say (writeOnly): its input then hides what is typed.
func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "secret", "password", "key"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// schemaFields turns a schema into form fields, with values from current
// (the settings as saved) or, after a refused save, from the form.
func schemaFields(schema json.RawMessage, current map[string]any) []schemaField {
	var doc schemaDoc
	if len(schema) == 0 || json.Unmarshal(schema, &doc) != nil {
		return nil
	}
	required := map[string]bool{}
	for _, r := range doc.Required {
		required[r] = true
	}
	names := make([]string, 0, len(doc.Properties))
	for n := range doc.Properties {
		names = append(names, n)
	}
	// Required settings first, then by name.
	sort.Slice(names, func(i, j int) bool {
		if required[names[i]] != required[names[j]] {
			return required[names[i]]
		}
		return names[i] < names[j]
	})
	out := make([]schemaField, 0, len(names))
	for _, n := range names {
		p := doc.Properties[n]
		f := schemaField{Name: n, Title: p.Title, Description: p.Description, Required: required[n], Pattern: p.Pattern, Input: "text"}
		if f.Title == "" {
			f.Title = n
		}
		switch {
		case len(p.Enum) > 0:
			f.Input = "select"
			for _, e := range p.Enum {
				f.Options = append(f.Options, stringOf(e))
			}
		case p.typeName() == "boolean":
			f.Input = "checkbox"
		case p.typeName() == "integer" || p.typeName() == "number":
			f.Input = "number"
		case p.typeName() == "array" && itemsAreStrings(p.Items):
			f.Input = "list"
		case p.WriteOnly || p.Format == "password" || secretName(n):
			f.Input = "password"
		case p.Format == "uri" || p.Format == "url":
			f.Input = "url"
		}
		if v, ok := current[n]; ok {
			f.Value = stringOf(v)
			f.Checked = v == true
			if list, ok := v.([]any); ok && f.Input == "list" {
				lines := make([]string, len(list))
				for i, item := range list {
					lines[i] = stringOf(item)
				}
				f.Value = strings.Join(lines, "\n")
			}
		}
		out = append(out, f)
	}
	return out
}

// itemsAreStrings reports whether an array's items schema takes strings.
func itemsAreStrings(items any) bool {
	m, ok := items.(map[string]any)
	if !ok {
		return false
	}
	t, ok := m["type"]
	if !ok {
		return true // any item: the admin types strings
	}
	return schemaProp{Type: t}.typeName() == "string"
}

func stringOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// schemaValues reads the settings a schema describes from a form whose
// inputs are named prefix+name: empty inputs are left out, and numbers and
// booleans are sent as such, so the schema checks what the admin meant.
func schemaValues(schema json.RawMessage, form url.Values, prefix string) map[string]any {
	out := map[string]any{}
	for _, f := range schemaFields(schema, nil) {
		key := prefix + f.Name
		switch f.Input {
		case "checkbox":
			if _, sent := form[key+".present"]; sent {
				out[f.Name] = form.Get(key) != ""
			}
		case "list":
			// One item a line; blank lines are left out, and so is an
			// empty list, as any empty input is.
			var items []any
			for _, line := range strings.Split(form.Get(key), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					items = append(items, line)
				}
			}
			if len(items) > 0 {
				out[f.Name] = items
			}
		case "number":
			v := strings.TrimSpace(form.Get(key))
			if v == "" {
				continue
			}
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				out[f.Name] = n
			} else {
				out[f.Name] = v // the schema names the problem
			}
		default:
			if v := form.Get(key); v != "" {
				out[f.Name] = v
			}
		}
	}
	return out
}

// formMap keeps a form's values for the fields of a schema, to show them
// again after a refused save (secrets are not shown again).
func formMap(schema json.RawMessage, form url.Values, prefix string) map[string]any {
	out := schemaValues(schema, form, prefix)
	for _, f := range schemaFields(schema, nil) {
		if f.Input == "password" {
			delete(out, f.Name)
		}
	}
	return out
}
