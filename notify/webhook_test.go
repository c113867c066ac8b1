package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/config"
)

// robotServer stands in for a robot's endpoint: it checks each request as
// the vendor documents it, keeps the text of what it takes, and answers
// as the vendor does.
type robotServer struct {
	mu     sync.Mutex
	texts  []string
	errors []string
	answer string
}

func (s *robotServer) took(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, text)
}

func (s *robotServer) refuse(w http.ResponseWriter, why string) {
	s.mu.Lock()
	s.errors = append(s.errors, why)
	s.mu.Unlock()
	http.Error(w, why, http.StatusBadRequest)
}

func hmacB64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// recent says whether a timestamp (in units per second) is within a minute.
func recent(ts string, perSecond int64) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	return err == nil && time.Since(time.Unix(n/perSecond, 0)).Abs() < time.Minute
}

func dingtalk(t *testing.T, secret string) (*robotServer, string) {
	s := &robotServer{answer: `{"errcode":0,"errmsg":"ok"}`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ts := q.Get("timestamp")
		// 钉钉自定义机器人加签: sign = base64(HmacSHA256(secret, timestamp+"\n"+secret)), timestamp in ms.
		if q.Get("access_token") != "T0KEN" || !recent(ts, 1000) || q.Get("sign") != hmacB64(secret, ts+"\n"+secret) {
			s.refuse(w, "bad signature")
			return
		}
		var b struct {
			MsgType string            `json:"msgtype"`
			Text    map[string]string `json:"text"`
			At      struct {
				AtUserIDs []string `json:"atUserIds"`
			} `json:"at"`
		}
		if json.NewDecoder(r.Body).Decode(&b) != nil || b.MsgType != "text" {
			s.refuse(w, "bad body")
			return
		}
		s.took(b.Text["content"] + strings.Join(b.At.AtUserIDs, ","))
		io.WriteString(w, s.answer)
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL + "/robot/send?access_token=T0KEN"
}

func feishu(t *testing.T, secret string) (*robotServer, string) {
	s := &robotServer{answer: `{"code":0,"msg":"success"}`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Timestamp string            `json:"timestamp"`
			Sign      string            `json:"sign"`
			MsgType   string            `json:"msg_type"`
			Content   map[string]string `json:"content"`
		}
		// 飞书自定义机器人签名校验: sign = base64(HmacSHA256(key = timestamp+"\n"+secret, message = "")), timestamp in s.
		if json.NewDecoder(r.Body).Decode(&b) != nil || b.MsgType != "text" || !recent(b.Timestamp, 1) || b.Sign != hmacB64(b.Timestamp+"\n"+secret, "") {
			s.refuse(w, "bad signature")
			return
		}
		s.took(b.Content["text"])
		io.WriteString(w, s.answer)
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL + "/open-apis/bot/v2/hook/abc"
}

func wecom(t *testing.T) (*robotServer, string) {
	s := &robotServer{answer: `{"errcode":0,"errmsg":"ok"}`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			MsgType string `json:"msgtype"`
			Text    struct {
				Content   string   `json:"content"`
				Mentioned []string `json:"mentioned_list"`
			} `json:"text"`
		}
		if r.URL.Query().Get("key") != "K3Y" || json.NewDecoder(r.Body).Decode(&b) != nil || b.MsgType != "text" {
			s.refuse(w, "bad request")
			return
		}
		s.mu.Lock()
		answer := s.answer
		s.mu.Unlock()
		if strings.Contains(answer, `"errcode":0`) {
			s.took(b.Text.Content + strings.Join(b.Text.Mentioned, ","))
		}
		io.WriteString(w, answer) // 企业微信 answers 200 with its errcode either way
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL + "/cgi-bin/webhook/send?key=K3Y"
}

func generic(t *testing.T, secret string) (*robotServer, string) {
	s := &robotServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Houqin-Timestamp")
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(ts + "." + string(body)))
		var b webhookBody
		if !recent(ts, 1) || r.Header.Get("X-Houqin-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)) ||
			json.Unmarshal(body, &b) != nil || r.Header.Get("Idempotency-Key") != b.ID {
			s.refuse(w, "bad signature")
			return
		}
		s.took(b.Recipient + " " + b.ProcessID + " " + b.Link)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL + "/hooks/houqin"
}

// TestRobotsAndWebhooks: liu.yang's task goes to a DingTalk, a Feishu and a
// WeCom group robot and a generic webhook, each request signed as its
// endpoint documents and checked by a local stand-in; a robot limited to
// other departments skips him; a robot's error code is a failed attempt.
func TestRobotsAndWebhooks(t *testing.T) {
	ctx := context.Background()
	s, later := outbox(t)
	dt, dtURL := dingtalk(t, "SECdt")
	fs, fsURL := feishu(t, "SECfs")
	wc, wcURL := wecom(t)
	gh, ghURL := generic(t, "SECwh")
	s.Config.DingTalk = &Robot{Kind: "dingtalk", URL: dtURL, secret: "SECdt"}
	s.Config.Feishu = &Robot{Kind: "feishu", URL: fsURL, secret: "SECfs"}
	s.Config.WeCom = &Robot{Kind: "wecom", URL: wcURL}
	s.Config.Webhooks = []*Webhook{{ID: "ops", URL: ghURL, secret: "SECwh"}}
	wc.answer = `{"errcode":93000,"errmsg":"invalid webhook url"}`
	if n, err := s.Step(ctx); err != nil || n != 3 {
		t.Fatalf("Step = %d, %v; want 3 sent (WeCom refusing)", n, err)
	}
	for name, srv := range map[string]*robotServer{"dingtalk": dt, "feishu": fs} {
		if len(srv.errors) != 0 || len(srv.texts) != 1 || !strings.HasPrefix(srv.texts[0], "@刘洋 待办：Q1 打印纸 · 部门负责人审批\n") ||
			!strings.Contains(srv.texts[0], "http://houqin.test/processes/PR-2026-000001?task=PR-2026-000001.dept_approval.1") {
			t.Errorf("%s took %q (errors %v)", name, srv.texts, srv.errors)
		}
	}
	if len(gh.texts) != 1 || gh.texts[0] != "liu.yang PR-2026-000001 打开：http://houqin.test/processes/PR-2026-000001?task=PR-2026-000001.dept_approval.1" {
		t.Errorf("the webhook took %q (errors %v)", gh.texts, gh.errors)
	}
	ds, _ := Deliveries(ctx, s.DB)
	status := map[string]string{}
	for _, d := range ds {
		status[d.Channel] = d.Status + " " + d.LastError
	}
	if status["wecom"] != "pending wecom refused the message: invalid webhook url" || status["dingtalk"] != "sent " || status["webhook:ops"] != "sent " {
		t.Errorf("deliveries: %v", status)
	}
	// WeCom takes it on the retry; nothing else goes twice.
	wc.answer = `{"errcode":0,"errmsg":"ok"}`
	later()
	if n, err := s.Step(ctx); err != nil || n != 1 || len(wc.texts) != 1 || len(dt.texts) != 1 {
		t.Errorf("the retry sent %d (%v); WeCom took %d, DingTalk %d", n, err, len(wc.texts), len(dt.texts))
	}

	// A robot for finance only: liu.yang (marketing) is not on it.
	s2, _ := outbox(t)
	fin, finURL := dingtalk(t, "SECdt")
	s2.Config.DingTalk = &Robot{Kind: "dingtalk", URL: finURL, secret: "SECdt", Departments: []string{"FIN"}}
	if n, _ := s2.Step(ctx); n != 0 || len(fin.texts) != 0 {
		t.Errorf("a finance robot was sent %d for liu.yang", n)
	}
	if ds, _ := Deliveries(ctx, s2.DB); len(ds) != 1 || ds[0].Status != Skipped {
		t.Errorf("deliveries for a finance robot: %+v", ds)
	}
}

// TestRobotMentions: where the organisation file gives liu.yang's user ID
// in a robot's app, the robot @-mentions him by it: DingTalk in at.atUserIds
// and the text, WeCom in mentioned_list, Feishu with an <at> tag.
func TestRobotMentions(t *testing.T) {
	ctx := context.Background()
	s, _ := outbox(t)
	org, err := houqin.ParseOrg([]byte(strings.Replace(string(config.DefaultOrg()), "{id: liu.yang,",
		"{id: liu.yang, im: {dingtalk: lyang, wecom: LiuYang, feishu: ou_123},", 1)))
	if err != nil {
		t.Fatal(err)
	}
	s.Org = org
	dt, dtURL := dingtalk(t, "SECdt")
	fs, fsURL := feishu(t, "SECfs")
	wc, wcURL := wecom(t)
	s.Config.DingTalk = &Robot{Kind: "dingtalk", URL: dtURL, secret: "SECdt"}
	s.Config.Feishu = &Robot{Kind: "feishu", URL: fsURL, secret: "SECfs"}
	s.Config.WeCom = &Robot{Kind: "wecom", URL: wcURL}
	if n, err := s.Step(ctx); n != 3 || err != nil {
		t.Fatalf("sent %d (%v), want 3", n, err)
	}
	if len(dt.texts) != 1 || !strings.HasPrefix(dt.texts[0], "@lyang 待办：") || !strings.HasSuffix(dt.texts[0], "lyang") {
		t.Errorf("DingTalk took %q", dt.texts)
	}
	if len(wc.texts) != 1 || !strings.HasSuffix(wc.texts[0], "LiuYang") {
		t.Errorf("WeCom took %q", wc.texts)
	}
	if len(fs.texts) != 1 || !strings.HasPrefix(fs.texts[0], `<at user_id="ou_123">刘洋</at> 待办：`) {
		t.Errorf("Feishu took %q", fs.texts)
	}
}
