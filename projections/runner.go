package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/houqin/houqin"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Runner; the zero value is usable.
type Options struct {
	BatchSize        int                   // events per transaction while tailing; default 1,000
	RebuildBatchSize int                   // events per transaction while rebuilding; default 10,000
	PollInterval     time.Duration         // how often to look for events without a wake-up; default 500ms
	RetryInterval    time.Duration         // how often a failed projection is tried again; default 10s
	Registerer       prometheus.Registerer // nil: no metrics
	Logger           *slog.Logger          // nil: slog.Default()
	Now              func() time.Time      // nil: time.Now
}

// Runner keeps a set of projections up to date with an event store.
type Runner struct {
	store       houqin.EventStore
	db          *sql.DB
	projections []Projection
	opt         Options
	metrics     *runnerMetrics

	mu        sync.Mutex
	positions map[string]int64
	advanced  chan struct{} // closed and replaced whenever a position advances
	ready     bool
	failures  map[string]*ApplyError // projections stopped at an event they could not apply
}

// ApplyError is a projection's failure to apply an event. The runner keeps
// that projection's checkpoint before the event, reports it (log, the
// houqin_projection_failed metric, Failures for /readyz), tries it again
// every RetryInterval, and keeps the other projections going.
type ApplyError struct {
	Projection string
	Position   int64
	Stream     string
	Type       string
	Err        error
	at         time.Time // when it was last tried
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("projection %s at position %d (%s, %s): %v", e.Projection, e.Position, e.Stream, e.Type, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// NewRunner returns a runner applying events from store to projections whose
// tables live in db. It does no I/O until Setup or Run.
func NewRunner(store houqin.EventStore, db *sql.DB, projections []Projection, opt Options) *Runner {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 1000
	}
	if opt.RebuildBatchSize <= 0 {
		opt.RebuildBatchSize = 10_000
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 500 * time.Millisecond
	}
	if opt.RetryInterval <= 0 {
		opt.RetryInterval = 10 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	r := &Runner{
		store: store, db: db, projections: projections, opt: opt,
		metrics:   newRunnerMetrics(opt.Registerer),
		positions: map[string]int64{}, advanced: make(chan struct{}), failures: map[string]*ApplyError{},
	}
	for _, p := range projections {
		r.metrics.setFailed(p.Name(), false)
	}
	return r
}

func (r *Runner) now() string { return r.opt.Now().UTC().Format(time.RFC3339Nano) }

// Setup creates the checkpoint table and every projection's tables, and
// resets any projection whose stored version differs from its code's: it is
// then rebuilt from the start of the log.
func (r *Runner) Setup(ctx context.Context) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("setup projections: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, checkpointsDDL); err != nil {
		return fmt.Errorf("create projection_checkpoints: %w", err)
	}
	positions := map[string]int64{}
	for _, p := range r.projections {
		if err := p.Setup(ctx, tx); err != nil {
			return fmt.Errorf("setup projection %s: %w", p.Name(), err)
		}
		c, err := readCheckpoint(ctx, tx, p.Name())
		if err != nil {
			return err
		}
		if !c.exists || c.version != p.Version() {
			if c.exists {
				r.opt.Logger.Info("projection version changed; rebuilding", "projection", p.Name(), "from", c.version, "to", p.Version())
			}
			if err := p.Reset(ctx, tx); err != nil {
				return fmt.Errorf("reset projection %s: %w", p.Name(), err)
			}
			if err := resetCheckpoint(ctx, tx, p.Name(), p.Version(), r.now()); err != nil {
				return err
			}
			c.position = 0
		}
		positions[p.Name()] = c.position
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("setup projections: %w", err)
	}
	r.mu.Lock()
	r.positions = positions
	r.mu.Unlock()
	return nil
}

// Run sets up the projections and then applies events as they arrive until
// ctx ends. It wakes on appends when the store announces them (a Changed
// method) and polls otherwise. Failures are logged and retried.
func (r *Runner) Run(ctx context.Context) error {
	for {
		err := r.Setup(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		r.opt.Logger.Error("projections setup failed; retrying", "err", err)
		sleep(ctx, time.Second)
	}
	changed := func() <-chan struct{} { return nil }
	if n, ok := r.store.(interface{ Changed() <-chan struct{} }); ok {
		changed = n.Changed
	}
	for ctx.Err() == nil {
		wake := changed() // before reading: an append after this read still wakes us
		n, err := r.step(ctx, r.healthy(), r.opt.BatchSize)
		r.retryFailed(ctx)
		r.metrics.observeLag(ctx, r.store, r.snapshot())
		var ae *ApplyError
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &ae):
			r.fail(r.narrow(ctx, ae)) // the others go on at once
		case err != nil:
			r.opt.Logger.Error("projection batch failed; retrying", "err", err)
			sleep(ctx, time.Second)
		case n == 0:
			r.markReady()
			select {
			case <-ctx.Done():
			case <-wake:
			case <-time.After(r.opt.PollInterval):
			}
		}
	}
	return nil
}

