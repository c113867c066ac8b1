package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/workflows"
)

// factsFunc reads the request body that starts a process of one kind,
// validates it exactly as starting the process does (400 naming the
// field), and returns the facts its policy conditions test and, for a
// request made for someone else, its subject (a trip's traveller), who
// approves no step of it.
type factsFunc func(s *Server, r *http.Request, requester string) (facts houqin.Facts, subject string, err error)

// previewKinds maps the path of each kind's start route to its kind; each
// gets POST /v1/<path>/preview. A kind plugs in with an entry here and one
// in kindFacts.
var previewKinds = map[string]houqin.ProcessKind{
	"procurements":     houqin.KindProcurement,
	"inventory/issues": houqin.KindIssue,
	"trips":            houqin.KindTrip,
	"events":           houqin.KindEvent,
	"inspections":      houqin.KindInspection,
}

// kindFacts are the facts readers of each previewable kind.
var kindFacts = map[houqin.ProcessKind]factsFunc{
	houqin.KindProcurement: func(s *Server, r *http.Request, requester string) (houqin.Facts, string, error) {
		req, err := s.procurementRequest(r)
		if err != nil {
			return nil, "", err
		}
		facts, err := s.procurementFacts(r, req, requester)
		return facts, "", err
	},
	houqin.KindIssue: func(s *Server, r *http.Request, requester string) (houqin.Facts, string, error) {
		req, terms, err := s.issueRequest(r, requester)
		if err != nil {
			return nil, "", err
		}
		return houqin.IssueFacts(req, terms, requester), "", nil
	},
	houqin.KindTrip: func(s *Server, r *http.Request, requester string) (houqin.Facts, string, error) {
		var req houqin.TripRequest
		if err := decode(r, &req); err != nil {
			return nil, "", err
		}
		in, err := s.tripInput(requester, req)
		if err != nil {
			return nil, "", err
		}
		facts, err := s.tripFacts(r, in)
		return facts, in.Request.Traveler, err
	},
	houqin.KindEvent: func(s *Server, r *http.Request, requester string) (houqin.Facts, string, error) {
		var req houqin.EventRequest
		if err := decode(r, &req); err != nil {
			return nil, "", err
		}
		in, err := s.eventInput(requester, req)
		if err != nil {
			return nil, "", err
		}
		facts, err := s.eventFacts(r, in)
		return facts, "", err
	},
	houqin.KindInspection: func(s *Server, r *http.Request, requester string) (houqin.Facts, string, error) {
		var req houqin.InspectionRequest
		if err := decode(r, &req); err != nil {
			return nil, "", err
		}
		if _, err := s.inspectionInput(requester, req, true); err != nil {
			return nil, "", err
		}
		return req.Facts(requester, true), "", nil
	},
}

// tripFacts are the facts a trip's route is resolved with: the request's
// and its travel line's now, as the workflow's check at the start will
// find it.
func (s *Server) tripFacts(r *http.Request, in workflows.TripInput) (houqin.Facts, error) {
	check, err := s.budgetCheck(r, s.cfg.Now().In(houqin.BusinessZone).Year(), in.Request.Department, houqin.TravelBudgetCategory, in.Request.EstimatedCost)
	return check.Facts(in.Request.Facts(in.Requester, in.TravelerManager)), err
}

// eventFacts are tripFacts for an event, which spends from the line of
// the year it starts in.
func (s *Server) eventFacts(r *http.Request, in workflows.EventInput) (houqin.Facts, error) {
	check, err := s.budgetCheck(r, in.Request.Start().In(houqin.BusinessZone).Year(), in.Request.Department, in.Request.BudgetCategory, in.Request.EstimatedCost)
	return in.Request.EventFacts(in.Requester, int64(len(in.Attendees)), check.Status, check.Remaining), err
}

// routeResolves refuses (422) a request whose route, resolved on facts as
// the workflow will see them — the budget status included — has a step
// nobody may take.
func (s *Server) routeResolves(kp houqin.KindPolicy, requester, subject string, facts houqin.Facts) error {
	_, err := (houqin.Resolver{Org: s.cfg.Org}).RouteFor(kp, requester, subject, facts, s.cfg.Now())
	return err
}

