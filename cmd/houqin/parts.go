package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/activities"
	"github.com/houqin/houqin/api"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/web"
	"github.com/houqin/houqin/worker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdkworker "go.temporal.io/sdk/worker"
)

// runWorker runs the Temporal worker alone: workflows and activities,
// appending to the event store, against a Temporal frontend.
func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	temporal := fs.String("temporal", "127.0.0.1:7233", "Temporal frontend address")
	metricsAddr := fs.String("http", "127.0.0.1:0", "address serving /metrics and /healthz")
	orgFile := fs.String("org", "", "organisation YAML, for resolving approvers (default: the embedded demo organisation)")
	policyFile := fs.String("policy", "", "approval policy YAML, copied into reorders' procurements (default: the embedded config/policy.yaml)")
	reorderer := fs.String("reorderer", "", "user who requests reorders of items below their reorder point (default: the first user with role warehouse)")
	surveys := fs.Bool("surveys", true, "send a satisfaction survey after each completed service (checkpoint in the read-model database; several workers share it safely)")
	reassignEvery := fs.Duration("reassign-interval", time.Minute, "how often the open tasks of users who left the organisation move to their successors (0: never; reads the read models)")
	reconcileEvery := fs.Duration("reconcile-interval", 10*time.Second, "how often processes whose workflow ended outside houqin are recorded as terminated (0: never)")
	histories := fs.String("histories", "", "directory of the kept copies of closed workflow histories, on durable storage shared by the workers (default DATA/histories)")
	keepEvery := fs.Duration("keep-interval", time.Minute, "how often the histories of newly closed processes are copied to --histories (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	org, err := loadOrg(*orgFile)
	if err != nil {
		return err
	}
	policy, err := loadPolicy(*policyFile)
	if err != nil {
		return err
	}
	kpi, err := sf.kpiConfig()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	reg := newRegistry()
	store, err := openEventStore(ctx, sf.eventsDSN(), reg)
	if err != nil {
		return err
	}
	defer store.Close()
	tc, err := dialTemporal(ctx, *temporal, stderr, reg)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := worker.CheckSearchAttributes(ctx, tc, "default"); err != nil {
		return err
	}
	acts := &activities.Activities{Store: store, Org: org, Now: time.Now, Temporal: tc, Policy: policy, Reorderer: *reorderer}
	w := worker.New(tc, acts, sdkworker.Options{})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	var loops []func(context.Context) error
	if *reconcileEvery > 0 {
		loops = append(loops, (&worker.Reconciler{Store: store, Temporal: tc, Activities: acts, Interval: *reconcileEvery, Logger: log}).Run)
	}
	if *keepEvery > 0 {
		keeper := &worker.HistoryKeeper{Store: store, Temporal: tc, Dir: cmp.Or(*histories, filepath.Join(sf.data, "histories")), Interval: *keepEvery, Logger: log}
		loops = append(loops, keeper.Run)
	}
	if *surveys || *reassignEvery > 0 {
		db, err := openReadModels(ctx, sf.readModelsDSN())
		if err != nil {
			return err
		}
		defer db.Close()
		if *surveys {
			trigger := projections.NewRunner(store, db, []projections.Projection{&worker.SurveyTrigger{
				Store: store, Temporal: tc, Org: org, Config: kpi.Survey, Logger: log}}, projections.Options{Logger: log})
			loops = append(loops, trigger.Run)
		}
		if *reassignEvery > 0 {
			loops = append(loops, (&worker.Reassigner{Org: org, ReadModels: db, Temporal: tc, Interval: *reassignEvery, Logger: log}).Run)
		}
	}
	ln, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		return err
	}
	return serve(ctx, log, stdout, fmt.Sprintf("houqin worker: temporal %s, events %s\n", *temporal, sf.eventsDSN()),
		"http://"+ln.Addr().String(), ln, opsRouter(reg, func() bool { return true }), loops...)
}

