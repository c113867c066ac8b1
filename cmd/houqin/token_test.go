package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
)

// authenticate checks tok the way the API does, with the dev key of dataDir
// and org, and returns the identity it proves.
func authenticate(t *testing.T, dataDir string, org *houqin.Org, tok string) houqin.Identity {
	t.Helper()
	key, err := api.LoadOrCreateDevKey(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	id, err := api.NewHS256(key, org).Authenticate(r)
	if err != nil {
		t.Fatalf("token %q: %v", tok, err)
	}
	return id
}

func TestToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, _ := run(t, "token", "--data", dir, "wang.fang")
	tok := strings.TrimSpace(out)
	org, err := loadOrg("")
	if err != nil {
		t.Fatal(err)
	}
	want := houqin.Identity{UserID: "wang.fang", Name: "王芳", Department: "MKT", Roles: []string{"employee"}}
	if diff := cmp.Diff(want, authenticate(t, dir, org, tok)); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}

	// A second token reuses the key: the first one stays valid.
	out, _ = run(t, "token", "--data", dir, "li.na", "--ttl", "1h")
	if id := authenticate(t, dir, org, strings.TrimSpace(out)); id.UserID != "li.na" {
		t.Errorf("second token names %q, want li.na", id.UserID)
	}
	authenticate(t, dir, org, tok)

	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(out), &c); err != nil {
		t.Fatal(err)
	}
	if ttl := c.ExpiresAt.Sub(c.IssuedAt.Time); ttl != time.Hour {
		t.Errorf("--ttl 1h gave a token valid for %v", ttl)
	}

	// Another data directory has another key.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	otherKey, err := api.LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.NewHS256(otherKey, org).Authenticate(r); houqin.ErrorCode(err) != houqin.EUNAUTHORIZED {
		t.Errorf("token accepted with another data dir's key: %v", err)
	}
}

func TestTokenOrgFile(t *testing.T) {
	dir := t.TempDir()
	orgFile := filepath.Join(dir, "org.yaml")
	doc := "departments:\n  - {id: OPS, name: 运营部, head: solo}\nusers:\n  - {id: solo, name: 独, department: OPS, roles: [admin], manager: \"\"}\n"
	if err := os.WriteFile(orgFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, "token", "--data", dir, "--org", orgFile, "solo")
	org, err := loadOrg(orgFile)
	if err != nil {
		t.Fatal(err)
	}
	if id := authenticate(t, dir, org, strings.TrimSpace(out)); id.UserID != "solo" || !id.HasRole("admin") {
		t.Errorf("identity %+v, want solo with role admin", id)
	}
}

func TestTokenErrors(t *testing.T) {
	dir := t.TempDir()
	badOrg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badOrg, []byte("departments:\n  - {id: OPS, name: x, head: nobody}\nusers:\n  - {id: a, name: a, department: OPS}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"unknown user", []string{"--data", dir, "ghost"}, `unknown user "ghost"`},
		{"unknown user of the org file", []string{"--data", dir, "--org", badOrg, "wang.fang"}, `departments[0].head: unknown user "nobody"`},
		{"missing org file", []string{"--data", dir, "--org", filepath.Join(dir, "nope.yaml"), "wang.fang"}, "nope.yaml"},
		{"no user", []string{"--data", dir}, "user id required"},
		{"two users", []string{"--data", dir, "wang.fang", "li.na"}, `extra arguments ["li.na"]`},
		{"bad ttl", []string{"--data", dir, "--ttl", "-1h", "wang.fang"}, "--ttl must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), append([]string{"token"}, tt.args...), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed %q on failure", stdout.String())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, api.DevKeyFile)); err == nil {
		t.Error("a failed token command created the dev key")
	}
}
