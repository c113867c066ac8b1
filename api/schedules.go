package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// scheduleID is the form of a stocktake schedule's ID.
var scheduleID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// defaultTimeZone is the time zone of a schedule's cron expression unless
// it names another.
const defaultTimeZone = "Asia/Shanghai"

// scheduleBody is the body of POST /v1/inventory/stocktake-schedules.
type scheduleBody struct {
	ID       string   `json:"id"`
	Cron     string   `json:"cron,omitempty"`      // e.g. "0 9 1 * *": 09:00 on the 1st of each month
	Every    string   `json:"every,omitempty"`     // e.g. "168h"
	TimeZone string   `json:"time_zone,omitempty"` // of Cron; default Asia/Shanghai
	Reason   string   `json:"reason"`
	Items    []string `json:"items,omitempty"` // default: every item defined now
}

// scheduleRow is a stocktake schedule as the API shows it: what was
// recorded, and what Temporal says of it now.
type scheduleRow struct {
	houqin.StocktakeScheduled
	Workflow   string      `json:"workflow_id_prefix"`
	NextRuns   []time.Time `json:"next_runs"`
	RecentRuns []string    `json:"recent_runs"` // workflow IDs of the last launches
	Paused     bool        `json:"paused"`
	Missing    bool        `json:"missing,omitempty"` // recorded, but Temporal has no such schedule
	Position   int64       `json:"position,omitempty"`
}

func temporalScheduleID(id string) string { return "stocktake-" + id }

// createSchedule is POST /v1/inventory/stocktake-schedules: a Temporal
// Schedule that starts a stocktake (ScheduledStocktake) at each time, its
// counters counting in a task; recorded in StocktakeSchedulesStream.
func (s *Server) createSchedule(w http.ResponseWriter, r *http.Request) {
	ctx, who := r.Context(), identity(r)
	if err := s.mustKeepStock(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	var b scheduleBody
	if err := decode(r, &b); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	spec, err := s.scheduleSpec(ctx, b)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	ev := houqin.StocktakeScheduled{ID: b.ID, Cron: b.Cron, Every: b.Every, TimeZone: spec.TimeZoneName, Reason: b.Reason,
		Items: b.Items, Requester: who.UserID}
	if len(ev.Items) == 0 {
		items, err := projections.ListInventory(ctx, s.cfg.ReadModels)
		if err != nil {
			s.problems.Error(w, r, err)
			return
		}
		for _, it := range items {
			if it.Defined {
				ev.Items = append(ev.Items, it.Item)
			}
		}
		if len(ev.Items) == 0 {
			s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "items: no inventory item is defined yet"))
			return
		}
	}
	counts := make([]houqin.StocktakeCount, len(ev.Items))
	for i, it := range ev.Items {
		counts[i] = houqin.StocktakeCount{Item: it}
	}
	req := houqin.StocktakeRequest{Reason: b.Reason, Counts: counts}
	if err := req.Validate(); err != nil {
		s.problems.Error(w, r, houqin.Errorf(houqin.EINVALID, "%s", strings.Replace(houqin.ErrorMessage(err), "counts", "items", 1)))
		return
	}
	states, err := s.readItems(r, ev.Items)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if _, err := houqin.StocktakeLines(req, states); err != nil {
		s.problems.Error(w, r, houqin.Errorf(houqin.ErrorCode(err), "%s", strings.Replace(houqin.ErrorMessage(err), "counts", "items", 1)))
		return
	}
	ev.Counters = s.counters(who.UserID)
	if len(ev.Counters) == 0 {
		s.problems.Error(w, r, houqin.Errorf(houqin.ENOTALLOWED, "counters: nobody but %s could count the stock", who.UserID))
		return
	}
	if _, err := s.kindPolicy(r, houqin.KindStocktake, houqin.StocktakeFacts([]houqin.StocktakeLine{{Variance: 1}}, who.UserID)); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	_, err = s.cfg.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: temporalScheduleID(b.ID), Spec: spec,
		Action: &client.ScheduleWorkflowAction{ID: temporalScheduleID(b.ID), Workflow: workflows.ScheduledStocktake, TaskQueue: workflows.TaskQueue,
			Args: []any{workflows.ScheduledStocktakeInput{Requester: who.UserID, Reason: b.Reason, Items: ev.Items, Counters: ev.Counters}}},
	})
	if err != nil {
		if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			err = houqin.Errorf(houqin.ECONFLICT, "id: a stocktake schedule %q exists", b.ID)
		}
		s.problems.Error(w, r, err)
		return
	}
	pos, err := s.recordSchedule(ctx, who.UserID, ev)
	if err != nil {
		_ = s.cfg.Temporal.ScheduleClient().GetHandle(ctx, temporalScheduleID(b.ID)).Delete(ctx) // nothing half-made
		s.problems.Error(w, r, err)
		return
	}
	row := s.describeSchedule(ctx, ev)
	row.Position = pos
	writeJSON(w, http.StatusCreated, row)
}