// runAPI runs the HTTP API alone: it reads the read models a projector
// keeps, and starts and updates workflows through Temporal.
func runAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	temporal := fs.String("temporal", "127.0.0.1:7233", "Temporal frontend address")
	addr := fs.String("http", "127.0.0.1:8080", "API listen address")
	orgFile := fs.String("org", "", "organisation YAML (default: the embedded demo organisation)")
	policyFile := fs.String("policy", "", "approval policy YAML (default: the embedded config/policy.yaml)")
	checklistsFile := fs.String("checklists", "", "inspection checklists YAML (default: the embedded config/checklists.yaml)")
	jwks := fs.String("jwks-url", "", "verify RS256 tokens against this JWKS URL instead of the dev HS256 key in --data")
	maxTolerance := fs.Int("max-tolerance-bp", houqin.DefaultMaxToleranceBP, "widest tolerance band of a new budget line, in basis points")
	var oc api.OIDCConfig
	fs.StringVar(&oc.Issuer, "oidc-issuer", "", "sign browsers in through this OpenID Connect provider (its issuer URL)")
	fs.StringVar(&oc.ClientID, "oidc-client-id", "", "houqin's client ID at the provider")
	fs.StringVar(&oc.RedirectURL, "oidc-redirect-url", "", "houqin's callback as registered at the provider: https://HOST/auth/oidc/callback")
	fs.StringVar(&oc.UserClaim, "oidc-user-claim", "preferred_username", "the ID token claim holding the houqin user ID")
	sessionTTL := fs.Duration("session-ttl", api.DefaultSessionTTL, "how long a browser session lasts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	oc.ClientSecret = os.Getenv("HOUQIN_OIDC_CLIENT_SECRET") // a secret: never on the command line
	log := slog.New(slog.NewTextHandler(stderr, nil))
	kpi, err := sf.kpiConfig()
	if err != nil {
		return err
	}
	org, err := loadOrg(*orgFile)
	if err != nil {
		return err
	}
	policy, err := loadPolicy(*policyFile)
	if err != nil {
		return err
	}
	checklists, err := loadChecklists(*checklistsFile)
	if err != nil {
		return err
	}
	reg := newRegistry()
	store, db, closeStores, err := sf.openBoth(ctx, reg)
	if err != nil {
		return err
	}
	defer closeStores()
	tc, err := dialTemporal(ctx, *temporal, stderr, reg)
	if err != nil {
		return err
	}
	defer tc.Close()
	var (
		oidc       *api.OIDC
		sessionKey []byte
		opts       []api.Option
	)
	if oc.Issuer != "" {
		if oidc, err = api.NewOIDC(ctx, oc); err != nil {
			return err
		}
		// Browser sessions are houqin's own, signed with a key of their
		// own (shared by every API process through the data directory).
		if sessionKey, err = api.LoadOrCreateKey(sf.data, api.SessionKeyFile); err != nil {
			return err
		}
		opts = append(opts, api.WithSessionKey(sessionKey))
	}
	auth, err := newAuthenticator(ctx, sf.data, *jwks, org, opts...)
	if err != nil {
		return err
	}
	srv := api.NewServer(api.Config{Store: store, ReadModels: db, Progress: projections.NewWatcher(db, allProjections(kpi)),
		Temporal: tc, Org: org, Policy: policy, Checklists: checklists, Auth: auth, Logger: log, Registry: reg, KPI: kpi, Scratch: sqlite.OpenScratch,
		MaxToleranceBP: *maxTolerance, Web: web.Handler(), OIDC: oidc, SessionKey: sessionKey, SessionTTL: *sessionTTL})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	return serve(ctx, log, stdout, "houqin api\n", "http://"+ln.Addr().String(), ln, srv.Handler())
}

// runProjector keeps the read models current, alone.
func runProjector(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("houqin projector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("http", "127.0.0.1:0", "address serving /metrics, /healthz and /readyz")
	anchorEvery := fs.Duration("anchor-interval", time.Hour, "append an audit anchor at start and then this often (0: never)")
	orgFile := fs.String("org", "", "organisation YAML, for the notifications' addresses (default: the embedded demo organisation)")
	notifyFile := fs.String("notify-config", "", "notifications YAML: deliver the notifications from here, the one projector (docs/NOTIFICATIONS.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	org, err := loadOrg(*orgFile)
	if err != nil {
		return err
	}
	kpi, err := sf.kpiConfig()
	if err != nil {
		return err
	}
	reg := newRegistry()
	store, db, closeStores, err := sf.openBoth(ctx, reg)
	if err != nil {
		return err
	}
	defer closeStores()
	runner := projections.NewRunner(store, db, allProjections(kpi), projections.Options{Registerer: reg, Logger: log})
	loops := withAnchorer(runner.Run, store, *anchorEvery, log)
	if sender, err := newSender(ctx, *notifyFile, db, org, log, reg); err != nil {
		return err
	} else if sender != nil {
		loops = append(loops, sender.Run)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	return serve(ctx, log, stdout, fmt.Sprintf("houqin projector: events %s → read models %s\n", sf.eventsDSN(), sf.readModelsDSN()),
		"http://"+ln.Addr().String(), ln, opsRouter(reg, runner.Ready), loops...)
}

// opsRouter serves /healthz, /readyz and /metrics for the headless parts.
func opsRouter(reg *prometheus.Registry, ready func() bool) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !ready() {
			http.Error(w, "catching up\n", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return r
}
