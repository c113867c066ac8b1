package houqin_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

// mustParsePolicy parses a policy document named policy.yaml.
func mustParsePolicy(t *testing.T, doc string) *houqin.Policy {
	t.Helper()
	p, err := houqin.ParsePolicy("policy.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

// mustKindPolicy returns the procurement policy of a policy document.
func mustKindPolicy(t *testing.T, doc string) houqin.KindPolicy {
	t.Helper()
	kp, err := mustParsePolicy(t, doc).Kind(houqin.KindProcurement)
	if err != nil {
		t.Fatalf("Kind: %v", err)
	}
	return kp
}

// defaultKindPolicy returns the procurement policy of config/policy.yaml.
func defaultKindPolicy(t *testing.T) houqin.KindPolicy {
	t.Helper()
	return mustKindPolicy(t, string(config.DefaultPolicy()))
}

// policyHead opens a policy document with one procurement kind; kind-level
// fields follow at four spaces.
const policyHead = "version: 1\nprocesses:\n  procurement:\n"

// oneStep returns a procurement policy whose kind has the fields kind (each
// line indented four spaces, may be "") and one step s1 in flow style with
// the fields step, written after a valid id, name and approver.
func oneStep(kind, step string) string {
	fields := `id: s1, name: {zh: 审批, en: Approval}, approvers: ["dept_head(requester)"]`
	if step != "" {
		fields += ", " + step
	}
	return rawSteps(kind, "{"+fields+"}")
}

// rawSteps returns a procurement policy with kind fields and the given steps,
// each a flow mapping.
func rawSteps(kind string, steps ...string) string {
	doc := policyHead + kind
	doc += "    steps:\n"
	for _, s := range steps {
		doc += "      - " + s + "\n"
	}
	return doc
}

func newBool(b bool) *bool { return &b }

func TestParsePolicyDefault(t *testing.T) {
	p, err := houqin.ParsePolicy("policy.yaml", config.DefaultPolicy())
	if err != nil {
		t.Fatalf("the default policy does not parse: %v", err)
	}
	if p.Version != 1 {
		t.Errorf("Version = %d, want 1", p.Version)
	}
	kp, err := p.Kind(houqin.KindProcurement)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		ID        string
		Approvers []string
		Mode      houqin.Mode
		When      string
		SLA       time.Duration
		Reminders []houqin.Duration
		OnTimeout string
	}
	var got []step
	for _, s := range kp.Steps {
		got = append(got, step{s.ID, s.Approvers, s.Mode, s.When, s.SLA.D(), s.Reminders, s.OnTimeout})
	}
	h := func(n int) houqin.Duration { return houqin.Duration(time.Duration(n) * time.Hour) }
	want := []step{
		{"dept_approval", []string{"dept_head(requester)"}, houqin.ModeAny, "", 24 * time.Hour, []houqin.Duration{h(4), h(20)}, houqin.TimeoutEscalate},
		{"finance_review", []string{"role:finance", "role:logistics_manager"}, houqin.ModeAll,
			`total >= 500000 || category == "equipment"`, 48 * time.Hour, []houqin.Duration{h(24)}, houqin.TimeoutEscalate},
		{"director_approval", []string{"manager(requester, 2)"}, houqin.ModeAny, "total >= 5000000", 72 * time.Hour, []houqin.Duration{h(24), h(48)}, houqin.TimeoutNone},
		{"budget_review", []string{"role:finance"}, houqin.ModeAny, `budget_status == "warn" || budget_status == "exceeded"`, 24 * time.Hour, []houqin.Duration{h(8)}, houqin.TimeoutEscalate},
		{"budget_exception", []string{"role:budget_exception"}, houqin.ModeAny, `budget_status == "exceeded"`, 48 * time.Hour, []houqin.Duration{h(24)}, houqin.TimeoutEscalate},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("procurement steps (-want +got):\n%s", diff)
	}
	if kp.Kind != houqin.KindProcurement || kp.SelfApproval != "manager" || !kp.DedupFor(kp.Steps[0]) ||
		!kp.Revoke.Allowed || kp.Revoke.UntilStep != "receive_goods" {
		t.Errorf("procurement policy = %+v", kp)
	}
	if diff := cmp.Diff(houqin.CC{Finish: []string{"role:warehouse"}}, kp.CC); diff != "" {
		t.Errorf("CC (-want +got):\n%s", diff)
	}
	for _, k := range []houqin.ProcessKind{houqin.KindTrip, houqin.KindEvent, houqin.KindInspection, houqin.KindBudget} {
		if _, err := p.Kind(k); err != nil {
			t.Errorf("Kind(%s): %v, want the default policy", k, err)
		}
	}
	if _, err := p.Kind("nosuch"); houqin.ErrorCode(err) != houqin.ENOTFOUND {
		t.Errorf("Kind(nosuch): err %v, want ENOTFOUND", err)
	}
}

func TestParsePolicyDefaults(t *testing.T) {
	kp := mustKindPolicy(t, oneStep("", ""))
	want := houqin.KindPolicy{
		Kind:           houqin.KindProcurement,
		Dedup:          newBool(true),
		SelfApproval:   "manager",
		IfEmpty:        &houqin.Fallback{Action: "role", Role: "admin"},
		RemindInterval: houqin.Duration(time.Hour),
		Steps: []houqin.PolicyStep{{
			ID:        "s1",
			Name:      houqin.Text{Zh: "审批", En: "Approval"},
			Approvers: []string{"dept_head(requester)"},
			Mode:      houqin.ModeAny,
			SLA:       houqin.Duration(24 * time.Hour),
			OnTimeout: houqin.TimeoutNone,
		}},
	}
	if diff := cmp.Diff(want, kp); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if got := kp.FallbackFor(kp.Steps[0]); got != (houqin.Fallback{Action: "role", Role: "admin"}) {
		t.Errorf("FallbackFor = %+v, want role admin", got)
	}
}

func TestParsePolicyValues(t *testing.T) {
	kp := mustKindPolicy(t, oneStep(
		"    dedup: false\n    self_approval: skip\n    remind_interval: 30m\n    if_empty: {action: user, user: ma.chao}\n",
		`sla: 2d, reminders: [1d, 36h], escalate_after: 40h, mode: n_of_m, percent: 50, on_timeout: reject, dedup: true, if_empty: {action: skip}`))
	want := houqin.KindPolicy{
		Kind:           houqin.KindProcurement,
		Dedup:          newBool(false),
		SelfApproval:   "skip",
		IfEmpty:        &houqin.Fallback{Action: "user", User: "ma.chao"},
		RemindInterval: houqin.Duration(30 * time.Minute),
		Steps: []houqin.PolicyStep{{
			ID:            "s1",
			Name:          houqin.Text{Zh: "审批", En: "Approval"},
			Approvers:     []string{"dept_head(requester)"},
			Mode:          houqin.ModeNofM,
			Percent:       50,
			SLA:           houqin.Duration(48 * time.Hour),
			Reminders:     []houqin.Duration{houqin.Duration(24 * time.Hour), houqin.Duration(36 * time.Hour)},
			EscalateAfter: houqin.Duration(40 * time.Hour),
			OnTimeout:     houqin.TimeoutReject,
			IfEmpty:       &houqin.Fallback{Action: "skip"},
			Dedup:         newBool(true),
		}},
	}
	if diff := cmp.Diff(want, kp); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
	if !kp.DedupFor(kp.Steps[0]) {
		t.Error("DedupFor: the step's dedup: true does not override the kind's false")
	}
	if got := kp.FallbackFor(kp.Steps[0]); got != (houqin.Fallback{Action: "skip"}) {
		t.Errorf("FallbackFor = %+v, want the step's skip", got)
	}
	if kp.Step("s1") != 0 || kp.Step("nope") != -1 {
		t.Errorf("Step: s1 at %d, nope at %d; want 0, -1", kp.Step("s1"), kp.Step("nope"))
	}
}

func TestParsePolicyErrors(t *testing.T) {
	const notRule = `is not an approver rule; use dept_head(requester), manager(requester, n), role:<name>, user:<id> or field:<name>`
	const named = `name: {zh: 审批, en: Approval}`
	tests := []struct {
		name string
		doc  string
		want string   // the whole EINVALID message; "" = check only contains
		has  []string // substrings of the message
	}{
		{name: "not yaml", doc: "version: [\n", has: []string{"policy.yaml: "}},
		{name: "unknown top-level field", doc: "version: 1\nowner: me\n" + strings.TrimPrefix(oneStep("", ""), "version: 1\n"),
			has: []string{"policy.yaml: ", `unknown field "owner"`}},
		{name: "unknown step field", doc: oneStep("", "colour: red"), has: []string{"policy.yaml: ", `unknown field "colour"`}},
		{name: "unknown kind field", doc: oneStep("    approvals: 2\n", ""), has: []string{"policy.yaml: ", `unknown field "approvals"`}},
		{name: "no version", doc: strings.TrimPrefix(oneStep("", ""), "version: 1\n"), want: "policy.yaml: version: must be 1, got 0"},
		{name: "wrong version", doc: "version: 2" + strings.TrimPrefix(oneStep("", ""), "version: 1"), want: "policy.yaml: version: must be 1, got 2"},
		{name: "no processes", doc: "version: 1\n", want: "policy.yaml: processes: at least one process kind is required"},
		{name: "empty kind", doc: policyHead, want: "policy.yaml: procurement: empty"},
		{name: "unknown process kind", doc: strings.Replace(oneStep("", ""), "procurement:", "shipping:", 1),
			want: "policy.yaml: shipping: unknown process kind; known: procurement, trip, inspection, event, budget, issue, stocktake"},
		{name: "no steps", doc: policyHead + "    steps: []\n", want: "policy.yaml: procurement: steps: at least one step is required"},
		{name: "steps missing", doc: policyHead + "    dedup: true\n", want: "policy.yaml: procurement: steps: at least one step is required"},
		{name: "bad step id", doc: rawSteps("", `{id: Dept Approval, `+named+`, approvers: ["dept_head(requester)"]}`),
			want: `policy.yaml: procurement: steps[0].id: must be lowercase letters, digits and _ starting with a letter, got "Dept Approval"`},
		{name: "step id missing", doc: rawSteps("", `{`+named+`, approvers: ["dept_head(requester)"]}`),
			want: `policy.yaml: procurement: steps[0].id: must be lowercase letters, digits and _ starting with a letter, got ""`},
		{name: "step id starts with a digit", doc: rawSteps("", `{id: 1st, `+named+`, approvers: ["dept_head(requester)"]}`),
			want: `policy.yaml: procurement: steps[0].id: must be lowercase letters, digits and _ starting with a letter, got "1st"`},
		{name: "duplicate step id", doc: rawSteps("",
			`{id: s1, `+named+`, approvers: ["dept_head(requester)"]}`,
			`{id: s2, `+named+`, approvers: ["role:finance"]}`,
			`{id: s1, `+named+`, approvers: ["role:finance"]}`),
			want: "policy.yaml: procurement: step s1: id: repeats an earlier step"},
		{name: "missing zh", doc: rawSteps("", `{id: s1, name: {en: Approval}, approvers: ["dept_head(requester)"]}`),
			want: "policy.yaml: procurement: step s1: name: both zh and en are required"},
		{name: "missing en", doc: rawSteps("", `{id: s1, name: {zh: 审批, en: " "}, approvers: ["dept_head(requester)"]}`),
			want: "policy.yaml: procurement: step s1: name: both zh and en are required"},
		{name: "no approvers", doc: rawSteps("", `{id: s1, `+named+`, approvers: []}`),
			want: "policy.yaml: procurement: step s1: approvers: at least one rule is required"},
		{name: "unparsable approver rule", doc: rawSteps("", `{id: s1, `+named+`, approvers: ["role:finance", "boss(requester)"]}`),
			want: `policy.yaml: procurement: step s1: approvers[1]: "boss(requester)" ` + notRule},
		{name: "manager levels 0", doc: rawSteps("", `{id: s1, `+named+`, approvers: ["manager(requester, 0)"]}`),
			want: `policy.yaml: procurement: step s1: approvers[0]: "manager(requester, 0)": levels must be between 1 and 10`},
		{name: "manager levels 11", doc: rawSteps("", `{id: s1, `+named+`, approvers: ["manager(requester, 11)"]}`),
			want: `policy.yaml: procurement: step s1: approvers[0]: "manager(requester, 11)": levels must be between 1 and 10`},
		{name: "unknown fact in field rule", doc: rawSteps("", `{id: s1, `+named+`, approvers: ["field:nosuch"]}`),
			want: `policy.yaml: procurement: step s1: approvers[0]: procurement has no field "nosuch"; it has budget_remaining, budget_status, category, currency, department, items, needed_by, requester, total`},
		{name: "bad mode", doc: oneStep("", "mode: majority"),
			want: `policy.yaml: procurement: step s1: mode: must be sequential, all, any or n_of_m, got "majority"`},
		{name: "n_of_m without required or percent", doc: oneStep("", "mode: n_of_m"),
			want: "policy.yaml: procurement: step s1: required: mode n_of_m takes exactly one of required (a count) or percent"},
		{name: "n_of_m with required and percent", doc: oneStep("", "mode: n_of_m, required: 2, percent: 50"),
			want: "policy.yaml: procurement: step s1: required: mode n_of_m takes exactly one of required (a count) or percent"},
		{name: "n_of_m negative required", doc: oneStep("", "mode: n_of_m, required: -1"),
			want: "policy.yaml: procurement: step s1: required: must be positive, got -1"},
		{name: "required on mode all", doc: oneStep("", "mode: all, required: 2"),
			want: "policy.yaml: procurement: step s1: required: only mode n_of_m takes required or percent"},
		{name: "percent on mode sequential", doc: oneStep("", "mode: sequential, percent: 50"),
			want: "policy.yaml: procurement: step s1: required: only mode n_of_m takes required or percent"},
		{name: "percent 120", doc: oneStep("", "mode: n_of_m, percent: 120"),
			want: "policy.yaml: procurement: step s1: percent: must be between 1 and 100, got 120"},
		{name: "when does not compile", doc: oneStep("", `when: "total >="`),
			has: []string{"policy.yaml: procurement: step s1: when: "}},
		{name: "when on an unknown fact", doc: oneStep("", `when: "amount > 5"`),
			has: []string{"policy.yaml: procurement: step s1: when: ", "amount"}},
		{name: "when not bool", doc: oneStep("", `when: "total + 1"`),
			has: []string{"policy.yaml: procurement: step s1: when: ", "bool"}},
		{name: "when compares a string with a number", doc: oneStep("", `when: "category > 5"`),
			has: []string{"policy.yaml: procurement: step s1: when: "}},
		{name: "reminder at the SLA", doc: oneStep("", "sla: 24h, reminders: [4h, 24h]"),
			want: "policy.yaml: procurement: step s1: reminders[1]: 24h0m0s must be after the task opens and before its SLA of 24h0m0s"},
		{name: "reminder after the default SLA", doc: oneStep("", "reminders: [30h]"),
			want: "policy.yaml: procurement: step s1: reminders[0]: 30h0m0s must be after the task opens and before its SLA of 24h0m0s"},
		{name: "reminder at zero", doc: oneStep("", "reminders: [0s]"),
			want: "policy.yaml: procurement: step s1: reminders[0]: 0s must be after the task opens and before its SLA of 24h0m0s"},
		{name: "bad on_timeout", doc: oneStep("", "on_timeout: explode"),
			want: `policy.yaml: procurement: step s1: on_timeout: must be none, approve, reject or escalate, got "explode"`},
		{name: "bad kind if_empty action", doc: oneStep("    if_empty: {action: panic}\n", ""),
			want: `policy.yaml: procurement: if_empty.action: must be user, role, auto_approve or skip, got "panic"`},
		{name: "bad step if_empty action", doc: oneStep("", "if_empty: {action: panic}"),
			want: `policy.yaml: procurement: step s1: if_empty.action: must be user, role, auto_approve or skip, got "panic"`},
		{name: "if_empty user without user", doc: oneStep("    if_empty: {action: user}\n", ""),
			want: `policy.yaml: procurement: if_empty.user: action user needs a user ID, got ""`},
		{name: "step if_empty user with a bad user", doc: oneStep("", "if_empty: {action: user, user: Ma Chao}"),
			want: `policy.yaml: procurement: step s1: if_empty.user: action user needs a user ID, got "Ma Chao"`},
		{name: "if_empty role without role", doc: oneStep("    if_empty: {action: role}\n", ""),
			want: "policy.yaml: procurement: if_empty.role: action role needs a role"},
		{name: "bad self_approval", doc: oneStep("    self_approval: allow\n", ""),
			want: `policy.yaml: procurement: self_approval: must be manager or skip, got "allow"`},
		{name: "bad cc rule", doc: oneStep("    cc: {finish: [\"role:warehouse\", \"boss\"]}\n", ""),
			want: `policy.yaml: procurement: cc.finish[1]: "boss" ` + notRule},
		{name: "bad cc start rule", doc: oneStep("    cc: {start: [\"user:Bad Id\"]}\n", ""),
			want: `policy.yaml: procurement: cc.start[0]: "user:Bad Id" ` + notRule},
		{name: "duration in weeks", doc: oneStep("", "sla: 3 weeks"),
			has: []string{"policy.yaml: ", `"3 weeks"`}},
		{name: "negative duration", doc: oneStep("", "escalate_after: -1h"),
			has: []string{"policy.yaml: ", `"-1h"`}},
		{name: "fractional days", doc: oneStep("    remind_interval: 1.5d\n", ""),
			has: []string{"policy.yaml: ", `"1.5d"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := houqin.ParsePolicy("policy.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("ParsePolicy succeeded (%d kinds), want an error\n%s", len(p.Processes), tt.doc)
			}
			if code := houqin.ErrorCode(err); code != houqin.EINVALID {
				t.Errorf("code %s, want EINVALID (%v)", code, err)
			}
			msg := houqin.ErrorMessage(err)
			if tt.want != "" && msg != tt.want {
				t.Errorf("message\n got %q\nwant %q", msg, tt.want)
			}
			for _, s := range tt.has {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not contain %q", msg, s)
				}
			}
		})
	}
}

// TestParsePolicyRequiredWithoutMode checks that required and percent are
// refused on a step whose mode is left to its default (any), as they are on
// an explicit mode any.
func TestParsePolicyRequiredWithoutMode(t *testing.T) {
	tests := []struct{ name, step string }{
		{"required, mode any", "mode: any, required: 2"},
		{"required, no mode", "required: 2"},
		{"percent, no mode", "percent: 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := houqin.ParsePolicy("policy.yaml", []byte(oneStep("", tt.step)))
			const want = "policy.yaml: procurement: step s1: required: only mode n_of_m takes required or percent"
			if got := houqin.ErrorMessage(err); got != want || houqin.ErrorCode(err) != houqin.EINVALID {
				t.Errorf("ParsePolicy: got %q (%s), want EINVALID %q", got, houqin.ErrorCode(err), want)
			}
		})
	}
}

// TestParsePolicyDurationErrorLocates checks that a malformed duration is
// reported with where it is, as every other error of ParsePolicy is: the
// YAML position ([line:column]) or the kind and step.
func TestParsePolicyDurationErrorLocates(t *testing.T) {
	located := regexp.MustCompile(`\[[0-9]+:[0-9]+\]|^policy\.yaml: procurement: `)
	tests := []struct{ name, kind, step string }{
		{"sla", "", "sla: 3 weeks"},
		{"reminder", "", "reminders: [4h, 1.5d]"},
		{"escalate_after", "", "escalate_after: -1h"},
		{"remind_interval", "    remind_interval: soon\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := houqin.ParsePolicy("policy.yaml", []byte(oneStep(tt.kind, tt.step)))
			msg := houqin.ErrorMessage(err)
			if houqin.ErrorCode(err) != houqin.EINVALID || !strings.HasPrefix(msg, "policy.yaml: ") {
				t.Fatalf("ParsePolicy: %v, want EINVALID naming policy.yaml", err)
			}
			if !located.MatchString(msg) {
				t.Errorf("message %q says neither the line nor the step of the bad duration", msg)
			}
		})
	}
}

func TestParsePolicyDurations(t *testing.T) {
	tests := []struct {
		sla  string
		want time.Duration
	}{
		{"24h", 24 * time.Hour},
		{"90m", 90 * time.Minute},
		{"2d", 48 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{`"7d"`, 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.sla, func(t *testing.T) {
			kp := mustKindPolicy(t, oneStep("", "sla: "+tt.sla))
			if got := kp.Steps[0].SLA.D(); got != tt.want {
				t.Errorf("sla %s = %s, want %s", tt.sla, got, tt.want)
			}
		})
	}
}

func TestKindPolicyHash(t *testing.T) {
	a, b := defaultKindPolicy(t), defaultKindPolicy(t)
	if a.Hash() != b.Hash() {
		t.Fatalf("the same policy parsed twice hashes to %s and %s", a.Hash(), b.Hash())
	}
	if len(a.Hash()) != 64 || strings.Trim(a.Hash(), "0123456789abcdef") != "" {
		t.Errorf("Hash = %q, want 64 lowercase hex digits", a.Hash())
	}
	changes := []struct {
		name   string
		change func(kp *houqin.KindPolicy)
	}{
		{"sla", func(kp *houqin.KindPolicy) { kp.Steps[1].SLA = houqin.Duration(47 * time.Hour) }},
		{"approver", func(kp *houqin.KindPolicy) { kp.Steps[0].Approvers[0] = "manager(requester)" }},
		{"condition", func(kp *houqin.KindPolicy) { kp.Steps[2].When = "total >= 5000001" }},
		{"mode", func(kp *houqin.KindPolicy) { kp.Steps[1].Mode = houqin.ModeSequential }},
		{"step order", func(kp *houqin.KindPolicy) { kp.Steps[1], kp.Steps[2] = kp.Steps[2], kp.Steps[1] }},
		{"dedup", func(kp *houqin.KindPolicy) { kp.Dedup = newBool(false) }},
		{"self approval", func(kp *houqin.KindPolicy) { kp.SelfApproval = "skip" }},
	}
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			kp := defaultKindPolicy(t)
			tt.change(&kp)
			if kp.Hash() == a.Hash() {
				t.Errorf("changing the %s leaves the hash at %s", tt.name, a.Hash())
			}
		})
	}
}

func TestPolicyKindIsDeepCopy(t *testing.T) {
	p := mustParsePolicy(t, string(config.DefaultPolicy()))
	before, err := p.Kind(houqin.KindProcurement)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*p.Processes[houqin.KindProcurement], before); diff != "" {
		t.Errorf("Kind is not equal to the policy's kind (-policy +copy):\n%s", diff)
	}
	c, _ := p.Kind(houqin.KindProcurement)
	c.Steps[0].ID = "changed"
	c.Steps[0].Approvers[0] = "user:admin"
	c.Steps[0].Reminders[0] = 0
	*c.Dedup = false
	c.IfEmpty.Role = "nobody"
	c.CC.Finish[0] = "user:admin"
	c.Steps = append(c.Steps[:1], c.Steps[2:]...)
	after, _ := p.Kind(houqin.KindProcurement)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("changing a copy changed the policy (-before +after):\n%s", diff)
	}
}

func TestNeededApprovals(t *testing.T) {
	tests := []struct {
		name string
		step houqin.PolicyStep
		m    int
		want int
	}{
		{"any of 3", houqin.PolicyStep{Mode: houqin.ModeAny}, 3, 1},
		{"any of 1", houqin.PolicyStep{Mode: houqin.ModeAny}, 1, 1},
		{"any of 0", houqin.PolicyStep{Mode: houqin.ModeAny}, 0, 0},
		{"all of 3", houqin.PolicyStep{Mode: houqin.ModeAll}, 3, 3},
		{"sequential of 4", houqin.PolicyStep{Mode: houqin.ModeSequential}, 4, 4},
		{"required 2 of 3", houqin.PolicyStep{Mode: houqin.ModeNofM, Required: 2}, 3, 2},
		{"required 5 of 3", houqin.PolicyStep{Mode: houqin.ModeNofM, Required: 5}, 3, 3},
		{"percent 50 of 3", houqin.PolicyStep{Mode: houqin.ModeNofM, Percent: 50}, 3, 2},
		{"percent 50 of 4", houqin.PolicyStep{Mode: houqin.ModeNofM, Percent: 50}, 4, 2},
		{"percent 100 of 4", houqin.PolicyStep{Mode: houqin.ModeNofM, Percent: 100}, 4, 4},
		{"percent 1 of 3", houqin.PolicyStep{Mode: houqin.ModeNofM, Percent: 1}, 3, 1},
		{"percent 34 of 3", houqin.PolicyStep{Mode: houqin.ModeNofM, Percent: 34}, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.step.NeededApprovals(tt.m); got != tt.want {
				t.Errorf("NeededApprovals(%d) = %d, want %d", tt.m, got, tt.want)
			}
		})
	}
}

func TestParseApproverRule(t *testing.T) {
	tests := []struct {
		rule    string
		want    houqin.ApproverRule
		wantErr string // the EINVALID message; "" = valid
	}{
		{rule: "dept_head(requester)", want: houqin.ApproverRule{Kind: houqin.RuleDeptHead}},
		{rule: "  dept_head( requester )  ", want: houqin.ApproverRule{Kind: houqin.RuleDeptHead}},
		{rule: "manager(requester)", want: houqin.ApproverRule{Kind: houqin.RuleManager, Levels: 1}},
		{rule: "manager(requester, 2)", want: houqin.ApproverRule{Kind: houqin.RuleManager, Levels: 2}},
		{rule: "manager( requester , 3 )", want: houqin.ApproverRule{Kind: houqin.RuleManager, Levels: 3}},
		{rule: "manager(requester,10)", want: houqin.ApproverRule{Kind: houqin.RuleManager, Levels: 10}},
		{rule: "role:finance", want: houqin.ApproverRule{Kind: houqin.RuleRole, Arg: "finance"}},
		{rule: "user:chen.jing", want: houqin.ApproverRule{Kind: houqin.RuleUser, Arg: "chen.jing"}},
		{rule: "field:traveler", want: houqin.ApproverRule{Kind: houqin.RuleField, Arg: "traveler"}},
		{rule: "manager(requester, 0)", wantErr: `"manager(requester, 0)": levels must be between 1 and 10`},
		{rule: "manager(requester, 11)", wantErr: `"manager(requester, 11)": levels must be between 1 and 10`},
		{rule: "manager(requester, 99999999999999999999)", wantErr: `"manager(requester, 99999999999999999999)": levels must be between 1 and 10`},
		{rule: "manager(requester, -1)"},
		{rule: "manager(approver)"},
		{rule: "manager(requester, two)"},
		{rule: "dept_head(approver)"},
		{rule: "dept_head"},
		{rule: "boss(requester)"},
		{rule: "role:"},
		{rule: "user:"},
		{rule: "user:Chen Jing"},
		{rule: "field:"},
		{rule: "group:finance"},
		{rule: "chen.jing"},
		{rule: ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got, err := houqin.ParseApproverRule(tt.rule)
			valid := tt.want != (houqin.ApproverRule{})
			switch {
			case valid && err != nil:
				t.Fatalf("ParseApproverRule(%q): %v", tt.rule, err)
			case valid:
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("rule (-want +got):\n%s", diff)
				}
			case err == nil:
				t.Fatalf("ParseApproverRule(%q) = %+v, want an error", tt.rule, got)
			default:
				if code := houqin.ErrorCode(err); code != houqin.EINVALID {
					t.Errorf("code %s, want EINVALID", code)
				}
				want := tt.wantErr
				if want == "" {
					want = `"` + strings.TrimSpace(tt.rule) + `" is not an approver rule; use dept_head(requester), manager(requester, n), role:<name>, user:<id> or field:<name>`
				}
				if msg := houqin.ErrorMessage(err); msg != want {
					t.Errorf("message\n got %q\nwant %q", msg, want)
				}
			}
		})
	}
}

// TestParseApproverRuleRoleName checks that a role rule names a role as the
// organisation spells roles (lowercase letters, digits and '_'), as a user
// rule must name a user ID; otherwise a typo such as "role: finance"
// resolves to nobody and silently routes every request to the fallback.
func TestParseApproverRuleRoleName(t *testing.T) {
	for _, rule := range []string{"role: finance", "role:Finance Team", "role:finance,hr"} {
		t.Run(rule, func(t *testing.T) {
			got, err := houqin.ParseApproverRule(rule)
			if err == nil {
				t.Errorf("ParseApproverRule(%q) = %+v (role %q), want EINVALID", rule, got, got.Arg)
			}
		})
	}
}

func TestEvalCondition(t *testing.T) {
	facts := validRequest().Facts("wang.fang") // total 169800, office_supplies, MKT, 2 items
	tests := []struct {
		cond string
		want bool
	}{
		{"", true},
		{"total >= 500000", false},
		{"total < 500000", true},
		{"total == 169800", true},
		{`category == "office_supplies"`, true},
		{`total >= 500000 || category == "equipment"`, false},
		{`department == "MKT" && items == 2`, true},
		{`requester == "wang.fang"`, true},
		{`currency == "CNY"`, true},
		{`needed_by < "2027-01-01"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			got, err := houqin.EvalCondition(houqin.KindProcurement, tt.cond, facts)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("EvalCondition(%q) = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}

	bad := []string{"total >=", "amount > 5", "total + 1", `category > 5`}
	for _, cond := range bad {
		t.Run("invalid "+cond, func(t *testing.T) {
			got, err := houqin.EvalCondition(houqin.KindProcurement, cond, facts)
			if houqin.ErrorCode(err) != houqin.EINVALID || got {
				t.Fatalf("EvalCondition(%q) = %v, %v; want false, EINVALID", cond, got, err)
			}
			if msg := houqin.ErrorMessage(err); !strings.HasPrefix(msg, "when: ") || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line starting with \"when: \"", msg)
			}
		})
	}
}

// TestEvalConditionAfterJSON checks that facts keep their types across a
// workflow input: whole numbers come back as int64, not float64.
func TestEvalConditionAfterJSON(t *testing.T) {
	tests := []struct {
		name  string
		total int64
		cat   string
		want  map[string]bool
	}{
		{"small office supplies", 169800, "office_supplies",
			map[string]bool{"total >= 500000": false, `category == "equipment"`: false, "total == 169800": true, "items == 1": true}},
		{"large", 500000, "office_supplies",
			map[string]bool{"total >= 500000": true, `category == "equipment"`: false, "total == 500000": true, "items == 1": true}},
		{"equipment", 100, "equipment",
			map[string]bool{"total >= 500000": false, `category == "equipment"`: true, "total == 100": true, "items == 1": true}},
		{"beyond float64 precision", 9007199254740993, "equipment",
			map[string]bool{"total == 9007199254740993": true, "total > 9007199254740992": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			r.BudgetCategory = tt.cat
			r.Items = []houqin.ProcurementItem{{Name: "thing", Quantity: 1, Unit: "piece", UnitPrice: tt.total}}
			b, err := json.Marshal(r.Facts("wang.fang"))
			if err != nil {
				t.Fatal(err)
			}
			var facts houqin.Facts
			if err := json.Unmarshal(b, &facts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r.Facts("wang.fang"), facts); diff != "" {
				t.Errorf("facts after JSON (-before +after):\n%s", diff)
			}
			if _, ok := facts["total"].(int64); !ok {
				t.Errorf("total is %T after JSON, want int64", facts["total"])
			}
			for cond, want := range tt.want {
				got, err := houqin.EvalCondition(houqin.KindProcurement, cond, facts)
				if err != nil {
					t.Errorf("EvalCondition(%q): %v", cond, err)
				} else if got != want {
					t.Errorf("EvalCondition(%q) = %v, want %v", cond, got, want)
				}
			}
		})
	}
}

func TestFactsUnmarshalJSON(t *testing.T) {
	var f houqin.Facts
	if err := json.Unmarshal([]byte(`{"n": 3, "x": 1.5, "big": 1e3, "s": "a", "list": [1, 2.5], "m": {"k": 7}, "b": true, "nil": null}`), &f); err != nil {
		t.Fatal(err)
	}
	want := houqin.Facts{
		"n": int64(3), "x": 1.5, "big": float64(1000), "s": "a",
		"list": []any{int64(1), 2.5}, "m": map[string]any{"k": int64(7)}, "b": true, "nil": nil,
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`[1]`), &f); err == nil {
		t.Error("Unmarshal of an array into Facts succeeded")
	}
}

func TestDurationText(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "24h", want: 24 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "2d", want: 48 * time.Hour},
		{in: " 3d ", want: 72 * time.Hour},
		{in: "0d", want: 0},
		{in: "0s", want: 0},
		{in: "3 weeks", wantErr: true},
		{in: "2w", wantErr: true},
		{in: "-1h", wantErr: true},
		{in: "-2d", wantErr: true},
		{in: "1.5d", wantErr: true},
		{in: "d", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d houqin.Duration
			err := d.UnmarshalText([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("UnmarshalText(%q) = %s, want an error", tt.in, d.D())
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tt.in, err)
			}
			if d.D() != tt.want {
				t.Fatalf("UnmarshalText(%q) = %s, want %s", tt.in, d.D(), tt.want)
			}
			text, err := d.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			if string(text) != tt.want.String() {
				t.Errorf("MarshalText = %q, want %q", text, tt.want.String())
			}
			var back houqin.Duration
			if err := back.UnmarshalText(text); err != nil || back != d {
				t.Errorf("round trip of %q: %s, %v; want %s", text, back.D(), err, d.D())
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		type doc struct {
			SLA  houqin.Duration   `json:"sla"`
			List []houqin.Duration `json:"list"`
		}
		in := doc{SLA: houqin.Duration(48 * time.Hour), List: []houqin.Duration{houqin.Duration(90 * time.Minute), 0}}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"sla":"48h0m0s","list":["1h30m0s","0s"]}`; string(b) != want {
			t.Errorf("JSON %s, want %s", b, want)
		}
		var out doc
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(in, out); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if err := json.Unmarshal([]byte(`{"sla":"2d"}`), &out); err != nil || out.SLA.D() != 48*time.Hour {
			t.Errorf(`Unmarshal {"sla":"2d"}: %s, %v; want 48h`, out.SLA.D(), err)
		}
	})
}
