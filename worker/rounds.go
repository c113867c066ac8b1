package worker

import (
	"context"
	"fmt"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// The loops that watch closed executions in Temporal's visibility (the
// HistoryKeeper, the Reconciler) share how a round goes: closedSince.

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

// closedSince is a round's checkpoint: the close time from which the next
// round lists, in memory (zero, after a start: everything).
type closedSince struct {
	since time.Time
}

// round lists, page by page, the executions each query finds closed since
// the checkpoint, and visits each; it returns how many visits did
// something. The checkpoint moves to a minute before the newest close
// seen once a round has visited all without error and none asked to be
// tried again.
func (c *closedSince) round(ctx context.Context, tc client.Client, queries []string, visit func(*workflowpb.WorkflowExecutionInfo) (roundResult, error)) (int, error) {
	done, newest, again := 0, time.Time{}, false
	for _, query := range queries {
		if !c.since.IsZero() {
			query += fmt.Sprintf(" AND CloseTime >= '%s'", c.since.UTC().Format(time.RFC3339Nano))
		}
		var token []byte
		for {
			resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
			if err != nil {
				return done, fmt.Errorf("list executions (%s): %w", query, err)
			}
			for _, ex := range resp.GetExecutions() {
				r, err := visit(ex)
				if err != nil {
					return done, err
				}
				switch r {
				case doneNow:
					done++
				case tryAgain:
					again = true
				}
				if t := ex.GetCloseTime().AsTime(); t.After(newest) {
					newest = t
				}
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
	}
	if !again && !newest.IsZero() {
		c.since = newest.Add(-sinceOverlap)
	}
	return done, nil
}
