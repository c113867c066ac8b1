package houqin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxSlugLen bounds the readable part of an item slug.
const maxSlugLen = 64

// InventoryStream returns the stream of an inventory item, a shared
// aggregate written by every process that stocks the item in or out:
// "inventory-" + ItemSlug(item).
func InventoryStream(item string) string { return "inventory-" + ItemSlug(item) }

// ItemSlug returns the identity of an inventory item as it appears in a
// stream name: the name in lowercase ASCII letters and digits, other runs of
// runs of ' ', '-' and '_' as one '-' ("A4 paper" → "a4-paper"). A name with
// any other character, or longer than 64 bytes, keeps its identity with a
// suffix of 8 hex digits of the SHA-256 of its lowercased, space-normalised
// form ("A4 打印纸" → "a4-" + hash, "C++ book" → "c-book-" + hash). Names
// differing only in case or in those separators are the same item.
func ItemSlug(name string) string {
	norm := strings.ToLower(strings.Join(strings.Fields(name), " "))
	var b strings.Builder
	lossy, dash := false, false
	for _, r := range norm {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		case r == ' ' || r == '-' || r == '_':
			dash = true
		default:
			lossy, dash = true, true
		}
	}
	s := b.String()
	if len(s) > maxSlugLen {
		s, lossy = strings.TrimRight(s[:maxSlugLen], "-"), true
	}
	if lossy || s == "" {
		sum := sha256.Sum256([]byte(norm))
		if s != "" {
			s += "-"
		}
		s += hex.EncodeToString(sum[:4])
	}
	return s
}

// InventoryStockedIn records goods put into stock by a process, on the
// item's inventory stream.
type InventoryStockedIn struct {
	Item      string `json:"item"`
	Unit      string `json:"unit"`
	Quantity  int64  `json:"quantity"`
	ProcessID string `json:"process_id"`
}

// EventType implements EventData.
func (InventoryStockedIn) EventType() string { return "inventory.stocked_in" }

func init() {
	RegisterEventType(InventoryStockedIn{})
}

// Bounds of an item definition.
const (
	maxLocationLen = 200 // characters
	maxQuotas      = 100 // department quotas per item
	maxStock       = 1_000_000_000
)

// DefaultBudgetCategory is the budget category of a reorder when the item
// names none.
const DefaultBudgetCategory = "office_supplies"

// ItemSpec is what logistics define about an inventory item (物资): its
// identity, names, unit, where it is kept, when and how much to reorder,
// and how much a department may take per issue without approval.
type ItemSpec struct {
	// Name is the item's identity: procurements name it so, and its stream
	// is InventoryStream(Name). It never changes.
	Name            string `json:"name"`
	Names           Text   `json:"names"`    // display names, zh-CN and en
	Unit            string `json:"unit"`     // "box", "包", …
	Location        string `json:"location"` // where it is kept, e.g. "WH-A-03"
	ReorderPoint    int64  `json:"reorder_point"`
	ReorderQuantity int64  `json:"reorder_quantity"`
	// Quota is the quantity a department may take in one issue without
	// approval, unless DepartmentQuotas names the department.
	Quota            int64            `json:"quota"`
	DepartmentQuotas map[string]int64 `json:"department_quotas,omitempty"`
	// UnitPrice (minor units, CNY) and BudgetCategory are what a reorder's
	// procurement request carries.
	UnitPrice      int64  `json:"unit_price"`
	BudgetCategory string `json:"budget_category"`
}

