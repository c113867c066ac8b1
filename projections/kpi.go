package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/houqin/houqin"
)

// KPI folds the events into the counters the department's four KPIs are
// computed from (ComputeKPIs, docs/KPI.md):
//
//   - on time: every task and every process with a due time is an item;
//     open items wait in kpi_open; a closed item adds 1 to on_time or late
//     in the day it fell due (kpi_ontime), or nothing if it was cancelled
//     before its due time; a process's item closes when its service is
//     delivered (deliveredBy) or, failing that, when it completes;
//   - satisfaction: surveys sent, answered, satisfied (score ≥ 4) and
//     expired per day (kpi_satisfaction);
//   - deliverable quality: reviews per outcome per day (kpi_deliverables);
//   - budget: each budget line's plan, and per day its adjustments,
//     reservations, releases and consumption (kpi_budget_lines,
//     kpi_budget_days).
//
// Counters are keyed by day in the configured time zone, department and
// process kind, so a query reads a few hundred rows whatever the size of
// the log; only open items depend on "now", and there are few of them.
type KPI struct {
	// Location is the time zone days are counted in, and the end of a
	// date such as needed_by; nil means Asia/Shanghai (UTC+8).
	Location *time.Location
}

var _ Projection = KPI{}

// Name implements Projection.
func (KPI) Name() string { return "kpi" }

// Version implements Projection. 3: a work task the system completes at
// its due time (an event's hold, confirmed by its end) is not counted, and
// a process due on a date (needed_by) counts in that date's period.
func (KPI) Version() int { return 3 }

func (k KPI) loc() *time.Location {
	if k.Location == nil {
		return houqin.DefaultKPIConfig().Location()
	}
	return k.Location
}

var kpiTables = []string{"kpi_processes", "kpi_open", "kpi_open_counts", "kpi_ontime", "kpi_surveys", "kpi_satisfaction",
	"kpi_deliverables", "kpi_budget_lines", "kpi_budget_days"}

