package pluginhost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// ConfigError is configuration a kind's schema refuses. Field is the path
// of the offending value inside the configuration ("accountSid"), empty for
// the whole document. The message never repeats the value, which may be a
// secret.
type ConfigError struct {
	Field   string
	Message string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Schema is a plugin's compiled configuration schema.
type Schema struct {
	s *jsonschema.Schema
}

// maxSchemaBytes bounds the schema a plugin may declare.
const maxSchemaBytes = 256 << 10

// CompileSchema compiles a JSON Schema document. An empty document accepts
// any JSON object.
func CompileSchema(kindName, doc string) (*Schema, error) {
	if strings.TrimSpace(doc) == "" {
		doc = `{"type":"object"}`
	}
	if len(doc) > maxSchemaBytes {
		return nil, fmt.Errorf("config schema is larger than %d bytes", maxSchemaBytes)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("config schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	// A schema may not load others: nothing outside the plugin is fetched.
	c.UseLoader(noLoader{})
	loc := "plugin://" + kindName + "/config.json"
	if err := c.AddResource(loc, v); err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	s, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	return &Schema{s: s}, nil
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("config schema may not refer to %s", url)
}

// Validate checks a configuration document against the schema. It returns
// a *ConfigError naming the first offending field.
func (s *Schema) Validate(cfg json.RawMessage) error {
	if len(bytes.TrimSpace(cfg)) == 0 {
		cfg = json.RawMessage(`{}`)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(cfg))
	if err != nil {
		return &ConfigError{Message: "is not valid JSON"}
	}
	err = s.s.Validate(v)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return &ConfigError{Message: "could not be validated"}
	}
	leaf := firstLeaf(verr)
	return describe(leaf)
}

// firstLeaf follows the first cause down to the most specific error.
func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	return e
}

// describe words a schema error without repeating the refused value.
func describe(e *jsonschema.ValidationError) *ConfigError {
	field := strings.Join(e.InstanceLocation, ".")
	join := func(name string) string {
		if field == "" {
			return name
		}
		return field + "." + name
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return &ConfigError{Field: join(k.Missing[0]), Message: "is required"}
	case *kind.AdditionalProperties:
		return &ConfigError{Field: join(k.Properties[0]), Message: "is not a known setting"}
	case *kind.Type:
		return &ConfigError{Field: field, Message: fmt.Sprintf("must be %s, not %s", strings.Join(k.Want, " or "), k.Got)}
	case *kind.Pattern:
		return &ConfigError{Field: field, Message: "does not have the expected format"}
	case *kind.Format:
		return &ConfigError{Field: field, Message: "must be a valid " + k.Want}
	case *kind.MinLength:
		return &ConfigError{Field: field, Message: fmt.Sprintf("must be at least %d characters", k.Want)}
	case *kind.MaxLength:
		return &ConfigError{Field: field, Message: fmt.Sprintf("must be at most %d characters", k.Want)}
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			b, _ := json.Marshal(w)
			want[i] = string(b)
		}
		return &ConfigError{Field: field, Message: "must be one of " + strings.Join(want, ", ")}
	}
	return &ConfigError{Field: field, Message: "is not valid (" + strings.Join(e.ErrorKind.KeywordPath(), "/") + ")"}
}
