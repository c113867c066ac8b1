// Package web serves houqin's web app: the Vue app that `npm run build`
// (make web) writes to dist/app, embedded in the binary, so that one
// `houqin` serves the app at / and the API at /v1 with no other server and
// no CDN (docs/WEB.md).
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// dist holds dist/.keep, so that the package builds before the app is
// built, and dist/app once it is.
//
//go:embed all:dist
var dist embed.FS

// Built reports whether the binary holds the built app.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

// Handler serves the app: a file of dist/app if there is one (hashed
// assets cached for a year), else index.html, which routes on the client.
// Every answer carries a Content-Security-Policy allowing this origin
// only. Without a built app it answers 503 with how to build it.
func Handler() http.Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil || !Built() {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("The web app is not in this binary: build it with `make web` (or `make run`), then build houqin again.\n网页应用尚未构建：请运行 make web 或 make run。\n"))
		})
	}
	files := http.FileServerFS(app)
	index, _ := fs.ReadFile(app, "index.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(app, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					h.Set("Cache-Control", "public, max-age=31536000, immutable") // names carry their content's hash
				}
				files.ServeHTTP(w, r)
				return
			}
			if path.Ext(name) != "" {
				http.NotFound(w, r) // a missing file, not a page of the app
				return
			}
		}
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(index)
	})
}