var kpiDDL = []string{
	`CREATE TABLE IF NOT EXISTS kpi_processes (
		id         TEXT PRIMARY KEY,
		kind       TEXT NOT NULL,
		department TEXT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS kpi_open (
		id         TEXT PRIMARY KEY, -- task ID or process ID
		unit       TEXT   NOT NULL,  -- task | process
		process_id TEXT   NOT NULL,
		kind       TEXT   NOT NULL,
		department TEXT   NOT NULL,
		due_ms     BIGINT NOT NULL,
		due_day    TEXT   NOT NULL   -- YYYY-MM-DD in the KPI time zone
	)`,
	`CREATE INDEX IF NOT EXISTS kpi_open_process ON kpi_open (process_id)`,
	`CREATE INDEX IF NOT EXISTS kpi_open_due ON kpi_open (due_day)`,
	`CREATE TABLE IF NOT EXISTS kpi_ontime (
		grain      TEXT   NOT NULL, -- d: day is YYYY-MM-DD; m: day is the month YYYY-MM
		day        TEXT   NOT NULL,
		department TEXT   NOT NULL,
		kind       TEXT   NOT NULL,
		unit       TEXT   NOT NULL,
		on_time    BIGINT NOT NULL,
		late       BIGINT NOT NULL,
		PRIMARY KEY (grain, day, department, kind, unit)
	)`,
	`CREATE TABLE IF NOT EXISTS kpi_open_counts (
		grain      TEXT   NOT NULL,
		day        TEXT   NOT NULL, -- the due day (or month) of the open items
		department TEXT   NOT NULL,
		kind       TEXT   NOT NULL,
		unit       TEXT   NOT NULL,
		open       BIGINT NOT NULL,
		PRIMARY KEY (grain, day, department, kind, unit)
	)`,
	`CREATE TABLE IF NOT EXISTS kpi_surveys (
		id         TEXT PRIMARY KEY,
		department TEXT NOT NULL,
		kind       TEXT NOT NULL, -- the service's kind, or campaign
		respondent TEXT NOT NULL,
		answered   BIGINT NOT NULL DEFAULT 0
	)`,
	`CREATE TABLE IF NOT EXISTS kpi_satisfaction (
		grain      TEXT   NOT NULL,
		day        TEXT   NOT NULL,
		department TEXT   NOT NULL,
		kind       TEXT   NOT NULL,
		sent       BIGINT NOT NULL,
		answered   BIGINT NOT NULL,
		satisfied  BIGINT NOT NULL,
		score_sum  BIGINT NOT NULL,
		expired    BIGINT NOT NULL,
		PRIMARY KEY (grain, day, department, kind)
	)`,
	`CREATE TABLE IF NOT EXISTS kpi_deliverables (
		grain      TEXT   NOT NULL,
		day        TEXT   NOT NULL,
		department TEXT   NOT NULL,
		kind       TEXT   NOT NULL, -- the process's kind
		reviewed   BIGINT NOT NULL,
		accepted   BIGINT NOT NULL,
		minor      BIGINT NOT NULL,
		major      BIGINT NOT NULL,
		PRIMARY KEY (grain, day, department, kind)
	)`,
	`CREATE TABLE IF NOT EXISTS kpi_budget_lines (
		stream     TEXT PRIMARY KEY,
		year       BIGINT NOT NULL,
		department TEXT   NOT NULL,
		category   TEXT   NOT NULL,
		planned    BIGINT NOT NULL,
		currency   TEXT   NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS kpi_budget_days (
		grain    TEXT   NOT NULL,
		day      TEXT   NOT NULL,
		stream   TEXT   NOT NULL,
		adjusted BIGINT NOT NULL,
		reserved BIGINT NOT NULL,
		released BIGINT NOT NULL,
		consumed BIGINT NOT NULL,
		PRIMARY KEY (grain, day, stream)
	)`,
}

