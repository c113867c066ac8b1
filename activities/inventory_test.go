package activities_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/storetest"
	"go.temporal.io/sdk/temporal"
)

func defineStock(t *testing.T, a *activities.Activities, onHand int64) {
	t.Helper()
	spec := houqin.ItemSpec{Name: "A4 paper", Names: houqin.Text{Zh: "A4 打印纸", En: "A4 paper"}, Unit: "box", ReorderPoint: 10, ReorderQuantity: 20}
	def, _ := houqin.NewEvent(houqin.EventID("def"), houqin.ItemDefined{Item: spec}, houqin.Metadata{Actor: "li.na", OccurredAt: when})
	in, _ := houqin.NewEvent(houqin.EventID("in"), houqin.InventoryStockedIn{Item: "A4 paper", Unit: "box", Quantity: onHand, ProcessID: "PR-2026-000001"},
		houqin.Metadata{Actor: "li.na", OccurredAt: when})
	storetest.MustAppend(t, a.Store, houqin.InventoryStream("A4 paper"), houqin.ExpectNoStream, def, in)
}

func issueOf(id string, qty int64) activities.IssueStockInput {
	return activities.IssueStockInput{ProcessID: id, Department: "MKT", Requester: "wang.fang",
		Lines: []houqin.IssueTerms{{Item: "A4 paper", Unit: "box", Quantity: qty}}, Meta: houqin.Metadata{Actor: "zhou.qiang", OccurredAt: when}}
}

// TestIssueStockConcurrent: 40 issues of 3 boxes race for 100; 33 are
// handed out, 7 refused, and the stock ends at 1, never below zero.
func TestIssueStockConcurrent(t *testing.T) {
	a := newActivities(t)
	defineStock(t, a, 100)
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		issued, refused  int
		lowest, unknowns = int64(100), 0
	)
	for i := range 40 {
		wg.Go(func() {
			res, err := a.IssueStock(context.Background(), issueOf(fmt.Sprintf("IS-2026-%06d", i+1), 3))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				issued++
				lowest = min(lowest, res.Lines[0].OnHand)
			case isCode(err, houqin.ENOTALLOWED):
				refused++
			default:
				unknowns++
				t.Errorf("issue %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	s, err := houqin.ReadItem(context.Background(), a.Store, "A4 paper")
	if err != nil {
		t.Fatal(err)
	}
	if issued != 33 || refused != 7 || s.OnHand != 1 || lowest != 1 {
		t.Errorf("issued %d, refused %d, on hand %d, lowest %d; want 33, 7, 1, 1", issued, refused, s.OnHand, lowest)
	}
}

// TestIssueStockRetry: a retried IssueStock issues nothing twice, even
// after the stock moved, and reports the stock its first attempt left.
func TestIssueStockRetry(t *testing.T) {
	a := newActivities(t)
	defineStock(t, a, 12)
	first, err := a.IssueStock(context.Background(), issueOf("IS-2026-000001", 5))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.IssueStock(context.Background(), issueOf("IS-2026-000002", 4)); err != nil {
		t.Fatal(err)
	}
	again, err := a.IssueStock(context.Background(), issueOf("IS-2026-000001", 5))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := houqin.ReadItem(context.Background(), a.Store, "A4 paper")
	if s.OnHand != 3 || first.Lines[0].OnHand != 7 || again.Lines[0].OnHand != 7 || !first.Lines[0].BelowReorder {
		t.Errorf("on hand %d, first %+v, again %+v", s.OnHand, first.Lines, again.Lines)
	}
	// A retry once the stock no longer covers the line still succeeds:
	// it was issued.
	if _, err := a.IssueStock(context.Background(), issueOf("IS-2026-000001", 5)); err != nil {
		t.Errorf("retry after the stock fell: %v", err)
	}
}

// TestAdjustStock: a stocktake's variance is added to the stock as it is
// now, never below zero, once.
func TestAdjustStock(t *testing.T) {
	a := newActivities(t)
	defineStock(t, a, 12)
	in := activities.AdjustStockInput{ProcessID: "ST-2026-000001", Meta: houqin.Metadata{Actor: "zhang.wei", OccurredAt: when},
		Lines: []houqin.StocktakeLine{{Item: "A4 paper", Unit: "box", OnHand: 12, Counted: 2, Variance: -10}}}
	if _, err := a.IssueStock(context.Background(), issueOf("IS-2026-000001", 5)); err != nil { // since the count
		t.Fatal(err)
	}
	res, err := a.AdjustStock(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lines) != 1 || res.Lines[0].Delta != -7 || res.Lines[0].OnHand != 0 || !res.Lines[0].BelowReorder {
		t.Errorf("adjusted = %+v, want -7 (clamped at zero)", res.Lines)
	}
	again, err := a.AdjustStock(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if again.Lines[0] != res.Lines[0] {
		t.Errorf("retry reported %+v, the first attempt %+v", again.Lines[0], res.Lines[0])
	}
	if n := len(storetest.MustReadStream(t, a.Store, houqin.InventoryStream("A4 paper"))); n != 4 {
		t.Errorf("%d events, want 4 (the retry appended nothing)", n)
	}
}

func isCode(err error, code string) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() == code
}
