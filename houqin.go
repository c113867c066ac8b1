// Package houqin is the domain language of houqin (后勤), a workflow and
// approval engine for a company's administration and logistics department.
//
// Every business process — procurement, business trips, inspection and
// remediation, event planning, the annual logistics budget — runs as a durable
// Temporal workflow, and every fact it establishes is recorded as an immutable
// Event in an EventStore. Projections fold those events into read models.
//
// This package holds the types every layer shares and imports no Temporal,
// HTTP or SQL driver code; the adapters live in packages named after what they
// wrap (sqlite, postgres, …) and cmd/houqin wires them together.
package houqin

// ProcessKind names a kind of business process.
type ProcessKind string

// The process kinds houqin runs.
const (
	KindProcurement ProcessKind = "procurement"
	KindTrip        ProcessKind = "trip"
	KindInspection  ProcessKind = "inspection"
	KindEvent       ProcessKind = "event"
	KindBudget      ProcessKind = "budget"
)

// KindTitles names each process kind in zh and en, as a requester knows it.
var KindTitles = map[ProcessKind]Text{
	KindProcurement: {Zh: "采购申请", En: "Procurement"},
	KindTrip:        {Zh: "出差申请", En: "Business trip"},
	KindInspection:  {Zh: "检查整改", En: "Inspection"},
	KindEvent:       {Zh: "活动会议", En: "Event"},
	KindBudget:      {Zh: "后勤预算", En: "Logistics budget"},
	KindIssue:       {Zh: "物品领用", En: "Inventory issue"},
	KindStocktake:   {Zh: "库存盘点", En: "Stocktake"},
}

// ProcessID identifies one process instance; it is also its Temporal workflow
// ID, e.g. "PR-2026-000123".
type ProcessID string

// Status is the lifecycle state of a process.
type Status string

// The statuses a process can be in.
const (
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusRejected  Status = "rejected"
	StatusWithdrawn Status = "withdrawn"
	StatusCancelled Status = "cancelled"
	StatusFailed    Status = "failed"
	// StatusTerminated: the workflow was ended outside houqin (terminated,
	// timed out or failed in Temporal) and recorded by the reconciler.
	StatusTerminated Status = "terminated"
)
