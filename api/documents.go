package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin/documents"
)

// namedDocument is a pointer to a document folded from a process's stream
// that shows people by name (it embeds documents.Names).
type namedDocument[D any] interface {
	*D
	SetNames(documents.Names)
}

// processDocument serves a document of the process {id} (工作成果):
// ?format=html (the default, printable) or xlsx, folded from the event
// store by read, to whoever may read the process (mayRead), after
// ?min_position if given. read answers ENOTFOUND for no such process and
// ENOTALLOWED before the document exists (a claim form before the claim).
func processDocument[D any, P namedDocument[D]](s *Server, name string, read func(context.Context, documents.Reader, string) (D, error),
	write func(io.Writer, D, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, format := chi.URLParam(r, "id"), r.URL.Query().Get("format")
		if format == "" {
			format = documents.FormatHTML
		}
		err := oneOf("format", format, documents.FormatHTML, documents.FormatXLSX)
		if err == nil {
			err = s.waitMinPosition(r)
		}
		if err == nil {
			err = s.mayRead(r, id)
		}
		var doc D
		if err == nil {
			doc, err = read(r.Context(), s.cfg.Store, id)
		}
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		P(&doc).SetNames(documents.NamesFrom(s.cfg.Org))
		var buf bytes.Buffer
		if err := write(&buf, doc, format); err != nil {
			s.problems.Error(w, r, err)
			return
		}
		if format == documents.FormatXLSX {
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.xlsx"`, id, name))
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.Write(buf.Bytes())
	}
}