// Validate reports the first rule s breaks as EINVALID, naming the field.
func (s ItemSpec) Validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return Errorf(EINVALID, "name: required")
	case utf8.RuneCountInString(s.Name) > maxNameLen:
		return Errorf(EINVALID, "name: longer than %d characters", maxNameLen)
	case strings.TrimSpace(s.Names.Zh) == "":
		return Errorf(EINVALID, "names.zh: required")
	case strings.TrimSpace(s.Names.En) == "":
		return Errorf(EINVALID, "names.en: required")
	case utf8.RuneCountInString(s.Names.Zh) > maxNameLen || utf8.RuneCountInString(s.Names.En) > maxNameLen:
		return Errorf(EINVALID, "names: longer than %d characters", maxNameLen)
	case strings.TrimSpace(s.Unit) == "":
		return Errorf(EINVALID, "unit: required")
	case utf8.RuneCountInString(s.Unit) > maxNameLen:
		return Errorf(EINVALID, "unit: longer than %d characters", maxNameLen)
	case utf8.RuneCountInString(s.Location) > maxLocationLen:
		return Errorf(EINVALID, "location: longer than %d characters", maxLocationLen)
	case s.ReorderPoint < 0 || s.ReorderPoint > maxStock:
		return Errorf(EINVALID, "reorder_point: must be between 0 and %d, got %d", maxStock, s.ReorderPoint)
	case s.ReorderQuantity < 0 || s.ReorderQuantity > maxStock:
		return Errorf(EINVALID, "reorder_quantity: must be between 0 and %d, got %d", maxStock, s.ReorderQuantity)
	case s.ReorderPoint > 0 && s.ReorderQuantity == 0:
		return Errorf(EINVALID, "reorder_quantity: must be positive when reorder_point is set")
	case s.Quota < 0 || s.Quota > maxStock:
		return Errorf(EINVALID, "quota: must be between 0 and %d, got %d", maxStock, s.Quota)
	case len(s.DepartmentQuotas) > maxQuotas:
		return Errorf(EINVALID, "department_quotas: more than %d departments", maxQuotas)
	case s.UnitPrice < 0:
		return Errorf(EINVALID, "unit_price: must not be negative, got %d", s.UnitPrice)
	case utf8.RuneCountInString(s.BudgetCategory) > maxNameLen:
		return Errorf(EINVALID, "budget_category: longer than %d characters", maxNameLen)
	}
	for _, d := range slices.Sorted(maps.Keys(s.DepartmentQuotas)) {
		if q := s.DepartmentQuotas[d]; q < 0 || q > maxStock {
			return Errorf(EINVALID, "department_quotas.%s: must be between 0 and %d, got %d", d, maxStock, q)
		}
	}
	return nil
}

// QuotaFor returns the quantity department dept may take in one issue
// without approval.
func (s ItemSpec) QuotaFor(dept string) int64 {
	if q, ok := s.DepartmentQuotas[dept]; ok {
		return q
	}
	return s.Quota
}

// ItemDefined records the definition of an item, the first event of its
// master data on the item's stream.
type ItemDefined struct {
	Item ItemSpec `json:"item"`
}

// EventType implements EventData.
func (ItemDefined) EventType() string { return "inventory.item_defined" }

// ItemUpdated records a change of an item's master data: the whole new
// definition and the fields that changed.
type ItemUpdated struct {
	Item    ItemSpec `json:"item"`
	Changed []string `json:"changed"`
}

// EventType implements EventData.
func (ItemUpdated) EventType() string { return "inventory.item_updated" }

// InventoryIssued records goods handed out (发放) to a department by an
// issue process. OnHand is the stock left after it.
type InventoryIssued struct {
	Item       string `json:"item"`
	Unit       string `json:"unit"`
	Quantity   int64  `json:"quantity"`
	Department string `json:"department"`
	Requester  string `json:"requester"`
	ProcessID  string `json:"process_id"`
	OnHand     int64  `json:"on_hand"`
}

// EventType implements EventData.
func (InventoryIssued) EventType() string { return "inventory.issued" }

// InventoryAdjusted records a stocktake's correction of the stock: Delta is
// added to the stock (negative: goods missing). Counted is what the
// stocktake counted, OnHand the stock after the adjustment.
type InventoryAdjusted struct {
	Item      string `json:"item"`
	Unit      string `json:"unit"`
	Delta     int64  `json:"delta"`
	Counted   int64  `json:"counted"`
	OnHand    int64  `json:"on_hand"`
	ProcessID string `json:"process_id"` // the stocktake
}

// EventType implements EventData.
func (InventoryAdjusted) EventType() string { return "inventory.adjusted" }

// ReorderRequested records that houqin started a procurement to restock
// an item that fell below its reorder point.
type ReorderRequested struct {
	Item         string `json:"item"`
	Quantity     int64  `json:"quantity"`
	OnHand       int64  `json:"on_hand"`
	ReorderPoint int64  `json:"reorder_point"`
	ProcessID    string `json:"process_id"` // the procurement
	Requester    string `json:"requester"`
}

