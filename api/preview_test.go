package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// procurementBody is a request of 9,000 yuan (900000 fen) from MKT.
const procurementBody = `{"department":"MKT","budget_category":"office_supplies","reason":"投影仪","needed_by":"2026-12-15",
	"items":[{"name":"projector","quantity":1,"unit":"set","unit_price":900000}]}`

type previewOut struct {
	Kind       houqin.ProcessKind  `json:"kind"`
	Requester  string              `json:"requester"`
	PolicyHash string              `json:"policy_hash"`
	Steps      []houqin.Resolution `json:"steps"`
}

// route is a preview in one line per step: "step applies: user(for)…".
func route(p previewOut) []string {
	var out []string
	for _, s := range p.Steps {
		line := fmt.Sprintf("%s %t:", s.Step, s.Applies)
		for _, a := range s.Assignees {
			line += " " + a.User
			if a.OnBehalfOf != "" {
				line += "(for " + a.OnBehalfOf + ")"
			}
		}
		out = append(out, line)
	}
	return out
}

// TestPreview resolves the default policy's procurement route through the
// API: the plain route, a delegation in force, separation of duties; bad
// requests are 400 naming the field; nothing is written.
func TestPreview(t *testing.T) {
	f := newFixture(t, t0)
	kp, err := f.policy.Kind(houqin.KindProcurement)
	if err != nil {
		t.Fatal(err)
	}
	preview := func(user, body string) previewOut {
		t.Helper()
		var p previewOut
		decodeOK(t, f.do(user, http.MethodPost, "/v1/procurements/preview", body), 200, &p)
		if p.Kind != houqin.KindProcurement || p.Requester != user || p.PolicyHash != kp.Hash() {
			t.Errorf("preview header = %s %s %s, want procurement %s %s", p.Kind, p.Requester, p.PolicyHash, user, kp.Hash())
		}
		return p
	}
	head := func() int64 {
		h, err := f.store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	before := head()

	p := preview("wang.fang", procurementBody)
	want := []string{"dept_approval true: liu.yang", "finance_review true: chen.jing zhang.wei", "director_approval false:", "budget_review false:", "budget_exception false:"}
	if diff := cmp.Diff(want, route(p)); diff != "" {
		t.Errorf("wang.fang's route (-want +got):\n%s", diff)
	}
	if p.Steps[0].Name.Zh != "部门负责人审批" || p.Steps[1].Required != 2 || p.Steps[2].Explanation.Reason == "" {
		t.Errorf("steps = %+v", p.Steps)
	}
	if head() != before {
		t.Fatalf("a preview wrote events: head %d → %d", before, head())
	}

	// liu.yang heads MKT: the department step goes to his manager.
	want = []string{"dept_approval true: zhang.wei", "finance_review true: chen.jing zhang.wei", "director_approval false:", "budget_review false:", "budget_exception false:"}
	if diff := cmp.Diff(want, route(preview("liu.yang", procurementBody))); diff != "" {
		t.Errorf("liu.yang's route (-want +got):\n%s", diff)
	}

	// liu.yang is away: ma.chao approves on his behalf.
	w := f.do("liu.yang", http.MethodPost, "/v1/delegations", delegationJSON("ma.chao", t0.Add(-time.Hour), t0.Add(48*time.Hour), ""))
	if w.Code != 201 {
		t.Fatalf("set delegation: %d %s", w.Code, w.Body)
	}
	want = []string{"dept_approval true: ma.chao(for liu.yang)", "finance_review true: chen.jing zhang.wei", "director_approval false:", "budget_review false:", "budget_exception false:"}
	if diff := cmp.Diff(want, route(preview("wang.fang", procurementBody))); diff != "" {
		t.Errorf("wang.fang's route while liu.yang is away (-want +got):\n%s", diff)
	}
	f.setNow(t0.Add(72 * time.Hour)) // the delegation has ended
	want = []string{"dept_approval true: liu.yang", "finance_review true: chen.jing zhang.wei", "director_approval false:", "budget_review false:", "budget_exception false:"}
	if diff := cmp.Diff(want, route(preview("wang.fang", procurementBody))); diff != "" {
		t.Errorf("wang.fang's route after the delegation (-want +got):\n%s", diff)
	}
	f.setNow(t0)

	// A small request skips finance; a large one needs the director.
	small := `{"department":"MKT","budget_category":"office_supplies","reason":"纸","needed_by":"2026-12-15","items":[{"name":"A4","quantity":2,"unit":"box","unit_price":4500}]}`
	want = []string{"dept_approval true: ma.chao(for liu.yang)", "finance_review false:", "director_approval false:", "budget_review false:", "budget_exception false:"}
	if diff := cmp.Diff(want, route(preview("wang.fang", small))); diff != "" {
		t.Errorf("small request (-want +got):\n%s", diff)
	}
	big := `{"department":"MKT","budget_category":"equipment","reason":"车","needed_by":"2026-12-15","items":[{"name":"van","quantity":1,"unit":"car","unit_price":20000000}]}`
	want = []string{"dept_approval true: ma.chao(for liu.yang)", "finance_review true: chen.jing zhang.wei", "director_approval true: zhang.wei", "budget_review false:", "budget_exception false:"}
	if diff := cmp.Diff(want, route(preview("wang.fang", big))); diff != "" {
		t.Errorf("big request (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ name, body, detail string }{
		{"bad quantity", `{"department":"MKT","budget_category":"other","reason":"r","needed_by":"2026-12-15","items":[{"name":"a","quantity":0,"unit":"u","unit_price":1}]}`, "items[0].quantity: must be positive"},
		{"unknown field", `{"department":"MKT","colour":"red"}`, "colour: unknown field"},
		{"unknown category", `{"department":"MKT","budget_category":"x","reason":"r","needed_by":"2026-12-15","items":[{"name":"a","quantity":1,"unit":"u","unit_price":1}]}`, `budget_category: must be one of office_supplies, `},
		{"unknown department", `{"department":"XYZ","budget_category":"other","reason":"r","needed_by":"2026-12-15","items":[{"name":"a","quantity":1,"unit":"u","unit_price":1}]}`, `department: unknown department "XYZ"`},
		{"no body", ``, "body: a JSON object is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			problem(t, f.do("wang.fang", http.MethodPost, "/v1/procurements/preview", tt.body), 400, tt.detail)
		})
	}
	problem(t, f.do("", http.MethodPost, "/v1/procurements/preview", procurementBody), 401, "authorization: missing bearer token")

	// No policy configured: the kind has no route to preview.
	noPolicy := api.NewServer(api.Config{Store: f.store, Org: f.org, Auth: api.NewHS256(f.key, f.org), Registry: prometheus.NewRegistry()})
	f.handler = noPolicy.Handler()
	problem(t, f.do("wang.fang", http.MethodPost, "/v1/procurements/preview", procurementBody), 404, "policy: no approval policy")
}

// TestChargedDepartment: a requester charges their own department; charging
// another needs budget_charge_any, and then the department head step goes
// to the charged department's head.
func TestChargedDepartment(t *testing.T) {
	yaml := strings.Replace(string(config.DefaultOrg()), "department: ADM, roles: [logistics_staff],", "department: ADM, roles: [logistics_staff, budget_charge_any],", 1)
	org, err := houqin.ParseOrg([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, t0, org)
	body := func(dept string) string {
		return `{"department":"` + dept + `","budget_category":"office_supplies","reason":"纸","needed_by":"2026-12-15","items":[{"name":"A4","quantity":2,"unit":"box","unit_price":4500}]}`
	}
	// wang.fang of MKT cannot charge finance, by preview or by submission:
	// nothing is started.
	problem(t, f.do("wang.fang", http.MethodPost, "/v1/procurements/preview", body("FIN")), 403,
		"department: wang.fang charges their own department MKT; charging FIN needs the role budget_charge_any")
	problem(t, f.do("wang.fang", http.MethodPost, "/v1/procurements", body("FIN")), 403, "department: wang.fang charges their own department MKT")
	if events := storetest.MustReadAll(t, f.store); len(events) != 0 {
		t.Errorf("%d events stored after a refused submission, want none", len(events))
	}
	// li.na may charge MKT: MKT's head approves, not hers.
	var p struct {
		Steps []houqin.Resolution `json:"steps"`
	}
	decodeOK(t, f.do("li.na", http.MethodPost, "/v1/procurements/preview", body("MKT")), http.StatusOK, &p)
	if len(p.Steps) == 0 || len(p.Steps[0].Assignees) != 1 || p.Steps[0].Assignees[0].User != "liu.yang" {
		t.Errorf("li.na charging MKT: first step %+v, want liu.yang, MKT's head", p.Steps)
	}
}

// TestPreviewDoers: nobody does the work of their own request. li.na, the
// only logistics staff, sees her requisition go to the logistics manager.
func TestPreviewDoers(t *testing.T) {
	f := newFixture(t, t0)
	for _, tt := range []struct {
		user string
		want []string
	}{{"wang.fang", []string{"li.na"}}, {"li.na", []string{"zhang.wei"}}} {
		var p struct {
			Doers []string `json:"doers"`
		}
		dept := map[string]string{"wang.fang": "MKT", "li.na": "ADM"}[tt.user]
		body := strings.Replace(procurementBody, `"department":"MKT"`, `"department":"`+dept+`"`, 1)
		decodeOK(t, f.do(tt.user, http.MethodPost, "/v1/procurements/preview", body), http.StatusOK, &p)
		if diff := cmp.Diff(tt.want, p.Doers); diff != "" {
			t.Errorf("%s's requisition is done by (-want +got):\n%s", tt.user, diff)
		}
	}
}
