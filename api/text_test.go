package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/houqin/houqin/storetest"
)

// TestControlCharactersRefused: a control character in any text of any
// body is 400 naming the field, before anything is started or stored.
func TestControlCharactersRefused(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	tests := []struct {
		name, user, path, body, detail string
	}{
		{"a procurement's reason", "wang.fang", "/v1/procurements",
			`{"department":"MKT","budget_category":"office_supplies","reason":"Q1 \u0000 打印纸","needed_by":"2026-12-15",
			  "items":[{"name":"A4 paper","quantity":20,"unit":"box","unit_price":4500}]}`,
			"reason: control character U+0000"},
		{"an item's name", "wang.fang", "/v1/procurements",
			`{"department":"MKT","budget_category":"office_supplies","reason":"Q1","needed_by":"2026-12-15",
			  "items":[{"name":"A4\u2028paper","quantity":20,"unit":"box","unit_price":4500}]}`,
			"items[0].name: control character U+2028"},
		{"a trip's purpose", "wang.fang", "/v1/trips",
			`{"traveler":"wang.fang","purpose":"客户\u001b拜访","budget_category":"travel","estimated_cost":350000,
			  "transport":"train","lodging":true,"legs":[{"from":"上海","to":"北京","depart":"2027-01-05","return":"2027-01-07"}]}`,
			"purpose: control character U+001B"},
		{"a task comment", "liu.yang", "/v1/tasks/PR-2026-000001.dept_approval.1/approve",
			`{"comment":"同意\u0007"}`, "comment: control character U+0007"},
		{"task data", "li.na", "/v1/tasks/PR-2026-000001.record_po.1/complete",
			`{"data":{"supplier":"得力\u0000办公"}}`, "data.supplier: control character U+0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.user, http.MethodPost, tt.path, tt.body)
			problem(t, w, http.StatusBadRequest, tt.detail)
		})
	}
	if events := storetest.MustReadAll(t, f.store); len(events) != 0 {
		t.Errorf("%d events stored after refused requests, want none", len(events))
	}
}

// TestProcurementReasonRequired: the approvers decide on the reason, so a
// requisition without one is 400 naming it, as the OpenAPI document says.
func TestProcurementReasonRequired(t *testing.T) {
	f := newFixture(t, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	for _, reason := range []string{``, `"reason":"  ",`} {
		body := `{"department":"MKT","budget_category":"office_supplies",` + reason + `"needed_by":"2026-12-15",
			"items":[{"name":"A4 paper","quantity":20,"unit":"box","unit_price":4500}]}`
		problem(t, f.do("wang.fang", http.MethodPost, "/v1/procurements", body), http.StatusBadRequest, "reason: required")
	}
}
