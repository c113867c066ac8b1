package documents_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/documents"
)

// tripFixture is wang.fang's trip of DESIGN.md under the default policy:
// the request, li.na's booking and a claim with one per-diem above its cap.
func tripFixture(t *testing.T) (houqin.KindPolicy, houqin.TripRequest, houqin.TripBooking, houqin.ExpenseClaim) {
	t.Helper()
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := p.Kind(houqin.KindTrip)
	if err != nil {
		t.Fatal(err)
	}
	req := houqin.TripRequest{Traveler: "wang.fang", Purpose: "客户拜访", BudgetCategory: "travel", EstimatedCost: 350000,
		Transport: "train", Lodging: true, Department: "MKT",
		Legs: []houqin.TripLeg{{From: "上海", To: "北京", Depart: "2026-12-10", Return: "2026-12-12"}}}
	booking := houqin.TripBooking{
		Transport: []houqin.TripBookingItem{{Description: "G2 上海→北京 12-10", Reference: "E12345", Amount: 55300},
			{Description: "G5 北京→上海 12-12", Reference: "E12346", Amount: 55300}},
		Lodging: []houqin.TripBookingItem{{Description: "北京饭店 2 晚", Reference: "H-889", Amount: 120000}},
	}
	claim := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{
		{Category: "per_diem", Amount: 15000, Date: "2026-12-10"},
		{Category: "per_diem", Amount: 20000, Date: "2026-12-11", Justification: "客户晚宴后加班"},
		{Category: "transport", Amount: 8600, Date: "2026-12-11", Receipt: "taxi-0311"},
	}}
	return kp, req, booking, claim
}

// beijingTrip is wang.fang's trip of DESIGN.md: approved by her manager,
// booked by li.na, claimed with one per-diem above its cap, reimbursed.
func beijingTrip(t *testing.T) []houqin.Event {
	t.Helper()
	kp, req, booking, claim := tripFixture(t)
	over, err := req.CheckClaim(claim, *kp.Travel)
	if err != nil {
		t.Fatal(err)
	}
	manager := houqin.Text{Zh: "直属上级审批", En: "Manager approval"}
	s := &events{at: t0}
	evs := s.stream(t, houqin.TripStream("TR-2026-000001"), "TR-2026-000001",
		houqin.NewTripRequested("TR-2026-000001", "wang.fang", "liu.yang", req),
		houqin.StepStarted{Step: "manager_approval", Name: manager},
		houqin.StepCompleted{Step: "manager_approval", Outcome: "approved", Approvals: []string{"liu.yang"}},
		houqin.TripApproved{By: "liu.yang"},
		houqin.TripBooked{By: "li.na", Booking: booking, Total: booking.Total()},
		houqin.TripDeparted{Day: "2026-12-10"}, houqin.TripReturned{Day: "2026-12-12"},
		houqin.TripClaimSubmitted{By: "wang.fang", Claim: claim, Total: claim.Total(), OverCap: over, Caps: req.LineCaps(claim, *kp.Travel), Round: 1},
		houqin.StepStarted{Step: "claim_over_cap", Name: houqin.Text{Zh: "超标准费用审批", En: "Approval of expenses above the caps"}},
		houqin.StepCompleted{Step: "claim_over_cap", Outcome: "approved", Approvals: []string{"liu.yang"}},
		houqin.StepStarted{Step: "claim_finance", Name: houqin.Text{Zh: "财务审核报销", En: "Finance approves the claim"}},
		houqin.StepCompleted{Step: "claim_finance", Outcome: "approved", Approvals: []string{"chen.jing"}},
		houqin.TripReimbursed{By: "chen.jing", Claim: claim.Total(), Bookings: booking.Total(), Actual: claim.Total() + booking.Total(),
			Released: 350000 - claim.Total() - booking.Total(), Currency: "CNY"},
		houqin.TripCompleted{})
	return evs
}

