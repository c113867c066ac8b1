package houqin

import (
	"strings"
	"unicode/utf8"
)

// The outcomes of a deliverable's review.
const (
	OutcomeAccepted    = "accepted"
	OutcomeMinorIssues = "minor_issues"
	OutcomeMajorError  = "major_error"
)

// The kinds of deliverables: the documents a process delivers.
var DeliverableKinds = []string{"report", "minutes", "letter", "plan", "other"}

// DeliverableStream returns the stream of the reviews of one process's
// deliverables, "deliverable-PR-2026-000001". Process streams are written
// by their workflow alone, so reviews go to a stream of their own.
func DeliverableStream(processID string) string { return "deliverable-" + processID }

// DeliverableReviewed records the review of a document a process
// delivered: a report, minutes, a letter, a plan. Each review counts once
// in the deliverable-quality KPI; a re-reviewed document counts again.
type DeliverableReviewed struct {
	ProcessID  string      `json:"process_id"`
	Kind       string      `json:"kind"`     // report | minutes | letter | plan | other
	Document   string      `json:"document"` // the document's reference, unique within the process
	Title      string      `json:"title"`
	Outcome    string      `json:"outcome"` // accepted | minor_issues | major_error
	Reviewer   string      `json:"reviewer"`
	Comment    string      `json:"comment,omitempty"`
	Department string      `json:"department,omitempty"`   // the department of the process, if known
	Process    ProcessKind `json:"process_kind,omitempty"` // the kind of the process, if known
}

// EventType implements EventData.
func (DeliverableReviewed) EventType() string { return "deliverable.reviewed" }

// Validate checks a review; errors name the field.
func (d DeliverableReviewed) Validate() error {
	kindOK := false
	for _, k := range DeliverableKinds {
		kindOK = kindOK || d.Kind == k
	}
	switch {
	case strings.TrimSpace(d.ProcessID) == "":
		return Errorf(EINVALID, "process_id: required")
	case !kindOK:
		return Errorf(EINVALID, "kind: must be one of %s, got %q", strings.Join(DeliverableKinds, ", "), d.Kind)
	case strings.TrimSpace(d.Document) == "":
		return Errorf(EINVALID, "document: required")
	case utf8.RuneCountInString(d.Document) > 200:
		return Errorf(EINVALID, "document: longer than 200 characters")
	case strings.TrimSpace(d.Title) == "":
		return Errorf(EINVALID, "title: required")
	case utf8.RuneCountInString(d.Title) > 500:
		return Errorf(EINVALID, "title: longer than 500 characters")
	case d.Outcome != OutcomeAccepted && d.Outcome != OutcomeMinorIssues && d.Outcome != OutcomeMajorError:
		return Errorf(EINVALID, "outcome: must be accepted, minor_issues or major_error, got %q", d.Outcome)
	case strings.TrimSpace(d.Reviewer) == "":
		return Errorf(EINVALID, "reviewer: required")
	case utf8.RuneCountInString(d.Comment) > 2000:
		return Errorf(EINVALID, "comment: longer than 2000 characters")
	}
	return nil
}

func init() {
	RegisterEventType(DeliverableReviewed{})
}
