package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// maxLogLine bounds one plugin log line passed on to the hub's log: a
// plugin's output is another program's, and may be anything.
const maxLogLine = 8 << 10

// logWriter takes the JSON lines go-plugin's logger writes, for the
// plugin's own output and for its supervision, and passes each on to the
// hub's slog logger with the plugin's name, so plugin logs land in the
// hub's log, in its format, filtered by its level.
type logWriter struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func newLogWriter(log *slog.Logger) *logWriter { return &logWriter{log: log} }

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > maxLogLine {
				w.emit(w.buf[:maxLogLine])
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

// emit logs one line: a JSON record of hclog's, or plain text.
func (w *logWriter) emit(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if len(line) > maxLogLine {
		line = line[:maxLogLine]
	}
	var rec map[string]any
	if json.Unmarshal(line, &rec) != nil {
		w.log.Info(strings.ToValidUTF8(string(line), "?"))
		return
	}
	msg, _ := rec["@message"].(string)
	level := slogLevel(rec["@level"])
	var attrs []slog.Attr
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "@message", "@level", "@timestamp", "@caller":
			continue
		case "@module":
			attrs = append(attrs, slog.Any("module", rec[k]))
		default:
			attrs = append(attrs, slog.Any(k, rec[k]))
		}
	}
	w.log.LogAttrs(context.Background(), level, msg, attrs...)
}

func slogLevel(v any) slog.Level {
	switch s, _ := v.(string); strings.ToLower(s) {
	case "trace", "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
