// Package notify delivers the notifications the notifications projection
// writes (docs/NOTIFICATIONS.md) to people's channels: email over SMTP
// today. The notifications table is the outbox; a delivery row per
// notification and channel records each attempt, so a restart resumes
// where the last run stopped and a message is sent once.
package notify

import (
	"crypto/x509"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/houqin/houqin"
)

// Config is the notifications file (--notify-config): where links point
// and the channels.
type Config struct {
	// PublicURL is the web app's address, for the links in messages:
	// https://houqin.example.com.
	PublicURL string `yaml:"public_url"`
	// Email is the SMTP channel; nil: no email.
	Email *EmailConfig `yaml:"email"`
	// Webhooks are generic HTTP endpoints, each its own channel.
	Webhooks []*Webhook `yaml:"webhooks"`
	// The group robots: 钉钉, 企业微信, 飞书.
	DingTalk *Robot `yaml:"dingtalk"`
	WeCom    *Robot `yaml:"wecom"`
	Feishu   *Robot `yaml:"feishu"`
	// MaxAttempts is how many times a message is tried before it is
	// dead-lettered; default 6.
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is the wait after the first failure, doubled after each
	// (at most an hour); default 2s.
	Backoff time.Duration `yaml:"backoff"`
	// Interval is how often the sender looks for work; default 1s.
	Interval time.Duration `yaml:"interval"`
}

// EmailConfig is an SMTP server to send through.
type EmailConfig struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default 587
	// From is the sender: "后勤 <houqin@example.com>".
	From     string `yaml:"from"`
	Username string `yaml:"username"`
	// PasswordEnv names the environment variable holding the password:
	// secrets never sit in the file.
	PasswordEnv string `yaml:"password_env"`
	// TLS: "starttls" (the default: refuse a server that does not offer
	// it), "tls" (implicit TLS, port 465) or "none" (a local relay).
	TLS string `yaml:"tls"`
	// Timeout bounds a whole delivery; default 30s.
	Timeout time.Duration `yaml:"timeout"`

	password string
	roots    *x509.CertPool // the CAs the server's certificate is checked against; nil: the system's (tests set theirs)
}

// ParseConfig reads a notifications file, its secrets from the
// environment, and reports as EINVALID, naming the field, what is wrong.
func ParseConfig(name string, src []byte) (Config, error) {
	var c Config
	if err := yaml.UnmarshalWithOptions(src, &c, yaml.Strict()); err != nil {
		return Config{}, houqin.Errorf(houqin.EINVALID, "%s: %s", name, err)
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 6
	}
	if c.Backoff == 0 {
		c.Backoff = 2 * time.Second
	}
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	switch {
	case c.PublicURL == "" || !strings.HasPrefix(c.PublicURL, "http"):
		return Config{}, houqin.Errorf(houqin.EINVALID, "%s: public_url: the web app's address, http(s)://…, got %q", name, c.PublicURL)
	case c.MaxAttempts < 1 || c.MaxAttempts > 100:
		return Config{}, houqin.Errorf(houqin.EINVALID, "%s: max_attempts: 1 to 100, got %d", name, c.MaxAttempts)
	case c.Backoff < 0 || c.Interval < 0:
		return Config{}, houqin.Errorf(houqin.EINVALID, "%s: backoff and interval must not be negative", name)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if e := c.Email; e != nil {
		if e.Port == 0 {
			e.Port = 587
		}
		if e.TLS == "" {
			e.TLS = "starttls"
		}
		if e.Timeout == 0 {
			e.Timeout = 30 * time.Second
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			return Config{}, houqin.Errorf(houqin.EINVALID, "%s: email.from: %q is not an address such as \"后勤 <houqin@example.com>\"", name, e.From)
		}
		switch {
		case e.Host == "":
			return Config{}, houqin.Errorf(houqin.EINVALID, "%s: email.host: required", name)
		case e.TLS != "starttls" && e.TLS != "tls" && e.TLS != "none":
			return Config{}, houqin.Errorf(houqin.EINVALID, "%s: email.tls: starttls, tls or none, got %q", name, e.TLS)
		case e.Username != "" && e.PasswordEnv == "":
			return Config{}, houqin.Errorf(houqin.EINVALID, "%s: email.password_env: required with a username (the variable holding the password)", name)
		}
		if e.PasswordEnv != "" {
			if e.password = os.Getenv(e.PasswordEnv); e.password == "" {
				return Config{}, houqin.Errorf(houqin.EINVALID, "%s: email.password_env: %s is not set", name, e.PasswordEnv)
			}
		}
	}
	seen := map[string]bool{}
	for i, w := range c.Webhooks {
		field := fmt.Sprintf("webhooks[%d]", i)
		switch {
		case w.ID == "" || seen[w.ID]:
			return Config{}, houqin.Errorf(houqin.EINVALID, "%s: %s.name: required, and each once", name, field)
		case !strings.HasPrefix(w.URL, "http"):
			return Config{}, houqin.Errorf(houqin.EINVALID, "%s: %s.url: http(s)://…, got %q", name, field, w.URL)
		case w.SecretEnv == "" || os.Getenv(w.SecretEnv) == "":
			return Config{}, houqin.Errorf(houqin.EINVALID, "%s: %s.secret_env: the variable holding the signing secret, set", name, field)
		}
		seen[w.ID], w.secret = true, os.Getenv(w.SecretEnv)
	}
	for kind, r := range map[string]*Robot{"dingtalk": c.DingTalk, "wecom": c.WeCom, "feishu": c.Feishu} {
		if r == nil {
			continue
		}
		r.Kind = kind
		if r.URLEnv != "" {
			r.URL = os.Getenv(r.URLEnv)
		}
		if !strings.HasPrefix(r.URL, "http") {
			return Config{}, houqin.Errorf(houqin.EINVALID, "%s: %s.url: the robot's webhook, http(s)://… (or url_env naming the variable that holds it)", name, kind)
		}
		if r.SecretEnv != "" {
			if r.secret = os.Getenv(r.SecretEnv); r.secret == "" {
				return Config{}, houqin.Errorf(houqin.EINVALID, "%s: %s.secret_env: %s is not set", name, kind, r.SecretEnv)
			}
		}
	}
	return c, nil
}

// LoadConfig reads the notifications file at path.
func LoadConfig(path string) (Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("notifications: %w", err)
	}
	return ParseConfig(path, src)
}
