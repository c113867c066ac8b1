package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/audit"
	"github.com/houqin/houqin/worker"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"
)

// runAudit dispatches the audit, history and replay commands.
func runAudit(ctx context.Context, cmd, sub string, args []string, stdout, stderr io.Writer) error {
	switch {
	case cmd == "replay":
		return runReplay(ctx, args, stdout, stderr)
	case cmd == "history" && sub == "export":
		return runHistoryExport(ctx, args[1:], stdout, stderr)
	case cmd == "audit" && sub == "verify":
		return runAuditVerify(ctx, args[1:], stdout, stderr)
	case cmd == "audit" && sub == "anchor":
		return runAuditAnchor(ctx, args[1:], stdout, stderr)
	case cmd == "audit" && sub == "replay":
		return runAuditReplay(ctx, args[1:], stdout, stderr)
	case cmd == "audit" && sub == "trail":
		return runAuditTrail(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", join(cmd, sub))
}

// runAuditVerify re-computes every hash chain and checks the latest anchor;
// an error (exit 1) when anything was altered or removed.
func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	anchor := fs.String("anchor", "", "hash of an exported anchor (houqin audit anchor --print) that must be in the anchor chain")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var opt audit.VerifyOptions
	if *anchor != "" {
		if err := opt.ExpectAnchor.UnmarshalText([]byte(*anchor)); err != nil || len(opt.ExpectAnchor) != 32 {
			return houqin.Errorf(houqin.EINVALID, "anchor: must be a SHA-256 hash in hex, got %q", *anchor)
		}
	}
	store, err := openEventStore(ctx, sf.eventsDSN(), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	last := time.Now()
	opt.Progress = func(done, head int64) {
		if time.Since(last) > 2*time.Second {
			fmt.Fprintf(stderr, "verified up to position %d of %d\n", done, head)
			last = time.Now()
		}
	}
	rep, err := audit.Verify(ctx, store, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, w := range rep.Warnings {
			fmt.Fprintln(stdout, "warning:", w)
		}
		for _, f := range rep.Findings {
			fmt.Fprintln(stdout, "TAMPERED:", f)
		}
		if rep.Anchor != nil {
			fmt.Fprintf(stdout, "anchor %d (position %d, %d streams, hash %s) checked\n", rep.Anchor.Seq, rep.Anchor.Position, rep.Anchor.Streams, rep.Anchor.Hash)
		}
	}
	if !rep.OK {
		f := rep.Findings[0]
		return fmt.Errorf("TAMPERED: %d finding(s); first broken: stream %s version %d position %d id %s: %s",
			len(rep.Findings), f.Stream, f.Version, f.Position, f.ID, f.Reason)
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "ok: %d events in %d streams verified in %s; every hash chain is intact\n", rep.Events, rep.Streams, rep.Took)
	}
	return nil
}

// runAuditAnchor appends one anchor of every stream head.
func runAuditAnchor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin audit anchor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	hashOnly := fs.Bool("print", false, "print only the anchor's hash, to keep outside this database (verify --anchor checks it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := openEventStore(ctx, sf.eventsDSN(), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	an, wrote, err := (&audit.Anchorer{Store: store}).Anchor(ctx)
	if err != nil {
		return err
	}
	if an.Seq == 0 {
		return houqin.Errorf(houqin.EINVALID, "events: the store is empty; there is nothing to anchor")
	}
	if *hashOnly {
		fmt.Fprintln(stdout, an.Hash)
		return nil
	}
	state := "appended"
	if !wrote {
		state = "unchanged since"
	}
	fmt.Fprintf(stdout, "%s anchor %d: %d streams up to position %d\n  digest %s\n  hash   %s\n", state, an.Seq, an.Streams, an.Position, an.Digest, an.Hash)
	return nil
}

// runAuditReplay prints a process as it stood at a moment: what an approver
// saw then.
func runAuditReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin audit replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	process := fs.String("process", "", "process ID, e.g. PR-2026-000001")
	at := fs.String("at", "", "RFC 3339 time, e.g. 2026-11-25T10:00:00+08:00 (default: now)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *process == "" {
		return houqin.Errorf(houqin.EINVALID, "process: required")
	}
	when := time.Now()
	if *at != "" {
		var err error
		if when, err = time.Parse(time.RFC3339Nano, *at); err != nil {
			return houqin.Errorf(houqin.EINVALID, "at: must be an RFC 3339 time such as 2026-11-25T10:00:00+08:00, got %q", *at)
		}
	}
	store, err := openEventStore(ctx, sf.eventsDSN(), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	events, err := audit.ReadProcess(ctx, store, *process)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(audit.StateAt(*process, events, when))
}

// runAuditTrail writes a process's audit trail in one of audit.Formats.
func runAuditTrail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin audit trail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	process := fs.String("process", "", "process ID, e.g. PR-2026-000001")
	format := fs.String("format", "json", "json, jsonl, csv (with a UTF-8 BOM) or xlsx")
	out := fs.String("out", "", "write to this file instead of stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *process == "" {
		return houqin.Errorf(houqin.EINVALID, "process: required")
	}
	store, err := openEventStore(ctx, sf.eventsDSN(), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	events, err := audit.ReadProcess(ctx, store, *process)
	if err != nil {
		return err
	}
	return writeTo(*out, stdout, func(w io.Writer) error { return audit.NewTrail(*process, events).Write(w, *format) })
}

// writeTo runs write on the file path (created or truncated) or on stdout.
func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// temporalFlags name the Temporal frontend a history command talks to.
type temporalFlags struct {
	address   string
	namespace string
}

func (f *temporalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.address, "address", "127.0.0.1:7233", "Temporal frontend address")
	fs.StringVar(&f.namespace, "namespace", "default", "Temporal namespace")
}

