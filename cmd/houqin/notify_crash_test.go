package main

import (
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// slowSink is an SMTP server that takes its time over each message, so
// that a sender can be killed with one in flight; it counts every message
// it takes and keeps each Message-ID.
type slowSink struct {
	mu       sync.Mutex
	ids      map[string]int // Message-ID → how many times taken
	received int
}

func (s *slowSink) NewSession(*smtp.Conn) (smtp.Session, error) { return slowSession{s}, nil }

type slowSession struct{ s *slowSink }

func (slowSession) Mail(string, *smtp.MailOptions) error { return nil }
func (slowSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x slowSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, m.Body)
	time.Sleep(200 * time.Millisecond)
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.ids[m.Header.Get("Message-ID")]++
	x.s.received++
	return nil
}
func (slowSession) Reset()        {}
func (slowSession) Logout() error { return nil }

func (s *slowSink) snapshot() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.ids))
	for k, v := range s.ids {
		out[k] = v
	}
	return out, s.received
}

// TestNotifySenderCrash runs the sender in `houqin projector
// --notify-config`, its own process, kills it with SIGKILL while messages
// are being delivered, starts it again, and expects every notification
// mailed — each Message-ID at least once, none missing, none that is not a
// notification: what a mail client shows once.
func TestNotifySenderCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds houqin and starts an embedded Temporal server")
	}
	bin := buildHouqin(t)
	sink := &slowSink{ids: map[string]int{}}
	srv := smtp.NewServer(sink)
	srv.Domain = "127.0.0.1"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "notify.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("public_url: http://houqin.test\ninterval: 50ms\nbackoff: 100ms\n"+
		"email: {host: 127.0.0.1, port: %d, from: \"后勤 <houqin@houqin.example>\", tls: none, timeout: 5s}\n", l.Addr().(*net.TCPAddr).Port)), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDev(t)
	projector := func() *exec.Cmd {
		cmd := exec.Command(bin, "projector", "--data", d.data, "--notify-config", cfg, "--anchor-interval", "0")
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	p := projector()

	// Three requisitions, approved: liu.yang's tasks, wang.fang's
	// approvals, li.na's orders to place.
	var last any
	for range 3 {
		created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
		task := d.pendingTask(t, "liu.yang", created["id"].(string), created["position"])
		last = d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{})["position"]
	}
	// Killed as soon as the first message is taken, with others to go.
	deadline := time.Now().Add(30 * time.Second)
	for _, n := sink.snapshot(); n == 0 && time.Now().Before(deadline); _, n = sink.snapshot() {
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	_, before := sink.snapshot()
	p = projector()
	t.Cleanup(func() {
		p.Process.Signal(syscall.SIGTERM)
		p.Wait()
	})

	var want []string
	for _, user := range []string{"liu.yang", "wang.fang", "li.na", "zhou.qiang"} {
		for _, it := range d.must(t, 200, user, "GET", fmt.Sprintf("/v1/notifications?limit=200&min_position=%v", last), nil)["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			want = append(want, "<"+strings.NewReplacer("/", ".", "@", ".").Replace(id)+"@houqin.example>")
		}
	}
	slices.Sort(want)
	if len(want) != 9 {
		t.Fatalf("%d notifications, want 9 (3 tasks, 3 approvals, 3 orders)", len(want))
	}
	var got []string
	deadline = time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ids, _ := sink.snapshot()
		got = slices.Sorted(func(yield func(string) bool) {
			for id := range ids {
				if !yield(id) {
					return
				}
			}
		})
		if slices.Equal(got, want) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ids, total := sink.snapshot()
	t.Logf("%d messages taken before the kill, %d in all for %d notifications", before, total, len(want))
	if !slices.Equal(got, want) {
		t.Fatalf("Message-IDs mailed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for id, n := range ids {
		if n > 2 {
			t.Errorf("%s taken %d times: at most once more than once (the one in flight at the kill)", id, n)
		}
	}
}
