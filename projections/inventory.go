package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/houqin/houqin"
)

// Inventory is the stock per item, folded from inventory.* events.
type Inventory struct{}

var _ Projection = Inventory{}

// Name implements Projection.
func (Inventory) Name() string { return "inventory" }

// Version implements Projection.
func (Inventory) Version() int { return 1 }

// Setup implements Projection.
func (Inventory) Setup(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS inventory (
		item          TEXT PRIMARY KEY,
		unit          TEXT   NOT NULL,
		quantity      BIGINT NOT NULL,
		updated_at    TEXT   NOT NULL,
		last_position BIGINT NOT NULL
	)`)
	return err
}

// Reset implements Projection.
func (Inventory) Reset(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM inventory`)
	return err
}

type stockMoved struct {
	Item     string `json:"item"`
	Unit     string `json:"unit"`
	Quantity int64  `json:"quantity"`
}

// Apply implements Projection.
func (Inventory) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		sign := int64(0)
		switch e.Type {
		case "inventory.stocked_in":
			sign = 1
		case "inventory.issued":
			sign = -1
		default:
			continue
		}
		var p stockMoved
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inventory (item, unit, quantity, updated_at, last_position)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (item) DO UPDATE SET quantity = inventory.quantity + excluded.quantity,
				updated_at = excluded.updated_at, last_position = excluded.last_position`,
			p.Item, p.Unit, sign*p.Quantity, eventTime(e), e.Position); err != nil {
			return fmt.Errorf("stock of %s: %w", p.Item, err)
		}
	}
	return nil
}

// StockRow is one item of the inventory read model.
type StockRow struct {
	Item      string `json:"item"`
	Unit      string `json:"unit"`
	Quantity  int64  `json:"quantity"`
	UpdatedAt string `json:"updated_at"`
}

// ListInventory returns every item's stock, by item name.
func ListInventory(ctx context.Context, db *sql.DB) ([]StockRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT item, unit, quantity, updated_at FROM inventory ORDER BY item`)
	if err != nil {
		return nil, fmt.Errorf("list inventory: %w", err)
	}
	defer rows.Close()
	out := []StockRow{}
	for rows.Next() {
		var r StockRow
		if err := rows.Scan(&r.Item, &r.Unit, &r.Quantity, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list inventory: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
