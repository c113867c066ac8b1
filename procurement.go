package houqin

import (
	"math"
	"math/bits"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultCurrency is the currency of a request that names none.
const DefaultCurrency = "CNY"

// Bounds of a procurement request.
const (
	maxItems     = 200
	maxNameLen   = 200  // characters of an item name, unit or supplier
	maxReasonLen = 2000 // characters of a reason
)

// ProcurementItem is one line of a procurement request. UnitPrice is in the
// currency's minor unit (fen for CNY).
type ProcurementItem struct {
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	Unit      string `json:"unit"`
	UnitPrice int64  `json:"unit_price"`
}

// ProcurementRequest is what a requester asks to buy (采购申请).
type ProcurementRequest struct {
	Department     string            `json:"department"`
	BudgetCategory string            `json:"budget_category"`
	Reason         string            `json:"reason"`
	NeededBy       string            `json:"needed_by"`          // YYYY-MM-DD
	Currency       string            `json:"currency,omitempty"` // ISO 4217; "" means DefaultCurrency
	Items          []ProcurementItem `json:"items"`
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// Validate reports the first rule r breaks as EINVALID, naming the field:
// "items[1].quantity: must be positive, got 0". Item names must be distinct
// as inventory items (see ItemSlug).
func (r ProcurementRequest) Validate() error {
	switch {
	case strings.TrimSpace(r.Department) == "":
		return Errorf(EINVALID, "department: required")
	case strings.TrimSpace(r.BudgetCategory) == "":
		return Errorf(EINVALID, "budget_category: required")
	case utf8.RuneCountInString(r.Reason) > maxReasonLen:
		return Errorf(EINVALID, "reason: longer than %d characters", maxReasonLen)
	case r.NeededBy == "":
		return Errorf(EINVALID, "needed_by: required")
	case r.Currency != "" && !currencyCode.MatchString(r.Currency):
		return Errorf(EINVALID, "currency: must be a three-letter ISO 4217 code such as CNY, got %q", r.Currency)
	case len(r.Items) == 0:
		return Errorf(EINVALID, "items: at least one item is required")
	case len(r.Items) > maxItems:
		return Errorf(EINVALID, "items: %d items exceed the limit of %d", len(r.Items), maxItems)
	}
	if _, err := time.Parse(time.DateOnly, r.NeededBy); err != nil {
		return Errorf(EINVALID, "needed_by: must be a date YYYY-MM-DD, got %q", r.NeededBy)
	}
	seen := make(map[string]int, len(r.Items))
	var total int64
	for i, it := range r.Items {
		switch {
		case strings.TrimSpace(it.Name) == "":
			return Errorf(EINVALID, "items[%d].name: required", i)
		case utf8.RuneCountInString(it.Name) > maxNameLen:
			return Errorf(EINVALID, "items[%d].name: longer than %d characters", i, maxNameLen)
		case it.Quantity <= 0:
			return Errorf(EINVALID, "items[%d].quantity: must be positive, got %d", i, it.Quantity)
		case strings.TrimSpace(it.Unit) == "":
			return Errorf(EINVALID, "items[%d].unit: required", i)
		case utf8.RuneCountInString(it.Unit) > maxNameLen:
			return Errorf(EINVALID, "items[%d].unit: longer than %d characters", i, maxNameLen)
		case it.UnitPrice < 0:
			return Errorf(EINVALID, "items[%d].unit_price: must not be negative, got %d", i, it.UnitPrice)
		}
		slug := ItemSlug(it.Name)
		if j, dup := seen[slug]; dup {
			return Errorf(EINVALID, "items[%d].name: %q is the same inventory item as items[%d] (%q)", i, it.Name, j, r.Items[j].Name)
		}
		seen[slug] = i
		var ok bool
		if total, ok = addProduct(total, it.Quantity, it.UnitPrice); !ok {
			return Errorf(EINVALID, "items[%d]: the request's total overflows", i)
		}
	}
	return nil
}

// Total returns the sum of quantity × unit price over the items, in minor
// units. It is exact for a request that passes Validate.
func (r ProcurementRequest) Total() int64 {
	var total int64
	for _, it := range r.Items {
		total += it.Quantity * it.UnitPrice
	}
	return total
}

// CurrencyOrDefault returns r's currency, DefaultCurrency if it names none.
func (r ProcurementRequest) CurrencyOrDefault() string {
	if r.Currency == "" {
		return DefaultCurrency
	}
	return r.Currency
}

// Quantities returns the requested quantity of each item, in request order:
// what is outstanding before any goods arrive.
func (r ProcurementRequest) Quantities() []ItemQuantity {
	q := make([]ItemQuantity, len(r.Items))
	for i, it := range r.Items {
		q[i] = ItemQuantity{Name: it.Name, Quantity: it.Quantity}
	}
	return q
}

// item returns the index of the requested item called name, -1 if none.
func (r ProcurementRequest) item(name string) int {
	for i, it := range r.Items {
		if it.Name == name {
			return i
		}
	}
	return -1
}

// addProduct returns total + q*p and whether it fits in an int64; q and p
// are not negative.
func addProduct(total, q, p int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(q), uint64(p))
	if hi != 0 || lo > math.MaxInt64 || int64(lo) > math.MaxInt64-total {
		return 0, false
	}
	return total + int64(lo), true
}

// ProcurementStream returns the name of a procurement process's stream.
func ProcurementStream(processID string) string { return "procurement-" + processID }

// ItemQuantity is a quantity of one requested item.
type ItemQuantity struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
}

