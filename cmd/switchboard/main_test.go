package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-cli-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "switchboard")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binary, args...).Output()
	return string(out), err
}

func TestCreateTokenPrintsUsableTokenLast(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		out, err := run(t, "admin", "create-token", "--workspace", "acme", "--database-url", dbURL)
		if err != nil {
			t.Fatalf("create-token: %v", err)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		token := lines[len(lines)-1]
		if !strings.HasPrefix(token, "sba_") || strings.ContainsAny(token, " \t") {
			t.Fatalf("last line %q is not a token alone", token)
		}
		// A second run reuses the workspace and makes a different token.
		out2, err := run(t, "admin", "create-token", "--workspace", "acme", "--database-url", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		lines2 := strings.Split(strings.TrimRight(out2, "\n"), "\n")
		token2 := lines2[len(lines2)-1]

		st, err := store.Open(context.Background(), dbURL, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ws1, err1 := st.AdminTokenWorkspace(context.Background(), auth.Hash(token))
		ws2, err2 := st.AdminTokenWorkspace(context.Background(), auth.Hash(token2))
		if err1 != nil || err2 != nil || ws1 != ws2 || token == token2 {
			t.Errorf("tokens %q/%q map to %q (%v) and %q (%v)", token, token2, ws1, err1, ws2, err2)
		}
	})
}

func TestCreateUserAndMigrateAndVersion(t *testing.T) {
	db := storetest.SQLite(t)
	if out, err := run(t, "migrate", "--database-url", db); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	if _, err := run(t, "admin", "create-user", "--workspace", "acme", "--email", "Ops@Example.com", "--password", "correct horse", "--database-url", db); err != nil {
		t.Fatalf("create-user: %v", err)
	}
	if _, err := run(t, "admin", "create-user", "--workspace", "acme", "--email", "ops@example.com", "--password", "correct horse", "--database-url", db); err == nil {
		t.Error("a second user with the same email (other case) was created")
	}
	if _, err := run(t, "admin", "create-user", "--workspace", "acme", "--email", "x@example.com", "--password", "short", "--database-url", db); err == nil {
		t.Error("a short password was accepted")
	}
	if out, err := run(t, "version"); err != nil || !strings.HasPrefix(out, "switchboard ") {
		t.Errorf("version: %q %v", out, err)
	}
	if _, err := run(t, "serve", "--database-url", "mysql://nope"); err == nil {
		t.Error("serve accepted an unsupported database URL")
	}
}

func TestTransformTest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	script := write("t.js", "function transform(request, event) {\n  console.log('for', event.conversationId);\n  request.body = { said: event.content };\n  return request;\n}\n")
	event := write("e.json", `{"conversationId": "c-7", "content": "hello"}`)
	out, err := run(t, "transform", "test", "--script", script, "--event", event)
	if err != nil {
		t.Fatalf("transform test: %v\n%s", err, out)
	}
	for _, want := range []string{"for c-7", `"said": "hello"`, "curl -X POST 'https://example.com/webhook'"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	bad := write("bad.js", "function transform(request, event) {\n  throw new Error('boom');\n}\n")
	out, err = run(t, "transform", "test", "--script", bad, "--event", event)
	if err == nil || !strings.Contains(out, "Error: boom") || !strings.Contains(out, "line 2") {
		t.Errorf("failing script: err %v, output:\n%s", err, out)
	}
	skip := write("skip.js", "function transform() { return null; }")
	if out, err := run(t, "transform", "test", "--script", skip); err != nil || !strings.Contains(out, "skipped") {
		t.Errorf("skipping script: %v\n%s", err, out)
	}
}

// lockedBuffer collects a subprocess's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCombined runs the binary and returns stdout and stderr together.
func runCombined(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	return string(out), err
}

// serveUntilRunning runs `serve` until it says it is running, stops it with
// SIGTERM and returns everything it printed and logged.
func serveUntilRunning(t *testing.T, dbURL string) string {
	t.Helper()
	var out lockedBuffer
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--database-url", dbURL,
		"--plugin-dir", t.TempDir(), "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Switchboard is running at") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("serve did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, out.String())
	}
	return out.String()
}