// Setup implements Projection.
func (KPI) Setup(ctx context.Context, tx *sql.Tx) error {
	for _, ddl := range kpiDDL {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements Projection.
func (k KPI) Reset(ctx context.Context, tx *sql.Tx) error {
	for _, t := range kpiTables {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+t); err != nil {
			return err
		}
	}
	return k.Setup(ctx, tx)
}

// Apply implements Projection.
// The counters of a batch are summed in memory and written once per key at
// the end, each to its day (grain 'd') and to its month (grain 'm', day
// "YYYY-MM"), so that a query reads whole months from month rows and only
// the edges of its period from day rows, each an index range.
func (k KPI) Apply(ctx context.Context, tx *sql.Tx, events []houqin.Event) error {
	acc := newCounters()
	for _, e := range events {
		if err := k.apply(ctx, tx, acc, e); err != nil {
			return fmt.Errorf("%s@%d (%s): %w", e.Stream, e.Version, e.Type, err)
		}
	}
	return acc.flush(ctx, tx)
}

// counterTable describes a table of additive counters; its first keys
// are grain and day.
type counterTable struct {
	keys, values []string
}

var counterTables = map[string]counterTable{
	"kpi_ontime":       {keys: []string{"grain", "day", "department", "kind", "unit"}, values: []string{"on_time", "late"}},
	"kpi_open_counts":  {keys: []string{"grain", "day", "department", "kind", "unit"}, values: []string{"open"}},
	"kpi_satisfaction": {keys: []string{"grain", "day", "department", "kind"}, values: []string{"sent", "answered", "satisfied", "score_sum", "expired"}},
	"kpi_deliverables": {keys: []string{"grain", "day", "department", "kind"}, values: []string{"reviewed", "accepted", "minor", "major"}},
	"kpi_budget_days":  {keys: []string{"grain", "day", "stream"}, values: []string{"adjusted", "reserved", "released", "consumed"}},
}

type counterKey struct {
	table string
	keys  [5]string
}

// counters sums the deltas of a batch per table and key.
//
// It also holds what the batch adds to kpi_processes and kpi_open until the
// end of the batch: an item opened and closed within one batch — most of
// them while rebuilding — never touches the database. Lookups read the
// batch first.
type counters struct {
	order []counterKey
	vals  map[counterKey][]int64

	procs     map[string]procInfo // kpi_processes rows of this batch
	procOrder []string
	open      map[string]openItem // kpi_open rows of this batch, until closed
	openOrder []string
	byProcess map[string][]string // open item IDs of this batch per process
}

// procInfo is a row of kpi_processes.
type procInfo struct{ kind, dept string }

// openItem is a row of kpi_open.
type openItem struct {
	unit, processID, kind, dept, day string
	due                              int64
}

func newCounters() *counters {
	return &counters{vals: map[counterKey][]int64{}, procs: map[string]procInfo{}, open: map[string]openItem{}, byProcess: map[string][]string{}}
}

// add adds deltas to the row of day and keys, and to its month's row.
func (c *counters) add(table, day string, keys []string, deltas ...int64) {
	t := counterTables[table]
	k := counterKey{table: table}
	k.keys[0], k.keys[1] = "d", day
	copy(k.keys[2:], keys)
	month := k
	month.keys[0], month.keys[1] = "m", day[:7]
	for _, key := range []counterKey{k, month} {
		v := c.vals[key]
		if v == nil {
			v = make([]int64, len(t.values))
			c.vals[key] = v
			c.order = append(c.order, key)
		}
		for i, d := range deltas {
			v[i] += d
		}
	}
}

// flush writes the batch's processes and still-open items, then the sums,
// one upsert per key.
func (c *counters) flush(ctx context.Context, tx *sql.Tx) error {
	for _, id := range c.procOrder {
		p := c.procs[id]
		if _, err := tx.ExecContext(ctx, `INSERT INTO kpi_processes (id, kind, department) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO NOTHING`, id, p.kind, p.dept); err != nil {
			return fmt.Errorf("kpi_processes: %w", err)
		}
	}
	for _, id := range c.openOrder {
		o, ok := c.open[id]
		if !ok {
			continue // closed within the batch
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO kpi_open (id, unit, process_id, kind, department, due_ms, due_day)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			id, o.unit, o.processID, o.kind, o.dept, o.due, o.day); err != nil {
			return fmt.Errorf("kpi_open: %w", err)
		}
	}
	stmts := map[string]string{}
	for _, key := range c.order {
		if !slices.ContainsFunc(c.vals[key], func(v int64) bool { return v != 0 }) {
			continue // e.g. an item opened and closed in the batch
		}
		t := counterTables[key.table]
		q, ok := stmts[key.table]
		if !ok {
			cols := append(append([]string{}, t.keys...), t.values...)
			ph := make([]string, len(cols))
			for i := range ph {
				ph[i] = fmt.Sprintf("$%d", i+1)
			}
			set := make([]string, len(t.values))
			for i, v := range t.values {
				set[i] = fmt.Sprintf("%s = %s.%s + excluded.%s", v, key.table, v, v)
			}
			q = fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s", key.table,
				strings.Join(cols, ", "), strings.Join(ph, ", "), strings.Join(t.keys, ", "), strings.Join(set, ", "))
			stmts[key.table] = q
		}
		args := make([]any, 0, len(t.keys)+len(t.values))
		for i := range t.keys {
			args = append(args, key.keys[i])
		}
		for _, v := range c.vals[key] {
			args = append(args, v)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", key.table, err)
		}
	}
	return nil
}

// eventAt is when an event happened: its business time, else when stored.
func eventAt(e houqin.Event) time.Time {
	if e.Meta.OccurredAt.IsZero() {
		return e.RecordedAt
	}
	return e.Meta.OccurredAt
}

