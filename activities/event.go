package activities

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/houqin/houqin"
)

// PrepareEventSuppliesInput names the supplies an approved event needs.
type PrepareEventSuppliesInput struct {
	ProcessID  string                `json:"process_id"`
	Requester  string                `json:"requester"`  // the organiser, who requests the procurement
	Department string                `json:"department"` // the organising department, whose budget pays
	Category   string                `json:"category"`
	Title      string                `json:"title"`
	NeededBy   string                `json:"needed_by"` // YYYY-MM-DD
	Supplies   []houqin.ItemQuantity `json:"supplies"`
	At         time.Time             `json:"at"`
	Key        string                `json:"key"` // the caller's identity: a retry takes the same number
}

// PrepareEventSuppliesResult is the procurement of the supplies stock
// cannot cover, or none (Short empty).
type PrepareEventSuppliesResult struct {
	Short     []houqin.ItemQuantity     `json:"short"`
	Number    int64                     `json:"number"`
	Year      int                       `json:"year"`
	Request   houqin.ProcurementRequest `json:"request"`
	Logistics []string                  `json:"logistics"`
}

// PrepareEventSupplies compares an event's supplies with the stock on hand
// and, if some are short, takes the next procurement number of the year
// (the sequence the API and reorders number procurements with) and returns
// the procurement of what is missing, at the catalogue's unit prices.
// Retries with the same Key take the same number.
func (a *Activities) PrepareEventSupplies(ctx context.Context, in PrepareEventSuppliesInput) (PrepareEventSuppliesResult, error) {
	var res PrepareEventSuppliesResult
	var items []houqin.ProcurementItem
	for _, s := range in.Supplies {
		st, err := houqin.ReadItem(ctx, a.Store, s.Name)
		if err != nil {
			return res, temporalError(err)
		}
		if short := s.Quantity - max(st.OnHand, 0); short > 0 {
			res.Short = append(res.Short, houqin.ItemQuantity{Name: s.Name, Quantity: short})
			items = append(items, houqin.ProcurementItem{Name: s.Name, Quantity: short, Unit: cmp.Or(st.Unit, "个"), UnitPrice: st.Spec.UnitPrice})
		}
	}
	if len(items) == 0 {
		return res, nil
	}
	res.Logistics = a.Org.Doers([]string{in.Requester}, houqin.LogisticsRoles...)
	res.Request = houqin.ProcurementRequest{Department: in.Department, BudgetCategory: in.Category, NeededBy: in.NeededBy, Items: items,
		Reason: fmt.Sprintf("活动物资（库存不足）：%s / Event supplies stock cannot cover: %s", in.Title, in.ProcessID)}
	if err := res.Request.Validate(); err != nil {
		return res, temporalError(err)
	}
	res.Year = in.At.Year()
	seq := "sequence-PR-" + fmt.Sprint(res.Year)
	taken, err := a.Store.Append(ctx, seq, houqin.ExpectAny, houqin.Event{
		ID: houqin.EventID(in.Key, "number"), Type: "sequence.number_taken", Data: []byte(`{}`),
		Meta: houqin.Metadata{Actor: "system", CorrelationID: in.ProcessID, OccurredAt: in.At},
	})
	if err != nil {
		return res, temporalError(fmt.Errorf("take a number of %s: %w", seq, err))
	}
	res.Number = taken[0].Version + 1
	return res, nil
}
