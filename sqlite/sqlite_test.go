package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/storetest"
)

// MustOpenEventStore opens an event store in a fresh file under t.TempDir().
func MustOpenEventStore(tb testing.TB) *sqlite.EventStore {
	tb.Helper()
	s, err := sqlite.OpenEventStore(context.Background(), filepath.Join(tb.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestEventStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) houqin.EventStore { return MustOpenEventStore(t) })
}