func (k KPI) day(t time.Time) string { return t.In(k.loc()).Format(time.DateOnly) }

// processStart is the part of a process's first event the KPIs need.
type processStart struct {
	Request struct {
		Department   string `json:"department"`
		NeededBy     string `json:"needed_by"`
		ScheduledFor string `json:"scheduled_for"`
		StartsAt     string `json:"starts_at"`
		Legs         []struct {
			Depart string `json:"depart"`
		} `json:"legs"`
	} `json:"request"`
}

// deliveredBy tells whether an event of a process's stream delivers its
// service, and so closes the process's on-time item (docs/KPI.md, "On
// time"): all the goods received by needed_by, the checklist recorded on
// the scheduled day, the trip booked before the departure, the event ready
// before it starts. What follows (the invoice, the remediation of findings,
// the reimbursement, the minutes) is measured by its own tasks.
func deliveredBy(e houqin.Event) bool {
	switch e.Type {
	case "inspection.recorded", "trip.booked", "event.ready":
		return true
	case "procurement.goods_received":
		var r struct {
			Outstanding []json.RawMessage `json:"outstanding"`
		}
		return json.Unmarshal(e.Data, &r) == nil && len(r.Outstanding) == 0
	}
	return false
}

// processDue is the due time of a process, by what its request says
// (docs/KPI.md): the end of needed_by or scheduled_for (procurement,
// inspection), an event's start, a trip's first departure day.
//
// A date (needed_by, scheduled_for) is due at its end, and counts in the
// period of the date itself: needed by 30 June is June's, though its due
// time is 1 July 00:00. day is that date; "" means the day of the due time.
func (k KPI) processDue(s processStart) (due time.Time, day string, ok bool) {
	endOfDay := func(d string) (time.Time, string, bool) {
		t, err := time.ParseInLocation(time.DateOnly, d, k.loc())
		return t.AddDate(0, 0, 1), k.day(t), err == nil
	}
	r := s.Request
	switch {
	case r.NeededBy != "":
		return endOfDay(r.NeededBy)
	case r.ScheduledFor != "":
		return endOfDay(r.ScheduledFor)
	case r.StartsAt != "":
		t, err := time.Parse(time.RFC3339, r.StartsAt)
		return t, "", err == nil
	case len(r.Legs) > 0 && r.Legs[0].Depart != "":
		t, err := time.ParseInLocation(time.DateOnly, r.Legs[0].Depart, k.loc())
		return t, "", err == nil
	}
	return time.Time{}, "", false
}

