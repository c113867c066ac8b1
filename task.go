package houqin

import (
	"encoding/json"
	"strings"
	"time"
)

// Task is a human step of a process: an approval or a piece of work. It is
// opened by a task.opened event on the process's stream and ends with one
// task.completed event.
type Task struct {
	ID        string      `json:"id"` // "<processID>.<step>.<n>", e.g. "PR-2026-000001.dept_approval.1"
	ProcessID string      `json:"process_id"`
	Kind      ProcessKind `json:"kind"`
	Step      string      `json:"step"`
	Name      Text        `json:"name"` // the step's name in zh and en
	Assignees []string    `json:"assignees"`
	// OnBehalfOf maps an assignee who is a delegate to the approver they
	// stand in for.
	OnBehalfOf map[string]string `json:"on_behalf_of,omitempty"`
	DueAt      time.Time         `json:"due_at"`
	Actions    []string          `json:"actions"` // e.g. ["approve","reject","return",…] or ["complete",…]
}

// The actions a task may allow.
const (
	ActionApprove     = "approve"
	ActionReject      = "reject"       // a reason is required
	ActionReturn      = "return"       // 退回: to the requester, or to an earlier step
	ActionTransfer    = "transfer"     // 转交: to another user
	ActionAddApprover = "add-approver" // 加签: before, after or in parallel with the current approver
	ActionComplete    = "complete"     // a work task's data
	ActionResubmit    = "resubmit"     // the requester's task after a return
	ActionRemind      = "remind"       // 催办: the requester nudges the assignees; rate-limited
	ActionComment     = "comment"      // anyone involved; changes nothing
	ActionNoClaim     = "no-claim"     // a trip's claim task: nothing to claim; the trip completes
)

// The positions of an added approver.
const (
	AddBefore   = "before"   // 前加签: the added users approve first, then the task returns to its assignee
	AddAfter    = "after"    // 后加签: the added users approve once the assignee has approved
	AddParallel = "parallel" // the added users approve alongside the assignee, each must approve
)

// TaskAction is what a user asks to do with a task: the argument of the
// workflow update that acts on it.
type TaskAction struct {
	TaskID  string          `json:"task_id"`
	Action  string          `json:"action"` // approve | reject | complete
	Actor   string          `json:"actor"`  // authenticated user ID, set by the API, never by the client
	Comment string          `json:"comment,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"` // complete: the step's data; resubmit: the amended request, if any

	To       string   `json:"to,omitempty"`       // transfer: the new assignee
	Users    []string `json:"users,omitempty"`    // add-approver: who is added
	Position string   `json:"position,omitempty"` // add-approver: before | after | parallel
	ToStep   string   `json:"to_step,omitempty"`  // return: an earlier step's ID; "" = the requester
}

// TaskOutcome is the result of a TaskAction.
type TaskOutcome struct {
	TaskID   string `json:"task_id"`
	Status   Status `json:"status"`   // the process's status after the action
	Position int64  `json:"position"` // global position of the last event written, for read-your-writes
}

// TaskOpened records that a task now waits for one of its assignees, and
// why they were assigned.
type TaskOpened struct {
	Task        Task         `json:"task"`
	Explanation *Explanation `json:"explanation,omitempty"`
}

// EventType implements EventData.
func (TaskOpened) EventType() string { return "task.opened" }

