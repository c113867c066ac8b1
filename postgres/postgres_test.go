package postgres_test

import (
	"context"
	"testing"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/postgres"
	"github.com/houqin/houqin/postgres/pgtest"
	"github.com/houqin/houqin/storetest"
)

// MustOpenEventStore opens an event store in a fresh schema.
func MustOpenEventStore(tb testing.TB) *postgres.EventStore {
	tb.Helper()
	s, err := postgres.OpenEventStore(context.Background(), pgtest.MustDSN(tb), postgres.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestEventStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) houqin.EventStore { return MustOpenEventStore(t) })
}