func (k KPI) apply(ctx context.Context, tx *sql.Tx, acc *counters, e houqin.Event) error {
	cat := houqin.Category(e.Stream)
	at := eventAt(e)
	if kind, ok := processKinds[cat]; ok {
		id := strings.TrimPrefix(e.Stream, cat+"-")
		// Surveys and budget streams (lines, and the budget process) have
		// no process due time; their tasks still count, and close when
		// their process ends.
		if e.Version == 0 && kind != houqin.KindSurvey && kind != houqin.KindBudget {
			var s processStart
			if err := json.Unmarshal(e.Data, &s); err != nil {
				return err
			}
			if _, ok := acc.procs[id]; !ok {
				acc.procs[id] = procInfo{kind: string(kind), dept: s.Request.Department}
				acc.procOrder = append(acc.procOrder, id)
			}
			if due, day, ok := k.processDue(s); ok {
				k.openOn(acc, id, "process", id, string(kind), s.Request.Department, due, day)
			}
		}
		if deliveredBy(e) {
			if err := k.close(ctx, tx, acc, id, "done", at); err != nil {
				return err
			}
		}
		if status := ProcessEnding(e); status != "" {
			outcome := "cancelled"
			if status == houqin.StatusCompleted {
				outcome = "done"
			}
			if err := k.close(ctx, tx, acc, id, outcome, at); err != nil {
				return err
			}
			// Tasks still open when their process ends are cancelled.
			for _, t := range acc.byProcess[id] {
				if o, ok := acc.open[t]; ok && o.unit == "task" {
					if err := k.close(ctx, tx, acc, t, "cancelled", at); err != nil {
						return err
					}
				}
			}
			rows, err := tx.QueryContext(ctx, `SELECT id FROM kpi_open WHERE process_id = $1 AND unit = 'task' ORDER BY id`, id)
			if err != nil {
				return err
			}
			var open []string
			for rows.Next() {
				var t string
				if err := rows.Scan(&t); err != nil {
					rows.Close()
					return err
				}
				open = append(open, t)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, t := range open {
				if err := k.close(ctx, tx, acc, t, "cancelled", at); err != nil {
					return err
				}
			}
		}
	}
	switch e.Type {
	case "task.opened":
		var p houqin.TaskOpened
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		t := p.Task
		if t.Kind == houqin.KindSurvey || t.DueAt.IsZero() {
			return nil // a survey is the respondent's, not the department's work
		}
		pr, err := k.process(ctx, tx, acc, t.ProcessID)
		if err != nil {
			return err
		}
		k.open(acc, t.ID, "task", t.ProcessID, string(t.Kind), pr.dept, t.DueAt)
		return nil
	case "task.completed":
		var p houqin.TaskCompleted
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		outcome := "done"
		if p.Auto == "timeout" && p.Action == houqin.ActionComplete {
			// The documented automatic path of a work task (an event is
			// held once it ended): nobody was late, nobody was on time.
			outcome = "auto"
		}
		return k.close(ctx, tx, acc, p.TaskID, outcome, at)
	case "task.cancelled":
		var p houqin.TaskCancelled
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		return k.close(ctx, tx, acc, p.TaskID, "cancelled", at)
	case "survey.sent":
		var p houqin.SurveySent
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		id := strings.TrimPrefix(e.Stream, "survey-")
		if _, err := tx.ExecContext(ctx, `INSERT INTO kpi_surveys (id, department, kind, respondent) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, id, p.Service.Department, string(p.Service.Kind), p.Respondent); err != nil {
			return err
		}
		acc.add("kpi_satisfaction", k.day(at), []string{p.Service.Department, string(p.Service.Kind)}, 1, 0, 0, 0, 0)
		return nil
	case "survey.answered", "survey.closed":
		id := strings.TrimPrefix(e.Stream, "survey-")
		var dept, kind string
		err := tx.QueryRowContext(ctx, `SELECT department, kind FROM kpi_surveys WHERE id = $1`, id).Scan(&dept, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if e.Type == "survey.closed" {
			var p houqin.SurveyClosed
			if err := json.Unmarshal(e.Data, &p); err != nil {
				return err
			}
			if p.Answered {
				return nil
			}
			acc.add("kpi_satisfaction", k.day(at), []string{dept, kind}, 0, 0, 0, 0, 1)
			return nil
		}
		var p houqin.SurveyAnswered
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		satisfied := int64(0)
		if (houqin.SurveyAnswer{Score: p.Score}).Satisfied() {
			satisfied = 1
		}
		acc.add("kpi_satisfaction", k.day(at), []string{dept, kind}, 0, 1, satisfied, int64(p.Score), 0)
		return nil
	case "deliverable.reviewed":
		var p houqin.DeliverableReviewed
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		dept, kind := p.Department, string(p.Process)
		if dept == "" || kind == "" {
			pr, err := k.process(ctx, tx, acc, p.ProcessID)
			if err != nil {
				return err
			}
			dept, kind = firstNonEmpty(dept, pr.dept), firstNonEmpty(kind, pr.kind)
		}
		var accepted, minor, major int64
		switch p.Outcome {
		case houqin.OutcomeAccepted:
			accepted = 1
		case houqin.OutcomeMinorIssues:
			minor = 1
		case houqin.OutcomeMajorError:
			major = 1
		}
		acc.add("kpi_deliverables", k.day(at), []string{dept, kind}, 1, accepted, minor, major)
		return nil
	case "budget.line_planned":
		var p houqin.BudgetLinePlanned
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO kpi_budget_lines (stream, year, department, category, planned, currency)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (stream) DO UPDATE SET planned = excluded.planned, currency = excluded.currency`,
			e.Stream, p.Year, p.Department, p.Category, p.Amount, firstNonEmpty(p.Currency, "CNY"))
		return err
	case "budget.adjusted", "budget.reserved", "budget.released", "budget.consumed":
		var p struct {
			Amount int64 `json:"amount"`
			Delta  int64 `json:"delta"`
		}
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return err
		}
		var adj, res, rel, con int64
		switch e.Type {
		case "budget.adjusted":
			adj = p.Delta
		case "budget.reserved":
			res = p.Amount
		case "budget.released":
			rel = p.Amount
		case "budget.consumed":
			con = p.Amount
		}
		acc.add("kpi_budget_days", k.day(at), []string{e.Stream}, adj, res, rel, con)
		return nil
	}
	return nil
}

