package workflows

// All returns every workflow function houqin runs. The worker registers
// them and the replayer (worker.Replay, `houqin replay`) replays recorded
// histories against them, so a workflow added here is both run and
// checked for non-determinism.
func All() []any {
	return []any{Procurement, Budget, Issue, Stocktake, Reorder, ScheduledStocktake, Survey, Inspection, Finding, ScheduledInspection, Trip, Event}
}
