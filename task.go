package houqin

import (
	"encoding/json"
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
	Assignees []string    `json:"assignees"`
	DueAt     time.Time   `json:"due_at"`
	Actions   []string    `json:"actions"` // e.g. ["approve","reject"] or ["complete"]
}

// The actions a task may allow.
const (
	ActionApprove  = "approve"
	ActionReject   = "reject"
	ActionComplete = "complete"
)

// TaskAction is what a user asks to do with a task: the argument of the
// workflow update that acts on it.
type TaskAction struct {
	TaskID  string          `json:"task_id"`
	Action  string          `json:"action"` // approve | reject | complete
	Actor   string          `json:"actor"`  // authenticated user ID, set by the API, never by the client
	Comment string          `json:"comment,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"` // for complete: the step's data
}

// TaskOutcome is the result of a TaskAction.
type TaskOutcome struct {
	TaskID   string `json:"task_id"`
	Status   Status `json:"status"`   // the process's status after the action
	Position int64  `json:"position"` // global position of the last event written, for read-your-writes
}

// TaskOpened records that a task now waits for one of its assignees.
type TaskOpened struct {
	Task Task `json:"task"`
}

// EventType implements EventData.
func (TaskOpened) EventType() string { return "task.opened" }

// TaskCompleted records the action that ended a task: approve, reject and
// complete all end it.
type TaskCompleted struct {
	TaskID  string          `json:"task_id"`
	Step    string          `json:"step"`
	Action  string          `json:"action"`
	Actor   string          `json:"actor"`
	Comment string          `json:"comment,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// EventType implements EventData.
func (TaskCompleted) EventType() string { return "task.completed" }

func init() {
	RegisterEventType(TaskOpened{})
	RegisterEventType(TaskCompleted{})
}
