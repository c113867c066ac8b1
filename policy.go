package houqin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/goccy/go-yaml"
)

// Policy is the approval policy: for each process kind, the ordered steps
// of its approval route and the rules around them (config/policy.yaml).
// A process copies its kind's KindPolicy into its workflow input at start,
// so it keeps the rules it started under.
type Policy struct {
	Version   int                         `json:"version" yaml:"version"`
	Processes map[ProcessKind]*KindPolicy `json:"processes" yaml:"processes"`
}

// KindPolicy is the policy of one process kind.
type KindPolicy struct {
	Kind ProcessKind `json:"kind" yaml:"-"`
	// Dedup (审批人去重): an approval clears later steps held by the same
	// person, unless the request changed since. Default true.
	Dedup *bool `json:"dedup,omitempty" yaml:"dedup"`
	// SelfApproval says what happens when the requester would approve
	// their own request: "manager" routes the step to the requester's
	// manager (the default), "skip" drops the requester from it.
	SelfApproval string `json:"self_approval" yaml:"self_approval"`
	// IfEmpty is what a step does when it resolves no approver, unless the
	// step says otherwise. Default: route to role admin.
	IfEmpty *Fallback `json:"if_empty,omitempty" yaml:"if_empty"`
	// RemindInterval is the least time between two reminders (催办) of one
	// task. Default one hour.
	RemindInterval Duration `json:"remind_interval" yaml:"remind_interval"`
	// Revoke (撤销) says whether, and until when, the requester may revoke
	// an approved process.
	Revoke Revoke `json:"revoke" yaml:"revoke"`
	// CC (抄送) names who is copied when the process starts and ends.
	CC CC `json:"cc" yaml:"cc"`
	// QuotesAbove, for procurements, is the purchase-order total (minor
	// units) above which the order must carry three quotes; 0: never.
	QuotesAbove int64 `json:"quotes_above,omitempty" yaml:"quotes_above"`
	// Steps is the approval route, in order.
	Steps []PolicyStep `json:"steps" yaml:"steps"`
	// ClaimSteps, for trips, is the approval route of the expense claim
	// (报销审批), in order; its step IDs differ from those of Steps.
	ClaimSteps []PolicyStep `json:"claim_steps,omitempty" yaml:"claim_steps"`
	// Travel, for trips, are the expense caps by city tier (差旅标准).
	Travel *TravelRules `json:"travel,omitempty" yaml:"travel"`
}

// Revoke is the revocation rule of a process kind.
type Revoke struct {
	Allowed bool `json:"allowed" yaml:"allowed"`
	// UntilStep, if set, is the work step whose first completed task ends
	// the right to revoke, e.g. "receive_goods": nothing can be revoked
	// once goods arrived.
	UntilStep string `json:"until_step,omitempty" yaml:"until_step"`
}

// CC lists the approver rules whose users are copied at the start and at
// the finish of a process.
type CC struct {
	Start  []string `json:"start,omitempty" yaml:"start"`
	Finish []string `json:"finish,omitempty" yaml:"finish"`
}

// PolicyStep is one step of an approval route.
type PolicyStep struct {
	ID        string   `json:"id" yaml:"id"`
	Name      Text     `json:"name" yaml:"name"`
	Approvers []string `json:"approvers" yaml:"approvers"` // rules, see ParseApproverRule
	Mode      Mode     `json:"mode" yaml:"mode"`
	Required  int      `json:"required,omitempty" yaml:"required"` // mode n_of_m: approvals needed
	Percent   int      `json:"percent,omitempty" yaml:"percent"`   // mode n_of_m: or this share of the approvers, rounded up
	// When is a condition on the request's facts, in the expr language
	// (github.com/expr-lang/expr), e.g. `total >= 500000`; "" always applies.
	When string `json:"when,omitempty" yaml:"when"`
	// SLA is how long each task of the step may stay open; default 24h.
	SLA Duration `json:"sla" yaml:"sla"`
	// Reminders are offsets after a task opens at which its assignees are
	// reminded; they do not interrupt the step.
	Reminders []Duration `json:"reminders,omitempty" yaml:"reminders"`
	// EscalateAfter, if set, adds the assignee's manager to a task still
	// open that long after it opened.
	EscalateAfter Duration `json:"escalate_after,omitempty" yaml:"escalate_after"`
	// OnTimeout is what happens when a task reaches its due time: "none"
	// (it stays open and overdue, the default), "approve", "reject" or
	// "escalate" (add the assignee's manager and give the task another SLA).
	OnTimeout string `json:"on_timeout,omitempty" yaml:"on_timeout"`
	// IfEmpty overrides the kind's fallback for this step.
	IfEmpty *Fallback `json:"if_empty,omitempty" yaml:"if_empty"`
	// Dedup overrides the kind's de-duplication for this step.
	Dedup *bool `json:"dedup,omitempty" yaml:"dedup"`
}

