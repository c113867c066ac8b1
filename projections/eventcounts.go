package projections

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/houqin/houqin"
)

// EventCounts counts events per stream category and event type: the shape
// of the log at a glance (`houqin projections show event_counts`), and the
// projection that exercises the runner before the business read models.
type EventCounts struct{}

var _ Projection = EventCounts{}

// Name implements Projection.
func (EventCounts) Name() string { return "event_counts" }

// Version implements Projection.
func (EventCounts) Version() int { return 1 }

// Setup implements Projection.
func (EventCounts) Setup(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS event_counts (
		category      TEXT   NOT NULL,
		type          TEXT   NOT NULL,
		events        BIGINT NOT NULL,
		last_position BIGINT NOT NULL,
		PRIMARY KEY (category, type)
	)`)
	return err
}

// Reset implements Projection.
func (EventCounts) Reset(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM event_counts`)
	return err
}

// Apply implements Projection. It folds the batch in memory first, so a
// batch costs one upsert per distinct (category, type), not one per event.
func (EventCounts) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	type key struct{ category, typ string }
	type count struct{ n, last int64 }
	counts := map[key]count{}
	for _, e := range events {
		k := key{houqin.Category(e.Stream), e.Type}
		c := counts[k]
		counts[k] = count{c.n + 1, e.Position}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].category < keys[j].category || keys[i].category == keys[j].category && keys[i].typ < keys[j].typ
	})
	for _, k := range keys {
		c := counts[k]
		_, err := tx.ExecContext(ctx, `INSERT INTO event_counts (category, type, events, last_position)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (category, type) DO UPDATE
			SET events = event_counts.events + excluded.events, last_position = excluded.last_position`,
			k.category, k.typ, c.n, c.last)
		if err != nil {
			return fmt.Errorf("count %s/%s: %w", k.category, k.typ, err)
		}
	}
	return nil
}

// EventCount is one row of the event_counts read model.
type EventCount struct {
	Category     string `json:"category"`
	Type         string `json:"type"`
	Events       int64  `json:"events"`
	LastPosition int64  `json:"last_position"`
}

// ListEventCounts reads the event_counts read model, ordered by category
// and type.
func ListEventCounts(ctx context.Context, db *sql.DB) ([]EventCount, error) {
	rows, err := db.QueryContext(ctx, `SELECT category, type, events, last_position FROM event_counts ORDER BY category, type`)
	if err != nil {
		return nil, fmt.Errorf("list event counts: %w", err)
	}
	defer rows.Close()
	var out []EventCount
	for rows.Next() {
		var c EventCount
		if err := rows.Scan(&c.Category, &c.Type, &c.Events, &c.LastPosition); err != nil {
			return nil, fmt.Errorf("list event counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
