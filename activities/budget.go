package activities

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/houqin/houqin"
)

// maxLineAttempts bounds the read-fold-append attempts of one budget line
// write that keeps losing the race for the line's next version.
const maxLineAttempts = 200

// BudgetLineRef names a budget line.
type BudgetLineRef struct {
	Year       int    `json:"year"`
	Department string `json:"department"`
	Category   string `json:"category"`
}

// Stream returns the line's stream.
func (r BudgetLineRef) Stream() string {
	return houqin.BudgetLineStream(r.Year, r.Department, r.Category)
}

// ReadBudgetLine reads and folds a budget line's stream.
func ReadBudgetLine(ctx context.Context, store houqin.EventStore, stream string) (*houqin.BudgetLine, error) {
	l := houqin.NewBudgetLine(stream)
	for {
		events, err := store.ReadStream(ctx, stream, l.Version+1, houqin.Forward, 10_000)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		for _, e := range events {
			if err := l.Apply(e); err != nil {
				return nil, err
			}
		}
		if len(events) < 10_000 {
			return l, nil
		}
	}
}

// updateLine writes to a budget line with optimistic concurrency: it reads
// and folds the line, asks decide for the events to append, and appends
// them at the exact version it read; when another writer got there first
// (ECONFLICT) it starts again. decide sees the line as stored, so it can
// tell an operation already done (BudgetLine.Has) from one to do.
func (a *Activities) updateLine(ctx context.Context, stream string, decide func(*houqin.BudgetLine) ([]houqin.Event, error)) (*houqin.BudgetLine, []houqin.Event, error) {
	for attempt := 1; ; attempt++ {
		l, err := ReadBudgetLine(ctx, a.Store, stream)
		if err != nil {
			return nil, nil, err
		}
		events, err := decide(l)
		if err != nil || len(events) == 0 {
			return l, nil, err
		}
		for i := range events {
			events[i] = a.stamp(events[i])
		}
		stored, err := a.Store.Append(ctx, stream, l.Version, events...)
		if houqin.ErrorCode(err) == houqin.ECONFLICT && attempt < maxLineAttempts {
			// Lost the race: back off a little, with jitter, and retry.
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-time.After(time.Duration(rand.IntN(min(attempt, 20))+1) * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("append %s: %w", stream, err)
		}
		for _, e := range stored {
			if err := l.Apply(e); err != nil {
				return nil, nil, err
			}
		}
		return l, stored, nil
	}
}

// CheckBudgetInput is a spending to check against its line.
type CheckBudgetInput struct {
	Line   BudgetLineRef `json:"line"`
	Amount int64         `json:"amount"`
}

// BudgetCheckResult is the outcome of CheckBudget.
type BudgetCheckResult struct {
	Line  string             `json:"line"` // the line's stream
	Check houqin.BudgetCheck `json:"check"`
}

// CheckBudget checks a spending against its budget line as the line stands
// now, without writing: the status a procurement's approval route is
// resolved with (budget_status). A line without an active budget is
// houqin.BudgetNone.
func (a *Activities) CheckBudget(ctx context.Context, in CheckBudgetInput) (BudgetCheckResult, error) {
	l, err := ReadBudgetLine(ctx, a.Store, in.Line.Stream())
	if err != nil {
		return BudgetCheckResult{}, temporalError(err)
	}
	return BudgetCheckResult{Line: l.Stream, Check: l.Check(in.Amount)}, nil
}

// ReserveBudgetInput reserves money for an approved spending process.
type ReserveBudgetInput struct {
	ProcessID string        `json:"process_id"`
	Line      BudgetLineRef `json:"line"`
	Amount    int64         `json:"amount"`
	// Allow is the worst outcome of the check the approval covered:
	// within (no budget steps ran), warn (finance reviewed the overrun) or
	// exceeded (a holder of budget_exception approved an exception).
	Allow string `json:"allow"`
	// Approvers are the users who approved the spending: if one of them
	// holds the role budget_exception the reservation may pass the band,
	// if one holds finance it may go into the band (whatever Allow says).
	Approvers []string        `json:"approvers,omitempty"`
	Meta      houqin.Metadata `json:"meta"`
}

// The roles whose approval covers a spending beyond the plan.
const (
	RoleFinance         = "finance"
	RoleBudgetException = "budget_exception"
)

// allowed returns the worst check outcome in's approval covers.
func (a *Activities) allowed(in ReserveBudgetInput) string {
	allow := in.Allow
	if a.Org == nil {
		return allow
	}
	for _, id := range in.Approvers {
		u, err := a.Org.User(id)
		if err != nil {
			continue
		}
		for role, covers := range map[string]string{RoleFinance: houqin.BudgetWarn, RoleBudgetException: houqin.BudgetExceeded} {
			if u.HasRole(role) && houqin.BudgetStatusRank(covers) > houqin.BudgetStatusRank(allow) {
				allow = covers
			}
		}
	}
	return allow
}

// ReserveBudgetResult is what a reservation did.
type ReserveBudgetResult struct {
	Line      string             `json:"line"`
	Check     houqin.BudgetCheck `json:"check"`    // of the line before the reservation
	Reserved  int64              `json:"reserved"` // what the process holds on the line now
	Exception bool               `json:"exception,omitempty"`
	// Refused is set when the line moved since the approval: the check
	// now is worse than Allow, and nothing was reserved.
	Refused  bool   `json:"refused,omitempty"`
	Allow    string `json:"allow"`              // the worst outcome the approval covered
	Position int64  `json:"position,omitempty"` // of the budget.reserved event
}

// ReserveBudget reserves in.Amount on the line for in.ProcessID, exactly
// once: the event's ID derives from the process and the line, so a retried
// activity finds its reservation and reserves nothing more. The check and
// the append happen at one version of the line (optimistic concurrency), so
// concurrent reservations never take the line beyond what each was
// allowed: past the band only with an exception. A line without an active
// budget reserves nothing (Check.Status none).
func (a *Activities) ReserveBudget(ctx context.Context, in ReserveBudgetInput) (ReserveBudgetResult, error) {
	if in.ProcessID == "" || in.Amount < 0 {
		return ReserveBudgetResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "process_id and a non-negative amount are required"))
	}
	stream := in.Line.Stream()
	id := houqin.EventID(in.ProcessID, "budget", "reserve", stream)
	res := ReserveBudgetResult{Line: stream, Allow: a.allowed(in)}
	l, stored, err := a.updateLine(ctx, stream, func(l *houqin.BudgetLine) ([]houqin.Event, error) {
		res.Refused, res.Exception = false, false
		if l.Has(id) || !l.Planned || in.Amount == 0 {
			if !l.Has(id) {
				res.Check = l.Check(in.Amount)
			}
			return nil, nil
		}
		res.Check = l.Check(in.Amount)
		if houqin.BudgetStatusRank(res.Check.Status) > houqin.BudgetStatusRank(res.Allow) {
			res.Refused = true
			return nil, nil
		}
		res.Exception = res.Check.Status == houqin.BudgetExceeded
		meta := in.Meta
		meta.CorrelationID = in.ProcessID
		e, err := houqin.NewEvent(id, houqin.BudgetReserved{ProcessID: in.ProcessID, Amount: in.Amount, Exception: res.Exception}, meta)
		return []houqin.Event{e}, err
	})
	if err != nil {
		return ReserveBudgetResult{}, temporalError(err)
	}
	res.Reserved = l.Open[in.ProcessID]
	if len(stored) > 0 {
		res.Position = stored[0].Position
	}
	return res, nil
}

