package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/houqin/houqin/postgres/pgtest"
	"github.com/houqin/houqin/storetest"
	"github.com/jackc/pgx/v5"
)

func benchStore(b *testing.B) *EventStore {
	s, err := OpenEventStore(context.Background(), pgtest.MustDSN(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.pool.Exec(context.Background(), `CREATE TABLE raw_events (LIKE events INCLUDING DEFAULTS)`); err != nil {
		b.Fatal(err)
	}
	return s
}

var rawRow = []any{"00000000-0000-0000-0000-000000000000", "bench-1", int64(0), "test.happened", []byte(`{"n":0}`), "wang.fang", "PR-2026-000001", make([]byte, 32)}

const rawInsert = `INSERT INTO raw_events (position, id, stream, version, type, data, actor, correlation_id, recorded_at, hash)
	VALUES (nextval('raw_seq'), $1, $2, $3, $4, $5, $6, $7, now(), $8)`

// BenchmarkAppendConcurrent32 is the durable-append figure on PostgreSQL:
// 32 writers, one event per Append. Baseline: 32 connections each
// committing one raw INSERT per transaction (PostgreSQL's own group commit
// applies to those).
func BenchmarkAppendConcurrent32(b *testing.B) {
	b.Run("baseline=raw-insert-per-tx", func(b *testing.B) {
		s := benchStore(b)
		ctx := context.Background()
		if _, err := s.pool.Exec(ctx, `CREATE SEQUENCE raw_seq`); err != nil {
			b.Fatal(err)
		}
		s.pool.Config().MaxConns = 32
		var next atomic.Int64
		b.ResetTimer()
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					if _, err := s.pool.Exec(ctx, rawInsert, rawRow...); err != nil {
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

// BenchmarkAppendBatched100: 100 events per Append. Baseline: 100 raw
// INSERTs sent as one pipelined batch in one transaction.
func BenchmarkAppendBatched100(b *testing.B) {
	b.Run("baseline=raw-batch-insert", func(b *testing.B) {
		s := benchStore(b)
		ctx := context.Background()
		if _, err := s.pool.Exec(ctx, `CREATE SEQUENCE raw_seq`); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			batch := &pgx.Batch{}
			for range 100 {
				batch.Queue(rawInsert, rawRow...)
			}
			err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, batch).Close() })
			if err != nil {
				b.Fatal(err)
			}
		}
		storetest.ReportRate(b, b.N*100)
	})
	b.Run("houqin/writers=1", func(b *testing.B) { storetest.BenchAppendBatched(b, benchStore(b), 100, 1) })
	b.Run("houqin/writers=4", func(b *testing.B) { storetest.BenchAppendBatched(b, benchStore(b), 100, 4) })
}

// BenchmarkReadStream1000 reads one 1,000-event stream.
func BenchmarkReadStream1000(b *testing.B) {
	storetest.BenchReadStream(b, benchStore(b), 1000)
}
