package houqin

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
)

// Checklists are the inspection checklists (安全检查表) and the rules of
// remediation: who owns a finding of each category and how long each
// severity may take (config/checklists.yaml).
type Checklists struct {
	Checklists map[string]*Checklist `yaml:"checklists"`
	Owners     map[string][]string   `yaml:"owners"` // category → approver rules of the remediating owners
	Due        map[string]Duration   `yaml:"due"`    // severity → time to remediate
}

// Checklist is one inspection template.
type Checklist struct {
	ID    string          `json:"id" yaml:"-"`
	Name  Text            `json:"name" yaml:"name"`
	Items []ChecklistItem `json:"items" yaml:"items"`
}

// ChecklistItem is one thing an inspector checks.
type ChecklistItem struct {
	ID       string `json:"id" yaml:"id"`
	Category string `json:"category" yaml:"category"`
	Text     Text   `json:"text" yaml:"text"`
}

// The severities of a finding, most urgent first.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
)

// Severities lists the severities of a finding, most urgent first.
var Severities = []string{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}

// The results of a checklist item.
const (
	ResultPass = "pass"
	ResultFail = "fail"
	ResultNA   = "na"
)

var checkID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// ParseChecklists reads checklists (YAML) and validates them; errors are
// EINVALID and name the file, the checklist and the item.
func ParseChecklists(name string, b []byte) (*Checklists, error) {
	var c Checklists
	if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict(), yaml.UseJSONUnmarshaler()); err != nil {
		return nil, Errorf(EINVALID, "%s: %s", name, yaml.FormatError(err, false, true))
	}
	if len(c.Checklists) == 0 {
		return nil, Errorf(EINVALID, "%s: checklists: at least one is required", name)
	}
	for _, id := range sortedKeys(c.Checklists) {
		cl := c.Checklists[id]
		if cl == nil || !checkID.MatchString(id) {
			return nil, Errorf(EINVALID, "%s: checklists.%s: a checklist needs an ID of lowercase letters, digits and _, and items", name, id)
		}
		cl.ID = id
		if strings.TrimSpace(cl.Name.Zh) == "" || strings.TrimSpace(cl.Name.En) == "" {
			return nil, Errorf(EINVALID, "%s: checklists.%s.name: both zh and en are required", name, id)
		}
		if len(cl.Items) == 0 {
			return nil, Errorf(EINVALID, "%s: checklists.%s.items: at least one item is required", name, id)
		}
		for i, it := range cl.Items {
			field := fmt.Sprintf("%s: checklists.%s.items[%d]", name, id, i)
			switch {
			case !checkID.MatchString(it.ID):
				return nil, Errorf(EINVALID, "%s.id: %q must be lowercase letters, digits and _", field, it.ID)
			case slices.IndexFunc(cl.Items, func(o ChecklistItem) bool { return o.ID == it.ID }) != i:
				return nil, Errorf(EINVALID, "%s.id: %q repeats an earlier item", field, it.ID)
			case strings.TrimSpace(it.Text.Zh) == "" || strings.TrimSpace(it.Text.En) == "":
				return nil, Errorf(EINVALID, "%s.text: both zh and en are required", field)
			case len(c.Owners[it.Category]) == 0:
				return nil, Errorf(EINVALID, "%s.category: %q has no owners (owners.%s)", field, it.Category, it.Category)
			}
		}
	}
	for _, cat := range sortedKeys(c.Owners) {
		for i, r := range c.Owners[cat] {
			if _, err := ParseApproverRule(r); err != nil {
				return nil, Errorf(EINVALID, "%s: owners.%s[%d]: %s", name, cat, i, ErrorMessage(err))
			}
		}
	}
	for _, s := range Severities {
		if c.Due[s] <= 0 {
			return nil, Errorf(EINVALID, "%s: due.%s: required, the time a %s finding may take", name, s, s)
		}
	}
	return &c, nil
}