func (f *temporalFlags) dial(ctx context.Context, stderr io.Writer) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{HostPort: f.address, Namespace: f.namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))})
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", f.address, err)
	}
	return c, nil
}

// runHistoryExport writes a workflow's history as JSON, the form
// client.HistoryFromJSON (and houqin replay --file) reads.
func runHistoryExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin history export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf temporalFlags
	tf.register(fs)
	id := fs.String("workflow-id", "", "workflow ID (the process ID)")
	out := fs.String("out", "", "write to this file instead of stdout (name it <workflow ID>.<anything>.json for replay --dir)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id == "" {
		return houqin.Errorf(houqin.EINVALID, "workflow-id: required")
	}
	c, err := tf.dial(ctx, stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	h, err := worker.FetchHistory(ctx, c, *id, "")
	if err != nil {
		return err
	}
	b, err := protojson.MarshalOptions{Indent: " "}.Marshal(h)
	if err != nil {
		return err
	}
	return writeTo(*out, stdout, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err })
}

// runReplay replays workflow histories — one from Temporal, one file, or
// every *.json of a directory — against the current workflow code.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tf temporalFlags
	tf.register(fs)
	id := fs.String("workflow-id", "", "replay this workflow's history, fetched from Temporal, or its kept copy once Temporal's retention deleted it")
	var sf storeFlags
	sf.register(fs)
	histories := fs.String("histories", "", "directory of the kept histories (default DATA/histories)")
	file := fs.String("file", "", "replay this history file (<workflow ID>[.<anything>].json)")
	dir := fs.String("dir", "", "replay every *.json history file in this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := 0
	for _, v := range []string{*id, *file, *dir} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return houqin.Errorf(houqin.EINVALID, "workflow-id: give exactly one of --workflow-id, --file, --dir")
	}
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if *id != "" {
		c, err := tf.dial(ctx, stderr)
		if err != nil {
			return err
		}
		defer c.Close()
		h, from, err := historyOf(ctx, c, sf, cmp.Or(*histories, filepath.Join(sf.data, "histories")), *id)
		if err != nil {
			return err
		}
		if err := worker.Replay(logger, h, *id); err != nil {
			return fmt.Errorf("NONDETERMINISTIC: %w", err)
		}
		fmt.Fprintf(stdout, "ok: %s (%d history events, %s) replays against the current code\n", *id, len(h.Events), from)
		return nil
	}
	files := []string{*file}
	if *dir != "" {
		var err error
		if files, err = filepath.Glob(filepath.Join(*dir, "*.json")); err != nil {
			return err
		}
		if len(files) == 0 {
			return houqin.Errorf(houqin.EINVALID, "dir: no *.json history files in %s", *dir)
		}
	}
	failed := 0
	for _, f := range files {
		if err := replayFile(logger, f); err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %v\n", f, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "ok   %s\n", f)
	}
	if failed > 0 {
		return fmt.Errorf("NONDETERMINISTIC: %d of %d histories do not replay against the current code", failed, len(files))
	}
	return nil
}

// historyOf reads a workflow's history from Temporal or, once Temporal's
// retention deleted it, the copy houqin kept (worker.HistoryKeeper),
// checked against the digest on the process's stream; from says which.
func historyOf(ctx context.Context, c client.Client, sf storeFlags, dir, id string) (h *historypb.History, from string, err error) {
	h, err = worker.FetchHistory(ctx, c, id, "")
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return h, "from Temporal", err
	}
	store, err := openEventStore(ctx, sf.eventsDSN(), nil)
	if err != nil {
		return nil, "", err
	}
	defer store.Close()
	events, err := audit.ReadProcess(ctx, store, id)
	if err != nil {
		return nil, "", fmt.Errorf("%s: Temporal has no history of it (retention?) and: %w", id, err)
	}
	k, ok := worker.KeptHistory(events, "")
	if !ok {
		return nil, "", houqin.Errorf(houqin.ENOTFOUND, "workflow-id: Temporal has no history of %s and houqin kept none (process.history_kept)", id)
	}
	if h, err = worker.ReadKeptHistory(dir, k); err != nil {
		return nil, "", err
	}
	return h, fmt.Sprintf("the copy kept in %s, SHA-256 %s as recorded", filepath.Join(dir, k.File), k.SHA256), nil
}

func replayFile(logger sdklog.Logger, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	return worker.ReplayHistory(logger, h)
}

// withAnchorer returns the background loops of a process that projects: the
// projection runner, and an audit.Anchorer every interval (none if 0).
func withAnchorer(runner func(context.Context) error, store houqin.EventStore, every time.Duration, log *slog.Logger) []func(context.Context) error {
	if every <= 0 {
		return []func(context.Context) error{runner}
	}
	a := &audit.Anchorer{Store: store, Interval: every, Logger: log}
	return []func(context.Context) error{runner, a.Run}
}