// Text is a name in Chinese and English.
type Text struct {
	Zh string `json:"zh" yaml:"zh"`
	En string `json:"en" yaml:"en"`
}

// Mode is how the approvers of a step decide.
type Mode string

// The modes of a step.
const (
	ModeSequential Mode = "sequential" // 依次审批: one after another, each must approve
	ModeAll        Mode = "all"        // 会签: all at once, each must approve
	ModeAny        Mode = "any"        // 或签: one task for all; the first decides
	ModeNofM       Mode = "n_of_m"     // N of the M approve (Required, or Percent of M)
)

// Fallback is what a step does when it resolves no approver (审批人为空).
type Fallback struct {
	Action string `json:"action" yaml:"action"` // "user", "role", "auto_approve" or "skip"
	User   string `json:"user,omitempty" yaml:"user"`
	Role   string `json:"role,omitempty" yaml:"role"`
}

// The timeout behaviours of a step.
const (
	TimeoutNone     = "none"
	TimeoutApprove  = "approve"
	TimeoutReject   = "reject"
	TimeoutEscalate = "escalate"
)

// Duration is a time.Duration written as "24h", "90m" or "2d" (days) in
// policy files.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return &durationError{text: s, why: "days must be a whole number such as 2d"}
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return &durationError{text: s, why: "must look like 30m, 24h or 2d"}
	}
	*d = Duration(v)
	return nil
}

// durationError is a duration that does not parse.
type durationError struct{ text, why string }

func (e *durationError) Error() string { return fmt.Sprintf("duration %q: %s", e.text, e.why) }

// locate returns "[line:column] " of the first occurrence of text in a YAML
// source, "" if it is not found.
func locate(src []byte, text string) string {
	for i, line := range strings.Split(string(src), "\n") {
		if c := strings.Index(line, text); c >= 0 && text != "" {
			return fmt.Sprintf("[%d:%d] ", i+1, c+1)
		}
	}
	return ""
}

// The defaults of a policy.
const (
	DefaultSLA            = 24 * time.Hour
	DefaultRemindInterval = time.Hour
)

var stepID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// ParsePolicy reads a policy file (YAML) and validates it. name is the file
// name used in error messages. Every error is EINVALID and names the file,
// the process kind and the step: `policy.yaml: procurement: step
// finance_review: when: …`.
func ParsePolicy(name string, b []byte) (*Policy, error) {
	var p Policy
	if err := yaml.UnmarshalWithOptions(b, &p, yaml.Strict(), yaml.UseJSONUnmarshaler()); err != nil {
		var bad *durationError
		if errors.As(err, &bad) {
			// The YAML decoder drops the position of a text unmarshaler's
			// error: find the value in the file.
			return nil, Errorf(EINVALID, "%s: %s%s", name, locate(b, bad.text), bad)
		}
		return nil, Errorf(EINVALID, "%s: %s", name, yaml.FormatError(err, false, true))
	}
	if p.Version != 1 {
		return nil, Errorf(EINVALID, "%s: version: must be 1, got %d", name, p.Version)
	}
	if len(p.Processes) == 0 {
		return nil, Errorf(EINVALID, "%s: processes: at least one process kind is required", name)
	}
	kinds := make([]string, 0, len(p.Processes))
	for k := range p.Processes {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		kp := p.Processes[ProcessKind(k)]
		if kp == nil {
			return nil, Errorf(EINVALID, "%s: %s: empty", name, k)
		}
		kp.Kind = ProcessKind(k)
		if err := kp.normalize(); err != nil {
			return nil, Errorf(EINVALID, "%s: %s: %s", name, k, ErrorMessage(err))
		}
	}
	return &p, nil
}

// Kind returns a copy of the policy of a process kind, or ENOTFOUND.
func (p *Policy) Kind(kind ProcessKind) (KindPolicy, error) {
	kp, ok := p.Processes[kind]
	if !ok {
		return KindPolicy{}, Errorf(ENOTFOUND, "policy: no approval policy for %q", kind)
	}
	var c KindPolicy
	b, _ := json.Marshal(kp)
	if err := json.Unmarshal(b, &c); err != nil {
		return KindPolicy{}, fmt.Errorf("copy policy %s: %w", kind, err)
	}
	return c, nil
}

