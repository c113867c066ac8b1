package devserver

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

func TestServerLogger(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := newServerLogger(base, nil)
	tagged := l.With(tag.NewStringTag("svc", "history"))

	tagged.Info("info-dropped")
	tagged.Warn("warn-dropped")
	tagged.Error("boom", tag.Error(errors.New("disk on fire")))
	log.NewSlogLogger(tagged).Info("slog-info-dropped")
	log.NewSlogLogger(tagged).Error("slog-error-kept")

	l.state.stopping.Store(true)
	tagged.Error("teardown-noise", tag.Error(context.Canceled))
	tagged.Error(stopFailedMsg, tag.Error(errors.New("stuck")))

	out := buf.String()
	for _, want := range []string{"msg=boom", `error="disk on fire"`, "svc=history", "component=temporal", "slog-error-kept", stopFailedMsg} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for _, bad := range []string{"dropped", "teardown-noise"} {
		if strings.Contains(out, bad) {
			t.Errorf("unexpected %q in:\n%s", bad, out)
		}
	}

	// With LogLevel warn, the demoted teardown record shows up at WARN.
	buf.Reset()
	l = newServerLogger(base, slog.LevelWarn)
	l.state.stopping.Store(true)
	l.Error("teardown-noise")
	if !strings.Contains(buf.String(), "level=WARN msg=teardown-noise") {
		t.Errorf("got %q", buf.String())
	}
}
