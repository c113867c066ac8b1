package houqin

import "time"

// BusinessZone is the company's time zone, China Standard Time (UTC+8,
// without daylight saving): the one zone in which a date of the business
// is read — a procurement's needed_by, the year whose budget line a
// spending counts in, an inspection's scheduled day, a report's day, a
// document's printed time — by the workflows, the budgets, the reports and
// the documents alike, and by the KPIs unless config/kpi.yaml names
// another zone for their periods. It is fixed, not configurable: the
// workflows read it, and a zone that changed under running processes
// would move their budget years on replay.
var BusinessZone = time.FixedZone("CST", 8*3600)
