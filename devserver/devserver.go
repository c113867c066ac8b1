// Package devserver runs a complete Temporal server (frontend, history,
// matching and worker services) inside the current process, persisting to a
// SQLite file, optionally with the Temporal Web UI next to it.
//
// It is meant for development and tests: a single node, one history shard,
// no TLS, no auth, loopback addresses.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	// DBFileName is the name of the SQLite database inside Config.DataDir.
	DBFileName = "temporal.db"

	clusterName     = "active"
	numHistoryShard = 1 // persisted in cluster metadata: must never change for a given file
	defaultStore    = "sqlite-default"
	visStore        = "sqlite-visibility"
)

// DefaultRetention is how long the embedded server keeps the history of a
// closed workflow: a year, so that auditors read and replay a process's
// history as long as its events are kept in practice (Temporal's own
// default is a day).
const DefaultRetention = 365 * 24 * time.Hour

// Config configures Start.
type Config struct {
	DataDir   string // temporal.db lives here (created if missing)
	Host      string // default 127.0.0.1; must be an IP literal or "localhost"
	Port      int    // frontend gRPC; 0 = pick free
	UIPort    int    // Temporal Web UI HTTP port; 0 = pick free; -1 = no UI
	Namespace string // default "default"; created if missing
	// Retention is how long the namespace keeps closed workflows' histories
	// (default DefaultRetention, a year); an existing namespace is updated
	// to it at start. Below an hour (Temporal's least, for tests) the
	// server is configured to allow it and to delete on time.
	Retention time.Duration
	Logger    *slog.Logger // optional; default: text to stderr
	// LogLevel is the minimum level of server log records passed to Logger.
	// Default slog.LevelError: the server is very chatty at Info.
	LogLevel slog.Leveler
	// DynamicConfig adds or overrides server dynamic config values, keyed by
	// setting name (e.g. "system.forceSearchAttributesCacheRefreshOnRead").
	DynamicConfig map[string]any
}

// Server is a running embedded Temporal server.
type Server struct {
	frontendAddr string
	httpAddr     string
	uiAddr       string
	namespace    string
	dbPath       string

	temporal temporal.Server
	ui       *uiServer
	logger   serverLogger
	release  func() // frees the DataDir lock

	stopOnce sync.Once
	stopErr  error
}

// FrontendAddr is the frontend gRPC address (host:port) for SDK clients.
func (s *Server) FrontendAddr() string { return s.frontendAddr }

// FrontendHTTPAddr is the frontend HTTP API address (host:port).
func (s *Server) FrontendHTTPAddr() string { return s.httpAddr }

// UIAddr is the Web UI address (host:port), or "" when the UI is disabled.
func (s *Server) UIAddr() string { return s.uiAddr }

// Namespace is the namespace that Start made sure exists.
func (s *Server) Namespace() string { return s.namespace }

// DBPath is the SQLite file in use.
func (s *Server) DBPath() string { return s.dbPath }

