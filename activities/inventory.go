package activities

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// The reorder workflow as the TriggerReorder activity starts it by name
// (workflows imports this package, not the other way round); a test in
// workflows checks they match its constants.
const (
	ReorderWorkflow  = "Reorder" // the workflow function's name
	ReorderSignal    = "reorder" // the signal carrying a ReorderTrigger
	ReorderTaskQueue = "houqin"  // workflows.TaskQueue
	maxAppendRetries = 100       // read-modify-append attempts under contention
)

// ReadItems returns the state of each named item, in order.
func (a *Activities) ReadItems(ctx context.Context, names []string) ([]houqin.ItemState, error) {
	out := make([]houqin.ItemState, len(names))
	for i, n := range names {
		s, err := houqin.ReadItem(ctx, a.Store, n)
		if err != nil {
			return nil, temporalError(err)
		}
		out[i] = s
	}
	return out, nil
}

// IssueStockInput is what an issue process hands out.
type IssueStockInput struct {
	ProcessID  string
	Department string
	Requester  string
	Lines      []houqin.IssueTerms
	Meta       houqin.Metadata // of every inventory.issued; CorrelationID defaults to ProcessID
}

// IssueStockResult is what was handed out, with the stock left.
type IssueStockResult struct {
	Lines    []houqin.HandedOutLine
	Position int64 // of the last inventory.issued
}

// IssueStock appends one inventory.issued per line to the item's stream,
// read-modify-append at the stream's exact version, retrying on a
// concurrent write: the stock never goes below zero, however many issues
// run at once. Each event's ID derives from the process and the item, so a
// retried IssueStock issues nothing twice.
//
// Before writing anything it checks every line; a line the stock cannot
// cover is ENOTALLOWED naming it, and nothing is issued. (Should another
// issue take the stock between the check and the append of a later line,
// the earlier lines stay issued and the error names the line; a retry
// issues only what is missing.)
func (a *Activities) IssueStock(ctx context.Context, in IssueStockInput) (IssueStockResult, error) {
	if in.ProcessID == "" || len(in.Lines) == 0 {
		return IssueStockResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "process_id and lines: required"))
	}
	meta := in.Meta
	if meta.CorrelationID == "" {
		meta.CorrelationID = in.ProcessID
	}
	id := func(l houqin.IssueTerms) string {
		return houqin.EventID(in.ProcessID, "issue", houqin.ItemSlug(l.Item))
	}
	for i, l := range in.Lines {
		s, err := houqin.ReadItem(ctx, a.Store, l.Item)
		if err != nil {
			return IssueStockResult{}, err
		}
		if _, done := s.OnHandAfter(id(l)); !done && s.OnHand < l.Quantity {
			return IssueStockResult{}, temporalError(shortOf(i, l, s))
		}
	}
	var res IssueStockResult
	for i, l := range in.Lines {
		var out houqin.HandedOutLine
		err := a.readModifyAppend(ctx, l.Item, id(l), func(s houqin.ItemState) (houqin.EventData, error) {
			if s.OnHand < l.Quantity {
				return nil, shortOf(i, l, s)
			}
			return houqin.InventoryIssued{Item: l.Item, Unit: l.Unit, Quantity: l.Quantity, Department: in.Department,
				Requester: in.Requester, ProcessID: in.ProcessID, OnHand: s.OnHand - l.Quantity}, nil
		}, meta, func(s houqin.ItemState, position int64) {
			onHand, _ := s.OnHandAfter(id(l))
			out = houqin.HandedOutLine{Item: l.Item, Unit: l.Unit, Quantity: l.Quantity, OnHand: onHand,
				BelowReorder: s.Defined && s.Spec.ReorderPoint > 0 && onHand < s.Spec.ReorderPoint}
			res.Position = max(res.Position, position)
		})
		if err != nil {
			return IssueStockResult{}, temporalError(err)
		}
		res.Lines = append(res.Lines, out)
	}
	return res, nil
}