// OrderLine is one line of a purchase order; UnitPrice in minor units.
type OrderLine struct {
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// StockLine is a quantity of one item put into stock.
type StockLine struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
	Unit     string `json:"unit"`
}

// PurchaseOrder is the data of the record_po step: who supplies the goods
// and at what price.
type PurchaseOrder struct {
	Supplier string      `json:"supplier"`
	Lines    []OrderLine `json:"lines"`
	// Quotes are the offers compared before ordering; required above the
	// policy's quotes_above (see CheckQuotes).
	Quotes []Quote `json:"quotes,omitempty"`
}

// Total returns the sum of quantity × unit price over the lines.
func (po PurchaseOrder) Total() int64 {
	var total int64
	for _, l := range po.Lines {
		total += l.Quantity * l.UnitPrice
	}
	return total
}

// CheckPurchaseOrder reports as EINVALID, naming the field, how po fails to
// order exactly what r requests: each requested item once, at the requested
// quantity, at a price that is not negative.
func (r ProcurementRequest) CheckPurchaseOrder(po PurchaseOrder) error {
	switch {
	case strings.TrimSpace(po.Supplier) == "":
		return Errorf(EINVALID, "supplier: required")
	case utf8.RuneCountInString(po.Supplier) > maxNameLen:
		return Errorf(EINVALID, "supplier: longer than %d characters", maxNameLen)
	case len(po.Lines) == 0:
		return Errorf(EINVALID, "lines: at least one line is required")
	}
	ordered := make([]bool, len(r.Items))
	var total int64
	for i, l := range po.Lines {
		j := r.item(l.Name)
		switch {
		case j < 0:
			return Errorf(EINVALID, "lines[%d].name: %q is not a requested item", i, l.Name)
		case ordered[j]:
			return Errorf(EINVALID, "lines[%d].name: %q is ordered twice", i, l.Name)
		case l.Quantity != r.Items[j].Quantity:
			return Errorf(EINVALID, "lines[%d].quantity: must be the requested %d, got %d", i, r.Items[j].Quantity, l.Quantity)
		case l.UnitPrice < 0:
			return Errorf(EINVALID, "lines[%d].unit_price: must not be negative, got %d", i, l.UnitPrice)
		}
		ordered[j] = true
		var ok bool
		if total, ok = addProduct(total, l.Quantity, l.UnitPrice); !ok {
			return Errorf(EINVALID, "lines[%d]: the order's total overflows", i)
		}
	}
	for j, ok := range ordered {
		if !ok {
			return Errorf(EINVALID, "lines: requested item %q is not ordered", r.Items[j].Name)
		}
	}
	return nil
}

// GoodsReceipt is the data of a receive_goods step: what arrived this time.
type GoodsReceipt struct {
	Lines []ItemQuantity `json:"lines"`
}

// CheckReceipt reports as EINVALID, naming the field, why rc cannot be
// received when outstanding is still due: an unknown or repeated item, a
// quantity that is not positive, or more than is outstanding.
func CheckReceipt(outstanding []ItemQuantity, rc GoodsReceipt) error {
	if len(rc.Lines) == 0 {
		return Errorf(EINVALID, "lines: at least one line is required")
	}
	seen := make(map[string]int, len(rc.Lines))
	for i, l := range rc.Lines {
		j := indexItem(outstanding, l.Name)
		if j < 0 {
			return Errorf(EINVALID, "lines[%d].name: %q is not a requested item", i, l.Name)
		}
		if k, dup := seen[l.Name]; dup {
			return Errorf(EINVALID, "lines[%d].name: %q repeats lines[%d]", i, l.Name, k)
		}
		seen[l.Name] = i
		switch due := outstanding[j].Quantity; {
		case l.Quantity <= 0:
			return Errorf(EINVALID, "lines[%d].quantity: must be positive, got %d", i, l.Quantity)
		case l.Quantity > due:
			return Errorf(EINVALID, "lines[%d].quantity: %d of %q exceed the %d outstanding", i, l.Quantity, l.Name, due)
		}
	}
	return nil
}

