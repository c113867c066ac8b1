package houqin

import (
	"strings"
	"unicode/utf8"
)

// KindIssue is the process that hands stock out to a department (物资发放).
const KindIssue ProcessKind = "issue"

// maxIssueLines bounds the lines of an issue request or a stocktake.
const maxIssueLines = 200

// IssueStream returns the stream of an issue process: "issue-" + id.
func IssueStream(id string) string { return "issue-" + id }

// IssueLine is one item and quantity of an issue request.
type IssueLine struct {
	Item     string `json:"item"` // the item's name (ItemSpec.Name)
	Quantity int64  `json:"quantity"`
}

// IssueRequest is what a department member asks the warehouse for.
type IssueRequest struct {
	Department string      `json:"department"`
	Reason     string      `json:"reason"`
	Items      []IssueLine `json:"items"`
}

// Validate reports the first rule r breaks as EINVALID, naming the field.
// Items must be distinct inventory items (see ItemSlug).
func (r IssueRequest) Validate() error {
	switch {
	case strings.TrimSpace(r.Department) == "":
		return Errorf(EINVALID, "department: required")
	case utf8.RuneCountInString(r.Reason) > maxReasonLen:
		return Errorf(EINVALID, "reason: longer than %d characters", maxReasonLen)
	case len(r.Items) == 0:
		return Errorf(EINVALID, "items: at least one item is required")
	case len(r.Items) > maxIssueLines:
		return Errorf(EINVALID, "items: %d items exceed the limit of %d", len(r.Items), maxIssueLines)
	}
	seen := map[string]int{}
	for i, l := range r.Items {
		switch {
		case strings.TrimSpace(l.Item) == "":
			return Errorf(EINVALID, "items[%d].item: required", i)
		case utf8.RuneCountInString(l.Item) > maxNameLen:
			return Errorf(EINVALID, "items[%d].item: longer than %d characters", i, maxNameLen)
		case l.Quantity <= 0:
			return Errorf(EINVALID, "items[%d].quantity: must be positive, got %d", i, l.Quantity)
		case l.Quantity > maxStock:
			return Errorf(EINVALID, "items[%d].quantity: must be at most %d, got %d", i, maxStock, l.Quantity)
		}
		if j, dup := seen[ItemSlug(l.Item)]; dup {
			return Errorf(EINVALID, "items[%d].item: %q is the same inventory item as items[%d]", i, l.Item, j)
		}
		seen[ItemSlug(l.Item)] = i
	}
	return nil
}

// IssueTerms is what an issue line was asked under, fixed when the process
// starts: the item's unit and the requesting department's quota.
type IssueTerms struct {
	Item     string `json:"item"`
	Unit     string `json:"unit"`
	Quantity int64  `json:"quantity"`
	Quota    int64  `json:"quota"`
	Excess   int64  `json:"excess"` // quantity beyond the quota, 0 within it
}

// Terms returns the terms of r's lines given the items' states, in r's
// order. An item that is not defined is ENOTFOUND; one whose stock cannot
// cover the line is ENOTALLOWED, naming the line.
func (r IssueRequest) Terms(items []ItemState) ([]IssueTerms, error) {
	out := make([]IssueTerms, len(r.Items))
	for i, l := range r.Items {
		s := items[i]
		switch {
		case !s.Defined:
			return nil, Errorf(ENOTFOUND, "items[%d].item: no inventory item %q is defined", i, l.Item)
		case s.OnHand < l.Quantity:
			return nil, Errorf(ENOTALLOWED, "items[%d].quantity: %d %s of %q requested, %d on hand", i, l.Quantity, s.Unit, l.Item, s.OnHand)
		}
		q := s.Spec.QuotaFor(r.Department)
		out[i] = IssueTerms{Item: s.Spec.Name, Unit: s.Unit, Quantity: l.Quantity, Quota: q, Excess: max(0, l.Quantity-q)}
	}
	return out, nil
}

// IssueFacts are what the conditions of the issue policy test: over_quota
// (some line exceeds the department's quota), excess (the largest quantity
// beyond a quota), quantity (of all lines), items, department, requester.
func IssueFacts(r IssueRequest, terms []IssueTerms, requester string) Facts {
	var excess, qty int64
	for _, t := range terms {
		excess, qty = max(excess, t.Excess), qty+t.Quantity
	}
	return Facts{
		"over_quota": excess > 0, "excess": excess, "quantity": qty, "items": int64(len(r.Items)),
		"department": r.Department, "requester": requester,
	}
}

// IssueRequested is the first event of an issue process.
type IssueRequested struct {
	ProcessID string       `json:"process_id"`
	Requester string       `json:"requester"`
	Request   IssueRequest `json:"request"`
	Lines     []IssueTerms `json:"lines"`
	OverQuota bool         `json:"over_quota"`
}

// EventType implements EventData.
func (IssueRequested) EventType() string { return "issue.requested" }

// IssueApproved records that an over-quota issue was approved (or needed
// no approval: By is "system").
type IssueApproved struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (IssueApproved) EventType() string { return "issue.approved" }

// IssueRejected ends an issue its approvers refused.
type IssueRejected struct {
	By      string `json:"by"`
	Comment string `json:"comment"`
}

// EventType implements EventData.
func (IssueRejected) EventType() string { return "issue.rejected" }

// HandedOutLine is one item the warehouse handed out, and the stock left.
type HandedOutLine struct {
	Item     string `json:"item"`
	Unit     string `json:"unit"`
	Quantity int64  `json:"quantity"`
	OnHand   int64  `json:"on_hand"`
	// BelowReorder: the issue took the item below its reorder point.
	BelowReorder bool `json:"below_reorder,omitempty"`
}

// IssueHandedOut records that the warehouse handed the goods out; one
// inventory.issued per line is on the items' streams.
type IssueHandedOut struct {
	By    string          `json:"by"`
	Lines []HandedOutLine `json:"lines"`
}

// EventType implements EventData.
func (IssueHandedOut) EventType() string { return "issue.handed_out" }

// IssueCompleted ends an issue whose goods were handed out.
type IssueCompleted struct{}

// EventType implements EventData.
func (IssueCompleted) EventType() string { return "issue.completed" }

func init() {
	RegisterFacts(KindIssue, IssueFacts(IssueRequest{}, nil, ""))
	RegisterEventType(IssueRequested{})
	RegisterEventType(IssueApproved{})
	RegisterEventType(IssueRejected{})
	RegisterEventType(IssueHandedOut{})
	RegisterEventType(IssueCompleted{})
}
