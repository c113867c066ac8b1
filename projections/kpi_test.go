package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// utc is a moment of 2026 in UTC; the KPIs count days in Asia/Shanghai
// (UTC+8), so 2026-06-30T20:00Z is already 1 July there.
func utc(month, day, hour int) time.Time {
	return time.Date(2026, time.Month(month), day, hour, 0, 0, 0, time.UTC)
}

// kpiLog appends a known set of events whose KPIs docs/KPI.md's rules
// give by hand (see TestKPIGolden for the arithmetic).
func kpiLog(t *testing.T, s houqin.EventStore) {
	t.Helper()
	n := 0
	add := func(stream string, at time.Time, data houqin.EventData) {
		t.Helper()
		n++
		e, err := houqin.NewEvent(houqin.EventID("kpilog", fmt.Sprint(n)), data, houqin.Metadata{Actor: "test", OccurredAt: at})
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustAppend(t, s, stream, houqin.ExpectAny, e)
	}
	submit := func(id, dept, neededBy string, at time.Time) {
		req := houqin.ProcurementRequest{Department: dept, BudgetCategory: "office_supplies", Reason: "kpi " + id, NeededBy: neededBy,
			Items: []houqin.ProcurementItem{{Name: "paper", Quantity: 1, Unit: "box", UnitPrice: 100}}}
		add(houqin.ProcurementStream(id), at, houqin.RequisitionSubmitted{ProcessID: id, Requester: "wang.fang", Request: req, Total: 100, Currency: "CNY"})
	}
	task := func(pid, tid string, opened, due time.Time) {
		add(houqin.ProcurementStream(pid), opened, houqin.TaskOpened{Task: houqin.Task{ID: tid, ProcessID: pid, Kind: houqin.KindProcurement,
			Step: "s", Assignees: []string{"li.na"}, DueAt: due, Actions: []string{"complete"}}})
	}
	done := func(pid, tid string, at time.Time) {
		add(houqin.ProcurementStream(pid), at, houqin.TaskCompleted{TaskID: tid, Step: "s", Action: "complete", Actor: "li.na"})
	}

	// P1 (MKT), due at the end of 20 June in Shanghai = 2026-06-20T16:00Z.
	submit("P1", "MKT", "2026-06-20", utc(6, 1, 4))
	task("P1", "P1.t1", utc(6, 1, 4), utc(6, 2, 4))
	done("P1", "P1.t1", utc(6, 1, 10)) // on time
	task("P1", "P1.t2", utc(6, 1, 10), utc(6, 3, 4))
	done("P1", "P1.t2", utc(6, 4, 4))                                                // late
	task("P1", "P1.t3", utc(6, 4, 4), utc(6, 29, 4))                                 // open across the month's end,
	done("P1", "P1.t3", utc(7, 2, 4))                                                // done in July: late in June
	add(houqin.ProcurementStream("P1"), utc(7, 2, 5), houqin.ProcurementCompleted{}) // P1 late in June

	// P2 (FIN), due 10 July: still running.
	submit("P2", "FIN", "2026-07-10", utc(6, 25, 4))
	task("P2", "P2.t4", utc(6, 25, 4), utc(6, 30, 20)) // due 1 July in Shanghai; open: late in July
	task("P2", "P2.t5", utc(6, 25, 4), utc(6, 28, 4))
	add(houqin.ProcurementStream("P2"), utc(6, 27, 4), houqin.TaskCancelled{TaskID: "P2.t5", Reason: "superseded"}) // before due: not counted
	task("P2", "P2.t6", utc(6, 25, 4), utc(6, 30, 4))                                                               // open past due: late in June

	// P3 (MKT) withdrawn before its task and itself were due: neither counts.
	submit("P3", "MKT", "2026-06-10", utc(6, 5, 4))
	task("P3", "P3.t7", utc(6, 5, 4), utc(6, 8, 4))
	add(houqin.ProcurementStream("P3"), utc(6, 7, 4), houqin.ProcessWithdrawn{By: "wang.fang"})

	// P4 (ADM) withdrawn after its due time (15 June): late.
	submit("P4", "ADM", "2026-06-15", utc(6, 2, 4))
	add(houqin.ProcurementStream("P4"), utc(6, 20, 4), houqin.ProcessWithdrawn{By: "wang.fang"})

	// Surveys.
	sent := func(id, dept string, kind houqin.ProcessKind, at time.Time) {
		add(houqin.SurveyStream(id), at, houqin.SurveySent{ProcessID: id, Requester: "wang.fang", Respondent: "wang.fang",
			Service: houqin.SurveyService{ID: "x", Kind: kind, Department: dept}})
	}
	sent("SV-1", "MKT", houqin.KindProcurement, utc(6, 5, 4))
	add(houqin.SurveyStream("SV-1"), utc(6, 6, 4), houqin.SurveyAnswered{Respondent: "wang.fang", Score: 5})
	add(houqin.SurveyStream("SV-1"), utc(6, 6, 4), houqin.SurveyClosed{Answered: true, Reason: "answered"})
	sent("SV-2", "MKT", houqin.KindProcurement, utc(6, 10, 4))
	add(houqin.SurveyStream("SV-2"), utc(6, 11, 4), houqin.SurveyAnswered{Respondent: "wang.fang", Score: 3})
	sent("SV-3", "FIN", houqin.KindTrip, utc(6, 12, 4)) // no answer
	add(houqin.SurveyStream("SV-3"), utc(6, 15, 4), houqin.SurveyReminded{Respondent: "chen.jing"})
	add(houqin.SurveyStream("SV-3"), utc(6, 19, 4), houqin.SurveyClosed{Answered: false, Reason: "expired"})
	sent("SV-4", "HR", houqin.ServiceCampaign, utc(6, 28, 4))
	add(houqin.SurveyStream("SV-4"), utc(6, 30, 17), houqin.SurveyAnswered{Respondent: "zhao.lei", Score: 4}) // 1 July in Shanghai

	// Deliverables.
	review := func(pid, doc, outcome, dept string, at time.Time) {
		add(houqin.DeliverableStream(pid), at, houqin.DeliverableReviewed{ProcessID: pid, Kind: "report", Document: doc, Title: doc,
			Outcome: outcome, Reviewer: "zhang.wei", Department: dept})
	}
	review("P1", "D1", houqin.OutcomeAccepted, "MKT", utc(6, 10, 4))
	review("P1", "D2", houqin.OutcomeMinorIssues, "MKT", utc(6, 11, 4))
	review("P4", "D3", houqin.OutcomeMajorError, "", utc(6, 12, 4)) // department from P4: ADM

	// Budget lines of 2026.
	mkt, fin := houqin.BudgetLineStream(2026, "MKT", "office_supplies"), houqin.BudgetLineStream(2026, "FIN", "travel")
	add(mkt, utc(1, 5, 4), houqin.BudgetLinePlanned{Year: 2026, Department: "MKT", Category: "office_supplies", Amount: 100000, Currency: "CNY", ToleranceBP: 500, Control: "warn"})
	add(mkt, utc(3, 1, 4), houqin.BudgetAdjusted{ProcessID: "BU-1", Delta: 10000, Reason: "more"})
	add(mkt, utc(5, 9, 4), houqin.BudgetReserved{ProcessID: "P1", Amount: 150000})
	add(mkt, utc(5, 10, 4), houqin.BudgetConsumed{ProcessID: "P1", Amount: 60000, Document: "INV-1"})
	add(mkt, utc(6, 15, 4), houqin.BudgetConsumed{ProcessID: "P1", Amount: 60000, Document: "INV-2"})
	add(mkt, utc(6, 16, 4), houqin.BudgetReleased{ProcessID: "P1", Amount: 20000, Reason: "unspent"})
	add(fin, utc(1, 5, 4), houqin.BudgetLinePlanned{Year: 2026, Department: "FIN", Category: "travel", Amount: 200000, Currency: "CNY", ToleranceBP: 500, Control: "stop"})
	add(fin, utc(6, 19, 4), houqin.BudgetReserved{ProcessID: "TR-1", Amount: 50000})
	add(fin, utc(6, 20, 4), houqin.BudgetConsumed{ProcessID: "TR-1", Amount: 50000, Document: "R-1"})
	add(fin, utc(7, 3, 4), houqin.BudgetConsumed{ProcessID: "TR-2", Amount: 5000, Document: "R-2"}) // after June
}

