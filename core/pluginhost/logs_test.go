package pluginhost

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func TestLogWriter(t *testing.T) {
	got := &records{}
	w := newLogWriter(slog.New(got))
	w.Write([]byte(`{"@level":"error","@message":"provider refused","@module":"plugin.sms","@timestamp":"x","code":30003}` + "\n"))
	w.Write([]byte("plain text from a plugin\n{\"@level\":\"warn\",\"@mess"))
	w.Write([]byte("age\":\"split across writes\"}\n"))
	w.Write([]byte(strings.Repeat("x", 3*maxLogLine)))
	want := []struct {
		level slog.Level
		msg   string
	}{
		{slog.LevelError, "provider refused"},
		{slog.LevelInfo, "plain text from a plugin"},
		{slog.LevelWarn, "split across writes"},
		{slog.LevelInfo, strings.Repeat("x", maxLogLine)},
	}
	if len(got.recs) != len(want) {
		t.Fatalf("%d records, want %d", len(got.recs), len(want))
	}
	for i, w := range want {
		r := got.recs[i]
		if r.Level != w.level || r.Message != w.msg {
			t.Errorf("record %d = %v %.40q, want %v %.40q", i, r.Level, r.Message, w.level, w.msg)
		}
	}
	code := ""
	got.recs[0].Attrs(func(a slog.Attr) bool {
		if a.Key == "code" {
			code = a.Value.String()
		}
		return true
	})
	if code != "30003" {
		t.Errorf("the record's fields were not kept: code %q", code)
	}
}
