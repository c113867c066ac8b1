package api

import (
	"net/http"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/projections"
)

// factsFunc reads the request body that starts a process of one kind,
// validates it exactly as starting the process does (400 naming the
// field), and returns the facts its policy conditions test.
type factsFunc func(s *Server, r *http.Request, requester string) (houqin.Facts, error)

// previewKinds maps the path of each kind's start route to its kind; each
// gets POST /v1/<path>/preview. A kind plugs in with an entry here and one
// in kindFacts.
var previewKinds = map[string]houqin.ProcessKind{
	"procurements":     houqin.KindProcurement,
	"inventory/issues": houqin.KindIssue,
}

// kindFacts are the facts readers of each previewable kind.
var kindFacts = map[houqin.ProcessKind]factsFunc{
	houqin.KindProcurement: func(s *Server, r *http.Request, requester string) (houqin.Facts, error) {
		req, err := s.procurementRequest(r)
		if err != nil {
			return nil, err
		}
		// The route a procurement takes depends on its budget line now,
		// as the workflow's check at the start will find it.
		line, err := activities.ReadBudgetLine(r.Context(), s.cfg.Store,
			houqin.BudgetLineStream(s.cfg.Now().In(projections.BooksZone).Year(), req.Department, req.BudgetCategory))
		if err != nil {
			return nil, err
		}
		return line.Check(req.Total()).Facts(req.Facts(requester)), nil
	},
	houqin.KindIssue: func(s *Server, r *http.Request, requester string) (houqin.Facts, error) {
		req, terms, err := s.issueRequest(r, requester)
		if err != nil {
			return nil, err
		}
		return houqin.IssueFacts(req, terms, requester), nil
	},
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
	if _, err := s.cfg.Org.DeptHead(req.Department); err != nil {
		return houqin.ProcurementRequest{}, houqin.Errorf(houqin.EINVALID, "department: unknown department %q", req.Department)
	}
	return req, nil
}

// previewBody is the answer of a preview: the route the request would take
// if the caller started it now (预览审批流程).
type previewBody struct {
	Kind       houqin.ProcessKind  `json:"kind"`
	Requester  string              `json:"requester"`
	At         string              `json:"at"`
	PolicyHash string              `json:"policy_hash"`
	Steps      []houqin.Resolution `json:"steps"`
}

// preview returns the handler of POST /v1/<kind path>/preview: it resolves
// every step of the kind's policy for the request as the caller would
// start it now — conditions, approvers, separation of duties, delegations
// in force, fallbacks — and writes nothing.
func (s *Server) preview(kind houqin.ProcessKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, now := identity(r), s.cfg.Now()
		facts, err := kindFacts[kind](s, r, who.UserID)
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
		steps, err := res.Route(kp, who.UserID, facts, now)
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, previewBody{Kind: kind, Requester: who.UserID, At: now.UTC().Format(time.RFC3339),
			PolicyHash: kp.Hash(), Steps: steps})
	}
}