// ReleaseBudgetInput gives back what a process holds on a line.
type ReleaseBudgetInput struct {
	ProcessID string          `json:"process_id"`
	Line      BudgetLineRef   `json:"line"`
	Reason    string          `json:"reason"`
	Meta      houqin.Metadata `json:"meta"`
}

// ReleaseBudgetResult says what was released.
type ReleaseBudgetResult struct {
	Line     string `json:"line"`
	Released int64  `json:"released"`
}

// ReleaseBudget releases everything in.ProcessID still holds on the line
// (its ending before the invoice: rejection, withdrawal, revocation,
// cancellation). It happens once per process and line.
func (a *Activities) ReleaseBudget(ctx context.Context, in ReleaseBudgetInput) (ReleaseBudgetResult, error) {
	stream := in.Line.Stream()
	id := houqin.EventID(in.ProcessID, "budget", "release", stream)
	res := ReleaseBudgetResult{Line: stream}
	_, _, err := a.updateLine(ctx, stream, func(l *houqin.BudgetLine) ([]houqin.Event, error) {
		open := l.Open[in.ProcessID]
		res.Released = open
		if l.Has(id) {
			res.Released = l.Released[in.ProcessID] // a retry answers as the first attempt
			return nil, nil
		}
		if open <= 0 {
			res.Released = 0
			return nil, nil
		}
		meta := in.Meta
		meta.CorrelationID = in.ProcessID
		e, err := houqin.NewEvent(id, houqin.BudgetReleased{ProcessID: in.ProcessID, Amount: open, Reason: in.Reason}, meta)
		return []houqin.Event{e}, err
	})
	if err != nil {
		return ReleaseBudgetResult{}, temporalError(err)
	}
	return res, nil
}

