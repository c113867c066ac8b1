// Package api is houqin's HTTP API: chi router, handlers, authentication, problem+json errors.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/houqin/houqin"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/text/language"
)

// ProblemContentType is the media type of error responses (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is the body of every error response: an RFC 9457 problem details
// object with houqin's stable error code.
type Problem struct {
	Type   string `json:"type"`   // URI naming the kind of problem, e.g. "https://houqin.dev/problems/EFORBIDDEN"
	Title  string `json:"title"`  // short summary of the kind, the same for every occurrence
	Status int    `json:"status"` // the HTTP status code
	Code   string `json:"code"`   // houqin error code, e.g. "EFORBIDDEN"
	Detail string `json:"detail"` // what went wrong this time; never internals
}

// problemKind is one row of the code → status table.
type problemKind struct {
	status  int
	title   string
	titleZh string // the title in Chinese, for a request that asks for it
}

// problemKinds maps every houqin error code to its HTTP status: the one
// place where that mapping lives.
var problemKinds = map[string]problemKind{
	houqin.EINVALID:      {http.StatusBadRequest, "Invalid request", "请求有误"},
	houqin.EUNAUTHORIZED: {http.StatusUnauthorized, "Unauthorized", "未登录"},
	houqin.EFORBIDDEN:    {http.StatusForbidden, "Forbidden", "无权操作"},
	houqin.ENOTFOUND:     {http.StatusNotFound, "Not found", "不存在"},
	houqin.ECONFLICT:     {http.StatusConflict, "Conflict", "状态已变化"},
	houqin.ENOTALLOWED:   {http.StatusUnprocessableEntity, "Not allowed now", "当前不允许"},
	houqin.EUNAVAILABLE:  {http.StatusServiceUnavailable, "Service unavailable", "服务暂不可用"},
	houqin.EMETHOD:       {http.StatusMethodNotAllowed, "Method not allowed", "不支持该方法"},
	houqin.EMEDIATYPE:    {http.StatusUnsupportedMediaType, "Unsupported media type", "不支持的内容类型"},
	houqin.EINTERNAL:     {http.StatusInternalServerError, "Internal error", "内部错误"},
}

// HTTPStatus returns the HTTP status of an error code; 500 for an unknown
// code.
func HTTPStatus(code string) int {
	if k, ok := problemKinds[code]; ok {
		return k.status
	}
	return http.StatusInternalServerError
}

// ProblemType returns the problem type URI of an error code.
func ProblemType(code string) string { return "https://houqin.dev/problems/" + code }

// Problems writes error responses, logs the internal ones and counts them
// all in houqin_http_errors_total{code}. A nil *Problems writes responses,
// logs to slog.Default and counts nothing.
type Problems struct {
	log    *slog.Logger
	errors *prometheus.CounterVec // nil: metrics off
}

// NewProblems returns a Problems that logs to log (slog.Default if nil) and
// registers its counter with reg (no metrics if nil).
func NewProblems(log *slog.Logger, reg prometheus.Registerer) *Problems {
	if log == nil {
		log = slog.Default()
	}
	p := &Problems{log: log}
	if reg != nil {
		p.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "houqin_http_errors_total",
			Help: "HTTP error responses by houqin error code (EINVALID, EFORBIDDEN, EINTERNAL, ...).",
		}, []string{"code"})
		reg.MustRegister(p.errors)
	}
	return p
}

// Error writes err as an application/problem+json response. The status and
// code come from the first *houqin.Error in err's chain, or from a Temporal
// *ApplicationError whose type is a houqin code (how workflow, update and
// activity failures cross Temporal); a deadline or cancellation is
// EUNAVAILABLE; anything else is EINTERNAL, logged with its full text and
// answered with a generic detail so internals never reach the client.
func (p *Problems) Error(w http.ResponseWriter, r *http.Request, err error) {
	code, detail := classify(err)
	kind, ok := problemKinds[code]
	if !ok { // a houqin.Error with a made-up code is a bug
		code, kind, detail = houqin.EINTERNAL, problemKinds[houqin.EINTERNAL], ""
	}
	if code == houqin.EINTERNAL {
		detail = "Internal error."
	}

	log, ctx := slog.Default(), context.Background()
	if p != nil {
		log = p.log
		if p.errors != nil {
			p.errors.WithLabelValues(code).Inc()
		}
	}
	attrs := []any{"code", code, "err", err}
	if r != nil {
		ctx = r.Context()
		attrs = append(attrs, "method", r.Method, "path", r.URL.Path)
	}
	switch code {
	case houqin.EINTERNAL:
		log.ErrorContext(ctx, "http request failed", attrs...)
	case houqin.EUNAVAILABLE:
		log.WarnContext(ctx, "http request failed", attrs...)
	}

	// Said in the language the request asks for (Accept-Language): the
	// title, and the detail where houqin's catalog translates it.
	title, lang := kind.title, language.English
	if r != nil {
		lang = houqin.Language(r.Header.Get("Accept-Language"))
	}
	if lang == language.SimplifiedChinese {
		title, detail = kind.titleZh, houqin.Localize(detail, lang)
		if detail == "Internal error." {
			detail = "内部错误。"
		}
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("Content-Language", lang.String())
	w.Header().Add("Vary", "Accept-Language")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(kind.status)
	json.NewEncoder(w).Encode(Problem{ // a failed write means the client left
		Type:   ProblemType(code),
		Title:  title,
		Status: kind.status,
		Code:   code,
		Detail: detail,
	})
}

// classify returns the error code and client-safe message of err.
func classify(err error) (code, message string) {
	var herr *houqin.Error
	var aerr *temporal.ApplicationError
	switch {
	case err == nil:
		return houqin.EINTERNAL, ""
	case errors.As(err, &herr):
		return herr.Code, herr.Message
	case errors.As(err, &aerr) && isCode(aerr.Type()):
		return aerr.Type(), aerr.Message()
	case errors.Is(err, context.DeadlineExceeded):
		return houqin.EUNAVAILABLE, "The request timed out; try again later."
	case errors.Is(err, context.Canceled):
		return houqin.EUNAVAILABLE, "The request was cancelled."
	case isTemporalUnavailable(err):
		return houqin.EUNAVAILABLE, "The workflow service is unavailable; try again later."
	}
	return houqin.EINTERNAL, ""
}

// isCode reports whether s is a houqin error code.
func isCode(s string) bool {
	_, ok := problemKinds[s]
	return ok
}

// isTemporalUnavailable reports a Temporal frontend that is down, overloaded
// or timing out: a reason to retry, not a bug.
func isTemporalUnavailable(err error) bool {
	var (
		unavailable *serviceerror.Unavailable
		exhausted   *serviceerror.ResourceExhausted
		deadline    *serviceerror.DeadlineExceeded
	)
	return errors.As(err, &unavailable) || errors.As(err, &exhausted) || errors.As(err, &deadline)
}
