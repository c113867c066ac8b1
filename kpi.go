package houqin

import (
	"time"

	"github.com/goccy/go-yaml"
)

// The four KPIs the department is judged by.
const (
	KPISatisfaction       = "satisfaction"        // satisfied answers / answers
	KPIOnTime             = "on_time"             // items done on time / items due
	KPIBudgetOverrun      = "budget_overrun"      // max(0, actual − plan) / plan
	KPIDeliverableQuality = "deliverable_quality" // reviews without a major error / reviews
)

// KPINames lists the KPIs in report order.
var KPINames = []string{KPISatisfaction, KPIOnTime, KPIBudgetOverrun, KPIDeliverableQuality}

// KPITitles names each KPI in zh and en.
var KPITitles = map[string]Text{
	KPISatisfaction:       {Zh: "服务满意度", En: "Service satisfaction"},
	KPIOnTime:             {Zh: "任务按时完成率", En: "Tasks completed on time"},
	KPIBudgetOverrun:      {Zh: "年度后勤费用超支率", En: "Logistics budget overrun"},
	KPIDeliverableQuality: {Zh: "交付物无重大差错率", En: "Deliverables without major errors"},
}

// KPITarget is the target of one KPI: the value must be >= or <= Value.
type KPITarget struct {
	Value      float64 `json:"value"`
	Comparison string  `json:"comparison"` // ">=" or "<="
}

// Pass reports whether v meets the target.
func (t KPITarget) Pass(v float64) bool {
	if t.Comparison == "<=" {
		return v <= t.Value+1e-12
	}
	return v >= t.Value-1e-12
}

// KPIConfig is the configuration of the KPIs and of the surveys
// (config/kpi.yaml).
type KPIConfig struct {
	// Timezone is the zone days and months are counted in, and in which a
	// date such as a procurement's needed_by ends; default Asia/Shanghai
	// (UTC+8, without daylight saving).
	Timezone string               `json:"timezone"`
	Targets  map[string]KPITarget `json:"targets"`
	Survey   SurveyConfig         `json:"survey"`
}

// SurveyConfig sets the timers of a survey.
type SurveyConfig struct {
	RemindAfter Duration `json:"remind_after"` // after sending, if unanswered; default 3d
	CloseAfter  Duration `json:"close_after"`  // after sending, closed unanswered; default 7d
	// MaxAge: a service that completed longer ago than this gets no
	// survey (e.g. when the trigger replays an old log); default 30d.
	MaxAge Duration `json:"max_age"`
}

// DefaultKPIConfig returns the targets of the issue: satisfaction ≥ 85 %,
// on time ≥ 90 %, overrun ≤ 5 %, deliverables without major errors 100 %.
func DefaultKPIConfig() KPIConfig {
	return KPIConfig{
		Timezone: "Asia/Shanghai",
		Targets: map[string]KPITarget{
			KPISatisfaction:       {Value: 0.85, Comparison: ">="},
			KPIOnTime:             {Value: 0.90, Comparison: ">="},
			KPIBudgetOverrun:      {Value: 0.05, Comparison: "<="},
			KPIDeliverableQuality: {Value: 1.00, Comparison: ">="},
		},
		Survey: SurveyConfig{RemindAfter: Duration(72 * time.Hour), CloseAfter: Duration(7 * 24 * time.Hour), MaxAge: Duration(30 * 24 * time.Hour)},
	}
}

// Location returns the configured time zone. Asia/Shanghai is built in
// (UTC+8), so it needs no tzdata on the machine.
func (c KPIConfig) Location() *time.Location {
	switch c.Timezone {
	case "", "Asia/Shanghai":
		return BusinessZone
	case "UTC":
		return time.UTC
	}
	if l, err := time.LoadLocation(c.Timezone); err == nil {
		return l
	}
	return BusinessZone
}

// ParseKPIConfig parses config/kpi.yaml; missing values take the defaults.
// Errors are EINVALID naming the field.
func ParseKPIConfig(name string, b []byte) (KPIConfig, error) {
	c := DefaultKPIConfig()
	var in KPIConfig
	if err := yaml.UnmarshalWithOptions(b, &in, yaml.Strict(), yaml.UseJSONUnmarshaler()); err != nil {
		return c, Errorf(EINVALID, "%s: %s", name, yaml.FormatError(err, false, true))
	}
	if in.Timezone != "" {
		if _, err := time.LoadLocation(in.Timezone); err != nil && in.Timezone != "Asia/Shanghai" {
			return c, Errorf(EINVALID, "%s: timezone: unknown zone %q", name, in.Timezone)
		}
		c.Timezone = in.Timezone
	}
	for k, t := range in.Targets {
		if _, ok := KPITitles[k]; !ok {
			return c, Errorf(EINVALID, "%s: targets.%s: unknown KPI; known: satisfaction, on_time, budget_overrun, deliverable_quality", name, k)
		}
		if t.Comparison != ">=" && t.Comparison != "<=" {
			return c, Errorf(EINVALID, "%s: targets.%s.comparison: must be >= or <=, got %q", name, k, t.Comparison)
		}
		if t.Value < 0 || t.Value > 1 {
			return c, Errorf(EINVALID, "%s: targets.%s.value: must be a ratio between 0 and 1, got %v", name, k, t.Value)
		}
		c.Targets[k] = t
	}
	if in.Survey.RemindAfter > 0 {
		c.Survey.RemindAfter = in.Survey.RemindAfter
	}
	if in.Survey.CloseAfter > 0 {
		c.Survey.CloseAfter = in.Survey.CloseAfter
	}
	if in.Survey.MaxAge > 0 {
		c.Survey.MaxAge = in.Survey.MaxAge
	}
	if c.Survey.RemindAfter >= c.Survey.CloseAfter {
		return c, Errorf(EINVALID, "%s: survey.remind_after: must be before close_after (%s), got %s", name, c.Survey.CloseAfter.D(), c.Survey.RemindAfter.D())
	}
	return c, nil
}