// TaskCompleted records the action that ended a task: approve, reject and
// complete all end it.
type TaskCompleted struct {
	TaskID string `json:"task_id"`
	Step   string `json:"step"`
	Action string `json:"action"`
	Actor  string `json:"actor"`
	// OnBehalfOf is the approver the actor stood in for, if a delegate.
	OnBehalfOf string          `json:"on_behalf_of,omitempty"`
	Comment    string          `json:"comment,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	// Auto says why the system decided: "timeout", "dedup" or "fallback";
	// "" for a person's action.
	Auto string `json:"auto,omitempty"`
}

// EventType implements EventData.
func (TaskCompleted) EventType() string { return "task.completed" }

// TaskCancelled records that a task closed without an action of its own:
// another approver decided the step, the process was withdrawn, or an
// approver was added before its assignee.
type TaskCancelled struct {
	TaskID string `json:"task_id"`
	Reason string `json:"reason"`
}

// EventType implements EventData.
func (TaskCancelled) EventType() string { return "task.cancelled" }

// TaskTransferred records that an assignee handed a task to another user
// (转交), or that the system moved it from a user who left the
// organisation (Reason says so; the actor is system); the task keeps its ID.
type TaskTransferred struct {
	TaskID     string   `json:"task_id"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	OnBehalfOf string   `json:"on_behalf_of,omitempty"`
	Comment    string   `json:"comment,omitempty"`
	Reason     string   `json:"reason,omitempty"` // why the system moved it
	Assignees  []string `json:"assignees"`        // after the transfer
}

// Reassignment moves an open task from an assignee who may no longer act
// on it (they left the organisation) to their successor (Org.Successor).
// The system sends it, never a user.
type Reassignment struct {
	TaskID string `json:"task_id"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// TaskProcess returns the process of a task ID, "<process>.<step>.<n>":
// everything before the step, so a process ID with a dot in it (a survey
// of user liu.yang, "SV-EV-2026-000001-liu.yang") is whole. Its workflow
// ID is the process ID.
func TaskProcess(taskID string) (string, bool) {
	i := strings.LastIndex(taskID, ".")
	if i <= 0 {
		return "", false
	}
	j := strings.LastIndex(taskID[:i], ".")
	if j <= 0 || j+1 == i || i+1 == len(taskID) {
		return "", false
	}
	return taskID[:j], true
}

// EventType implements EventData.
func (TaskTransferred) EventType() string { return "task.transferred" }

// ApproverAdded records an added approver (加签).
type ApproverAdded struct {
	TaskID     string   `json:"task_id"`
	By         string   `json:"by"`
	OnBehalfOf string   `json:"on_behalf_of,omitempty"`
	Users      []string `json:"users"`
	Position   string   `json:"position"`
	Comment    string   `json:"comment,omitempty"`
}

// EventType implements EventData.
func (ApproverAdded) EventType() string { return "task.approver_added" }

// TaskReminded records a reminder (催办) of a task's assignees: by the
// requester, or by the system at a reminder offset of the step.
type TaskReminded struct {
	TaskID    string   `json:"task_id"`
	By        string   `json:"by"`
	Assignees []string `json:"assignees"`
	Comment   string   `json:"comment,omitempty"`
}

// EventType implements EventData.
func (TaskReminded) EventType() string { return "task.reminded" }

// TaskCommented records a comment on a task; it changes nothing else.
type TaskCommented struct {
	TaskID  string `json:"task_id"`
	By      string `json:"by"`
	Comment string `json:"comment"`
}

// EventType implements EventData.
func (TaskCommented) EventType() string { return "task.commented" }

// TaskEscalated records that a task overdue or open too long was escalated
// to its assignees' managers, who were added to it.
type TaskEscalated struct {
	TaskID    string    `json:"task_id"`
	Added     []string  `json:"added"`
	Assignees []string  `json:"assignees"` // after the escalation
	DueAt     time.Time `json:"due_at"`
	Reason    string    `json:"reason"`
}

// EventType implements EventData.
func (TaskEscalated) EventType() string { return "task.escalated" }

func init() {
	RegisterEventType(TaskOpened{})
	RegisterEventType(TaskCompleted{})
	RegisterEventType(TaskCancelled{})
	RegisterEventType(TaskTransferred{})
	RegisterEventType(ApproverAdded{})
	RegisterEventType(TaskReminded{})
	RegisterEventType(TaskCommented{})
	RegisterEventType(TaskEscalated{})
}
