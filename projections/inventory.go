package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/houqin/houqin"
)

// Inventory is the stock per item and every stock movement, folded from the
// items' streams (inventory-<slug>): master data (item_defined,
// item_updated), movements (stocked_in, issued, adjusted) and reorders.
type Inventory struct{}

var _ Projection = Inventory{}

// Name implements Projection.
func (Inventory) Name() string { return "inventory" }

// Version implements Projection. 2: master data, movements, reorders.
func (Inventory) Version() int { return 2 }

var inventoryDDL = []string{
	`CREATE TABLE IF NOT EXISTS inventory (
		item          TEXT PRIMARY KEY,
		unit          TEXT   NOT NULL,
		quantity      BIGINT NOT NULL,
		updated_at    TEXT   NOT NULL,
		last_position BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS inventory_items (
		slug             TEXT PRIMARY KEY,
		item             TEXT   NOT NULL,
		name_zh          TEXT   NOT NULL,
		name_en          TEXT   NOT NULL,
		unit             TEXT   NOT NULL,
		location         TEXT   NOT NULL,
		on_hand          BIGINT NOT NULL,
		reorder_point    BIGINT NOT NULL,
		reorder_quantity BIGINT NOT NULL,
		quota            BIGINT NOT NULL,
		spec             TEXT   NOT NULL, -- the ItemSpec as JSON ('' until defined)
		defined          BIGINT NOT NULL,
		last_reorder     TEXT   NOT NULL, -- the procurement of the last reorder
		updated_at       TEXT   NOT NULL,
		last_position    BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS inventory_movements (
		position   BIGINT PRIMARY KEY,
		slug       TEXT   NOT NULL,
		item       TEXT   NOT NULL,
		type       TEXT   NOT NULL, -- stocked_in | issued | adjusted
		quantity   BIGINT NOT NULL, -- signed change of the stock
		on_hand    BIGINT NOT NULL, -- after the movement
		unit       TEXT   NOT NULL,
		department TEXT   NOT NULL,
		process_id TEXT   NOT NULL,
		actor      TEXT   NOT NULL,
		at         TEXT   NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS inventory_movements_slug ON inventory_movements (slug, position)`,
	`CREATE INDEX IF NOT EXISTS inventory_movements_at ON inventory_movements (at)`,
}

// Setup implements Projection. The table "inventory" of version 1 stays,
// empty, so an old database's Setup does not fail before Reset.
func (Inventory) Setup(ctx context.Context, tx *sql.Tx) error {
	for _, ddl := range inventoryDDL {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements Projection.
func (Inventory) Reset(ctx context.Context, tx *sql.Tx) error {
	for _, table := range []string{"inventory", "inventory_items", "inventory_movements"} {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+table); err != nil {
			return err
		}
	}
	return Inventory{}.Setup(ctx, tx)
}

// Apply implements Projection.
func (Inventory) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	for _, e := range events {
		if houqin.Category(e.Stream) != "inventory" {
			continue
		}
		slug := e.Stream[len("inventory-"):]
		if err := applyInventory(ctx, tx, slug, e); err != nil {
			return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
		}
	}
	return nil
}

func applyInventory(ctx context.Context, tx *sql.Tx, slug string, e houqin.Event) error {
	at := eventTime(e)
	var (
		item, unit, dept, pid string
		delta                 int64
		kind                  string
	)
	switch e.Type {
	case "inventory.item_defined", "inventory.item_updated":
		var p struct {
			Item houqin.ItemSpec `json:"item"`
		}
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		spec, _ := json.Marshal(p.Item)
		s := p.Item
		_, err := tx.ExecContext(ctx, `INSERT INTO inventory_items (slug, item, name_zh, name_en, unit, location, on_hand,
			reorder_point, reorder_quantity, quota, spec, defined, last_reorder, updated_at, last_position)
			VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, 1, '', $11, $12)
			ON CONFLICT (slug) DO UPDATE SET item = excluded.item, name_zh = excluded.name_zh, name_en = excluded.name_en,
				unit = excluded.unit, location = excluded.location, reorder_point = excluded.reorder_point,
				reorder_quantity = excluded.reorder_quantity, quota = excluded.quota, spec = excluded.spec, defined = 1,
				updated_at = excluded.updated_at, last_position = excluded.last_position`,
			slug, s.Name, s.Names.Zh, s.Names.En, s.Unit, s.Location, s.ReorderPoint, s.ReorderQuantity, s.Quota, string(spec), at, e.Position)
		return err
	case "inventory.reorder_requested":
		var p houqin.ReorderRequested
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE inventory_items SET last_reorder = $1, updated_at = $2, last_position = $3 WHERE slug = $4`,
			p.ProcessID, at, e.Position, slug)
		return err
	case "inventory.stocked_in":
		var p houqin.InventoryStockedIn
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		item, unit, delta, pid, kind = p.Item, p.Unit, p.Quantity, p.ProcessID, "stocked_in"
	case "inventory.issued":
		var p houqin.InventoryIssued
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		item, unit, delta, pid, dept, kind = p.Item, p.Unit, -p.Quantity, p.ProcessID, p.Department, "issued"
	case "inventory.adjusted":
		var p houqin.InventoryAdjusted
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		item, unit, delta, pid, kind = p.Item, p.Unit, p.Delta, p.ProcessID, "adjusted"
	default:
		return nil
	}
	// An item stocked in before it was defined gets a row of its own.
	if _, err := tx.ExecContext(ctx, `INSERT INTO inventory_items (slug, item, name_zh, name_en, unit, location, on_hand,
		reorder_point, reorder_quantity, quota, spec, defined, last_reorder, updated_at, last_position)
		VALUES ($1, $2, '', '', $3, '', $4, 0, 0, 0, '', 0, '', $5, $6)
		ON CONFLICT (slug) DO UPDATE SET on_hand = inventory_items.on_hand + excluded.on_hand,
			updated_at = excluded.updated_at, last_position = excluded.last_position`,
		slug, item, unit, delta, at, e.Position); err != nil {
		return err
	}
	var onHand int64
	if err := tx.QueryRowContext(ctx, `SELECT on_hand FROM inventory_items WHERE slug = $1`, slug).Scan(&onHand); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO inventory_movements (position, slug, item, type, quantity, on_hand, unit, department, process_id, actor, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (position) DO NOTHING`,
		e.Position, slug, item, kind, delta, onHand, unit, dept, pid, e.Meta.Actor, at)
	return err
}

