package contract

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const spec = `{
 "openapi": "3.1.0",
 "info": {"title": "t", "version": "1", "license": {"name": "x"}},
 "paths": {
  "/v1/things": {
   "post": {
    "operationId": "postThings",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {
      "type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
    "responses": {
     "201": {"description": "made", "content": {"application/json": {"schema": {
       "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}}}},
     "400": {"description": "bad", "content": {"application/problem+json": {"schema": {"type": "object"}}}}
    }
   }
  }
 }
}`

func TestCheck(t *testing.T) {
	c, err := New([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		header                   http.Header
		resp, wantErr            string
	}{
		{"keeps to the spec", "POST", "/v1/things", `{"name":"a"}`, 201, json, `{"id":"1","tags":[]}`, ""},
		{"a refused request refused", "POST", "/v1/things", `{}`, 400, problem, `{}`, ""},
		{"a refused request accepted", "POST", "/v1/things", `{"name":"a","extra":1}`, 201, json, `{"id":"1"}`, "the server answered 201 to a request the spec refuses"},
		{"null for an array", "POST", "/v1/things", `{"name":"a"}`, 201, json, `{"id":"1","tags":null}`, "response 201"},
		{"a required field missing", "POST", "/v1/things", `{"name":"a"}`, 201, json, `{}`, "missing property 'id'"},
		{"an undeclared status", "POST", "/v1/things", `{"name":"a"}`, 409, problem, `{}`, "status is not supported"},
		{"an unknown path refused", "GET", "/v1/nothing", ``, 404, problem, `{}`, ""},
		{"a wrong method refused", "GET", "/v1/things", ``, 405, problem, `{}`, ""},
		{"an unknown path answered", "GET", "/v1/nothing", ``, 200, json, `{}`, "is not in the spec"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			err := c.Check(r, []byte(tt.body), tt.status, tt.header, []byte(tt.resp))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Check = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
