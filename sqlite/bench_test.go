package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/houqin/houqin/storetest"
)

func benchStore(b *testing.B) *EventStore {
	s, err := OpenEventStore(context.Background(), filepath.Join(b.TempDir(), "events.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens the store's file as the baselines do: plain database/sql, the
// same durability pragmas, a table shaped like events.
func rawDB(b *testing.B, s *EventStore, conns int) *sql.DB {
	db, err := open(s.Path(), conns, "immediate", "journal_mode(WAL)", "synchronous(FULL)", "wal_autocheckpoint(10000)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS raw_events (position INTEGER PRIMARY KEY, id TEXT, stream TEXT,
		version INTEGER, type TEXT, data TEXT, meta TEXT, recorded_at INTEGER, prev_hash BLOB, hash BLOB)`); err != nil {
		b.Fatal(err)
	}
	return db
}

var rawRow = []any{"00000000-0000-0000-0000-000000000000", "bench-1", 0, "test.happened", `{"n":0}`,
	`{"actor":"wang.fang","correlation_id":"PR-2026-000001"}`, 0, nil, make([]byte, 32)}

// BenchmarkAppendConcurrent32 is the durable-append figure: 32 writers, one
// event per Append. Baseline: the same 32 writers each committing one raw
// INSERT per transaction (one fsync per event) on the same file.
func BenchmarkAppendConcurrent32(b *testing.B) {
	b.Run("baseline=raw-insert-per-tx", func(b *testing.B) {
		db := rawDB(b, benchStore(b), 32)
		var next atomic.Int64
		b.ResetTimer()
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					if _, err := db.Exec(`INSERT INTO raw_events (id, stream, version, type, data, meta, recorded_at, prev_hash, hash)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, rawRow...); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		storetest.ReportRate(b, b.N)
	})
	b.Run("houqin", func(b *testing.B) { storetest.BenchAppendConcurrent(b, benchStore(b), 32) })
}

// BenchmarkAppendBatched100 is the batched-append figure: 100 events per
// Append. Baseline: a raw multi-row INSERT of 100 rows per transaction.
func BenchmarkAppendBatched100(b *testing.B) {
	b.Run("baseline=raw-multirow-insert", func(b *testing.B) {
		db := rawDB(b, benchStore(b), 1)
		marks := make([]string, 100)
		args := make([]any, 0, 900)
		for i := range marks {
			marks[i] = fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", i*9+1, i*9+2, i*9+3, i*9+4, i*9+5, i*9+6, i*9+7, i*9+8, i*9+9)
			args = append(args, rawRow...)
		}
		q := `INSERT INTO raw_events (id, stream, version, type, data, meta, recorded_at, prev_hash, hash) VALUES ` + strings.Join(marks, ",")
		b.ResetTimer()
		for b.Loop() {
			if _, err := db.Exec(q, args...); err != nil {
				b.Fatal(err)
			}
		}
		storetest.ReportRate(b, b.N*100)
	})
	b.Run("houqin/writers=1", func(b *testing.B) { storetest.BenchAppendBatched(b, benchStore(b), 100, 1) })
	b.Run("houqin/writers=4", func(b *testing.B) { storetest.BenchAppendBatched(b, benchStore(b), 100, 4) })
	b.Run("houqin/writers=8", func(b *testing.B) { storetest.BenchAppendBatched(b, benchStore(b), 100, 8) })
}

// BenchmarkReadStream1000 reads one 1,000-event stream. Baseline: the raw
// SELECT of the same rows, scanned into bytes without decoding.
func BenchmarkReadStream1000(b *testing.B) {
	s := benchStore(b)
	b.Run("houqin", func(b *testing.B) { storetest.BenchReadStream(b, s, 1000) })
	b.Run("baseline=raw-select", func(b *testing.B) {
		var stream string
		if err := s.reader.QueryRow(`SELECT stream FROM events WHERE version = 999`).Scan(&stream); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			rows, err := s.reader.Query(`SELECT `+columns+` FROM events WHERE stream = $1 AND version >= 0 ORDER BY version LIMIT 1000`, stream)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var pos, version int64
				var id, st, typ, a, b1, c, d, e, f, g, h string
				var occurred, rec sql.NullInt64
				var data, prev, hash []byte
				if err := rows.Scan(&pos, &id, &st, &version, &typ, &data, &a, &b1, &c, &d, &e, &f, &occurred, &g, &h, &rec, &prev, &hash); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rows.Close()
			if n != 1000 {
				b.Fatalf("read %d rows", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/read")
	})
}