// EventType implements EventData.
func (ReorderRequested) EventType() string { return "inventory.reorder_requested" }

// ItemState is an inventory item folded from its stream.
type ItemState struct {
	Spec    ItemSpec        `json:"item"`
	Defined bool            `json:"defined"` // master data exist (an item may be stocked in before it is defined)
	Unit    string          `json:"unit"`    // the definition's, else the last movement's
	OnHand  int64           `json:"on_hand"`
	Version int64           `json:"version"` // of the stream's last event; ExpectNoStream if none
	moves   map[string]move // by event ID
}

// move is what one event did to the stock.
type move struct{ delta, after int64 }

// FoldItem folds the events of one item's stream, in order.
func FoldItem(events []Event) (ItemState, error) {
	s := ItemState{Version: ExpectNoStream}
	for _, e := range events {
		if err := s.Apply(e); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Apply folds one more event of the item's stream into s.
func (s *ItemState) Apply(e Event) error {
	if s.moves == nil {
		s.moves = map[string]move{}
	}
	s.Version = e.Version
	before := s.OnHand
	defer func() { s.moves[e.ID] = move{delta: s.OnHand - before, after: s.OnHand} }()
	switch e.Type {
	case ItemDefined{}.EventType(), ItemUpdated{}.EventType(), InventoryStockedIn{}.EventType(),
		InventoryIssued{}.EventType(), InventoryAdjusted{}.EventType():
	default:
		return nil // not a movement or master data: a reorder, or a type of a later version
	}
	d, err := e.Decode()
	if err != nil {
		return fmt.Errorf("%s@%d: %w", e.Stream, e.Version, err)
	}
	switch d := d.(type) {
	case *ItemDefined:
		s.Spec, s.Defined, s.Unit = d.Item, true, d.Item.Unit
	case *ItemUpdated:
		s.Spec, s.Defined, s.Unit = d.Item, true, d.Item.Unit
	case *InventoryStockedIn:
		s.OnHand += d.Quantity
		if !s.Defined {
			s.Spec.Name, s.Unit = d.Item, d.Unit
		}
	case *InventoryIssued:
		s.OnHand -= d.Quantity
	case *InventoryAdjusted:
		s.OnHand += d.Delta
	}
	return nil
}

// OnHandAfter returns the stock right after the event with ID id, and
// whether that event is in the folded stream.
func (s ItemState) OnHandAfter(id string) (int64, bool) {
	m, ok := s.moves[id]
	return m.after, ok
}

// DeltaOf returns how the event with ID id changed the stock (0 for one
// that is not a movement or not in the folded stream).
func (s ItemState) DeltaOf(id string) int64 { return s.moves[id].delta }

// readPage is how many events ReadItem reads at once.
const readPage = 10_000

// ReadItem folds an item's stream from store. An item nobody defined or
// stocked reads as the zero state (Defined false, Version ExpectNoStream).
func ReadItem(ctx context.Context, store EventStore, name string) (ItemState, error) {
	stream := InventoryStream(name)
	s := ItemState{Version: ExpectNoStream}
	for {
		events, err := store.ReadStream(ctx, stream, s.Version+1, Forward, readPage)
		if err != nil {
			return s, fmt.Errorf("read %s: %w", stream, err)
		}
		for _, e := range events {
			if err := s.Apply(e); err != nil {
				return s, err
			}
		}
		if len(events) < readPage {
			return s, nil
		}
	}
}

// ReorderWorkflowID returns the ID of the workflow that restocks an item:
// "RO-" + ItemSlug(name). One per item, so an item has at most one open
// reorder.
func ReorderWorkflowID(name string) string { return "RO-" + ItemSlug(name) }

// BelowReorder reports whether a defined item with a reorder point has
// fallen below it.
func (s ItemState) BelowReorder() bool {
	return s.Defined && s.Spec.ReorderPoint > 0 && s.OnHand < s.Spec.ReorderPoint
}

func init() {
	RegisterEventType(ItemDefined{})
	RegisterEventType(ItemUpdated{})
	RegisterEventType(InventoryIssued{})
	RegisterEventType(InventoryAdjusted{})
	RegisterEventType(ReorderRequested{})
}
