package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
)

// message is one email, ready to send.
type message struct {
	ID      string // Message-ID, without the angle brackets
	From    string // the envelope sender
	To      string // the envelope recipient
	Subject string
	Body    []byte // the whole message: headers and body
}

// texts are the words of a message in one language.
type texts struct {
	prefix, greeting, open, process, requester, amount, step, signature, digest, survey string
	kinds, outcomes                                                                     map[string]string
}

var languages = map[string]texts{
	"zh-CN": {prefix: "【后勤】", greeting: "%s，您好：", open: "打开：", process: "流程", requester: "申请人", amount: "金额", step: "步骤",
		signature: "—— 后勤 houqin（本邮件由系统发送）", digest: "%s 通知摘要（%d 条）", survey: "满意度调查",
		kinds: map[string]string{projections.NotifyTask: "待办", projections.NotifyReminded: "催办", projections.NotifyEscalated: "超时转给你", projections.NotifyCopied: "抄送",
			projections.NotifyDueSoon: "即将到期", projections.NotifyOverdue: "已超时", projections.NotifyDelegated: "委托你代为审批", projections.NotifyUndelegated: "委托已提前结束",
			projections.NotifyDelegationStarts: "委托开始，你代为审批", projections.NotifyDelegationEnds: "委托已结束"},
		outcomes: map[string]string{"approved": "已通过", "rejected": "已驳回", "completed": "已完成", "returned": "已退回给你", "cancelled": "已取消"}},
	"en": {prefix: "[houqin] ", greeting: "Dear %s,", open: "Open: ", process: "Process", requester: "Requester", amount: "Amount", step: "Step",
		signature: "-- houqin (sent by the system)", digest: "Notifications of %s (%d)", survey: "Satisfaction survey",
		kinds: map[string]string{projections.NotifyTask: "To do", projections.NotifyReminded: "Reminder", projections.NotifyEscalated: "Overdue, now also yours", projections.NotifyCopied: "Copied to you",
			projections.NotifyDueSoon: "Due soon", projections.NotifyOverdue: "Overdue", projections.NotifyDelegated: "You stand in for", projections.NotifyUndelegated: "No longer standing in for",
			projections.NotifyDelegationStarts: "From now you stand in for", projections.NotifyDelegationEnds: "You no longer stand in for"},
		outcomes: map[string]string{"approved": "Approved", "rejected": "Rejected", "completed": "Completed", "returned": "Returned to you", "cancelled": "Cancelled"}},
}

// Message is a notification written out for its recipient, in their
// language, ready for any channel: what happened and on which process (the
// subject), the facts (process, requester, amount, step), the link to the
// task.
type Message struct {
	ID        string // the notification's: each channel's idempotency key
	Lang      string // zh-CN or en
	Recipient houqin.User
	Name      string // the recipient's name in Lang
	Subject   string
	Lines     []string // the facts, "流程：PR-2026-000001"
	Link      string
	Greeting  string
	Signature string
	N         projections.Notification
}

// Text is the message as plain text: greeting, subject, facts, link.
func (m Message) Text(newline string) string {
	var b strings.Builder
	b.WriteString(m.Greeting + newline + newline + m.Subject + newline + newline)
	for _, l := range m.Lines {
		b.WriteString(l + newline)
	}
	b.WriteString(newline + m.Link + newline)
	return b.String()
}

