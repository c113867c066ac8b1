// Package contract checks HTTP exchanges against houqin's OpenAPI document
// (api/openapi.json) with an independent validator, kin-openapi: the API
// tests and the end-to-end tests pass every request they send and every
// answer they get through a Checker, so that a difference between the
// server and its spec fails `make test`.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Checker holds a parsed OpenAPI document; it is safe for concurrent use.
type Checker struct {
	router routers.Router
}

// The report formats the validator has no decoder of its own for: an HTML
// report is text, a workbook bytes.
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", openapi3filter.FileBodyDecoder)
}

// New parses and validates spec. The document's servers are dropped, so
// that requests to any host (a test server's random port) match its paths.
func New(spec []byte) (*Checker, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return &Checker{router: router}, nil
}

// Check reports how the exchange of r (whose body was body) and its
// response (status, header, respBody) departs from the spec:
//   - a request to a path or with a method the spec does not have must be
//     refused (404 or 405);
//   - a request the spec refuses must not succeed: the server must not
//     accept what its contract forbids (it may refuse more: business rules
//     beyond the schemas answer 400, 409 or 422);
//   - every response's status must be declared for its operation, and its
//     body must match the declared schema.
//
// Authentication is the server's own affair (the tests check it): the
// spec's security requirements are taken as met.
func (c *Checker) Check(r *http.Request, body []byte, status int, header http.Header, respBody []byte) error {
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("%s %s is not in the spec (%v), yet the server answered %d", r.Method, r.URL.Path, err, status)
	}
	ctx := context.Background()
	opts := &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true,
		RejectWhenRequestBodyNotSpecified: true,
	}
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var errs []error
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && status < 400 {
		errs = append(errs, fmt.Errorf("the server answered %d to a request the spec refuses: %w", status, err))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: opts}
	if err := openapi3filter.ValidateResponse(ctx, out.SetBodyBytes(respBody)); err != nil {
		errs = append(errs, fmt.Errorf("response %d: %w", status, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s %s (operation %s): %w", r.Method, r.URL.RequestURI(), route.Operation.OperationID, err)
	}
	return nil
}