// Receive returns what is outstanding once rc has arrived, in the order of
// outstanding, keeping items whose quantity reaches zero. rc must pass
// CheckReceipt.
func Receive(outstanding []ItemQuantity, rc GoodsReceipt) []ItemQuantity {
	out := append([]ItemQuantity(nil), outstanding...)
	for _, l := range rc.Lines {
		if j := indexItem(out, l.Name); j >= 0 {
			out[j].Quantity -= l.Quantity
		}
	}
	return out
}

// Due returns the items of q with a positive quantity, never nil.
func Due(q []ItemQuantity) []ItemQuantity {
	out := []ItemQuantity{}
	for _, l := range q {
		if l.Quantity > 0 {
			out = append(out, l)
		}
	}
	return out
}

func indexItem(q []ItemQuantity, name string) int {
	for i, l := range q {
		if l.Name == name {
			return i
		}
	}
	return -1
}

// RequisitionSubmitted records a new procurement request; it is the first
// event of every procurement stream. Total is in Currency's minor unit.
type RequisitionSubmitted struct {
	ProcessID string             `json:"process_id"`
	Requester string             `json:"requester"`
	Request   ProcurementRequest `json:"request"`
	Total     int64              `json:"total"`
	Currency  string             `json:"currency"`
}

// EventType implements EventData.
func (RequisitionSubmitted) EventType() string { return "procurement.requisition_submitted" }

// ProcurementApproved records the approval of a request.
type ProcurementApproved struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (ProcurementApproved) EventType() string { return "procurement.approved" }

// ProcurementRejected records the rejection of a request; it ends the
// process with status rejected.
type ProcurementRejected struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (ProcurementRejected) EventType() string { return "procurement.rejected" }

// PurchaseOrderRecorded records the purchase order placed for a request.
type PurchaseOrderRecorded struct {
	Supplier string      `json:"supplier"`
	Lines    []OrderLine `json:"lines"`
	Total    int64       `json:"total"`
	Quotes   []Quote     `json:"quotes,omitempty"`
}

// EventType implements EventData.
func (PurchaseOrderRecorded) EventType() string { return "procurement.po_recorded" }

// GoodsReceived records one delivery; Outstanding lists what is still due
// (empty once everything has arrived).
type GoodsReceived struct {
	Lines       []ItemQuantity `json:"lines"`
	Outstanding []ItemQuantity `json:"outstanding"`
}

// EventType implements EventData.
func (GoodsReceived) EventType() string { return "procurement.goods_received" }

// ProcurementStockedIn records that the received goods were put into stock;
// each line also lands as an InventoryStockedIn on the item's stream.
type ProcurementStockedIn struct {
	Lines []StockLine `json:"lines"`
}

// EventType implements EventData.
func (ProcurementStockedIn) EventType() string { return "procurement.stocked_in" }

// ProcurementCompleted records the successful end of a procurement.
type ProcurementCompleted struct{}

// EventType implements EventData.
func (ProcurementCompleted) EventType() string { return "procurement.completed" }

// Facts returns what a policy condition can test about r, requested by
// requester: total (minor units), currency, department, category (the
// budget category), items (the number of lines), needed_by and requester;
// and budget_status (none, within, warn or exceeded) and budget_remaining
// (minor units), which are "none" and 0 until a budget check sets them
// (see BudgetCheck.Facts).
func (r ProcurementRequest) Facts(requester string) Facts {
	return Facts{
		"total": r.Total(), "currency": r.CurrencyOrDefault(), "department": r.Department,
		"category": r.BudgetCategory, "items": int64(len(r.Items)), "needed_by": r.NeededBy,
		"requester": requester, "budget_status": BudgetNone, "budget_remaining": int64(0),
	}
}

// Facts adds the outcome of the check to f: budget_status and
// budget_remaining.
func (c BudgetCheck) Facts(f Facts) Facts {
	out := make(Facts, len(f)+2)
	for k, v := range f {
		out[k] = v
	}
	out["budget_status"], out["budget_remaining"] = c.Status, c.Remaining
	if c.Status == "" {
		out["budget_status"] = BudgetNone
	}
	return out
}

// Quote is a supplier's offer for a whole purchase order (询价/比价).
type Quote struct {
	Supplier string `json:"supplier"`
	Amount   int64  `json:"amount"` // minor units
}

// RequiredQuotes is how many quotes a purchase order above the policy's
// threshold (KindPolicy.QuotesAbove) must carry.
const RequiredQuotes = 3

