package houqin

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// KindStocktake is the periodic review of the stock (定期审查库存): counts
// per item, variances approved, then adjusted.
const KindStocktake ProcessKind = "stocktake"

// StocktakeStream returns the stream of a stocktake: "stocktake-" + id.
func StocktakeStream(id string) string { return "stocktake-" + id }

// StocktakeCount is the quantity of one item found in the warehouse.
type StocktakeCount struct {
	Item    string `json:"item"`
	Counted int64  `json:"counted"`
}

// StocktakeRequest is a submitted count.
type StocktakeRequest struct {
	Reason string           `json:"reason"` // e.g. "2026-12 月度盘点"
	Counts []StocktakeCount `json:"counts"`
}

// Validate reports the first rule r breaks as EINVALID, naming the field.
func (r StocktakeRequest) Validate() error {
	switch {
	case utf8.RuneCountInString(r.Reason) > maxReasonLen:
		return Errorf(EINVALID, "reason: longer than %d characters", maxReasonLen)
	case len(r.Counts) == 0:
		return Errorf(EINVALID, "counts: at least one count is required")
	case len(r.Counts) > maxIssueLines:
		return Errorf(EINVALID, "counts: %d counts exceed the limit of %d", len(r.Counts), maxIssueLines)
	}
	seen := map[string]int{}
	for i, c := range r.Counts {
		switch {
		case strings.TrimSpace(c.Item) == "":
			return Errorf(EINVALID, "counts[%d].item: required", i)
		case utf8.RuneCountInString(c.Item) > maxNameLen:
			return Errorf(EINVALID, "counts[%d].item: longer than %d characters", i, maxNameLen)
		case c.Counted < 0 || c.Counted > maxStock:
			return Errorf(EINVALID, "counts[%d].counted: must be between 0 and %d, got %d", i, maxStock, c.Counted)
		}
		if j, dup := seen[ItemSlug(c.Item)]; dup {
			return Errorf(EINVALID, "counts[%d].item: %q is the same inventory item as counts[%d]", i, c.Item, j)
		}
		seen[ItemSlug(c.Item)] = i
	}
	return nil
}

// StocktakeLine is one counted item against the stock on hand when the
// count was submitted.
type StocktakeLine struct {
	Item     string `json:"item"`
	Unit     string `json:"unit"`
	OnHand   int64  `json:"on_hand"`
	Counted  int64  `json:"counted"`
	Variance int64  `json:"variance"` // Counted - OnHand
}

// StocktakeLines returns the lines of r against the items' states, in r's
// order; an item that is not defined is ENOTFOUND.
func StocktakeLines(r StocktakeRequest, items []ItemState) ([]StocktakeLine, error) {
	out := make([]StocktakeLine, len(r.Counts))
	for i, c := range r.Counts {
		s := items[i]
		if !s.Defined {
			return nil, Errorf(ENOTFOUND, "counts[%d].item: no inventory item %q is defined", i, c.Item)
		}
		out[i] = StocktakeLine{Item: s.Spec.Name, Unit: s.Unit, OnHand: s.OnHand, Counted: c.Counted, Variance: c.Counted - s.OnHand}
	}
	return out, nil
}

// StocktakeFacts are what the conditions of the stocktake policy test:
// has_variance, variance_items (lines with a variance), abs_variance (the
// sum of their absolute values), requester.
func StocktakeFacts(lines []StocktakeLine, requester string) Facts {
	var n, abs int64
	for _, l := range lines {
		if l.Variance != 0 {
			n++
			abs += max(l.Variance, -l.Variance)
		}
	}
	return Facts{"has_variance": n > 0, "variance_items": n, "abs_variance": abs, "requester": requester}
}

// StocktakeSubmitted is the first event of a stocktake.
type StocktakeSubmitted struct {
	ProcessID string           `json:"process_id"`
	Requester string           `json:"requester"`
	Request   StocktakeRequest `json:"request"`
	Lines     []StocktakeLine  `json:"lines"`
}

// EventType implements EventData.
func (StocktakeSubmitted) EventType() string { return "stocktake.submitted" }

