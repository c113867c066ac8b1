package documents_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/documents"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 09:00 in Beijing

// events builds a stream from payloads, each a minute after the last.
type events struct {
	pos int64
	at  time.Time
}

func (s *events) stream(t *testing.T, name, correlation string, data ...houqin.EventData) []houqin.Event {
	t.Helper()
	var out []houqin.Event
	for i, d := range data {
		s.pos++
		s.at = s.at.Add(time.Minute)
		e, err := houqin.NewEvent(houqin.EventID(name, string(rune('a'+i))), d, houqin.Metadata{Actor: "system", CorrelationID: correlation, OccurredAt: s.at})
		if err != nil {
			t.Fatal(err)
		}
		e.Stream, e.Version, e.Position, e.RecordedAt = name, int64(i), s.pos, s.at
		out = append(out, e)
	}
	return out
}

// office is the office safety inspection of the issue: two findings, the
// second fails its first verification.
func office(t *testing.T) documents.Inspection {
	t.Helper()
	cls, err := houqin.ParseChecklists("checklists.yaml", config.DefaultChecklists())
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := cls.Checklist("fire_safety_monthly")
	req := houqin.InspectionRequest{Template: cl.ID, Location: "总部 5 楼 HQ 5F", Inspector: "li.na", ScheduledFor: "2026-12-01"}
	var results []houqin.ItemResult
	for _, it := range cl.Items {
		r := houqin.ItemResult{Item: it.ID, Result: houqin.ResultPass}
		switch it.ID {
		case "extinguishers":
			r = houqin.ItemResult{Item: it.ID, Result: houqin.ResultFail, Severity: houqin.SeverityHigh, Note: "两具灭火器压力不足", Photos: []string{"photo-501.jpg"}}
		case "exit_signs":
			r = houqin.ItemResult{Item: it.ID, Result: houqin.ResultFail, Severity: houqin.SeverityMedium, Note: "东侧疏散指示灯不亮"}
		case "access":
			r.Result = houqin.ResultNA
		}
		results = append(results, r)
	}
	f1 := houqin.Finding{ID: "IN-2026-000001-F1", InspectionID: "IN-2026-000001", Item: "extinguishers", Category: "fire",
		Severity: houqin.SeverityHigh, Note: "两具灭火器压力不足", Owners: []string{"wu.min"}, DueAt: t0.Add(72 * time.Hour)}
	f1.Text, _ = itemText(cl, "extinguishers")
	f2 := houqin.Finding{ID: "IN-2026-000001-F2", InspectionID: "IN-2026-000001", Item: "exit_signs", Category: "electrical",
		Severity: houqin.SeverityMedium, Note: "东侧疏散指示灯不亮", Owners: []string{"zheng.hao"}, DueAt: t0.Add(7 * 24 * time.Hour)}
	f2.Text, _ = itemText(cl, "exit_signs")
	s := &events{at: t0}
	insp := s.stream(t, houqin.InspectionStream("IN-2026-000001"), "IN-2026-000001",
		houqin.NewInspectionRequested("IN-2026-000001", "zhang.wei", req, cl, false),
		houqin.InspectionApproved{By: "system"},
		houqin.InspectionRecorded{Inspector: "li.na", Results: results, Summary: "5 楼两处问题，已当场告知", Failed: 2},
		houqin.FindingOpened{Finding: f1}, houqin.FindingOpened{Finding: f2})
	fs1 := s.stream(t, houqin.FindingStream(f1.ID), "IN-2026-000001",
		houqin.FindingAssigned{Finding: f1},
		houqin.FindingFixReported{FindingID: f1.ID, By: "wu.min", Report: houqin.FixReport{Note: "已更换两具灭火器"}, Round: 1},
		houqin.FindingVerified{FindingID: f1.ID, By: "li.na", Passed: true, Note: "合格", Round: 1},
		houqin.FindingResolved{FindingID: f1.ID, Rounds: 1})
	fs2 := s.stream(t, houqin.FindingStream(f2.ID), "IN-2026-000001",
		houqin.FindingAssigned{Finding: f2},
		houqin.FindingFixReported{FindingID: f2.ID, By: "zheng.hao", Report: houqin.FixReport{Note: "已更换灯管"}, Round: 1},
		houqin.FindingVerified{FindingID: f2.ID, By: "li.na", Passed: false, Note: "仍有一处不亮", Round: 1},
		houqin.FindingReopened{FindingID: f2.ID, Round: 2},
		houqin.FindingOverdue{FindingID: f2.ID, Added: []string{"zhang.wei"}},
		houqin.FindingFixReported{FindingID: f2.ID, By: "zheng.hao", Report: houqin.FixReport{Note: "更换整套应急灯"}, Round: 2},
		houqin.FindingVerified{FindingID: f2.ID, By: "li.na", Passed: true, Round: 2},
		houqin.FindingResolved{FindingID: f2.ID, Rounds: 2})
	insp = append(insp, s.stream(t, "x", "x", houqin.FindingClosed{FindingID: f1.ID, Rounds: 1}, houqin.FindingClosed{FindingID: f2.ID, Rounds: 2}, houqin.InspectionCompleted{Findings: 2})...)
	for i := range insp {
		insp[i].Stream = houqin.InspectionStream("IN-2026-000001")
	}
	in, err := documents.FoldInspection(insp, map[string][]houqin.Event{f1.ID: fs1, f2.ID: fs2})
	if err != nil {
		t.Fatal(err)
	}
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	in.Names = documents.NamesFrom(org)
	return in
}

func itemText(cl houqin.Checklist, id string) (houqin.Text, bool) {
	it, ok := cl.Item(id)
	return it.Text, ok
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
		t.Fatalf("%v (run go test ./documents -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// cells dumps every sheet of a workbook as tab-separated lines, each cell
// as shown; a cell stored otherwise (an amount, a number shown with two
// decimals) adds its stored value: "2592.00 (=2592)".
func cells(t *testing.T, b []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	for _, name := range f.GetSheetList() {
		out.WriteString("## " + name + "\n")
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			for j, c := range r {
				if j < len(raw[i]) && raw[i][j] != c {
					r[j] = c + " (=" + raw[i][j] + ")"
				}
			}
			out.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	return []byte(out.String())
}

func TestInspectionDocuments(t *testing.T) {
	in := office(t)
	if in.Status != houqin.StatusCompleted || len(in.Findings) != 2 || len(in.Findings[1].Rounds) != 2 || in.Findings[1].Status != "resolved" {
		t.Fatalf("folded %+v", in)
	}
	for _, tt := range []struct {
		name  string
		write func(*bytes.Buffer, string) error
	}{
		{"inspection_report", func(b *bytes.Buffer, f string) error { return documents.WriteInspectionReport(b, in, f) }},
		{"remediation", func(b *bytes.Buffer, f string) error { return documents.WriteRemediation(b, in, f) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var html, xlsx bytes.Buffer
			if err := tt.write(&html, documents.FormatHTML); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".golden.html", html.Bytes())
			if err := tt.write(&xlsx, documents.FormatXLSX); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".xlsx.golden.txt", cells(t, xlsx.Bytes()))
			if err := tt.write(&xlsx, "pdf"); houqin.ErrorCode(err) != houqin.EINVALID {
				t.Errorf("format pdf: %v, want EINVALID", err)
			}
		})
	}
}
