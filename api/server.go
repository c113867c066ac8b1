package api

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/documents"
	"github.com/houqin/houqin/projections"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI document, which /openapi.json serves.
func OpenAPI() []byte { return slices.Clone(openAPI) }

// Progress tells how far the read models are: projections.Runner in the
// process that projects, projections.Watcher in one that only reads.
type Progress interface {
	Ready() bool
	WaitFor(ctx context.Context, position int64) error
	// Failures returns the projections stopped at an event they cannot
	// apply; /readyz names them.
	Failures() []projections.ApplyError
}

// Config holds the Server's dependencies; cmd/houqin wires them.
type Config struct {
	Store      houqin.EventStore
	ReadModels *sql.DB
	Progress   Progress // read-your-writes (min_position) and readiness: a *projections.Runner or *projections.Watcher
	Temporal   client.Client
	Org        *houqin.Org
	Policy     *houqin.Policy     // the approval policy: copied into each process at start; previews resolve routes with it
	Checklists *houqin.Checklists // inspection checklists and remediation rules
	Auth       *Authenticator
	Logger     *slog.Logger
	Registry   *prometheus.Registry
	Now        func() time.Time
	MaxBody    int64 // request body limit; default 1 MiB
	// MaxToleranceBP is the widest tolerance band of a new budget line, in
	// basis points; default houqin.DefaultMaxToleranceBP (20 %).
	MaxToleranceBP int
	WaitLimit      time.Duration // longest min_position wait; default 5s
	// KPI holds the KPI targets, time zone and survey timers; the zero
	// value means houqin.DefaultKPIConfig.
	KPI houqin.KPIConfig
	// Scratch opens an empty database for answers "as of" a past moment
	// (sqlite.OpenScratch); nil refuses as_of with 503.
	Scratch func() (*sql.DB, error)
	// DevKey, if set, enables the dev login (/auth/dev/users and
	// /auth/dev/login): anyone may sign in as anyone, so only houqin dev
	// sets it. It must be the key of the HS256 Authenticator.
	DevKey []byte
	// SessionTTL is how long a browser session lasts; default
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// OIDC, if set, signs browsers in through an OpenID Connect provider
	// (/auth/oidc/login and /auth/oidc/callback).
	OIDC *OIDC
	// SessionKey signs browser sessions (at least 32 bytes): the dev key in
	// houqin dev; with OIDC a key of its own, which the Authenticator
	// verifies the session cookie with (WithSessionKey).
	SessionKey []byte
	// Web serves the web app: every GET or HEAD outside /v1, /auth and the
	// routes above (a client-side route gets its index page). nil: 404.
	Web http.Handler
}

// Server is houqin's HTTP API.
type Server struct {
	cfg      Config
	problems *Problems
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewServer returns a Server; it registers its collectors with cfg.Registry.
func NewServer(cfg Config) *Server {
	if cfg.MaxToleranceBP <= 0 {
		cfg.MaxToleranceBP = houqin.DefaultMaxToleranceBP
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.WaitLimit <= 0 {
		cfg.WaitLimit = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, problems: NewProblems(cfg.Logger, cfg.Registry)}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "houqin_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "houqin_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"route", "method"})
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(s.requests, s.latency)
		if cfg.ReadModels != nil {
			cfg.Registry.MustRegister(projections.NewTaskGauges(cfg.ReadModels, cfg.Now, 2*time.Second, cfg.Logger))
			cfg.Registry.MustRegister(projections.NewBudgetGauges(cfg.ReadModels, cfg.Now, 2*time.Second, cfg.Logger))
			cfg.Registry.MustRegister(projections.NewInventoryGauges(cfg.ReadModels, 2*time.Second, cfg.Logger))
			cfg.Registry.MustRegister(projections.NewKPIGauges(cfg.ReadModels, s.kpiConfig(), cfg.Now, 2*time.Second, cfg.Logger))
		}
	}
	return s
}

