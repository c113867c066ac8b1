package houqin_test

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
)

func validRequest() houqin.ProcurementRequest {
	return houqin.ProcurementRequest{
		Department: "MKT", BudgetCategory: "office_supplies", Reason: "Q1 printing", NeededBy: "2026-12-15",
		Items: []houqin.ProcurementItem{
			{Name: "A4 paper", Quantity: 20, Unit: "box", UnitPrice: 4500},
			{Name: "toner", Quantity: 2, Unit: "piece", UnitPrice: 39900},
		},
	}
}

func TestProcurementRequestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *houqin.ProcurementRequest)
		want   string // "" = valid; else the EINVALID message
	}{
		{"valid", func(r *houqin.ProcurementRequest) {}, ""},
		{"explicit currency", func(r *houqin.ProcurementRequest) { r.Currency = "USD" }, ""},
		{"free item", func(r *houqin.ProcurementRequest) { r.Items[1].UnitPrice = 0 }, ""},
		{"no department", func(r *houqin.ProcurementRequest) { r.Department = " " }, "department: required"},
		{"no budget category", func(r *houqin.ProcurementRequest) { r.BudgetCategory = "" }, "budget_category: required"},
		{"long reason", func(r *houqin.ProcurementRequest) { r.Reason = strings.Repeat("因", 2001) }, "reason: longer than 2000 characters"},
		{"no needed_by", func(r *houqin.ProcurementRequest) { r.NeededBy = "" }, "needed_by: required"},
		{"bad needed_by", func(r *houqin.ProcurementRequest) { r.NeededBy = "15.12.2026" }, `needed_by: must be a date YYYY-MM-DD, got "15.12.2026"`},
		{"impossible date", func(r *houqin.ProcurementRequest) { r.NeededBy = "2026-02-30" }, `needed_by: must be a date YYYY-MM-DD, got "2026-02-30"`},
		{"lowercase currency", func(r *houqin.ProcurementRequest) { r.Currency = "cny" }, `currency: must be a three-letter ISO 4217 code such as CNY, got "cny"`},
		{"no items", func(r *houqin.ProcurementRequest) { r.Items = nil }, "items: at least one item is required"},
		{"too many items", func(r *houqin.ProcurementRequest) {
			r.Items = make([]houqin.ProcurementItem, 201)
		}, "items: 201 items exceed the limit of 200"},
		{"zero quantity", func(r *houqin.ProcurementRequest) { r.Items[1].Quantity = 0 }, "items[1].quantity: must be positive, got 0"},
		{"negative quantity", func(r *houqin.ProcurementRequest) { r.Items[0].Quantity = -3 }, "items[0].quantity: must be positive, got -3"},
		{"no name", func(r *houqin.ProcurementRequest) { r.Items[1].Name = "" }, "items[1].name: required"},
		{"long name", func(r *houqin.ProcurementRequest) { r.Items[0].Name = strings.Repeat("纸", 201) }, "items[0].name: longer than 200 characters"},
		{"no unit", func(r *houqin.ProcurementRequest) { r.Items[0].Unit = "" }, "items[0].unit: required"},
		{"negative price", func(r *houqin.ProcurementRequest) { r.Items[1].UnitPrice = -1 }, "items[1].unit_price: must not be negative, got -1"},
		{"same item twice", func(r *houqin.ProcurementRequest) { r.Items[1].Name = "a4-Paper" }, `items[1].name: "a4-Paper" is the same inventory item as items[0] ("A4 paper")`},
		{"line overflows", func(r *houqin.ProcurementRequest) {
			r.Items[0].Quantity, r.Items[0].UnitPrice = math.MaxInt64/2, 3
		}, "items[0]: the request's total overflows"},
		{"total overflows", func(r *houqin.ProcurementRequest) {
			r.Items[0].Quantity, r.Items[0].UnitPrice = 1, math.MaxInt64
		}, "items[1]: the request's total overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.change(&r)
			err := r.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
				t.Fatalf("Validate = %v, want EINVALID %q", err, tt.want)
			}
		})
	}
}

