package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/houqin/houqin"
)

// KPIQuery selects what ComputeKPIs computes.
type KPIQuery struct {
	From, To   time.Time // the period [From, To), whole days in the KPI time zone
	Now        time.Time // the moment judged at: open items due before it are late
	Department string    // "" for all
	Kind       string    // a process kind, "" for all; budget lines have none and ignore it
	Config     houqin.KPIConfig
}

// KPIReport is the scorecard of a period.
type KPIReport struct {
	From       string     `json:"from"` // first day, YYYY-MM-DD
	To         string     `json:"to"`   // last day, inclusive
	AsOf       time.Time  `json:"as_of"`
	Position   int64      `json:"position"` // the last event the answer includes
	Department string     `json:"department,omitempty"`
	Kind       string     `json:"kind,omitempty"`
	KPIs       []KPIValue `json:"kpis"`
}

// KPI returns the KPI named name, or the zero value.
func (r KPIReport) KPI(name string) KPIValue {
	for _, k := range r.KPIs {
		if k.Name == name {
			return k
		}
	}
	return KPIValue{}
}

// KPIValue is one KPI over the period: its value = numerator/denominator,
// its target and whether it passes, a monthly trend and the worst
// contributors.
type KPIValue struct {
	Name        string      `json:"name"`
	Title       houqin.Text `json:"title"`
	Value       *float64    `json:"value"` // null when there is no data (denominator 0)
	Numerator   int64       `json:"numerator"`
	Denominator int64       `json:"denominator"`
	Target      float64     `json:"target"`
	Comparison  string      `json:"comparison"` // >= | <=
	Pass        *bool       `json:"pass"`       // null when there is no data: nothing passed

	Status  string           `json:"status"` // pass | fail | no_data
	Trend   []KPIPoint       `json:"trend"`
	Worst   []KPIContributor `json:"worst"`
	Details map[string]int64 `json:"details"`
}

// KPIPoint is a KPI over one month of the period.
type KPIPoint struct {
	Month       string   `json:"month"` // YYYY-MM
	Value       *float64 `json:"value"`
	Numerator   int64    `json:"numerator"`
	Denominator int64    `json:"denominator"`
}

// KPIContributor is a department, process kind or budget line and how much
// it drags a KPI down: Misses are its late items, unsatisfied answers,
// major errors, or its overrun in minor units.
type KPIContributor struct {
	Dimension   string   `json:"dimension"` // department | kind | budget_line
	Key         string   `json:"key"`
	Value       *float64 `json:"value"`
	Numerator   int64    `json:"numerator"`
	Denominator int64    `json:"denominator"`
	Misses      int64    `json:"misses"`
}

// ratio is a numerator and a denominator being summed.
type ratio struct{ num, den int64 }

func (r ratio) value() *float64 {
	if r.den == 0 {
		return nil
	}
	v := float64(r.num) / float64(r.den)
	return &v
}

// ratioRow is one grouped row: month, department, kind and its counts.
type ratioRow struct {
	month, dept, kind string
	num, den          int64
	extra             []int64
}