func TestTripDocuments(t *testing.T) {
	evs := beijingTrip(t)
	tr, err := documents.FoldTrip(evs)
	if err != nil {
		t.Fatal(err)
	}
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	tr.Names = documents.NamesFrom(org)
	if tr.Status != houqin.StatusCompleted || len(tr.Approvals) != 1 || len(tr.ClaimApprovals) != 2 || !tr.Lines[1].Over ||
		tr.Lines[0].Cap != 15000 || tr.Lines[2].Cap != 0 || tr.Reimbursed == nil {
		t.Fatalf("folded %+v", tr)
	}
	for _, tt := range []struct {
		name  string
		write func(*bytes.Buffer, string) error
	}{
		{"trip_confirmation", func(b *bytes.Buffer, f string) error { return documents.WriteTripConfirmation(b, tr, f) }},
		{"expense_claim", func(b *bytes.Buffer, f string) error { return documents.WriteExpenseClaim(b, tr, f) }},
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
	// Before the booking there is no letter, before the claim no form.
	early, err := documents.FoldTrip(evs[:4])
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := documents.WriteTripConfirmation(&b, early, documents.FormatHTML); houqin.ErrorCode(err) != houqin.ENOTALLOWED {
		t.Errorf("letter before the booking: %v, want ENOTALLOWED", err)
	}
	if err := documents.WriteExpenseClaim(&b, early, documents.FormatHTML); houqin.ErrorCode(err) != houqin.ENOTALLOWED {
		t.Errorf("claim form before the claim: %v, want ENOTALLOWED", err)
	}
}

// amendedTrip is beijingTrip submitted by li.na for wang.fang, whose claim
// finance returned once the over-cap line was approved: she resubmitted it
// without the taxi and with the per-diem down to its cap.
func amendedTrip(t *testing.T) []houqin.Event {
	t.Helper()
	kp, req, booking, claim := tripFixture(t)
	over, err := req.CheckClaim(claim, *kp.Travel)
	if err != nil {
		t.Fatal(err)
	}
	amended := houqin.ExpenseClaim{Lines: []houqin.ClaimLine{claim.Lines[0],
		{Category: "per_diem", Amount: 15000, Date: "2026-12-11"}}, Note: "按标准报销，出租车票遗失"}
	raw, err := json.Marshal(amended)
	if err != nil {
		t.Fatal(err)
	}
	overCap := houqin.Text{Zh: "超标准费用审批", En: "Approval of expenses above the caps"}
	finance := houqin.Text{Zh: "财务审核报销", En: "Finance approves the claim"}
	s := &events{at: t0}
	return s.stream(t, houqin.TripStream("TR-2026-000002"), "TR-2026-000002",
		houqin.NewTripRequested("TR-2026-000002", "li.na", "liu.yang", req),
		houqin.StepStarted{Step: "manager_approval", Name: houqin.Text{Zh: "直属上级审批", En: "Manager approval"}},
		houqin.StepCompleted{Step: "manager_approval", Outcome: "approved", Approvals: []string{"liu.yang"}},
		houqin.TripApproved{By: "liu.yang"},
		houqin.TripBooked{By: "li.na", Booking: booking, Total: booking.Total()},
		houqin.TripDeparted{Day: "2026-12-10"}, houqin.TripReturned{Day: "2026-12-12"},
		houqin.TripClaimSubmitted{By: "wang.fang", Claim: claim, Total: claim.Total(), OverCap: over, Caps: req.LineCaps(claim, *kp.Travel), Round: 1},
		houqin.StepStarted{Step: "claim_over_cap", Name: overCap},
		houqin.StepCompleted{Step: "claim_over_cap", Outcome: "approved", Approvals: []string{"liu.yang"}},
		houqin.StepStarted{Step: "claim_finance", Name: finance},
		houqin.StepCompleted{Step: "claim_finance", Outcome: "returned"},
		houqin.ProcessReturned{By: "chen.jing", FromStep: "claim_finance", Comment: "出租车票缺失；超标准需附证明"},
		houqin.ProcessResubmitted{By: "wang.fang", Request: raw},
		houqin.TripClaimSubmitted{By: "wang.fang", Claim: amended, Total: amended.Total(), Caps: req.LineCaps(amended, *kp.Travel), Round: 1, Amended: true},
		houqin.StepSkipped{Step: "claim_over_cap", Name: overCap},
		houqin.StepStarted{Step: "claim_finance", Name: finance},
		houqin.StepCompleted{Step: "claim_finance", Outcome: "approved", Approvals: []string{"chen.jing"}},
		houqin.TripReimbursed{By: "chen.jing", Claim: amended.Total(), Bookings: booking.Total(), Actual: amended.Total() + booking.Total(),
			Released: 350000 - amended.Total() - booking.Total(), Currency: "CNY"},
		houqin.TripCompleted{})
}

// TestTripAmendedClaim: the 报销单 of a claim amended after a return shows
// the amended lines, marked amended, and only the approvals given after
// the return.
func TestTripAmendedClaim(t *testing.T) {
	tr, err := documents.FoldTrip(amendedTrip(t))
	if err != nil {
		t.Fatal(err)
	}
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	tr.Names = documents.NamesFrom(org)
	if !tr.ClaimAmended || tr.ClaimRound != 1 || len(tr.Lines) != 2 || tr.Lines[1].Amount != 15000 || tr.Lines[1].Over ||
		tr.Claim.Total() != 30000 || len(tr.ClaimApprovals) != 1 || tr.ClaimApprovals[0].By[0] != "chen.jing" ||
		tr.Reimbursed == nil || tr.Reimbursed.Claim != 30000 {
		t.Fatalf("folded %+v", tr)
	}
	var html, xlsx bytes.Buffer
	if err := documents.WriteExpenseClaim(&html, tr, documents.FormatHTML); err != nil {
		t.Fatal(err)
	}
	golden(t, "expense_claim_amended.golden.html", html.Bytes())
	if err := documents.WriteExpenseClaim(&xlsx, tr, documents.FormatXLSX); err != nil {
		t.Fatal(err)
	}
	golden(t, "expense_claim_amended.xlsx.golden.txt", cells(t, xlsx.Bytes()))
}
