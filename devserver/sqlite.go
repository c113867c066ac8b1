package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite" // registers the "sqlite" plugin and modernc driver
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"google.golang.org/protobuf/types/known/durationpb"
)

// sqliteConfig returns a constructor of identical persistence configs for
// dbPath. The Temporal sqlite plugin shares one *sql.DB per distinct DSN
// process-wide (and never closes it), so every store and every restart in
// this process uses the same single connection to the file.
//
// Journal mode is left at SQLite's default (rollback journal, "delete"):
// with one connection per process there is no reader/writer contention.
func sqliteConfig(dbPath string) func() *config.SQL {
	return func() *config.SQL {
		return &config.SQL{
			PluginName:      sqliteplugin.PluginName,
			DatabaseName:    dbPath,
			ConnectAddr:     "localhost", // required by validation, unused by sqlite
			ConnectProtocol: "tcp",       // ditto
			ConnectAttributes: map[string]string{
				"mode": "rwc",
				// Non-URI keys become "_pragma=key=value". Waits instead of
				// failing with SQLITE_BUSY if another connection (e.g. a sqlite3
				// shell) briefly holds a lock.
				"busy_timeout": "10000",
			},
			MaxConns:     1,
			MaxIdleConns: 1,
		}
	}
}

// ensureSchema creates the Temporal schema (main + visibility) in dbPath
// unless it is already there. Creation runs in one transaction, so a crash
// cannot leave a half-built schema behind.
func ensureSchema(dbPath string) error {
	if strings.ContainsAny(dbPath, "?#") {
		return fmt.Errorf("path %q must not contain '?' or '#'", dbPath)
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()

	count := func(q sqlQueryer) (int, error) {
		var n int
		err := q.QueryRowContext(context.Background(),
			`SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('namespaces','executions_visibility')`).Scan(&n)
		return n, err
	}
	n, err := count(db)
	if err != nil {
		return err
	}
	if n == 2 {
		return nil
	}

	tx, err := db.Begin() // BEGIN IMMEDIATE: takes the write lock now
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	// Re-check under the lock.
	if n, err = count(tx); err != nil {
		return err
	}
	switch n {
	case 2:
		return nil
	case 0:
	default:
		return fmt.Errorf("%s holds a partial Temporal schema; remove it to start fresh", dbPath)
	}
	if err := sqliteschema.SetupSchemaOnDB(txAdminDB{tx: tx}); err != nil {
		return err
	}
	return tx.Commit()
}

type sqlQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txAdminDB runs SetupSchemaOnDB's statements inside a transaction. Only Exec
// is used by SetupSchemaOnDB; the embedded nil interface would panic on any
// other method.
type txAdminDB struct {
	sqlplugin.AdminDB
	tx *sql.Tx
}

func (t txAdminDB) Exec(stmt string, args ...any) error {
	_, err := t.tx.Exec(stmt, args...)
	return err
}

// ensureNamespace registers namespace directly in persistence if it does not
// exist yet, so it is loaded by the namespace registry at server start.
func ensureNamespace(cfg *config.SQL, namespace string, retention time.Duration) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, namespace, false, nil)
	if err != nil {
		return err
	}
	ns.Detail.Config.Retention = durationpb.New(retention)
	return sqliteschema.CreateNamespaces(cfg, ns)
}