// normalize fills the defaults of kp and validates it; errors name the step.
func (kp *KindPolicy) normalize() error {
	if !slices.Contains(processKinds, kp.Kind) {
		return Errorf(EINVALID, "unknown process kind; known: %s", joinKinds())
	}
	switch kp.SelfApproval {
	case "":
		kp.SelfApproval = "manager"
	case "manager", "skip":
	default:
		return Errorf(EINVALID, "self_approval: must be manager or skip, got %q", kp.SelfApproval)
	}
	if kp.QuotesAbove < 0 {
		return Errorf(EINVALID, "quotes_above: must not be negative, got %d", kp.QuotesAbove)
	}
	if kp.Dedup == nil {
		t := true
		kp.Dedup = &t
	}
	if kp.IfEmpty == nil {
		kp.IfEmpty = &Fallback{Action: "role", Role: "admin"}
	}
	if err := kp.IfEmpty.validate(); err != nil {
		return Errorf(EINVALID, "if_empty.%s", ErrorMessage(err))
	}
	if kp.RemindInterval == 0 {
		kp.RemindInterval = Duration(DefaultRemindInterval)
	}
	for i, r := range kp.CC.Start {
		if _, err := ParseApproverRule(r); err != nil {
			return Errorf(EINVALID, "cc.start[%d]: %s", i, ErrorMessage(err))
		}
	}
	for i, r := range kp.CC.Finish {
		if _, err := ParseApproverRule(r); err != nil {
			return Errorf(EINVALID, "cc.finish[%d]: %s", i, ErrorMessage(err))
		}
	}
	if len(kp.Steps) == 0 {
		return Errorf(EINVALID, "steps: at least one step is required")
	}
	seen := map[string]bool{}
	for i := range kp.Steps {
		s := &kp.Steps[i]
		if !stepID.MatchString(s.ID) {
			return Errorf(EINVALID, "steps[%d].id: must be lowercase letters, digits and _ starting with a letter, got %q", i, s.ID)
		}
		if seen[s.ID] {
			return Errorf(EINVALID, "step %s: id: repeats an earlier step", s.ID)
		}
		seen[s.ID] = true
		if err := kp.normalizeStep(s); err != nil {
			return Errorf(EINVALID, "step %s: %s", s.ID, ErrorMessage(err))
		}
	}
	if (len(kp.ClaimSteps) > 0 || kp.Travel != nil) && kp.Kind != KindTrip {
		return Errorf(EINVALID, "claim_steps, travel: only a trip policy has them")
	}
	if kp.Kind == KindTrip && (len(kp.ClaimSteps) == 0 || kp.Travel == nil) {
		return Errorf(EINVALID, "claim_steps, travel: a trip policy needs the claim route and the travel caps")
	}
	for i := range kp.ClaimSteps {
		s := &kp.ClaimSteps[i]
		if !stepID.MatchString(s.ID) {
			return Errorf(EINVALID, "claim_steps[%d].id: must be lowercase letters, digits and _ starting with a letter, got %q", i, s.ID)
		}
		if seen[s.ID] {
			return Errorf(EINVALID, "step %s: id: repeats an earlier step", s.ID)
		}
		seen[s.ID] = true
		if err := kp.normalizeStep(s); err != nil {
			return Errorf(EINVALID, "step %s: %s", s.ID, ErrorMessage(err))
		}
	}
	if kp.Travel != nil {
		if err := kp.Travel.Validate(); err != nil {
			return Errorf(EINVALID, "travel.%s", ErrorMessage(err))
		}
	}
	return nil
}

