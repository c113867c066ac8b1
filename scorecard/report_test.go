package scorecard_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/scorecard"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr(v float64) *float64 { return &v }

// june is a fixed report: June 2026 with each KPI's status.
func june() projections.KPIReport {
	cfg := houqin.DefaultKPIConfig()
	k := func(name string, v *float64, num, den int64, status string) projections.KPIValue {
		t := cfg.Targets[name]
		var pass *bool
		if status != "no_data" {
			p := status == "pass"
			pass = &p
		}
		return projections.KPIValue{Name: name, Title: houqin.KPITitles[name], Value: v, Numerator: num, Denominator: den,
			Target: t.Value, Comparison: t.Comparison, Pass: pass, Status: status,
			Trend:   []projections.KPIPoint{{Month: "2026-06", Value: v, Numerator: num, Denominator: den}},
			Worst:   []projections.KPIContributor{},
			Details: map[string]int64{"n": den}}
	}
	sat := k(houqin.KPISatisfaction, ptr(0.5), 1, 2, "fail")
	sat.Worst = []projections.KPIContributor{{Dimension: "department", Key: "MKT", Value: ptr(0.5), Numerator: 1, Denominator: 2, Misses: 1}}
	return projections.KPIReport{From: "2026-06-01", To: "2026-06-30", AsOf: time.Date(2026, 7, 5, 4, 0, 0, 0, time.UTC), Position: 42,
		KPIs: []projections.KPIValue{sat, k(houqin.KPIOnTime, ptr(0.95), 19, 20, "pass"),
			k(houqin.KPIBudgetOverrun, ptr(0), 0, 31000000, "pass"), k(houqin.KPIDeliverableQuality, nil, 0, 0, "no_data")}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// TestServiceQualityHTML renders the printable report in both languages
// against golden files.
func TestServiceQualityHTML(t *testing.T) {
	for _, lang := range scorecard.Langs {
		var buf bytes.Buffer
		if err := scorecard.ServiceQuality(&buf, june(), "html", lang); err != nil {
			t.Fatal(err)
		}
		golden(t, "service-quality."+lang+".html", buf.Bytes())
	}
}

// TestServiceQualityXLSX opens the spreadsheet and reads its summary.
func TestServiceQualityXLSX(t *testing.T) {
	for lang, want := range map[string][][]string{
		"zh-CN": {{"指标", "实际值", "分子", "分母", "目标", "结论"}, {"服务满意度", "50.0%", "1", "2", ">= 85.0%", "未达标"},
			{"任务按时完成率", "95.0%", "19", "20", ">= 90.0%", "达标"}, {"年度后勤费用超支率", "0.0%", "0.00", "310000.00", "<= 5.0%", "达标"},
			{"交付物无重大差错率", "—", "0", "0", ">= 100.0%", "无数据"}},
		"en": {{"KPI", "Value", "Numerator", "Denominator", "Target", "Result"}, {"Service satisfaction", "50.0%", "1", "2", ">= 85.0%", "Fail"}},
	} {
		var buf bytes.Buffer
		if err := scorecard.ServiceQuality(&buf, june(), "xlsx", lang); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		sheets := f.GetSheetList()
		rows, err := f.GetRows(sheets[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(sheets) != 5 || len(rows) < 5+len(want) {
			t.Fatalf("%s: sheets %v, %d rows", lang, sheets, len(rows))
		}
		if rows[0][0] != scorecard.L(lang, "quality.title") {
			t.Errorf("%s: title %q", lang, rows[0][0])
		}
		if diff := cmp.Diff(want, rows[5:5+len(want)]); diff != "" {
			t.Errorf("%s summary (-want +got):\n%s", lang, diff)
		}
		worst, _ := f.GetRows(sheets[2])
		if len(worst) != 2 || worst[1][2] != "MKT" {
			t.Errorf("%s worst: %v", lang, worst)
		}
		f.Close()
	}
}

// TestPlan renders the plan support with a budget line.
func TestPlan(t *testing.T) {
	var buf bytes.Buffer
	in := scorecard.PlanInput{Year: 2026, Config: houqin.DefaultKPIConfig(),
		Lines: []projections.KPIBudgetLine{{Department: "MKT", Category: "office_supplies", Plan: 11000000, Actual: 12000050, Currency: "CNY"}}}
	if err := scorecard.Plan(&buf, in, "html", "zh-CN"); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.zh-CN.html", buf.Bytes())
	if err := scorecard.Plan(&buf, in, "pdf", "en"); houqin.ErrorCode(err) != houqin.EINVALID {
		t.Errorf("pdf: %v", err)
	}
}