func shortOf(i int, l houqin.IssueTerms, s houqin.ItemState) error {
	return houqin.Errorf(houqin.ENOTALLOWED, "items[%d].quantity: %d %s of %q to hand out, %d on hand", i, l.Quantity, l.Unit, l.Item, s.OnHand)
}

// AdjustStockInput is what an approved stocktake corrects.
type AdjustStockInput struct {
	ProcessID string
	Lines     []houqin.StocktakeLine // lines without variance are skipped
	Meta      houqin.Metadata
}

// AdjustStockResult is what was adjusted, with the stock after.
type AdjustStockResult struct {
	Lines    []houqin.AdjustedLine
	Position int64
}

// AdjustStock appends one inventory.adjusted per line with a variance,
// adding the variance to the stock as it is now (movements since the count
// are kept), but never below zero. IDs derive from the stocktake and the
// item, so a retry adjusts nothing twice.
func (a *Activities) AdjustStock(ctx context.Context, in AdjustStockInput) (AdjustStockResult, error) {
	if in.ProcessID == "" {
		return AdjustStockResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "process_id: required"))
	}
	meta := in.Meta
	if meta.CorrelationID == "" {
		meta.CorrelationID = in.ProcessID
	}
	res := AdjustStockResult{Lines: []houqin.AdjustedLine{}}
	for _, l := range in.Lines {
		if l.Variance == 0 {
			continue
		}
		var out houqin.AdjustedLine
		id := houqin.EventID(in.ProcessID, "adjust", houqin.ItemSlug(l.Item))
		err := a.readModifyAppend(ctx, l.Item, id, func(s houqin.ItemState) (houqin.EventData, error) {
			delta := max(l.Variance, -s.OnHand)
			return houqin.InventoryAdjusted{Item: l.Item, Unit: l.Unit, Delta: delta, Counted: l.Counted,
				OnHand: s.OnHand + delta, ProcessID: in.ProcessID}, nil
		}, meta, func(s houqin.ItemState, position int64) {
			onHand, _ := s.OnHandAfter(id)
			out = houqin.AdjustedLine{Item: l.Item, Delta: s.DeltaOf(id), OnHand: onHand,
				BelowReorder: s.Defined && s.Spec.ReorderPoint > 0 && onHand < s.Spec.ReorderPoint}
			res.Position = max(res.Position, position)
		})
		if err != nil {
			return AdjustStockResult{}, temporalError(err)
		}
		res.Lines = append(res.Lines, out)
	}
	return res, nil
}

// readModifyAppend appends the event next returns for the item's current
// state at the stream's exact version, retrying on a concurrent append.
// If the event with ID id is already stored, it appends nothing. done gets
// the item's state including the event, and the event's position (0 when
// it was stored before).
func (a *Activities) readModifyAppend(ctx context.Context, item, id string, next func(houqin.ItemState) (houqin.EventData, error),
	meta houqin.Metadata, done func(s houqin.ItemState, position int64)) error {
	stream := houqin.InventoryStream(item)
	for range maxAppendRetries {
		s, err := houqin.ReadItem(ctx, a.Store, item)
		if err != nil {
			return err
		}
		if _, ok := s.OnHandAfter(id); ok {
			done(s, 0)
			return nil
		}
		data, err := next(s)
		if err != nil {
			return err
		}
		e, err := houqin.NewEvent(id, data, meta)
		if err != nil {
			return err
		}
		stored, err := a.Store.Append(ctx, stream, s.Version, a.stamp(e))
		if houqin.ErrorCode(err) == houqin.ECONFLICT {
			continue // someone else moved the stock: read again
		}
		if err != nil {
			return fmt.Errorf("append %s: %w", stream, err)
		}
		if err := s.Apply(stored[0]); err != nil {
			return err
		}
		done(s, stored[0].Position)
		return nil
	}
	return houqin.Errorf(houqin.EUNAVAILABLE, "%s: still contended after %d attempts", stream, maxAppendRetries)
}

