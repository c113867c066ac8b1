// Command houqin runs houqin (后勤), the workflow and approval engine of the
// administration & logistics department, and its tools.
//
//	houqin dev                        everything in one process, data under ./data
//	houqin api | worker | projector   the parts, as separate processes
//	houqin events tail [--follow]     print events as JSON lines
//	houqin events verify              re-compute every stream's hash chain
//	houqin projections rebuild NAME   rebuild a read model from the log, with progress
//	houqin projections show NAME      print a read model as JSON lines
//	houqin token USER                 print a development API token for USER
//	houqin audit verify|anchor|replay|trail   prove nothing was altered; the past of a process
//	houqin history export | replay    export Temporal histories; replay them against today's code
//
// Stores are chosen by DSN: "sqlite:///path/events.db" or "postgres://…".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "houqin:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: houqin <command> [flags]

commands:
  dev                        run houqin in one process: embedded Temporal, worker, projector, API
  api                        run the HTTP API alone (--temporal, --events, --readmodels)
  worker                     run the Temporal worker alone (--temporal, --events)
  projector                  keep the read models current, alone (--events, --readmodels)
  events tail                print events of $all as JSON lines (--from, --follow)
  events verify              re-compute the hash chain of every stream
  projections rebuild NAME   rebuild a read model from the start of the log
  projections show NAME      print a read model as JSON lines
  projections list           list the projections and their checkpoints
  token USER                 print a dev API token for USER (--data, --ttl, --org)
  audit verify               every hash chain and the latest anchor; exit 1 naming the first broken event
  audit anchor               append an anchor of every stream head (--print: only its hash, to keep elsewhere)
  audit replay               a process as it stood at a moment (--process, --at)
  audit trail                a process's audit trail (--process, --format json|jsonl|csv|xlsx, --out)
  history export             write a workflow's Temporal history as JSON (--workflow-id, --address, --out)
  search-attributes          register the business search attributes on a namespace, once per cluster (--address, --namespace)
  replay                     replay histories against the current workflow code (--workflow-id | --file | --dir)

Run 'houqin <command> -h' for the flags of a command.
`

// Run runs the command line args, writing output to stdout and diagnostics
// to stderr, until the command ends or ctx is cancelled.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
		args = args[1:]
	}
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch {
	case cmd == "dev":
		return runDev(ctx, args, stdout, stderr)
	case cmd == "api":
		return runAPI(ctx, args, stdout, stderr)
	case cmd == "worker":
		return runWorker(ctx, args, stdout, stderr)
	case cmd == "projector":
		return runProjector(ctx, args, stdout, stderr)
	case cmd == "events" && sub == "tail":
		return runEventsTail(ctx, args[1:], stdout, stderr)
	case cmd == "events" && sub == "verify":
		return runEventsVerify(ctx, args[1:], stdout, stderr)
	case cmd == "projections" && sub == "rebuild":
		return runProjectionsRebuild(ctx, args[1:], stdout, stderr)
	case cmd == "projections" && sub == "show":
		return runProjectionsShow(ctx, args[1:], stdout, stderr)
	case cmd == "projections" && sub == "list":
		return runProjectionsList(ctx, args[1:], stdout, stderr)
	case cmd == "audit" || cmd == "history" || cmd == "replay":
		return runAudit(ctx, cmd, sub, args, stdout, stderr)
	case cmd == "search-attributes":
		return runSearchAttributes(ctx, args, stdout, stderr)
	case cmd == "token":
		return runToken(ctx, args, stdout, stderr)
	case cmd == "" || cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", join(cmd, sub))
	}
}

func join(a, b string) string {
	if b == "" {
		return a
	}
	return a + " " + b
}