// ConsumeBudgetInput records a process's actual cost on its line.
type ConsumeBudgetInput struct {
	ProcessID string          `json:"process_id"`
	Line      BudgetLineRef   `json:"line"`
	Amount    int64           `json:"amount"`
	Document  string          `json:"document"` // the invoice number
	Meta      houqin.Metadata `json:"meta"`
}

// ConsumeBudgetResult says what the actual cost did to the line.
type ConsumeBudgetResult struct {
	Line     string `json:"line"`
	Consumed int64  `json:"consumed"`
	Released int64  `json:"released"` // reserved but not spent
	Planned  bool   `json:"planned"`  // false: no active line, nothing recorded
}

// ConsumeBudget records the actual cost of in.ProcessID (budget.consumed)
// and releases what it reserved beyond it (budget.released, under-spend),
// in one append, once. An actual above the reservation first reserves the
// difference, so the line's committed amount never goes negative. A line
// without an active budget records nothing.
func (a *Activities) ConsumeBudget(ctx context.Context, in ConsumeBudgetInput) (ConsumeBudgetResult, error) {
	if in.Amount <= 0 {
		return ConsumeBudgetResult{}, temporalError(houqin.Errorf(houqin.EINVALID, "amount: must be positive, got %d", in.Amount))
	}
	stream := in.Line.Stream()
	consumeID := houqin.EventID(in.ProcessID, "budget", "consume", stream)
	res := ConsumeBudgetResult{Line: stream}
	l, _, err := a.updateLine(ctx, stream, func(l *houqin.BudgetLine) ([]houqin.Event, error) {
		res.Planned = l.Planned
		if !l.Planned || l.Has(consumeID) {
			return nil, nil
		}
		meta := in.Meta
		meta.CorrelationID = in.ProcessID
		open := l.Open[in.ProcessID]
		var out []houqin.Event
		add := func(key string, d houqin.EventData) error {
			e, err := houqin.NewEvent(houqin.EventID(in.ProcessID, "budget", key, stream), d, meta)
			out = append(out, e)
			return err
		}
		if in.Amount > open {
			c := l.Check(in.Amount - open)
			if err := add("reserve-actual", houqin.BudgetReserved{ProcessID: in.ProcessID, Amount: in.Amount - open, Exception: c.Status == houqin.BudgetExceeded}); err != nil {
				return nil, err
			}
			open = in.Amount
		}
		if err := add("consume", houqin.BudgetConsumed{ProcessID: in.ProcessID, Amount: in.Amount, Document: in.Document}); err != nil {
			return nil, err
		}
		if rest := open - in.Amount; rest > 0 {
			if err := add("release-unspent", houqin.BudgetReleased{ProcessID: in.ProcessID, Amount: rest, Reason: "under-spend: reserved but not spent"}); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
	if err != nil {
		return ConsumeBudgetResult{}, temporalError(err)
	}
	if res.Planned {
		// Whether this attempt appended or an earlier one did, the line
		// now says what the process spent and released.
		res.Consumed, res.Released = in.Amount, l.Released[in.ProcessID]
	}
	return res, nil
}

// ActivateBudgetInput activates an approved budget.
type ActivateBudgetInput struct {
	ProcessID string             `json:"process_id"`
	Draft     houqin.BudgetDraft `json:"draft"`
	Meta      houqin.Metadata    `json:"meta"`
}

// ActivateBudgetResult says whether the budget was activated.
type ActivateBudgetResult struct {
	// Refused names the process that activated the year first; nothing
	// was written.
	Refused string `json:"refused,omitempty"`
	Lines   int    `json:"lines"`
}

// ActivateBudget makes an approved budget the year's: it marks the year on
// houqin.BudgetYearStream (ExpectNoStream, so a year is activated once;
// another process's mark refuses the activation), then appends
// budget.line_planned to each line's stream. Each event's ID derives from
// the process and the line, so a retry after a partial failure plans every
// line exactly once.
func (a *Activities) ActivateBudget(ctx context.Context, in ActivateBudgetInput) (ActivateBudgetResult, error) {
	if err := in.Draft.Validate(); err != nil {
		return ActivateBudgetResult{}, temporalError(err)
	}
	year := houqin.BudgetYearStream(in.Draft.Year)
	meta := in.Meta
	meta.CorrelationID = in.ProcessID
	mark, err := houqin.NewEvent(houqin.EventID(in.ProcessID, "activate", year),
		houqin.BudgetYearActivated{Year: in.Draft.Year, ProcessID: in.ProcessID}, meta)
	if err != nil {
		return ActivateBudgetResult{}, temporalError(err)
	}
	if _, err := a.Store.Append(ctx, year, houqin.ExpectNoStream, a.stamp(mark)); houqin.ErrorCode(err) == houqin.ECONFLICT {
		by, rerr := YearActivatedBy(ctx, a.Store, in.Draft.Year)
		if rerr != nil {
			return ActivateBudgetResult{}, temporalError(rerr)
		}
		if by != in.ProcessID {
			return ActivateBudgetResult{Refused: by}, nil
		}
	} else if err != nil {
		return ActivateBudgetResult{}, temporalError(fmt.Errorf("append %s: %w", year, err))
	}
	for _, d := range in.Draft.Lines {
		stream := houqin.BudgetLineStream(in.Draft.Year, d.Department, d.Category)
		id := houqin.EventID(in.ProcessID, "plan", stream)
		_, _, err := a.updateLine(ctx, stream, func(l *houqin.BudgetLine) ([]houqin.Event, error) {
			if l.Has(id) {
				return nil, nil
			}
			e, err := houqin.NewEvent(id, houqin.BudgetLinePlanned{Year: in.Draft.Year, Department: d.Department, Category: d.Category,
				Amount: d.Amount, Currency: in.Draft.CurrencyOrDefault(), ToleranceBP: d.Tolerance(), Control: d.ControlOrDefault(),
				ProcessID: in.ProcessID}, meta)
			return []houqin.Event{e}, err
		})
		if err != nil {
			return ActivateBudgetResult{}, temporalError(err)
		}
	}
	return ActivateBudgetResult{Lines: len(in.Draft.Lines)}, nil
}

// YearActivatedBy returns the process that activated a year's budget, ""
// if none did.
func YearActivatedBy(ctx context.Context, store houqin.EventStore, year int) (string, error) {
	events, err := store.ReadStream(ctx, houqin.BudgetYearStream(year), 0, houqin.Forward, 1)
	if err != nil || len(events) == 0 {
		return "", err
	}
	d, err := events[0].Decode()
	if err != nil {
		return "", err
	}
	if m, ok := d.(*houqin.BudgetYearActivated); ok {
		return m.ProcessID, nil
	}
	return "", fmt.Errorf("%s@0 is %s", events[0].Stream, events[0].Type)
}

// AdjustBudgetInput applies an approved adjustment.
type AdjustBudgetInput struct {
	ProcessID  string                  `json:"process_id"`
	Adjustment houqin.BudgetAdjustment `json:"adjustment"`
	Meta       houqin.Metadata         `json:"meta"`
}

// AdjustBudgetResult says whether the adjustment was applied.
type AdjustBudgetResult struct {
	Refused string `json:"refused,omitempty"` // why nothing was written
	Lines   int    `json:"lines"`
}

// CheckAdjustment reports why an adjustment cannot apply to the lines as
// they stand: a line that is not active (unless the adjustment adds it to
// the year's active budget with a positive delta), a plan that would go
// negative or below what the line committed and spent. It is "" when it
// can.
func CheckAdjustment(ctx context.Context, store houqin.EventStore, adj houqin.BudgetAdjustment) (string, error) {
	for i, al := range adj.Lines {
		l, err := ReadBudgetLine(ctx, store, houqin.BudgetLineStream(adj.Year, al.Department, al.Category))
		if err != nil {
			return "", err
		}
		if !l.Planned && al.Delta > 0 {
			// A line added mid-year: to the year's active budget only.
			by, err := YearActivatedBy(ctx, store, adj.Year)
			if err != nil {
				return "", err
			}
			if by == "" {
				return fmt.Sprintf("lines[%d]: the %d budget is not active; a line is added to an active budget", i, adj.Year), nil
			}
			continue
		}
		switch {
		case !l.Planned:
			return fmt.Sprintf("lines[%d]: %s has no active budget line for %s in %d; a new line takes a positive delta", i, al.Department, al.Category, adj.Year), nil
		case l.Plan+al.Delta < 0:
			return fmt.Sprintf("lines[%d].delta: the plan of %s would fall below zero (%s %+d)", i, l.Stream, houqin.Money(l.Plan), al.Delta), nil
		case al.Delta < 0 && l.Plan+al.Delta < l.Reserved+l.Actual:
			return fmt.Sprintf("lines[%d].delta: the plan of %s would fall below what it has committed and spent (%s reserved, %s spent; the plan may go down to %s)",
				i, l.Stream, houqin.Money(l.Reserved), houqin.Money(l.Actual), houqin.Money(l.Reserved+l.Actual)), nil
		}
	}
	return "", nil
}

// AdjustBudget appends budget.adjusted to each line of an approved
// adjustment, each once (IDs from the process and the line). It first
// checks every line (CheckAdjustment) and refuses the whole adjustment,
// writing nothing, if one cannot apply.
func (a *Activities) AdjustBudget(ctx context.Context, in AdjustBudgetInput) (AdjustBudgetResult, error) {
	if err := in.Adjustment.Validate(); err != nil {
		return AdjustBudgetResult{}, temporalError(err)
	}
	meta := in.Meta
	meta.CorrelationID = in.ProcessID
	done := 0
	for _, al := range in.Adjustment.Lines {
		l, err := ReadBudgetLine(ctx, a.Store, houqin.BudgetLineStream(in.Adjustment.Year, al.Department, al.Category))
		if err != nil {
			return AdjustBudgetResult{}, temporalError(err)
		}
		if l.Has(houqin.EventID(in.ProcessID, "adjust", l.Stream)) {
			done++
		}
	}
	if done == 0 {
		why, err := CheckAdjustment(ctx, a.Store, in.Adjustment)
		if err != nil {
			return AdjustBudgetResult{}, temporalError(err)
		}
		if why != "" {
			return AdjustBudgetResult{Refused: why}, nil
		}
	}
	for _, al := range in.Adjustment.Lines {
		stream := houqin.BudgetLineStream(in.Adjustment.Year, al.Department, al.Category)
		id := houqin.EventID(in.ProcessID, "adjust", stream)
		_, _, err := a.updateLine(ctx, stream, func(l *houqin.BudgetLine) ([]houqin.Event, error) {
			if l.Has(id) {
				return nil, nil
			}
			var out []houqin.Event
			if !l.Planned {
				// A line added mid-year: planned at zero by the adjustment,
				// which then gives it its amount, so the line's history
				// says where its plan came from.
				e, err := houqin.NewEvent(houqin.EventID(in.ProcessID, "plan", stream), houqin.BudgetLinePlanned{Year: in.Adjustment.Year,
					Department: al.Department, Category: al.Category, Currency: houqin.DefaultCurrency,
					ToleranceBP: houqin.DefaultToleranceBP, Control: houqin.ControlStop, ProcessID: in.ProcessID}, meta)
				if err != nil {
					return nil, err
				}
				out = append(out, e)
			}
			e, err := houqin.NewEvent(id, houqin.BudgetAdjusted{ProcessID: in.ProcessID, Delta: al.Delta, Reason: in.Adjustment.Reason}, meta)
			return append(out, e), err
		})
		if err != nil {
			return AdjustBudgetResult{}, temporalError(err)
		}
	}
	return AdjustBudgetResult{Lines: len(in.Adjustment.Lines)}, nil
}
