package houqin

import (
	"slices"
	"strings"
)

// The policy steps whose approval covers spending beyond the plan: a
// reservation may go into a line's tolerance band only if the route ran
// StepBudgetReview and it was approved, past the band only if it ran
// StepBudgetException. Who approved other steps, whatever their roles,
// covers nothing.
const (
	StepBudgetReview    = "budget_review"    // covers BudgetWarn
	StepBudgetException = "budget_exception" // covers BudgetExceeded
)

// BudgetCover returns the worst budget status the approved steps of a
// route cover: BudgetWithin unless they include StepBudgetReview (warn)
// or StepBudgetException (exceeded).
func BudgetCover(approvedSteps []string) string {
	switch {
	case slices.Contains(approvedSteps, StepBudgetException):
		return BudgetExceeded
	case slices.Contains(approvedSteps, StepBudgetReview):
		return BudgetWarn
	}
	return BudgetWithin
}

// DefaultMaxToleranceBP is the widest tolerance band a new budget line may
// have: 20 %. A band is the room a line gives beyond its plan before an
// exception is needed; a wider one would make the plan meaningless.
const DefaultMaxToleranceBP = 2000

// CheckTolerance refuses, as EINVALID naming the line, a draft line whose
// tolerance passes max basis points. New budgets are checked with it; the
// workflows do not check it again, so budgets drafted before it keep
// running.
func (d BudgetDraft) CheckTolerance(max int) error {
	for i, l := range d.Lines {
		if l.Tolerance() > max {
			return Errorf(EINVALID, "lines[%d].tolerance_bp: at most %d basis points (%s), got %d", i, max, Percent(int64(max)), l.Tolerance())
		}
	}
	return nil
}

// CheckBudgetCategory refuses, as EINVALID naming field, a category that
// is not one of BudgetCategories. New requests are checked with it; the
// workflows do not check it again, so processes started before it keep
// running.
func CheckBudgetCategory(field, category string) error {
	if !slices.Contains(BudgetCategories, category) {
		return Errorf(EINVALID, "%s: must be one of %s, got %q", field, strings.Join(BudgetCategories, ", "), category)
	}
	return nil
}
