package houqin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Assignee is a user a step's task is assigned to, and why.
type Assignee struct {
	User       string `json:"user"`
	OnBehalfOf string `json:"on_behalf_of,omitempty"` // the approver this user stands in for (delegation)
	Rule       string `json:"rule"`                   // the policy rule that named the approver, or "fallback"
	Note       string `json:"note,omitempty"`         // a replacement: departed, separation of duties, delegation
}

// Explanation says why a step applies or is skipped, and how its approvers
// were found; every assignment records it in its event.
type Explanation struct {
	Step      string   `json:"step"`
	Condition string   `json:"condition,omitempty"` // the step's when, if any
	Applies   bool     `json:"applies"`
	Reason    string   `json:"reason"`             // one sentence
	Rules     []string `json:"rules,omitempty"`    // what each rule resolved to, and every replacement
	Fallback  string   `json:"fallback,omitempty"` // the fallback taken when no approver resolved
}

// Resolution is one step of a route resolved for a request at a moment:
// whether it applies and who approves.
type Resolution struct {
	Step        string      `json:"step"`
	Name        Text        `json:"name"`
	Mode        Mode        `json:"mode"`
	Applies     bool        `json:"applies"`
	AutoApprove bool        `json:"auto_approve,omitempty"` // the fallback approves the step without a task
	Assignees   []Assignee  `json:"assignees"`
	Required    int         `json:"required"` // approvals the step needs
	Explanation Explanation `json:"explanation"`
}

// Users returns the user IDs of r's assignees, in order.
func (r Resolution) Users() []string {
	out := make([]string, len(r.Assignees))
	for i, a := range r.Assignees {
		out[i] = a.User
	}
	return out
}