// StockRow is one item of the inventory read model. Item, Unit, Quantity
// and UpdatedAt are the fields of version 1; Quantity equals OnHand.
type StockRow struct {
	Slug            string      `json:"slug"`
	Item            string      `json:"item"`
	Names           houqin.Text `json:"names"`
	Unit            string      `json:"unit"`
	Location        string      `json:"location"`
	Quantity        int64       `json:"quantity"`
	OnHand          int64       `json:"on_hand"`
	ReorderPoint    int64       `json:"reorder_point"`
	ReorderQuantity int64       `json:"reorder_quantity"`
	Quota           int64       `json:"quota"`
	BelowReorder    bool        `json:"below_reorder"`
	Defined         bool        `json:"defined"`
	LastReorder     string      `json:"last_reorder,omitempty"`
	UpdatedAt       string      `json:"updated_at"`
}

const stockColumns = `slug, item, name_zh, name_en, unit, location, on_hand, reorder_point, reorder_quantity, quota, defined, last_reorder, updated_at`

func scanStock(sc interface{ Scan(...any) error }) (StockRow, error) {
	var r StockRow
	var defined int64
	err := sc.Scan(&r.Slug, &r.Item, &r.Names.Zh, &r.Names.En, &r.Unit, &r.Location, &r.OnHand, &r.ReorderPoint,
		&r.ReorderQuantity, &r.Quota, &defined, &r.LastReorder, &r.UpdatedAt)
	r.Quantity, r.Defined = r.OnHand, defined == 1
	r.BelowReorder = r.Defined && r.ReorderPoint > 0 && r.OnHand < r.ReorderPoint
	return r, err
}

// ListInventory returns every item's stock, by item name.
func ListInventory(ctx context.Context, db *sql.DB) ([]StockRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+stockColumns+` FROM inventory_items ORDER BY item, slug`)
	if err != nil {
		return nil, fmt.Errorf("list inventory: %w", err)
	}
	defer rows.Close()
	out := []StockRow{}
	for rows.Next() {
		r, err := scanStock(rows)
		if err != nil {
			return nil, fmt.Errorf("list inventory: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// GetItem returns one item by its name; ENOTFOUND if no event named it.
func GetItem(ctx context.Context, db *sql.DB, name string) (StockRow, error) {
	r, err := scanStock(db.QueryRowContext(ctx, `SELECT `+stockColumns+` FROM inventory_items WHERE slug = $1`, houqin.ItemSlug(name)))
	if err == sql.ErrNoRows {
		return r, houqin.Errorf(houqin.ENOTFOUND, "item: no inventory item %q", name)
	}
	return r, err
}

// Movement is one change of an item's stock.
type Movement struct {
	Position   int64  `json:"position"`
	Item       string `json:"item"`
	Type       string `json:"type"` // stocked_in | issued | adjusted
	Quantity   int64  `json:"quantity"`
	OnHand     int64  `json:"on_hand"`
	Unit       string `json:"unit"`
	Department string `json:"department,omitempty"`
	ProcessID  string `json:"process_id"`
	Actor      string `json:"actor"`
	At         string `json:"at"`
}

// MovementFilter selects movements: of one item (by name) if Item is set,
// at or after From and before To if they are not zero.
type MovementFilter struct {
	Item     string
	From, To time.Time
	Limit    int // 0: 100,000
}

// ListMovements returns the movements the filter selects, in the order
// they happened.
func ListMovements(ctx context.Context, db *sql.DB, f MovementFilter) ([]Movement, error) {
	q := `SELECT position, item, type, quantity, on_hand, unit, department, process_id, actor, at FROM inventory_movements WHERE 1 = 1`
	var args []any
	if f.Item != "" {
		args = append(args, houqin.ItemSlug(f.Item))
		q += fmt.Sprintf(` AND slug = $%d`, len(args))
	}
	if !f.From.IsZero() {
		args = append(args, formatTime(f.From))
		q += fmt.Sprintf(` AND at >= $%d`, len(args))
	}
	if !f.To.IsZero() {
		args = append(args, formatTime(f.To))
		q += fmt.Sprintf(` AND at < $%d`, len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 100_000
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY position LIMIT $%d`, len(args))
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list movements: %w", err)
	}
	defer rows.Close()
	out := []Movement{}
	for rows.Next() {
		var m Movement
		if err := rows.Scan(&m.Position, &m.Item, &m.Type, &m.Quantity, &m.OnHand, &m.Unit, &m.Department, &m.ProcessID, &m.Actor, &m.At); err != nil {
			return nil, fmt.Errorf("list movements: %w", err)
		}
		out = append(out, m)
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
