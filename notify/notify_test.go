package notify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http/httptest"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
	"github.com/houqin/houqin/projections"
	"github.com/houqin/houqin/sqlite"
	"github.com/houqin/houqin/storetest"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// sink is a real SMTP server (emersion/go-smtp) that keeps what it is
// given: STARTTLS with a certificate the test trusts, AUTH PLAIN required.
// fail, while set, refuses DATA; hang makes DATA wait until the client
// gives up.
type sink struct {
	mu       sync.Mutex
	messages map[string][]byte // Message-ID → the message: a repeat is the same message again
	received int               // DATA accepted, repeats included
	fail     error
	hang     bool
}

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }

type session struct {
	s    *sink
	auth bool
	to   []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "houqin" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		x.auth = true
		return nil
	}), nil
}
func (x *session) Mail(string, *smtp.MailOptions) error {
	if !x.auth {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = append(x.to, to); return nil }
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	fail, hang := x.s.fail, x.s.hang
	x.s.mu.Unlock()
	if hang {
		time.Sleep(2 * time.Second)
	}
	if fail != nil {
		return &smtp.SMTPError{Code: 451, Message: fail.Error()}
	}
	m, err := mail.ReadMessage(strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.messages[m.Header.Get("Message-ID")] = b
	x.s.received++
	return nil
}
func (x *session) Reset()        {}
func (x *session) Logout() error { return nil }

func (s *sink) set(fail error, hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.hang = fail, hang
}

// startSink serves a sink on 127.0.0.1 with httptest's certificate.
func startSink(t *testing.T) (*sink, *EmailConfig) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	s := &sink{messages: map[string][]byte{}}
	srv := smtp.NewServer(s)
	srv.Domain, srv.TLSConfig = "127.0.0.1", ts.TLS
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	port := l.Addr().(*net.TCPAddr).Port
	return s, &EmailConfig{Host: "127.0.0.1", Port: port, From: "后勤 <houqin@houqin.example>", Username: "houqin", PasswordEnv: "X",
		TLS: "starttls", Timeout: 500 * time.Millisecond, password: "s3cret", roots: roots}
}

// taskDue is when liu.yang's task in the outbox is due: two days on.
var taskDue = time.Now().Add(48 * time.Hour).Truncate(time.Second)