// ComputeKPIs computes the four KPIs over q's period from the kpi read
// model, judging open items at q.Now.
func ComputeKPIs(ctx context.Context, db *sql.DB, q KPIQuery) (KPIReport, error) {
	loc := q.Config.Location()
	if q.Config.Targets == nil {
		q.Config = houqin.DefaultKPIConfig()
	}
	from := q.From.In(loc).Format(time.DateOnly)
	last := q.To.In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
	rep := KPIReport{From: from, To: last, AsOf: q.Now.UTC(), Department: q.Department, Kind: q.Kind}
	months := monthsOf(q.From.In(loc), q.To.In(loc))

	filter := func(args []any, kindCol bool) (string, []any) {
		w := ""
		if q.Department != "" {
			args = append(args, q.Department)
			w += " AND department = $" + strconv.Itoa(len(args))
		}
		if q.Kind != "" && kindCol {
			args = append(args, q.Kind)
			w += " AND kind = $" + strconv.Itoa(len(args))
		}
		return w, args
	}

	var (
		rs     kpiRows
		budget KPIValue
		rerr   error
		berr   error
		wg     sync.WaitGroup
	)
	wg.Go(func() { budget, _, berr = budgetKPI(ctx, db, q, months) })
	rs, rerr = ratioRows(ctx, db, q, filter)
	wg.Wait()
	if err := errors.Join(rerr, wrap("budget", berr)); err != nil {
		return rep, err
	}
	sat, closed, open, del := rs.sat, rs.closed, rs.open, rs.del
	k := ratioKPI(houqin.KPISatisfaction, q.Config, months, sat)
	k.Details = map[string]int64{"sent": sumExtra(sat, 0), "answered": k.Denominator, "satisfied": k.Numerator,
		"unanswered_closed": sumExtra(sat, 1), "score_sum": sumExtra(sat, 2)}
	rep.KPIs = append(rep.KPIs, k)

	all := append(append([]ratioRow{}, closed...), open...)
	k = ratioKPI(houqin.KPIOnTime, q.Config, months, all)
	k.Details = map[string]int64{"on_time": k.Numerator, "late": k.Denominator - k.Numerator,
		"late_open": sumDen(open), "tasks": sumExtra(all, 0), "processes": k.Denominator - sumExtra(all, 0)}
	rep.KPIs = append(rep.KPIs, k)

	// Budget overrun.
	rep.KPIs = append(rep.KPIs, budget)

	k = ratioKPI(houqin.KPIDeliverableQuality, q.Config, months, del)
	k.Details = map[string]int64{"reviewed": k.Denominator, "accepted": sumExtra(del, 0), "minor_issues": sumExtra(del, 1), "major_error": sumExtra(del, 2)}
	rep.KPIs = append(rep.KPIs, k)
	return rep, nil
}

// kpiRows are the grouped rows the ratio KPIs are folded from.
type kpiRows struct{ sat, closed, open, del []ratioRow }

// ratioRows reads the counters of the period, grouped by month,
// department and kind:
//   - satisfaction: satisfied answers / answers (extra: sent, expired, score sum);
//   - on time, closed items: on time / closed (extra: tasks among them);
//   - on time, open items past due at Now: 0 / count (extra: tasks);
//   - deliverables: reviews without a major error / reviews (extra:
//     accepted, minor, major).
func ratioRows(ctx context.Context, db *sql.DB, q KPIQuery, filter func([]any, bool) (string, []any)) (kpiRows, error) {
	sp := spanOf(q)
	var out kpiRows
	w, args := filter(sp.args(), true)
	// Open past due at Now: every open item due on a day before Now's day
	// (from the counts), and those due earlier on Now's day (one by one).
	loc := q.Config.Location()
	now := q.Now.In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	before := q.To
	if today.Before(before) {
		before = today
	}
	var openBefore, openToday []ratioRow
	// The queries are independent: they run side by side on the pool's
	// connections.
	jobs := []func() error{
		func() (err error) {
			out.sat, err = queryRatios(ctx, db, `SELECT substr(day, 1, 7), department, kind, SUM(satisfied), SUM(answered), SUM(sent), SUM(expired), SUM(score_sum)
				FROM `+spanned("kpi_satisfaction")+` WHERE 1 = 1`+w+` GROUP BY substr(day, 1, 7), department, kind`, args, 3)
			return wrap("satisfaction", err)
		},
		func() (err error) {
			out.closed, err = queryRatios(ctx, db, `SELECT substr(day, 1, 7), department, kind, SUM(on_time), SUM(on_time) + SUM(late),
				SUM(CASE WHEN unit = 'task' THEN on_time + late ELSE 0 END)
				FROM `+spanned("kpi_ontime")+` WHERE 1 = 1`+w+` GROUP BY substr(day, 1, 7), department, kind`, args, 1)
			return wrap("on time", err)
		},
		func() (err error) {
			out.del, err = queryRatios(ctx, db, `SELECT substr(day, 1, 7), department, kind, SUM(reviewed) - SUM(major), SUM(reviewed), SUM(accepted), SUM(minor), SUM(major)
				FROM `+spanned("kpi_deliverables")+` WHERE 1 = 1`+w+` GROUP BY substr(day, 1, 7), department, kind`, args, 3)
			return wrap("deliverables", err)
		},
		func() (err error) {
			if !q.From.Before(before) {
				return nil
			}
			bq := q
			bq.To = before
			w, args := filter(spanOf(bq).args(), true)
			openBefore, err = queryRatios(ctx, db, `SELECT substr(day, 1, 7), department, kind, 0, SUM(open),
				SUM(CASE WHEN unit = 'task' THEN open ELSE 0 END)
				FROM `+spanned("kpi_open_counts")+` WHERE 1 = 1`+w+` GROUP BY substr(day, 1, 7), department, kind`, args, 1)
			return wrap("on time", err)
		},
		func() (err error) {
			if today.Before(q.From) || !today.Before(q.To) {
				return nil
			}
			w, args := filter([]any{today.Format(time.DateOnly), q.Now.UnixMilli()}, true)
			openToday, err = queryRatios(ctx, db, `SELECT substr(due_day, 1, 7), department, kind, 0, COUNT(*),
				SUM(CASE WHEN unit = 'task' THEN 1 ELSE 0 END)
				FROM kpi_open WHERE due_day = $1 AND due_ms < $2`+w+` GROUP BY substr(due_day, 1, 7), department, kind`, args, 1)
			return wrap("on time", err)
		},
	}
	if err := parallel(jobs...); err != nil {
		return out, err
	}
	out.open = append(openBefore, openToday...)
	return out, nil
}

