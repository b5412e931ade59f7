package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
)

// TestPluginsListAndVerify: list shows each plugin's manifest and state;
// verify exits 1 once an executable no longer matches its manifest, or
// has none.
func TestPluginsListAndVerify(t *testing.T) {
	dir := t.TempDir()
	if err := apptest.BuildPlugins(dir); err != nil {
		t.Fatal(err)
	}
	out, err := runCombined(t, "plugins", "list", "--plugin-dir", dir)
	if err != nil {
		t.Fatalf("list: %v\n%s", err, out)
	}
	for _, want := range []string{"KIND", "custom", "sms", "whatsapp", "0.1.0", "ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not show %q:\n%s", want, out)
		}
	}
	if out, err := runCombined(t, "plugins", "verify", "--plugin-dir", dir); err != nil {
		t.Fatalf("verify of untouched plugins: %v\n%s", err, out)
	}
	f, _ := os.OpenFile(filepath.Join(dir, "sms"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("tampered"))
	f.Close()
	os.WriteFile(filepath.Join(dir, "stray"), []byte("#!/bin/sh\n"), 0o755)
	out, err = runCombined(t, "plugins", "verify", "--plugin-dir", dir)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("verify after tampering: %v, want exit 1\n%s", err, out)
	}
	if !strings.Contains(out, "checksum mismatch") || !strings.Contains(out, "no manifest") {
		t.Errorf("verify does not say what is wrong:\n%s", out)
	}
}
