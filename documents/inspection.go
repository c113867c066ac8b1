// Package documents renders the documents houqin's processes deliver (工作成果)
// — reports, records, letters — as printable HTML and as XLSX workbooks,
// with zh-CN and en headings. A document is folded from the events of its
// process, read from the event store: it says what the events say, as of
// when it is rendered.
package documents

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/houqin/houqin"
)

// Inspection is what an inspection's two documents show: the inspection
// report (安全检查报告) and the remediation plan and tracking record
// (整改计划及跟踪记录).
type Inspection struct {
	ID           string
	Title        string
	Status       houqin.Status
	Checklist    houqin.Checklist
	Request      houqin.InspectionRequest
	Requester    string
	Adhoc        bool
	Requested    time.Time
	Recorded     time.Time // zero until the inspector recorded the checklist
	Inspector    string
	Summary      string
	Results      []Result
	Findings     []FindingRecord
	Completed    time.Time
	AsOf         time.Time // the latest event folded
	LastPosition int64
	Names
}

// Names maps user IDs to how documents show them, "李娜 Li Na"; an ID
// without a name shows as the ID. Each document embeds it.
type Names map[string]string

// Who returns how a document shows a user.
func (n Names) Who(id string) string {
	if name, ok := n[id]; ok {
		return name
	}
	return id
}

// WhoAll returns how a document shows users, comma-separated.
func (n Names) WhoAll(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = n.Who(id)
	}
	return strings.Join(out, ", ")
}

// SetNames sets the names the document shows people by.
func (n *Names) SetNames(names Names) { *n = names }

// NamesFrom returns the names of every user of an organisation, for a
// document's Names.
func NamesFrom(org *houqin.Org) Names {
	names := Names{}
	for _, u := range org.Users() {
		names[u.ID] = strings.TrimSpace(u.Name + " " + u.NameEn)
	}
	return names
}

// Result is one checklist line of the report.
type Result struct {
	Item     houqin.ChecklistItem
	Result   string
	Severity string
	Note     string
	Photos   []string
	Finding  string // the finding's ID for a failure
}

// FindingRecord is one finding with its remediation history.
type FindingRecord struct {
	houqin.Finding
	Status   string // open | resolved
	Rounds   []Round
	Overdue  []Escalation
	Resolved time.Time
}

// Round is one fix and its verification.
type Round struct {
	N          int
	FixedBy    string
	FixedAt    time.Time
	Fix        houqin.FixReport
	VerifiedBy string
	VerifiedAt time.Time
	Verified   *bool // nil until verified
	Note       string
}

// Escalation is an overdue finding escalated to more people.
type Escalation struct {
	At    time.Time
	Added []string
}

// Reader reads the streams a document folds.
type Reader interface {
	ReadStream(ctx context.Context, stream string, from int64, dir houqin.Direction, limit int) ([]houqin.Event, error)
}

// ReadInspection folds an inspection and its findings from the store;
// ENOTFOUND if there is no such inspection.
func ReadInspection(ctx context.Context, store Reader, id string) (Inspection, error) {
	events, err := readAll(ctx, store, houqin.InspectionStream(id))
	if err != nil {
		return Inspection{}, err
	}
	if len(events) == 0 {
		return Inspection{}, houqin.Errorf(houqin.ENOTFOUND, "inspection: no inspection %q", id)
	}
	findings := map[string][]houqin.Event{}
	for _, e := range events {
		if e.Type != "inspection.finding_opened" {
			continue
		}
		var fo houqin.FindingOpened
		if err := decodeInto(e, &fo); err != nil {
			return Inspection{}, err
		}
		if findings[fo.Finding.ID], err = readAll(ctx, store, houqin.FindingStream(fo.Finding.ID)); err != nil {
			return Inspection{}, err
		}
	}
	return FoldInspection(events, findings)
}

func readAll(ctx context.Context, store Reader, stream string) ([]houqin.Event, error) {
	var out []houqin.Event
	for {
		batch, err := store.ReadStream(ctx, stream, int64(len(out)), houqin.Forward, houqin.DefaultLimits.MaxReadLimit)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		out = append(out, batch...)
		if len(batch) < houqin.DefaultLimits.MaxReadLimit {
			return out, nil
		}
	}
}

