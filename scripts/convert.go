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
			setOwn(o, k, toJS(rt, val))
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
			setOwn(o, k, rt.ToValue(val))
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

// setOwn makes k an own, plain property of o, as JSON.parse would. A plain
// assignment would run inherited setters instead: "__proto__" would swap
// o's prototype and the key would vanish from what the script sees and
// returns.
func setOwn(o *goja.Object, k string, v goja.Value) {
	o.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
}
