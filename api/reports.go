package api

import (
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/scorecard"
)

// reportFormat reads ?format= (default html) and ?lang= (default zh-CN).
func reportFormat(r *http.Request) (format, lang string, err error) {
	format, lang = r.URL.Query().Get("format"), r.URL.Query().Get("lang")
	if format == "" {
		format = "html"
	}
	if lang == "" {
		lang = "zh-CN"
	}
	switch {
	case !slices.Contains(scorecard.Formats, format):
		return "", "", houqin.Errorf(houqin.EINVALID, "format: must be xlsx or html, got %q", format)
	case !slices.Contains(scorecard.Langs, lang):
		return "", "", houqin.Errorf(houqin.EINVALID, "lang: must be zh-CN or en, got %q", lang)
	}
	return format, lang, nil
}

// sendReport writes a rendered report with its media type and, for XLSX,
// as an attachment named name.
func sendReport(w http.ResponseWriter, body []byte, format, name string) {
	w.Header().Set("Content-Type", scorecard.ContentType(format))
	if format == "xlsx" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// serviceQualityReport answers GET /v1/reports/service-quality: the
// service quality evaluation report (服务质量评估报告) of the period and
// filters GET /v1/kpi takes, as_of included.
func (s *Server) serviceQualityReport(w http.ResponseWriter, r *http.Request) {
	format, lang, err := reportFormat(r)
	var (
		q     projections.KPIQuery
		bound *projections.Bound
	)
	if err == nil {
		q, bound, err = s.kpiQuery(r)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	rep, err := s.computeKPIs(r.Context(), q, bound)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	body, err := scorecard.Render(func(out io.Writer) error { return scorecard.ServiceQuality(out, rep, format, lang) })
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	sendReport(w, body, format, "service-quality-"+rep.From+"-"+rep.To)
}

// planReport answers GET /v1/reports/plan?year=: the support of the
// logistics management plan (后勤管理计划书) — the KPI targets and the
// year's budget lines.
func (s *Server) planReport(w http.ResponseWriter, r *http.Request) {
	format, lang, err := reportFormat(r)
	if err == nil && !hasAnyRole(identity(r), kpiRoles) {
		err = houqin.Errorf(houqin.EFORBIDDEN, "the plan is for managers, department heads and auditors")
	}
	cfg := s.kpiConfig()
	year := s.cfg.Now().In(cfg.Location()).Year()
	if v := r.URL.Query().Get("year"); v != "" && err == nil {
		y, perr := strconv.Atoi(v)
		if perr != nil || y < 2000 || y > 2100 {
			err = houqin.Errorf(houqin.EINVALID, "year: must be a year such as 2026, got %q", v)
		}
		year = y
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	lines, err := projections.ListKPIBudgetLines(r.Context(), s.cfg.ReadModels, year)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	body, err := scorecard.Render(func(out io.Writer) error {
		return scorecard.Plan(out, scorecard.PlanInput{Year: year, Config: cfg, Lines: lines}, format, lang)
	})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	sendReport(w, body, format, "plan-"+strconv.Itoa(year))
}