// process returns the kind and department of a process ("" if unknown).
func (k KPI) process(ctx context.Context, tx *sql.Tx, acc *counters, id string) (procInfo, error) {
	if p, ok := acc.procs[id]; ok {
		return p, nil
	}
	var p procInfo
	err := tx.QueryRowContext(ctx, `SELECT kind, department FROM kpi_processes WHERE id = $1`, id).Scan(&p.kind, &p.dept)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, err
	}
	return p, nil
}

// open starts an item that is due at due (in the batch; written at its
// end unless closed by then).
func (k KPI) open(acc *counters, id, unit, processID, kind, dept string, due time.Time) {
	k.openOn(acc, id, unit, processID, kind, dept, due, "")
}

// openOn is open for an item that counts on day ("": the day of due).
func (k KPI) openOn(acc *counters, id, unit, processID, kind, dept string, due time.Time, day string) {
	if _, ok := acc.open[id]; ok {
		return
	}
	if day == "" {
		day = k.day(due)
	}
	o := openItem{unit: unit, processID: processID, kind: kind, dept: dept, due: due.UnixMilli(), day: day}
	acc.open[id] = o
	acc.openOrder = append(acc.openOrder, id)
	acc.add("kpi_open_counts", o.day, []string{dept, kind, unit}, 1)
	acc.byProcess[processID] = append(acc.byProcess[processID], id)
}

// close ends an open item at `at`: done strictly before its due time is on
// time; done or cancelled at or after it is late; cancelled before it does
// not count. An item that is not open (unknown, or already closed) is
// left alone.
func (k KPI) close(ctx context.Context, tx *sql.Tx, acc *counters, id, outcome string, at time.Time) error {
	var (
		unit, kind, dept, day string
		due                   int64
	)
	if o, ok := acc.open[id]; ok {
		delete(acc.open, id)
		unit, kind, dept, day, due = o.unit, o.kind, o.dept, o.day, o.due
	} else {
		err := tx.QueryRowContext(ctx, `SELECT unit, kind, department, due_ms, due_day FROM kpi_open WHERE id = $1`, id).
			Scan(&unit, &kind, &dept, &due, &day)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM kpi_open WHERE id = $1`, id); err != nil {
			return err
		}
	}
	acc.add("kpi_open_counts", day, []string{dept, kind, unit}, -1)
	var onTime, late int64
	switch {
	case outcome == "auto":
		return nil // completed by the system as documented: not counted
	case at.UnixMilli() < due && outcome == "done":
		onTime = 1
	case at.UnixMilli() < due:
		return nil // cancelled before it was due: not counted
	default:
		late = 1
	}
	acc.add("kpi_ontime", day, []string{dept, kind, unit}, onTime, late)
	return nil
}
