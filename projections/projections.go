// Package projections folds the event log into read models: SQL tables in
// SQLite or PostgreSQL, written by the same code on both.
//
// A Runner tails $all from each projection's checkpoint and applies a batch
// of events and the new checkpoints in ONE transaction, so a crash never
// applies an event twice or loses one. The checkpoint update is conditional
// on the checkpoint it read, so even two runners started by mistake on one
// database cannot both apply a batch.
package projections

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/houqin/houqin"
)

// Projection builds one read model from events.
//
// SQL is written once for SQLite and PostgreSQL: $1-style placeholders,
// BIGINT/TEXT columns, INSERT … ON CONFLICT … DO UPDATE.
type Projection interface {
	// Name is the checkpoint key, e.g. "event_counts".
	Name() string
	// Version changes whenever the tables or the folding logic change; a
	// runner that finds a checkpoint of another version rebuilds.
	Version() int
	// Setup creates the projection's tables if they do not exist.
	Setup(ctx context.Context, tx *sql.Tx) error
	// Reset deletes every row the projection wrote.
	Reset(ctx context.Context, tx *sql.Tx) error
	// Apply folds events, in position order, into the tables.
	Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error
}

const checkpointsDDL = `CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name       TEXT PRIMARY KEY,
    version    BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    updated_at TEXT NOT NULL
)`

// checkpoint is one projection's row in projection_checkpoints.
type checkpoint struct {
	version  int
	position int64
	exists   bool
}

func readCheckpoint(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (checkpoint, error) {
	var c checkpoint
	err := q.QueryRowContext(ctx, `SELECT version, position FROM projection_checkpoints WHERE name = $1`, name).Scan(&c.version, &c.position)
	switch {
	case err == sql.ErrNoRows:
		return checkpoint{}, nil
	case err != nil:
		return checkpoint{}, fmt.Errorf("read checkpoint of %s: %w", name, err)
	}
	c.exists = true
	return c, nil
}

// moveCheckpoint advances name from `from` to `to`; it fails if another
// runner moved it first.
func moveCheckpoint(ctx context.Context, tx *sql.Tx, name string, version int, from, to int64, now string) error {
	res, err := tx.ExecContext(ctx, `UPDATE projection_checkpoints SET position = $1, updated_at = $2
		WHERE name = $3 AND position = $4 AND version = $5`, to, now, name, from, version)
	if err != nil {
		return fmt.Errorf("move checkpoint of %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("move checkpoint of %s: %w", name, err)
	} else if n != 1 {
		return houqin.Errorf(houqin.ECONFLICT, "checkpoint of %s moved from %d by another runner", name, from)
	}
	return nil
}

// resetCheckpoint sets name to position 0 at version, creating the row.
func resetCheckpoint(ctx context.Context, tx *sql.Tx, name string, version int, now string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO projection_checkpoints (name, version, position, updated_at)
		VALUES ($1, $2, 0, $3)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = 0, updated_at = excluded.updated_at`,
		name, version, now)
	if err != nil {
		return fmt.Errorf("reset checkpoint of %s: %w", name, err)
	}
	return nil
}
