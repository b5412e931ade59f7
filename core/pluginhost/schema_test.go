package pluginhost_test

import (
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/pluginhost"
)

// TestCompileSchemaRefusesWhatItCannotTrust: a plugin's schema is data
// from another process: it may not make the hub fetch anything, nor be
// unbounded.
func TestCompileSchemaRefusesWhatItCannotTrust(t *testing.T) {
	for name, doc := range map[string]string{
		"remote ref":    `{"$ref":"http://169.254.169.254/latest/meta-data"}`,
		"file ref":      `{"$ref":"file:///etc/passwd"}`,
		"not JSON":      `{"type":`,
		"bad pattern":   `{"type":"string","pattern":"("}`,
		"huge document": `{"description":"` + strings.Repeat("x", 300<<10) + `"}`,
	} {
		if _, err := pluginhost.CompileSchema("k", doc); err == nil {
			t.Errorf("%s: compiled", name)
		}
	}
	s, err := pluginhost.CompileSchema("k", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`{"any":"thing"}`)); err != nil {
		t.Errorf("an empty schema takes any object: %v", err)
	}
	if err := s.Validate([]byte(`"text"`)); err == nil {
		t.Errorf("an empty schema took a string")
	}
}
