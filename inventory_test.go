package houqin_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
)

var paper = houqin.ItemSpec{Name: "A4 paper", Names: houqin.Text{Zh: "A4 打印纸", En: "A4 paper"}, Unit: "box", Location: "WH-A-01",
	ReorderPoint: 10, ReorderQuantity: 20, Quota: 5, DepartmentQuotas: map[string]int64{"ADM": 30}}

func ev(t *testing.T, v int64, id string, d houqin.EventData) houqin.Event {
	t.Helper()
	e, err := houqin.NewEvent(houqin.EventID(id), d, houqin.Metadata{Actor: "li.na", OccurredAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	e.Stream, e.Version = houqin.InventoryStream("A4 paper"), v
	return e
}

func TestFoldItem(t *testing.T) {
	stocked := houqin.InventoryStockedIn{Item: "A4 paper", Unit: "box", Quantity: 12, ProcessID: "PR-2026-000001"}
	issued := houqin.InventoryIssued{Item: "A4 paper", Unit: "box", Quantity: 5, Department: "MKT", ProcessID: "IS-2026-000001", OnHand: 7}
	adjusted := houqin.InventoryAdjusted{Item: "A4 paper", Unit: "box", Delta: -2, Counted: 5, OnHand: 5, ProcessID: "ST-2026-000001"}
	moved := paper
	moved.Location = "WH-B-02"
	for _, tt := range []struct {
		name    string
		events  []houqin.EventData
		defined bool
		onHand  int64
		below   bool
		spec    houqin.ItemSpec
	}{
		{"empty", nil, false, 0, false, houqin.ItemSpec{}},
		{"defined", []houqin.EventData{houqin.ItemDefined{Item: paper}}, true, 0, true, paper},
		{"stocked before defined", []houqin.EventData{stocked}, false, 12, false, houqin.ItemSpec{Name: "A4 paper"}},
		{"stocked", []houqin.EventData{houqin.ItemDefined{Item: paper}, stocked}, true, 12, false, paper},
		{"issued below the reorder point", []houqin.EventData{houqin.ItemDefined{Item: paper}, stocked, issued}, true, 7, true, paper},
		{"adjusted", []houqin.EventData{houqin.ItemDefined{Item: paper}, stocked, issued, adjusted}, true, 5, true, paper},
		{"updated", []houqin.EventData{stocked, houqin.ItemDefined{Item: paper}, houqin.ItemUpdated{Item: moved, Changed: []string{"location"}}}, true, 12, false, moved},
		{"a reorder moves nothing", []houqin.EventData{houqin.ItemDefined{Item: paper}, stocked,
			houqin.ReorderRequested{Item: "A4 paper", Quantity: 20, ProcessID: "PR-2026-000002"}}, true, 12, false, paper},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var events []houqin.Event
			for i, d := range tt.events {
				events = append(events, ev(t, int64(i), tt.name+string(rune('a'+i)), d))
			}
			s, err := houqin.FoldItem(events)
			if err != nil {
				t.Fatal(err)
			}
			if s.Defined != tt.defined || s.OnHand != tt.onHand || s.BelowReorder() != tt.below || s.Version != int64(len(events))-1 {
				t.Errorf("defined %v, on hand %d, below %v, version %d; want %v, %d, %v, %d", s.Defined, s.OnHand, s.BelowReorder(), s.Version,
					tt.defined, tt.onHand, tt.below, len(events)-1)
			}
			if diff := cmp.Diff(tt.spec, s.Spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
			if len(events) > 0 {
				if n, ok := s.OnHandAfter(events[0].ID); !ok || (tt.name == "stocked before defined" && n != 12) {
					t.Errorf("OnHandAfter(first) = %d, %v", n, ok)
				}
			}
			if _, ok := s.OnHandAfter(houqin.EventID("nope")); ok {
				t.Error("OnHandAfter of an unknown event is ok")
			}
		})
	}
}

func TestItemSpecValidate(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*houqin.ItemSpec)
		want   string
	}{
		{"valid", func(*houqin.ItemSpec) {}, ""},
		{"no name", func(s *houqin.ItemSpec) { s.Name = " " }, "name: required"},
		{"no zh name", func(s *houqin.ItemSpec) { s.Names.Zh = "" }, "names.zh: required"},
		{"no unit", func(s *houqin.ItemSpec) { s.Unit = "" }, "unit: required"},
		{"negative reorder point", func(s *houqin.ItemSpec) { s.ReorderPoint = -1 }, "reorder_point: must be between 0 and 1000000000, got -1"},
		{"reorder point without quantity", func(s *houqin.ItemSpec) { s.ReorderQuantity = 0 }, "reorder_quantity: must be positive when reorder_point is set"},
		{"negative department quota", func(s *houqin.ItemSpec) { s.DepartmentQuotas = map[string]int64{"MKT": 1, "HR": -2} }, "department_quotas.HR: must be between 0 and 1000000000, got -2"},
		{"negative price", func(s *houqin.ItemSpec) { s.UnitPrice = -1 }, "unit_price: must not be negative, got -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := paper
			s.DepartmentQuotas = map[string]int64{"ADM": 30}
			tt.change(&s)
			err := s.Validate()
			if got := houqin.ErrorMessage(err); err != nil && got != tt.want || err == nil && tt.want != "" {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
	if paper.QuotaFor("ADM") != 30 || paper.QuotaFor("MKT") != 5 {
		t.Errorf("QuotaFor: ADM %d, MKT %d", paper.QuotaFor("ADM"), paper.QuotaFor("MKT"))
	}
}

func TestIssueRequest(t *testing.T) {
	state := houqin.ItemState{Spec: paper, Defined: true, Unit: "box", OnHand: 40}
	for _, tt := range []struct {
		name  string
		req   houqin.IssueRequest
		items []houqin.ItemState
		code  string
		want  string
		terms []houqin.IssueTerms
		facts houqin.Facts
	}{
		{"within quota", houqin.IssueRequest{Department: "MKT", Items: []houqin.IssueLine{{Item: "a4 paper", Quantity: 5}}}, []houqin.ItemState{state}, "", "",
			[]houqin.IssueTerms{{Item: "A4 paper", Unit: "box", Quantity: 5, Quota: 5}},
			houqin.Facts{"over_quota": false, "excess": int64(0), "quantity": int64(5), "items": int64(1), "department": "MKT", "requester": "wang.fang"}},
		{"over quota", houqin.IssueRequest{Department: "MKT", Items: []houqin.IssueLine{{Item: "A4 paper", Quantity: 8}}}, []houqin.ItemState{state}, "", "",
			[]houqin.IssueTerms{{Item: "A4 paper", Unit: "box", Quantity: 8, Quota: 5, Excess: 3}},
			houqin.Facts{"over_quota": true, "excess": int64(3), "quantity": int64(8), "items": int64(1), "department": "MKT", "requester": "wang.fang"}},
		{"department quota", houqin.IssueRequest{Department: "ADM", Items: []houqin.IssueLine{{Item: "A4 paper", Quantity: 8}}}, []houqin.ItemState{state}, "", "",
			[]houqin.IssueTerms{{Item: "A4 paper", Unit: "box", Quantity: 8, Quota: 30}},
			houqin.Facts{"over_quota": false, "excess": int64(0), "quantity": int64(8), "items": int64(1), "department": "ADM", "requester": "wang.fang"}},
		{"zero quantity", houqin.IssueRequest{Department: "MKT", Items: []houqin.IssueLine{{Item: "A4 paper", Quantity: 1}, {Item: "pens", Quantity: 0}}}, nil,
			houqin.EINVALID, "items[1].quantity: must be positive, got 0", nil, nil},
		{"same item twice", houqin.IssueRequest{Department: "MKT", Items: []houqin.IssueLine{{Item: "A4 paper", Quantity: 1}, {Item: "a4-PAPER", Quantity: 1}}}, nil,
			houqin.EINVALID, `items[1].item: "a4-PAPER" is the same inventory item as items[0]`, nil, nil},
		{"not defined", houqin.IssueRequest{Department: "MKT", Items: []houqin.IssueLine{{Item: "pens", Quantity: 1}}}, []houqin.ItemState{{}},
			houqin.ENOTFOUND, `items[0].item: no inventory item "pens" is defined`, nil, nil},
		{"short", houqin.IssueRequest{Department: "MKT", Items: []houqin.IssueLine{{Item: "A4 paper", Quantity: 41}}}, []houqin.ItemState{state},
			houqin.ENOTALLOWED, `items[0].quantity: 41 box of "A4 paper" requested, 40 on hand`, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			var terms []houqin.IssueTerms
			if err == nil {
				terms, err = tt.req.Terms(tt.items)
			}
			if houqin.ErrorCode(err) != tt.code && !(err == nil && tt.code == "") || err != nil && houqin.ErrorMessage(err) != tt.want {
				t.Fatalf("err = %v, want %s %q", err, tt.code, tt.want)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.terms, terms); diff != "" {
				t.Errorf("terms (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.facts, houqin.IssueFacts(tt.req, terms, "wang.fang")); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStocktakeLines(t *testing.T) {
	req := houqin.StocktakeRequest{Counts: []houqin.StocktakeCount{{Item: "A4 paper", Counted: 7}, {Item: "toner", Counted: 3}}}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	toner := houqin.ItemState{Spec: houqin.ItemSpec{Name: "toner"}, Defined: true, Unit: "piece", OnHand: 3}
	lines, err := houqin.StocktakeLines(req, []houqin.ItemState{{Spec: paper, Defined: true, Unit: "box", OnHand: 10}, toner})
	if err != nil {
		t.Fatal(err)
	}
	want := []houqin.StocktakeLine{{Item: "A4 paper", Unit: "box", OnHand: 10, Counted: 7, Variance: -3}, {Item: "toner", Unit: "piece", OnHand: 3, Counted: 3}}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	facts := houqin.StocktakeFacts(lines, "li.na")
	if diff := cmp.Diff(houqin.Facts{"has_variance": true, "variance_items": int64(1), "abs_variance": int64(3), "requester": "li.na"}, facts); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	if _, err := houqin.StocktakeLines(req, []houqin.ItemState{{}, toner}); houqin.ErrorMessage(err) != `counts[0].item: no inventory item "A4 paper" is defined` {
		t.Errorf("undefined item: %v", err)
	}
	bad := houqin.StocktakeRequest{Counts: []houqin.StocktakeCount{{Item: "A4 paper", Counted: -1}}}
	if err := bad.Validate(); houqin.ErrorMessage(err) != "counts[0].counted: must be between 0 and 1000000000, got -1" {
		t.Errorf("negative count: %v", err)
	}
}
