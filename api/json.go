package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/houqin/houqin"
)

// decode reads a JSON body into v, refusing unknown fields, trailing data,
// oversized bodies and control characters in any text (houqin.CheckText)
// with an EINVALID that names the field.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeErr(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var (
			syntax *json.SyntaxError
			typ    *json.UnmarshalTypeError
			tooBig *http.MaxBytesError
		)
		switch {
		case errors.As(err, &tooBig):
			return houqin.Errorf(houqin.EINVALID, "body: larger than %d bytes", tooBig.Limit)
		case errors.Is(err, io.EOF):
			return houqin.Errorf(houqin.EINVALID, "body: a JSON object is required")
		case errors.As(err, &syntax):
			return houqin.Errorf(houqin.EINVALID, "body: invalid JSON at byte %d", syntax.Offset)
		case errors.As(err, &typ):
			return houqin.Errorf(houqin.EINVALID, "%s: must be %s, got %s", typ.Field, typ.Type, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return houqin.Errorf(houqin.EINVALID, "%s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
		default:
			return houqin.Errorf(houqin.EINVALID, "body: %v", err)
		}
	}
	if dec.More() {
		return houqin.Errorf(houqin.EINVALID, "body: trailing data after the JSON object")
	}
	return houqin.CheckJSONText(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"code":"EINTERNAL"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// page reads ?limit= (1–200, default 50) and ?cursor= (an opaque position).
func page(r *http.Request) (limit int, before int64, err error) {
	q := r.URL.Query()
	limit = 50
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 200 {
			return 0, 0, houqin.Errorf(houqin.EINVALID, "limit: must be between 1 and 200, got %q", v)
		}
	}
	if v := q.Get("cursor"); v != "" {
		if before, err = strconv.ParseInt(v, 36, 64); err != nil || before < 1 {
			return 0, 0, houqin.Errorf(houqin.EINVALID, "cursor: %q is not a cursor this API returned", v)
		}
	}
	return limit, before, nil
}

// listPage is one page of a list, and the cursor of the next page ("" when
// this page was not full, so there is none).
type listPage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// newPage makes the page of items fetched with limit; position gives an
// item's place in the list's order, which the cursor carries.
func newPage[T any](items []T, limit int, position func(T) int64) listPage[T] {
	p := listPage[T]{Items: items}
	if len(items) == limit && limit > 0 {
		p.NextCursor = strconv.FormatInt(position(items[len(items)-1]), 36)
	}
	return p
}

func oneOf(field, v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return houqin.Errorf(houqin.EINVALID, "%s: must be one of %s, got %q", field, strings.Join(allowed, ", "), v)
}
