package reports_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/reports"
	"github.com/xuri/excelize/v2"
)

// sample is a report of December 2026: A4 paper had 12 boxes before it,
// 20 came in, 5 went to MKT, a stocktake found 2 missing; toner never
// moved in the period; pens were defined but never stocked.
func sample() reports.Inventory {
	items := []projections.StockRow{
		{Item: "A4 paper", Names: houqin.Text{Zh: "A4 打印纸", En: "A4 paper"}, Unit: "box", Location: "WH-A-01", OnHand: 25, ReorderPoint: 30, ReorderQuantity: 40, Defined: true},
		{Item: "pens", Names: houqin.Text{Zh: "签字笔", En: "Pens"}, Unit: "支", Location: "WH-A-02", ReorderPoint: 0, Defined: true},
		{Item: "toner", Names: houqin.Text{Zh: "硒鼓", En: "Toner"}, Unit: "piece", Location: "WH-C-01", OnHand: 3, ReorderPoint: 2, ReorderQuantity: 4, Defined: true},
	}
	moves := []projections.Movement{
		{Position: 10, Item: "A4 paper", Type: "stocked_in", Quantity: 12, OnHand: 12, Unit: "box", ProcessID: "PR-2026-000001", Actor: "li.na", At: "2026-11-20T02:00:00Z"},
		{Position: 11, Item: "toner", Type: "stocked_in", Quantity: 3, OnHand: 3, Unit: "piece", ProcessID: "PR-2026-000001", Actor: "li.na", At: "2026-11-20T02:00:00Z"},
		{Position: 20, Item: "A4 paper", Type: "stocked_in", Quantity: 20, OnHand: 32, Unit: "box", ProcessID: "PR-2026-000007", Actor: "li.na", At: "2026-12-02T03:00:00Z"},
		{Position: 25, Item: "A4 paper", Type: "issued", Quantity: -5, OnHand: 27, Unit: "box", Department: "MKT", ProcessID: "IS-2026-000003", Actor: "zhou.qiang", At: "2026-12-05T06:30:00Z"},
		{Position: 31, Item: "A4 paper", Type: "adjusted", Quantity: -2, OnHand: 25, Unit: "box", ProcessID: "ST-2026-000001", Actor: "zhang.wei", At: "2026-12-28T08:00:00Z"},
	}
	cst := time.FixedZone("CST", 8*3600)
	return reports.NewInventory(items, moves, time.Date(2026, 12, 1, 0, 0, 0, 0, cst), time.Date(2027, 1, 1, 0, 0, 0, 0, cst))
}

func TestInventoryTable(t *testing.T) {
	rep := sample()
	var got []string
	for _, l := range rep.Items {
		got = append(got, fmt.Sprintf("%s %d+%d-%d%+d=%d below %v", l.Item, l.Opening, l.In, l.Issued, l.Adjusted, l.Closing, l.BelowReorder))
	}
	want := []string{"A4 paper 12+20-5-2=25 below true", "pens 0+0-0+0=0 below false", "toner 3+0-0+0=3 below false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	if len(rep.Movements) != 3 || rep.From != "2026-12-01T00:00:00+08:00" || rep.To != "2027-01-01T00:00:00+08:00" {
		t.Errorf("movements %d, from %s, to %s", len(rep.Movements), rep.From, rep.To)
	}
}

func TestInventoryJSONAndCSV(t *testing.T) {
	for _, tt := range []struct{ format, lang, table, file string }{
		{"json", "", "", "inventory.json.golden"},
		{"csv", "", "", "inventory.zh-CN.csv.golden"},
		{"csv", "en", "", "inventory.en.csv.golden"},
		{"csv", "zh-CN", "movements", "movements.zh-CN.csv.golden"},
		{"csv", "en", "movements", "movements.en.csv.golden"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := sample().Write(&buf, tt.format, tt.lang, tt.table); err != nil {
				t.Fatal(err)
			}
			if tt.format == "json" && !json.Valid(buf.Bytes()) {
				t.Fatal("invalid JSON")
			}
			if tt.format == "csv" && !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
				t.Error("csv without a byte order mark")
			}
			golden(t, tt.file, buf.Bytes())
		})
	}
}

// TestInventoryXLSX opens each workbook with excelize and compares every
// sheet's cells, and the type of the number cells, with a golden text.
func TestInventoryXLSX(t *testing.T) {
	for _, lang := range reports.Languages {
		t.Run(lang, func(t *testing.T) {
			var buf bytes.Buffer
			if err := sample().Write(&buf, "xlsx", lang, ""); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out strings.Builder
			for _, sheet := range f.GetSheetList() {
				fmt.Fprintf(&out, "== %s\n", sheet)
				rows, err := f.GetRows(sheet)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					out.WriteString(strings.Join(r, " | ") + "\n")
				}
			}
			typ, err := f.GetCellType(f.GetSheetList()[0], "J2") // closing stock of the first item
			if err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
				t.Errorf("J2 has type %v (%v); want a number", typ, err)
			}
			golden(t, "inventory."+lang+".xlsx.golden", []byte(out.String()))
		})
	}
}

func TestInventoryWriteRefusesUnknown(t *testing.T) {
	for _, tt := range []struct{ format, lang, table, want string }{
		{"pdf", "", "", `format: must be one of json, csv, xlsx, got "pdf"`},
		{"csv", "fr", "", `lang: must be one of zh-CN, en, got "fr"`},
		{"csv", "en", "tasks", `table: must be one of items, movements, got "tasks"`},
	} {
		err := sample().Write(&bytes.Buffer{}, tt.format, tt.lang, tt.table)
		if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
			t.Errorf("Write(%s, %s, %s) = %v, want %q", tt.format, tt.lang, tt.table, err, tt.want)
		}
	}
}