// ReorderTrigger tells an item's reorder workflow that the item fell below
// its reorder point.
type ReorderTrigger struct {
	Item    string `json:"item"`
	OnHand  int64  `json:"on_hand"`
	Process string `json:"process"` // the issue or stocktake that took it below
}

// ReorderInput starts an item's reorder workflow.
type ReorderInput struct {
	Item string `json:"item"`
}

// TriggerReorder signals each item's reorder workflow (houqin.
// ReorderWorkflowID), starting it if it is not running
// (SignalWithStart): there is one per item, so concurrent triggers of one
// item meet in one workflow. Without a Temporal client it does nothing.
func (a *Activities) TriggerReorder(ctx context.Context, triggers []ReorderTrigger) error {
	if a.Temporal == nil {
		return temporal.NewNonRetryableApplicationError("reorder: the worker has no Temporal client", houqin.EUNAVAILABLE, nil)
	}
	for _, t := range triggers {
		id := houqin.ReorderWorkflowID(t.Item)
		_, err := a.Temporal.SignalWithStartWorkflow(ctx, id, ReorderSignal, t,
			client.StartWorkflowOptions{ID: id, TaskQueue: ReorderTaskQueue}, ReorderWorkflow, ReorderInput{Item: t.Item})
		if err != nil {
			return fmt.Errorf("signal %s: %w", id, err)
		}
	}
	return nil
}

// PrepareReorderInput asks for the procurement that restocks an item.
type PrepareReorderInput struct {
	Item string
	At   time.Time // now, in the workflow
	Key  string    // idempotency key of this reorder (workflow run and count)
}

// PrepareReorderResult is the procurement to start, or why none is needed.
type PrepareReorderResult struct {
	Skip       string // why no procurement is needed; "" when one is
	Number     int64  // of the procurement in its year's sequence
	Year       int
	Requester  string
	Request    houqin.ProcurementRequest
	Policy     houqin.KindPolicy
	PolicyHash string
	Logistics  []string
}

// PrepareReorder checks that the item is still below its reorder point,
// takes the next procurement number of the year (the "sequence-PR-<year>"
// stream the API numbers procurements with), and records
// inventory.reorder_requested on the item's stream. Retries with the same
// Key take the same number and record nothing twice.
func (a *Activities) PrepareReorder(ctx context.Context, in PrepareReorderInput) (PrepareReorderResult, error) {
	s, err := houqin.ReadItem(ctx, a.Store, in.Item)
	if err != nil {
		return PrepareReorderResult{}, err
	}
	if !s.BelowReorder() {
		return PrepareReorderResult{Skip: fmt.Sprintf("%d %s on hand, reorder point %d", s.OnHand, s.Unit, s.Spec.ReorderPoint)}, nil
	}
	if a.Policy == nil {
		return PrepareReorderResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "policy: the worker has no approval policy"))
	}
	policy, err := a.Policy.Kind(houqin.KindProcurement)
	if err != nil {
		return PrepareReorderResult{}, temporalError(err)
	}
	requester, err := a.reorderer()
	if err != nil {
		return PrepareReorderResult{}, temporalError(err)
	}
	logistics := a.Org.Doers([]string{requester.ID}, houqin.LogisticsRoles...)
	year := in.At.Year()
	seq := "sequence-PR-" + fmt.Sprint(year)
	taken, err := a.Store.Append(ctx, seq, houqin.ExpectAny, houqin.Event{
		ID: houqin.EventID(in.Key, "number"), Type: "sequence.number_taken", Data: []byte(`{}`),
		Meta: houqin.Metadata{Actor: "system", CorrelationID: houqin.ReorderWorkflowID(in.Item), OccurredAt: in.At},
	})
	if err != nil {
		return PrepareReorderResult{}, temporalError(fmt.Errorf("take a number of %s: %w", seq, err))
	}
	number := taken[0].Version + 1
	processID := fmt.Sprintf("PR-%04d-%06d", year, number)
	sp := s.Spec
	req := houqin.ProcurementRequest{
		Department: requester.Department, BudgetCategory: cmp.Or(sp.BudgetCategory, houqin.DefaultBudgetCategory),
		Reason:   fmt.Sprintf("自动补货：%s 库存 %d %s，低于补货点 %d / Reorder: %s below its reorder point", sp.Names.Zh, s.OnHand, s.Unit, sp.ReorderPoint, sp.Names.En),
		NeededBy: in.At.AddDate(0, 0, 14).Format(time.DateOnly),
		Items:    []houqin.ProcurementItem{{Name: sp.Name, Quantity: sp.ReorderQuantity, Unit: s.Unit, UnitPrice: sp.UnitPrice}},
	}
	if err := req.Validate(); err != nil {
		return PrepareReorderResult{}, temporalError(err)
	}
	e, err := houqin.NewEvent(houqin.EventID(in.Key, "requested"), houqin.ReorderRequested{
		Item: sp.Name, Quantity: sp.ReorderQuantity, OnHand: s.OnHand, ReorderPoint: sp.ReorderPoint, ProcessID: processID, Requester: requester.ID,
	}, houqin.Metadata{Actor: "system", CorrelationID: processID, WorkflowID: houqin.ReorderWorkflowID(in.Item), OccurredAt: in.At})
	if err != nil {
		return PrepareReorderResult{}, temporalError(err)
	}
	if _, err := a.Store.Append(ctx, houqin.InventoryStream(sp.Name), houqin.ExpectAny, e); err != nil {
		return PrepareReorderResult{}, temporalError(fmt.Errorf("record the reorder of %s: %w", sp.Name, err))
	}
	return PrepareReorderResult{Number: number, Year: year, Requester: requester.ID, Request: req,
		Policy: policy, PolicyHash: policy.Hash(), Logistics: logistics}, nil
}

