package scripts

import (
	"encoding/json"
	"strings"

	"github.com/dop251/goja"
)

// installBindings is the one place that decides what a script can reach:
// a captured console. Nothing else is added to goja's plain ECMAScript
// runtime: no require, no timers, no I/O. Memory and time are bounded by
// the runner process, not here (see Engine).
func installBindings(rt *goja.Runtime, logs *logBuffer) error {
	console := rt.NewObject()
	for _, name := range []string{"log", "info", "warn", "error", "debug"} {
		level := name
		if err := console.Set(name, func(call goja.FunctionCall) goja.Value {
			parts := make([]string, len(call.Arguments))
			for i, a := range call.Arguments {
				parts[i] = formatValue(a)
			}
			line := strings.Join(parts, " ")
			if level == "warn" || level == "error" {
				line = strings.ToUpper(level) + " " + line
			}
			logs.add(line)
			return goja.Undefined()
		}); err != nil {
			return err
		}
	}
	if err := rt.Set("console", console); err != nil {
		return err
	}
	return nil
}

// formatValue prints a value the way a developer expects from console.log:
// strings as they are, everything else as JSON.
func formatValue(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if goja.IsNull(v) {
		return "null"
	}
	if s, ok := v.Export().(string); ok {
		return s
	}
	if _, ok := v.(*goja.Object); ok {
		if b, err := json.Marshal(v.Export()); err == nil {
			return string(b)
		}
	}
	return v.String()
}

// logBuffer captures console output up to its bounds.
type logBuffer struct {
	maxLines, maxBytes int
	buf                []string
	bytes              int
	truncated          bool
}

func (b *logBuffer) add(line string) {
	if b.truncated {
		return
	}
	if len(b.buf) >= b.maxLines || b.bytes+len(line) > b.maxBytes {
		b.buf = append(b.buf, "… console output truncated")
		b.truncated = true
		return
	}
	b.buf = append(b.buf, line)
	b.bytes += len(line)
}

func (b *logBuffer) lines() []string {
	if len(b.buf) == 0 {
		return []string{}
	}
	return append([]string(nil), b.buf...)
}
