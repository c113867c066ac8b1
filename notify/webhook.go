package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/houqin/houqin"
)

// Webhook is a generic HTTP endpoint of another system: each notification
// is POSTed as JSON, signed so the receiver can check it came from houqin
// and was not replayed: X-Houqin-Timestamp (Unix seconds) and
// X-Houqin-Signature "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." +
// body)); Idempotency-Key is the notification's ID, the same on a retry.
type Webhook struct {
	ID        string `yaml:"name"` // the channel is webhook:<name>
	URL       string `yaml:"url"`
	SecretEnv string `yaml:"secret_env"`
	Timeout   time.Duration

	secret string
}

// Name implements Channel.
func (w *Webhook) Name() string { return "webhook:" + w.ID }

// Address implements Channel: everyone, by user ID.
func (w *Webhook) Address(u houqin.User) (string, bool) { return u.ID, true }

// webhookBody is what a webhook receives.
type webhookBody struct {
	ID        string `json:"id"`
	Recipient string `json:"recipient"`
	Name      string `json:"recipient_name"`
	Lang      string `json:"lang"`
	Kind      string `json:"kind"`
	EventType string `json:"event_type"`
	ProcessID string `json:"process_id"`
	TaskID    string `json:"task_id,omitempty"`
	Title     string `json:"title"`
	Requester string `json:"requester"`
	Amount    int64  `json:"amount"`
	Step      string `json:"step,omitempty"`
	Subject   string `json:"subject"`
	Text      string `json:"text"`
	Link      string `json:"link"`
	At        string `json:"at"`
}

// Send implements Channel.
func (w *Webhook) Send(ctx context.Context, m Message, address string, now time.Time) error {
	body, err := json.Marshal(webhookBody{ID: m.ID, Recipient: address, Name: m.Name, Lang: m.Lang, Kind: m.N.Kind, EventType: m.N.EventType,
		ProcessID: m.N.ProcessID, TaskID: m.N.TaskID, Title: m.N.Title, Requester: m.N.Requester, Amount: m.N.Amount, Step: m.N.Step,
		Subject: m.Subject, Text: m.Text("\n"), Link: m.Link, At: m.N.At})
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(w.secret))
	mac.Write([]byte(ts + "." + string(body)))
	return post(ctx, w.URL, body, w.Timeout, map[string]string{"X-Houqin-Timestamp": ts,
		"X-Houqin-Signature": "sha256=" + hex.EncodeToString(mac.Sum(nil)), "Idempotency-Key": m.ID}, nil)
}

// Robot is a group robot of WeCom (企业微信), DingTalk (钉钉) or Feishu (飞书):
// a notification is posted to the group as text naming its recipient.
// DingTalk signs with timestamp and sign query parameters, Feishu with
// timestamp and sign fields in the body — each base64(HMAC-SHA256) over
// timestamp + "\n" + secret as its documentation says; WeCom's robot is
// authorised by the key in its URL. Departments, if given, limit the robot
// to the people of those departments.
type Robot struct {
	Kind        string   `yaml:"-"` // wecom | dingtalk | feishu
	URL         string   `yaml:"url"`
	URLEnv      string   `yaml:"url_env"` // the URL from the environment (a WeCom URL holds its key)
	SecretEnv   string   `yaml:"secret_env"`
	Departments []string `yaml:"departments"`
	Timeout     time.Duration

	secret string
}

// Name implements Channel.
func (r *Robot) Name() string { return r.Kind }

// Address implements Channel: the people of its departments (everyone by
// default), by user ID.
func (r *Robot) Address(u houqin.User) (string, bool) {
	return u.ID, len(r.Departments) == 0 || slices.Contains(r.Departments, u.Department)
}

// Send implements Channel.
func (r *Robot) Send(ctx context.Context, m Message, address string, now time.Time) error {
	// The recipient is @-mentioned by their ID in the robot's app where
	// the organisation file gives one (users[].im), else named.
	id := m.Recipient.IM[r.Kind]
	text := "@" + m.Name + " " + m.Subject + "\n" + m.Text("\n")
	target := r.URL
	var body any
	switch r.Kind {
	case "dingtalk":
		b := map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
		if id != "" {
			b["text"] = map[string]string{"content": "@" + id + " " + m.Subject + "\n" + m.Text("\n")}
			b["at"] = map[string]any{"atUserIds": []string{id}}
		}
		body = b
		if r.secret != "" {
			ts := strconv.FormatInt(now.UnixMilli(), 10)
			u, err := url.Parse(r.URL)
			if err != nil {
				return err
			}
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", sign(r.secret, ts+"\n"+r.secret))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case "feishu":
		if id != "" {
			text = `<at user_id="` + id + `">` + m.Name + "</at> " + m.Subject + "\n" + m.Text("\n")
		}
		b := map[string]any{"msg_type": "text", "content": map[string]string{"text": text}}
		if r.secret != "" {
			ts := strconv.FormatInt(now.Unix(), 10)
			b["timestamp"], b["sign"] = ts, sign(ts+"\n"+r.secret, "")
		}
		body = b
	default: // wecom
		t := map[string]any{"content": text}
		if id != "" {
			t["mentioned_list"] = []string{id}
		}
		body = map[string]any{"msgtype": "text", "text": t}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return post(ctx, target, raw, r.Timeout, nil, func(resp []byte) error {
		// Each answers 200 with its own error code: errcode (WeCom,
		// DingTalk) or code (Feishu), 0 when the message was taken.
		var out struct {
			ErrCode *int   `json:"errcode"`
			Code    *int   `json:"code"`
			ErrMsg  string `json:"errmsg"`
			Msg     string `json:"msg"`
		}
		if err := json.Unmarshal(resp, &out); err != nil {
			return fmt.Errorf("%s: an answer that is not JSON: %q", r.Kind, resp)
		}
		if out.ErrCode != nil && *out.ErrCode != 0 || out.Code != nil && *out.Code != 0 {
			return fmt.Errorf("%s refused the message: %s%s", r.Kind, out.ErrMsg, out.Msg)
		}
		return nil
	})
}

// sign is base64(HMAC-SHA256(key, msg)), the robots' signature.
func sign(key, msg string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// post POSTs body as JSON to target within timeout; a status other than
// 2xx, or check's verdict on the answer, is an error.
func post(ctx context.Context, target string, body []byte, timeout time.Duration, headers map[string]string, check func([]byte) error) error {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "houqin")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post to %s: %w", redact(target), err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post to %s: %s", redact(target), resp.Status)
	}
	if check != nil {
		return check(answer)
	}
	return nil
}

// redact drops the query (a robot's key or signature) from a URL for logs.
func redact(target string) string {
	if u, err := url.Parse(target); err == nil {
		u.RawQuery = ""
		return u.String()
	}
	return "the endpoint"
}
