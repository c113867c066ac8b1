package devserver

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

type staticUIConfig struct{ cfg *uiconfig.Config }

func (s staticUIConfig) GetConfig() (*uiconfig.Config, error) { return s.cfg, nil }

type uiServer struct {
	srv  *uiserver.Server
	done chan struct{}
}

// startUI serves the Temporal Web UI (assets embedded in ui-server) on
// ip:port, proxying its API to the frontend at frontendAddr. It returns once
// the port accepts connections.
//
// ui-server binds the port itself and calls os.Exit if that fails, so the
// caller must have checked the port is free.
func startUI(ctx context.Context, ip string, port int, frontendAddr, namespace string) (*uiServer, error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	cfg := &uiconfig.Config{
		TemporalGRPCAddress: frontendAddr,
		Host:                ip,
		Port:                port,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		HideLogs:            true,
		DisableNewsFetch:    true, // no network beyond loopback
		NotifyOnNewVersion:  false,
		RefreshInterval:     0, // static config: no refresh goroutine
		CORS: uiconfig.CORS{
			AllowOrigins: []string{
				"http://" + addr,
				"http://localhost:" + strconv.Itoa(port),
			},
			// Plain HTTP on loopback: the CSRF cookie must not be Secure-only.
			CookieInsecure: true,
		},
	}
	srv := uiserver.NewServer(uioptions.WithConfigProvider(staticUIConfig{cfg}))
	u := &uiServer{srv: srv, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		_ = srv.Start() // returns nil on Stop; exits the process on bind failure
	}()

	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return u, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			u.stop()
			return nil, fmt.Errorf("ui on %s not reachable: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (u *uiServer) stop() {
	u.srv.Stop()
	select {
	case <-u.done:
	case <-time.After(5 * time.Second):
	}
}