func decodeInto[T houqin.EventData](e houqin.Event, v *T) error {
	d, err := e.Decode()
	if err != nil {
		return err
	}
	p, ok := any(d).(*T)
	if !ok {
		return fmt.Errorf("%s@%d: %s is not %T", e.Stream, e.Version, e.Type, *v)
	}
	*v = *p
	return nil
}

// FoldInspection folds the events of an inspection and of its findings
// (finding ID → events) into its documents' content.
func FoldInspection(events []houqin.Event, findings map[string][]houqin.Event) (Inspection, error) {
	var in Inspection
	in.Status = houqin.StatusRunning
	for _, e := range events {
		in.AsOf, in.LastPosition = laterOf(in.AsOf, at(e)), max(in.LastPosition, e.Position)
		d, err := e.Decode()
		if err != nil {
			if houqin.ErrorCode(err) == houqin.ENOTFOUND {
				continue // a type this code does not know changes nothing here
			}
			return Inspection{}, err
		}
		switch v := d.(type) {
		case *houqin.InspectionRequested:
			in.ID, in.Title, in.Checklist, in.Request, in.Requester, in.Adhoc, in.Requested =
				v.ProcessID, v.Request.Title, v.Checklist, v.Request.InspectionRequest, v.Requester, v.Adhoc, at(e)
			in.Inspector = v.Request.Inspector
		case *houqin.InspectionRecorded:
			in.Recorded, in.Inspector, in.Summary = at(e), v.Inspector, v.Summary
			for _, r := range v.Results {
				item, _ := in.Checklist.Item(r.Item)
				in.Results = append(in.Results, Result{Item: item, Result: r.Result, Severity: r.Severity, Note: r.Note, Photos: r.Photos})
			}
		case *houqin.FindingOpened:
			f := FindingRecord{Finding: v.Finding, Status: "open"}
			if err := foldFinding(&f, findings[v.Finding.ID]); err != nil {
				return Inspection{}, err
			}
			in.Findings = append(in.Findings, f)
			for i := range in.Results {
				if in.Results[i].Item.ID == v.Finding.Item {
					in.Results[i].Finding = v.Finding.ID
				}
			}
		case *houqin.InspectionRejected:
			in.Status = houqin.StatusRejected
		case *houqin.ProcessWithdrawn:
			in.Status = houqin.StatusWithdrawn
		case *houqin.InspectionCompleted:
			in.Status, in.Completed = houqin.StatusCompleted, at(e)
		}
	}
	for _, f := range in.Findings {
		for _, e := range findings[f.ID] {
			in.AsOf, in.LastPosition = laterOf(in.AsOf, at(e)), max(in.LastPosition, e.Position)
		}
	}
	return in, nil
}

func foldFinding(f *FindingRecord, events []houqin.Event) error {
	round := func(n int) *Round {
		for len(f.Rounds) < n {
			f.Rounds = append(f.Rounds, Round{N: len(f.Rounds) + 1})
		}
		return &f.Rounds[n-1]
	}
	for _, e := range events {
		d, err := e.Decode()
		if err != nil {
			if houqin.ErrorCode(err) == houqin.ENOTFOUND {
				continue
			}
			return err
		}
		switch v := d.(type) {
		case *houqin.FindingFixReported:
			r := round(v.Round)
			r.FixedBy, r.FixedAt, r.Fix = v.By, at(e), v.Report
		case *houqin.FindingVerified:
			r := round(v.Round)
			passed := v.Passed
			r.VerifiedBy, r.VerifiedAt, r.Verified, r.Note = v.By, at(e), &passed, v.Note
		case *houqin.FindingOverdue:
			f.Overdue = append(f.Overdue, Escalation{At: at(e), Added: slices.Clone(v.Added)})
		case *houqin.FindingResolved:
			f.Status, f.Resolved = "resolved", at(e)
		}
	}
	return nil
}

func at(e houqin.Event) time.Time {
	if !e.Meta.OccurredAt.IsZero() {
		return e.Meta.OccurredAt
	}
	return e.RecordedAt
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
