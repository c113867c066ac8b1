// Package pgtest gives tests a fresh, empty PostgreSQL schema on the server
// named by HOUQIN_TEST_POSTGRES, which scripts/with-postgres.sh starts.
package pgtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// MustDSN returns the DSN of a fresh, empty schema in the test server named
// by HOUQIN_TEST_POSTGRES (scripts/with-postgres.sh starts one). Without it
// the test is skipped, visibly, unless HOUQIN_REQUIRE_POSTGRES=1 (make test,
// CI), where it fails.
func MustDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("HOUQIN_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("HOUQIN_REQUIRE_POSTGRES") == "1" {
			tb.Fatal("HOUQIN_TEST_POSTGRES is not set but HOUQIN_REQUIRE_POSTGRES=1: run under scripts/with-postgres.sh")
		}
		tb.Skip("SKIP PostgreSQL: HOUQIN_TEST_POSTGRES not set (make test starts a server)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("test_%d", rand.Uint64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