// parallel runs fs concurrently and returns their errors joined.
func parallel(fs ...func() error) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// span is a period [from, to) of days split for the counter tables: the
// whole months [fromMonth, toMonth) are read from month rows, the days
// before and after them from day rows.
type span struct {
	from, to           string // YYYY-MM-DD
	headEnd, tailStart string // days [from, headEnd) and [tailStart, to)
	fromMonth, toMonth string // YYYY-MM
}

// spanned returns a FROM clause selecting the span's rows of a counter
// table as three index ranges; its parameters are span.args, $1–$6.
func spanned(table string) string {
	return `(SELECT * FROM ` + table + ` WHERE grain = 'd' AND day >= $1 AND day < $2
		UNION ALL SELECT * FROM ` + table + ` WHERE grain = 'd' AND day >= $3 AND day < $4
		UNION ALL SELECT * FROM ` + table + ` WHERE grain = 'm' AND day >= $5 AND day < $6) x`
}

func (s span) args() []any {
	return []any{s.from, s.headEnd, s.tailStart, s.to, s.fromMonth, s.toMonth}
}

func spanOf(q KPIQuery) span {
	loc := q.Config.Location()
	f, t := q.From.In(loc), q.To.In(loc)
	s := span{from: f.Format(time.DateOnly), to: t.Format(time.DateOnly)}
	m1 := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, loc)
	if !m1.Equal(time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)) {
		m1 = m1.AddDate(0, 1, 0)
	}
	m2 := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	if !m1.Before(m2) {
		// No whole month: every day from day rows.
		s.headEnd, s.tailStart, s.fromMonth, s.toMonth = s.to, s.to, "", ""
		return s
	}
	s.headEnd, s.tailStart = m1.Format(time.DateOnly), m2.Format(time.DateOnly)
	s.fromMonth, s.toMonth = m1.Format("2006-01"), m2.Format("2006-01")
	return s
}

// KPIGroup is one KPI of one department and process kind; "" is every
// department or every kind.
type KPIGroup struct {
	KPI         string
	Department  string
	Kind        string
	Numerator   int64
	Denominator int64
}

