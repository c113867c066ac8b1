package web

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// TestHandler: the built app's index page for / and every client-side
// route, its hashed assets cached for a year, a missing file 404, and a
// policy that lets the page load nothing from another origin. (`make test`
// builds the app first; a binary built without it says how to build it.)
func TestHandler(t *testing.T) {
	h := Handler()
	if !Built() {
		w := get(t, h, "/")
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "make web") {
			t.Fatalf("without the app / = %d %q, want 503 saying how to build it", w.Code, w.Body)
		}
		t.Skip("the web app is not built (make web); only the placeholder was checked")
	}
	for _, path := range []string{"/", "/inbox", "/login?next=/inbox", "/processes/PR-2026-000001"} {
		w := get(t, h, path)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<div id="app">`) || w.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s = %d %s %q, want the index page, not cached", path, w.Code, w.Header().Get("Cache-Control"), w.Body.String())
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
	index := get(t, h, "/").Body.String()
	i := strings.Index(index, "/assets/")
	if i < 0 {
		t.Fatalf("the index page names no asset: %s", index)
	}
	asset := index[i : i+strings.IndexAny(index[i:], `"'`)]
	w := get(t, h, asset)
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("%s = %d, Cache-Control %q", asset, w.Code, w.Header().Get("Cache-Control"))
	}
	if w := get(t, h, "/assets/missing-0000.js"); w.Code != http.StatusNotFound {
		t.Errorf("a missing asset = %d, want 404", w.Code)
	}
}

// TestInitialLoadBudget: what the browser fetches before the first page
// shows — index.html and the assets it names (the entry script, its
// preloaded imports, the styles) — stays within 600 KB gzipped; pages load
// their own chunks when first shown. The figure goes to
// docs/BENCHMARKS.md.
func TestInitialLoadBudget(t *testing.T) {
	if !Built() {
		t.Skip("the web app is not built (make web)")
	}
	index, err := fs.ReadFile(dist, "dist/app/index.html")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`(?:src|href)="/(assets/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
	if len(names) == 0 {
		t.Fatalf("index.html names no asset:\n%s", index)
	}
	total := gzipped(t, index)
	for _, m := range names {
		b, err := fs.ReadFile(dist, "dist/app/"+m[1])
		if err != nil {
			t.Fatal(err)
		}
		total += gzipped(t, b)
	}
	t.Logf("initial load: index.html and %d assets, %.1f KB gzipped", len(names), float64(total)/1024)
	if total > 600<<10 {
		t.Errorf("initial load %.1f KB gzipped, over the 600 KB budget", float64(total)/1024)
	}
}

func gzipped(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	if _, err := z.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}
