package workflows

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/houqin/houqin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The business search attributes of a process's workflow, which let an
// operator find it in the Temporal CLI and Web UI by what it is about:
//
//	temporal workflow list --query "Requester='wang.fang' AND BusinessStatus='running'"
//
// Subject is the person the process is for (a trip's traveller), the
// requester when nobody else. BusinessStatus is the process's status
// (houqin.Status), which differs from the execution's: a rejected
// procurement's workflow has completed. CurrentStep lists the steps with an
// open task, empty once the process ends.
var (
	SearchProcessKind    = temporal.NewSearchAttributeKeyKeyword("ProcessKind")
	SearchRequester      = temporal.NewSearchAttributeKeyKeyword("Requester")
	SearchSubject        = temporal.NewSearchAttributeKeyKeyword("Subject")
	SearchDepartment     = temporal.NewSearchAttributeKeyKeyword("Department")
	SearchAmountFen      = temporal.NewSearchAttributeKeyInt64("AmountFen")
	SearchBusinessStatus = temporal.NewSearchAttributeKeyKeyword("BusinessStatus")
	SearchCurrentStep    = temporal.NewSearchAttributeKeyKeywordList("CurrentStep")
	SearchNeededBy       = temporal.NewSearchAttributeKeyTime("NeededBy")
)

// SearchAttributes names each business search attribute with its type: what
// a namespace must have registered before a worker runs the workflows
// (worker.RegisterSearchAttributes).
func SearchAttributes() map[string]enumspb.IndexedValueType {
	keys := []temporal.SearchAttributeKey{SearchProcessKind, SearchRequester, SearchSubject, SearchDepartment,
		SearchAmountFen, SearchBusinessStatus, SearchCurrentStep, SearchNeededBy}
	m := make(map[string]enumspb.IndexedValueType, len(keys))
	for _, k := range keys {
		m[k.GetName()] = k.GetValueType()
	}
	return m
}

// searchAttributes is the version from which a process keeps its business
// search attributes current; processes started before it have none.
const searchAttributes = 1

// indexed is what a process last wrote to its search attributes.
type indexed struct {
	status houqin.Status
	steps  []string
}

// index upserts the search attributes that changed with the events just
// stored: the business keys with the process's first events, its status
// and current steps whenever they move.
func (p *process) index(ctx workflow.Context, stored []houqin.Event, first bool) error {
	if !p.searchable {
		return nil
	}
	var updates []temporal.SearchAttributeUpdate
	if first && len(stored) > 0 {
		updates = append(updates, p.businessKeys(stored[0])...)
	}
	if p.status != p.indexed.status {
		updates = append(updates, SearchBusinessStatus.ValueSet(string(p.status)))
	}
	var steps []string
	for _, t := range p.open {
		if !slices.Contains(steps, t.task.Step) {
			steps = append(steps, t.task.Step)
		}
	}
	if !slices.Equal(steps, p.indexed.steps) {
		if len(steps) == 0 {
			updates = append(updates, SearchCurrentStep.ValueUnset())
		} else {
			updates = append(updates, SearchCurrentStep.ValueSet(steps))
		}
	}
	if len(updates) == 0 {
		return nil
	}
	p.indexed = indexed{status: p.status, steps: steps}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

// submission is what a process's first event says about it, whatever its
// kind (see projections.Processes): its department, total and the date by
// which it is needed — a procurement's needed_by, a trip's first
// departure, an event's start.
type submission struct {
	Total   int64 `json:"total"`
	Request struct {
		Department string `json:"department"`
		NeededBy   string `json:"needed_by"`
		StartsAt   string `json:"starts_at"`
		Legs       []struct {
			Depart string `json:"depart"`
		} `json:"legs"`
	} `json:"request"`
}

// businessKeys are the search attributes a process keeps from its start.
func (p *process) businessKeys(e houqin.Event) []temporal.SearchAttributeUpdate {
	keys := []temporal.SearchAttributeUpdate{
		SearchProcessKind.ValueSet(string(p.kind)),
		SearchRequester.ValueSet(p.requester),
		SearchSubject.ValueSet(cmp.Or(p.subject, p.requester)),
	}
	var s submission
	if json.Unmarshal(e.Data, &s) != nil {
		return keys // not the shape of a submission (an inspection's finding): its keys alone
	}
	if d := s.Request.Department; d != "" {
		keys = append(keys, SearchDepartment.ValueSet(d))
	}
	if s.Total > 0 {
		keys = append(keys, SearchAmountFen.ValueSet(s.Total))
	}
	needed := s.Request.NeededBy
	if len(s.Request.Legs) > 0 {
		needed = s.Request.Legs[0].Depart
	}
	if t, ok := neededBy(cmp.Or(s.Request.StartsAt, needed)); ok {
		keys = append(keys, SearchNeededBy.ValueSet(t.UTC())) // in UTC: SQL visibility compares the text
	}
	return keys
}

// neededBy reads a date (YYYY-MM-DD, the start of that day in the business
// zone) or an RFC 3339 time.
func neededBy(s string) (time.Time, bool) {
	if t, err := time.ParseInLocation(time.DateOnly, s, houqin.BusinessZone); err == nil {
		return t, true
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// Summary is the one line the Temporal CLI and Web UI show for a process's
// workflow: its kind, who asked and, if known, how much, e.g.
// "采购申请 · 王芳 · ¥880.00".
func Summary(kind houqin.ProcessKind, requesterName string, amount int64) string {
	s := cmp.Or(houqin.KindTitles[kind].Zh, string(kind)) + " · " + requesterName
	if amount > 0 {
		s += " · ¥" + houqin.Money(amount)
	}
	return s
}
