package api

import (
	"net/http"
	"slices"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/workflows"
)

// The approver rules of who arranges what for an event (活动筹备); each
// department's materials are collected by its head.
var eventOwners = map[string]string{
	houqin.ArrangeVenue:     "role:logistics_staff",
	houqin.ArrangeEquipment: "role:property_management",
	houqin.ArrangeSupplies:  "role:warehouse",
	houqin.ArrangeCatering:  "role:logistics_staff",
}

var arrangementNames = map[string]houqin.Text{
	houqin.ArrangeVenue:     {Zh: "场地安排", En: "Arrange the venue"},
	houqin.ArrangeEquipment: {Zh: "设备准备（音响、投影等）", En: "Prepare the equipment (sound, projector …)"},
	houqin.ArrangeSupplies:  {Zh: "物资准备", En: "Prepare the supplies"},
	houqin.ArrangeCatering:  {Zh: "餐饮安排", En: "Arrange the catering"},
}

// startEvent starts an event or meeting (活动/会议): POST /v1/events
// {"type","title","starts_at","ends_at","attendee_departments",
// "budget_category","estimated_cost",…}. The attendees (from the
// organisation by department), who confirms, who arranges what and who
// reviews the minutes are resolved now and copied into the workflow, like
// the policy.
func (s *Server) startEvent(w http.ResponseWriter, r *http.Request) {
	var req houqin.EventRequest
	body, err := startBody(r, &req)
	var in workflows.EventInput
	if err == nil {
		in, err = s.eventInput(identity(r).UserID, req)
	}
	var facts houqin.Facts
	if err == nil {
		facts, err = s.eventFacts(r, in)
	}
	if err == nil {
		err = s.routeResolves(in.Policy, in.Requester, "", facts)
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	s.startProcess(w, r, body, "EV", workflows.EventProcessID, houqin.KindEvent, workflows.Event, func(id string) any {
		in.ProcessID = id
		return in
	})
}

// eventInput validates an event request and resolves what the workflow
// runs by; the caller sets the process ID. The organiser never works on
// their own event's tasks, nor does an auditor (the head of AUD collects no
// materials): where they would, their manager does.
func (s *Server) eventInput(requester string, req houqin.EventRequest) (workflows.EventInput, error) {
	if err := req.Validate(); err != nil {
		return workflows.EventInput{}, err
	}
	if s.cfg.Policy == nil {
		return workflows.EventInput{}, houqin.Errorf(houqin.EUNAVAILABLE, "policy: no policy is configured")
	}
	org := s.cfg.Org
	u, err := org.User(requester)
	if err != nil {
		return workflows.EventInput{}, err
	}
	if req.Department == "" {
		req.Department = u.Department
	} else if err := org.CheckCharge("department", requester, req.Department); err != nil {
		return workflows.EventInput{}, err
	}
	attendees, err := houqin.EventAttendees(org, req.AttendeeDepartments)
	if err != nil {
		return workflows.EventInput{}, err
	}
	kp, err := s.cfg.Policy.Kind(houqin.KindEvent)
	if err != nil {
		return workflows.EventInput{}, err
	}
	res := houqin.Resolver{Org: org}
	facts := req.EventFacts(requester, int64(len(attendees)), houqin.BudgetNone, 0)
	if _, err := res.Route(kp, requester, facts, s.cfg.Now()); err != nil {
		return workflows.EventInput{}, err
	}
	auditor := func(id string) bool {
		u, err := org.User(id)
		return err == nil && u.HasRole("auditor")
	}
	// users resolves rules, without the organiser or auditors (a manager
	// instead).
	users := func(field string, rules ...string) ([]string, error) {
		var out []string
		for _, rule := range rules {
			us, err := res.Users(rule, requester, facts)
			if err != nil {
				return nil, err
			}
			for _, u := range us {
				if !slices.Contains(out, u) {
					out = append(out, u)
				}
			}
		}
		// Neither the organiser nor an auditor (who reads but never acts)
		// works on the event; where nobody else would, the manager of the
		// first left out does.
		var left []string
		out = slices.DeleteFunc(out, func(u string) bool {
			if u == requester || auditor(u) {
				left = append(left, u)
				return true
			}
			return false
		})
		for _, u := range left {
			if m, ok := res.Manager(u); ok && len(out) == 0 && m != requester && !auditor(m) {
				out = []string{m}
			}
		}
		if len(out) == 0 {
			return nil, houqin.Errorf(houqin.EUNAVAILABLE, "%s: nobody in the organisation (%v)", field, rules)
		}
		return out, nil
	}
	in := workflows.EventInput{Requester: requester, Request: req, Attendees: attendees, Policy: kp, PolicyHash: kp.Hash()}
	// Supplies stock cannot cover are bought by a child procurement under
	// the procurement policy in force now.
	if in.ProcurementPolicy, err = s.cfg.Policy.Kind(houqin.KindProcurement); err != nil {
		return workflows.EventInput{}, err
	}
	// Every attendee but the organiser is surveyed once the minutes are
	// accepted, as long as the configured surveys stay open.
	sc := s.kpiConfig().Survey
	in.SurveyRemindAfter, in.SurveyCloseAfter = sc.RemindAfter.D(), sc.CloseAfter.D()
	for _, u := range attendees {
		if org.ServesLogistics(u) {
			in.NoSurvey = append(in.NoSurvey, u)
		}
	}
	if in.HR, err = users("hr", "role:hr"); err != nil {
		return workflows.EventInput{}, err
	}
	mkt, err := org.DeptHead("MKT")
	if err != nil {
		return workflows.EventInput{}, houqin.Errorf(houqin.EUNAVAILABLE, "marketing: the organisation has no marketing department head")
	}
	if in.Marketing, err = users("marketing", "user:"+mkt.ID); err != nil {
		return workflows.EventInput{}, err
	}
	if in.Reviewers, err = users("reviewers", "role:logistics_manager"); err != nil {
		return workflows.EventInput{}, err
	}
	in.Escalate, _ = res.Users("role:logistics_manager", requester, facts)
	for _, step := range houqin.Arrangements {
		owners, err := users(step, eventOwners[step])
		if err != nil {
			return workflows.EventInput{}, err
		}
		in.Arrangements = append(in.Arrangements, houqin.Arrangement{Step: step, Owners: owners, Name: arrangementNames[step]})
	}
	depts := req.AttendeeDepartments
	if slices.Contains(depts, houqin.AllDepartments) {
		depts = nil
		for _, d := range org.Departments() {
			if !d.External {
				depts = append(depts, d.ID)
			}
		}
	}
	for _, d := range depts {
		head, err := org.DeptHead(d)
		if err != nil {
			return workflows.EventInput{}, houqin.Errorf(houqin.EUNAVAILABLE, "attendee_departments: department %s has no head to collect its materials", d)
		}
		owners, err := users("materials", "user:"+head.ID)
		if err != nil {
			return workflows.EventInput{}, err
		}
		dept, _ := org.Department(d)
		in.Arrangements = append(in.Arrangements, houqin.Arrangement{Step: houqin.ArrangementTaskStep(houqin.ArrangeMaterials, d),
			Department: d, Owners: owners, Name: houqin.Text{Zh: "收集" + dept.Name + "材料", En: "Collect the materials of " + dept.NameEn}})
	}
	return in, nil
}
