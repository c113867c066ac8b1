package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// inspectionScheduleRoles may create, pause, resume and trigger recurring
// inspections; auditors may list them.
var inspectionScheduleRoles = []string{"logistics_manager", "security", "admin"}

// inspectionScheduleBody is the body of POST /v1/inspection-schedules.
type inspectionScheduleBody struct {
	Name       string `json:"name"` // lowercase letters, digits and "-": the schedule's ID is inspection-<name>
	Template   string `json:"template"`
	Location   string `json:"location"`
	Inspector  string `json:"inspector"`
	Department string `json:"department,omitempty"`
	Every      string `json:"every,omitempty"` // monthly (the 1st, 09:00 UTC+8) | weekly (Monday 09:00 UTC+8)
	Cron       string `json:"cron,omitempty"`  // or a cron expression in UTC
}

var inspectionScheduleName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// inspectionPresets are the cron expressions (UTC) of the named recurrences.
var inspectionPresets = map[string]string{
	"monthly": "0 1 1 * *", // 09:00 UTC+8 on the 1st
	"weekly":  "0 1 * * 1", // 09:00 UTC+8 on Mondays
}

// createInspectionSchedule makes a Temporal Schedule that starts an inspection at
// each recurrence (workflows.ScheduledInspection). The checklist, owners
// and policy are resolved now and pinned in the schedule.
func (s *Server) createInspectionSchedule(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	var body inspectionScheduleBody
	err := requireRole(who, inspectionScheduleRoles, "role")
	if err == nil {
		err = decode(r, &body)
	}
	cron := inspectionPresets[body.Every]
	switch {
	case err != nil:
	case !inspectionScheduleName.MatchString(body.Name):
		err = houqin.Errorf(houqin.EINVALID, "name: lowercase letters, digits and - (at most 63), got %q", body.Name)
	case body.Every != "" && body.Cron != "":
		err = houqin.Errorf(houqin.EINVALID, "cron: give every or cron, not both")
	case body.Every != "" && cron == "":
		err = houqin.Errorf(houqin.EINVALID, "every: must be monthly or weekly, got %q", body.Every)
	case body.Every == "" && len(strings.Fields(body.Cron)) != 5:
		err = houqin.Errorf(houqin.EINVALID, "cron: a five-field cron expression in UTC, or every: monthly|weekly")
	}
	if cron == "" {
		cron = body.Cron
	}
	var in workflows.InspectionInput
	if err == nil {
		req := houqin.InspectionRequest{Template: body.Template, Location: body.Location, Inspector: body.Inspector,
			Department: body.Department, ScheduledFor: s.cfg.Now().Format(time.DateOnly)}
		in, err = s.inspectionInput(who.UserID, req, false)
	}
	if err == nil {
		_, err = s.cfg.Temporal.ScheduleClient().Create(r.Context(), client.ScheduleOptions{
			ID:   workflows.ScheduleID(body.Name),
			Spec: client.ScheduleSpec{CronExpressions: []string{cron}},
			Action: &client.ScheduleWorkflowAction{
				ID: "SI-" + body.Name, Workflow: workflows.ScheduledInspection, Args: []any{in}, TaskQueue: workflows.TaskQueue,
			},
			Note: "created by " + who.UserID,
		})
		var exists *serviceerror.AlreadyExists
		if errors.As(err, &exists) || strings.Contains(errorText(err), "already") {
			err = houqin.Errorf(houqin.ECONFLICT, "name: a schedule %q exists", body.Name)
		}
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"name": body.Name, "id": workflows.ScheduleID(body.Name), "cron": cron})
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// inspectionScheduleItem is one recurring inspection as GET /v1/inspection-schedules
// lists it.
type inspectionScheduleItem struct {
	Name   string      `json:"name"`
	ID     string      `json:"id"`
	Paused bool        `json:"paused"`
	Note   string      `json:"note,omitempty"`
	Cron   []string    `json:"cron"`
	Next   []time.Time `json:"next"`
	Recent []string    `json:"recent"` // workflow IDs of the latest runs
}

