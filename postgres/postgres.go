// Package postgres stores houqin's events and read models in PostgreSQL, via
// github.com/jackc/pgx/v5. It is the store for more than one machine: several
// `houqin api` and `houqin worker` processes append to one log.
//
// Ordering: an append transaction locks the events table in EXCLUSIVE mode
// (which blocks other writers but not readers) before it reads the last
// position, and PostgreSQL makes a transaction visible before it releases
// its locks. Positions are therefore handed out in commit order and are gap
// free, and a reader of $all can never see a position before a smaller one
// is visible: no high-water-mark guessing, no skipped events. Concurrent
// appends in one process share one transaction (internal/groupcommit), so the
// lock costs one commit per batch, not per caller.
//
// Wake-up: each commit sends NOTIFY houqin_events; Changed exposes it.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

//go:embed migrations/*.sql
var migrations embed.FS

// notifyChannel is the LISTEN/NOTIFY channel announcing appends.
const notifyChannel = "houqin_events"

// OpenPool connects to PostgreSQL with a pgx DSN ("postgres://…").
func OpenPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres dsn: %w", err)
	}
	// The events table grows by thousands of rows a second; a cached generic
	// plan chosen while it was small (a sequential scan) would stay.
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	store, err := database.NewStore(database.DialectPostgres, "houqin_event_migrations")
	if err != nil {
		return err
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider("", db, sub, goose.WithStore(store))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// OpenReadModels opens a database/sql handle on dsn for the projections'
// read models (the same SQL runs on SQLite).
func OpenReadModels(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open read models: %w", err)
	}
	db.SetMaxOpenConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open read models: %w", err)
	}
	return db, nil
}
