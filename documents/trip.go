package documents

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"slices"
	"time"

	"github.com/houqin/houqin"
	"github.com/xuri/excelize/v2"
)

// Trip is what a business trip's two documents show: the trip
// confirmation letter (出差安排确认函), once logistics booked, and the
// expense claim form (报销单), once the traveller claimed.
type Trip struct {
	ID              string
	Title           string
	Status          houqin.Status
	Request         houqin.TripRequest
	Requester       string
	TravelerManager string
	Days            int64
	Requested       time.Time
	Approvals       []Approval // of the request
	Booking         *houqin.TripBooking
	BookedBy        string
	Booked          time.Time
	Claim           *houqin.ExpenseClaim // the last claim submitted, as last amended
	ClaimRound      int
	ClaimAmended    bool // the traveller amended the claim after the claim route returned it
	Claimed         time.Time
	Lines           []ClaimRow
	ClaimApprovals  []Approval // of the last claim
	Reimbursed      *houqin.TripReimbursed
	ReimbursedAt    time.Time
	AsOf            time.Time
	LastPosition    int64
	Names
}

// Approval is an approved step of a route.
type Approval struct {
	Step houqin.Text
	By   []string
	At   time.Time
}

// ClaimRow is a claim line with the cap it was checked against.
type ClaimRow struct {
	houqin.ClaimLine
	City string
	Cap  int64 // 0: the category has no cap
	Over bool
}

// ReadTrip folds a trip from the store; ENOTFOUND if there is none.
func ReadTrip(ctx context.Context, store Reader, id string) (Trip, error) {
	events, err := readAll(ctx, store, houqin.TripStream(id))
	if err != nil {
		return Trip{}, err
	}
	if len(events) == 0 {
		return Trip{}, houqin.Errorf(houqin.ENOTFOUND, "trip: no trip %q", id)
	}
	return FoldTrip(events)
}

// FoldTrip folds the events of a trip into its documents' content.
func FoldTrip(events []houqin.Event) (Trip, error) {
	var tr Trip
	tr.Status = houqin.StatusRunning
	names := map[string]houqin.Text{}
	claiming := false
	for _, e := range events {
		tr.AsOf, tr.LastPosition = laterOf(tr.AsOf, at(e)), max(tr.LastPosition, e.Position)
		d, err := e.Decode()
		if err != nil {
			if houqin.ErrorCode(err) == houqin.ENOTFOUND {
				continue
			}
			return Trip{}, err
		}
		switch v := d.(type) {
		case *houqin.TripRequested:
			tr.ID, tr.Title, tr.Request, tr.Requester, tr.TravelerManager, tr.Days, tr.Requested =
				v.ProcessID, v.Request.Title, v.Request.TripRequest, v.Requester, v.TravelerManager, v.Days, at(e)
		case *houqin.StepStarted:
			names[v.Step] = v.Name
		case *houqin.StepCompleted:
			if v.Outcome != "approved" {
				continue
			}
			a := Approval{Step: names[v.Step], By: slices.Clone(v.Approvals), At: at(e)}
			if claiming {
				tr.ClaimApprovals = append(tr.ClaimApprovals, a)
			} else {
				tr.Approvals = append(tr.Approvals, a)
			}
		case *houqin.TripBooked:
			b := v.Booking
			tr.Booking, tr.BookedBy, tr.Booked = &b, v.By, at(e)
		case *houqin.TripClaimSubmitted:
			c := v.Claim
			// An amended claim (after a return) replaces the round's claim
			// and the approvals given before the return.
			tr.Claim, tr.ClaimRound, tr.ClaimAmended, tr.Claimed, tr.ClaimApprovals, claiming = &c, v.Round, v.Amended, at(e), nil, true
			tr.Lines = claimRows(tr.Request, c, v.OverCap, v.Caps)
		case *houqin.TripReimbursed:
			r := *v
			tr.Reimbursed, tr.ReimbursedAt = &r, at(e)
		case *houqin.TripRejected:
			tr.Status = houqin.StatusRejected
		case *houqin.ProcessWithdrawn:
			tr.Status = houqin.StatusWithdrawn
		case *houqin.ProcessRevoked:
			tr.Status = houqin.StatusCancelled
		case *houqin.TripCompleted:
			tr.Status = houqin.StatusCompleted
		}
	}
	return tr, nil
}

func claimRows(r houqin.TripRequest, c houqin.ExpenseClaim, over []houqin.OverCap, caps []int64) []ClaimRow {
	rows := make([]ClaimRow, len(c.Lines))
	for i, l := range c.Lines {
		city, _ := r.CityOn(l.Date)
		rows[i] = ClaimRow{ClaimLine: l, City: city}
		if i < len(caps) {
			rows[i].Cap = caps[i]
		}
	}
	for _, o := range over {
		if o.Line >= 0 && o.Line < len(rows) {
			rows[o.Line].Over, rows[o.Line].Cap = true, o.Cap
		}
	}
	return rows
}