// scorecard is what the golden test compares: per KPI, its numbers.
type scorecard map[string]string

func card(r projections.KPIReport) scorecard {
	out := scorecard{}
	f := func(v *float64) string {
		if v == nil {
			return "null"
		}
		return fmt.Sprintf("%.4f", *v)
	}
	for _, k := range r.KPIs {
		s := fmt.Sprintf("%s=%d/%d %s target %s%.2f", f(k.Value), k.Numerator, k.Denominator, k.Status, k.Comparison, k.Target)
		for _, p := range k.Trend {
			s += fmt.Sprintf(" | %s %d/%d", p.Month, p.Numerator, p.Denominator)
		}
		for _, w := range k.Worst {
			s += fmt.Sprintf(" | worst %s:%s %d/%d -%d", w.Dimension, w.Key, w.Numerator, w.Denominator, w.Misses)
		}
		out[k.Name] = s
		out[k.Name+".details"] = fmt.Sprint(k.Details)
	}
	return out
}

// TestKPIGolden computes the KPIs of kpiLog, on SQLite and PostgreSQL,
// and compares them with values computed by hand:
//
// On time in June (judged on 5 July): P1.t1 on time; P1.t2 late; P1.t3 late
// (due 29 June, done 2 July); P1 late (due 20 June, completed 2 July);
// P2.t6 late (open, due 30 June); P4 late (withdrawn after its due time);
// P2.t5 and P3's task and P3 itself were cancelled before their due times
// and do not count; P2.t4 falls due on 1 July in Shanghai. 1/6.
// MKT 1/4 (3 misses), FIN 0/1, ADM 0/1. July: P2.t4 open past due, 0/1.
//
// Satisfaction in June: SV-1 5 (satisfied), SV-2 3; SV-3 closed without
// an answer does not count; SV-4's answer falls on 1 July. 1/2.
//
// Deliverables in June: accepted, minor issues, major error (ADM): 2/3.
//
// Budget to the end of June: MKT plan 100,000 + 10,000, actual 120,000;
// FIN plan 200,000, actual 50,000 (the July receipt is after June).
// Σ plan 310,000, Σ actual 170,000: no overrun overall; MKT alone overruns
// by 10,000/110,000.
func TestKPIGolden(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		kpiLog(t, b.store)
		// Batches of 1, 7 and 1,000 events: items open and close within a
		// batch or across batches.
		for _, batch := range []int{1, 7, 1000} {
			t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
				r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.KPI{}},
					projections.Options{BatchSize: batch, RebuildBatchSize: batch})
				if err := r.Rebuild(ctx, "kpi", nil, 0); err != nil {
					t.Fatal(err)
				}
				checkKPIGolden(t, b)
			})
		}
	})
}

