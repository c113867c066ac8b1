// Package sqlite stores houqin's events and read models in SQLite files, via
// modernc.org/sqlite (pure Go, no cgo). It is the embedded default: `houqin
// dev` keeps everything in files under its data directory.
//
// Durability: the event database runs in WAL mode with synchronous=FULL, so an
// Append returns only after its commit reached the disk; concurrent appends
// share one transaction and one fsync (see internal/groupcommit).
//
// Ordering: every append transaction takes SQLite's write lock first
// (BEGIN IMMEDIATE) and reads the last position under it, so positions are
// handed out in commit order, also across processes sharing the file. A
// reader of $all therefore never sees a position before a smaller one
// becomes visible, and can never skip an event.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// open opens the SQLite file at path with the given pragmas; the file and
// its directory are created if missing.
func open(path string, maxConns int, txlock string, pragmas ...string) (*sql.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create directory for %s: %w", path, err)
		}
	}
	q := url.Values{}
	for _, p := range append([]string{"busy_timeout(10000)", "foreign_keys(on)"}, pragmas...) {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", txlock)
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// OpenReadModels opens (creating it if needed) an SQLite file for read
// models. It runs in WAL mode with synchronous=NORMAL: a power cut may lose
// the last projected batches, but rows and checkpoints are lost together
// and the projector re-applies them from the event log.
func OpenReadModels(path string) (*sql.DB, error) {
	return open(path, 4, "immediate", "journal_mode(WAL)", "synchronous(NORMAL)")
}

// PathFromDSN returns the file path of a DSN "sqlite:///abs/path.db" or
// "sqlite://rel/path.db" (also accepts a plain path).
func PathFromDSN(dsn string) (string, error) {
	if !strings.HasPrefix(dsn, "sqlite:") {
		return dsn, nil
	}
	p := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	if p == "" {
		return "", fmt.Errorf("dsn %q: no file path", dsn)
	}
	return p, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	store, err := database.NewStore(database.DialectSQLite3, "houqin_event_migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider("", db, mustSub(migrations, "migrations"), goose.WithStore(store))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// OpenScratch opens an empty in-memory database for read models computed
// once and thrown away, such as an answer "as of" a past moment. It has a
// single connection (an in-memory database lives in its connection);
// closing it frees everything.
func OpenScratch() (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(on)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open scratch database: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}