// WriteTripConfirmation writes the trip confirmation letter (出差安排确认函)
// as format, html or xlsx; ENOTALLOWED before the trip is booked.
func WriteTripConfirmation(w io.Writer, tr Trip, format string) error {
	if tr.Booking == nil {
		return houqin.Errorf(houqin.ENOTALLOWED, "trip: %s is not booked yet; the confirmation letter follows the booking", tr.ID)
	}
	switch format {
	case FormatHTML:
		return tripPage(w, "trip_confirmation.html", tr)
	case FormatXLSX:
		return tripConfirmationXLSX(w, tr)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be html or xlsx, got %q", format)
}

// WriteExpenseClaim writes the expense claim form (报销单) as format, html
// or xlsx; ENOTALLOWED before the traveller claimed.
func WriteExpenseClaim(w io.Writer, tr Trip, format string) error {
	if tr.Claim == nil {
		return houqin.Errorf(houqin.ENOTALLOWED, "trip: %s has no expense claim yet", tr.ID)
	}
	switch format {
	case FormatHTML:
		return tripPage(w, "expense_claim.html", tr)
	case FormatXLSX:
		return expenseClaimXLSX(w, tr)
	}
	return houqin.Errorf(houqin.EINVALID, "format: must be html or xlsx, got %q", format)
}

func tripPage(w io.Writer, name string, tr Trip) error {
	return pages.ExecuteTemplate(w, name, struct {
		Trip
		CSS template.CSS
	}{tr, css})
}

func tripHeader(s *sheet, tr Trip, title string) {
	s.add(title, tr.ID)
	s.add("出差人 Traveller", tr.Who(tr.Request.Traveler))
	s.add("部门 Department", tr.Request.Department)
	s.add("事由 Purpose", tr.Request.Purpose)
	s.add("天数 Days", tr.Days)
	s.add("交通方式 Transport", label(tr.Request.Transport))
}

func tripConfirmationXLSX(w io.Writer, tr Trip) error {
	f := excelize.NewFile()
	defer f.Close()
	s := newSheet(f, "确认函 Confirmation", true)
	tripHeader(s, tr, "出差安排确认函 Trip confirmation letter")
	s.add("预计费用 Estimated cost", yuan(tr.Request.EstimatedCost), tr.Request.CurrencyOrDefault())
	s.add()
	s.add("#", "出发地 From", "目的地 To", "出发日期 Depart", "返回日期 Return")
	for i, l := range tr.Request.Legs {
		s.add(i+1, l.From, l.To, l.Depart, l.Return)
	}
	s.add()
	s.add("类别 Kind", "预订内容 Booking", "预订编号 Reference", "金额 Amount")
	for _, it := range tr.Booking.Transport {
		s.add("交通 Transport", it.Description, it.Reference, yuan(it.Amount))
	}
	for _, it := range tr.Booking.Lodging {
		s.add("住宿 Lodging", it.Description, it.Reference, yuan(it.Amount))
	}
	s.add("合计 Total", "", "", yuan(tr.Booking.Total()))
	s.add("预订人 Booked by", tr.Who(tr.BookedBy), stamp(tr.Booked))
	s.add()
	s.add("审批 Approval", "审批人 Approved by", "时间 At (UTC+8)")
	for _, a := range tr.Approvals {
		s.add(a.Step.Zh+" "+a.Step.En, tr.WhoAll(a.By), stamp(a.At))
	}
	s.add()
	s.add("生成依据 Generated from events up to (UTC+8)", stamp(tr.AsOf), fmt.Sprintf("position %d", tr.LastPosition))
	if s.err != nil {
		return s.err
	}
	return writeBook(w, f)
}

func expenseClaimXLSX(w io.Writer, tr Trip) error {
	f := excelize.NewFile()
	defer f.Close()
	s := newSheet(f, "报销单 Claim", true)
	tripHeader(s, tr, "差旅费报销单 Travel expense claim")
	s.add("行程 Itinerary", tr.Request.Start()+" – "+tr.Request.End())
	if tr.ClaimAmended {
		s.add("报销轮次 Round", tr.ClaimRound, stamp(tr.Claimed), "已修改 Amended")
	} else {
		s.add("报销轮次 Round", tr.ClaimRound, stamp(tr.Claimed))
	}
	s.add()
	s.add("#", "类别 Category", "日期 Date", "城市 City", "金额 Amount", "标准 Cap", "超标 Over cap", "票据 Receipt", "说明 Justification")
	for i, r := range tr.Lines {
		var capped any = ""
		over := ""
		if r.Cap > 0 {
			capped = yuan(r.Cap)
		}
		if r.Over {
			over = "是 Yes"
		}
		s.add(i+1, label(r.Category), r.Date, r.City, yuan(r.Amount), capped, over, r.Receipt, r.Justification)
	}
	s.add("报销合计 Claim total", "", "", "", yuan(tr.Claim.Total()))
	if tr.Booking != nil {
		s.add("公司预订 Booked by the company", "", "", "", yuan(tr.Booking.Total()))
	}
	s.add()
	s.add("审批 Approval", "审批人 Approved by", "时间 At (UTC+8)")
	for _, a := range tr.ClaimApprovals {
		s.add(a.Step.Zh+" "+a.Step.En, tr.WhoAll(a.By), stamp(a.At))
	}
	if r := tr.Reimbursed; r != nil {
		s.add()
		s.add("已报销 Reimbursed", yuan(r.Claim), r.Currency, stamp(tr.ReimbursedAt))
		s.add("实际费用 Actual cost", yuan(r.Actual), "预算释放 Released", yuan(r.Released))
	}
	s.add()
	s.add("生成依据 Generated from events up to (UTC+8)", stamp(tr.AsOf), fmt.Sprintf("position %d", tr.LastPosition))
	if s.err != nil {
		return s.err
	}
	return writeBook(w, f)
}
