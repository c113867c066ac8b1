package projections

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// InventoryGauges is a prometheus.Collector that reports, at each scrape,
// houqin_inventory_below_reorder{item}: 1 for a defined item with a reorder
// point whose stock is below it, 0 for the others, from the inventory read
// model. A failed query reports nothing and logs why.
type InventoryGauges struct {
	db      *sql.DB
	timeout time.Duration
	log     *slog.Logger
	below   *prometheus.Desc
}

var _ prometheus.Collector = (*InventoryGauges)(nil)

// NewInventoryGauges returns the inventory gauges over db, each query
// bounded by timeout (default 2s).
func NewInventoryGauges(db *sql.DB, timeout time.Duration, log *slog.Logger) *InventoryGauges {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &InventoryGauges{db: db, timeout: timeout, log: log,
		below: prometheus.NewDesc("houqin_inventory_below_reorder",
			"1 when the item's stock is below its reorder point, else 0; items with a reorder point, from the inventory read model.",
			[]string{"item"}, nil)}
}

// Describe implements prometheus.Collector.
func (g *InventoryGauges) Describe(ch chan<- *prometheus.Desc) { ch <- g.below }

// Collect implements prometheus.Collector.
func (g *InventoryGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	rows, err := g.db.QueryContext(ctx, `SELECT item, CASE WHEN on_hand < reorder_point THEN 1 ELSE 0 END
		FROM inventory_items WHERE defined = 1 AND reorder_point > 0 ORDER BY item`)
	if err != nil {
		g.log.Warn("inventory gauges: query failed", "err", err)
		return
	}
	defer rows.Close()
	type row struct {
		item  string
		below int64
	}
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.item, &r.below); err != nil {
			g.log.Warn("inventory gauges: read failed", "err", err)
			return
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		g.log.Warn("inventory gauges: read failed", "err", err)
		return
	}
	for _, r := range out {
		ch <- prometheus.MustNewConstMetric(g.below, prometheus.GaugeValue, float64(r.below), r.item)
	}
}