// scheduleSpec checks a schedule's body and returns its Temporal spec.
func (s *Server) scheduleSpec(ctx context.Context, b scheduleBody) (client.ScheduleSpec, error) {
	var spec client.ScheduleSpec
	switch {
	case !scheduleID.MatchString(b.ID):
		return spec, houqin.Errorf(houqin.EINVALID, "id: lowercase letters, digits and '-', at most 63, got %q", b.ID)
	case (b.Cron == "") == (b.Every == ""):
		return spec, houqin.Errorf(houqin.EINVALID, "cron: give either cron or every")
	case b.Every != "" && b.TimeZone != "":
		return spec, houqin.Errorf(houqin.EINVALID, "time_zone: only a cron expression has a time zone")
	}
	if active, _, _, err := s.schedules(ctx); err != nil {
		return spec, err
	} else if slices.ContainsFunc(active, func(a houqin.StocktakeScheduled) bool { return a.ID == b.ID }) {
		return spec, houqin.Errorf(houqin.ECONFLICT, "id: a stocktake schedule %q exists", b.ID)
	}
	if b.Every != "" {
		d, err := time.ParseDuration(b.Every)
		if err != nil || d < time.Hour {
			return spec, houqin.Errorf(houqin.EINVALID, "every: a duration of at least 1h such as 168h, got %q", b.Every)
		}
		spec.Intervals = []client.ScheduleIntervalSpec{{Every: d}}
		return spec, nil
	}
	if f := strings.Fields(b.Cron); len(f) != 5 || strings.ContainsAny(b.Cron, "@=#") {
		return spec, houqin.Errorf(houqin.EINVALID, "cron: five fields (minute hour day-of-month month day-of-week), got %q", b.Cron)
	}
	tz := b.TimeZone
	if tz == "" {
		tz = defaultTimeZone
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return spec, houqin.Errorf(houqin.EINVALID, "time_zone: unknown time zone %q", tz)
	}
	spec.CronExpressions, spec.TimeZoneName = []string{b.Cron}, tz
	return spec, nil
}