// KPIGroups computes every KPI over q's period for each department and
// kind, each department (Kind ""), each kind (Department "") and in total
// (both ""): what the KPI gauges export. Budget lines have no kind.
func KPIGroups(ctx context.Context, db *sql.DB, q KPIQuery) ([]KPIGroup, error) {
	if q.Config.Targets == nil {
		q.Config = houqin.DefaultKPIConfig()
	}
	rs, err := ratioRows(ctx, db, q, func(args []any, _ bool) (string, []any) { return "", args })
	if err != nil {
		return nil, err
	}
	var out []KPIGroup
	fold := func(name string, rows []ratioRow) {
		type key struct{ dept, kind string }
		sums, order := map[key]*ratio{}, []key{}
		add := func(k key, r ratioRow) {
			s := sums[k]
			if s == nil {
				s = &ratio{}
				sums[k] = s
				order = append(order, k)
			}
			s.num, s.den = s.num+r.num, s.den+r.den
		}
		add(key{}, ratioRow{})
		for _, r := range rows {
			add(key{r.dept, r.kind}, r)
			add(key{r.dept, ""}, r)
			add(key{"", r.kind}, r)
			add(key{}, r)
		}
		for _, k := range order {
			out = append(out, KPIGroup{KPI: name, Department: k.dept, Kind: k.kind, Numerator: sums[k].num, Denominator: sums[k].den})
		}
	}
	fold(houqin.KPISatisfaction, rs.sat)
	fold(houqin.KPIOnTime, append(append([]ratioRow{}, rs.closed...), rs.open...))
	fold(houqin.KPIDeliverableQuality, rs.del)
	k, depts, err := budgetKPI(ctx, db, q, nil)
	if err != nil {
		return nil, err
	}
	out = append(out, KPIGroup{KPI: houqin.KPIBudgetOverrun, Numerator: k.Numerator, Denominator: k.Denominator})
	names := make([]string, 0, len(depts))
	for d := range depts {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		out = append(out, KPIGroup{KPI: houqin.KPIBudgetOverrun, Department: d, Numerator: depts[d].num, Denominator: depts[d].den})
	}
	return out, nil
}

