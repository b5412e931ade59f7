package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestMetricLabelsBounded: label values come from known sets, so anonymous
// requests with made-up kinds, paths and methods add no series.
func TestMetricLabelsBounded(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	in := h.CreateIntegration(map[string]any{"name": "app", "kind": "custom"})
	series := func() []string {
		t.Helper()
		r := h.Do("GET", "/metrics", nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("metrics: %d", r.Status)
		}
		var out []string
		for _, line := range strings.Split(string(r.Body), "\n") {
			if strings.HasPrefix(line, "switchboard_inbound_requests_total{") ||
				strings.HasPrefix(line, "switchboard_http_request_duration_seconds_count{") {
				out = append(out, line)
			}
		}
		return out
	}
	// Warm up every known shape once.
	h.PostCustom(in.ID, in.APIKey, seedExample)
	h.Do("POST", "/api/webhooks/nosuchkind/"+in.ID, nil, `{}`)
	h.Do("BREW", "/api/webhooks/custom/"+in.ID, nil, `{}`)
	h.Do("GET", "/no/such/path", nil, nil)
	h.Do("GET", "/api/webhooks/nosuchkind/x", nil, nil)
	series() // the scrape itself is a series
	before := len(series())

	const n = 300
	for i := range n {
		kind := fmt.Sprintf("bogus%d", i)
		h.Do("POST", "/api/webhooks/"+kind+"/"+in.ID, nil, `{}`)
		h.Do("GET", "/api/webhooks/"+kind+"/x", nil, nil)
		h.Do(fmt.Sprintf("M%d", i), "/api/webhooks/custom/"+in.ID, nil, `{}`)
		h.Do("GET", fmt.Sprintf("/nowhere/%d", i), nil, nil)
	}
	after := series()
	if len(after) > before {
		t.Errorf("%d requests with made-up kinds, methods and paths added %d series:\n%s", 4*n, len(after)-before, strings.Join(after, "\n"))
	}
	for _, line := range after {
		if strings.Contains(line, "bogus") || strings.Contains(line, `method="M`) || strings.Contains(line, "nowhere") {
			t.Errorf("label from outside input: %s", line)
		}
	}
}
