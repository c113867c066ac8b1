package worker

import "time"

// The loops that watch closed executions in Temporal's visibility (the
// HistoryKeeper, the Reconciler) share how a round goes.

// sinceOverlap is how far before the newest close time of a round the next
// one lists again: visibility records a close a little after it happens.
const sinceOverlap = time.Minute

// roundResult is what a round did with one execution.
type roundResult int

const (
	doneNow     roundResult = iota
	nothingToDo             // done before, or not a process
	tryAgain                // the stream moved meanwhile: the next round tries again, and the checkpoint stays
)