// StocktakeCounted records the counts of a scheduled stocktake, made in
// its count task, against the stock on hand when they were entered.
type StocktakeCounted struct {
	By    string          `json:"by"`
	Lines []StocktakeLine `json:"lines"`
}

// EventType implements EventData.
func (StocktakeCounted) EventType() string { return "stocktake.counted" }

// CheckCounts checks the counts of a scheduled stocktake: valid, and every
// item of items counted exactly once.
func CheckCounts(items []string, r StocktakeRequest) error {
	if err := r.Validate(); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, it := range items {
		want[ItemSlug(it)] = true
	}
	for i, c := range r.Counts {
		if !want[ItemSlug(c.Item)] {
			return Errorf(EINVALID, "counts[%d].item: %q is not to be counted in this stocktake", i, c.Item)
		}
	}
	if len(r.Counts) != len(want) {
		for _, it := range items {
			if !slices.ContainsFunc(r.Counts, func(c StocktakeCount) bool { return ItemSlug(c.Item) == ItemSlug(it) }) {
				return Errorf(EINVALID, "counts: %q is not counted", it)
			}
		}
	}
	return nil
}

// StocktakeApproved records that the variances were approved (By "system"
// when there were none to approve).
type StocktakeApproved struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (StocktakeApproved) EventType() string { return "stocktake.approved" }

// StocktakeRejected ends a stocktake whose variances were refused: the
// stock stays as it was.
type StocktakeRejected struct {
	By      string `json:"by"`
	Comment string `json:"comment"`
}

// EventType implements EventData.
func (StocktakeRejected) EventType() string { return "stocktake.rejected" }

// AdjustedLine is one item a stocktake adjusted.
type AdjustedLine struct {
	Item   string `json:"item"`
	Delta  int64  `json:"delta"`
	OnHand int64  `json:"on_hand"`
	// BelowReorder: the adjustment left the item below its reorder point.
	BelowReorder bool `json:"below_reorder,omitempty"`
}

// StocktakeAdjusted records the adjustments; one inventory.adjusted per
// line is on the items' streams.
type StocktakeAdjusted struct {
	Lines []AdjustedLine `json:"lines"`
}

// EventType implements EventData.
func (StocktakeAdjusted) EventType() string { return "stocktake.adjusted" }

// StocktakeCompleted ends a stocktake.
type StocktakeCompleted struct{}

// EventType implements EventData.
func (StocktakeCompleted) EventType() string { return "stocktake.completed" }

func init() {
	RegisterFacts(KindStocktake, StocktakeFacts(nil, ""))
	RegisterEventType(StocktakeSubmitted{})
	RegisterEventType(StocktakeCounted{})
	RegisterEventType(StocktakeApproved{})
	RegisterEventType(StocktakeRejected{})
	RegisterEventType(StocktakeAdjusted{})
	RegisterEventType(StocktakeCompleted{})
}

// StocktakeSchedulesStream is the stream that records every stocktake
// schedule made and removed; the schedules themselves are Temporal
// Schedules.
const StocktakeSchedulesStream = "stocktake_schedules-all"

// StocktakeScheduled records a stocktake schedule: when (a cron
// expression in TimeZone, or an interval), and what each stocktake it
// starts counts, for whom, by whom.
type StocktakeScheduled struct {
	ID        string   `json:"id"`
	Cron      string   `json:"cron,omitempty"`
	Every     string   `json:"every,omitempty"`
	TimeZone  string   `json:"time_zone,omitempty"`
	Reason    string   `json:"reason"`
	Items     []string `json:"items"`
	Requester string   `json:"requester"`
	Counters  []string `json:"counters"`
}

// EventType implements EventData.
func (StocktakeScheduled) EventType() string { return "stocktake.scheduled" }

// StocktakeUnscheduled records that a stocktake schedule was removed.
type StocktakeUnscheduled struct {
	ID string `json:"id"`
	By string `json:"by"`
}

// EventType implements EventData.
func (StocktakeUnscheduled) EventType() string { return "stocktake.unscheduled" }

func init() {
	RegisterEventType(StocktakeScheduled{})
	RegisterEventType(StocktakeUnscheduled{})
}