func TestProcurementRequestTotal(t *testing.T) {
	r := validRequest()
	if got, want := r.Total(), int64(20*4500+2*39900); got != want {
		t.Errorf("Total = %d, want %d", got, want)
	}
	if got := r.CurrencyOrDefault(); got != "CNY" {
		t.Errorf("CurrencyOrDefault = %q, want CNY", got)
	}
	r.Currency = "EUR"
	if got := r.CurrencyOrDefault(); got != "EUR" {
		t.Errorf("CurrencyOrDefault = %q, want EUR", got)
	}
}

func TestCheckPurchaseOrder(t *testing.T) {
	lines := func() []houqin.OrderLine {
		return []houqin.OrderLine{{Name: "toner", Quantity: 2, UnitPrice: 38000}, {Name: "A4 paper", Quantity: 20, UnitPrice: 4300}}
	}
	tests := []struct {
		name   string
		change func(po *houqin.PurchaseOrder)
		want   string
	}{
		{"valid, any order", func(po *houqin.PurchaseOrder) {}, ""},
		{"no supplier", func(po *houqin.PurchaseOrder) { po.Supplier = "" }, "supplier: required"},
		{"no lines", func(po *houqin.PurchaseOrder) { po.Lines = nil }, "lines: at least one line is required"},
		{"unknown item", func(po *houqin.PurchaseOrder) { po.Lines[1].Name = "a4 paper" }, `lines[1].name: "a4 paper" is not a requested item`},
		{"twice", func(po *houqin.PurchaseOrder) { po.Lines[1] = po.Lines[0] }, `lines[1].name: "toner" is ordered twice`},
		{"other quantity", func(po *houqin.PurchaseOrder) { po.Lines[1].Quantity = 10 }, "lines[1].quantity: must be the requested 20, got 10"},
		{"negative price", func(po *houqin.PurchaseOrder) { po.Lines[0].UnitPrice = -5 }, "lines[0].unit_price: must not be negative, got -5"},
		{"missing item", func(po *houqin.PurchaseOrder) { po.Lines = po.Lines[:1] }, `lines: requested item "A4 paper" is not ordered`},
		{"overflow", func(po *houqin.PurchaseOrder) { po.Lines[1].UnitPrice = math.MaxInt64 / 10 }, "lines[1]: the order's total overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			po := houqin.PurchaseOrder{Supplier: "得力文具", Lines: lines()}
			tt.change(&po)
			err := validRequest().CheckPurchaseOrder(po)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckPurchaseOrder = %v, want nil", err)
				}
				if got, want := po.Total(), int64(2*38000+20*4300); got != want {
					t.Errorf("Total = %d, want %d", got, want)
				}
				return
			}
			if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
				t.Fatalf("CheckPurchaseOrder = %v, want EINVALID %q", err, tt.want)
			}
		})
	}
}

func TestReceipts(t *testing.T) {
	due := validRequest().Quantities()
	if want := []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 20}, {Name: "toner", Quantity: 2}}; !cmp.Equal(due, want) {
		t.Fatalf("Quantities = %v, want %v", due, want)
	}

	first := houqin.GoodsReceipt{Lines: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 12}, {Name: "toner", Quantity: 2}}}
	if err := houqin.CheckReceipt(due, first); err != nil {
		t.Fatalf("CheckReceipt(first) = %v", err)
	}
	after := houqin.Receive(due, first)
	if want := []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 8}, {Name: "toner", Quantity: 0}}; !cmp.Equal(after, want) {
		t.Errorf("Receive = %v, want %v", after, want)
	}
	if due[0].Quantity != 20 {
		t.Errorf("Receive modified its argument: %v", due)
	}
	if got, want := houqin.Due(after), []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 8}}; !cmp.Equal(got, want) {
		t.Errorf("Due = %v, want %v", got, want)
	}
	if got := houqin.Due(houqin.Receive(after, houqin.GoodsReceipt{Lines: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 8}}})); got == nil || len(got) != 0 {
		t.Errorf("Due after everything arrived = %#v, want an empty, non-nil slice", got)
	}

	tests := []struct {
		name  string
		lines []houqin.ItemQuantity
		want  string
	}{
		{"no lines", nil, "lines: at least one line is required"},
		{"unknown item", []houqin.ItemQuantity{{Name: "stapler", Quantity: 1}}, `lines[0].name: "stapler" is not a requested item`},
		{"repeated", []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 1}, {Name: "A4 paper", Quantity: 1}}, `lines[1].name: "A4 paper" repeats lines[0]`},
		{"zero", []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 0}}, "lines[0].quantity: must be positive, got 0"},
		{"over-receipt", []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 9}}, `lines[0].quantity: 9 of "A4 paper" exceed the 8 outstanding`},
		{"all arrived already", []houqin.ItemQuantity{{Name: "toner", Quantity: 1}}, `lines[0].quantity: 1 of "toner" exceed the 0 outstanding`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := houqin.CheckReceipt(after, houqin.GoodsReceipt{Lines: tt.lines})
			if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
				t.Fatalf("CheckReceipt = %v, want EINVALID %q", err, tt.want)
			}
		})
	}
}

