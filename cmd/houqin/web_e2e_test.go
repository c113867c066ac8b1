package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/houqin/houqin/web"
)

// browserTests says whether the browser tests may run here; under `make
// test` (HOUQIN_BROWSER_TESTS=required) a missing piece fails the test
// instead of skipping it.
func browserTests(t *testing.T) (chromium string) {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv("HOUQIN_BROWSER_TESTS") == "required" {
			t.Fatalf("browser tests: %s", what)
		}
		t.Skipf("browser tests: %s (make test provides it)", what)
	}
	if testing.Short() {
		t.Skip("starts an embedded Temporal server and a browser")
	}
	if !web.Built() {
		missing("the web app is not built into this binary (make web)")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		missing("no chromium (scripts/ensure-browser.sh)")
	}
	if _, err := os.Stat(filepath.Join("..", "..", "web", "node_modules", "playwright-core")); err != nil {
		missing("no web/node_modules/playwright-core (make web)")
	}
	return chromium
}

// TestWebAppInBrowser runs web/e2e/smoke.mjs in headless Chromium against
// a real houqin dev: the login page in Chinese, liu.yang's inbox with
// wang.fang's two requisitions, one opened, a rejection without reason
// refused, an approval with a comment; English by the switch, phone width,
// sign-out, and no request to any other host. Screenshots land in
// web/e2e/screenshots.
func TestWebAppInBrowser(t *testing.T) {
	chromium := browserTests(t)
	d := startDev(t)
	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	id := created["id"].(string)
	other := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	d.pendingTask(t, "liu.yang", other["id"].(string), other["position"]) // both in his inbox before the browser looks

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shots, err := filepath.Abs(filepath.Join("..", "..", "web", "e2e", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "node", "e2e/smoke.mjs", d.url, shots)
	cmd.Dir = filepath.Join("..", "..", "web")
	cmd.Env = append(os.Environ(), "HOUQIN_PROCESS_ID="+id, "HOUQIN_OTHER_ID="+other["id"].(string), "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e/smoke.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
	// What the browser did is what the server holds: liu.yang approved the
	// first requisition with his comment; li.na now records its order.
	var approved map[string]any
	for _, e := range d.must(t, 200, "wang.fang", "GET", "/v1/processes/"+id, nil)["timeline"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "task.completed" {
			approved = ev
		}
	}
	if approved == nil || approved["actor"] != "liu.yang" || approved["data"].(map[string]any)["comment"] != "同意，请尽快采购" {
		t.Errorf("after the browser the approval is %v", approved)
	}
}