// Delegation is an out-of-office delegation: Delegate acts for User on
// tasks assigned between From and To.
type Delegation struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Delegate string    `json:"delegate"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Reason   string    `json:"reason,omitempty"`
}

// ActiveAt reports whether d covers the moment t.
func (d Delegation) ActiveAt(t time.Time) bool { return !t.Before(d.From) && t.Before(d.To) }

// Validate reports the first rule d breaks as EINVALID, naming the field.
func (d Delegation) Validate(org *Org) error {
	switch {
	case d.Delegate == "":
		return Errorf(EINVALID, "delegate: required")
	case d.Delegate == d.User:
		return Errorf(EINVALID, "delegate: %q cannot delegate to themselves", d.User)
	case d.From.IsZero():
		return Errorf(EINVALID, "from: required, an RFC 3339 time")
	case d.To.IsZero():
		return Errorf(EINVALID, "to: required, an RFC 3339 time")
	case !d.To.After(d.From):
		return Errorf(EINVALID, "to: must be after from")
	case d.To.Sub(d.From) > 366*24*time.Hour:
		return Errorf(EINVALID, "to: a delegation lasts at most a year")
	case len([]rune(d.Reason)) > maxReasonLen:
		return Errorf(EINVALID, "reason: longer than %d characters", maxReasonLen)
	}
	if _, err := org.User(d.User); err != nil {
		return Errorf(EINVALID, "user: no user %q", d.User)
	}
	u, err := org.User(d.Delegate)
	if err != nil {
		return Errorf(EINVALID, "delegate: no user %q", d.Delegate)
	}
	if u.Left {
		return Errorf(EINVALID, "delegate: %q has left the organisation", d.Delegate)
	}
	return nil
}

// DelegationStream returns the stream of a user's delegations.
func DelegationStream(user string) string { return "delegation-" + user }

// Resolver resolves the approvers of policy steps against the organisation
// and the delegations in force. The approval engine calls it when a step
// starts (an activity), the preview calls it for a whole route.
type Resolver struct {
	Org *Org
	// Delegation returns the delegation of user active at a moment, if any.
	// Nil means no delegations.
	Delegation func(user string, at time.Time) (Delegation, bool, error)
}

// Resolve resolves step i of kp for a request by requester with facts, at
// a moment: the condition, each approver rule, departed approvers replaced
// by their fallback, separation of duties, delegations, and the fallback
// when nobody is left.
func (r Resolver) Resolve(kp KindPolicy, i int, requester string, facts Facts, at time.Time) (Resolution, error) {
	return r.ResolveFor(kp, i, requester, "", facts, at)
}

// ResolveFor is Resolve for a request submitted by requester for someone
// else, subject (a trip's traveller when an assistant submits): the
// separation of duties keeps both from approving it. An empty subject, or
// the requester, is Resolve.
func (r Resolver) ResolveFor(kp KindPolicy, i int, requester, subject string, facts Facts, at time.Time) (Resolution, error) {
	if subject == requester {
		subject = ""
	}
	if i < 0 || i >= len(kp.Steps) {
		return Resolution{}, Errorf(EINVALID, "step: %s has no step %d", kp.Kind, i)
	}
	s := kp.Steps[i]
	res := Resolution{Step: s.ID, Name: s.Name, Mode: s.Mode, Assignees: []Assignee{},
		Explanation: Explanation{Step: s.ID, Condition: s.When}}
	ex := &res.Explanation
	ok, err := EvalCondition(kp.Kind, s.When, facts)
	if err != nil {
		return Resolution{}, Errorf(EINVALID, "step %s: %s", s.ID, ErrorMessage(err))
	}
	if !ok {
		ex.Reason = fmt.Sprintf("skipped: the condition %s is false for this request", s.When)
		return res, nil
	}
	res.Applies, ex.Applies = true, true
	if s.When == "" {
		ex.Reason = "applies to every request"
	} else {
		ex.Reason = fmt.Sprintf("applies: the condition %s is true for this request", s.When)
	}

	var as []Assignee
	for _, text := range s.Approvers {
		rule, _ := ParseApproverRule(text) // validated at load
		users, note := r.rule(rule, requester, facts)
		ex.Rules = append(ex.Rules, fmt.Sprintf("%s → %s", text, note))
		for _, u := range users {
			as = append(as, Assignee{User: u, Rule: text})
		}
	}
	as = r.replace(kp, as, requester, subject, at, ex)
	if len(as) == 0 {
		fb := kp.FallbackFor(s)
		switch fb.Action {
		case "skip":
			res.Applies, ex.Applies = false, false
			ex.Fallback = "no approver resolved; the policy skips the step"
			ex.Reason = "skipped: no approver resolved"
			return res, nil
		case "auto_approve":
			res.AutoApprove = true
			ex.Fallback = "no approver resolved; the policy approves the step automatically"
			return res, nil
		case "user":
			as = []Assignee{{User: fb.User, Rule: "fallback", Note: "no approver resolved; fallback user"}}
			ex.Fallback = fmt.Sprintf("no approver resolved; fallback user %s", fb.User)
		case "role":
			for _, u := range r.Org.WithRole(fb.Role) {
				as = append(as, Assignee{User: u.ID, Rule: "fallback", Note: "no approver resolved; fallback role " + fb.Role})
			}
			ex.Fallback = fmt.Sprintf("no approver resolved; fallback role %s", fb.Role)
		}
		as = r.replace(kp, as, requester, subject, at, ex)
		if len(as) == 0 {
			if subject != "" {
				return Resolution{}, Errorf(ENOTALLOWED, "step %s: no approver resolved and the fallback (%s) names nobody but the requester and %s, whom the request is for", s.ID, ex.Fallback, subject)
			}
			return Resolution{}, Errorf(ENOTALLOWED, "step %s: no approver resolved and the fallback (%s) names nobody but the requester", s.ID, ex.Fallback)
		}
	}
	res.Assignees = as
	res.Required = s.NeededApprovals(len(as))
	return res, nil
}

// rule resolves one approver rule to users, with a note on the outcome.
func (r Resolver) rule(rule ApproverRule, requester string, facts Facts) ([]string, string) {
	switch rule.Kind {
	case RuleDeptHead:
		u, err := r.Org.User(requester)
		if err != nil {
			return nil, "nobody: unknown requester"
		}
		// The department the request charges, which is the requester's
		// own unless they may charge any (Org.CheckCharge).
		dept := u.Department
		if d, ok := facts["department"].(string); ok && d != "" {
			dept = d
		}
		head, err := r.Org.DeptHead(dept)
		if err != nil {
			return nil, "nobody: " + ErrorMessage(err)
		}
		return []string{head.ID}, fmt.Sprintf("%s (head of %s)", head.ID, dept)
	case RuleManager:
		m, err := r.Org.Manager(requester, rule.Levels)
		if err != nil {
			return nil, "nobody: " + ErrorMessage(err)
		}
		return []string{m.ID}, fmt.Sprintf("%s (%d level(s) above %s)", m.ID, rule.Levels, requester)
	case RuleRole:
		var ids []string
		for _, u := range r.Org.WithRole(rule.Arg) {
			ids = append(ids, u.ID)
		}
		if len(ids) == 0 {
			return nil, "nobody has the role"
		}
		return ids, strings.Join(ids, ", ")
	case RuleUser:
		if _, err := r.Org.User(rule.Arg); err != nil {
			return nil, "nobody: no such user"
		}
		return []string{rule.Arg}, rule.Arg
	case RuleField:
		id, _ := facts[rule.Arg].(string)
		if _, err := r.Org.User(id); err != nil {
			return nil, fmt.Sprintf("nobody: field %s names no user (%q)", rule.Arg, id)
		}
		return []string{id}, fmt.Sprintf("%s (field %s)", id, rule.Arg)
	}
	return nil, "nobody: unknown rule"
}

// replace applies, in order, the replacements of approvers: a departed
// approver by their fallback, the requester and the subject (whom the
// request is for, if not the requester) per the separation of duties, an
// absent approver by their delegate; then drops repeats.
func (r Resolver) replace(kp KindPolicy, as []Assignee, requester, subject string, at time.Time, ex *Explanation) []Assignee {
	// party says how u takes part in the request, "" if not at all.
	party := func(u string) string {
		switch {
		case u == requester:
			return "requested this"
		case subject != "" && u == subject:
			return "is the person this request is for"
		}
		return ""
	}
	out := make([]Assignee, 0, len(as))
	for _, a := range as {
		a, ok := r.stayer(a, ex)
		if !ok {
			continue
		}
		if why := party(a.User); why != "" {
			u := a.User
			if kp.SelfApproval == "skip" {
				ex.Rules = append(ex.Rules, fmt.Sprintf("separation of duties: %s %s and is dropped from the step", u, why))
				continue
			}
			m, err := r.Org.Manager(u, 1)
			if err != nil {
				ex.Rules = append(ex.Rules, fmt.Sprintf("separation of duties: %s %s and has no manager; dropped", u, why))
				continue
			}
			ex.Rules = append(ex.Rules, fmt.Sprintf("separation of duties: %s %s; routed to their manager %s", u, why, m.ID))
			note := "separation of duties: the requester's manager"
			if u != requester {
				note = "separation of duties: the manager of the person the request is for"
			}
			a = Assignee{User: m.ID, Rule: a.Rule, Note: note}
			if a, ok = r.stayer(a, ex); !ok {
				continue
			}
		}
		switch party(a.User) {
		case "":
		case "requested this":
			// The manager's replacement is the requester again.
			ex.Rules = append(ex.Rules, fmt.Sprintf("separation of duties: the replacement of %s is the requester; dropped", a.User))
			continue
		default:
			ex.Rules = append(ex.Rules, fmt.Sprintf("separation of duties: the replacement of %s is the person this request is for; dropped", a.User))
			continue
		}
		if r.Delegation != nil {
			d, ok, err := r.Delegation(a.User, at)
			switch {
			case err != nil:
				ex.Rules = append(ex.Rules, fmt.Sprintf("delegation of %s could not be read; not applied", a.User))
			case ok && d.Delegate == requester:
				ex.Rules = append(ex.Rules, fmt.Sprintf("delegation of %s to the requester %s is not applied (separation of duties)", a.User, requester))
			case ok && subject != "" && d.Delegate == subject:
				ex.Rules = append(ex.Rules, fmt.Sprintf("delegation of %s to %s, the person this request is for, is not applied (separation of duties)", a.User, subject))
			case ok && r.left(d.Delegate):
				ex.Rules = append(ex.Rules, fmt.Sprintf("delegation of %s to %s is not applied: %s has left", a.User, d.Delegate, d.Delegate))
			case ok && slices.ContainsFunc(as, func(b Assignee) bool { return b.User == d.Delegate }):
				// One person holds one slot of a step: a 会签 of two
				// stays two people.
				ex.Rules = append(ex.Rules, fmt.Sprintf("delegation of %s to %s is not applied: %s holds another slot of this step", a.User, d.Delegate, d.Delegate))
			case ok:
				ex.Rules = append(ex.Rules, fmt.Sprintf("%s is away until %s; delegated to %s", a.User, d.To.Format(time.RFC3339), d.Delegate))
				a = Assignee{User: d.Delegate, OnBehalfOf: a.User, Rule: a.Rule, Note: fmt.Sprintf("delegate of %s (delegation %s)", a.User, d.ID)}
			}
		}
		if slices.ContainsFunc(out, func(b Assignee) bool { return b.User == a.User }) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// left reports whether a user has left the organisation (or is unknown).
func (r Resolver) left(user string) bool {
	u, err := r.Org.User(user)
	return err != nil || u.Left
}

// stayer returns a, or a's replacement if a has left the organisation: the
// user's fallback, else their manager. false if nobody is left.
func (r Resolver) stayer(a Assignee, ex *Explanation) (Assignee, bool) {
	_, chain, err := r.Org.Successor(a.User)
	for i := 1; i < len(chain); i++ {
		ex.Rules = append(ex.Rules, fmt.Sprintf("%s has left; replaced by %s", chain[i-1], chain[i]))
		a = Assignee{User: chain[i], Rule: a.Rule, Note: fmt.Sprintf("replaces %s, who has left", chain[i-1])}
	}
	if err != nil {
		if len(chain) > 0 {
			ex.Rules = append(ex.Rules, fmt.Sprintf("%s has left and has no fallback; dropped", chain[len(chain)-1]))
		}
		return a, false
	}
	return a, true
}

// Route resolves every step of kp for a request: the preview of the route
// (预览审批流程). Where the policy de-duplicates, the explanation of a step
// notes each approver who approves an earlier step too: the engine carries
// their approval over.
func (r Resolver) Route(kp KindPolicy, requester string, facts Facts, at time.Time) ([]Resolution, error) {
	return r.RouteFor(kp, requester, "", facts, at)
}

// RouteFor is Route for a request submitted by requester for subject (see
// ResolveFor).
func (r Resolver) RouteFor(kp KindPolicy, requester, subject string, facts Facts, at time.Time) ([]Resolution, error) {
	out := make([]Resolution, 0, len(kp.Steps))
	var approved []string
	for i, s := range kp.Steps {
		res, err := r.ResolveFor(kp, i, requester, subject, facts, at)
		if err != nil {
			return nil, err
		}
		if res.Applies && kp.DedupFor(s) {
			for _, a := range res.Assignees {
				if slices.Contains(approved, a.User) {
					res.Explanation.Rules = append(res.Explanation.Rules,
						fmt.Sprintf("dedup: %s approves an earlier step; their approval carries over", a.User))
				}
			}
		}
		for _, a := range res.Assignees {
			approved = append(approved, a.User)
		}
		out = append(out, res)
	}
	return out, nil
}

// ProcessAction is what the requester asks of a whole process: the
// argument of the workflow update UpdateProcess.
type ProcessAction struct {
	Action  string `json:"action"` // withdraw | revoke
	Actor   string `json:"actor"`  // set by the API
	Comment string `json:"comment,omitempty"`
}

// The process actions.
const (
	ActionWithdraw = "withdraw" // 撤回: while the approval is pending
	ActionRevoke   = "revoke"   // 撤销: after approval, where the policy allows
)

// StepStarted records that an approval step applies and whom it asks.
type StepStarted struct {
	Step        string      `json:"step"`
	Name        Text        `json:"name"`
	Mode        Mode        `json:"mode"`
	Required    int         `json:"required"`
	Assignees   []Assignee  `json:"assignees"`
	Explanation Explanation `json:"explanation"`
}

// EventType implements EventData.
func (StepStarted) EventType() string { return "approval.step_started" }

// StepSkipped records that an approval step does not apply to the request,
// or was approved without a task (fallback auto_approve, de-duplication).
type StepSkipped struct {
	Step        string      `json:"step"`
	Name        Text        `json:"name"`
	Explanation Explanation `json:"explanation"`
}

// EventType implements EventData.
func (StepSkipped) EventType() string { return "approval.step_skipped" }

// StepCompleted records how an approval step ended.
type StepCompleted struct {
	Step      string   `json:"step"`
	Outcome   string   `json:"outcome"` // approved | rejected | returned
	Approvals []string `json:"approvals,omitempty"`
}

// EventType implements EventData.
func (StepCompleted) EventType() string { return "approval.step_completed" }

// ProcessReturned records a return (退回): to the requester for
// resubmission (ToStep ""), or to an earlier step.
type ProcessReturned struct {
	By         string `json:"by"`
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	FromStep   string `json:"from_step"`
	ToStep     string `json:"to_step,omitempty"`
	Comment    string `json:"comment"`
}

// EventType implements EventData.
func (ProcessReturned) EventType() string { return "process.returned" }

// ProcessResubmitted records the requester's resubmission after a return;
// Request is the amended request, absent if unchanged.
type ProcessResubmitted struct {
	By      string          `json:"by"`
	Comment string          `json:"comment,omitempty"`
	Request json.RawMessage `json:"request,omitempty"`
}

// EventType implements EventData.
func (ProcessResubmitted) EventType() string { return "process.resubmitted" }

// ProcessWithdrawn records that the requester withdrew (撤回) a process
// whose approval was pending; it ends with status withdrawn.
type ProcessWithdrawn struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (ProcessWithdrawn) EventType() string { return "process.withdrawn" }

// ProcessRevoked records that the requester revoked (撤销) an approved
// process; it ends with status cancelled.
type ProcessRevoked struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// EventType implements EventData.
func (ProcessRevoked) EventType() string { return "process.revoked" }

// ProcessFailed records that a process cannot go on: a step of its route
// cannot be resolved at run time (its approvers and fallback name nobody
// who may act, after the organisation changed). Its open tasks are
// cancelled before it; the process ends failed.
type ProcessFailed struct {
	Step   string `json:"step"`
	Reason string `json:"reason"`
}

// EventType implements EventData.
func (ProcessFailed) EventType() string { return "process.failed" }

// ProcessTerminated records that the process's workflow ended outside
// houqin — terminated by an operator, timed out, failed — as Temporal
// reports it (Status, Reason, Identity): the process ends terminated, its
// open tasks cancelled before it and its budget hold released.
type ProcessTerminated struct {
	Status   string `json:"status"` // Temporal's: terminated | timed_out | failed
	Reason   string `json:"reason,omitempty"`
	Identity string `json:"identity,omitempty"` // who ended it, as Temporal records
	RunID    string `json:"run_id"`
}

// EventType implements EventData.
func (ProcessTerminated) EventType() string { return "process.terminated" }

// ProcessCancelled records that the process's workflow was cancelled in
// Temporal (an operator's cancellation, a parent's): the process ends
// cancelled and its open tasks with it.
type ProcessCancelled struct {
	Reason string `json:"reason"`
}

// EventType implements EventData.
func (ProcessCancelled) EventType() string { return "process.cancelled" }

// ProcessCopied records that users were copied (抄送) on a process, at its
// start or its finish.
type ProcessCopied struct {
	Users []string `json:"users"`
	At    string   `json:"at"` // start | finish
	Rules []string `json:"rules"`
}

// EventType implements EventData.
func (ProcessCopied) EventType() string { return "process.copied" }

// DelegationSet records an out-of-office delegation, on the delegating
// user's stream (DelegationStream).
type DelegationSet struct {
	Delegation Delegation `json:"delegation"`
	By         string     `json:"by"`
}

// EventType implements EventData.
func (DelegationSet) EventType() string { return "delegation.set" }

// DelegationCancelled records the end of a delegation before its time.
type DelegationCancelled struct {
	ID string `json:"id"`
	By string `json:"by"`
}

// EventType implements EventData.
func (DelegationCancelled) EventType() string { return "delegation.cancelled" }

// Delegations folds the events of a user's delegation stream into the
// delegations not cancelled, in the order they were set.
func Delegations(events []Event) ([]Delegation, error) {
	var out []Delegation
	for _, e := range events {
		data, err := e.Decode()
		if err != nil {
			return nil, err
		}
		switch d := data.(type) {
		case *DelegationSet:
			out = append(out, d.Delegation)
		case *DelegationCancelled:
			out = slices.DeleteFunc(out, func(x Delegation) bool { return x.ID == d.ID })
		}
	}
	return out, nil
}

// ActiveDelegation returns the delegation among ds in force at t, the
// latest set if several overlap.
func ActiveDelegation(ds []Delegation, t time.Time) (Delegation, bool) {
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].ActiveAt(t) {
			return ds[i], true
		}
	}
	return Delegation{}, false
}

func init() {
	RegisterEventType(StepStarted{})
	RegisterEventType(StepSkipped{})
	RegisterEventType(StepCompleted{})
	RegisterEventType(ProcessReturned{})
	RegisterEventType(ProcessResubmitted{})
	RegisterEventType(ProcessWithdrawn{})
	RegisterEventType(ProcessRevoked{})
	RegisterEventType(ProcessCancelled{})
	RegisterEventType(ProcessFailed{})
	RegisterEventType(ProcessTerminated{})
	RegisterEventType(ProcessCopied{})
	RegisterEventType(DelegationSet{})
	RegisterEventType(DelegationCancelled{})
}

// DelegationsIn returns a Resolver.Delegation that reads a user's
// delegations from their stream in store.
func DelegationsIn(ctx context.Context, store EventStore) func(user string, at time.Time) (Delegation, bool, error) {
	return func(user string, at time.Time) (Delegation, bool, error) {
		events, err := store.ReadStream(ctx, DelegationStream(user), 0, Forward, DefaultLimits.MaxReadLimit)
		if err != nil {
			return Delegation{}, false, fmt.Errorf("read delegations of %s: %w", user, err)
		}
		ds, err := Delegations(events)
		if err != nil {
			return Delegation{}, false, err
		}
		d, ok := ActiveDelegation(ds, at)
		return d, ok, nil
	}
}

// Users returns the users one approver rule names for a request by
// requester, those who have left replaced by their fallback; for copies
// (抄送), so neither separation of duties nor delegation applies.
func (r Resolver) Users(rule, requester string, facts Facts) ([]string, error) {
	parsed, err := ParseApproverRule(rule)
	if err != nil {
		return nil, err
	}
	users, _ := r.rule(parsed, requester, facts)
	var ex Explanation
	var out []string
	for _, u := range users {
		if a, ok := r.stayer(Assignee{User: u}, &ex); ok && !slices.Contains(out, a.User) {
			out = append(out, a.User)
		}
	}
	return out, nil
}

// Manager returns the direct manager of a user, replaced by their fallback
// if they have left; false at the top of the chain.
func (r Resolver) Manager(user string) (string, bool) {
	m, err := r.Org.Manager(user, 1)
	if err != nil {
		return "", false
	}
	var ex Explanation
	a, ok := r.stayer(Assignee{User: m.ID}, &ex)
	return a.User, ok
}