// reorderer returns who requests reorders: Reorderer, else the first user
// (by ID) with role warehouse.
func (a *Activities) reorderer() (houqin.User, error) {
	if a.Reorderer != "" {
		return a.Org.User(a.Reorderer)
	}
	users := a.Org.WithRole("warehouse")
	slices.SortFunc(users, func(x, y houqin.User) int { return strings.Compare(x.ID, y.ID) })
	if len(users) == 0 {
		return houqin.User{}, houqin.Errorf(houqin.EINVALID, "reorderer: nobody has role warehouse to request reorders")
	}
	return users[0], nil
}

// PrepareStocktakeInput asks for the number and policy of a scheduled
// stocktake.
type PrepareStocktakeInput struct {
	At  time.Time // now, in the workflow
	Key string    // idempotency key: the launching workflow's run
}

// PrepareStocktakeResult is the number and policy of a scheduled stocktake.
type PrepareStocktakeResult struct {
	Number     int64
	Year       int
	Policy     houqin.KindPolicy
	PolicyHash string
}

// PrepareStocktake takes the next number of "sequence-ST-<year>" (the
// stream the API numbers stocktakes from; a retry with the same Key takes
// the same number) and returns the stocktake policy in force.
func (a *Activities) PrepareStocktake(ctx context.Context, in PrepareStocktakeInput) (PrepareStocktakeResult, error) {
	if a.Policy == nil {
		return PrepareStocktakeResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "policy: the worker has no approval policy"))
	}
	policy, err := a.Policy.Kind(houqin.KindStocktake)
	if err != nil {
		return PrepareStocktakeResult{}, temporalError(err)
	}
	year := in.At.Year()
	seq := "sequence-ST-" + fmt.Sprint(year)
	taken, err := a.Store.Append(ctx, seq, houqin.ExpectAny, houqin.Event{
		ID: houqin.EventID(in.Key, "number"), Type: "sequence.number_taken", Data: []byte(`{}`),
		Meta: houqin.Metadata{Actor: "system", OccurredAt: in.At},
	})
	if err != nil {
		return PrepareStocktakeResult{}, temporalError(fmt.Errorf("take a number of %s: %w", seq, err))
	}
	return PrepareStocktakeResult{Number: taken[0].Version + 1, Year: year, Policy: policy, PolicyHash: policy.Hash()}, nil
}
