package houqin_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

// resolveAt is the moment the resolver tests resolve at.
var resolveAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// demoOrg returns the demo organisation of config/org.yaml.
func demoOrg(t *testing.T) *houqin.Org {
	t.Helper()
	return mustParseOrg(t, string(config.DefaultOrg()))
}

// demoOrgWith returns the demo organisation with extra fields added to the
// entries of users, e.g. {"liu.yang": "left: true"}.
func demoOrgWith(t *testing.T, extra map[string]string) *houqin.Org {
	t.Helper()
	lines := strings.Split(string(config.DefaultOrg()), "\n")
	for id, fields := range extra {
		n := 0
		for i, l := range lines {
			if strings.Contains(l, "{id: "+id+",") && strings.HasSuffix(l, "}") {
				lines[i] = strings.TrimSuffix(l, "}") + ", " + fields + "}"
				n++
			}
		}
		if n != 1 {
			t.Fatalf("org.yaml has %d entries for user %s, want 1", n, id)
		}
	}
	return mustParseOrg(t, strings.Join(lines, "\n"))
}

// purchaseFacts returns the facts of a one-line procurement request of total fen.
func purchaseFacts(requester string, total int64, category string) houqin.Facts {
	r := houqin.ProcurementRequest{
		Department: "MKT", BudgetCategory: category, NeededBy: "2026-04-01",
		Items: []houqin.ProcurementItem{{Name: "thing", Quantity: 1, Unit: "piece", UnitPrice: total}},
	}
	return r.Facts(requester)
}

// deptStep returns the dept_approval step of the default policy, applying
// to every request, with explanation rules es and no assignees yet.
func deptStep(es ...string) houqin.Resolution {
	return houqin.Resolution{
		Step: "dept_approval", Name: houqin.Text{Zh: "部门负责人审批", En: "Department head approval"},
		Mode: houqin.ModeAny, Applies: true,
		Explanation: houqin.Explanation{Step: "dept_approval", Applies: true, Reason: "applies to every request", Rules: es},
	}
}

