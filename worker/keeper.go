package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/audit"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// HistoryKeeper keeps every closed run of a process's workflow readable
// for as long as its events are kept, past Temporal's retention: every
// Interval it lists the executions closed since its last round, writes
// each new one's history to Dir/<workflow ID>/<run ID>.json (the JSON form
// of `houqin history export`, written to a temporary file, synced and
// renamed, so a crash leaves no partial copy) and appends
// process.history_kept with the file's SHA-256 to the process's stream,
// where the hash chain covers it. A run whose copy is recorded is never
// written again. `houqin replay --workflow-id` reads the copy once
// Temporal has deleted the history.
//
// Workflows that are no process (schedules, reorders) are not kept.
type HistoryKeeper struct {
	Store    houqin.EventStore
	Temporal client.Client
	Dir      string
	Interval time.Duration // default 1 min
	Logger   *slog.Logger

	closed closedSince
}

// Run keeps histories until ctx ends.
func (k *HistoryKeeper) Run(ctx context.Context) error {
	interval := k.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	for {
		if _, err := k.Once(ctx); err != nil && ctx.Err() == nil {
			k.logger().Warn("keeping closed workflow histories failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// Once keeps the history of every execution closed since the last round
// and returns how many it kept.
func (k *HistoryKeeper) Once(ctx context.Context) (int, error) {
	return k.closed.round(ctx, k.Temporal, []string{"ExecutionStatus != 'Running'"}, func(ex *workflowpb.WorkflowExecutionInfo) (roundResult, error) {
		return k.keep(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId())
	})
}

// findingID is the ID of an inspection's finding, a process of its own
// stream (houqin.FindingStream).
var findingID = regexp.MustCompile(`^IN-\d{4}-\d+-F\d+$`)

// processStream is the stream of the process a workflow ID names.
func processStream(workflowID string) (string, bool) {
	if findingID.MatchString(workflowID) {
		return houqin.FindingStream(workflowID), true
	}
	stream, err := audit.ProcessStream(workflowID)
	return stream, err == nil
}

// keep keeps the history of one closed run.
func (k *HistoryKeeper) keep(ctx context.Context, workflowID, runID string) (roundResult, error) {
	stream, ok := processStream(workflowID)
	if !ok {
		return nothingToDo, nil
	}
	events, err := audit.ReadStream(ctx, k.Store, stream)
	if err != nil {
		return nothingToDo, err
	}
	if len(events) == 0 {
		return nothingToDo, nil // a workflow that stored nothing
	}
	if _, ok := KeptHistory(events, runID); ok {
		return nothingToDo, nil
	}
	h, err := FetchHistory(ctx, k.Temporal, workflowID, runID)
	if err != nil {
		return nothingToDo, err
	}
	b, err := protojson.MarshalOptions{Indent: " "}.Marshal(h)
	if err != nil {
		return nothingToDo, err
	}
	b = append(b, '\n')
	file := filepath.Join(workflowID, runID+".json")
	if err := writeFileAtomic(filepath.Join(k.Dir, file), b); err != nil {
		return nothingToDo, fmt.Errorf("keep the history of %s: %w", workflowID, err)
	}
	sum := sha256.Sum256(b)
	data := houqin.HistoryKept{WorkflowID: workflowID, RunID: runID, Events: len(h.GetEvents()), Bytes: int64(len(b)),
		SHA256: hex.EncodeToString(sum[:]), File: filepath.ToSlash(file)}
	meta := houqin.Metadata{Actor: "system", CorrelationID: events[0].Meta.CorrelationID, WorkflowID: workflowID, RunID: runID,
		OccurredAt: time.Now()}
	e, err := houqin.NewEvent(houqin.EventID(workflowID, runID, "history-kept"), data, meta)
	if err != nil {
		return nothingToDo, err
	}
	if _, err := k.Store.Append(ctx, stream, events[len(events)-1].Version, e); err != nil {
		if houqin.ErrorCode(err) == houqin.ECONFLICT {
			return tryAgain, nil // the copy is rewritten, identically, next round
		}
		return nothingToDo, fmt.Errorf("record the kept history of %s: %w", workflowID, err)
	}
	k.logger().Info("closed workflow history kept", "workflow_id", workflowID, "run_id", runID, "events", data.Events, "sha256", data.SHA256)
	return doneNow, nil
}

// KeptHistory returns the process.history_kept of runID among a stream's
// events ("" = the last run kept).
func KeptHistory(events []houqin.Event, runID string) (houqin.HistoryKept, bool) {
	for _, e := range slices.Backward(events) {
		if e.Type != "process.history_kept" {
			continue
		}
		var k houqin.HistoryKept
		if json.Unmarshal(e.Data, &k) == nil && (runID == "" || k.RunID == runID) {
			return k, true
		}
	}
	return houqin.HistoryKept{}, false
}

// ReadKeptHistory reads the kept copy k under dir and checks it against
// the digest its event recorded: a copy changed since is an error that
// says so.
func ReadKeptHistory(dir string, k houqin.HistoryKept) (*historypb.History, error) {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(k.File)))
	if err != nil {
		return nil, fmt.Errorf("the kept history of %s: %w", k.WorkflowID, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != k.SHA256 {
		return nil, fmt.Errorf("TAMPERED: the kept history %s has SHA-256 %x, its process.history_kept recorded %s", k.File, sum, k.SHA256)
	}
	var h historypb.History
	if err := protojson.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("the kept history %s: %w", k.File, err)
	}
	return &h, nil
}

// FetchHistory reads the whole history of a run (runID "" = the latest).
func FetchHistory(ctx context.Context, c client.Client, workflowID, runID string) (*historypb.History, error) {
	var h historypb.History
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		h.Events = append(h.Events, e)
	}
	return &h, nil
}

// writeFileAtomic writes b to path through a synced temporary file renamed
// over it, and syncs the directory: path holds all of b or what it held.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".keep-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (k *HistoryKeeper) logger() *slog.Logger {
	if k.Logger != nil {
		return k.Logger
	}
	return slog.Default()
}
