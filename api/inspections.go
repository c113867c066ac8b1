package api

import (
	"maps"
	"net/http"
	"slices"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/workflows"
)

// startInspection starts an ad hoc inspection (安全检查): POST
// /v1/inspections {"template","location","inspector","scheduled_for"}. The
// checklist, the owners of each category of finding (resolved now from the
// checklists' owner rules) and the due time of each severity are copied
// into the workflow, like the policy.
func (s *Server) startInspection(w http.ResponseWriter, r *http.Request) {
	var req houqin.InspectionRequest
	body, err := startBody(r, &req)
	var in workflows.InspectionInput
	if err == nil {
		in, err = s.inspectionInput(identity(r).UserID, req, true)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	s.startProcess(w, r, body, "IN", workflows.InspectionID, houqin.KindInspection, workflows.Inspection, func(id string) any {
		in.ProcessID = id
		return in
	})
}

// inspectionInput validates an inspection request and resolves what the
// workflow runs by; the caller sets the process ID.
func (s *Server) inspectionInput(requester string, req houqin.InspectionRequest, adhoc bool) (workflows.InspectionInput, error) {
	if err := req.Validate(); err != nil {
		return workflows.InspectionInput{}, err
	}
	if s.cfg.Checklists == nil || s.cfg.Policy == nil {
		return workflows.InspectionInput{}, houqin.Errorf(houqin.EUNAVAILABLE, "checklists: no checklists or policy are configured")
	}
	cl, err := s.cfg.Checklists.Checklist(req.Template)
	if err != nil {
		return workflows.InspectionInput{}, err
	}
	if u, err := s.cfg.Org.User(req.Inspector); err != nil || u.Left {
		return workflows.InspectionInput{}, houqin.Errorf(houqin.EINVALID, "inspector: no user %q in the organisation", req.Inspector)
	}
	if _, err := s.cfg.Org.Department(req.DepartmentOrDefault()); err != nil {
		return workflows.InspectionInput{}, houqin.Errorf(houqin.EINVALID, "department: unknown department %q", req.Department)
	}
	kp, err := s.cfg.Policy.Kind(houqin.KindInspection)
	if err != nil {
		return workflows.InspectionInput{}, err
	}
	res := houqin.Resolver{Org: s.cfg.Org}
	facts := req.Facts(requester, adhoc)
	if _, err := res.Route(kp, requester, facts, s.cfg.Now()); err != nil {
		return workflows.InspectionInput{}, err
	}
	owners := map[string][]string{}
	for _, it := range cl.Items {
		if _, done := owners[it.Category]; done {
			continue
		}
		var users []string
		for _, rule := range s.cfg.Checklists.Owners[it.Category] {
			us, err := res.Users(rule, requester, facts)
			if err != nil {
				return workflows.InspectionInput{}, err
			}
			for _, u := range us {
				if !slices.Contains(users, u) {
					users = append(users, u)
				}
			}
		}
		// The inspector verifies the fix, so never remediates it: when the
		// inspector is the category's only owner, their manager is.
		users = slices.DeleteFunc(users, func(u string) bool { return u == req.Inspector })
		if len(users) == 0 {
			if m, ok := res.Manager(req.Inspector); ok {
				users = []string{m}
			}
		}
		if len(users) == 0 {
			return workflows.InspectionInput{}, houqin.Errorf(houqin.EINVALID, "template: nobody in the organisation but the inspector remediates %q findings", it.Category)
		}
		owners[it.Category] = users
	}
	escalate, _ := res.Users("role:security", requester, facts)
	return workflows.InspectionInput{Requester: requester, Request: req, Checklist: cl, Adhoc: adhoc,
		Policy: kp, PolicyHash: kp.Hash(), Owners: owners, Due: s.cfg.Checklists.Due, Escalate: escalate}, nil
}

// mayRead returns ENOTFOUND if the process does not exist and EFORBIDDEN if
// the caller may not read it (see canRead; copied users may).
func (s *Server) mayRead(r *http.Request, id string) error {
	ctx, who := r.Context(), identity(r)
	p, timeline, err := projections.GetProcess(ctx, s.cfg.ReadModels, id)
	if err != nil {
		return err
	}
	tasks, err := projections.ListTasks(ctx, s.cfg.ReadModels, projections.TaskFilter{ProcessID: id, Now: s.cfg.Now(), Limit: 1000})
	if err != nil {
		return err
	}
	copied, err := projections.CopiedTo(ctx, s.cfg.ReadModels, id, who.UserID)
	if err != nil {
		return err
	}
	if !copied && !canRead(who, p, tasks, timeline) {
		return houqin.Errorf(houqin.EFORBIDDEN, "process: %s may not read %s", who.UserID, id)
	}
	return nil
}

// listChecklists answers the inspection checklists (GET /v1/checklists):
// each template's ID, name and items with their categories, and who
// remediates each category's findings by rule — what the inspection form
// offers and the record form lists. Any signed-in user.
func (s *Server) listChecklists(w http.ResponseWriter, r *http.Request) {
	err := s.waitMinPosition(r)
	if err == nil && s.cfg.Checklists == nil {
		err = houqin.Errorf(houqin.EUNAVAILABLE, "checklists: no checklists are configured")
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	out := checklistsView{Items: []houqin.Checklist{}, Owners: s.cfg.Checklists.Owners}
	for _, id := range slices.Sorted(maps.Keys(s.cfg.Checklists.Checklists)) {
		cl, err := s.cfg.Checklists.Checklist(id)
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		out.Items = append(out.Items, cl)
	}
	writeJSON(w, http.StatusOK, out)
}

type checklistsView struct {
	Items  []houqin.Checklist  `json:"items"`
	Owners map[string][]string `json:"owners"`
}