func checkKPIGolden(t *testing.T, b backend) {
	{
		ctx := context.Background()
		cst := houqin.DefaultKPIConfig().Location()
		day := func(m, d int) time.Time { return time.Date(2026, time.Month(m), d, 0, 0, 0, 0, cst) }
		compute := func(q projections.KPIQuery) scorecard {
			t.Helper()
			q.Config = houqin.DefaultKPIConfig()
			rep, err := projections.ComputeKPIs(ctx, b.db, q)
			if err != nil {
				t.Fatal(err)
			}
			return card(rep)
		}
		now := utc(7, 5, 4)
		for _, tt := range []struct {
			name string
			q    projections.KPIQuery
			want scorecard
		}{
			{"june", projections.KPIQuery{From: day(6, 1), To: day(7, 1), Now: now}, scorecard{
				"satisfaction":                "0.5000=1/2 fail target >=0.85 | 2026-06 1/2 | worst department:MKT 1/2 -1 | worst kind:procurement 1/2 -1",
				"satisfaction.details":        "map[answered:2 satisfied:1 score_sum:8 sent:4 unanswered_closed:1]",
				"on_time":                     "0.1667=1/6 fail target >=0.90 | 2026-06 1/6 | worst department:MKT 1/4 -3 | worst department:ADM 0/1 -1 | worst department:FIN 0/1 -1 | worst kind:procurement 1/6 -5",
				"on_time.details":             "map[late:5 late_open:1 on_time:1 processes:2 tasks:4]",
				"budget_overrun":              "0.0000=0/310000 pass target <=0.05 | 2026-06 0/310000 | worst department:MKT 10000/110000 -10000 | worst budget_line:2026-MKT-office_supplies 10000/110000 -10000",
				"budget_overrun.details":      "map[actual:170000 available:130000 committed:10000 plan:310000 released:20000 reserved:200000]",
				"deliverable_quality":         "0.6667=2/3 fail target >=1.00 | 2026-06 2/3 | worst department:ADM 0/1 -1 | worst kind:procurement 2/3 -1",
				"deliverable_quality.details": "map[accepted:1 major_error:1 minor_issues:1 reviewed:3]",
			}},
			{"july", projections.KPIQuery{From: day(7, 1), To: day(8, 1), Now: now}, scorecard{
				"satisfaction":                "1.0000=1/1 pass target >=0.85 | 2026-07 1/1",
				"satisfaction.details":        "map[answered:1 satisfied:1 score_sum:4 sent:0 unanswered_closed:0]",
				"on_time":                     "0.0000=0/1 fail target >=0.90 | 2026-07 0/1 | worst department:FIN 0/1 -1 | worst kind:procurement 0/1 -1",
				"on_time.details":             "map[late:1 late_open:1 on_time:0 processes:0 tasks:1]",
				"budget_overrun":              "0.0000=0/310000 pass target <=0.05 | 2026-07 0/310000 | worst department:MKT 10000/110000 -10000 | worst budget_line:2026-MKT-office_supplies 10000/110000 -10000",
				"budget_overrun.details":      "map[actual:175000 available:130000 committed:5000 plan:310000 released:20000 reserved:200000]",
				"deliverable_quality":         "null=0/0 no_data target >=1.00 | 2026-07 0/0",
				"deliverable_quality.details": "map[accepted:0 major_error:0 minor_issues:0 reviewed:0]",
			}},
			{"mkt in june", projections.KPIQuery{From: day(6, 1), To: day(7, 1), Now: now, Department: "MKT"}, scorecard{
				"satisfaction":                "0.5000=1/2 fail target >=0.85 | 2026-06 1/2 | worst department:MKT 1/2 -1 | worst kind:procurement 1/2 -1",
				"satisfaction.details":        "map[answered:2 satisfied:1 score_sum:8 sent:2 unanswered_closed:0]",
				"on_time":                     "0.2500=1/4 fail target >=0.90 | 2026-06 1/4 | worst department:MKT 1/4 -3 | worst kind:procurement 1/4 -3",
				"on_time.details":             "map[late:3 late_open:0 on_time:1 processes:1 tasks:3]",
				"budget_overrun":              "0.0909=10000/110000 fail target <=0.05 | 2026-06 10000/110000 | worst department:MKT 10000/110000 -10000 | worst budget_line:2026-MKT-office_supplies 10000/110000 -10000",
				"budget_overrun.details":      "map[actual:120000 available:-20000 committed:10000 plan:110000 released:20000 reserved:150000]",
				"deliverable_quality":         "1.0000=2/2 pass target >=1.00 | 2026-06 2/2",
				"deliverable_quality.details": "map[accepted:1 major_error:0 minor_issues:1 reviewed:2]",
			}},
			// Day rows at both edges and a whole month in between.
			{"15 May to 3 July", projections.KPIQuery{From: day(5, 15), To: day(7, 4), Now: now}, scorecard{
				"satisfaction":                "0.6667=2/3 fail target >=0.85 | 2026-05 0/0 | 2026-06 1/2 | 2026-07 1/1 | worst department:MKT 1/2 -1 | worst kind:procurement 1/2 -1",
				"satisfaction.details":        "map[answered:3 satisfied:2 score_sum:12 sent:4 unanswered_closed:1]",
				"on_time":                     "0.1429=1/7 fail target >=0.90 | 2026-05 0/0 | 2026-06 1/6 | 2026-07 0/1 | worst department:MKT 1/4 -3 | worst department:FIN 0/2 -2 | worst department:ADM 0/1 -1 | worst kind:procurement 1/7 -6",
				"on_time.details":             "map[late:6 late_open:2 on_time:1 processes:2 tasks:5]",
				"budget_overrun":              "0.0000=0/310000 pass target <=0.05 | 2026-05 0/310000 | 2026-06 0/310000 | 2026-07 0/310000 | worst department:MKT 10000/110000 -10000 | worst budget_line:2026-MKT-office_supplies 10000/110000 -10000",
				"budget_overrun.details":      "map[actual:175000 available:130000 committed:5000 plan:310000 released:20000 reserved:200000]",
				"deliverable_quality":         "0.6667=2/3 fail target >=1.00 | 2026-05 0/0 | 2026-06 2/3 | 2026-07 0/0 | worst department:ADM 0/1 -1 | worst kind:procurement 2/3 -1",
				"deliverable_quality.details": "map[accepted:1 major_error:1 minor_issues:1 reviewed:3]",
			}},
			// Days only, within June: P4 fell due on 16 June (Shanghai),
			// P1 on 21 June; SV-3 expired on 19 June.
			{"5 to 20 June", projections.KPIQuery{From: day(6, 5), To: day(6, 21), Now: now}, scorecard{
				"satisfaction":         "0.5000=1/2 fail target >=0.85 | 2026-06 1/2 | worst department:MKT 1/2 -1 | worst kind:procurement 1/2 -1",
				"satisfaction.details": "map[answered:2 satisfied:1 score_sum:8 sent:3 unanswered_closed:1]",
				// P1, needed by 20 June, counts on 20 June (its due time is
				// 21 June 00:00): late, with P4.
				"on_time":                     "0.0000=0/2 fail target >=0.90 | 2026-06 0/2 | worst department:ADM 0/1 -1 | worst department:MKT 0/1 -1 | worst kind:procurement 0/2 -2",
				"on_time.details":             "map[late:2 late_open:0 on_time:0 processes:2 tasks:0]",
				"budget_overrun":              "0.0000=0/310000 pass target <=0.05 | 2026-06 0/310000 | worst department:MKT 10000/110000 -10000 | worst budget_line:2026-MKT-office_supplies 10000/110000 -10000",
				"budget_overrun.details":      "map[actual:170000 available:130000 committed:10000 plan:310000 released:20000 reserved:200000]",
				"deliverable_quality":         "0.6667=2/3 fail target >=1.00 | 2026-06 2/3 | worst department:ADM 0/1 -1 | worst kind:procurement 2/3 -1",
				"deliverable_quality.details": "map[accepted:1 major_error:1 minor_issues:1 reviewed:3]",
			}},
			{"no data in 2025", projections.KPIQuery{From: time.Date(2025, 1, 1, 0, 0, 0, 0, cst), To: time.Date(2025, 3, 1, 0, 0, 0, 0, cst), Now: now}, scorecard{
				"satisfaction":                "null=0/0 no_data target >=0.85 | 2025-01 0/0 | 2025-02 0/0",
				"satisfaction.details":        "map[answered:0 satisfied:0 score_sum:0 sent:0 unanswered_closed:0]",
				"on_time":                     "null=0/0 no_data target >=0.90 | 2025-01 0/0 | 2025-02 0/0",
				"on_time.details":             "map[late:0 late_open:0 on_time:0 processes:0 tasks:0]",
				"budget_overrun":              "null=0/0 no_data target <=0.05 | 2025-01 0/0 | 2025-02 0/0",
				"budget_overrun.details":      "map[actual:0 available:0 committed:0 plan:0 released:0 reserved:0]",
				"deliverable_quality":         "null=0/0 no_data target >=1.00 | 2025-01 0/0 | 2025-02 0/0",
				"deliverable_quality.details": "map[accepted:0 major_error:0 minor_issues:0 reviewed:0]",
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, compute(tt.q)); diff != "" {
					t.Errorf("KPIs (-want +got):\n%s", diff)
				}
			})
		}

		// Judged on 30 June 00:00Z with every event applied: P2.t6 (due
		// 30 June 04:00Z) is not late yet, so June has 5 items, 1 on time.
		got := compute(projections.KPIQuery{From: day(6, 1), To: day(7, 1), Now: utc(6, 30, 0)})["on_time"]
		if want := "0.2000=1/5 fail target >=0.90 | 2026-06 1/5 | worst department:MKT 1/4 -3 | worst department:ADM 0/1 -1 | worst kind:procurement 1/5 -4"; got != want {
			t.Errorf("on time judged on 30 June:\n got %s\nwant %s", got, want)
		}
		// An hour after P2.t6 fell due, on the same day: late.
		got = compute(projections.KPIQuery{From: day(6, 1), To: day(7, 1), Now: utc(6, 30, 5)})["on_time.details"]
		if want := "map[late:5 late_open:1 on_time:1 processes:2 tasks:4]"; got != want {
			t.Errorf("on time judged on 30 June 05:00Z: got %s, want %s", got, want)
		}
	}
}