// procurementFacts are the facts a procurement's route is resolved with:
// the request's and its budget line's now, as the workflow's check at the
// start will find it (budget_status decides whether the budget steps
// apply).
func (s *Server) procurementFacts(r *http.Request, req houqin.ProcurementRequest, requester string) (houqin.Facts, error) {
	check, err := s.budgetCheck(r, s.cfg.Now().In(houqin.BusinessZone).Year(), req.Department, req.BudgetCategory, req.Total())
	return check.Facts(req.Facts(requester)), err
}

// budgetCheck checks an amount against a budget line as it stands now,
// as the workflow's check at its start will (houqin.BudgetNone without
// an active line).
func (s *Server) budgetCheck(r *http.Request, year int, department, category string, amount int64) (houqin.BudgetCheck, error) {
	line, err := activities.ReadBudgetLine(r.Context(), s.cfg.Store, houqin.BudgetLineStream(year, department, category))
	if err != nil {
		return houqin.BudgetCheck{}, err
	}
	return line.Check(amount), nil
}

// procurementRequest decodes and validates the body of POST
// /v1/procurements: unknown fields, the request's rules, a known
// department. Starting a procurement and previewing one share it.
func (s *Server) procurementRequest(r *http.Request) (houqin.ProcurementRequest, error) {
	var req houqin.ProcurementRequest
	if err := decode(r, &req); err != nil {
		return houqin.ProcurementRequest{}, err
	}
	if err := req.Validate(); err != nil {
		return houqin.ProcurementRequest{}, err
	}
	if err := houqin.CheckBudgetCategory("budget_category", req.BudgetCategory); err != nil {
		return houqin.ProcurementRequest{}, err
	}
	if strings.TrimSpace(req.Reason) == "" {
		// The approvers decide on it. (Checked here, not in Validate,
		// which running workflows call on replay.)
		return houqin.ProcurementRequest{}, houqin.Errorf(houqin.EINVALID, "reason: required: say why it is needed")
	}
	if err := s.cfg.Org.CheckCharge("department", identity(r).UserID, req.Department); err != nil {
		return houqin.ProcurementRequest{}, err
	}
	if _, err := s.cfg.Org.DeptHead(req.Department); err != nil {
		return houqin.ProcurementRequest{}, houqin.Errorf(houqin.EINVALID, "department: department %q has no head", req.Department)
	}
	return req, nil
}

// previewBody is the answer of a preview: the route the request would take
// if the caller started it now (预览审批流程).
type previewBody struct {
	Kind       houqin.ProcessKind  `json:"kind"`
	Requester  string              `json:"requester"`
	Subject    string              `json:"subject,omitempty"` // whom the request is for, if not the requester
	At         string              `json:"at"`
	PolicyHash string              `json:"policy_hash"`
	Steps      []houqin.Resolution `json:"steps"`
	Doers      []string            `json:"doers,omitempty"` // who does the work steps, where the kind has them
}

// preview returns the handler of POST /v1/<kind path>/preview: it resolves
// every step of the kind's policy for the request as the caller would
// start it now — conditions, approvers, separation of duties, delegations
// in force, fallbacks — and writes nothing.
func (s *Server) preview(kind houqin.ProcessKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, now := identity(r), s.cfg.Now()
		facts, subject, err := kindFacts[kind](s, r, who.UserID)
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		if s.cfg.Policy == nil {
			s.problems.Error(w, r, houqin.Errorf(houqin.ENOTFOUND, "policy: no approval policy is configured"))
			return
		}
		kp, err := s.cfg.Policy.Kind(kind)
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		res := houqin.Resolver{Org: s.cfg.Org, Delegation: houqin.DelegationsIn(r.Context(), s.cfg.Store)}
		steps, err := res.RouteFor(kp, who.UserID, subject, facts, now)
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		body := previewBody{Kind: kind, Requester: who.UserID, Subject: subject, At: now.UTC().Format(time.RFC3339),
			PolicyHash: kp.Hash(), Steps: steps}
		switch kind {
		case houqin.KindProcurement:
			body.Doers = s.cfg.Org.Doers([]string{who.UserID}, houqin.LogisticsRoles...)
		case houqin.KindTrip:
			body.Doers = s.cfg.Org.Doers([]string{subject}, houqin.LogisticsRoles...)
		}
		writeJSON(w, http.StatusOK, body)
	}
}