// Start creates or opens DataDir/temporal.db, makes sure the schema and the
// namespace exist, starts all Temporal services and, unless UIPort is -1, the
// Web UI. It returns once the frontend answers DescribeNamespace for
// cfg.Namespace. Stop must be called to release the ports.
//
// Only one Server may use a given DataDir at a time.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("devserver: DataDir is required")
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	bindIP := cfg.Host
	if bindIP == "localhost" {
		bindIP = "127.0.0.1"
	}
	if ip := net.ParseIP(bindIP); ip == nil || ip.IsUnspecified() {
		return nil, fmt.Errorf("devserver: Host %q must be a specific IP address or localhost", cfg.Host)
	}
	logger := newServerLogger(cfg.Logger, cfg.LogLevel)

	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	dbPath := filepath.Join(dataDir, DBFileName)
	release, err := lockDataDir(dbPath)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	var s *Server
	ok := false
	defer func() {
		switch {
		case ok:
		case s != nil && s.temporal != nil:
			_ = s.Stop() // also releases the lock
		default:
			release()
		}
	}()

	// Ports: frontend gRPC, frontend HTTP, history, matching, worker gRPC, UI.
	// Fixed ports are checked up front because the server calls log.Fatal
	// (os.Exit) when it cannot bind.
	want := []int{cfg.Port, 0, 0, 0, 0}
	if cfg.UIPort >= 0 {
		want = append(want, cfg.UIPort)
	}
	ports, err := reservePorts(bindIP, want)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	addr := func(p int) string { return net.JoinHostPort(bindIP, strconv.Itoa(p)) }
	s = &Server{
		frontendAddr: addr(ports[0]),
		httpAddr:     addr(ports[1]),
		namespace:    cfg.Namespace,
		dbPath:       dbPath,
		logger:       logger,
		release:      release,
	}

	sqlCfg := sqliteConfig(dbPath)
	if err := ensureSchema(dbPath); err != nil {
		return nil, fmt.Errorf("devserver: sqlite schema: %w", err)
	}
	if err := ensureNamespace(sqlCfg(), cfg.Namespace, cfg.Retention); err != nil {
		return nil, fmt.Errorf("devserver: create namespace %q: %w", cfg.Namespace, err)
	}

	grpcPorts := map[primitives.ServiceName]int{
		primitives.FrontendService: ports[0],
		primitives.HistoryService:  ports[2],
		primitives.MatchingService: ports[3],
		primitives.WorkerService:   ports[4],
	}
	services := make(map[string]config.Service, len(grpcPorts))
	hosts := make(map[primitives.ServiceName]static.Hosts, len(grpcPorts))
	serviceNames := make([]string, 0, len(grpcPorts))
	for name, port := range grpcPorts {
		rpc := config.RPC{GRPCPort: port, BindOnIP: bindIP}
		if name == primitives.FrontendService {
			rpc.HTTPPort = ports[1]
		}
		services[string(name)] = config.Service{RPC: rpc}
		hosts[name] = static.SingleLocalHost(addr(port))
		serviceNames = append(serviceNames, string(name))
	}

	tcfg := &config.Config{
		Global: config.Global{
			// Membership is static (WithStaticHosts below: no ringpop, no
			// membership ports); MaxJoinDuration only sets the services' start
			// timeout to 2x this.
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: bindIP},
		},
		Persistence: config.Persistence{
			DefaultStore:     defaultStore,
			VisibilityStore:  visStore,
			NumHistoryShards: numHistoryShard,
			DataStores: map[string]config.DataStore{
				defaultStore: {SQL: sqlCfg()},
				visStore:     {SQL: sqlCfg()},
			},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {
					Enabled:                true,
					InitialFailoverVersion: 1,
					RPCAddress:             s.frontendAddr,
					HTTPAddress:            s.httpAddr,
				},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{
			Archival: config.ArchivalNamespaceDefaults{
				History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
				Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
			},
		},
		PublicClient: config.PublicClient{HostPort: s.frontendAddr},
	}

	dc := dynamicconfig.StaticClient{
		// Custom search attributes become usable immediately (as in the CLI dev server).
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
	}
	if cfg.Retention < time.Hour {
		// Below Temporal's least local retention, for tests: allowed, and
		// deleted on time rather than within a 30-minute jitter.
		dc[dynamicconfig.NamespaceMinRetentionLocal.Key()] = cfg.Retention
		dc[dynamicconfig.RetentionTimerJitterDuration.Key()] = time.Second
	}
	for k, v := range cfg.DynamicConfig {
		dc[dynamicconfig.MakeKey(k)] = v
	}

	ts, err := temporal.NewServer(
		temporal.ForServices(serviceNames),
		temporal.WithConfig(tcfg),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithNamespaceLogger(logger),
		temporal.WithDynamicConfigClient(dc),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: new temporal server: %w", err)
	}
	if err := ts.Start(); err != nil {
		_ = ts.Stop()
		return nil, fmt.Errorf("devserver: start temporal server: %w", err)
	}
	s.temporal = ts

	if err := waitReady(ctx, s.frontendAddr, cfg.Namespace); err != nil {
		return nil, fmt.Errorf("devserver: frontend not ready: %w", err)
	}
	if err := ensureRetention(ctx, s.frontendAddr, cfg.Namespace, cfg.Retention); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("devserver: namespace retention: %w", err)
	}

	if cfg.UIPort >= 0 {
		ui, err := startUI(ctx, bindIP, ports[5], s.frontendAddr, cfg.Namespace)
		if err != nil {
			return nil, fmt.Errorf("devserver: web ui: %w", err)
		}
		s.ui = ui
		s.uiAddr = addr(ports[5])
	}
	ok = true
	return s, nil
}

// Stop stops the UI and all Temporal services. It is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.logger.state.stopping.Store(true)
		if s.ui != nil {
			s.ui.stop()
		}
		if s.temporal != nil {
			s.stopErr = s.temporal.Stop()
		}
		s.release()
	})
	return s.stopErr
}

var (
	activeMu sync.Mutex
	// active maps db paths in use by this process to their lock files. Being
	// referenced from here keeps a lock file from being closed by its
	// finalizer if the caller drops its *Server without calling Stop.
	active = map[string]*os.File{}
)

// lockDataDir makes sure no other Server, in this process or (on Unix) in
// another one, uses dbPath: two servers on one file would fight over the
// history shard and hit SQLITE_BUSY.
func lockDataDir(dbPath string) (release func(), err error) {
	activeMu.Lock()
	defer activeMu.Unlock()
	if active[dbPath] != nil {
		return nil, fmt.Errorf("%s is in use by another Server in this process", dbPath)
	}
	f, err := lockFile(dbPath + ".lock")
	if err != nil {
		return nil, err
	}
	active[dbPath] = f
	var once sync.Once
	return func() {
		once.Do(func() {
			activeMu.Lock()
			delete(active, dbPath)
			activeMu.Unlock()
			_ = f.Close()
		})
	}, nil
}

// reservePorts resolves each wanted port (0 = any free one) on ip, holding
// all listeners open together so the picked ports are distinct, then frees
// them for the server to bind. A port can in theory be taken by another
// process between this check and the server's bind.
func reservePorts(ip string, want []int) ([]int, error) {
	ls := make([]net.Listener, 0, len(want))
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, len(want))
	for i, p := range want {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			return nil, fmt.Errorf("port %d on %s: %w", p, ip, err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// waitReady polls the frontend until DescribeNamespace(ns) succeeds.
// ensureRetention sets the namespace's retention to retention if it differs
// (a namespace created by an earlier version kept a day).
func ensureRetention(ctx context.Context, addr, ns string, retention time.Duration) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	c := workflowservice.NewWorkflowServiceClient(conn)
	d, err := c.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil {
		return err
	}
	if d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() == retention {
		return nil
	}
	_, err = c.UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{Namespace: ns,
		Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(retention)}})
	return err
}

func waitReady(ctx context.Context, addr, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	client := workflowservice.NewWorkflowServiceClient(conn)
	for {
		callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = client.DescribeNamespace(callCtx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		callCancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
