package api

import "testing"

func TestTaskProcess(t *testing.T) {
	for _, tt := range []struct {
		task, process string
		ok            bool
	}{
		{"PR-2026-000001.dept_approval.1", "PR-2026-000001", true},
		{"EV-2026-000001.materials_MKT.12", "EV-2026-000001", true},
		{"SV-EV-2026-000001-liu.yang.respond.1", "SV-EV-2026-000001-liu.yang", true},
		{"SV-SC-2026-Q4-zhou.qiang.respond.1", "SV-SC-2026-Q4-zhou.qiang", true},
		{"PR-2026-000001", "", false},
		{"PR-2026-000001.1", "", false},
		{".step.1", "", false},
		{"PR..1", "", false},
		{"PR.step.", "", false},
	} {
		t.Run(tt.task, func(t *testing.T) {
			if got, ok := taskProcess(tt.task); got != tt.process || ok != tt.ok {
				t.Errorf("taskProcess(%q) = %q, %v; want %q, %v", tt.task, got, ok, tt.process, tt.ok)
			}
		})
	}
}