// CatchUp applies every event already in the log, then returns.
func (r *Runner) CatchUp(ctx context.Context) error {
	for {
		n, err := r.step(ctx, r.projections, r.opt.BatchSize)
		if err != nil {
			return err
		}
		if n == 0 {
			r.markReady()
			return nil
		}
	}
}

// healthy returns the projections that are not stopped by a failure.
func (r *Runner) healthy() []Projection {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ps []Projection
	for _, p := range r.projections {
		if r.failures[p.Name()] == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// narrow applies the projection of e, which failed on a batch, alone and
// one event at a time, so that it stops just before the event it cannot
// apply and the failure names that event. It returns nil if every event
// of a batch applied: the failure was transient.
func (r *Runner) narrow(ctx context.Context, e *ApplyError) *ApplyError {
	i := slices.IndexFunc(r.projections, func(p Projection) bool { return p.Name() == e.Projection })
	if i < 0 {
		return e
	}
	for range r.opt.BatchSize {
		n, err := r.step(ctx, r.projections[i:i+1], 1)
		var ae *ApplyError
		switch {
		case errors.As(err, &ae):
			return ae
		case err != nil:
			return e
		case n == 0:
			return nil
		}
	}
	return nil
}

// fail records that a projection stopped at an event; nil records nothing.
func (r *Runner) fail(e *ApplyError) {
	if e == nil {
		return
	}
	e.at = time.Now()
	r.mu.Lock()
	r.failures[e.Projection] = e
	r.mu.Unlock()
	r.opt.Logger.Error("projection cannot apply an event; it stays at the event and is retried, the others go on",
		"projection", e.Projection, "position", e.Position, "stream", e.Stream, "type", e.Type, "err", e.Err)
	r.metrics.setFailed(e.Projection, true)
}

// retryFailed tries each failed projection again, alone, once its
// RetryInterval has passed: a failure that was transient heals.
func (r *Runner) retryFailed(ctx context.Context) {
	for _, p := range r.projections {
		r.mu.Lock()
		e := r.failures[p.Name()]
		r.mu.Unlock()
		if e == nil || time.Since(e.at) < r.opt.RetryInterval {
			continue
		}
		_, err := r.step(ctx, []Projection{p}, r.opt.BatchSize)
		var ae *ApplyError
		switch {
		case errors.As(err, &ae):
			r.fail(r.narrow(ctx, ae))
		case err != nil:
			r.mu.Lock()
			e.at = time.Now()
			r.mu.Unlock()
		}
	}
}

// Failures returns the projections stopped at an event they could not
// apply, by name.
func (r *Runner) Failures() []ApplyError {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ApplyError
	for _, p := range r.projections {
		if e := r.failures[p.Name()]; e != nil {
			out = append(out, *e)
		}
	}
	return out
}

// Ready reports whether the runner has caught up with the log at least once.
func (r *Runner) Ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready
}

// Position returns the checkpoint of projection name (0 if unknown).
func (r *Runner) Position(name string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.positions[name]
}

func (r *Runner) snapshot() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int64, len(r.positions))
	for k, v := range r.positions {
		out[k] = v
	}
	return out
}

// WaitFor blocks until every projection has applied the event at position,
// for read-your-writes. It returns EUNAVAILABLE if ctx ends first.
func (r *Runner) WaitFor(ctx context.Context, position int64) error {
	for {
		r.mu.Lock()
		reached := true
		for _, p := range r.projections {
			if r.positions[p.Name()] < position {
				reached = false
			}
		}
		ch := r.advanced
		r.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return houqin.Errorf(houqin.EUNAVAILABLE, "min_position: read models have not reached position %d yet; retry", position)
		}
	}
}

