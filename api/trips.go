package api

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/workflows"
)

// tripArrangers may submit a trip for any traveller; anyone else submits
// their own trips and those of their department's members (an assistant).
var tripArrangers = []string{"logistics_staff", "logistics_manager", "admin"}

// startTrip starts a business trip (出差): POST /v1/trips {"traveler",
// "purpose","budget_category":"travel","estimated_cost","transport",
// "lodging","legs":[{"from","to","depart","return"}]}. The traveller's
// department and manager are resolved now and copied into the workflow
// with the policy (approval and claim routes, caps by city tier).
func (s *Server) startTrip(w http.ResponseWriter, r *http.Request) {
	var req houqin.TripRequest
	body, err := startBody(r, &req)
	var in workflows.TripInput
	if err == nil {
		in, err = s.tripInput(identity(r).UserID, req)
	}
	var facts houqin.Facts
	if err == nil {
		facts, err = s.tripFacts(r, in)
	}
	if err == nil {
		err = s.routeResolves(in.Policy, in.Requester, in.Request.Traveler, facts)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	s.startProcess(w, r, body, "TR", workflows.TripID, houqin.KindTrip, workflows.Trip, func(id string) any {
		in.ProcessID = id
		return in
	})
}

// tripInput validates a trip request, checks that requester may submit it
// and resolves what the workflow runs by; the caller sets the process ID.
func (s *Server) tripInput(requester string, req houqin.TripRequest) (workflows.TripInput, error) {
	if req.Department != "" {
		return workflows.TripInput{}, houqin.Errorf(houqin.EINVALID, "department: set from the traveller's department; leave it out")
	}
	if req.Traveler != "" {
		if u, err := s.cfg.Org.User(req.Traveler); err == nil && !u.Left {
			req.Department = u.Department
		} else {
			return workflows.TripInput{}, houqin.Errorf(houqin.EINVALID, "traveler: no user %q in the organisation", req.Traveler)
		}
	}
	if err := req.Validate(); err != nil {
		return workflows.TripInput{}, err
	}
	me, err := s.cfg.Org.User(requester)
	if err != nil {
		return workflows.TripInput{}, houqin.Errorf(houqin.EFORBIDDEN, "requester: %s is not in the organisation", requester)
	}
	arranger := false
	for _, role := range tripArrangers {
		arranger = arranger || me.HasRole(role)
	}
	if requester != req.Traveler && me.Department != req.Department && !arranger {
		return workflows.TripInput{}, houqin.Errorf(houqin.EFORBIDDEN,
			"traveler: %s may submit trips for themselves and their department (%s), not for %s", requester, me.Department, req.Traveler)
	}
	if s.cfg.Policy == nil {
		return workflows.TripInput{}, houqin.Errorf(houqin.EUNAVAILABLE, "policy: no approval policy is configured")
	}
	kp, err := s.cfg.Policy.Kind(houqin.KindTrip)
	if err != nil {
		return workflows.TripInput{}, err
	}
	var manager string
	if m, err := s.cfg.Org.Manager(req.Traveler, 1); err == nil {
		manager = m.ID
	}
	// The route must resolve now: a trip nobody could approve is refused
	// before a process exists.
	if _, err := (houqin.Resolver{Org: s.cfg.Org}).RouteFor(kp, requester, req.Traveler, houqin.BudgetCheck{}.Facts(req.Facts(requester, manager)), s.cfg.Now()); err != nil {
		return workflows.TripInput{}, err
	}
	// Logistics staff book, never the traveller: if the traveller is the
	// only one, the logistics managers do.
	logistics := s.cfg.Org.Doers([]string{req.Traveler}, houqin.LogisticsRoles...)
	if len(logistics) == 0 {
		return workflows.TripInput{}, houqin.Errorf(houqin.EUNAVAILABLE, "logistics: nobody but the traveller has the role logistics_staff or logistics_manager to book trips")
	}
	return workflows.TripInput{Requester: requester, Request: req, TravelerManager: manager,
		Policy: kp, PolicyHash: kp.Hash(), Logistics: logistics,
		Settlers: s.cfg.Org.Doers([]string{req.Traveler}, "logistics_manager")}, nil
}

// tripCaps answers a trip's caps day by day (GET /v1/trips/{id}/caps):
// the city of each day and its hotel and per-diem caps under the rules the
// trip started with, asked of its workflow — the claim form shows each
// line's cap from it. Whoever may read the trip may read its caps.
func (s *Server) tripCaps(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	err := s.waitMinPosition(r)
	if err == nil {
		err = s.mayRead(r, id)
	}
	if err == nil && !strings.HasPrefix(id, "TR-") {
		err = houqin.Errorf(houqin.ENOTFOUND, "trip: %s is not a trip", id)
	}
	var days []houqin.DayCaps
	if err == nil {
		err = s.query(r.Context(), id, workflows.QueryTravelCaps, &days)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tripCapsView{Trip: id, Days: days})
}

type tripCapsView struct {
	Trip string           `json:"trip"`
	Days []houqin.DayCaps `json:"days"`
}
