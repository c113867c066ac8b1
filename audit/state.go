package audit

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/houqin/houqin"
)

// State is a process as it stood at a moment, folded from its events: what
// an approver deciding then could see.
type State struct {
	ProcessID string          `json:"id"`
	Kind      string          `json:"kind"`
	Status    houqin.Status   `json:"status"`
	Requester string          `json:"requester"`
	Request   json.RawMessage `json:"request,omitempty"` // the first event's "request", as submitted
	AsOf      time.Time       `json:"as_of"`
	Version   int64           `json:"version"`  // last event included; -1 if none
	Position  int64           `json:"position"` // its global position
	Tasks     []houqin.Task   `json:"tasks"`    // open at AsOf, in the order they opened
	Timeline  []TimelineEntry `json:"timeline"`
}

// TimelineEntry is one event of a process in a State.
type TimelineEntry struct {
	Position   int64           `json:"position"`
	Version    int64           `json:"version"`
	Type       string          `json:"type"`
	Actor      string          `json:"actor"`
	OnBehalfOf string          `json:"on_behalf_of,omitempty"`
	At         time.Time       `json:"at"`
	Data       json.RawMessage `json:"data"`
}

// EventTime is when an event counts as having happened for StateAt: its
// business time (covered by the hash) if set, else when it was recorded.
func EventTime(e houqin.Event) time.Time {
	if !e.Meta.OccurredAt.IsZero() {
		return e.Meta.OccurredAt
	}
	return e.RecordedAt
}

// taskEndings are the task event verbs that close a task.
var taskEndings = map[string]bool{"completed": true, "cancelled": true, "expired": true, "withdrawn": true}

// processEndings are the verbs of "<kind>.<verb>" events that end a process.
// "process.withdrawn" and "process.revoked" (the approval engine's) end it too.
var processEndings = map[string]houqin.Status{
	"completed": houqin.StatusCompleted, "rejected": houqin.StatusRejected, "withdrawn": houqin.StatusWithdrawn,
	"cancelled": houqin.StatusCancelled, "failed": houqin.StatusFailed, "revoked": houqin.StatusCancelled,
}

// StateAt folds the events of one process stream, in version order, that
// happened at or before at (see EventTime). It is a pure function: events
// of types it does not know only appear in the timeline. task.opened opens
// a task; task.completed (or .cancelled, .expired, .withdrawn) with its
// task_id closes it; any other task event with its task_id and an
// "assignees" list (a transfer, an escalation) sets the task's assignees;
// "<kind>.completed|rejected|withdrawn|cancelled|failed" and
// "process.withdrawn|revoked" end the process and close its open tasks.
func StateAt(processID string, events []houqin.Event, at time.Time) State {
	s := State{ProcessID: processID, AsOf: at.UTC(), Version: -1, Status: houqin.StatusRunning,
		Tasks: []houqin.Task{}, Timeline: []TimelineEntry{}}
	if len(events) > 0 {
		s.Kind = houqin.Category(events[0].Stream)
	}
	open := map[string]houqin.Task{}
	var order []string // task IDs in the order they first opened
	listed := map[string]bool{}
	for _, e := range events {
		if EventTime(e).After(at) {
			break
		}
		s.Version, s.Position = e.Version, e.Position
		s.Timeline = append(s.Timeline, TimelineEntry{Position: e.Position, Version: e.Version, Type: e.Type,
			Actor: e.Meta.Actor, OnBehalfOf: e.Meta.OnBehalfOf, At: EventTime(e), Data: e.Data})
		cat, verb, _ := strings.Cut(e.Type, ".")
		switch {
		case e.Version == 0:
			var first struct {
				Requester string          `json:"requester"`
				Request   json.RawMessage `json:"request"`
			}
			_ = json.Unmarshal(e.Data, &first)
			s.Requester, s.Request = first.Requester, first.Request
			if s.Requester == "" {
				s.Requester = e.Meta.Actor
			}
		case e.Type == "task.opened":
			var p houqin.TaskOpened
			if json.Unmarshal(e.Data, &p) == nil && p.Task.ID != "" {
				if !listed[p.Task.ID] {
					order, listed[p.Task.ID] = append(order, p.Task.ID), true
				}
				open[p.Task.ID] = p.Task
			}
		case cat == "task":
			var p struct {
				TaskID    string   `json:"task_id"`
				Assignees []string `json:"assignees"`
			}
			if json.Unmarshal(e.Data, &p) != nil {
				break
			}
			if t, ok := open[p.TaskID]; ok && taskEndings[verb] {
				delete(open, p.TaskID)
			} else if ok && len(p.Assignees) > 0 { // transferred, escalated, …: the assignees after it
				t.Assignees = p.Assignees
				open[p.TaskID] = t
			}
		case (cat == s.Kind || cat == "process") && processEndings[verb] != "":
			s.Status = processEndings[verb]
			clear(open)
		}
	}
	for _, id := range order {
		if t, ok := open[id]; ok {
			s.Tasks = append(s.Tasks, t)
		}
	}
	return s
}

// Participants returns everyone a process's events name as requester or
// task assignee, sorted: the people besides the reader roles who may look
// at its past.
func Participants(events []houqin.Event) []string {
	seen := map[string]bool{}
	if len(events) > 0 {
		s := StateAt("", events[:1], EventTime(events[0]))
		if s.Requester != "" {
			seen[s.Requester] = true
		}
	}
	for _, e := range events {
		if e.Type != "task.opened" {
			continue
		}
		var p houqin.TaskOpened
		if json.Unmarshal(e.Data, &p) == nil {
			for _, a := range p.Task.Assignees {
				seen[a] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
