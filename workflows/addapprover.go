package workflows

import (
	"fmt"
	"slices"
	"strings"

	"github.com/houqin/houqin"
	"go.temporal.io/sdk/workflow"
)

// addedRule begins the rule of an assignee added by 加签: "added by
// liu.yang".
const addedRule = "added by "

// isAdded reports whether a was added to the step by 加签.
func isAdded(a houqin.Assignee) bool { return strings.HasPrefix(a.Rule, addedRule) }

// holding returns the group that holds task t now: its assignees after
// transfers and escalations, as they stand in group where they were there
// from the start.
func holding(t *openTask, group []houqin.Assignee) []houqin.Assignee {
	var out []houqin.Assignee
	for _, u := range t.task.Assignees {
		if k := slices.IndexFunc(group, func(a houqin.Assignee) bool { return a.User == u }); k >= 0 {
			out = append(out, group[k])
			continue
		}
		out = append(out, houqin.Assignee{User: u, Rule: "holder of " + t.task.ID, OnBehalfOf: t.task.OnBehalfOf[u]})
	}
	return out
}

// add takes an add-approver (加签): before the current assignee (their task
// waits until the added users approved), after them (the added users
// approve once they approved), or in parallel (each added user gets a task
// now and must approve as well).
func (ap *approval) add(ctx workflow.Context, s houqin.PolicyStep, sl *slot, t *openTask, d *decision,
	slots *[]*slot, required *int, start func(*slot) error, spec func([]houqin.Assignee) taskSpec) error {
	p := ap.p
	var added [][]houqin.Assignee
	for _, u := range d.Users {
		added = append(added, []houqin.Assignee{{User: u, Rule: addedRule + d.Actor, Note: "加签 " + d.Position}})
	}
	p.settling = append(p.settling, d)
	err := p.recordFor(ctx, d.Actor, d.onBehalfOf, d.updateID, houqin.ApproverAdded{
		TaskID: t.task.ID, By: d.Actor, OnBehalfOf: d.onBehalfOf, Users: d.Users, Position: d.Position, Comment: d.Comment})
	if err != nil {
		return err
	}
	switch d.Position {
	case houqin.AddBefore:
		// The current group decides again after the added users, in a new
		// task: its assignees see what the added approvers said.
		head := sl.groups[0]
		if p.integrity {
			head = holding(t, head)
		}
		sl.groups = append(append(added, head), sl.groups[1:]...)
		if err := p.cancel(ctx, t, fmt.Sprintf("%s added %s to approve first", d.Actor, strings.Join(d.Users, ", "))); err != nil {
			return err
		}
		return start(sl)
	case houqin.AddAfter:
		sl.groups = append(append([][]houqin.Assignee{sl.groups[0]}, added...), sl.groups[1:]...)
		t.decided = false
	case houqin.AddParallel:
		t.decided = false
		for _, g := range added {
			n := &slot{groups: [][]houqin.Assignee{g}}
			*slots = append(*slots, n)
			*required++
			if err := start(n); err != nil {
				return err
			}
		}
	}
	return nil
}