// compose writes notification n for its recipient, in their language.
func (s *Sender) compose(n projections.Notification) (Message, error) {
	u, err := s.Org.User(n.Recipient)
	if err != nil {
		return Message{}, err
	}
	lang, name := "zh-CN", u.Name
	if u.Lang == "en" {
		lang, name = "en", cmp.Or(u.NameEn, u.Name)
	}
	w := languages[lang]
	head := w.kinds[n.Kind]
	if n.Kind == projections.NotifyOutcome {
		head = w.outcomes[n.EventType[strings.Index(n.EventType, ".")+1:]]
	}
	sep := "："
	if lang == "en" {
		sep = ": "
	}
	step := ""
	if n.StepName != nil {
		step = n.StepName.Zh
		if lang == "en" {
			step = n.StepName.En
		}
	}
	title := cmp.Or(n.Title, n.ProcessID)
	if n.ProcessID == "" { // a delegation: named by who made it
		title = n.Actor // who made them their delegate: their approvals come to this person meanwhile
		if a, err := s.Org.User(n.Actor); err == nil {
			title = a.Name
			if lang == "en" {
				title = cmp.Or(a.NameEn, a.Name)
			}
		}
	}
	if service, ok := strings.CutPrefix(n.ProcessID, "SV-"); ok && n.Title == "" {
		title = w.survey + " · " + service // a survey is not in the process list: named by the service it asks about
	}
	m := Message{ID: n.ID, Lang: lang, Recipient: u, Name: name, N: n, Greeting: fmt.Sprintf(w.greeting, name), Signature: w.signature,
		Subject: head + sep + title}
	if step != "" {
		m.Subject += " · " + step
	}
	m.Link = s.Config.PublicURL + "/processes/" + n.ProcessID
	if n.TaskID != "" {
		m.Link += "?task=" + n.TaskID
	}
	if n.ProcessID == "" { // a delegation: the list of them says from when to when
		m.Link = w.open + s.Config.PublicURL + "/delegations"
		return m, nil
	}
	m.Lines = append(m.Lines, w.process+sep+n.ProcessID)
	if r, err := s.Org.User(n.Requester); err == nil {
		who := r.Name
		if lang == "en" {
			who = cmp.Or(r.NameEn, r.Name)
		}
		m.Lines = append(m.Lines, w.requester+sep+who)
	}
	if n.Amount > 0 {
		m.Lines = append(m.Lines, w.amount+sep+"¥"+houqin.Money(n.Amount))
	}
	if step != "" {
		m.Lines = append(m.Lines, w.step+sep+step)
	}
	m.Link = w.open + m.Link
	return m, nil
}

// email is the SMTP channel: a user's address is their email.
type email struct{ c *EmailConfig }

func (email) Name() string { return "email" }

func (email) Address(u houqin.User) (string, bool) { return u.Email, u.Email != "" }

// Send mails m to address: plain text, UTF-8, the subject encoded
// (RFC 2047), the notification's ID as the Message-ID.
func (e email) Send(ctx context.Context, m Message, address string, now time.Time) error {
	mm, err := e.build(m, address, now)
	if err != nil {
		return err
	}
	return sendMail(ctx, e.c, mm)
}

func (e email) build(m Message, address string, now time.Time) (message, error) {
	w := languages[m.Lang]
	from, err := mail.ParseAddress(e.c.From)
	if err != nil {
		return message{}, err
	}
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	id := strings.NewReplacer("/", ".", "@", ".").Replace(m.ID) + "@" + domain
	to := mail.Address{Name: m.Name, Address: address}
	var b bytes.Buffer
	for _, h := range [][2]string{
		{"From", from.String()},
		{"To", to.String()},
		{"Subject", mime.BEncoding.Encode("UTF-8", w.prefix+m.Subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", "<" + id + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=UTF-8"},
		{"Content-Transfer-Encoding", "base64"},
		{"Content-Language", m.Lang},
		{"X-Houqin-Notification", m.ID},
	} {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(m.Text("\r\n") + "\r\n" + m.Signature + "\r\n"))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return message{ID: id, From: from.Address, To: address, Subject: w.prefix + m.Subject, Body: b.Bytes()}, nil
}

// sendMail delivers m through the SMTP server of c: STARTTLS unless
// c.TLS says otherwise (a server that does not offer it is refused),
// AUTH PLAIN with the username, the whole conversation within c.Timeout.
func sendMail(ctx context.Context, c *EmailConfig, m message) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	tlsConfig := &tls.Config{ServerName: c.Host, RootCAs: c.roots, MinVersion: tls.VersionTLS12}
	if c.TLS == "tls" {
		conn = tls.Client(conn, tlsConfig)
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer cl.Close()
	if c.TLS == "starttls" {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp %s: the server offers no STARTTLS (set tls: none for a local relay)", addr)
		}
		if err := cl.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("smtp %s: STARTTLS: %w", addr, err)
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.password, c.Host)); err != nil {
			return fmt.Errorf("smtp %s: AUTH: %w", addr, err)
		}
	}
	if err := cl.Mail(m.From); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", addr, err)
	}
	if err := cl.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp %s: RCPT TO: %w", addr, err)
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", addr, err)
	}
	if _, err := w.Write(m.Body); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", addr, err)
	}
	return cl.Quit()
}