func queryRatios(ctx context.Context, db *sql.DB, query string, args []any, extra int) ([]ratioRow, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ratioRow
	for rows.Next() {
		r := ratioRow{extra: make([]int64, extra)}
		dest := []any{&r.month, &r.dept, &r.kind, &r.num, &r.den}
		for i := range r.extra {
			dest = append(dest, &r.extra[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func sumExtra(rows []ratioRow, i int) int64 {
	var n int64
	for _, r := range rows {
		n += r.extra[i]
	}
	return n
}

func sumDen(rows []ratioRow) int64 {
	var n int64
	for _, r := range rows {
		n += r.den
	}
	return n
}

// monthsOf lists the months "YYYY-MM" that [from, to) touches.
func monthsOf(from, to time.Time) []string {
	var out []string
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, from.Location())
	for m.Before(to) {
		out = append(out, m.Format("2006-01"))
		m = m.AddDate(0, 1, 0)
	}
	return out
}

// judge fills value, target, pass and status of k from its numerator and
// denominator.
func judge(k *KPIValue, cfg houqin.KPIConfig, r ratio) {
	t := cfg.Targets[k.Name]
	k.Title, k.Target, k.Comparison = houqin.KPITitles[k.Name], t.Value, t.Comparison
	k.Numerator, k.Denominator, k.Value = r.num, r.den, r.value()
	switch {
	case k.Value == nil:
		k.Pass, k.Status = nil, "no_data"
	case t.Pass(*k.Value):
		k.Pass, k.Status = ptrTo(true), "pass"
	default:
		k.Pass, k.Status = ptrTo(false), "fail"
	}
}

func ptrTo[T any](v T) *T { return &v }

// ratioKPI folds grouped rows into a KPI: total, monthly trend, and the
// departments and kinds with the most misses.
func ratioKPI(name string, cfg houqin.KPIConfig, months []string, rows []ratioRow) KPIValue {
	k := KPIValue{Name: name, Trend: []KPIPoint{}, Worst: []KPIContributor{}}
	var total ratio
	byMonth, byDept, byKind := map[string]ratio{}, map[string]ratio{}, map[string]ratio{}
	add := func(m map[string]ratio, key string, r ratioRow) {
		x := m[key]
		x.num, x.den = x.num+r.num, x.den+r.den
		m[key] = x
	}
	for _, r := range rows {
		total.num, total.den = total.num+r.num, total.den+r.den
		add(byMonth, r.month, r)
		add(byDept, r.dept, r)
		add(byKind, r.kind, r)
	}
	judge(&k, cfg, total)
	for _, m := range months {
		r := byMonth[m]
		k.Trend = append(k.Trend, KPIPoint{Month: m, Value: r.value(), Numerator: r.num, Denominator: r.den})
	}
	k.Worst = append(k.Worst, worst("department", byDept)...) // never null: an empty list
	k.Worst = append(k.Worst, worst("kind", byKind)...)
	return k
}

// worst returns the three groups with the most misses (den − num), ties
// broken by the lower value, then the key.
func worst(dim string, groups map[string]ratio) []KPIContributor {
	var out []KPIContributor
	for key, r := range groups {
		if r.den-r.num > 0 {
			out = append(out, KPIContributor{Dimension: dim, Key: key, Value: r.value(), Numerator: r.num, Denominator: r.den, Misses: r.den - r.num})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Misses != b.Misses {
			return a.Misses > b.Misses
		}
		if *a.Value != *b.Value {
			return *a.Value < *b.Value
		}
		return a.Key < b.Key
	})
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

// budgetLine is a budget line's plan and its money up to a moment.
type budgetLine struct {
	stream, dept, category string
	year                   int
	planned                int64
	adjusted               map[string]int64 // per month
	consumed               map[string]int64
	reserved, released     int64
}

// budgetKPI computes the overrun of the lines of the years the period
// touches, year to date at the period's end: plan = planned + adjustments,
// actual = consumption, overrun = max(0, Σ actual − Σ plan) / Σ plan.
func budgetKPI(ctx context.Context, db *sql.DB, q KPIQuery, months []string) (KPIValue, map[string]ratio, error) {
	loc := q.Config.Location()
	k := KPIValue{Name: houqin.KPIBudgetOverrun, Trend: []KPIPoint{}, Worst: []KPIContributor{}}
	fromYear, toYear := q.From.In(loc).Year(), q.To.In(loc).AddDate(0, 0, -1).Year()
	args := []any{fromYear, toYear}
	w := ""
	if q.Department != "" {
		args = append(args, q.Department)
		w = " AND department = $3"
	}
	rows, err := db.QueryContext(ctx, `SELECT stream, year, department, category, planned FROM kpi_budget_lines
		WHERE year >= $1 AND year <= $2`+w+` ORDER BY stream`, args...)
	if err != nil {
		return k, nil, err
	}
	lines := map[string]*budgetLine{}
	var order []string
	for rows.Next() {
		l := &budgetLine{adjusted: map[string]int64{}, consumed: map[string]int64{}}
		if err := rows.Scan(&l.stream, &l.year, &l.dept, &l.category, &l.planned); err != nil {
			rows.Close()
			return k, nil, err
		}
		lines[l.stream] = l
		order = append(order, l.stream)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return k, nil, err
	}
	// Whole months before the period's last month from month rows, the
	// days of that month from day rows.
	sp := spanOf(KPIQuery{From: time.Date(2000, 1, 1, 0, 0, 0, 0, loc), To: q.To, Config: q.Config})
	drows, err := db.QueryContext(ctx, `SELECT stream, substr(day, 1, 7), SUM(adjusted), SUM(reserved), SUM(released), SUM(consumed)
		FROM `+spanned("kpi_budget_days")+` GROUP BY stream, substr(day, 1, 7)`, sp.args()...)
	if err != nil {
		return k, nil, err
	}
	for drows.Next() {
		var (
			stream, month      string
			adj, res, rel, con int64
		)
		if err := drows.Scan(&stream, &month, &adj, &res, &rel, &con); err != nil {
			drows.Close()
			return k, nil, err
		}
		if l := lines[stream]; l != nil {
			l.adjusted[month] += adj
			l.consumed[month] += con
			l.reserved += res
			l.released += rel
		}
	}
	drows.Close()
	if err := drows.Err(); err != nil {
		return k, nil, err
	}
	// upTo sums a line's plan and actual over the months before `end`
	// (exclusive, "YYYY-MM"; "" for all).
	upTo := func(l *budgetLine, end string) (plan, actual int64) {
		plan = l.planned
		for m, v := range l.adjusted {
			if end == "" || m < end {
				plan += v
			}
		}
		for m, v := range l.consumed {
			if end == "" || m < end {
				actual += v
			}
		}
		return plan, actual
	}
	var plan, actual, reserved, released int64
	type group struct{ plan, actual, over int64 }
	byDept := map[string]*group{}
	var byLine []KPIContributor
	for _, s := range order {
		l := lines[s]
		p, a := upTo(l, "")
		plan, actual, reserved, released = plan+p, actual+a, reserved+l.reserved, released+l.released
		g := byDept[l.dept]
		if g == nil {
			g = &group{}
			byDept[l.dept] = g
		}
		g.plan, g.actual = g.plan+p, g.actual+a
		if over := max(0, a-p); over > 0 {
			byLine = append(byLine, KPIContributor{Dimension: "budget_line", Key: fmt.Sprintf("%d-%s-%s", l.year, l.dept, l.category),
				Value: ratio{over, p}.value(), Numerator: over, Denominator: p, Misses: over})
		}
	}
	judge(&k, q.Config, ratio{max(0, actual-plan), plan})
	k.Details = map[string]int64{"plan": plan, "actual": actual, "reserved": reserved, "released": released,
		"committed": reserved - released - actual, "available": plan - actual - (reserved - released - actual)}
	for i, m := range months {
		end := ""
		if i+1 < len(months) {
			end = months[i+1]
		} else {
			end = nextMonth(m)
		}
		var p, a int64
		for _, s := range order {
			lp, la := upTo(lines[s], end)
			p, a = p+lp, a+la
		}
		r := ratio{max(0, a-p), p}
		k.Trend = append(k.Trend, KPIPoint{Month: m, Value: r.value(), Numerator: r.num, Denominator: r.den})
	}
	var depts []KPIContributor
	ratios := map[string]ratio{}
	for d, g := range byDept {
		ratios[d] = ratio{max(0, g.actual-g.plan), g.plan}
		if over := max(0, g.actual-g.plan); over > 0 {
			depts = append(depts, KPIContributor{Dimension: "department", Key: d, Value: ratio{over, g.plan}.value(),
				Numerator: over, Denominator: g.plan, Misses: over})
		}
	}
	for _, list := range [][]KPIContributor{depts, byLine} {
		sort.Slice(list, func(i, j int) bool {
			if list[i].Misses != list[j].Misses {
				return list[i].Misses > list[j].Misses
			}
			return list[i].Key < list[j].Key
		})
		if len(list) > 3 {
			list = list[:3]
		}
		k.Worst = append(k.Worst, list...)
	}
	return k, ratios, nil
}

func nextMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.AddDate(0, 1, 0).Format("2006-01")
}

// KPIBudgetLine is one budget line of a year: plan (planned +
// adjustments) and actual (consumed) so far.
type KPIBudgetLine struct {
	Department string `json:"department"`
	Category   string `json:"category"`
	Plan       int64  `json:"plan"`
	Actual     int64  `json:"actual"`
	Currency   string `json:"currency"`
}

// ListKPIBudgetLines returns the budget lines of year, by department and
// category.
func ListKPIBudgetLines(ctx context.Context, db *sql.DB, year int) ([]KPIBudgetLine, error) {
	rows, err := db.QueryContext(ctx, `SELECT l.department, l.category, l.planned + COALESCE(SUM(d.adjusted), 0), COALESCE(SUM(d.consumed), 0), l.currency
		FROM kpi_budget_lines l LEFT JOIN kpi_budget_days d ON d.stream = l.stream AND d.grain = 'm'
		WHERE l.year = $1 GROUP BY l.stream, l.department, l.category, l.planned, l.currency ORDER BY l.department, l.category`, year)
	if err != nil {
		return nil, fmt.Errorf("budget lines: %w", err)
	}
	defer rows.Close()
	out := []KPIBudgetLine{}
	for rows.Next() {
		var r KPIBudgetLine
		if err := rows.Scan(&r.Department, &r.Category, &r.Plan, &r.Actual, &r.Currency); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CheckpointOf returns the position projection name has applied up to in
// db (0 if it has none).
func CheckpointOf(ctx context.Context, db *sql.DB, name string) (int64, error) {
	c, err := readCheckpoint(ctx, db, name)
	return c.position, err
}
