package devserver

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// levelHandler drops records below min before they reach the wrapped handler,
// whatever level that handler itself is set to.
type levelHandler struct {
	min slog.Leveler
	h   slog.Handler
}

func (l levelHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min.Level() && l.h.Enabled(ctx, lv)
}
func (l levelHandler) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }
func (l levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{min: l.min, h: l.h.WithAttrs(a)}
}
func (l levelHandler) WithGroup(n string) slog.Handler {
	return levelHandler{min: l.min, h: l.h.WithGroup(n)}
}

// stopFailedMsg is what temporal.Server logs when a service fails to stop.
const stopFailedMsg = "Failed to stop service"

// serverLogger adapts *slog.Logger to Temporal's log.Logger. Tags added with
// With are kept unevaluated until a record passes the level filter: the
// server builds many tagged loggers whose records are mostly dropped.
type serverLogger struct {
	l     *slog.Logger
	tags  []tag.Tag
	state *logState
}

// logState is shared by a server's loggers.
type logState struct {
	// stopping is set when Stop begins. From then on the services tear each
	// other down and log expected errors (cancelled polls, connection refused
	// by an already stopped service); those records are demoted to warn.
	// A failure to stop a service stays an error.
	stopping atomic.Bool
}

var (
	_ log.Logger      = serverLogger{}
	_ log.WithLogger  = serverLogger{}
	_ log.SLogWrapper = serverLogger{}
)

func newServerLogger(base *slog.Logger, minLevel slog.Leveler) serverLogger {
	if base == nil {
		base = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if minLevel == nil {
		minLevel = slog.LevelError
	}
	return serverLogger{
		l:     slog.New(levelHandler{min: minLevel, h: base.Handler()}).With("component", "temporal"),
		state: &logState{},
	}
}

func (s serverLogger) log(lv slog.Level, msg string, tags []tag.Tag) {
	if lv >= slog.LevelError && s.state.stopping.Load() && msg != stopFailedMsg {
		lv = slog.LevelWarn
	}
	ctx := context.Background()
	if !s.l.Enabled(ctx, lv) {
		return
	}
	attrs := make([]slog.Attr, 0, len(s.tags)+len(tags))
	attrs = appendAttrs(appendAttrs(attrs, s.tags), tags)
	s.l.LogAttrs(ctx, lv, msg, attrs...)
}

func (s serverLogger) Debug(msg string, tags ...tag.Tag)  { s.log(slog.LevelDebug, msg, tags) }
func (s serverLogger) Info(msg string, tags ...tag.Tag)   { s.log(slog.LevelInfo, msg, tags) }
func (s serverLogger) Warn(msg string, tags ...tag.Tag)   { s.log(slog.LevelWarn, msg, tags) }
func (s serverLogger) Error(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// Panic and Fatal keep zap's semantics (the server relies on them not
// returning), after logging at error level so the reason is never lost.
func (s serverLogger) Panic(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(msg)
}

func (s serverLogger) Fatal(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	os.Exit(1)
}

func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	all := make([]tag.Tag, 0, len(s.tags)+len(tags))
	return serverLogger{l: s.l, tags: append(append(all, s.tags...), tags...), state: s.state}
}

// SLog lets log.NewSlogLogger reuse our handler (and its level filter).
func (s serverLogger) SLog() *slog.Logger {
	if len(s.tags) == 0 {
		return s.l
	}
	args := make([]any, 0, len(s.tags))
	for _, a := range appendAttrs(nil, s.tags) {
		args = append(args, a)
	}
	return s.l.With(args...)
}

func appendAttrs(dst []slog.Attr, tags []tag.Tag) []slog.Attr {
	for _, t := range tags {
		dst = append(dst, slog.Any(t.Key(), t.Value()))
	}
	return dst
}
