package core_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestWebchatWidgetInNode runs the widget itself, as served by the hub,
// in Node with a minimal DOM (testdata/widget_harness.js): it posts a
// visitor's message, and an agent's reply appears in its panel as text.
// Skipped where Node (20 or later) is not installed.
func TestWebchatWidgetInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if exec.Command(node, "--experimental-eventsource", "--no-warnings", "-e", "if (typeof EventSource !== 'function' || typeof fetch !== 'function') process.exit(3)").Run() != nil {
		t.Skip("this node has no EventSource or fetch (Node 20 or later has both)")
	}
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "shop", "kind": "webchat"})
	harness, err := filepath.Abs(filepath.Join("testdata", "widget_harness.js"))
	if err != nil {
		t.Fatal(err)
	}
	const reply = "<i>Hi</i> from the agent & team"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--experimental-eventsource", "--no-warnings", harness)
	cmd.Env = append(os.Environ(), "HUB="+h.URL, "INTEGRATION="+in.ID, "REPLY="+reply)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	var visitor string
	for lines.Scan() {
		line := lines.Text()
		t.Log("widget: " + line)
		if v, ok := strings.CutPrefix(line, "VISITOR "); ok {
			visitor = v
			break
		}
	}
	if visitor == "" {
		cmd.Wait()
		t.Fatal("the widget did not post its message")
	}
	if len(visitor) != 43 {
		t.Errorf("visitor id %q: want 43 base64url characters (256 bits)", visitor)
	}
	convs := webchatConversations(t, h, in.ID)
	if len(convs) != 1 || convs[0].ExternalID != visitor || convs[0].Contact.Name != "Node Visitor" {
		t.Fatalf("conversations %+v", convs)
	}
	if r := h.Admin("POST", "/api/conversations/"+convs[0].ID+"/messages", map[string]any{"content": reply}); r.Status != http.StatusCreated {
		t.Fatalf("agent reply: %d %s", r.Status, r.Body)
	}
	shown := false
	for lines.Scan() {
		t.Log("widget: " + lines.Text())
		shown = shown || lines.Text() == "REPLY SHOWN"
	}
	if err := cmd.Wait(); err != nil || !shown {
		t.Fatalf("the widget did not show the reply: %v", err)
	}
}
