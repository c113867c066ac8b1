package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/houqin/houqin/api"
)

// TestHTTPSemantics: a wrong method is 405 naming what the path takes
// (Allow); HEAD works wherever GET does; OPTIONS answers without a token;
// a body declared as anything but JSON is 415.
func TestHTTPSemantics(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	send := func(user, method, path, contentType, body string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if user != "" {
			tok, err := api.IssueDevToken(f.key, user, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		f.handler.ServeHTTP(w, r)
		return w
	}

	w := send("wang.fang", http.MethodPut, "/v1/tasks", "", "")
	problem(t, w, http.StatusMethodNotAllowed, "method: PUT is not allowed on /v1/tasks; it takes GET, HEAD, OPTIONS")
	if got := w.Header().Get("Allow"); got != "GET, HEAD, OPTIONS" {
		t.Errorf("Allow = %q, want GET, HEAD, OPTIONS", got)
	}
	w = send("wang.fang", http.MethodDelete, "/v1/inventory/items/A4", "", "")
	if got := w.Header().Get("Allow"); w.Code != 405 || got != "GET, HEAD, PATCH, OPTIONS" {
		t.Errorf("DELETE on an item = %d, Allow %q; want 405 and GET, HEAD, PATCH, OPTIONS", w.Code, got)
	}

	// HEAD runs the GET handler (net/http's server drops the body).
	w = send("wang.fang", http.MethodHead, "/v1/tasks?assignee=me", "", "")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Errorf("HEAD /v1/tasks = %d %q, want 200 as GET answers", w.Code, w.Header().Get("Content-Type"))
	}
	if w := send("", http.MethodHead, "/v1/tasks", "", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("HEAD without a token = %d, want 401", w.Code)
	}

	w = send("", http.MethodOptions, "/v1/procurements", "", "")
	if got := w.Header().Get("Allow"); w.Code != http.StatusNoContent || got != "POST, OPTIONS" {
		t.Errorf("OPTIONS /v1/procurements = %d, Allow %q; want 204 and POST, OPTIONS", w.Code, got)
	}
	problem(t, send("", http.MethodOptions, "/v1/nowhere", "", ""), http.StatusNotFound, "path: no route /v1/nowhere")

	problem(t, send("wang.fang", http.MethodPost, "/v1/procurements", "text/plain", `{"department":"MKT"}`),
		http.StatusUnsupportedMediaType, `content-type: the body must be application/json, got "text/plain"`)
	problem(t, send("wang.fang", http.MethodPost, "/v1/procurements/preview", "application/x-www-form-urlencoded", `department=MKT`),
		http.StatusUnsupportedMediaType, "content-type:")
	// JSON, with a charset or without a Content-Type, is read.
	problem(t, send("wang.fang", http.MethodPost, "/v1/procurements/preview", "application/json; charset=utf-8", `{"colour":"red"}`),
		http.StatusBadRequest, "colour: unknown field")
	problem(t, send("wang.fang", http.MethodPost, "/v1/procurements/preview", "", `{"colour":"red"}`),
		http.StatusBadRequest, "colour: unknown field")
}

// TestEveryGETTakesMinPosition: min_position holds on every GET, also
// those whose handlers read no read model (delegations, schedules).
func TestEveryGETTakesMinPosition(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	for _, path := range []string{"/v1/delegations", "/v1/inspection-schedules", "/v1/inventory/stocktake-schedules", "/v1/reports/plan"} {
		problem(t, f.do("zhang.wei", http.MethodGet, path+"?min_position=99999", ""), http.StatusServiceUnavailable,
			"min_position: read models have not reached position 99999 yet")
		problem(t, f.do("zhang.wei", http.MethodGet, path+"?min_position=x", ""), http.StatusBadRequest, "min_position: must be a non-negative integer")
	}
}