func (kp *KindPolicy) normalizeStep(s *PolicyStep) error {
	switch {
	case strings.TrimSpace(s.Name.Zh) == "" || strings.TrimSpace(s.Name.En) == "":
		return Errorf(EINVALID, "name: both zh and en are required")
	case len(s.Approvers) == 0:
		return Errorf(EINVALID, "approvers: at least one rule is required")
	}
	for i, r := range s.Approvers {
		rule, err := ParseApproverRule(r)
		if err != nil {
			return Errorf(EINVALID, "approvers[%d]: %s", i, ErrorMessage(err))
		}
		if rule.Kind == RuleField && !hasFact(kp.Kind, rule.Arg) {
			return Errorf(EINVALID, "approvers[%d]: %s has no field %q; it has %s", i, kp.Kind, rule.Arg, strings.Join(factNames(kp.Kind), ", "))
		}
	}
	if s.Mode == "" {
		s.Mode = ModeAny
	}
	switch s.Mode {
	case ModeSequential, ModeAll, ModeAny:
		if s.Required != 0 || s.Percent != 0 {
			return Errorf(EINVALID, "required: only mode n_of_m takes required or percent")
		}
	case ModeNofM:
		switch {
		case (s.Required == 0) == (s.Percent == 0):
			return Errorf(EINVALID, "required: mode n_of_m takes exactly one of required (a count) or percent")
		case s.Required < 0:
			return Errorf(EINVALID, "required: must be positive, got %d", s.Required)
		case s.Percent < 0 || s.Percent > 100:
			return Errorf(EINVALID, "percent: must be between 1 and 100, got %d", s.Percent)
		}
	default:
		return Errorf(EINVALID, "mode: must be sequential, all, any or n_of_m, got %q", s.Mode)
	}
	if s.When != "" {
		if _, err := compileCondition(kp.Kind, s.When); err != nil {
			return Errorf(EINVALID, "when: %s", err)
		}
	}
	if s.SLA == 0 {
		s.SLA = Duration(DefaultSLA)
	}
	for i, r := range s.Reminders {
		if r <= 0 || r >= s.SLA {
			return Errorf(EINVALID, "reminders[%d]: %s must be after the task opens and before its SLA of %s", i, r.D(), s.SLA.D())
		}
	}
	switch s.OnTimeout {
	case "":
		s.OnTimeout = TimeoutNone
	case TimeoutNone, TimeoutApprove, TimeoutReject, TimeoutEscalate:
	default:
		return Errorf(EINVALID, "on_timeout: must be none, approve, reject or escalate, got %q", s.OnTimeout)
	}
	if s.IfEmpty != nil {
		if err := s.IfEmpty.validate(); err != nil {
			return Errorf(EINVALID, "if_empty.%s", ErrorMessage(err))
		}
	}
	return nil
}

func (f *Fallback) validate() error {
	switch f.Action {
	case "user":
		if !isUserID(f.User) {
			return Errorf(EINVALID, "user: action user needs a user ID, got %q", f.User)
		}
	case "role":
		if strings.TrimSpace(f.Role) == "" {
			return Errorf(EINVALID, "role: action role needs a role")
		}
	case "auto_approve", "skip":
	default:
		return Errorf(EINVALID, "action: must be user, role, auto_approve or skip, got %q", f.Action)
	}
	return nil
}

