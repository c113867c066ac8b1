// Package activities holds houqin's Temporal activities: the only code a
// workflow runs that does I/O. They are methods on one Activities struct
// whose fields are the injected dependencies.
//
// Every activity is idempotent, so Temporal may retry it freely: events
// carry deterministic IDs, and the event store treats an append of events it
// already holds as a successful no-op. Business failures (EINVALID,
// ECONFLICT) are non-retryable application errors whose type is the houqin
// error code; anything else (a database that is down) is retried.
package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Activities holds the dependencies of houqin's activities. Register a
// pointer with the worker; workflows reference the methods through a nil
// *Activities.
type Activities struct {
	Store houqin.EventStore
	Org   *houqin.Org // the organisation directory, for resolving approvers
	// Now is the clock (nil: time.Now) stamping events whose OccurredAt the
	// caller left zero. Workflows always stamp their events with
	// workflow.Now, so a retried activity appends identical events; the
	// fallback is for callers that do not retry.
	Now func() time.Time
	// Temporal starts and signals the reorder workflows (TriggerReorder);
	// nil: items that fall below their reorder point are not reordered.
	Temporal client.Client
	// Policy is the approval policy a reorder's procurement copies.
	Policy *houqin.Policy
	// Reorderer is the user who requests reorders; "" means the first
	// user with role warehouse.
	Reorderer string
}

// AppendInput is one append to one stream.
type AppendInput struct {
	Stream   string
	Expected int64 // houqin.ExpectAny, houqin.ExpectNoStream or the stream's last version
	Events   []houqin.Event
}

// AppendResult says where the last event of an append landed.
type AppendResult struct {
	LastVersion  int64 // version of the last event in its stream
	LastPosition int64 // global position of the last event
}

// AppendEvents appends in.Events to in.Stream at in.Expected. Appending
// events that are already stored where in.Expected puts them succeeds
// without writing, so a retry after a lost response is harmless.
//
// It returns a non-retryable application error of type EINVALID or
// ECONFLICT when the store refuses the append; other errors are retried.
func (a *Activities) AppendEvents(ctx context.Context, in AppendInput) (AppendResult, error) {
	events := make([]houqin.Event, len(in.Events))
	for i, e := range in.Events {
		events[i] = a.stamp(e)
	}
	stored, err := a.Store.Append(ctx, in.Stream, in.Expected, events...)
	if err != nil {
		return AppendResult{}, temporalError(fmt.Errorf("append %s: %w", in.Stream, err))
	}
	last := stored[len(stored)-1]
	return AppendResult{LastVersion: last.Version, LastPosition: last.Position}, nil
}

// StockInInput names the goods a process puts into stock.
type StockInInput struct {
	ProcessID string
	Lines     []houqin.StockLine
	Meta      houqin.Metadata // of every inventory event; CorrelationID defaults to ProcessID
}

// StockIn appends an inventory.stocked_in event to the inventory stream of
// each line's item (houqin.InventoryStream), with houqin.ExpectAny: the
// stream is shared by every process. Each event's ID derives from the
// process, the step and the item, so a retried StockIn, or one repeated
// after a partial failure, stocks nothing twice. The result names the last
// line's event.
//
// Errors are as for AppendEvents.
func (a *Activities) StockIn(ctx context.Context, in StockInInput) (AppendResult, error) {
	if in.ProcessID == "" {
		return AppendResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "process_id: required"))
	}
	if len(in.Lines) == 0 {
		return AppendResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "lines: at least one line is required"))
	}
	meta := in.Meta
	if meta.CorrelationID == "" {
		meta.CorrelationID = in.ProcessID
	}
	var res AppendResult
	for i, l := range in.Lines {
		if l.Quantity <= 0 {
			return AppendResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "lines[%d].quantity: must be positive, got %d", i, l.Quantity))
		}
		e, err := houqin.NewEvent(
			houqin.EventID(in.ProcessID, "stock_in", l.Name),
			houqin.InventoryStockedIn{Item: l.Name, Unit: l.Unit, Quantity: l.Quantity, ProcessID: in.ProcessID},
			meta,
		)
		if err != nil {
			return AppendResult{}, temporalError(err)
		}
		stream := houqin.InventoryStream(l.Name)
		stored, err := a.Store.Append(ctx, stream, houqin.ExpectAny, a.stamp(e))
		if err != nil {
			return AppendResult{}, temporalError(fmt.Errorf("stock in %s: %w", stream, err))
		}
		res = AppendResult{LastVersion: stored[0].Version, LastPosition: max(res.LastPosition, stored[0].Position)}
	}
	return res, nil
}

// stamp sets e's OccurredAt from the clock if the caller left it zero.
func (a *Activities) stamp(e houqin.Event) houqin.Event {
	if e.Meta.OccurredAt.IsZero() {
		now := time.Now
		if a.Now != nil {
			now = a.Now
		}
		e.Meta.OccurredAt = now()
	}
	return e
}

// temporalError turns the business failures a retry cannot fix into
// non-retryable application errors typed with their houqin code, and
// returns any other error as is, for Temporal to retry.
func temporalError(err error) error {
	var e *houqin.Error
	if errors.As(err, &e) && (e.Code == houqin.EINVALID || e.Code == houqin.ECONFLICT || e.Code == houqin.ENOTALLOWED ||
		e.Code == houqin.ENOTFOUND) {
		return temporal.NewNonRetryableApplicationError(e.Message, e.Code, err)
	}
	return err
}
