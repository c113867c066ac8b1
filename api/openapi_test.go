package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// TestOpenAPIMatchesRouter keeps /openapi.json and the router in step: every
// route is documented and every documented operation is routed.
func TestOpenAPIMatchesRouter(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	s := NewServer(Config{Registry: prometheus.NewRegistry(), Auth: NewHS256(make([]byte, 32), nil), DevKey: make([]byte, 32)})
	router, ok := s.Handler().(chi.Routes)
	if !ok {
		t.Fatal("handler is not a chi router")
	}
	var routed []string
	err := chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, method+" "+strings.TrimSuffix(route, "/"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if diff := cmp.Diff(documented, routed); diff != "" {
		t.Fatalf("openapi.json and the router differ (-documented +routed):\n%s", diff)
	}
}

// TestOpenAPIOperationIDs: every operation has an operationId, unique, as
// client generators need, and the document names its license.
func TestOpenAPIOperationIDs(t *testing.T) {
	var doc struct {
		Info struct {
			License struct {
				Name string `json:"name"`
			} `json:"license"`
		} `json:"info"`
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.Info.License.Name == "" {
		t.Error("info.license.name is empty")
	}
	seen := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			where := strings.ToUpper(method) + " " + path
			switch {
			case op.OperationID == "":
				t.Errorf("%s has no operationId", where)
			case seen[op.OperationID] != "":
				t.Errorf("%s and %s share the operationId %s", where, seen[op.OperationID], op.OperationID)
			}
			seen[op.OperationID] = where
		}
	}
}

// TestOpenAPINoUnusedComponents: every schema the document defines is
// referenced somewhere, so the document says nothing the API does not use.
func TestOpenAPINoUnusedComponents(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(string(openAPI), `"#/components/schemas/`+name+`"`) {
			t.Errorf("components.schemas.%s is never referenced", name)
		}
	}
}

// TestOpenAPIDeclaresCommonStatuses: every /v1 operation declares the
// statuses that the middleware every request passes through can answer,
// whatever the handler: 401 (no or a bad token) and 500; a GET 400 and 503
// (min_position, see readYourWrites); a write 403 (auditors never act) and
// 503 (the event store or Temporal unavailable); a body 400 and 415
// (decode, jsonBodies). The contract checker (internal/contract) refuses
// any undeclared status the tests meet.
func TestOpenAPIDeclaresCommonStatuses(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody json.RawMessage            `json:"requestBody"`
			Responses   map[string]json.RawMessage `json:"responses"`
			Parameters  []struct {
				Name string `json:"name"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		for method, op := range ops {
			want := []string{"401", "500"}
			if method == "get" {
				want = append(want, "400", "503")
				if !slices.ContainsFunc(op.Parameters, func(p struct {
					Name string `json:"name"`
				}) bool {
					return p.Name == "min_position"
				}) {
					t.Errorf("GET %s does not declare min_position", path)
				}
			} else {
				want = append(want, "403", "503")
			}
			if op.RequestBody != nil {
				want = append(want, "400", "415")
			}
			for _, status := range want {
				if _, ok := op.Responses[status]; !ok {
					t.Errorf("%s %s does not declare %s", strings.ToUpper(method), path, status)
				}
			}
		}
	}
}