// Hash returns the hex SHA-256 of kp's canonical JSON: the policy_hash
// every event of a process started under kp carries.
func (kp KindPolicy) Hash() string {
	b, err := json.Marshal(kp)
	if err != nil {
		panic(fmt.Sprintf("houqin: encode policy: %v", err)) // every field encodes
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Step returns the index of the step with an ID, -1 if none.
func (kp KindPolicy) Step(id string) int {
	return slices.IndexFunc(kp.Steps, func(s PolicyStep) bool { return s.ID == id })
}

// DedupFor reports whether step s de-duplicates approvers.
func (kp KindPolicy) DedupFor(s PolicyStep) bool {
	if s.Dedup != nil {
		return *s.Dedup
	}
	return kp.Dedup == nil || *kp.Dedup
}

// FallbackFor returns the fallback of step s.
func (kp KindPolicy) FallbackFor(s PolicyStep) Fallback {
	if s.IfEmpty != nil {
		return *s.IfEmpty
	}
	if kp.IfEmpty != nil {
		return *kp.IfEmpty
	}
	return Fallback{Action: "role", Role: "admin"}
}

// NeededApprovals returns how many of m approvers must approve step s.
func (s PolicyStep) NeededApprovals(m int) int {
	switch s.Mode {
	case ModeAny:
		return min(1, m)
	case ModeNofM:
		n := s.Required
		if s.Percent > 0 {
			n = int(math.Ceil(float64(s.Percent) * float64(m) / 100))
		}
		return min(max(n, 1), m)
	default:
		return m
	}
}

var processKinds = []ProcessKind{KindProcurement, KindTrip, KindInspection, KindEvent, KindBudget, KindIssue, KindStocktake}

func joinKinds() string {
	s := make([]string, len(processKinds))
	for i, k := range processKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// ApproverRule is a parsed approver rule of a policy step.
type ApproverRule struct {
	Kind   string // one of the Rule… constants
	Arg    string // role name, user ID or field name
	Levels int    // RuleManager: levels up the chain
}

// The kinds of approver rule.
const (
	RuleDeptHead = "dept_head" // dept_head(requester): head of the department the request charges (its "department" fact), else of the requester's
	RuleManager  = "manager"   // manager(requester, n): n levels up the requester's chain
	RuleRole     = "role"      // role:<name>: every user with the role
	RuleUser     = "user"      // user:<id>: that user
	RuleField    = "field"     // field:<name>: the user the request's field names
)

var (
	managerRule = regexp.MustCompile(`^manager\(\s*requester\s*(?:,\s*([0-9]+)\s*)?\)$`)
	deptRule    = regexp.MustCompile(`^dept_head\(\s*requester\s*\)$`)
)

// ParseApproverRule parses one approver rule: "dept_head(requester)",
// "manager(requester, 2)", "role:finance", "user:chen.jing" or
// "field:traveler".
func ParseApproverRule(s string) (ApproverRule, error) {
	s = strings.TrimSpace(s)
	if deptRule.MatchString(s) {
		return ApproverRule{Kind: RuleDeptHead}, nil
	}
	if m := managerRule.FindStringSubmatch(s); m != nil {
		n := 1
		if m[1] != "" {
			n, _ = strconv.Atoi(m[1])
		}
		if n < 1 || n > 10 {
			return ApproverRule{}, Errorf(EINVALID, "%q: levels must be between 1 and 10", s)
		}
		return ApproverRule{Kind: RuleManager, Levels: n}, nil
	}
	kind, arg, ok := strings.Cut(s, ":")
	switch {
	case ok && kind == RuleRole && isName(arg):
		return ApproverRule{Kind: RuleRole, Arg: arg}, nil
	case ok && kind == RuleUser && isUserID(arg):
		return ApproverRule{Kind: RuleUser, Arg: arg}, nil
	case ok && kind == RuleField && arg != "":
		return ApproverRule{Kind: RuleField, Arg: arg}, nil
	}
	return ApproverRule{}, Errorf(EINVALID, "%q is not an approver rule; use dept_head(requester), manager(requester, n), role:<name>, user:<id> or field:<name>", s)
}

// Facts are what a condition of a policy step can test about a request:
// "total", "category", "department", … Each process kind registers the
// names and sample values of its facts with RegisterFacts.
type Facts map[string]any

// UnmarshalJSON decodes facts keeping whole numbers as int64, so that a
// condition sees the same types after the facts crossed a workflow input.
func (f *Facts) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	for k, v := range m {
		m[k] = normalizeNumbers(v)
	}
	*f = m
	return nil
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeNumbers(x[k])
		}
	}
	return v
}

var factSamples = map[ProcessKind]Facts{}

// RegisterFacts declares the facts of a process kind by a sample: every
// name a condition may use, with a value of its type. Process kinds call it
// from init.
func RegisterFacts(kind ProcessKind, sample Facts) { factSamples[kind] = sample }

func hasFact(kind ProcessKind, name string) bool {
	_, ok := factSamples[kind][name]
	return ok
}

func factNames(kind ProcessKind) []string {
	names := make([]string, 0, len(factSamples[kind]))
	for k := range factSamples[kind] {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// compileCondition type-checks a condition against kind's facts.
func compileCondition(kind ProcessKind, cond string) (*exprProgram, error) {
	env := map[string]any(factSamples[kind])
	if env == nil {
		env = map[string]any{}
	}
	prog, err := expr.Compile(cond, expr.Env(env), expr.AsBool())
	if err != nil {
		return nil, fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return &exprProgram{prog: prog}, nil
}

// EvalCondition evaluates a step's condition on facts; "" is true.
func EvalCondition(kind ProcessKind, cond string, facts Facts) (bool, error) {
	if cond == "" {
		return true, nil
	}
	p, err := compileCondition(kind, cond)
	if err != nil {
		return false, Errorf(EINVALID, "when: %s", err)
	}
	return p.run(facts)
}

type exprProgram struct{ prog *vm.Program }

func (p *exprProgram) run(f Facts) (bool, error) {
	out, err := expr.Run(p.prog, map[string]any(f))
	if err != nil {
		return false, Errorf(EINVALID, "when: %s", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	b, ok := out.(bool)
	if !ok {
		return false, Errorf(EINVALID, "when: the condition returned %T, not a bool", out)
	}
	return b, nil
}
