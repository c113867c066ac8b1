package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// TestGroupCommit holds SQLite's write lock from another connection while 32
// appends arrive, then releases it: the appends must share at most two
// transactions (the one already waiting for the lock, and one for everyone
// who queued behind it), and each caller must get its own outcome — here
// one of two racing stream creations fails with ECONFLICT while its
// neighbours in the same transaction succeed.
func TestGroupCommit(t *testing.T) {
	reg := prometheus.NewRegistry()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := OpenEventStore(context.Background(), path, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	blocker, err := open(path, 1, "immediate", "journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()
	lock, err := blocker.Begin() // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}

	const n = 32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		stream := fmt.Sprintf("test-%d", i)
		if i == n-1 {
			stream = "test-0" // races test-0's creation
		}
		wg.Go(func() {
			_, errs[i] = s.Append(context.Background(), stream, houqin.ExpectNoStream, storetest.NewEvents(2)...)
		})
	}
	time.Sleep(300 * time.Millisecond) // let every append queue up behind the lock
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	conflicts := 0
	for i, err := range errs {
		switch houqin.ErrorCode(err) {
		case "":
		case houqin.ECONFLICT:
			conflicts++
		default:
			t.Errorf("append %d: %v", i, err)
		}
	}
	if conflicts != 1 {
		t.Fatalf("%d appends failed with ECONFLICT, want exactly the one that lost the race for test-0", conflicts)
	}
	if head, _ := s.Head(context.Background()); head != 2*(n-1) {
		t.Fatalf("head = %d, want %d", head, 2*(n-1))
	}
	var commits, calls uint64
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "houqin_eventstore_commit_batch_appends" {
			h := mf.Metric[0].GetHistogram()
			commits, calls = h.GetSampleCount(), uint64(h.GetSampleSum())
		}
	}
	if calls != n || commits > 2 {
		t.Fatalf("%d appends used %d transactions; want %d appends in at most 2", calls, commits, n)
	}
}
