package projections

import (
	"context"
	"database/sql"
	"time"

	"github.com/houqin/houqin"
)

// Watcher follows the checkpoints a projector in another process writes, for
// an API process that only reads: WaitFor and Ready answer from the
// projection_checkpoints table.
type Watcher struct {
	db    *sql.DB
	names []string
	poll  time.Duration
}

// NewWatcher watches the checkpoints of projections in db.
func NewWatcher(db *sql.DB, projections []Projection) *Watcher {
	w := &Watcher{db: db, poll: 20 * time.Millisecond}
	for _, p := range projections {
		w.names = append(w.names, p.Name())
	}
	return w
}

// position is the smallest checkpoint of the watched projections, -1 if
// one has none yet.
func (w *Watcher) position(ctx context.Context) (int64, error) {
	min := int64(-1)
	for _, name := range w.names {
		c, err := readCheckpoint(ctx, w.db, name)
		if err != nil {
			return 0, err
		}
		if !c.exists {
			return -1, nil
		}
		if min < 0 || c.position < min {
			min = c.position
		}
	}
	return min, nil
}

// Failures returns nil: a process that only reads cannot know why the
// projector stopped a projection; the projector's log and
// houqin_projection_failed metric say.
func (w *Watcher) Failures() []ApplyError { return nil }

// Ready reports whether every watched projection has a checkpoint.
func (w *Watcher) Ready() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	pos, err := w.position(ctx)
	return err == nil && pos >= 0
}

// WaitFor blocks until every watched projection has applied position, or
// returns EUNAVAILABLE when ctx ends.
func (w *Watcher) WaitFor(ctx context.Context, position int64) error {
	for {
		pos, err := w.position(ctx)
		if err == nil && pos >= position {
			return nil
		}
		select {
		case <-ctx.Done():
			return houqin.Errorf(houqin.EUNAVAILABLE, "min_position: read models have not reached position %d yet; retry", position)
		case <-time.After(w.poll):
		}
	}
}