// Handler returns the router: health, metrics and the OpenAPI document are
// public; everything under /v1 requires a bearer token.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	// OPTIONS is answered before authentication (it says what a path
	// takes, nothing more); HEAD runs the GET handler without its body.
	r.Use(middleware.RequestID, middleware.Recoverer, s.instrument, s.options(r), middleware.GetHead)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	if s.cfg.Registry != nil {
		r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{Registry: s.cfg.Registry}))
	}
	r.Get("/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	r.Route("/auth", func(r chi.Router) {
		r.Use(s.limitBody, s.jsonBodies)
		r.Get("/config", s.authConfig)
		if s.cfg.DevKey != nil {
			r.Get("/dev/users", s.people)
			r.Post("/dev/login", s.devLogin)
		}
		r.With(s.oidcConfigured).Get("/oidc/login", s.oidcLogin)
		r.With(s.oidcConfigured).Get("/oidc/callback", s.oidcCallback)
		r.Post("/logout", s.logout)
	})
	r.Route("/v1", func(r chi.Router) {
		r.Use(s.cfg.Auth.Middleware, s.limitBody, s.jsonBodies, s.readOnlyAuditors, s.readYourWrites)
		r.Get("/me", s.me)
		r.Get("/people", s.people)
		r.Post("/procurements", s.startProcurement)
		r.Post("/budgets", s.startBudget)
		r.Get("/budgets/{year}", s.getBudget)
		r.Post("/budgets/{year}/adjustments", s.startAdjustment)
		r.Get("/reports/budget", s.budgetReportHandler)
		r.Get("/reports/purchase-plan", s.purchasePlanHandler)
		r.Get("/checklists", s.listChecklists)
		r.Post("/inspections", s.startInspection)
		r.Post("/trips", s.startTrip)
		r.Get("/trips/{id}/caps", s.tripCaps)
		r.Get("/trips/{id}/confirmation", processDocument(s, "confirmation", documents.ReadTrip, documents.WriteTripConfirmation))
		r.Get("/trips/{id}/expense-claim", processDocument(s, "expense-claim", documents.ReadTrip, documents.WriteExpenseClaim))
		r.Post("/events", s.startEvent)
		r.Get("/events/{id}/plan", processDocument(s, "plan", documents.ReadEvent, documents.WriteEventPlan))
		r.Get("/events/{id}/schedule", processDocument(s, "schedule", documents.ReadEvent, documents.WriteMeetingSchedule))
		r.Get("/events/{id}/minutes", processDocument(s, "minutes", documents.ReadEvent, documents.WriteEventMinutes))
		r.Post("/inspection-schedules", s.createInspectionSchedule)
		r.Get("/inspection-schedules", s.listInspectionSchedules)
		r.Post("/inspection-schedules/{name}/{action}", s.inspectionScheduleAction)
		r.Get("/inspections/{id}/report", processDocument(s, "report", documents.ReadInspection, documents.WriteInspectionReport))
		r.Get("/inspections/{id}/remediation", processDocument(s, "remediation", documents.ReadInspection, documents.WriteRemediation))
		for path, kind := range previewKinds {
			r.Post("/"+path+"/preview", s.preview(kind))
		}
		r.Get("/processes", s.listProcesses)
		r.Get("/processes/{id}", s.getProcess)
		r.Post("/processes/{id}/withdraw", s.actOnProcess(houqin.ActionWithdraw))
		r.Post("/processes/{id}/revoke", s.actOnProcess(houqin.ActionRevoke))
		r.Get("/tasks", s.listTasks)
		for _, action := range slices.Sorted(maps.Keys(taskActionFields)) {
			r.Post("/tasks/{id}/"+action, s.actOnTask(action)) // a route each: a body schema each in the spec
		}
		r.Get("/inbox", s.getInbox)
		r.Get("/notifications", s.listNotifications)
		r.Post("/notifications/read", s.readNotifications)
		r.Get("/me/preferences", s.getPreferences)
		r.Put("/me/preferences", s.setPreferences)
		r.Get("/delegations", s.listDelegations)
		r.Post("/delegations", s.setDelegation)
		r.Delete("/delegations/{id}", s.cancelDelegation)
		r.Get("/inventory", s.listInventory)
		r.Post("/inventory/items", s.defineItem)
		r.Get("/inventory/items/{item}", s.getItem)
		r.Patch("/inventory/items/{item}", s.updateItem)
		r.Post("/inventory/issues", s.startIssue)
		r.Post("/inventory/stocktakes", s.startStocktake)
		r.Get("/inventory/stocktakes/{id}/items", s.stocktakeItems)
		r.Get("/inventory/stocktake-schedules", s.listSchedules)
		r.Post("/inventory/stocktake-schedules", s.createSchedule)
		r.Delete("/inventory/stocktake-schedules/{id}", s.deleteSchedule)
		r.Get("/reports/inventory", s.inventoryReport)
		r.Get("/kpi", s.getKPI)
		r.Get("/reports/service-quality", s.serviceQualityReport)
		r.Get("/reports/plan", s.planReport)
		r.Post("/deliverables/reviews", s.reviewDeliverable)
		r.Post("/surveys/campaigns", s.startCampaign)
		r.With(s.recorded).Get("/processes/{id}/audit", s.processAudit)
		r.With(s.recorded).Get("/audit/verify", s.auditVerify)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Web != nil && safeMethod(r.Method) && !apiPath(r.URL.Path) {
			s.cfg.Web.ServeHTTP(w, r)
			return
		}
		s.problems.Error(w, r, houqin.Errorf(houqin.ENOTFOUND, "path: no route %s %s", r.Method, r.URL.Path))
	})
	mux := r
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		allowed := allowedMethods(mux, r.URL.Path)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.problems.Error(w, r, houqin.Errorf(houqin.EMETHOD, "method: %s is not allowed on %s; it takes %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
	})
	return r
}

