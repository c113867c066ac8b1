// Package deploy holds the Prometheus rules and Grafana dashboards that
// ship with houqin, and the test that keeps them naming only metrics
// houqin exports.
package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/houqin/houqin/projections"
)

// exported are the metric names of houqin's own collectors the rules and
// dashboards may use.
var exported = slices.Concat([]string{"houqin_tasks_pending", "houqin_tasks_overdue"}, projections.KPIMetricNames, projections.RunnerMetricNames)

var metricName = regexp.MustCompile(`\bhouqin_[a-z_]+\b`)

// checkExpr fails unless expr names at least one metric and only exported
// ones.
func checkExpr(t *testing.T, where, expr string) {
	t.Helper()
	names := metricName.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("%s: expr %q names no houqin metric", where, expr)
	}
	for _, n := range names {
		if !slices.Contains(exported, n) {
			t.Errorf("%s: expr %q names %s, which houqin does not export", where, expr, n)
		}
	}
}

// TestGrafanaDashboards parses every dashboard and checks that each panel
// has a query and every query names metrics houqin exports.
func TestGrafanaDashboards(t *testing.T) {
	files, _ := filepath.Glob("grafana/*.json")
	if len(files) == 0 {
		t.Fatal("no dashboards in deploy/grafana")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Title  string `json:"title"`
			UID    string `json:"uid"`
			Panels []struct {
				ID      int    `json:"id"`
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
			t.Errorf("%s: title %q, uid %q, %d panels", f, d.Title, d.UID, len(d.Panels))
		}
		seen := map[string]bool{}
		for _, p := range d.Panels {
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %d %q has no query", f, p.ID, p.Title)
			}
			for _, q := range p.Targets {
				checkExpr(t, f+": panel "+p.Title, q.Expr)
				for _, n := range metricName.FindAllString(q.Expr, -1) {
					seen[n] = true
				}
			}
		}
		for _, n := range []string{"houqin_kpi_satisfaction_ratio", "houqin_kpi_on_time_ratio", "houqin_kpi_budget_overrun_ratio", "houqin_kpi_deliverable_quality_ratio"} {
			if !seen[n] {
				t.Errorf("%s: no panel shows %s", f, n)
			}
		}
	}
}

// TestPrometheusRules parses the alert rules (promtool checks them more
// deeply in scripts/check-prometheus.sh) and checks that every KPI has an
// alert and every expression names exported metrics.
func TestPrometheusRules(t *testing.T) {
	files, _ := filepath.Glob("prometheus/*-rules.yml")
	var all []string
	for _, f := range files {
		all = append(all, checkRules(t, f)...)
	}
	for _, m := range []string{"houqin_kpi_satisfaction_ratio", "houqin_kpi_on_time_ratio", "houqin_kpi_budget_overrun_ratio", "houqin_kpi_deliverable_quality_ratio", "houqin_projection_failed"} {
		if !strings.Contains(strings.Join(all, "\n"), m) {
			t.Errorf("no alert on %s", m)
		}
	}
}

// checkRules parses a rule file, checks each rule and returns their
// expressions.
func checkRules(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.UnmarshalWithOptions(b, &rules, yaml.Strict()); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var all []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			checkExpr(t, r.Alert, r.Expr)
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: severity %q, summary %q", r.Alert, r.Labels["severity"], r.Annotations["summary"])
			}
			all = append(all, r.Expr)
		}
	}
	return all
}