// CheckQuotes reports as EINVALID, naming the field, how po fails the rule
// that an order whose total exceeds above (0: never) carries at least
// RequiredQuotes quotes from distinct suppliers, one of them the chosen
// supplier's at the order's total.
func CheckQuotes(po PurchaseOrder, above int64) error {
	for i, q := range po.Quotes {
		switch {
		case strings.TrimSpace(q.Supplier) == "":
			return Errorf(EINVALID, "quotes[%d].supplier: required", i)
		case utf8.RuneCountInString(q.Supplier) > maxNameLen:
			return Errorf(EINVALID, "quotes[%d].supplier: longer than %d characters", i, maxNameLen)
		case q.Amount <= 0:
			return Errorf(EINVALID, "quotes[%d].amount: must be positive, got %d", i, q.Amount)
		}
		for j := range i {
			if po.Quotes[j].Supplier == q.Supplier {
				return Errorf(EINVALID, "quotes[%d].supplier: %q repeats quotes[%d]", i, q.Supplier, j)
			}
		}
	}
	if above <= 0 || po.Total() <= above {
		return nil
	}
	if len(po.Quotes) < RequiredQuotes {
		return Errorf(EINVALID, "quotes: %d quotes are required for an order above %s, got %d", RequiredQuotes, Money(above), len(po.Quotes))
	}
	for _, q := range po.Quotes {
		if q.Supplier == po.Supplier {
			if q.Amount != po.Total() {
				return Errorf(EINVALID, "quotes: the quote of %s is %s, not the order's total %s", po.Supplier, Money(q.Amount), Money(po.Total()))
			}
			return nil
		}
	}
	return Errorf(EINVALID, "quotes: none is from the chosen supplier %q", po.Supplier)
}

// Invoice is the data of the record_invoice step: the supplier's invoice
// (发票), whose amount is the procurement's actual cost.
type Invoice struct {
	Number string `json:"number"`
	Amount int64  `json:"amount"` // minor units
}

// CheckInvoice reports as EINVALID, naming the field, why inv cannot be the
// invoice of an order of total orderTotal: no number, an amount that is not
// positive, or one above the order.
func CheckInvoice(inv Invoice, orderTotal int64) error {
	switch {
	case strings.TrimSpace(inv.Number) == "":
		return Errorf(EINVALID, "number: required")
	case utf8.RuneCountInString(inv.Number) > maxNameLen:
		return Errorf(EINVALID, "number: longer than %d characters", maxNameLen)
	case inv.Amount <= 0:
		return Errorf(EINVALID, "amount: must be positive, got %d", inv.Amount)
	case inv.Amount > orderTotal:
		return Errorf(EINVALID, "amount: %s exceeds the purchase order's total %s", Money(inv.Amount), Money(orderTotal))
	}
	return nil
}

// InvoiceRecorded records the invoice of a procurement: its actual cost,
// consumed from the budget line.
type InvoiceRecorded struct {
	Number   string `json:"number"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Released int64  `json:"released"` // reserved but not spent, given back to the line
}

// EventType implements EventData.
func (InvoiceRecorded) EventType() string { return "procurement.invoice_recorded" }

// ProcurementBudgetChecked records the budget check of a procurement at its
// start (and after an amended resubmission): the line and the outcome the
// approval route was resolved with.
type ProcurementBudgetChecked struct {
	Line  string      `json:"line"` // the budget line's stream
	Check BudgetCheck `json:"check"`
}

// EventType implements EventData.
func (ProcurementBudgetChecked) EventType() string { return "procurement.budget_checked" }

// ProcurementBudgetReserved records the reservation a procurement made on
// its budget line when it was approved.
type ProcurementBudgetReserved struct {
	Line      string `json:"line"`
	Amount    int64  `json:"amount"`
	Status    string `json:"status"` // the outcome of the check at reservation
	Exception bool   `json:"exception,omitempty"`
}

// EventType implements EventData.
func (ProcurementBudgetReserved) EventType() string { return "procurement.budget_reserved" }

// ProcurementBudgetReleased records reserved money given back when a
// procurement ended before its invoice.
type ProcurementBudgetReleased struct {
	Line   string `json:"line"`
	Amount int64  `json:"amount"`
	Reason string `json:"reason"`
}

// EventType implements EventData.
func (ProcurementBudgetReleased) EventType() string { return "procurement.budget_released" }

func init() {
	RegisterFacts(KindProcurement, ProcurementRequest{}.Facts(""))
	RegisterEventType(RequisitionSubmitted{})
	RegisterEventType(ProcurementApproved{})
	RegisterEventType(ProcurementRejected{})
	RegisterEventType(PurchaseOrderRecorded{})
	RegisterEventType(GoodsReceived{})
	RegisterEventType(ProcurementStockedIn{})
	RegisterEventType(ProcurementCompleted{})
	RegisterEventType(InvoiceRecorded{})
	RegisterEventType(ProcurementBudgetChecked{})
	RegisterEventType(ProcurementBudgetReserved{})
	RegisterEventType(ProcurementBudgetReleased{})
}
