package houqin_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
)

// lineEvents returns the events of a line's stream with versions 0…n-1.
func lineEvents(t *testing.T, data ...houqin.EventData) []houqin.Event {
	t.Helper()
	var out []houqin.Event
	for i, d := range data {
		e, err := houqin.NewEvent(houqin.EventID("line", fmt.Sprint(i)), d, houqin.Metadata{OccurredAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		e.Stream, e.Version = "budget-2026-MKT-office_supplies", int64(i)
		out = append(out, e)
	}
	return out
}

func planned(amount int64, tolBP int, control string) houqin.BudgetLinePlanned {
	return houqin.BudgetLinePlanned{Year: 2026, Department: "MKT", Category: "office_supplies", Amount: amount,
		Currency: "CNY", ToleranceBP: tolBP, Control: control, ProcessID: "BU-2026-000001"}
}

func TestFoldBudgetLine(t *testing.T) {
	events := lineEvents(t,
		planned(1_000_000, 500, houqin.ControlStop),
		houqin.BudgetReserved{ProcessID: "PR-1", Amount: 300_000},
		houqin.BudgetReserved{ProcessID: "PR-2", Amount: 200_000},
		houqin.BudgetConsumed{ProcessID: "PR-1", Amount: 250_000, Document: "INV-1"},
		houqin.BudgetReleased{ProcessID: "PR-1", Amount: 50_000, Reason: "under-spend"},
		houqin.BudgetAdjusted{ProcessID: "BA-2026-000001", Delta: 100_000, Reason: "more printing"},
		houqin.BudgetReleased{ProcessID: "PR-2", Amount: 200_000, Reason: "withdrawn"},
	)
	l, err := houqin.FoldBudgetLine(events[0].Stream, events)
	if err != nil {
		t.Fatal(err)
	}
	got := struct {
		Plan, Adjusted, Reserved, Actual, Version int64
		Open                                      map[string]int64
	}{l.Plan, l.Adjusted, l.Reserved, l.Actual, l.Version, l.Open}
	want := got
	want.Plan, want.Adjusted, want.Reserved, want.Actual, want.Version = 1_100_000, 100_000, 0, 250_000, 6
	want.Open = map[string]int64{"PR-1": 0, "PR-2": 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fold (-want +got):\n%s", diff)
	}
	if !l.Has(events[3].ID) || l.Has("nope") {
		t.Error("Has does not know the folded events")
	}
	if l.Band() != 55_000 {
		t.Errorf("band = %d, want 5 %% of 1 100 000 = 55 000", l.Band())
	}

	// An adjustment folded before the plan still counts.
	early := lineEvents(t, houqin.BudgetAdjusted{Delta: -1000}, planned(10_000, 0, houqin.ControlStop))
	if l, _ := houqin.FoldBudgetLine("s", early); l.Plan != 9000 {
		t.Errorf("plan with an earlier adjustment = %d, want 9000", l.Plan)
	}
}

func TestBudgetLineCheck(t *testing.T) {
	// Plan 10 000.00, 5 % band = 500.00; 6 000.00 reserved, 3 000.00 spent.
	state := func(control string, tol int) *houqin.BudgetLine {
		l, err := houqin.FoldBudgetLine("budget-2026-MKT-office_supplies", lineEvents(t,
			planned(1_000_000, tol, control),
			houqin.BudgetReserved{ProcessID: "PR-1", Amount: 600_000},
			houqin.BudgetReserved{ProcessID: "PR-0", Amount: 300_000},
			houqin.BudgetConsumed{ProcessID: "PR-0", Amount: 300_000},
		))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	tests := []struct {
		name    string
		line    *houqin.BudgetLine
		amount  int64
		status  string
		reason  string
		remains int64
	}{
		{"within", state(houqin.ControlStop, 500), 50_000, houqin.BudgetWithin, "within the plan: 500.00 of 10000.00 remain after it", 100_000},
		{"exactly the plan", state(houqin.ControlStop, 500), 100_000, houqin.BudgetWithin, "within the plan: 0.00 of 10000.00 remain after it", 100_000},
		{"one fen over", state(houqin.ControlStop, 500), 100_001, houqin.BudgetWarn, "0.01 beyond the plan of 10000.00, within the 5.00 % band", 100_000},
		{"edge of the band", state(houqin.ControlStop, 500), 150_000, houqin.BudgetWarn, "500.00 beyond the plan of 10000.00, within the 5.00 % band", 100_000},
		{"past the band", state(houqin.ControlStop, 500), 150_001, houqin.BudgetExceeded, "500.01 beyond the plan of 10000.00, past the 5.00 % band (limit 10500.00)", 100_000},
		{"no band", state(houqin.ControlStop, 0), 100_001, houqin.BudgetExceeded, "0.01 beyond the plan of 10000.00, past the 0.00 % band (limit 10000.00)", 100_000},
		{"control warn never exceeds", state(houqin.ControlWarn, 500), 5_000_000, houqin.BudgetWarn, "49000.00 beyond the plan of 10000.00 (control warn)", 100_000},
		{"control ignore", state(houqin.ControlIgnore, 500), 5_000_000, houqin.BudgetWithin, "the line is tracked, not enforced (control ignore)", 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.line.Check(tt.amount)
			if c.Status != tt.status || c.Reason != tt.reason || c.Remaining != tt.remains {
				t.Errorf("Check(%d) = %+v, want %s %q remaining %d", tt.amount, c, tt.status, tt.reason, tt.remains)
			}
		})
	}
	t.Run("no line", func(t *testing.T) {
		c := houqin.NewBudgetLine("budget-2026-HR-travel").Check(1)
		if c.Status != houqin.BudgetNone || !strings.Contains(c.Reason, "no active budget line budget-2026-HR-travel") {
			t.Errorf("Check on an empty line = %+v", c)
		}
	})
}

func TestBudgetDraftValidate(t *testing.T) {
	bp := func(n int) *int { return &n }
	valid := func() houqin.BudgetDraft {
		return houqin.BudgetDraft{Year: 2026, Lines: []houqin.BudgetLineDraft{
			{Department: "MKT", Category: "office_supplies", Amount: 1_000_000},
			{Department: "MKT", Category: "travel", Amount: 500_000, ToleranceBP: bp(0), Control: "warn"},
			{Department: "ADM", Category: "facilities", Amount: 2_000_000},
			{Department: "HR", Category: "events", Amount: 800_000},
		}}
	}
	tests := []struct {
		name   string
		change func(d *houqin.BudgetDraft)
		want   string
	}{
		{"valid", func(d *houqin.BudgetDraft) {}, ""},
		{"year", func(d *houqin.BudgetDraft) { d.Year = 26 }, "year: must be between 2000 and 2100, got 26"},
		{"no lines", func(d *houqin.BudgetDraft) { d.Lines = nil }, "lines: at least one line is required"},
		{"amount", func(d *houqin.BudgetDraft) { d.Lines[3].Amount = 0 }, "lines[3].amount: must be positive, got 0"},
		{"category", func(d *houqin.BudgetDraft) { d.Lines[1].Category = "snacks" }, `lines[1].category: must be one of office_supplies, equipment, travel, events, facilities, services, other, got "snacks"`},
		{"department", func(d *houqin.BudgetDraft) { d.Lines[0].Department = "mkt" }, `lines[0].department: must be a department ID such as MKT, got "mkt"`},
		{"tolerance", func(d *houqin.BudgetDraft) { d.Lines[2].ToleranceBP = bp(-1) }, "lines[2].tolerance_bp: must be between 0 and 10000 basis points, got -1"},
		{"control", func(d *houqin.BudgetDraft) { d.Lines[2].Control = "block" }, `lines[2].control: must be stop, warn or ignore, got "block"`},
		{"repeat", func(d *houqin.BudgetDraft) { d.Lines[3].Department, d.Lines[3].Category = "MKT", "travel" }, "lines[3]: MKT travel repeats lines[1]"},
		{"currency", func(d *houqin.BudgetDraft) { d.Currency = "rmb" }, `currency: must be a three-letter ISO 4217 code such as CNY, got "rmb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.change(&d)
			err := d.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
				t.Errorf("Validate() = %v, want EINVALID %q", err, tt.want)
			}
		})
	}
	d := valid()
	if d.Lines[0].Tolerance() != 500 || d.Lines[0].ControlOrDefault() != "stop" || d.Lines[1].Tolerance() != 0 {
		t.Error("defaults: tolerance 500 bp and control stop")
	}
	if d.Total() != 4_300_000 || d.TitleOrDefault() != "2026 年度后勤预算" {
		t.Errorf("total %d, title %q", d.Total(), d.TitleOrDefault())
	}
}

func TestBudgetAdjustmentValidate(t *testing.T) {
	a := houqin.BudgetAdjustment{Year: 2026, Reason: "展会", Lines: []houqin.BudgetAdjustmentLine{{Department: "MKT", Category: "events", Delta: 100}}}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	a.Lines = append(a.Lines, houqin.BudgetAdjustmentLine{Department: "MKT", Category: "travel", Delta: 0})
	if err := a.Validate(); houqin.ErrorMessage(err) != "lines[1].delta: must not be zero" {
		t.Errorf("Validate() = %v", err)
	}
	a.Lines, a.Reason = a.Lines[:1], " "
	if err := a.Validate(); houqin.ErrorMessage(err) != "reason: required" {
		t.Errorf("Validate() = %v", err)
	}
}

func TestCheckQuotesAndInvoice(t *testing.T) {
	po := houqin.PurchaseOrder{Supplier: "得力", Lines: []houqin.OrderLine{{Name: "desk", Quantity: 10, UnitPrice: 300_000}}}
	three := []houqin.Quote{{Supplier: "晨光", Amount: 3_100_000}, {Supplier: "得力", Amount: 3_000_000}, {Supplier: "齐心", Amount: 3_200_000}}
	tests := []struct {
		name   string
		quotes []houqin.Quote
		above  int64
		want   string
	}{
		{"below the threshold", nil, 3_000_000, ""},
		{"no threshold", nil, 0, ""},
		{"three quotes", three, 2_000_000, ""},
		{"too few", three[:2], 2_000_000, "quotes: 3 quotes are required for an order above 20000.00, got 2"},
		{"not the chosen", []houqin.Quote{three[0], three[2], {Supplier: "x", Amount: 1}}, 2_000_000, `quotes: none is from the chosen supplier "得力"`},
		{"other price", []houqin.Quote{three[0], {Supplier: "得力", Amount: 2_900_000}, three[2]}, 2_000_000, "quotes: the quote of 得力 is 29000.00, not the order's total 30000.00"},
		{"repeat", []houqin.Quote{three[0], three[0]}, 0, `quotes[1].supplier: "晨光" repeats quotes[0]`},
		{"zero amount", []houqin.Quote{{Supplier: "a"}}, 0, "quotes[0].amount: must be positive, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			po := po
			po.Quotes = tt.quotes
			err := houqin.CheckQuotes(po, tt.above)
			if got := houqin.ErrorMessage(err); (err == nil) != (tt.want == "") || (err != nil && got != tt.want) {
				t.Errorf("CheckQuotes = %v, want %q", err, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		inv  houqin.Invoice
		want string
	}{
		{houqin.Invoice{Number: "INV-1", Amount: 100}, ""},
		{houqin.Invoice{Amount: 100}, "number: required"},
		{houqin.Invoice{Number: "INV-1"}, "amount: must be positive, got 0"},
		{houqin.Invoice{Number: "INV-1", Amount: 1001}, "amount: 10.01 exceeds the purchase order's total 10.00"},
	} {
		err := houqin.CheckInvoice(tt.inv, 1000)
		if got := houqin.ErrorMessage(err); (err == nil) != (tt.want == "") || (err != nil && got != tt.want) {
			t.Errorf("CheckInvoice(%+v) = %v, want %q", tt.inv, err, tt.want)
		}
	}
}