// listInspectionSchedules lists the recurring inspections.
func (s *Server) listInspectionSchedules(w http.ResponseWriter, r *http.Request) {
	who := identity(r)
	if err := requireRole(who, append([]string{"auditor"}, inspectionScheduleRoles...), "role"); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	it, err := s.cfg.Temporal.ScheduleClient().List(r.Context(), client.ScheduleListOptions{PageSize: 100})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	items := []inspectionScheduleItem{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		name, ok := strings.CutPrefix(e.ID, "inspection-")
		if !ok {
			continue
		}
		item := inspectionScheduleItem{Name: name, ID: e.ID, Cron: []string{}, Next: append([]time.Time{}, e.NextActionTimes...), Recent: []string{}}
		// The list comes from visibility, which lags; the schedule itself
		// says whether it is paused now.
		if d, err := s.cfg.Temporal.ScheduleClient().GetHandle(r.Context(), e.ID).Describe(r.Context()); err == nil {
			item.Paused, item.Note = d.Schedule.State.Paused, d.Schedule.State.Note
			// The server keeps a cron expression as a calendar: written
			// back as cron.
			if spec := d.Schedule.Spec; spec != nil {
				item.Cron = append(item.Cron, spec.CronExpressions...)
				for _, c := range spec.Calendars {
					item.Cron = append(item.Cron, cronOf(c))
				}
			}
			item.Next = append([]time.Time{}, d.Info.NextActionTimes...)
			for _, a := range d.Info.RecentActions {
				if a.StartWorkflowResult != nil {
					item.Recent = append(item.Recent, a.StartWorkflowResult.WorkflowID)
				}
			}
		}
		items = append(items, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// inspectionScheduleAction pauses, resumes or triggers a recurring inspection.
func (s *Server) inspectionScheduleAction(w http.ResponseWriter, r *http.Request) {
	who, name, action := identity(r), chi.URLParam(r, "name"), chi.URLParam(r, "action")
	err := requireRole(who, inspectionScheduleRoles, "role")
	if err == nil {
		err = oneOf("action", action, "pause", "unpause", "trigger")
	}
	if err == nil {
		h := s.cfg.Temporal.ScheduleClient().GetHandle(r.Context(), workflows.ScheduleID(name))
		note := action + "d by " + who.UserID
		switch action {
		case "pause":
			err = h.Pause(r.Context(), client.SchedulePauseOptions{Note: note})
		case "unpause":
			err = h.Unpause(r.Context(), client.ScheduleUnpauseOptions{Note: note})
		case "trigger":
			err = h.Trigger(r.Context(), client.ScheduleTriggerOptions{})
		}
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			err = houqin.Errorf(houqin.ENOTFOUND, "schedule: no schedule %q", name)
		}
	}
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "action": action})
}

// cronOf writes a calendar spec as the cron expression it was made from
// (minute hour day-of-month month day-of-week): the server keeps the cron
// expressions of a schedule as calendars.
func cronOf(c client.ScheduleCalendarSpec) string {
	field := func(rs []client.ScheduleRange, def string, lo, hi int) string {
		if len(rs) == 0 {
			return def
		}
		var parts []string
		for _, r := range rs {
			end := max(r.End, r.Start)
			var p string
			switch {
			case r.Start == lo && end == hi:
				p = "*"
			case end == r.Start:
				p = strconv.Itoa(r.Start)
			default:
				p = fmt.Sprintf("%d-%d", r.Start, end)
			}
			if r.Step > 1 {
				p += "/" + strconv.Itoa(r.Step)
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, ",")
	}
	return strings.Join([]string{field(c.Minute, "0", 0, 59), field(c.Hour, "0", 0, 23), field(c.DayOfMonth, "*", 1, 31),
		field(c.Month, "*", 1, 12), field(c.DayOfWeek, "*", 0, 6)}, " ")
}
