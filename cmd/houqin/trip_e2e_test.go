package main

import (
	"strings"
	"testing"
)

// TestTripStartEndToEnd starts the business trip of DESIGN.md through the
// HTTP API on the embedded Temporal server: bad input names its field,
// auditors and other departments may not submit, the traveller's manager
// approves and the booking task reaches logistics.
func TestTripStartEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	body := func() map[string]any {
		return map[string]any{"traveler": "wang.fang", "purpose": "客户拜访", "budget_category": "travel", "estimated_cost": 350000,
			"transport": "train", "lodging": true,
			"legs": []map[string]any{{"from": "上海", "to": "北京", "depart": "2027-01-11", "return": "2027-01-13"}}}
	}
	bad := body()
	bad["legs"] = []map[string]any{{"from": "上海", "to": "北京", "depart": "2027-01-11", "return": "2027-01-10"}}
	out := d.must(t, 400, "wang.fang", "POST", "/v1/trips", bad)
	if !strings.Contains(out["detail"].(string), "legs[0].return") {
		t.Errorf("400 %v does not name legs[0].return", out)
	}
	d.must(t, 403, "huang.xin", "POST", "/v1/trips", body())
	d.must(t, 403, "zhou.qiang", "POST", "/v1/trips", body())

	created := d.must(t, 201, "wang.fang", "POST", "/v1/trips", body())
	id := created["id"].(string)
	if !strings.HasPrefix(id, "TR-") || created["kind"] != "trip" {
		t.Fatalf("created %v", created)
	}
	review := taskIn(t, d.inbox(t, "liu.yang", "pending", created["position"]), id, "liu.yang's approval")
	out = d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+review["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	book := pendingStep(t, d, "li.na", id, "book", out["position"])
	d.must(t, 400, "li.na", "POST", "/v1/tasks/"+book+"/complete", map[string]any{"data": map[string]any{"transport": []any{}}})
	out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+book+"/complete", map[string]any{"data": map[string]any{
		"transport": []map[string]any{{"description": "G2 上海→北京", "reference": "E12345", "amount": 55300}},
		"lodging":   []map[string]any{{"description": "北京饭店 2 晚", "reference": "H-889", "amount": 120000}}}})
	// The confirmation letter follows the booking; the claim form the claim.
	letter := d.rawOK(t, 200, "wang.fang", "/v1/trips/"+id+"/confirmation?min_position="+pos(out["position"]))
	for _, want := range []string{"出差安排确认函", "E12345", "H-889", "1200.00", "刘洋 Liu Yang"} {
		if !strings.Contains(letter, want) {
			t.Errorf("the confirmation letter does not show %q", want)
		}
	}
	d.rawOK(t, 200, "wang.fang", "/v1/trips/"+id+"/confirmation?format=xlsx")
	d.rawOK(t, 422, "wang.fang", "/v1/trips/"+id+"/expense-claim")
	d.rawOK(t, 403, "zhou.qiang", "/v1/trips/"+id+"/confirmation")

	// Cancelled before travel.
	out = d.must(t, 200, "wang.fang", "POST", "/v1/processes/"+id+"/revoke", map[string]any{"comment": "客户改期"})
	if out["position"] == nil {
		t.Errorf("revoke answered %v", out)
	}
}