// Rebuild empties projection name and re-applies the whole log to it,
// writing a progress line (events/s, ETA) to progress every interval.
func (r *Runner) Rebuild(ctx context.Context, name string, progress io.Writer, interval time.Duration) error {
	var p Projection
	for _, q := range r.projections {
		if q.Name() == name {
			p = q
		}
	}
	if p == nil {
		return houqin.Errorf(houqin.ENOTFOUND, "projection: no projection named %q", name)
	}
	if err := r.Setup(ctx); err != nil {
		return err
	}
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	defer tx.Rollback()
	if err := p.Reset(ctx, tx); err != nil {
		return fmt.Errorf("reset projection %s: %w", name, err)
	}
	if err := resetCheckpoint(ctx, tx, name, p.Version(), r.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	r.setPositions(map[string]int64{name: 0})

	head, err := r.store.Head(ctx)
	if err != nil {
		return err
	}
	start, last := time.Now(), time.Now()
	report := func(done bool) {
		pos := r.Position(name)
		elapsed := time.Since(start).Seconds()
		rate := float64(pos) / max(elapsed, 1e-9)
		eta := "?"
		if rate > 0 {
			eta = (time.Duration(float64(max(head-pos, 0))/rate) * time.Second).Round(time.Second).String()
		}
		state := "rebuilding"
		if done {
			state, eta = "rebuilt", "0s"
		}
		fmt.Fprintf(progress, "%s %s: %d/%d events (%.1f%%), %.0f events/s, elapsed %s, ETA %s\n",
			state, name, pos, head, 100*float64(pos)/float64(max(head, 1)), rate,
			time.Since(start).Round(time.Millisecond), eta)
	}
	for {
		n, err := r.step(ctx, []Projection{p}, r.opt.RebuildBatchSize)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		if n == 0 {
			break
		}
		if progress != nil && time.Since(last) >= interval {
			report(false)
			last = time.Now()
		}
	}
	if progress != nil {
		if pos := r.Position(name); pos > head {
			head = pos // events appended while rebuilding
		}
		report(true)
	}
	return nil
}

// step applies one batch to projections: the events after the smallest of
// their checkpoints, each projection getting those after its own, in one
// transaction with the checkpoints. It returns the number of events read.
func (r *Runner) step(ctx context.Context, ps []Projection, limit int) (int, error) {
	r.mu.Lock()
	from := int64(-1)
	for _, p := range ps {
		if pos := r.positions[p.Name()]; from < 0 || pos < from {
			from = pos
		}
	}
	positions := make(map[string]int64, len(ps))
	for _, p := range ps {
		positions[p.Name()] = r.positions[p.Name()]
	}
	r.mu.Unlock()
	if from < 0 {
		return 0, nil
	}
	events, err := r.store.ReadAll(ctx, from, limit)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	start := time.Now()
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin projection batch: %w", err)
	}
	defer tx.Rollback()
	last := events[len(events)-1].Position
	now := r.now()
	moved := map[string]int64{}
	for _, p := range ps {
		pos := positions[p.Name()]
		i := 0
		for i < len(events) && events[i].Position <= pos {
			i++
		}
		if i == len(events) {
			continue
		}
		if err := p.Apply(ctx, tx, events[i:]); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			// The first event the projection had not applied is named;
			// narrow finds the one that fails.
			return 0, &ApplyError{Projection: p.Name(), Position: events[i].Position, Stream: events[i].Stream, Type: events[i].Type, Err: err}
		}
		if err := moveCheckpoint(ctx, tx, p.Name(), p.Version(), pos, last, now); err != nil {
			if houqin.ErrorCode(err) == houqin.ECONFLICT {
				r.opt.Logger.Warn("projection checkpoint moved by another runner; re-reading", "projection", p.Name())
				return 0, errors.Join(err, r.reloadCheckpoints(ctx))
			}
			return 0, err
		}
		moved[p.Name()] = last
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit projection batch: %w", err)
	}
	r.setPositions(moved)
	r.metrics.observeBatch(moved, len(events), time.Since(start))
	return len(events), nil
}

func (r *Runner) reloadCheckpoints(ctx context.Context) error {
	positions := map[string]int64{}
	for _, p := range r.projections {
		c, err := readCheckpoint(ctx, r.db, p.Name())
		if err != nil {
			return err
		}
		positions[p.Name()] = c.position
	}
	r.setPositions(positions)
	return nil
}

func (r *Runner) setPositions(moved map[string]int64) {
	if len(moved) == 0 {
		return
	}
	r.mu.Lock()
	for name, pos := range moved {
		r.positions[name] = pos
		if r.failures[name] != nil {
			delete(r.failures, name)
			r.opt.Logger.Info("projection recovered", "projection", name, "position", pos)
			r.metrics.setFailed(name, false)
		}
	}
	close(r.advanced)
	r.advanced = make(chan struct{})
	r.mu.Unlock()
}

func (r *Runner) markReady() {
	r.mu.Lock()
	r.ready = true
	r.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
