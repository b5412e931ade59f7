package scripts

import (
	"encoding/json"

	"github.com/dop251/goja"
)

// toJS builds native JavaScript values from Go ones, so a script gets
// ordinary objects and arrays (push, spread, JSON.stringify all work) and
// its changes never reach the Go values.
func toJS(rt *goja.Runtime, v any) goja.Value {
	switch x := v.(type) {
	case nil:
		return goja.Null()
	case map[string]any:
		o := rt.NewObject()
		for k, val := range x {
			o.Set(k, toJS(rt, val))
		}
		return o
	case []any:
		items := make([]any, len(x))
		for i, val := range x {
			items[i] = toJS(rt, val)
		}
		return rt.NewArray(items...)
	case map[string]string:
		o := rt.NewObject()
		for k, val := range x {
			o.Set(k, val)
		}
		return o
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return rt.ToValue(i)
		}
		f, _ := x.Float64()
		return rt.ToValue(f)
	default:
		return rt.ToValue(x)
	}
}