func TestItemSlug(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"A4 paper", "a4-paper"},
		{"  A4__paper - 80g ", "a4-paper-80g"},
		{"Toner", "toner"},
		{"打印纸", "[a-f0-9]{8}"},
		{"A4 打印纸", "a4-[a-f0-9]{8}"},
		{"C++ book", "c-book-[a-f0-9]{8}"},
		{strings.Repeat("x", 70), strings.Repeat("x", 64) + "-[a-f0-9]{8}"},
	}
	for _, tt := range tests {
		got := houqin.ItemSlug(tt.name)
		if !matchFull(tt.want, got) {
			t.Errorf("ItemSlug(%q) = %q, want /%s/", tt.name, got, tt.want)
		}
		if s := houqin.InventoryStream(tt.name); s != "inventory-"+got {
			t.Errorf("InventoryStream(%q) = %q", tt.name, s)
		}
	}
	if a, b := houqin.ItemSlug("打印纸"), houqin.ItemSlug("复印纸"); a == b {
		t.Errorf("different names share slug %q", a)
	}
	if a, b := houqin.ItemSlug("A4 打印纸"), houqin.ItemSlug("a4  打印纸"); a != b {
		t.Errorf("names differing in case and spacing: %q != %q", a, b)
	}
	if a, b := houqin.ItemSlug("C++ book"), houqin.ItemSlug("C book"); a == b {
		t.Errorf("names differing in punctuation share slug %q", a)
	}
}

func TestProcurementEventsDecode(t *testing.T) {
	r := validRequest()
	payloads := []houqin.EventData{
		&houqin.TaskOpened{Task: houqin.Task{ID: "PR-2026-000001.dept_approval.1", ProcessID: "PR-2026-000001", Kind: houqin.KindProcurement,
			Step: "dept_approval", Assignees: []string{"liu.yang"}, Actions: []string{"approve", "reject"}}},
		&houqin.TaskCompleted{TaskID: "PR-2026-000001.record_po.1", Step: "record_po", Action: "complete", Actor: "li.na", Data: json.RawMessage(`{"supplier":"x"}`)},
		&houqin.RequisitionSubmitted{ProcessID: "PR-2026-000001", Requester: "wang.fang", Request: r, Total: r.Total(), Currency: "CNY"},
		&houqin.ProcurementApproved{By: "liu.yang", Comment: "ok"},
		&houqin.ProcurementRejected{By: "liu.yang", Comment: "no budget"},
		&houqin.PurchaseOrderRecorded{Supplier: "得力", Lines: []houqin.OrderLine{{Name: "A4 paper", Quantity: 20, UnitPrice: 4300}}, Total: 86000},
		&houqin.GoodsReceived{Lines: []houqin.ItemQuantity{{Name: "A4 paper", Quantity: 5}}, Outstanding: []houqin.ItemQuantity{}},
		&houqin.ProcurementStockedIn{Lines: []houqin.StockLine{{Name: "A4 paper", Quantity: 20, Unit: "box"}}},
		&houqin.ProcurementCompleted{},
		&houqin.InventoryStockedIn{Item: "A4 paper", Unit: "box", Quantity: 20, ProcessID: "PR-2026-000001"},
	}
	for _, p := range payloads {
		t.Run(p.EventType(), func(t *testing.T) {
			e, err := houqin.NewEvent(houqin.EventID("t", p.EventType()), p, houqin.Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Decode()
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(p, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func matchFull(pattern, s string) bool { return regexp.MustCompile("^" + pattern + "$").MatchString(s) }
