package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// process is a server the suite started: a hub or a bare server.
type process struct {
	name string
	cmd  *exec.Cmd
	url  string
	log  *os.File
	done chan struct{}
	err  error // how it ended, once done is closed
}

var servingLine = regexp.MustCompile(`Switchboard is running at (http://\S+)`)

// startProcess runs bin with args, its stderr and the rest of its stdout
// in logPath, and waits for its URL: the first line of stdout that
// urlLine matches (its first group, or the whole line).
func startProcess(ctx context.Context, name, bin string, args []string, logPath string, urlLine *regexp.Regexp) (*process, error) {
	// Appended to: a server started again keeps its predecessor's log.
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("benchsuite: %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = ownGroup()
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("benchsuite: %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("benchsuite: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logf, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if !found {
				if m := urlLine.FindStringSubmatch(line); m != nil {
					found = true
					urls <- m[len(m)-1]
					continue
				}
			}
			fmt.Fprintln(logf, line)
		}
		io.Copy(logf, stdout)
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.url = <-urls:
		return p, nil
	case <-p.done:
		logf.Close()
		return nil, fmt.Errorf("benchsuite: %s exited before it served (%v); see %s", name, p.err, logPath)
	case <-time.After(60 * time.Second):
	case <-ctx.Done():
	}
	p.stop()
	return nil, fmt.Errorf("benchsuite: %s did not start; see %s", name, logPath)
}

// ownGroup puts a child in a process group of its own: a Ctrl-C at the
// terminal reaches the suite alone, which then stops its servers in order
// (hubs before their database).
func ownGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func (p *process) pid() int { return p.cmd.Process.Pid }

// alive reports whether the process still runs: a hub that died mid-run
// (killed by someone else on a shared machine, say) fails the step that
// needs it instead of measuring nothing.
func (p *process) alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("benchsuite: %s (pid %d) has exited: %v", p.name, p.pid(), p.err)
	default:
		return nil
	}
}

// stop asks the process to shut down (SIGTERM), as an operator would, and
// kills it if it has not within 20 s.
func (p *process) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.log.Close()
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("benchsuite: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// hubArgs is how the suite starts a hub; the doc shows the same command.
func hubArgs(dbURL, addr, debugAddr string) []string {
	return []string{"serve", "--allow-private-targets", "--database-url", dbURL, "--addr", addr,
		"--debug-addr", debugAddr, "--log-level", "warn"}
}

// startHub runs `switchboard serve` on dbURL and waits until /readyz
// answers 200.
func (s *suite) startHub(ctx context.Context, name, dbURL string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	debug, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProcess(ctx, name, s.bin, hubArgs(dbURL, addr, debug), filepath.Join(s.tmp, name+".log"), servingLine)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, p); err != nil {
		p.stop()
		return nil, err
	}
	s.log.Debug("hub ready", "name", name, "url", p.url, "pid", p.pid())
	return p, nil
}

func waitReady(ctx context.Context, p *process) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := p.alive(); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", p.url+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("benchsuite: %s not ready after 60 s", p.name)
}

var urlOnly = regexp.MustCompile(`^(http://\S+)$`)

// startBare runs the bare server the bench measures the ceiling with.
func (s *suite) startBare(ctx context.Context, name string) (*process, error) {
	return startProcess(ctx, name, s.bin, []string{"bench-bare-server", "--addr", "127.0.0.1:0"},
		filepath.Join(s.tmp, name+".log"), urlOnly)
}

// createToken makes the admin token the bench loads the hub with. It
// never leaves memory and the bench's environment.
func (s *suite) createToken(ctx context.Context, dbURL string) (string, error) {
	out, err := exec.CommandContext(ctx, s.bin, "admin", "create-token", "--workspace", "bench", "--database-url", dbURL).Output()
	if err != nil {
		return "", fmt.Errorf("benchsuite: admin create-token: %w", exitDetail(err))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(token, "sba_") {
		return "", errors.New("benchsuite: admin create-token printed no token on its last line")
	}
	return token, nil
}

func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}

// postgres is a throwaway server started by .ci/start-postgres, as CI
// starts it.
type postgres struct {
	dir string
	url string
	log *slog.Logger
}

func startPostgres(ctx context.Context, root string, log *slog.Logger) (*postgres, error) {
	// Its own directory under /tmp, as CI's: the postgres user must reach it.
	dir, err := os.MkdirTemp("", "switchboard-bench-pg.")
	if err != nil {
		return nil, fmt.Errorf("benchsuite: postgres: %w", err)
	}
	pg := &postgres{dir: dir, log: log}
	start := exec.CommandContext(ctx, filepath.Join(root, ".ci", "start-postgres"), dir)
	start.SysProcAttr = ownGroup()
	out, err := start.Output()
	if err != nil {
		pg.stop()
		return nil, fmt.Errorf("benchsuite: .ci/start-postgres (it needs PostgreSQL 15; -db sqlite runs without it): %w", exitDetail(err))
	}
	pg.url = strings.TrimSpace(string(out))
	if !strings.HasPrefix(pg.url, "postgres://") {
		pg.stop()
		return nil, fmt.Errorf("benchsuite: .ci/start-postgres printed %q, not a database URL", pg.url)
	}
	return pg, nil
}

// stop stops the server and removes its files, as .ci/run does.
func (pg *postgres) stop() {
	if pg == nil {
		return
	}
	if _, err := os.Stat(filepath.Join(pg.dir, "data")); err == nil {
		ctl := fmt.Sprintf("/usr/lib/postgresql/15/bin/pg_ctl -D '%s/data' -m fast stop", pg.dir)
		cmd := exec.Command("bash", "-c", ctl)
		if os.Geteuid() == 0 {
			cmd = exec.Command("su", "postgres", "-s", "/bin/bash", "-c", ctl)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			pg.log.Warn("benchsuite: stop postgres", "err", err, "output", strings.TrimSpace(string(out)))
		}
	}
	os.RemoveAll(pg.dir)
}

// removeBenchSubscriptions deletes the webhook subscriptions of bench
// receivers (their URLs end in /bench) left by runs that were cut short.
func (s *suite) removeBenchSubscriptions(ctx context.Context, env *dbEnv) error {
	call := func(method, path string, out any) error {
		req, err := http.NewRequestWithContext(ctx, method, env.hub.url+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+env.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
		}
		if out == nil {
			return nil
		}
		return json.NewDecoder(resp.Body).Decode(out)
	}
	var list struct {
		Webhooks []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"webhooks"`
	}
	if err := call("GET", "/api/webhooks/?limit=500", &list); err != nil {
		return fmt.Errorf("benchsuite: list subscriptions: %w", err)
	}
	for _, w := range list.Webhooks {
		if strings.HasSuffix(w.URL, "/bench") {
			if err := call("POST", "/api/webhooks/"+w.ID+"/delete", nil); err != nil {
				return fmt.Errorf("benchsuite: remove a stale subscription: %w", err)
			}
			s.log.Info("removed the subscription of an interrupted run's receiver", "database", env.name)
		}
	}
	return nil
}