func TestResolverRoute(t *testing.T) {
	kp := defaultKindPolicy(t)
	r := houqin.Resolver{Org: demoOrg(t)}
	financeName := houqin.Text{Zh: "财务与后勤会签", En: "Finance and logistics countersign"}
	directorName := houqin.Text{Zh: "分管领导审批", En: "Director approval"}
	const financeWhen = `total >= 500000 || category == "equipment"`

	dept := deptStep("dept_head(requester) → liu.yang (head of MKT)")
	dept.Assignees = []houqin.Assignee{{User: "liu.yang", Rule: "dept_head(requester)"}}
	dept.Required = 1

	finance := houqin.Resolution{
		Step: "finance_review", Name: financeName, Mode: houqin.ModeAll, Applies: true,
		Assignees: []houqin.Assignee{{User: "chen.jing", Rule: "role:finance"}, {User: "zhang.wei", Rule: "role:logistics_manager"}},
		Required:  2,
		Explanation: houqin.Explanation{Step: "finance_review", Condition: financeWhen, Applies: true,
			Reason: "applies: the condition " + financeWhen + " is true for this request",
			Rules:  []string{"role:finance → chen.jing", "role:logistics_manager → zhang.wei"}},
	}
	financeSkipped := houqin.Resolution{
		Step: "finance_review", Name: financeName, Mode: houqin.ModeAll, Assignees: []houqin.Assignee{},
		Explanation: houqin.Explanation{Step: "finance_review", Condition: financeWhen,
			Reason: "skipped: the condition " + financeWhen + " is false for this request"},
	}
	directorSkipped := houqin.Resolution{
		Step: "director_approval", Name: directorName, Mode: houqin.ModeAny, Assignees: []houqin.Assignee{},
		Explanation: houqin.Explanation{Step: "director_approval", Condition: "total >= 5000000",
			Reason: "skipped: the condition total >= 5000000 is false for this request"},
	}
	director := houqin.Resolution{
		Step: "director_approval", Name: directorName, Mode: houqin.ModeAny, Applies: true,
		Assignees: []houqin.Assignee{{User: "zhang.wei", Rule: "manager(requester, 2)"}},
		Required:  1,
		Explanation: houqin.Explanation{Step: "director_approval", Condition: "total >= 5000000", Applies: true,
			Reason: "applies: the condition total >= 5000000 is true for this request",
			Rules: []string{
				"manager(requester, 2) → zhang.wei (2 level(s) above wang.fang)",
				"dedup: zhang.wei approves an earlier step; their approval carries over",
			}},
	}
	const budgetWhen = `budget_status == "warn" || budget_status == "exceeded"`
	budgetSkipped := houqin.Resolution{
		Step: "budget_review", Name: houqin.Text{Zh: "预算超支财务复核", En: "Finance review of a budget overrun"}, Mode: houqin.ModeAny, Assignees: []houqin.Assignee{},
		Explanation: houqin.Explanation{Step: "budget_review", Condition: budgetWhen,
			Reason: "skipped: the condition " + budgetWhen + " is false for this request"},
	}
	exceptionSkipped := houqin.Resolution{
		Step: "budget_exception", Name: houqin.Text{Zh: "预算例外审批", En: "Budget exception approval"}, Mode: houqin.ModeAny, Assignees: []houqin.Assignee{},
		Explanation: houqin.Explanation{Step: "budget_exception", Condition: `budget_status == "exceeded"`,
			Reason: `skipped: the condition budget_status == "exceeded" is false for this request`},
	}
	directorNoDedup := director
	directorNoDedup.Explanation.Rules = director.Explanation.Rules[:1]

	selfDept := deptStep("dept_head(requester) → liu.yang (head of MKT)",
		"separation of duties: liu.yang requested this; routed to their manager zhang.wei")
	selfDept.Assignees = []houqin.Assignee{{User: "zhang.wei", Rule: "dept_head(requester)", Note: "separation of duties: the requester's manager"}}
	selfDept.Required = 1

	tests := []struct {
		name      string
		requester string
		facts     houqin.Facts
		noDedup   bool
		want      []houqin.Resolution
	}{
		{"small", "wang.fang", purchaseFacts("wang.fang", 100000, "office_supplies"), false,
			[]houqin.Resolution{dept, financeSkipped, directorSkipped, budgetSkipped, exceptionSkipped}},
		{"equipment", "wang.fang", purchaseFacts("wang.fang", 100000, "equipment"), false,
			[]houqin.Resolution{dept, finance, directorSkipped, budgetSkipped, exceptionSkipped}},
		{"9000 yuan", "wang.fang", purchaseFacts("wang.fang", 900000, "office_supplies"), false,
			[]houqin.Resolution{dept, finance, directorSkipped, budgetSkipped, exceptionSkipped}},
		{"60000 yuan", "wang.fang", purchaseFacts("wang.fang", 6000000, "office_supplies"), false,
			[]houqin.Resolution{dept, finance, director, budgetSkipped, exceptionSkipped}},
		{"60000 yuan without dedup", "wang.fang", purchaseFacts("wang.fang", 6000000, "office_supplies"), true,
			[]houqin.Resolution{dept, finance, directorNoDedup, budgetSkipped, exceptionSkipped}},
		{"by a department head", "liu.yang", purchaseFacts("liu.yang", 100000, "office_supplies"), false,
			[]houqin.Resolution{selfDept, financeSkipped, directorSkipped, budgetSkipped, exceptionSkipped}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kp := kp
			if tt.noDedup {
				kp.Dedup = newBool(false)
			}
			got, err := r.Route(kp, tt.requester, tt.facts, resolveAt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Route (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("step out of range", func(t *testing.T) {
		_, err := r.Resolve(kp, 5, "wang.fang", purchaseFacts("wang.fang", 1, "x"), resolveAt)
		if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != "step: procurement has no step 5" {
			t.Errorf("Resolve(step 5): %v, want EINVALID step: procurement has no step 5", err)
		}
	})
	t.Run("facts without the condition's fact", func(t *testing.T) {
		_, err := r.Route(kp, "wang.fang", houqin.Facts{"requester": "wang.fang"}, resolveAt)
		if houqin.ErrorCode(err) != houqin.EINVALID || !strings.HasPrefix(houqin.ErrorMessage(err), "step finance_review: when: ") {
			t.Errorf("Route: %v, want EINVALID naming step finance_review", err)
		}
	})
}

// oneStepPolicy returns the procurement policy with kind fields and one
// step s1 with approvers (a YAML flow sequence) and further step fields.
func oneStepPolicy(t *testing.T, kind, approvers, step string) houqin.KindPolicy {
	t.Helper()
	fields := `id: s1, name: {zh: 审批, en: Approval}, approvers: ` + approvers
	if step != "" {
		fields += ", " + step
	}
	return mustKindPolicy(t, rawSteps(kind, "{"+fields+"}"))
}

// s1Resolution returns the resolution of step s1 of oneStepPolicy.
func s1Resolution(applies bool, as []houqin.Assignee, rules []string, fallback string) houqin.Resolution {
	if as == nil {
		as = []houqin.Assignee{}
	}
	reason := "applies to every request"
	if !applies {
		reason = "skipped: no approver resolved"
	}
	required := len(as)
	if required > 1 {
		required = 1
	}
	return houqin.Resolution{
		Step: "s1", Name: houqin.Text{Zh: "审批", En: "Approval"}, Mode: houqin.ModeAny, Applies: applies,
		Assignees: as, Required: required,
		Explanation: houqin.Explanation{Step: "s1", Applies: applies, Reason: reason, Rules: rules, Fallback: fallback},
	}
}

func TestResolverFallback(t *testing.T) {
	r := houqin.Resolver{Org: demoOrg(t)}
	selfSkipped := []string{"dept_head(requester) → liu.yang (head of MKT)",
		"separation of duties: liu.yang requested this and is dropped from the step"}
	autoApproved := s1Resolution(true, nil, selfSkipped, "no approver resolved; the policy approves the step automatically")
	autoApproved.AutoApprove = true

	tests := []struct {
		name       string
		kind       string // kind-level YAML fields
		approvers  string
		step       string
		requester  string
		facts      houqin.Facts
		want       houqin.Resolution
		wantErrHas string // a substring of the EINVALID message; "" = success
	}{
		{name: "self skipped, if_empty default role admin", kind: "    self_approval: skip\n",
			approvers: `["dept_head(requester)"]`, requester: "liu.yang",
			want: s1Resolution(true, []houqin.Assignee{{User: "admin", Rule: "fallback", Note: "no approver resolved; fallback role admin"}},
				selfSkipped, "no approver resolved; fallback role admin")},
		{name: "self skipped, if_empty skip", kind: "    self_approval: skip\n    if_empty: {action: skip}\n",
			approvers: `["dept_head(requester)"]`, requester: "liu.yang",
			want: s1Resolution(false, nil, selfSkipped, "no approver resolved; the policy skips the step")},
		{name: "self skipped, if_empty auto_approve", kind: "    self_approval: skip\n    if_empty: {action: auto_approve}\n",
			approvers: `["dept_head(requester)"]`, requester: "liu.yang", want: autoApproved},
		{name: "self skipped, if_empty user", kind: "    self_approval: skip\n    if_empty: {action: user, user: ma.chao}\n",
			approvers: `["dept_head(requester)"]`, requester: "liu.yang",
			want: s1Resolution(true, []houqin.Assignee{{User: "ma.chao", Rule: "fallback", Note: "no approver resolved; fallback user"}},
				selfSkipped, "no approver resolved; fallback user ma.chao")},
		{name: "step if_empty overrides the kind's", kind: "    self_approval: skip\n    if_empty: {action: skip}\n",
			approvers: `["dept_head(requester)"]`, step: "if_empty: {action: role, role: finance}", requester: "liu.yang",
			want: s1Resolution(true, []houqin.Assignee{{User: "chen.jing", Rule: "fallback", Note: "no approver resolved; fallback role finance"}},
				selfSkipped, "no approver resolved; fallback role finance")},
		{name: "fallback names only the requester", kind: "    self_approval: skip\n    if_empty: {action: user, user: liu.yang}\n",
			approvers: `["dept_head(requester)"]`, requester: "liu.yang",
			wantErrHas: "step s1: no approver resolved and the fallback (no approver resolved; fallback user liu.yang) names nobody but the requester"},
		{name: "fallback role nobody has", kind: "    if_empty: {action: role, role: nobody_has_this}\n",
			approvers: `["role:nobody_has_this"]`, requester: "wang.fang",
			wantErrHas: "step s1: no approver resolved"},
		{name: "role nobody has", approvers: `["role:nobody_has_this"]`, requester: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "admin", Rule: "fallback", Note: "no approver resolved; fallback role admin"}},
				[]string{"role:nobody_has_this → nobody has the role"}, "no approver resolved; fallback role admin")},
		{name: "user rule naming nobody", approvers: `["user:ghost"]`, requester: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "admin", Rule: "fallback", Note: "no approver resolved; fallback role admin"}},
				[]string{"user:ghost → nobody: no such user"}, "no approver resolved; fallback role admin")},
		{name: "manager above the top of the chain", approvers: `["manager(requester, 4)"]`, requester: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "admin", Rule: "fallback", Note: "no approver resolved; fallback role admin"}},
				[]string{`manager(requester, 4) → nobody: manager: "wang.fang" has no manager 4 level(s) up; the chain ends at "admin"`},
				"no approver resolved; fallback role admin")},
		{name: "field naming a user", approvers: `["field:requester"]`, requester: "wang.fang",
			facts: houqin.Facts{"requester": "chen.jing"},
			want: s1Resolution(true, []houqin.Assignee{{User: "chen.jing", Rule: "field:requester"}},
				[]string{"field:requester → chen.jing (field requester)"}, "")},
		{name: "field naming the requester", approvers: `["field:requester"]`, requester: "wang.fang",
			facts: purchaseFacts("wang.fang", 100, "office_supplies"),
			want: s1Resolution(true, []houqin.Assignee{{User: "liu.yang", Rule: "field:requester", Note: "separation of duties: the requester's manager"}},
				[]string{"field:requester → wang.fang (field requester)",
					"separation of duties: wang.fang requested this; routed to their manager liu.yang"}, "")},
		{name: "field naming no user", approvers: `["field:requester"]`, requester: "wang.fang",
			facts: houqin.Facts{"requester": "ghost"},
			want: s1Resolution(true, []houqin.Assignee{{User: "admin", Rule: "fallback", Note: "no approver resolved; fallback role admin"}},
				[]string{`field:requester → nobody: field requester names no user ("ghost")`}, "no approver resolved; fallback role admin")},
		{name: "two rules naming one user", approvers: `["role:finance", "user:chen.jing"]`, requester: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "chen.jing", Rule: "role:finance"}},
				[]string{"role:finance → chen.jing", "user:chen.jing → chen.jing"}, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kp := oneStepPolicy(t, tt.kind, tt.approvers, tt.step)
			facts := tt.facts
			if facts == nil {
				facts = purchaseFacts(tt.requester, 100, "office_supplies")
			}
			got, err := r.Resolve(kp, 0, tt.requester, facts, resolveAt)
			if tt.wantErrHas != "" {
				if houqin.ErrorCode(err) != houqin.ENOTALLOWED || !strings.Contains(houqin.ErrorMessage(err), tt.wantErrHas) {
					t.Fatalf("Resolve: %+v, %v; want ENOTALLOWED containing %q", got, err, tt.wantErrHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolverDeparted(t *testing.T) {
	kp := defaultKindPolicy(t)
	facts := purchaseFacts("wang.fang", 100000, "office_supplies")
	tests := []struct {
		name  string
		extra map[string]string
		want  houqin.Resolution
	}{
		{"to the manager", map[string]string{"liu.yang": "left: true"}, func() houqin.Resolution {
			r := deptStep("dept_head(requester) → liu.yang (head of MKT)", "liu.yang has left; replaced by zhang.wei")
			r.Assignees = []houqin.Assignee{{User: "zhang.wei", Rule: "dept_head(requester)", Note: "replaces liu.yang, who has left"}}
			r.Required = 1
			return r
		}()},
		{"to the fallback", map[string]string{"liu.yang": "left: true, fallback: ma.chao"}, func() houqin.Resolution {
			r := deptStep("dept_head(requester) → liu.yang (head of MKT)", "liu.yang has left; replaced by ma.chao")
			r.Assignees = []houqin.Assignee{{User: "ma.chao", Rule: "dept_head(requester)", Note: "replaces liu.yang, who has left"}}
			r.Required = 1
			return r
		}()},
		{"fallback departed too", map[string]string{"liu.yang": "left: true, fallback: ma.chao", "ma.chao": "left: true"}, func() houqin.Resolution {
			r := deptStep("dept_head(requester) → liu.yang (head of MKT)",
				"liu.yang has left; replaced by ma.chao", "ma.chao has left; replaced by zhang.wei")
			r.Assignees = []houqin.Assignee{{User: "zhang.wei", Rule: "dept_head(requester)", Note: "replaces ma.chao, who has left"}}
			r.Required = 1
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := houqin.Resolver{Org: demoOrgWith(t, tt.extra)}
			got, err := r.Resolve(kp, 0, "wang.fang", facts, resolveAt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolverNeverAssignsTheRequester checks separation of duties when the
// replacement of a departed approver is the requester: the head of MKT has
// left and named wang.fang, of MKT, to take over; wang.fang's own request
// must not be assigned to wang.fang.
func TestResolverNeverAssignsTheRequester(t *testing.T) {
	r := houqin.Resolver{Org: demoOrgWith(t, map[string]string{"liu.yang": "left: true, fallback: wang.fang"})}
	kp := defaultKindPolicy(t)
	got, err := r.Resolve(kp, 0, "wang.fang", purchaseFacts("wang.fang", 100000, "office_supplies"), resolveAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assignees) == 0 && !got.AutoApprove {
		t.Fatalf("Resolve: no assignee: %+v", got)
	}
	for _, a := range got.Assignees {
		if a.User == "wang.fang" {
			t.Errorf("wang.fang's request is assigned to wang.fang: %+v\nexplanation: %q", a, got.Explanation.Rules)
		}
	}
}

// delegationsOf returns a Resolver.Delegation over a fixed list.
func delegationsOf(ds ...houqin.Delegation) func(string, time.Time) (houqin.Delegation, bool, error) {
	return func(user string, at time.Time) (houqin.Delegation, bool, error) {
		var mine []houqin.Delegation
		for _, d := range ds {
			if d.User == user {
				mine = append(mine, d)
			}
		}
		d, ok := houqin.ActiveDelegation(mine, at)
		return d, ok, nil
	}
}

func TestResolverDelegation(t *testing.T) {
	kp := defaultKindPolicy(t)
	facts := purchaseFacts("wang.fang", 100000, "office_supplies")
	day := 24 * time.Hour
	away := houqin.Delegation{ID: "d1", User: "liu.yang", Delegate: "ma.chao", From: resolveAt.Add(-day), To: resolveAt.Add(3 * day)}
	const headRule = "dept_head(requester) → liu.yang (head of MKT)"
	toLiu := func(rules ...string) houqin.Resolution {
		r := deptStep(append([]string{headRule}, rules...)...)
		r.Assignees = []houqin.Assignee{{User: "liu.yang", Rule: "dept_head(requester)"}}
		r.Required = 1
		return r
	}
	delegated := deptStep(headRule, "liu.yang is away until 2026-03-05T09:00:00Z; delegated to ma.chao")
	delegated.Assignees = []houqin.Assignee{{User: "ma.chao", OnBehalfOf: "liu.yang", Rule: "dept_head(requester)", Note: "delegate of liu.yang (delegation d1)"}}
	delegated.Required = 1

	toRequester := away
	toRequester.Delegate = "wang.fang"
	later := away
	later.From, later.To = resolveAt.Add(day), resolveAt.Add(3*day)
	ended := away
	ended.From, ended.To = resolveAt.Add(-3*day), resolveAt

	tests := []struct {
		name       string
		delegation func(string, time.Time) (houqin.Delegation, bool, error)
		want       houqin.Resolution
	}{
		{"none", nil, toLiu()},
		{"active", delegationsOf(away), delegated},
		{"of someone else", delegationsOf(houqin.Delegation{ID: "d9", User: "chen.jing", Delegate: "ma.chao", From: away.From, To: away.To}), toLiu()},
		{"to the requester", delegationsOf(toRequester),
			toLiu("delegation of liu.yang to the requester wang.fang is not applied (separation of duties)")},
		{"not yet begun", delegationsOf(later), toLiu()},
		{"ended", delegationsOf(ended), toLiu()},
		{"unreadable", func(string, time.Time) (houqin.Delegation, bool, error) {
			return houqin.Delegation{}, false, errors.New("disk on fire")
		}, toLiu("delegation of liu.yang could not be read; not applied")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := houqin.Resolver{Org: demoOrg(t), Delegation: tt.delegation}
			got, err := r.Resolve(kp, 0, "wang.fang", facts, resolveAt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolverDelegateWhoLeft checks that a delegation does not assign a
// task to a delegate who has left since the delegation was set: a user who
// has left is never assigned a task (Org's User.Left).
func TestResolverDelegateWhoLeft(t *testing.T) {
	org := demoOrgWith(t, map[string]string{"ma.chao": "left: true"})
	d := houqin.Delegation{ID: "d1", User: "liu.yang", Delegate: "ma.chao", From: resolveAt.Add(-time.Hour), To: resolveAt.Add(time.Hour)}
	r := houqin.Resolver{Org: org, Delegation: delegationsOf(d)}
	got, err := r.Resolve(defaultKindPolicy(t), 0, "wang.fang", purchaseFacts("wang.fang", 100000, "office_supplies"), resolveAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assignees) == 0 {
		t.Fatalf("Resolve: no assignee: %+v", got)
	}
	for _, a := range got.Assignees {
		if u, err := org.User(a.User); err != nil || u.Left {
			t.Errorf("assigned to %s, who has left: %+v\nexplanation: %q", a.User, a, got.Explanation.Rules)
		}
	}
}

func TestResolverUsers(t *testing.T) {
	facts := purchaseFacts("wang.fang", 100, "office_supplies")
	heads := []string{"chen.jing", "liu.yang", "ma.chao", "sun.li", "wu.min", "zhang.wei", "zhao.lei", "zhou.qiang"}
	headsLiuLeft := []string{"chen.jing", "zhang.wei", "ma.chao", "sun.li", "wu.min", "zhao.lei", "zhou.qiang"}
	tests := []struct {
		name      string
		extra     map[string]string // org changes
		rule      string
		requester string
		want      []string
	}{
		{"dept head", nil, "dept_head(requester)", "wang.fang", []string{"liu.yang"}},
		{"dept head of a head is the head", nil, "dept_head(requester)", "liu.yang", []string{"liu.yang"}},
		{"manager", nil, "manager(requester)", "wang.fang", []string{"liu.yang"}},
		{"manager 2", nil, "manager(requester, 2)", "wang.fang", []string{"zhang.wei"}},
		{"manager beyond the top", nil, "manager(requester, 4)", "wang.fang", nil},
		{"role", nil, "role:warehouse", "wang.fang", []string{"zhou.qiang"}},
		{"role with many", nil, "role:dept_head", "wang.fang", heads},
		{"role nobody has", nil, "role:nobody_has_this", "wang.fang", nil},
		{"user", nil, "user:chen.jing", "wang.fang", []string{"chen.jing"}},
		{"unknown user", nil, "user:ghost", "wang.fang", nil},
		{"field", nil, "field:requester", "wang.fang", []string{"wang.fang"}},
		{"departed dept head", map[string]string{"liu.yang": "left: true"}, "dept_head(requester)", "wang.fang", []string{"zhang.wei"}},
		{"departed user with fallback", map[string]string{"chen.jing": "left: true, fallback: huang.xin"}, "user:chen.jing", "wang.fang", []string{"huang.xin"}},
		{"departed in a role", map[string]string{"liu.yang": "left: true"}, "role:dept_head", "wang.fang", headsLiuLeft},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := houqin.Resolver{Org: demoOrgWith(t, tt.extra)}
			got, err := r.Users(tt.rule, tt.requester, facts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Users(%q) (-want +got):\n%s", tt.rule, diff)
			}
		})
	}
	t.Run("invalid rule", func(t *testing.T) {
		r := houqin.Resolver{Org: demoOrg(t)}
		got, err := r.Users("boss(requester)", "wang.fang", facts)
		if houqin.ErrorCode(err) != houqin.EINVALID {
			t.Errorf("Users(boss(requester)) = %v, %v; want EINVALID", got, err)
		}
	})
}

func TestResolverManager(t *testing.T) {
	tests := []struct {
		name   string
		extra  map[string]string
		user   string
		want   string
		wantOK bool
	}{
		{"employee", nil, "wang.fang", "liu.yang", true},
		{"head", nil, "liu.yang", "zhang.wei", true},
		{"head of heads", nil, "zhang.wei", "admin", true},
		{"top of the chain", nil, "admin", "", false},
		{"unknown user", nil, "ghost", "", false},
		{"manager left", map[string]string{"liu.yang": "left: true"}, "wang.fang", "zhang.wei", true},
		{"manager left with fallback", map[string]string{"liu.yang": "left: true, fallback: ma.chao"}, "wang.fang", "ma.chao", true},
		{"manager left at the top", map[string]string{"admin": "left: true"}, "zhang.wei", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := houqin.Resolver{Org: demoOrgWith(t, tt.extra)}
			got, ok := r.Manager(tt.user)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("Manager(%s) = %q, %v; want %q, %v", tt.user, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDelegationValidate(t *testing.T) {
	org := demoOrgWith(t, map[string]string{"huang.xin": "left: true"})
	valid := houqin.Delegation{ID: "d1", User: "liu.yang", Delegate: "ma.chao", From: resolveAt, To: resolveAt.Add(7 * 24 * time.Hour), Reason: "年假"}
	day := 24 * time.Hour
	tests := []struct {
		name   string
		change func(d *houqin.Delegation)
		want   string // the EINVALID message; "" = valid
	}{
		{"valid", func(d *houqin.Delegation) {}, ""},
		{"a year of 366 days", func(d *houqin.Delegation) { d.To = d.From.Add(366 * day) }, ""},
		{"departed user may delegate", func(d *houqin.Delegation) { d.User = "huang.xin" }, ""},
		{"no delegate", func(d *houqin.Delegation) { d.Delegate = "" }, "delegate: required"},
		{"self-delegation", func(d *houqin.Delegation) { d.Delegate = "liu.yang" }, `delegate: "liu.yang" cannot delegate to themselves`},
		{"no from", func(d *houqin.Delegation) { d.From = time.Time{} }, "from: required, an RFC 3339 time"},
		{"no to", func(d *houqin.Delegation) { d.To = time.Time{} }, "to: required, an RFC 3339 time"},
		{"to before from", func(d *houqin.Delegation) { d.To = d.From.Add(-time.Hour) }, "to: must be after from"},
		{"to equals from", func(d *houqin.Delegation) { d.To = d.From }, "to: must be after from"},
		{"over a year", func(d *houqin.Delegation) { d.To = d.From.Add(367 * day) }, "to: a delegation lasts at most a year"},
		{"long reason", func(d *houqin.Delegation) { d.Reason = strings.Repeat("假", 2001) }, "reason: longer than 2000 characters"},
		{"no user", func(d *houqin.Delegation) { d.User = "" }, `user: no user ""`},
		{"unknown user", func(d *houqin.Delegation) { d.User = "ghost" }, `user: no user "ghost"`},
		{"unknown delegate", func(d *houqin.Delegation) { d.Delegate = "ghost" }, `delegate: no user "ghost"`},
		{"departed delegate", func(d *houqin.Delegation) { d.Delegate = "huang.xin" }, `delegate: "huang.xin" has left the organisation`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid
			tt.change(&d)
			err := d.Validate(org)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if houqin.ErrorCode(err) != houqin.EINVALID || houqin.ErrorMessage(err) != tt.want {
				t.Errorf("Validate = %v, want EINVALID %q", err, tt.want)
			}
		})
	}
}

func TestDelegations(t *testing.T) {
	day := 24 * time.Hour
	d1 := houqin.Delegation{ID: "d1", User: "liu.yang", Delegate: "ma.chao", From: resolveAt, To: resolveAt.Add(4 * day)}
	d2 := houqin.Delegation{ID: "d2", User: "liu.yang", Delegate: "chen.jing", From: resolveAt.Add(2 * day), To: resolveAt.Add(8 * day), Reason: "出差"}
	d3 := houqin.Delegation{ID: "d3", User: "liu.yang", Delegate: "zhao.lei", From: resolveAt.Add(10 * day), To: resolveAt.Add(12 * day)}
	event := func(data houqin.EventData) houqin.Event {
		t.Helper()
		e, err := houqin.NewEvent(houqin.EventID("test", data.EventType()), data, houqin.Metadata{Actor: "liu.yang"})
		if err != nil {
			t.Fatal(err)
		}
		e.Stream = houqin.DelegationStream("liu.yang")
		return e
	}
	set := func(d houqin.Delegation) houqin.Event { return event(houqin.DelegationSet{Delegation: d, By: d.User}) }
	cancel := func(id string) houqin.Event { return event(houqin.DelegationCancelled{ID: id, By: "liu.yang"}) }

	tests := []struct {
		name   string
		events []houqin.Event
		want   []houqin.Delegation
	}{
		{"none", nil, nil},
		{"set", []houqin.Event{set(d1), set(d2)}, []houqin.Delegation{d1, d2}},
		{"cancelled", []houqin.Event{set(d1), set(d2), cancel("d1")}, []houqin.Delegation{d2}},
		{"all cancelled", []houqin.Event{set(d1), cancel("d1")}, []houqin.Delegation{}},
		{"cancel of an unknown id", []houqin.Event{set(d1), cancel("d9")}, []houqin.Delegation{d1}},
		{"set after a cancel", []houqin.Event{set(d1), cancel("d1"), set(d3)}, []houqin.Delegation{d3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := houqin.Delegations(tt.events)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.want) == 0 && len(got) == 0 {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Delegations (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("unknown event type", func(t *testing.T) {
		bad := houqin.Event{Type: "delegation.exploded", Data: []byte(`{}`)}
		if _, err := houqin.Delegations([]houqin.Event{set(d1), bad}); houqin.ErrorCode(err) != houqin.ENOTFOUND {
			t.Errorf("Delegations: %v, want ENOTFOUND", err)
		}
	})
	t.Run("malformed payload", func(t *testing.T) {
		bad := set(d1)
		bad.Data = []byte(`{"delegation": 7}`)
		if _, err := houqin.Delegations([]houqin.Event{bad}); houqin.ErrorCode(err) != houqin.EINVALID {
			t.Errorf("Delegations: %v, want EINVALID", err)
		}
	})
	t.Run("stream", func(t *testing.T) {
		if got := houqin.DelegationStream("liu.yang"); got != "delegation-liu.yang" {
			t.Errorf("DelegationStream = %q", got)
		}
	})
}

func TestActiveDelegation(t *testing.T) {
	day := 24 * time.Hour
	a := houqin.Delegation{ID: "a", User: "liu.yang", Delegate: "ma.chao", From: resolveAt, To: resolveAt.Add(4 * day)}
	b := houqin.Delegation{ID: "b", User: "liu.yang", Delegate: "chen.jing", From: resolveAt.Add(2 * day), To: resolveAt.Add(6 * day)}
	c := houqin.Delegation{ID: "c", User: "liu.yang", Delegate: "zhao.lei", From: resolveAt.Add(-day), To: resolveAt.Add(day)}
	ds := []houqin.Delegation{a, b, c}
	tests := []struct {
		name string
		at   time.Time
		want string // delegation ID; "" = none
	}{
		{"before all", resolveAt.Add(-2 * day), ""},
		{"from is inclusive", resolveAt.Add(-day), "c"},
		{"latest set of two overlapping", resolveAt.Add(time.Hour), "c"},
		{"after c ends", resolveAt.Add(day), "a"},
		{"b set after a", resolveAt.Add(3 * day), "b"},
		{"to is exclusive", resolveAt.Add(6 * day), ""},
		{"just before b ends", resolveAt.Add(6*day - time.Nanosecond), "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := houqin.ActiveDelegation(ds, tt.at)
			if ok != (tt.want != "") || got.ID != tt.want {
				t.Errorf("ActiveDelegation at %s = %q, %v; want %q", tt.at, got.ID, ok, tt.want)
			}
		})
	}
	if _, ok := houqin.ActiveDelegation(nil, resolveAt); ok {
		t.Error("ActiveDelegation(nil) found one")
	}
}

// TestResolverSubject checks the separation of duties for the person a
// request is for (a trip's traveller) when someone else submits it: wang.fang
// holds the finance role here, and neither she nor the requester approves.
func TestResolverSubject(t *testing.T) {
	org := mustParseOrg(t, strings.Replace(string(config.DefaultOrg()),
		"department: MKT, roles: [employee]", "department: MKT, roles: [employee, finance]", 1))
	day := 24 * time.Hour
	toSubject := houqin.Delegation{ID: "d1", User: "liu.yang", Delegate: "wang.fang", From: resolveAt.Add(-day), To: resolveAt.Add(day)}
	tests := []struct {
		name       string
		kind       string
		approvers  string
		step       string
		requester  string
		subject    string
		delegation func(string, time.Time) (houqin.Delegation, bool, error)
		want       houqin.Resolution
		wantErrHas string
	}{
		{name: "subject routed to their manager, who is the requester", approvers: `["role:finance"]`,
			requester: "liu.yang", subject: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "chen.jing", Rule: "role:finance"}}, []string{
				"role:finance → chen.jing, wang.fang",
				"separation of duties: wang.fang is the person this request is for; routed to their manager liu.yang",
				"separation of duties: the replacement of liu.yang is the requester; dropped"}, "")},
		{name: "subject routed to their manager", approvers: `["user:wang.fang"]`,
			requester: "li.na", subject: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "liu.yang", Rule: "user:wang.fang",
				Note: "separation of duties: the manager of the person the request is for"}}, []string{
				"user:wang.fang → wang.fang",
				"separation of duties: wang.fang is the person this request is for; routed to their manager liu.yang"}, "")},
		{name: "subject skipped", kind: "    self_approval: skip\n", approvers: `["role:finance"]`,
			requester: "li.na", subject: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "chen.jing", Rule: "role:finance"}}, []string{
				"role:finance → chen.jing, wang.fang",
				"separation of duties: wang.fang is the person this request is for and is dropped from the step"}, "")},
		{name: "requester still excluded", approvers: `["user:li.na"]`, requester: "li.na", subject: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "zhang.wei", Rule: "user:li.na",
				Note: "separation of duties: the requester's manager"}}, []string{
				"user:li.na → li.na",
				"separation of duties: li.na requested this; routed to their manager zhang.wei"}, "")},
		{name: "the requester's manager is the subject", approvers: `["user:wang.fang"]`, requester: "wang.fang", subject: "liu.yang",
			want: s1Resolution(false, nil, []string{
				"user:wang.fang → wang.fang",
				"separation of duties: wang.fang requested this; routed to their manager liu.yang",
				"separation of duties: the replacement of liu.yang is the person this request is for; dropped"},
				"no approver resolved; the policy skips the step"),
			kind: "    if_empty: {action: skip}\n"},
		{name: "the subject is the requester", approvers: `["user:wang.fang"]`, requester: "wang.fang", subject: "wang.fang",
			want: s1Resolution(true, []houqin.Assignee{{User: "liu.yang", Rule: "user:wang.fang",
				Note: "separation of duties: the requester's manager"}}, []string{
				"user:wang.fang → wang.fang",
				"separation of duties: wang.fang requested this; routed to their manager liu.yang"}, "")},
		{name: "no delegation to the subject", approvers: `["user:liu.yang"]`, requester: "li.na", subject: "wang.fang",
			delegation: delegationsOf(toSubject),
			want: s1Resolution(true, []houqin.Assignee{{User: "liu.yang", Rule: "user:liu.yang"}}, []string{
				"user:liu.yang → liu.yang",
				"delegation of liu.yang to wang.fang, the person this request is for, is not applied (separation of duties)"}, "")},
		{name: "fallback names only the subject", kind: "    self_approval: skip\n    if_empty: {action: user, user: wang.fang}\n",
			approvers: `["user:wang.fang"]`, requester: "li.na", subject: "wang.fang",
			wantErrHas: "names nobody but the requester and wang.fang, whom the request is for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := houqin.Resolver{Org: org, Delegation: tt.delegation}
			kp := oneStepPolicy(t, tt.kind, tt.approvers, tt.step)
			facts := purchaseFacts(tt.requester, 100, "office_supplies")
			got, err := r.ResolveFor(kp, 0, tt.requester, tt.subject, facts, resolveAt)
			if tt.wantErrHas != "" {
				if houqin.ErrorCode(err) != houqin.ENOTALLOWED || !strings.Contains(houqin.ErrorMessage(err), tt.wantErrHas) {
					t.Fatalf("ResolveFor: %+v, %v; want ENOTALLOWED containing %q", got, err, tt.wantErrHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResolveFor (-want +got):\n%s", diff)
			}
			route, err := r.RouteFor(kp, tt.requester, tt.subject, facts, resolveAt)
			if err != nil || len(route) != 1 || !cmp.Equal(route[0], got) {
				t.Errorf("RouteFor: %+v, %v; want the step as ResolveFor resolves it", route, err)
			}
		})
	}
}

// TestResolverDelegationKeepsSlotsDistinct: finance_review is a 会签 of
// chen.jing and zhang.wei; chen.jing's delegation to zhang.wei would make
// it one person's, so it is not applied to this step.
func TestResolverDelegationKeepsSlotsDistinct(t *testing.T) {
	kp := defaultKindPolicy(t)
	i := slices.IndexFunc(kp.Steps, func(s houqin.PolicyStep) bool { return s.ID == "finance_review" })
	d := houqin.Delegation{ID: "d2", User: "chen.jing", Delegate: "zhang.wei", From: resolveAt.Add(-time.Hour), To: resolveAt.Add(time.Hour)}
	r := houqin.Resolver{Org: demoOrg(t), Delegation: delegationsOf(d)}
	got, err := r.Resolve(kp, i, "wang.fang", purchaseFacts("wang.fang", 900000, "office_supplies"), resolveAt)
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, a := range got.Assignees {
		users = append(users, a.User)
	}
	if diff := cmp.Diff([]string{"chen.jing", "zhang.wei"}, users); diff != "" || got.Required != 2 {
		t.Errorf("finance_review assignees (-want +got):\n%s required %d", diff, got.Required)
	}
	want := "delegation of chen.jing to zhang.wei is not applied: zhang.wei holds another slot of this step"
	if !slices.Contains(got.Explanation.Rules, want) {
		t.Errorf("explanation %q lacks %q", got.Explanation.Rules, want)
	}
}
