package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
)

// kpiRoles may read the department's scorecard: those who read every
// process, and department heads.
var kpiRoles = []string{"auditor", "admin", "logistics_manager", "dept_head"}

// kpiKinds are the values ?kind= takes.
var kpiKinds = []string{"procurement", "trip", "inspection", "event", "budget", "campaign"}

// getKPI answers GET /v1/kpi?from=&to=&department=&kind=&as_of=: the four
// KPIs over [from, to] (dates, to inclusive; default this year to today),
// live from the kpi read model or, with as_of (an RFC 3339 time or a
// position), from the events up to then projected into a scratch database.
func (s *Server) getKPI(w http.ResponseWriter, r *http.Request) {
	q, bound, err := s.kpiQuery(r)
	if err == nil {
		err = s.waitMinPosition(r)
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
	writeJSON(w, http.StatusOK, rep)
}

// kpiQuery parses and checks the parameters of GET /v1/kpi (and of the
// reports); bound is nil for a live answer.
func (s *Server) kpiQuery(r *http.Request) (projections.KPIQuery, *projections.Bound, error) {
	who, v := identity(r), r.URL.Query()
	cfg := s.kpiConfig()
	loc := cfg.Location()
	q := projections.KPIQuery{Config: cfg, Department: v.Get("department"), Kind: v.Get("kind"), Now: s.cfg.Now()}
	if !hasAnyRole(who, kpiRoles) {
		return q, nil, houqin.Errorf(houqin.EFORBIDDEN, "the KPIs are for managers, department heads and auditors")
	}
	now := s.cfg.Now().In(loc)
	q.From = time.Date(now.Year(), 1, 1, 0, 0, 0, 0, loc)
	q.To = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	if f := v.Get("from"); f != "" {
		t, err := time.ParseInLocation(time.DateOnly, f, loc)
		if err != nil {
			return q, nil, houqin.Errorf(houqin.EINVALID, "from: must be a date YYYY-MM-DD, got %q", f)
		}
		q.From = t
	}
	if f := v.Get("to"); f != "" {
		t, err := time.ParseInLocation(time.DateOnly, f, loc)
		if err != nil {
			return q, nil, houqin.Errorf(houqin.EINVALID, "to: must be a date YYYY-MM-DD, got %q", f)
		}
		q.To = t.AddDate(0, 0, 1)
	}
	switch {
	case !q.From.Before(q.To):
		return q, nil, houqin.Errorf(houqin.EINVALID, "to: must not be before from (%s)", q.From.Format(time.DateOnly))
	case q.To.Sub(q.From) > 3*366*24*time.Hour:
		return q, nil, houqin.Errorf(houqin.EINVALID, "to: a period is at most three years")
	}
	if q.Department != "" {
		if _, err := s.cfg.Org.Department(q.Department); err != nil {
			return q, nil, houqin.Errorf(houqin.EINVALID, "department: no department %q", q.Department)
		}
	}
	if q.Kind != "" && !slices.Contains(kpiKinds, q.Kind) {
		return q, nil, houqin.Errorf(houqin.EINVALID, "kind: must be one of procurement, trip, inspection, event, budget, campaign; got %q", q.Kind)
	}
	a := v.Get("as_of")
	if a == "" {
		return q, nil, nil
	}
	if pos, err := strconv.ParseInt(a, 10, 64); err == nil {
		if pos <= 0 {
			return q, nil, houqin.Errorf(houqin.EINVALID, "as_of: a position must be positive, got %d", pos)
		}
		return q, &projections.Bound{Position: pos}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, a)
	if err != nil {
		return q, nil, houqin.Errorf(houqin.EINVALID, "as_of: must be an RFC 3339 time such as 2026-06-30T23:59:59+08:00 or a position, got %q", a)
	}
	if t.After(s.cfg.Now()) {
		return q, nil, houqin.Errorf(houqin.EINVALID, "as_of: %s is in the future", a)
	}
	q.Now = t
	return q, &projections.Bound{Time: t}, nil
}

func (s *Server) kpiConfig() houqin.KPIConfig {
	if s.cfg.KPI.Targets == nil {
		return houqin.DefaultKPIConfig()
	}
	return s.cfg.KPI
}

// computeKPIs answers q live (bound nil) or as of bound.
func (s *Server) computeKPIs(ctx context.Context, q projections.KPIQuery, bound *projections.Bound) (projections.KPIReport, error) {
	if bound == nil {
		// The checkpoint first: the answer includes at least the events up
		// to it.
		var pos int64
		if p, ok := s.cfg.Progress.(interface{ Position(string) int64 }); ok {
			pos = p.Position(projections.KPI{}.Name())
		} else {
			var err error
			if pos, err = projections.CheckpointOf(ctx, s.cfg.ReadModels, projections.KPI{}.Name()); err != nil {
				return projections.KPIReport{}, err
			}
		}
		rep, err := projections.ComputeKPIs(ctx, s.cfg.ReadModels, q)
		rep.Position = pos
		return rep, err
	}
	if s.cfg.Scratch == nil {
		return projections.KPIReport{}, houqin.Errorf(houqin.EUNAVAILABLE, "as_of: this server has no scratch database")
	}
	db, err := s.cfg.Scratch()
	if err != nil {
		return projections.KPIReport{}, err
	}
	defer db.Close()
	pos, at, err := projections.ProjectAsOf(ctx, s.cfg.Store, db, []projections.Projection{projections.KPI{Location: q.Config.Location()}}, *bound)
	if err != nil {
		return projections.KPIReport{}, err
	}
	if bound.Position > 0 {
		if pos < bound.Position {
			return projections.KPIReport{}, houqin.Errorf(houqin.EINVALID, "as_of: position %d is beyond the end of the log (%d)", bound.Position, pos)
		}
		q.Now = at
	}
	rep, err := projections.ComputeKPIs(ctx, db, q)
	rep.Position = pos
	return rep, err
}
