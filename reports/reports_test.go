package reports_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/reports"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// asOf is noon of 1 July 2026 in UTC+8: 182 of 365 days gone.
var asOf = time.Date(2026, 7, 1, 4, 0, 0, 0, time.UTC)

func names(t *testing.T) reports.Names {
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	return reports.OrgNames(org)
}

func budgetReport(t *testing.T) reports.BudgetReport {
	lines := []projections.BudgetLineRow{
		// Within: 4 000.00 spent, 2 000.00 committed of 10 000.00 + 1 000.00.
		{Year: 2026, Department: "MKT", Category: "office_supplies", Currency: "CNY", Control: "stop", ToleranceBP: 500,
			Planned: 1_000_000, Adjusted: 100_000, Reserved: 800_000, Released: 50_000, Consumed: 400_000, ActivatedBy: "BU-2026-000001"},
		// Overrun: 5 300.00 spent of 5 000.00 (6 %), in the band of a warn line.
		{Year: 2026, Department: "MKT", Category: "travel", Currency: "CNY", Control: "warn", ToleranceBP: 500,
			Planned: 500_000, Reserved: 530_000, Consumed: 530_000, ActivatedBy: "BU-2026-000001"},
		// Nothing spent yet.
		{Year: 2026, Department: "ADM", Category: "facilities", Currency: "CNY", Control: "stop", ToleranceBP: 0,
			Planned: 2_000_000, ActivatedBy: "BU-2026-000001"},
		{Year: 2025, Department: "ADM", Category: "facilities", Currency: "CNY", Control: "stop", Planned: 1, ActivatedBy: "BU-2025-000001"},
	}
	months := []projections.BudgetMonthRow{
		{Department: "MKT", Category: "office_supplies", Month: 3, Reserved: 500_000, Consumed: 0},
		{Department: "MKT", Category: "office_supplies", Month: 5, Adjusted: 100_000, Reserved: 300_000, Released: 50_000, Consumed: 400_000},
		{Department: "MKT", Category: "travel", Month: 6, Reserved: 530_000, Consumed: 530_000},
	}
	return reports.NewBudgetReport(2026, asOf, lines, months, names(t))
}

func purchasePlan(t *testing.T) reports.PurchasePlan {
	return reports.NewPurchasePlan(2026, asOf, []projections.PurchasePlanRow{
		{Department: "MKT", Category: "office_supplies", Month: 3, Currency: "CNY", Requested: 3, RequestedTotal: 900_000,
			Approved: 2, ApprovedTotal: 600_000, Ordered: 2, OrderedTotal: 580_000, Received: 1, ReceivedTotal: 300_000, InvoicedTotal: 290_000},
		{Department: "ADM", Category: "equipment", Month: 6, Currency: "CNY", Requested: 1, RequestedTotal: 5_000_000},
	}, names(t))
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// workbook opens an XLSX with excelize and returns every sheet's rows and
// the number format of the cells that carry one, as JSON.
func workbook(t *testing.T, b []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("excelize cannot open the workbook: %v", err)
	}
	defer f.Close()
	type sheet struct {
		Name    string
		Rows    [][]string
		Formats map[string]int `json:",omitempty"`
	}
	var out []sheet
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		s := sheet{Name: name, Rows: rows, Formats: map[string]int{}}
		// The formats of the second row: money, percentages.
		if len(rows) > 1 {
			for c := range rows[1] {
				cell, _ := excelize.CoordinatesToCellName(c+1, 2)
				id, err := f.GetCellStyle(name, cell)
				if err != nil {
					t.Fatal(err)
				}
				st, err := f.GetStyle(id)
				if err != nil {
					t.Fatal(err)
				}
				if st.NumFmt != 0 {
					s.Formats[cell] = st.NumFmt
				}
			}
		}
		out = append(out, s)
	}
	j, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(j, '\n')
}

func write(t *testing.T, w interface {
	Write(*bytes.Buffer, string, string) error
}, format, lang string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := w.Write(&buf, format, lang); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type budgetWriter struct{ r reports.BudgetReport }

func (w budgetWriter) Write(b *bytes.Buffer, f, l string) error { return w.r.Write(b, f, l) }

type planWriter struct{ p reports.PurchasePlan }

func (w planWriter) Write(b *bytes.Buffer, f, l string) error { return w.p.Write(b, f, l) }

func TestBudgetReportGolden(t *testing.T) {
	r := budgetReport(t)
	w := budgetWriter{r}
	golden(t, "budget_report.json", write(t, w, "json", "zh-CN"))
	for _, lang := range reports.Languages {
		golden(t, "budget_report."+lang+".csv", write(t, w, "csv", lang))
		golden(t, "budget_report."+lang+".xlsx.json", workbook(t, write(t, w, "xlsx", lang)))
	}

	// The figures the golden files hold, checked by hand.
	office, travel, facilities := r.Lines[0], r.Lines[1], r.Lines[2]
	if office.Category != "office_supplies" || office.Plan != 1_100_000 || office.Committed != 350_000 || office.Actual != 400_000 ||
		office.Available != 350_000 || office.Utilization != 0.6818 || office.Overrun != 0 || office.Status != houqin.BudgetWithin {
		t.Errorf("office supplies = %+v", office)
	}
	// Run rate: 4 000.00 in 182 days → 8 021.97 by year end; more than
	// actual + committed (7 500.00).
	if office.Forecast != 802_197 {
		t.Errorf("office forecast = %d, want 802197", office.Forecast)
	}
	if travel.Overrun != 0.06 || travel.Status != houqin.BudgetWarn || travel.Forecast != 1_062_912 || travel.ForecastOverrun != 1.1258 {
		t.Errorf("travel = %+v", travel)
	}
	if facilities.Forecast != 0 || facilities.Status != houqin.BudgetWithin || facilities.DepartmentName.Zh != "行政后勤部" {
		t.Errorf("facilities = %+v", facilities)
	}
	if r.Total.Plan != 3_600_000 || r.Total.Actual != 930_000 || len(r.Lines) != 3 {
		t.Errorf("total = %+v over %d lines", r.Total, len(r.Lines))
	}
	if m := r.Months[1]; m.CumulativeActual != 400_000 || m.Committed != -150_000 {
		t.Errorf("May = %+v", m)
	}
}

func TestPurchasePlanGolden(t *testing.T) {
	w := planWriter{purchasePlan(t)}
	golden(t, "purchase_plan.json", write(t, w, "json", "zh-CN"))
	for _, lang := range reports.Languages {
		golden(t, "purchase_plan."+lang+".csv", write(t, w, "csv", lang))
		golden(t, "purchase_plan."+lang+".xlsx.json", workbook(t, write(t, w, "xlsx", lang)))
	}
}

func TestReportFormats(t *testing.T) {
	var buf bytes.Buffer
	if err := budgetReport(t).Write(&buf, "pdf", "zh-CN"); houqin.ErrorMessage(err) != `format: must be one of json, csv, xlsx, got "pdf"` {
		t.Errorf("pdf: %v", err)
	}
	if err := purchasePlan(t).Write(&buf, "csv", "fr"); houqin.ErrorMessage(err) != `lang: must be one of zh-CN, en, got "fr"` {
		t.Errorf("fr: %v", err)
	}
}
