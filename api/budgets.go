package api

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/reports"
	"github.com/houqin/houqin/workflows"
)

// budgetWriters may draft budgets and adjustments; budgetReaders read
// budgets and the budget and purchase-plan reports (auditors read, never
// act).
var (
	budgetWriters = []string{"finance", "logistics_manager", "admin"}
	budgetReaders = []string{"finance", "logistics_manager", "admin", "auditor"}
)

// requireRole refuses a caller who holds none of roles.
func requireRole(who houqin.Identity, roles []string, what string) error {
	if hasAnyRole(who, roles) {
		return nil
	}
	return houqin.Errorf(houqin.EFORBIDDEN, "%s: %s holds none of the roles %v", what, who.UserID, roles)
}

// knownDepartment refuses a department the organisation does not have.
func (s *Server) knownDepartment(field, dept string) error {
	if _, err := s.cfg.Org.Department(dept); err != nil {
		return houqin.Errorf(houqin.EINVALID, "%s: unknown department %q", field, dept)
	}
	return nil
}

// startBudget is POST /v1/budgets: it drafts a year's budget and starts
// its approval (process BU-<year>-<seq>).
func (s *Server) startBudget(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	if err := requireRole(who, budgetWriters, "budget"); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.problems.Error(w, r, decodeErr(err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var d houqin.BudgetDraft
	if err := decode(r, &d); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if err := d.Validate(); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if err := d.CheckTolerance(s.cfg.MaxToleranceBP); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	for i, l := range d.Lines {
		if err := s.knownDepartment("lines["+strconv.Itoa(i)+"].department", l.Department); err != nil {
			s.problems.Error(w, r, err)
			return
		}
	}
	if by, err := activities.YearActivatedBy(r.Context(), s.cfg.Store, d.Year); err != nil {
		s.problems.Error(w, r, err)
		return
	} else if by != "" {
		s.problems.Error(w, r, houqin.Errorf(houqin.ECONFLICT, "year: the %d budget is active (%s); change it with an adjustment", d.Year, by))
		return
	}
	in := workflows.BudgetInput{Requester: who.UserID, Draft: &d}
	s.startBudgetProcess(w, r, body, "BU", d.Year, in, d.Facts(who.UserID))
}

// startAdjustment is POST /v1/budgets/{year}/adjustments: it starts the
// approval of a change to an active budget (process BA-<year>-<seq>).
func (s *Server) startAdjustment(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	if err := requireRole(who, budgetWriters, "budget"); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	year, err := yearParam(chi.URLParam(r, "year"))
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.problems.Error(w, r, decodeErr(err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var adjBody struct {
		Reason string                        `json:"reason"`
		Lines  []houqin.BudgetAdjustmentLine `json:"lines"`
	}
	if err := decode(r, &adjBody); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	adj := houqin.BudgetAdjustment{Year: year, Reason: adjBody.Reason, Lines: adjBody.Lines}
	if err := adj.Validate(); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	for i, l := range adj.Lines {
		if err := s.knownDepartment("lines["+strconv.Itoa(i)+"].department", l.Department); err != nil {
			s.problems.Error(w, r, err)
			return
		}
	}
	why, err := activities.CheckAdjustment(r.Context(), s.cfg.Store, adj)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if why != "" {
		s.problems.Error(w, r, houqin.Errorf(houqin.ENOTALLOWED, "%s", why))
		return
	}
	in := workflows.BudgetInput{Requester: who.UserID, Adjustment: &adj}
	s.startBudgetProcess(w, r, body, "BA", year, in, adj.Facts(who.UserID))
}

// startBudgetProcess starts a budget workflow as startProcurement starts a
// procurement: the policy copied in, the route resolved now, a sequence
// number, the Idempotency-Key honoured, the first events awaited.
func (s *Server) startBudgetProcess(w http.ResponseWriter, r *http.Request, body []byte, prefix string, year int, in workflows.BudgetInput, facts houqin.Facts) {
	ctx, who := r.Context(), identity(r)
	if s.cfg.Policy == nil {
		s.problems.Error(w, r, houqin.Errorf(houqin.EUNAVAILABLE, "policy: no approval policy is configured"))
		return
	}
	policy, err := s.cfg.Policy.Kind(houqin.KindBudget)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if _, err := (houqin.Resolver{Org: s.cfg.Org}).Route(policy, who.UserID, facts, s.cfg.Now()); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	n, err := s.nextNumber(ctx, prefix+"-"+strconv.Itoa(year))
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	processID := workflows.BudgetProcessID(year, n)
	if prefix == "BA" {
		processID = workflows.AdjustmentProcessID(year, n)
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if processID, err = s.claimKey(ctx, who.UserID, prefix+":"+key, body, processID); err != nil {
			s.problems.Error(w, r, err)
			return
		}
	}
	in.ProcessID, in.Policy, in.PolicyHash = processID, policy, policy.Hash()
	s.launch(w, r, houqin.KindBudget, processID, workflows.Budget, in)
}

func yearParam(v string) (int, error) {
	year, err := strconv.Atoi(v)
	if err != nil || year < 2000 || year > 2100 {
		return 0, houqin.Errorf(houqin.EINVALID, "year: must be a year between 2000 and 2100, got %q", v)
	}
	return year, nil
}

// budgetBody is the answer of GET /v1/budgets/{year}.
type budgetBody struct {
	Year        int                  `json:"year"`
	Active      bool                 `json:"active"`
	ActivatedBy string               `json:"activated_by,omitempty"`
	AsOf        string               `json:"as_of"`
	Lines       []reports.BudgetLine `json:"lines"`
	Total       reports.BudgetLine   `json:"total"`
}

// getBudget is GET /v1/budgets/{year}: each line's plan, committed, actual,
// utilization, overrun and status, from the read model.
func (s *Server) getBudget(w http.ResponseWriter, r *http.Request) {
	rep, err := s.budgetReport(r, chi.URLParam(r, "year"))
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	by, err := activities.YearActivatedBy(r.Context(), s.cfg.Store, rep.Year)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, budgetBody{Year: rep.Year, Active: by != "", ActivatedBy: by, AsOf: rep.AsOf.Format("2006-01-02T15:04:05Z07:00"),
		Lines: rep.Lines, Total: rep.Total})
}

// budgetReport reads a year's budget report for a reader.
func (s *Server) budgetReport(r *http.Request, yearText string) (reports.BudgetReport, error) {
	if err := requireRole(identity(r), budgetReaders, "budget"); err != nil {
		return reports.BudgetReport{}, err
	}
	year, err := yearParam(yearText)
	if err != nil {
		return reports.BudgetReport{}, err
	}
	if err := s.waitMinPosition(r); err != nil {
		return reports.BudgetReport{}, err
	}
	lines, err := projections.ListBudgetLines(r.Context(), s.cfg.ReadModels, year)
	if err != nil {
		return reports.BudgetReport{}, err
	}
	months, err := projections.ListBudgetMonths(r.Context(), s.cfg.ReadModels, year)
	if err != nil {
		return reports.BudgetReport{}, err
	}
	return reports.NewBudgetReport(year, s.cfg.Now(), lines, months, reports.OrgNames(s.cfg.Org)), nil
}

// reportParams reads ?year= (default: this year in UTC+8), ?format=
// (json) and ?lang= (zh-CN).
func (s *Server) reportParams(r *http.Request) (year, format, lang string, err error) {
	q := r.URL.Query()
	year, format, lang = q.Get("year"), q.Get("format"), q.Get("lang")
	if year == "" {
		year = strconv.Itoa(s.cfg.Now().In(houqin.BusinessZone).Year())
	}
	if format == "" {
		format = "json"
	}
	if lang == "" {
		lang = "zh-CN"
	}
	return year, format, lang, reports.CheckFormat(format, lang)
}

// writeReport sends a report in its format, as a download for CSV and XLSX.
func (s *Server) writeReport(w http.ResponseWriter, r *http.Request, name, format, lang string, write func(io.Writer, string, string) error) {
	var buf bytes.Buffer
	if err := write(&buf, format, lang); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", reports.ContentType(format))
	if format != "json" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// budgetReportHandler is GET /v1/reports/budget (年度预算报告 / 费用分析报告).
func (s *Server) budgetReportHandler(w http.ResponseWriter, r *http.Request) {
	year, format, lang, err := s.reportParams(r)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	rep, err := s.budgetReport(r, year)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	s.writeReport(w, r, "budget-"+year, format, lang, rep.Write)
}

// purchasePlanHandler is GET /v1/reports/purchase-plan (物资采购计划).
func (s *Server) purchasePlanHandler(w http.ResponseWriter, r *http.Request) {
	yearText, format, lang, err := s.reportParams(r)
	if err == nil {
		err = requireRole(identity(r), budgetReaders, "report")
	}
	var year int
	if err == nil {
		year, err = yearParam(yearText)
	}
	if err == nil {
		err = s.waitMinPosition(r)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	rows, err := projections.ListPurchasePlan(r.Context(), s.cfg.ReadModels, year)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	plan := reports.NewPurchasePlan(year, s.cfg.Now(), rows, reports.OrgNames(s.cfg.Org))
	s.writeReport(w, r, "purchase-plan-"+yearText, format, lang, plan.Write)
}
