package main

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestNotificationsEndToEnd takes a requisition to its end on
// houqin dev and reads what each person is told (GET /v1/notifications):
// liu.yang his task, wang.fang the approval, the completion and her
// survey, li.na each work step as it opens, zhou.qiang the copy (抄送) when
// it ends — each with the process's title, requester and amount; reading
// them marks them read.
func TestNotificationsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	d := startDev(t)
	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	id := created["id"].(string)
	task := d.pendingTask(t, "liu.yang", id, created["position"])
	told := func(user string, pos any) []string {
		t.Helper()
		out := d.must(t, 200, user, "GET", fmt.Sprintf("/v1/notifications?min_position=%v", pos), nil)
		var got []string
		for _, it := range out["items"].([]any) {
			n := it.(map[string]any)
			if n["process_id"] != id {
				continue
			}
			if n["title"] != "Q1 打印纸" || n["requester"] != "wang.fang" || n["amount"] != 105000.0 {
				t.Errorf("%s's notification %v lacks the process's title, requester or amount", user, n)
			}
			got = append(got, fmt.Sprintf("%s %s %v", n["kind"], n["event_type"], n["step"]))
		}
		return got
	}
	if got := strings.Join(told("liu.yang", created["position"]), "; "); got != "task task.opened dept_approval" {
		t.Errorf("liu.yang is told %q", got)
	}
	out := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	// li.na orders, receives, invoices and stocks in; each step's task is
	// on her list as it opens.
	for _, data := range []map[string]any{
		{"supplier": "得力办公", "lines": []map[string]any{{"name": "A4 paper", "quantity": 20, "unit_price": 4500}, {"name": "签字笔", "quantity": 50, "unit_price": 300}}},
		{"lines": []map[string]any{{"name": "A4 paper", "quantity": 20}, {"name": "签字笔", "quantity": 50}}},
		{"number": "DL-0001", "amount": 105000},
		{},
	} {
		work := d.pendingTask(t, "li.na", id, out["position"])
		out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+work["id"].(string)+"/complete", map[string]any{"data": data})
	}
	d.waitProcess(t, "wang.fang", id, "completed")
	survey := pendingStep(t, d, "wang.fang", "SV-"+id, "respond", out["position"])
	for user, want := range map[string]string{
		"wang.fang": "outcome procurement.completed <nil>; outcome procurement.approved <nil>",
		"li.na": "task task.opened stock_in; task task.opened record_invoice; task task.opened receive_goods; " +
			"task task.opened record_po",
		"zhou.qiang": "copied process.copied <nil>",
	} {
		if got := strings.Join(told(user, out["position"]), "; "); got != want {
			t.Errorf("%s is told %q, want %q", user, got, want)
		}
	}
	// And the survey to answer, on its own process.
	var asked bool
	for _, it := range d.must(t, 200, "wang.fang", "GET", "/v1/notifications", nil)["items"].([]any) {
		n := it.(map[string]any)
		asked = asked || n["process_id"] == "SV-"+id && n["kind"] == "task" && n["task_id"] == survey
	}
	if !asked {
		t.Errorf("wang.fang is not told of her survey %v", survey)
	}
	if n := d.must(t, 200, "liu.yang", "POST", "/v1/notifications/read", map[string]any{}); n["unread"] != 0.0 {
		t.Errorf("after reading all, liu.yang has %v unread", n["unread"])
	}
	if n := d.must(t, 200, "liu.yang", "GET", "/v1/notifications?unread=true", nil); len(n["items"].([]any)) != 0 {
		t.Errorf("liu.yang's unread after reading: %v", n["items"])
	}
	d.must(t, 400, "liu.yang", "GET", "/v1/notifications?limit=0", nil)
}

// mailSink is an SMTP server (emersion/go-smtp) that keeps each message by
// its Message-ID, as a mail client would show it: once.
type mailSink struct {
	mu   sync.Mutex
	mail map[string]*mail.Message
}

func (s *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return mailSession{s}, nil }

type mailSession struct{ s *mailSink }

func (mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x mailSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	m.Body = bytes.NewReader(body)
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.mail[m.Header.Get("Message-ID")] = m
	return nil
}
func (mailSession) Reset()        {}
func (mailSession) Logout() error { return nil }

// subjects lists what each address was sent: "to: subject", sorted.
func (s *mailSink) subjects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.mail {
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		to, _ := m.Header.AddressList("To")
		out = append(out, fmt.Sprintf("%s: %s", to[0].Address, subject))
	}
	sort.Strings(out)
	return out
}

// TestEmailNotificationsEndToEnd: houqin dev with --notify-config mails a
// procurement's notifications through a real SMTP server: liu.yang his
// task, li.na each work step, wang.fang the approval, the completion and
// her survey, zhou.qiang the copy at the end — each once, in Chinese.
func TestEmailNotificationsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	sink := &mailSink{mail: map[string]*mail.Message{}}
	srv := smtp.NewServer(sink)
	srv.Domain = "127.0.0.1"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "notify.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("public_url: http://houqin.test\ninterval: 100ms\nemail: {host: 127.0.0.1, port: %d, from: \"后勤 <houqin@houqin.example>\", tls: none}\n",
		l.Addr().(*net.TCPAddr).Port)), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDev(t, "--notify-config", cfg)
	created := d.must(t, 201, "wang.fang", "POST", "/v1/procurements", requisition)
	id := created["id"].(string)
	task := d.pendingTask(t, "liu.yang", id, created["position"])
	out := d.must(t, 200, "liu.yang", "POST", "/v1/tasks/"+task["id"].(string)+"/approve", map[string]any{"comment": "同意"})
	for _, data := range []map[string]any{
		{"supplier": "得力办公", "lines": []map[string]any{{"name": "A4 paper", "quantity": 20, "unit_price": 4500}, {"name": "签字笔", "quantity": 50, "unit_price": 300}}},
		{"lines": []map[string]any{{"name": "A4 paper", "quantity": 20}, {"name": "签字笔", "quantity": 50}}},
		{"number": "DL-0001", "amount": 105000},
		{},
	} {
		work := d.pendingTask(t, "li.na", id, out["position"])
		out = d.must(t, 200, "li.na", "POST", "/v1/tasks/"+work["id"].(string)+"/complete", map[string]any{"data": data})
	}
	d.waitProcess(t, "wang.fang", id, "completed")
	pendingStep(t, d, "wang.fang", "SV-"+id, "respond", out["position"])
	want := []string{
		"li.na@houqin.example: 【后勤】待办：Q1 打印纸 · 入库",
		"li.na@houqin.example: 【后勤】待办：Q1 打印纸 · 录入采购订单",
		"li.na@houqin.example: 【后勤】待办：Q1 打印纸 · 收货",
		"li.na@houqin.example: 【后勤】待办：Q1 打印纸 · 登记发票",
		"liu.yang@houqin.example: 【后勤】待办：Q1 打印纸 · 部门负责人审批",
		"wang.fang@houqin.example: 【后勤】已完成：Q1 打印纸",
		"wang.fang@houqin.example: 【后勤】已通过：Q1 打印纸",
		"wang.fang@houqin.example: 【后勤】待办：满意度调查 · PR-2026-000001 · 填写满意度调查",
		"zhou.qiang@houqin.example: 【后勤】抄送：Q1 打印纸",
	}
	deadline := time.Now().Add(20 * time.Second)
	for !slices.Equal(sink.subjects(), want) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := sink.subjects(); !slices.Equal(got, want) {
		t.Errorf("mailed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
