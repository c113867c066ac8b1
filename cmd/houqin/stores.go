package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/postgres"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// storeFlags are the flags every command that opens the stores shares.
type storeFlags struct {
	data       string
	events     string
	readmodels string
	kpi        string // KPI targets, time zone and survey timers (config/kpi.yaml)
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "data directory: SQLite files live here unless a DSN says otherwise")
	fs.StringVar(&f.events, "events", "", `event store DSN: "sqlite:///path/events.db" or "postgres://…" (default: sqlite under --data)`)
	fs.StringVar(&f.readmodels, "readmodels", "", `read-model DSN, same forms (default: sqlite under --data)`)
	fs.StringVar(&f.kpi, "kpi", "", "KPI targets, time zone and survey timers YAML (default: the embedded config/kpi.yaml); the kpi projection counts days in its time zone")
}

// kpiConfig loads the --kpi file, or the embedded default.
func (f *storeFlags) kpiConfig() (houqin.KPIConfig, error) { return loadKPI(f.kpi) }

func (f *storeFlags) eventsDSN() string {
	if f.events != "" {
		return f.events
	}
	return "sqlite://" + filepath.Join(f.data, "events.db")
}

func (f *storeFlags) readModelsDSN() string {
	if f.readmodels != "" {
		return f.readmodels
	}
	return "sqlite://" + filepath.Join(f.data, "readmodels.db")
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openBoth opens the event store and the read-model database the flags
// name; close closes both.
func (f *storeFlags) openBoth(ctx context.Context, reg prometheus.Registerer) (store houqin.EventStore, db *sql.DB, close func(), err error) {
	if store, err = openEventStore(ctx, f.eventsDSN(), reg); err != nil {
		return nil, nil, nil, err
	}
	if db, err = openReadModels(ctx, f.readModelsDSN()); err != nil {
		store.Close()
		return nil, nil, nil, err
	}
	return store, db, func() { db.Close(); store.Close() }, nil
}

// openEventStore opens the event store a DSN names.
func openEventStore(ctx context.Context, dsn string, reg prometheus.Registerer) (houqin.EventStore, error) {
	switch {
	case isPostgres(dsn):
		return postgres.OpenEventStore(ctx, dsn, postgres.Options{Registerer: reg})
	case strings.HasPrefix(dsn, "sqlite:"):
		path, err := sqlite.PathFromDSN(dsn)
		if err != nil {
			return nil, err
		}
		return sqlite.OpenEventStore(ctx, path, sqlite.Options{Registerer: reg})
	default:
		return nil, fmt.Errorf(`event store DSN %q: want "sqlite:///path" or "postgres://…"`, dsn)
	}
}

// openReadModels opens the read-model database a DSN names.
func openReadModels(ctx context.Context, dsn string) (*sql.DB, error) {
	switch {
	case isPostgres(dsn):
		return postgres.OpenReadModels(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		path, err := sqlite.PathFromDSN(dsn)
		if err != nil {
			return nil, err
		}
		return sqlite.OpenReadModels(path)
	default:
		return nil, fmt.Errorf(`read-model DSN %q: want "sqlite:///path" or "postgres://…"`, dsn)
	}
}

// allProjections are the read models houqin maintains.
func allProjections(kpi houqin.KPIConfig) []projections.Projection {
	return []projections.Projection{projections.EventCounts{}, projections.Processes{}, projections.Tasks{}, projections.Inventory{},
		projections.Budgets{}, projections.PurchasePlan{}, projections.KPI{Location: kpi.Location()}, projections.Notifications{}, projections.UserPreferences{}}
}