// outbox folds a requisition waiting for liu.yang into the read models.
func outbox(t *testing.T) (*Sender, func()) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.OpenEventStore(ctx, filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db, err := sqlite.OpenReadModels(filepath.Join(dir, "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org, err := houqin.ParseOrg(config.DefaultOrg())
	if err != nil {
		t.Fatal(err)
	}
	id := "PR-2026-000001"
	req := houqin.ProcurementRequest{Department: "MKT", BudgetCategory: "office_supplies", Reason: "Q1 打印纸", NeededBy: "2026-12-15",
		Items: []houqin.ProcurementItem{{Name: "A4 paper", Quantity: 20, Unit: "box", UnitPrice: 4500}, {Name: "签字笔", Quantity: 50, Unit: "支", UnitPrice: 300}}}
	var events []houqin.Event
	for i, d := range []houqin.EventData{
		houqin.RequisitionSubmitted{ProcessID: id, Requester: "wang.fang", Request: req, Total: 105000, Currency: "CNY"},
		houqin.TaskOpened{Task: houqin.Task{ID: id + ".dept_approval.1", ProcessID: id, Kind: houqin.KindProcurement, Step: "dept_approval",
			Name: houqin.Text{Zh: "部门负责人审批", En: "Department head approval"}, Assignees: []string{"liu.yang"}, Actions: []string{"approve"},
			DueAt: taskDue}},
	} {
		e, err := houqin.NewEvent(houqin.EventID("notify-test", fmt.Sprint(i)), d, houqin.Metadata{Actor: "wang.fang", CorrelationID: id, OccurredAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	storetest.MustAppend(t, store, houqin.ProcurementStream(id), houqin.ExpectAny, events...)
	r := projections.NewRunner(store, db, []projections.Projection{projections.Processes{}, projections.Tasks{}, projections.Notifications{}, projections.UserPreferences{}},
		projections.Options{})
	if err := r.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := &Sender{DB: db, Org: org, Config: Config{PublicURL: "http://houqin.test", MaxAttempts: 3, Backoff: time.Second, Interval: time.Second},
		Now: func() time.Time { return now }}
	if err := s.Setup(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return s, func() { now = now.Add(time.Hour) } // past any backoff
}

// TestEmail: liu.yang's task reaches the SMTP server once, through
// STARTTLS and AUTH, in Chinese: the subject encoded (RFC 2047), his name
// in the To header, the process, requester, amount, step and the link in
// the body.
func TestEmail(t *testing.T) {
	ctx := context.Background()
	sk, ec := startSink(t)
	s, _ := outbox(t)
	s.Config.Email = ec
	if n, err := s.Step(ctx); err != nil || n != 1 {
		t.Fatalf("Step = %d, %v; want 1 sent", n, err)
	}
	if n, err := s.Step(ctx); err != nil || n != 0 {
		t.Errorf("a second Step = %d, %v; want nothing sent again", n, err)
	}
	if len(sk.messages) != 1 || sk.received != 1 {
		t.Fatalf("the sink holds %d messages (%d received)", len(sk.messages), sk.received)
	}
	for id, raw := range sk.messages {
		m, err := mail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		to, _ := m.Header.AddressList("To")
		body, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, m.Body))
		if subject != "【后勤】待办：Q1 打印纸 · 部门负责人审批" || len(to) != 1 || to[0].Name != "刘洋" || to[0].Address != "liu.yang@houqin.example" ||
			!strings.HasSuffix(id, "@houqin.example>") || m.Header.Get("Content-Type") != "text/plain; charset=UTF-8" {
			t.Errorf("headers: subject %q, to %v, id %s, type %s", subject, to, id, m.Header.Get("Content-Type"))
		}
		for _, want := range []string{"刘洋，您好：", "流程：PR-2026-000001", "申请人：王芳", "金额：¥1050.00", "步骤：部门负责人审批",
			"打开：http://houqin.test/processes/PR-2026-000001?task=PR-2026-000001.dept_approval.1"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("the body lacks %q:\n%s", want, body)
			}
		}
	}
	ds, err := Deliveries(ctx, s.DB)
	if err != nil || len(ds) != 1 || ds[0].Status != Sent || ds[0].Attempts != 1 || ds[0].MessageID == "" {
		t.Errorf("deliveries = %+v, %v", ds, err)
	}
}

// TestEmailFaults: the server refusing, then hanging past the timeout:
// each attempt recorded and retried after its backoff; when the server
// comes back the message goes once. A server that never takes it: dead
// after MaxAttempts. A server without STARTTLS is refused.
func TestEmailFaults(t *testing.T) {
	ctx := context.Background()
	sk, ec := startSink(t)
	s, later := outbox(t)
	s.Config.Email = ec
	sk.set(errors.New("try later"), false)
	if n, _ := s.Step(ctx); n != 0 {
		t.Fatalf("sent %d while the server refuses", n)
	}
	if n, _ := s.Step(ctx); n != 0 {
		t.Fatalf("retried before the backoff: sent %d", n)
	}
	later()
	sk.set(nil, true) // hangs: the client gives up after its timeout
	if n, _ := s.Step(ctx); n != 0 {
		t.Fatalf("sent %d while the server hangs", n)
	}
	ds, _ := Deliveries(ctx, s.DB)
	if len(ds) != 1 || ds[0].Status != Pending || ds[0].Attempts != 2 || ds[0].LastError == "" {
		t.Errorf("after two failures: %+v", ds)
	}
	later()
	sk.set(nil, false)
	if n, err := s.Step(ctx); n != 1 || err != nil {
		t.Fatalf("the server back: sent %d, %v", n, err)
	}
	if len(sk.messages) != 1 {
		t.Errorf("the sink holds %d distinct messages, want 1", len(sk.messages))
	}
	if got := testutil.ToFloat64(s.metrics.retried.WithLabelValues("email")); got != 1 {
		t.Errorf("houqin_notifications_retried_total = %v, want 1", got)
	}
	if got := testutil.ToFloat64(s.metrics.failed.WithLabelValues("email")); got != 2 {
		t.Errorf("houqin_notifications_failed_total = %v, want 2", got)
	}

	// Never taken: dead after MaxAttempts (3), kept with its last error.
	sk2, ec2 := startSink(t)
	s2, later2 := outbox(t)
	s2.Config.Email = ec2
	sk2.set(errors.New("mailbox unavailable"), false)
	for range 4 {
		s2.Step(ctx)
		later2()
	}
	ds, _ = Deliveries(ctx, s2.DB)
	if len(ds) != 1 || ds[0].Status != Dead || ds[0].Attempts != 3 || !strings.Contains(ds[0].LastError, "mailbox unavailable") {
		t.Errorf("after MaxAttempts: %+v", ds)
	}

	// A server that offers no STARTTLS is not sent the password.
	sk3 := &sink{messages: map[string][]byte{}}
	srv := smtp.NewServer(sk3)
	srv.Domain, srv.AllowInsecureAuth = "127.0.0.1", true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	plain := *ec
	plain.Port = l.Addr().(*net.TCPAddr).Port
	msg := message{ID: "x@houqin.example", From: "houqin@houqin.example", To: "liu.yang@houqin.example", Body: []byte("Subject: x\r\n\r\nx\r\n")}
	if err := sendMail(ctx, &plain, msg); err == nil || !strings.Contains(err.Error(), "no STARTTLS") {
		t.Errorf("sending to a server without STARTTLS: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	t.Setenv("HOUQIN_SMTP_PASSWORD", "s3cret")
	c, err := ParseConfig("notify.yaml", []byte("public_url: https://houqin.example.com/\nemail: {host: smtp.example.com, from: \"后勤 <houqin@example.com>\", username: houqin, password_env: HOUQIN_SMTP_PASSWORD}\n"))
	if err != nil || c.PublicURL != "https://houqin.example.com" || c.Email.Port != 587 || c.Email.TLS != "starttls" || c.Email.password != "s3cret" || c.MaxAttempts != 6 {
		t.Errorf("ParseConfig = %+v, %v", c, err)
	}
	t.Setenv("HOUQIN_WECOM_URL", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K")
	t.Setenv("HOUQIN_DINGTALK_SECRET", "SEC")
	t.Setenv("HOUQIN_WEBHOOK_SECRET", "W")
	c, err = ParseConfig("notify.yaml", []byte("public_url: http://x\nwecom: {url_env: HOUQIN_WECOM_URL}\n"+
		"dingtalk: {url: \"https://oapi.dingtalk.com/robot/send?access_token=T\", secret_env: HOUQIN_DINGTALK_SECRET, departments: [FIN]}\n"+
		"webhooks: [{name: ops, url: \"https://ops.example.com/hook\", secret_env: HOUQIN_WEBHOOK_SECRET}]\n"))
	if err != nil || c.WeCom.URL != "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K" || c.DingTalk.secret != "SEC" || c.DingTalk.Name() != "dingtalk" ||
		len(c.Webhooks) != 1 || c.Webhooks[0].Name() != "webhook:ops" || c.Webhooks[0].secret != "W" {
		t.Errorf("ParseConfig of the robots = %+v, %v", c, err)
	}
	for src, want := range map[string]string{
		"public_url: http://x\nfeishu: {url: x}\n":                                                       "feishu.url:",
		"public_url: http://x\nfeishu: {url: \"https://f\", secret_env: NOPE_NOT_SET}\n":                 "NOPE_NOT_SET is not set",
		"public_url: http://x\nwebhooks: [{name: a, url: \"https://a\"}]\n":                              "webhooks[0].secret_env",
		"email: {host: x, from: a@b.c}\n":                                                                "public_url:",
		"public_url: http://x\nemail: {from: a@b.c}\n":                                                   "email.host: required",
		"public_url: http://x\nemail: {host: x, from: nobody}\n":                                         "email.from:",
		"public_url: http://x\nemail: {host: x, from: a@b.c, tls: ssl}\n":                                "email.tls:",
		"public_url: http://x\nemail: {host: x, from: a@b.c, username: u}\n":                             "email.password_env: required",
		"public_url: http://x\nemail: {host: x, from: a@b.c, username: u, password_env: NOPE_NOT_SET}\n": "NOPE_NOT_SET is not set",
		"public_url: http://x\nsms: {}\n":                                                                "unknown field",
	} {
		if _, err := ParseConfig("notify.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConfig(%q) = %v, want %q", src, err, want)
		}
	}
}

// TestDueSoonAndOverdue: a time, not an event, tells these: four hours
// before its due time liu.yang is told his task is due soon, after it that
// it is overdue — each once, however often the sender looks.
func TestDueSoonAndOverdue(t *testing.T) {
	ctx := context.Background()
	sk, ec := startSink(t)
	s, _ := outbox(t)
	s.Config.Email = ec
	for _, at := range []time.Time{time.Now(), taskDue.Add(-3 * time.Hour), taskDue.Add(-2 * time.Hour), taskDue.Add(time.Minute), taskDue.Add(time.Hour)} {
		s.Now = func() time.Time { return at }
		if _, err := s.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var subjects []string
	for _, raw := range sk.messages {
		m, _ := mail.ReadMessage(strings.NewReader(string(raw)))
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		subjects = append(subjects, subject)
	}
	slices.Sort(subjects)
	want := []string{"【后勤】即将到期：Q1 打印纸 · 部门负责人审批", "【后勤】已超时：Q1 打印纸 · 部门负责人审批", "【后勤】待办：Q1 打印纸 · 部门负责人审批"}
	if !slices.Equal(subjects, want) || sk.received != 3 {
		t.Errorf("mailed %q (%d received), want %q", subjects, sk.received, want)
	}
}

// TestPreferences: liu.yang turned email off — his task is not mailed
// (skipped, saying why); with quiet hours 22:00–08:00 instead, a task that
// falls due at 23:00 waits until 08:00, then goes.
func TestPreferences(t *testing.T) {
	ctx := context.Background()
	set := func(s *Sender, p string) {
		t.Helper()
		if _, err := s.DB.Exec(`INSERT INTO user_preferences (user_id, preferences, position) VALUES ('liu.yang', $1, 1)`, p); err != nil {
			t.Fatal(err)
		}
	}
	sk, ec := startSink(t)
	s, _ := outbox(t)
	s.Config.Email = ec
	set(s, `{"channels":{"email":false}}`)
	if n, err := s.Step(ctx); n != 0 || err != nil {
		t.Errorf("mailed %d (%v) to someone who turned email off", n, err)
	}
	if ds, _ := Deliveries(ctx, s.DB); len(ds) != 1 || ds[0].Status != Skipped || ds[0].LastError != "turned off by the recipient" || len(sk.messages) != 0 {
		t.Errorf("deliveries: %+v", ds)
	}

	s2, _ := outbox(t)
	s2.Config.Email = ec
	set(s2, `{"channels":{},"quiet_hours":{"from":"22:00","to":"08:00"}}`)
	night := time.Date(2026, 12, 6, 23, 0, 0, 0, houqin.BusinessZone)
	s2.Now = func() time.Time { return night }
	if n, err := s2.Step(ctx); n != 0 || err != nil {
		t.Errorf("mailed %d (%v) in the quiet hours", n, err)
	}
	s2.Now = func() time.Time { return night.Add(8*time.Hour + time.Minute) } // 07:01
	if n, _ := s2.Step(ctx); n != 0 {
		t.Errorf("mailed %d before the quiet hours ended", n)
	}
	s2.Now = func() time.Time { return night.Add(9 * time.Hour) } // 08:00
	if n, err := s2.Step(ctx); n != 1 || err != nil {
		t.Errorf("at 08:00 mailed %d (%v), want 1", n, err)
	}
	if ds, _ := Deliveries(ctx, s2.DB); len(ds) != 1 || ds[0].Status != Sent || ds[0].Attempts != 1 {
		t.Errorf("deliveries: %+v", ds)
	}
}

// TestDigest: liu.yang asked for a daily digest — his task waits, and at
// 08:30 (China time) one email lists it; later rounds that day send
// nothing more.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	sk, ec := startSink(t)
	s, _ := outbox(t)
	s.Config.Email = ec
	if _, err := s.DB.Exec(`INSERT INTO user_preferences (user_id, preferences, position) VALUES ('liu.yang', '{"channels":{},"digest":true}', 1)`); err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(houqin.BusinessZone)
	at := func(hh, mm int) time.Time {
		return time.Date(today.Year(), today.Month(), today.Day(), hh, mm, 0, 0, houqin.BusinessZone)
	}
	s.Now = func() time.Time { return at(7, 0) }
	if n, err := s.Step(ctx); n != 0 || err != nil {
		t.Errorf("before 08:30: sent %d (%v)", n, err)
	}
	s.Now = func() time.Time { return at(8, 31) }
	if n, err := s.Step(ctx); n != 1 || err != nil {
		t.Fatalf("at 08:31: sent %d (%v), want the digest", n, err)
	}
	if n, _ := s.Step(ctx); n != 0 {
		t.Errorf("a second round sent %d", n)
	}
	day := today.Format(time.DateOnly)
	for _, raw := range sk.messages {
		m, _ := mail.ReadMessage(strings.NewReader(string(raw)))
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		body, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, m.Body))
		if subject != "【后勤】"+day+" 通知摘要（1 条）" || !strings.Contains(string(body), "· 待办：Q1 打印纸 · 部门负责人审批") {
			t.Errorf("the digest: %q\n%s", subject, body)
		}
	}
	if ds, _ := Deliveries(ctx, s.DB); len(ds) != 1 || ds[0].Status != Sent || ds[0].MessageID != "digest/liu.yang/"+day || len(sk.messages) != 1 {
		t.Errorf("deliveries: %+v; %d messages", ds, len(sk.messages))
	}
}

// TestComposeDelegation: a delegation is told by who made it, with the
// link to the delegations (from when to when).
func TestComposeDelegation(t *testing.T) {
	s, _ := outbox(t)
	m, err := s.compose(projections.Notification{ID: "e/ma.chao", Recipient: "ma.chao", Kind: projections.NotifyDelegated, Actor: "liu.yang", TaskID: "dl-1"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "委托你代为审批：刘洋" || m.Link != "打开：http://houqin.test/delegations" || len(m.Lines) != 0 {
		t.Errorf("compose = %q %q %q", m.Subject, m.Link, m.Lines)
	}
}