// Checklist returns a copy of the checklist with an ID, or EINVALID naming
// the template field.
func (c *Checklists) Checklist(id string) (Checklist, error) {
	cl, ok := c.Checklists[id]
	if !ok {
		return Checklist{}, Errorf(EINVALID, "template: no checklist %q; there are %s", id, strings.Join(sortedKeys(c.Checklists), ", "))
	}
	out := *cl
	out.Items = slices.Clone(cl.Items)
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// InspectionRequest starts an inspection (安全检查): which checklist, where,
// who inspects and when.
type InspectionRequest struct {
	Template     string `json:"template"`
	Location     string `json:"location"`
	Inspector    string `json:"inspector"`
	ScheduledFor string `json:"scheduled_for"`        // YYYY-MM-DD
	Department   string `json:"department,omitempty"` // the department whose premises are inspected; "" = ADM
	Note         string `json:"note,omitempty"`
}

// Validate reports the first rule r breaks as EINVALID, naming the field;
// the template and the inspector are checked against the checklists and
// the organisation by the caller.
func (r InspectionRequest) Validate() error {
	switch {
	case strings.TrimSpace(r.Template) == "":
		return Errorf(EINVALID, "template: required")
	case strings.TrimSpace(r.Location) == "":
		return Errorf(EINVALID, "location: required")
	case utf8.RuneCountInString(r.Location) > maxNameLen:
		return Errorf(EINVALID, "location: longer than %d characters", maxNameLen)
	case strings.TrimSpace(r.Inspector) == "":
		return Errorf(EINVALID, "inspector: required")
	case utf8.RuneCountInString(r.Note) > maxReasonLen:
		return Errorf(EINVALID, "note: longer than %d characters", maxReasonLen)
	}
	if _, err := time.Parse(time.DateOnly, r.ScheduledFor); err != nil {
		return Errorf(EINVALID, "scheduled_for: must be a date YYYY-MM-DD, got %q", r.ScheduledFor)
	}
	return nil
}

// DepartmentOrDefault returns the inspected department, ADM if none.
func (r InspectionRequest) DepartmentOrDefault() string {
	if r.Department == "" {
		return "ADM"
	}
	return r.Department
}

// Facts returns what a policy condition can test about an inspection:
// template, location, inspector, department, adhoc (started by a person,
// not a schedule) and requester.
func (r InspectionRequest) Facts(requester string, adhoc bool) Facts {
	return Facts{"template": r.Template, "location": r.Location, "inspector": r.Inspector,
		"department": r.DepartmentOrDefault(), "adhoc": adhoc, "requester": requester}
}

// ItemResult is the inspector's finding on one checklist item.
type ItemResult struct {
	Item     string   `json:"item"`
	Result   string   `json:"result"` // pass | fail | na
	Note     string   `json:"note,omitempty"`
	Photos   []string `json:"photos,omitempty"`   // references of photos kept elsewhere
	Severity string   `json:"severity,omitempty"` // fail: critical | high | medium | low
}

// InspectionRecord is the data of the inspector's record task.
type InspectionRecord struct {
	Results []ItemResult `json:"results"`
	Summary string       `json:"summary,omitempty"`
}

// Bounds of an inspection record.
const (
	maxPhotos   = 20
	maxPhotoRef = 500
)

// CheckRecord reports as EINVALID, naming the field, how rec fails to
// record c: every item exactly once, a known result, and a failure with a
// severity and a note.
func (c Checklist) CheckRecord(rec InspectionRecord) error {
	if utf8.RuneCountInString(rec.Summary) > maxReasonLen {
		return Errorf(EINVALID, "summary: longer than %d characters", maxReasonLen)
	}
	seen := map[string]int{}
	for i, r := range rec.Results {
		field := fmt.Sprintf("results[%d]", i)
		if !slices.ContainsFunc(c.Items, func(it ChecklistItem) bool { return it.ID == r.Item }) {
			return Errorf(EINVALID, "%s.item: %q is not an item of %s", field, r.Item, c.ID)
		}
		if j, dup := seen[r.Item]; dup {
			return Errorf(EINVALID, "%s.item: %q repeats results[%d]", field, r.Item, j)
		}
		seen[r.Item] = i
		switch {
		case r.Result != ResultPass && r.Result != ResultFail && r.Result != ResultNA:
			return Errorf(EINVALID, "%s.result: must be pass, fail or na, got %q", field, r.Result)
		case r.Result == ResultFail && !slices.Contains(Severities, r.Severity):
			return Errorf(EINVALID, "%s.severity: a failure needs critical, high, medium or low, got %q", field, r.Severity)
		case r.Result != ResultFail && r.Severity != "":
			return Errorf(EINVALID, "%s.severity: only a failure has a severity", field)
		case r.Result == ResultFail && strings.TrimSpace(r.Note) == "":
			return Errorf(EINVALID, "%s.note: a failure needs a note saying what is wrong", field)
		case utf8.RuneCountInString(r.Note) > maxReasonLen:
			return Errorf(EINVALID, "%s.note: longer than %d characters", field, maxReasonLen)
		case len(r.Photos) > maxPhotos:
			return Errorf(EINVALID, "%s.photos: at most %d", field, maxPhotos)
		}
		for k, p := range r.Photos {
			if strings.TrimSpace(p) == "" || len(p) > maxPhotoRef {
				return Errorf(EINVALID, "%s.photos[%d]: a reference of 1 to %d bytes", field, k, maxPhotoRef)
			}
		}
	}
	for _, it := range c.Items {
		if _, ok := seen[it.ID]; !ok {
			return Errorf(EINVALID, "results: item %q is not recorded", it.ID)
		}
	}
	return nil
}

// Item returns the checklist item with an ID.
func (c Checklist) Item(id string) (ChecklistItem, bool) {
	i := slices.IndexFunc(c.Items, func(it ChecklistItem) bool { return it.ID == id })
	if i < 0 {
		return ChecklistItem{}, false
	}
	return c.Items[i], true
}

// Finding is a failed checklist item to remediate (整改项).
type Finding struct {
	ID           string    `json:"id"` // "<inspection ID>-F<n>", also its workflow ID
	InspectionID string    `json:"inspection_id"`
	Item         string    `json:"item"`
	Text         Text      `json:"text"`
	Category     string    `json:"category"`
	Severity     string    `json:"severity"`
	Note         string    `json:"note"`
	Photos       []string  `json:"photos,omitempty"`
	Owners       []string  `json:"owners"` // who remediates
	DueAt        time.Time `json:"due_at"`
}

// FixReport is the data of an owner's remediate task.
type FixReport struct {
	Note   string   `json:"note"`
	Photos []string `json:"photos,omitempty"`
}

// Check reports as EINVALID, naming the field, what is wrong with r.
func (r FixReport) Check() error {
	switch {
	case strings.TrimSpace(r.Note) == "":
		return Errorf(EINVALID, "note: required, what was done")
	case utf8.RuneCountInString(r.Note) > maxReasonLen:
		return Errorf(EINVALID, "note: longer than %d characters", maxReasonLen)
	case len(r.Photos) > maxPhotos:
		return Errorf(EINVALID, "photos: at most %d", maxPhotos)
	}
	return nil
}

// Verification is the data of an inspector's verify task.
type Verification struct {
	Passed bool   `json:"passed"`
	Note   string `json:"note,omitempty"`
}

// InspectionStream returns the stream of an inspection.
func InspectionStream(id string) string { return "inspection-" + id }

// FindingStream returns the stream of a finding.
func FindingStream(id string) string { return "finding-" + id }

// InspectionRequested is the first event of an inspection's stream.
type InspectionRequested struct {
	ProcessID string                  `json:"process_id"`
	Requester string                  `json:"requester"`
	Request   TitledInspectionRequest `json:"request"`
	Checklist Checklist               `json:"checklist"` // as in force at the start
	Adhoc     bool                    `json:"adhoc"`
}

// TitledInspectionRequest is the request as the first event carries it,
// with the title and department every process list shows.
type TitledInspectionRequest struct {
	InspectionRequest
	Title string `json:"title"`
}

// NewInspectionRequested returns the first event of an inspection.
func NewInspectionRequested(id, requester string, r InspectionRequest, c Checklist, adhoc bool) InspectionRequested {
	r.Department = r.DepartmentOrDefault()
	return InspectionRequested{ProcessID: id, Requester: requester, Checklist: c, Adhoc: adhoc,
		Request: TitledInspectionRequest{InspectionRequest: r, Title: c.Name.Zh + " · " + r.Location}}
}

// EventType implements EventData.
func (InspectionRequested) EventType() string { return "inspection.requested" }

// InspectionApproved records that an inspection may go ahead: its
// approval route approved it (or had no step that applied).
type InspectionApproved struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (InspectionApproved) EventType() string { return "inspection.approved" }

// InspectionRejected ends an inspection whose approval was refused.
type InspectionRejected struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (InspectionRejected) EventType() string { return "inspection.rejected" }

// InspectionRecorded records the inspector's results.
type InspectionRecorded struct {
	Inspector string       `json:"inspector"`
	Results   []ItemResult `json:"results"`
	Summary   string       `json:"summary,omitempty"`
	Failed    int          `json:"failed"`
}

// EventType implements EventData.
func (InspectionRecorded) EventType() string { return "inspection.recorded" }

// FindingOpened records, on the inspection's stream, a finding handed to
// its own workflow.
type FindingOpened struct {
	Finding Finding `json:"finding"`
}

// EventType implements EventData.
func (FindingOpened) EventType() string { return "inspection.finding_opened" }

// FindingClosed records, on the inspection's stream, a finding verified as
// fixed.
type FindingClosed struct {
	FindingID string `json:"finding_id"`
	Rounds    int    `json:"rounds"` // fixes reported until one passed verification
}

// EventType implements EventData.
func (FindingClosed) EventType() string { return "inspection.finding_closed" }

// InspectionCompleted ends an inspection: every finding is closed.
type InspectionCompleted struct {
	Findings int `json:"findings"`
}

// EventType implements EventData.
func (InspectionCompleted) EventType() string { return "inspection.completed" }

// FindingAssigned is the first event of a finding's stream.
type FindingAssigned struct {
	Finding Finding `json:"finding"`
}

// EventType implements EventData.
func (FindingAssigned) EventType() string { return "finding.assigned" }

// FindingFixReported records an owner's report that the finding is fixed.
type FindingFixReported struct {
	FindingID string    `json:"finding_id"`
	By        string    `json:"by"`
	Report    FixReport `json:"report"`
	Round     int       `json:"round"`
}

// EventType implements EventData.
func (FindingFixReported) EventType() string { return "finding.fix_reported" }

// FindingVerified records the inspector's verification of a fix.
type FindingVerified struct {
	FindingID string `json:"finding_id"`
	By        string `json:"by"`
	Passed    bool   `json:"passed"`
	Note      string `json:"note,omitempty"`
	Round     int    `json:"round"`
}

// EventType implements EventData.
func (FindingVerified) EventType() string { return "finding.verified" }

// FindingReopened records that a fix failed verification; the owners work
// on it again.
type FindingReopened struct {
	FindingID string `json:"finding_id"`
	Round     int    `json:"round"` // the round that starts
}

// EventType implements EventData.
func (FindingReopened) EventType() string { return "finding.reopened" }

// FindingOverdue records a finding past its due time, escalated to its
// owners' managers and to security.
type FindingOverdue struct {
	FindingID string   `json:"finding_id"`
	Added     []string `json:"added"`
}

// EventType implements EventData.
func (FindingOverdue) EventType() string { return "finding.overdue" }

// FindingResolved ends a finding: a fix passed verification.
type FindingResolved struct {
	FindingID string `json:"finding_id"`
	Rounds    int    `json:"rounds"`
}

// EventType implements EventData.
func (FindingResolved) EventType() string { return "finding.resolved" }

func init() {
	RegisterEventType(InspectionRequested{})
	RegisterEventType(InspectionApproved{})
	RegisterEventType(InspectionRejected{})
	RegisterEventType(InspectionRecorded{})
	RegisterEventType(FindingOpened{})
	RegisterEventType(FindingClosed{})
	RegisterEventType(InspectionCompleted{})
	RegisterEventType(FindingAssigned{})
	RegisterEventType(FindingFixReported{})
	RegisterEventType(FindingVerified{})
	RegisterEventType(FindingReopened{})
	RegisterEventType(FindingOverdue{})
	RegisterEventType(FindingResolved{})
	RegisterFacts(KindInspection, InspectionRequest{}.Facts("", false))
}