// apiPath reports whether a path belongs to the API, where an unknown one
// is a 404 problem rather than a page of the web app.
func apiPath(p string) bool {
	for _, prefix := range []string{"/v1", "/auth"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// routeMethods are the methods the API routes take, in Allow order.
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodDelete}

// allowedMethods returns the methods a path takes (HEAD wherever GET is),
// and OPTIONS.
func allowedMethods(mux chi.Routes, path string) []string {
	var out []string
	for _, m := range routeMethods {
		probe := m
		if m == http.MethodHead {
			probe = http.MethodGet
		}
		if mux.Match(chi.NewRouteContext(), probe, path) {
			out = append(out, m)
		}
	}
	return append(out, http.MethodOptions)
}

// options answers OPTIONS on any route with 204 and the methods the path
// takes (Allow), before authentication; on no route, 404.
func (s *Server) options(mux chi.Routes) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			allowed := allowedMethods(mux, r.URL.Path)
			if len(allowed) == 1 {
				s.problems.Error(w, r, houqin.Errorf(houqin.ENOTFOUND, "path: no route %s", r.URL.Path))
				return
			}
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			w.WriteHeader(http.StatusNoContent)
		})
	}
}

// readYourWrites honours min_position on every GET (and HEAD) of /v1, as
// docs/API.md promises: it waits, at most WaitLimit, until the read models
// include that position. (Handlers that validate their own parameters
// first still call waitMinPosition; a second wait returns at once.)
func (s *Server) readYourWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if err := s.waitMinPosition(r); err != nil {
				s.problems.Error(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// jsonBodies refuses, with 415, a request body declared as anything but
// JSON (application/json, or a +json type): a form or text/plain is not
// read as JSON by accident. A body without a Content-Type is read as JSON.
func (s *Server) jsonBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" && r.ContentLength != 0 {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
				s.problems.Error(w, r, houqin.Errorf(houqin.EMEDIATYPE, "content-type: the body must be application/json, got %q", ct))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		s.requests.WithLabelValues(route, r.Method, strconv.Itoa(ww.Status())).Inc()
		s.latency.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
	})
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is 200 only when Temporal, the event store and the projections are.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks, status := map[string]string{"temporal": "ok", "event_store": "ok", "projections": "ok"}, http.StatusOK
	if s.cfg.Temporal == nil {
		checks["temporal"], status = "not configured", http.StatusServiceUnavailable
	} else if _, err := s.cfg.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], status = "unavailable", http.StatusServiceUnavailable
	}
	if _, err := s.cfg.Store.Head(ctx); err != nil {
		checks["event_store"], status = "unavailable", http.StatusServiceUnavailable
	}
	if !s.cfg.Progress.Ready() {
		checks["projections"], status = "catching up", http.StatusServiceUnavailable
	}
	if failed := s.cfg.Progress.Failures(); len(failed) > 0 {
		var names []string
		for _, f := range failed {
			names = append(names, fmt.Sprintf("%s stopped at position %d (%s, %s)", f.Projection, f.Position, f.Stream, f.Type))
		}
		checks["projections"], status = "failed: "+strings.Join(names, "; ")+"; see the log", http.StatusServiceUnavailable
	}
	writeJSON(w, status, checks)
}

// waitMinPosition honours ?min_position=N: it waits, at most WaitLimit,
// until the read models include the event at position N.
func (s *Server) waitMinPosition(r *http.Request) error {
	v := r.URL.Query().Get("min_position")
	if v == "" {
		return nil
	}
	pos, err := strconv.ParseInt(v, 10, 64)
	if err != nil || pos < 0 {
		return houqin.Errorf(houqin.EINVALID, "min_position: must be a non-negative integer, got %q", v)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WaitLimit)
	defer cancel()
	return s.cfg.Progress.WaitFor(ctx, pos)
}

// identity returns the caller; the auth middleware guarantees one on /v1.
func identity(r *http.Request) houqin.Identity {
	id, _ := IdentityFrom(r.Context())
	return id
}
