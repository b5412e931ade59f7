package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// hubProcess is a `switchboard serve` subprocess.
type hubProcess struct {
	cmd *exec.Cmd
	url string
}

var servingLine = regexp.MustCompile(`Switchboard is running at (http://\S+)`)

func startServe(t *testing.T, dbURL, pluginDir string) *hubProcess {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--database-url", dbURL, "--plugin-dir", pluginDir,
		"--allow-private-targets", "--retry-schedule", "0s,200ms,500ms,1s,2s,5s,10s,20s", "--delivery-timeout", "3s", "--log-level", "warn")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return &hubProcess{cmd: cmd, url: u}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return nil
}

func (p *hubProcess) admin(t *testing.T, token, method, path string, body any) (int, []byte) {
	t.Helper()
	status, b, err := p.try(token, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, b
}

// try is admin without failing the test: a request to a killed hub errors.
func (p *hubProcess) try(token, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Api-Key", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

// TestTwoProcessesShareDeliveries runs two hubs on one PostgreSQL database,
// queues 2,000 events through both, kills one with SIGKILL mid-run, and
// checks the receiver got every event at least once, counting duplicates.
func TestTwoProcessesShareDeliveries(t *testing.T) {
	if storetest.Postgres(t) == "" {
		t.Skip("needs PostgreSQL: set " + storetest.EnvDatabaseURL)
	}
	if testing.Short() {
		t.Skip("long test")
	}
	t.Run("no crash", func(t *testing.T) { twoProcesses(t, false) })
	t.Run("kill -9 mid-run", func(t *testing.T) { twoProcesses(t, true) })
}

func twoProcesses(t *testing.T, kill bool) {
	db := storetest.Postgres(t)
	pluginDir := t.TempDir()
	if err := apptest.BuildPlugins(pluginDir); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "admin", "create-token", "--workspace", "mp", "--database-url", db)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])

	var mu sync.Mutex
	received := map[string]int{} // event content → times received
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Content string }
		json.NewDecoder(r.Body).Decode(&body)
		time.Sleep(2 * time.Millisecond) // a receiver that does some work
		mu.Lock()
		received[body.Content]++
		mu.Unlock()
	}))
	defer recv.Close()
	count := func() (distinct, total int) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range received {
			distinct++
			total += n
		}
		return
	}

	a := startServe(t, db, pluginDir)
	b := startServe(t, db, pluginDir)
	status, body := a.admin(t, token, "POST", "/api/integrations", map[string]any{"name": "mp", "kind": "custom", "outboundUrl": recv.URL + "/events"})
	if status != 201 {
		t.Fatalf("create integration: %d %s", status, body)
	}
	var in struct{ ID, APIKey string }
	json.Unmarshal(body, &in)

	const conversations, total = 50, 2000
	for i := range conversations {
		req, _ := http.NewRequest("POST", b.url+"/api/webhooks/custom/"+in.ID,
			strings.NewReader(fmt.Sprintf(`{"messageId":"mp-%d","conversationId":"mp-conv-%d","from":{"externalId":"u%d"},"content":"hi"}`, i, i, i)))
		req.Header.Set("X-Api-Key", in.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	_, body = b.admin(t, token, "GET", "/api/conversations?limit=500&integrationId="+in.ID, nil)
	var convs struct{ Conversations []struct{ ID string } }
	json.Unmarshal(body, &convs)
	var convIDs []string
	for _, c := range convs.Conversations {
		convIDs = append(convIDs, c.ID)
	}
	if len(convIDs) != conversations {
		t.Fatalf("%d conversations", len(convIDs))
	}

	// Queue the events through both processes, eight senders at a time; a
	// reply the killed process did not take is sent to the survivor.
	var wg sync.WaitGroup
	var unqueued sync.Map
	jobs := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				path := "/api/conversations/" + convIDs[i%conversations] + "/messages"
				msg := map[string]any{"content": fmt.Sprint("event ", i)}
				if i%2 == 0 {
					if status, _, err := a.try(token, "POST", path, msg); err == nil && status == 201 {
						continue
					}
				}
				if status, body, err := b.try(token, "POST", path, msg); err != nil || status != 201 {
					unqueued.Store(i, fmt.Sprintf("%d %s %v", status, body, err))
				}
			}
		}()
	}
	killed := false
	for i := range total {
		jobs <- i
		if d, _ := count(); kill && !killed && d >= 400 {
			a.cmd.Process.Signal(syscall.SIGKILL) // mid-run, claims and all
			killed = true
		}
	}
	close(jobs)
	wg.Wait()
	if kill && !killed {
		a.cmd.Process.Signal(syscall.SIGKILL)
	}
	unqueued.Range(func(k, v any) bool {
		t.Errorf("event %v was not queued: %v", k, v)
		return true
	})

	// Wait until nothing is pending: the killed process's claims run out and
	// the survivor delivers what they held.
	pendingLeft := func() int {
		_, body, err := b.try(token, "GET", "/api/deliveries?limit=500&status=pending&integrationId="+in.ID, nil)
		if err != nil {
			return -1
		}
		var pending struct{ Deliveries []any }
		json.Unmarshal(body, &pending)
		return len(pending.Deliveries)
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if d, _ := count(); d >= total && pendingLeft() == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	distinct, all := count()
	t.Logf("%d events: received %d distinct, %d in all, %d duplicates; %d pending", total, distinct, all, all-distinct, pendingLeft())
	mu.Lock()
	defer mu.Unlock()
	for i := range total {
		if received[fmt.Sprint("event ", i)] == 0 {
			t.Errorf("event %d never arrived", i)
		}
	}
	// Duplicates can only come from attempts the killed process made but
	// never recorded: at most its deliveries in flight. Without a crash, none.
	dup := all - distinct
	if kill && dup > 64 {
		t.Errorf("%d duplicates; the killed process could have had at most 64 attempts in flight", dup)
	}
	if !kill && dup != 0 {
		t.Errorf("%d duplicates without a crash", dup)
	}
}