func TestDatabasePasswordNeverPrinted(t *testing.T) {
	const password = "hunter2-Sw1tchb0ard"
	// Nothing listens on this port: every command fails to connect.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	unreachable := []string{
		"postgres://sb:" + password + "@" + closed + "/sb?sslmode=disable&connect_timeout=2",
		"postgres://sb@" + closed + "/sb?sslmode=disable&connect_timeout=2&password=" + password,
	}
	for _, dbURL := range unreachable {
		for _, args := range [][]string{
			{"serve", "--addr", "127.0.0.1:0", "--plugin-dir", t.TempDir(), "--log-level", "debug"},
			{"migrate", "--log-level", "debug"},
			{"admin", "create-token", "--workspace", "acme"},
			{"admin", "list-tokens", "--workspace", "acme"},
			{"admin", "revoke-token", "--id", "01a1fe7b-0000-7000-8000-000000000000"},
		} {
			out, err := runCombined(t, append(args, "--database-url", dbURL)...)
			if err == nil {
				t.Errorf("%s succeeded on an unreachable database", args[0])
			}
			if strings.Contains(out, password) || !strings.Contains(out, "switchboard:") {
				t.Errorf("%s %s printed:\n%s", args[0], strings.Join(args[1:], " "), out)
			}
		}
	}

	pg := storetest.Postgres(t)
	if pg == "" {
		t.Skip("the reachable case needs " + storetest.EnvDatabaseURL)
	}
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	// The test server trusts local connections, so any password is accepted.
	u.User = url.UserPassword(u.User.Username(), password)
	withPassword := u.String()
	if out, err := runCombined(t, "migrate", "--database-url", withPassword, "--log-level", "debug"); err != nil || strings.Contains(out, password) {
		t.Errorf("migrate: %v\n%s", err, out)
	}
	if out, err := runCombined(t, "admin", "list-tokens", "--workspace", "nobody", "--database-url", withPassword); err == nil || strings.Contains(out, password) {
		t.Errorf("list-tokens of a missing workspace: %v\n%s", err, out)
	}
	out := serveUntilRunning(t, withPassword)
	if strings.Contains(out, password) {
		t.Errorf("serve printed the database password:\n%s", out)
	}
	if !strings.Contains(out, u.User.Username()+":xxxxx@") {
		t.Errorf("serve does not show the database it uses, redacted:\n%s", out)
	}
}

func TestListAndRevokeTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		lastLine := func(out string) string {
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			return lines[len(lines)-1]
		}
		var tokens []string
		for _, ws := range []string{"acme", "acme", "globex"} {
			out, err := run(t, "admin", "create-token", "--workspace", ws, "--database-url", dbURL)
			if err != nil {
				t.Fatalf("create-token: %v", err)
			}
			tokens = append(tokens, lastLine(out))
		}
		st, err := store.Open(context.Background(), dbURL, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()

		out, err := runCombined(t, "admin", "list-tokens", "--workspace", "acme", "--database-url", dbURL)
		if err != nil {
			t.Fatalf("list-tokens: %v\n%s", err, out)
		}
		for _, tok := range tokens {
			if strings.Contains(out, tok) || strings.Contains(out, auth.Hash(tok)) {
				t.Fatalf("list-tokens shows a token or its hash:\n%s", out)
			}
		}
		// A header, then acme's two tokens, newest first.
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "never") {
			t.Fatalf("list-tokens printed:\n%s", out)
		}
		newest, oldest := strings.Fields(lines[1])[0], strings.Fields(lines[2])[0]
		if newest <= oldest {
			t.Errorf("not newest first: %s then %s", newest, oldest)
		}

		// Revoking the newest acme token leaves the other two working.
		out, err = runCombined(t, "admin", "revoke-token", "--id", newest, "--database-url", dbURL)
		if err != nil || !strings.Contains(out, newest) {
			t.Fatalf("revoke-token: %v\n%s", err, out)
		}
		for i, want := range []bool{true, false, true} { // tokens[1] is the newest acme token
			_, err := st.AdminTokenWorkspace(context.Background(), auth.Hash(tokens[i]))
			if (err == nil) != want {
				t.Errorf("token %d works = %v after revoking %s", i, err == nil, newest)
			}
		}
		if out, _ := runCombined(t, "admin", "list-tokens", "--workspace", "acme", "--database-url", dbURL); strings.Contains(out, newest) || !strings.Contains(out, oldest) {
			t.Errorf("after revocation list-tokens printed:\n%s", out)
		}

		// Mistakes exit 1 and echo no token.
		for _, args := range [][]string{
			{"admin", "revoke-token", "--id", newest},
			{"admin", "revoke-token", "--id", "not-an-id"},
			{"admin", "revoke-token", "--id", tokens[0]},
			{"admin", "list-tokens", "--workspace", "initech"},
		} {
			out, err := runCombined(t, append(args, "--database-url", dbURL)...)
			if err == nil || strings.Contains(out, tokens[0]) {
				t.Errorf("%s: err %v, output:\n%s", strings.Join(args, " "), err, out)
			}
		}
		if _, err := st.WorkspaceByName(context.Background(), "initech"); err != store.ErrNotFound {
			t.Errorf("list-tokens created a workspace: %v", err)
		}

		// The last token can go too: create-token recovers.
		if out, err := runCombined(t, "admin", "revoke-token", "--id", oldest, "--database-url", dbURL); err != nil {
			t.Fatalf("revoke the last token: %v\n%s", err, out)
		}
		if out, _ := runCombined(t, "admin", "list-tokens", "--workspace", "acme", "--database-url", dbURL); strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("a workspace without tokens lists:\n%s", out)
		}
	})
}