// TestKPIGauges exports kpiLog's KPIs, year to date on 5 July, by hand:
// on time 1/7 overall (June's six items and P2.t4 due 1 July), MKT 1/4;
// satisfaction 2/3 (scores 5, 3 and 4); budget 0 overall, MKT
// 10,000/110,000; deliverables 2/3.
func TestKPIGauges(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		kpiLog(t, b.store)
		r := projections.NewRunner(b.store, b.db, []projections.Projection{projections.KPI{}}, projections.Options{})
		if err := r.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(projections.NewKPIGauges(b.db, houqin.DefaultKPIConfig(), func() time.Time { return utc(7, 5, 4) }, 0, nil))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.Metric {
				key := mf.GetName() + "{"
				for i, l := range m.Label {
					if i > 0 {
						key += ","
					}
					key += l.GetName() + "=" + l.GetValue()
				}
				got[key+"}"] = float64(int(m.GetGauge().GetValue()*10000+0.5)) / 10000
			}
		}
		for k, want := range map[string]float64{
			"houqin_kpi_on_time_ratio{department=all,kind=all}":                  0.1429,
			"houqin_kpi_on_time_ratio{department=MKT,kind=procurement}":          0.25,
			"houqin_kpi_on_time_ratio{department=MKT,kind=all}":                  0.25,
			"houqin_kpi_on_time_ratio{department=FIN,kind=all}":                  0,
			"houqin_kpi_satisfaction_ratio{department=all,kind=all}":             0.6667,
			"houqin_kpi_satisfaction_ratio{department=HR,kind=campaign}":         1,
			"houqin_kpi_budget_overrun_ratio{department=all}":                    0,
			"houqin_kpi_budget_overrun_ratio{department=MKT}":                    0.0909,
			"houqin_kpi_deliverable_quality_ratio{department=all,kind=all}":      0.6667,
			"houqin_kpi_denominator{department=all,kind=all,kpi=on_time}":        7,
			"houqin_kpi_denominator{department=all,kind=all,kpi=budget_overrun}": 310000,
			"houqin_kpi_target_ratio{kpi=satisfaction}":                          0.85,
		} {
			if v, ok := got[k]; !ok || v != want {
				t.Errorf("%s = %v (exported: %t), want %v", k, v, ok, want)
			}
		}
		if _, ok := got["houqin_kpi_satisfaction_ratio{department=FIN,kind=trip}"]; ok {
			t.Error("FIN's trip survey was never answered: no ratio is exported")
		}
	})
}