// counters returns who counts a scheduled stocktake or hands out an
// issue: the warehouse, else logistics staff, never the requester.
func (s *Server) counters(requester string) []string {
	for _, role := range []string{"warehouse", "logistics_staff"} {
		var out []string
		for _, u := range s.cfg.Org.WithRole(role) {
			if u.ID != requester && !u.Left {
				out = append(out, u.ID)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// schedules folds StocktakeSchedulesStream: the schedules in force, by ID,
// the stream's version and the position of its last event.
func (s *Server) schedules(ctx context.Context) ([]houqin.StocktakeScheduled, int64, int64, error) {
	events, err := s.cfg.Store.ReadStream(ctx, houqin.StocktakeSchedulesStream, 0, houqin.Forward, 100_000)
	if err != nil {
		return nil, 0, 0, err
	}
	var out []houqin.StocktakeScheduled
	version, pos := houqin.ExpectNoStream, int64(0)
	for _, e := range events {
		version, pos = e.Version, e.Position
		switch e.Type {
		case houqin.StocktakeScheduled{}.EventType():
			var v houqin.StocktakeScheduled
			if err := json.Unmarshal(e.Data, &v); err != nil {
				return nil, 0, 0, err
			}
			out = append(out, v)
		case houqin.StocktakeUnscheduled{}.EventType():
			var v houqin.StocktakeUnscheduled
			if err := json.Unmarshal(e.Data, &v); err != nil {
				return nil, 0, 0, err
			}
			out = slices.DeleteFunc(out, func(a houqin.StocktakeScheduled) bool { return a.ID == v.ID })
		}
	}
	slices.SortFunc(out, func(a, b houqin.StocktakeScheduled) int { return strings.Compare(a.ID, b.ID) })
	return out, version, pos, nil
}

// recordSchedule appends ev to StocktakeSchedulesStream at its exact
// version, reading again when someone else wrote first.
func (s *Server) recordSchedule(ctx context.Context, actor string, ev houqin.EventData) (int64, error) {
	for range maxItemWrites {
		_, version, _, err := s.schedules(ctx)
		if err != nil {
			return 0, err
		}
		e, err := houqin.NewEvent(uuid.NewString(), ev, houqin.Metadata{Actor: actor, OccurredAt: s.cfg.Now()})
		if err != nil {
			return 0, err
		}
		stored, err := s.cfg.Store.Append(ctx, houqin.StocktakeSchedulesStream, version, e)
		if houqin.ErrorCode(err) == houqin.ECONFLICT {
			continue
		}
		if err != nil {
			return 0, err
		}
		return stored[0].Position, nil
	}
	return 0, houqin.Errorf(houqin.EUNAVAILABLE, "schedules: being changed by others; try again")
}

// describeSchedule adds what Temporal knows of a schedule now.
func (s *Server) describeSchedule(ctx context.Context, ev houqin.StocktakeScheduled) scheduleRow {
	row := scheduleRow{StocktakeScheduled: ev, Workflow: temporalScheduleID(ev.ID), NextRuns: []time.Time{}, RecentRuns: []string{}}
	d, err := s.cfg.Temporal.ScheduleClient().GetHandle(ctx, temporalScheduleID(ev.ID)).Describe(ctx)
	if err != nil {
		row.Missing = true
		return row
	}
	row.NextRuns = d.Info.NextActionTimes
	row.Paused = d.Schedule.State != nil && d.Schedule.State.Paused
	for _, a := range d.Info.RecentActions {
		if a.StartWorkflowResult != nil {
			row.RecentRuns = append(row.RecentRuns, a.StartWorkflowResult.WorkflowID)
		}
	}
	return row
}

// listSchedules is GET /v1/inventory/stocktake-schedules.
func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) {
	active, _, _, err := s.schedules(r.Context())
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	rows := []scheduleRow{}
	for _, a := range active {
		rows = append(rows, s.describeSchedule(r.Context(), a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rows})
}

// deleteSchedule is DELETE /v1/inventory/stocktake-schedules/{id}:
// stocktakes it started run on.
func (s *Server) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	ctx, who, id := r.Context(), identity(r), chi.URLParam(r, "id")
	if err := s.mustKeepStock(r); err != nil {
		s.problems.Error(w, r, err)
		return
	}
	active, _, _, err := s.schedules(ctx)
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	if !slices.ContainsFunc(active, func(a houqin.StocktakeScheduled) bool { return a.ID == id }) {
		s.problems.Error(w, r, houqin.Errorf(houqin.ENOTFOUND, "id: no stocktake schedule %q", id))
		return
	}
	var gone *serviceerror.NotFound
	if err := s.cfg.Temporal.ScheduleClient().GetHandle(ctx, temporalScheduleID(id)).Delete(ctx); err != nil && !errors.As(err, &gone) {
		s.problems.Error(w, r, err)
		return
	}
	pos, err := s.recordSchedule(ctx, who.UserID, houqin.StocktakeUnscheduled{ID: id, By: who.UserID})
	if err != nil {
		s.problems.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true, "position": pos})
}
