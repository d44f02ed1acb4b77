package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Notifications is the `notifications:` section: how task owners are told
// about their work, by e-mail over SMTP and by chat webhooks.
type Notifications struct {
	SMTP SMTP `yaml:"smtp"`
	// Teams maps a team name (hr, it, security, an app owner) to where its
	// messages go.
	Teams map[string]TeamContact `yaml:"teams"`
	// ReminderBefore is how long before a task's deadline its owner is
	// reminded (default 24h; "0s" turns reminders off).
	ReminderBefore *time.Duration `yaml:"reminder_before"`
	// MaxAttempts is how often a message is tried before it is given up
	// (default 12); retries back off from 30 s, doubling, to 1 h.
	MaxAttempts int `yaml:"max_attempts"`
}

// SMTP is the mail server messages are sent through.
type SMTP struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default 587 (465 with tls: implicit)
	From string `yaml:"from"`
	// Username and Password authenticate (PLAIN); give the password as
	// ${env:NAME} or ${file:PATH}.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// TLS: "starttls" (default: STARTTLS when the server offers it, and
	// required before credentials are sent), "required" (STARTTLS or
	// fail), "implicit" (TLS from the first byte, port 465) or "none".
	TLS string `yaml:"tls"`
	// CAFile is a PEM file of the CAs the server's certificate must chain
	// to; empty: the system's.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds one delivery (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// TeamContact is where a team's messages go.
type TeamContact struct {
	Email Addresses `yaml:"email"`
	// Webhook is a chat incoming-webhook URL (Slack, Mattermost, Teams,
	// Google Chat…) that receives {"text": …}; it usually holds a secret,
	// so give it as ${env:NAME} or ${file:PATH}. It is never logged.
	Webhook string `yaml:"webhook"`
	// Lead is who the team's overdue tasks escalate to; empty: the team.
	Lead Addresses `yaml:"lead"`
}

// Addresses is one e-mail address or a list of them.
type Addresses []string

// UnmarshalYAML accepts a string or a list of strings.
func (a *Addresses) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if s := strings.TrimSpace(n.Value); s != "" {
			*a = Addresses{s}
		}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*a = l
	return nil
}

// TLS modes of SMTP.
const (
	SMTPStartTLS = "starttls"
	SMTPRequired = "required"
	SMTPImplicit = "implicit"
	SMTPNone     = "none"
)

// DefaultReminderBefore is when owners are reminded unless configured.
const DefaultReminderBefore = 24 * time.Hour

// Enabled reports whether any channel is configured.
func (n *Notifications) Enabled() bool {
	if n.SMTP.Host != "" {
		return true
	}
	for _, t := range n.Teams {
		if t.Webhook != "" {
			return true
		}
	}
	return false
}

// Reminder is how long before a deadline owners are reminded; 0: never.
func (n *Notifications) Reminder() time.Duration {
	if n.ReminderBefore == nil {
		return DefaultReminderBefore
	}
	return max(0, *n.ReminderBefore)
}

// Secrets lists the configured secret values (the SMTP password and the
// webhook URLs), for scrubbing them from anything shown.
func (n *Notifications) Secrets() []string {
	var out []string
	if n.SMTP.Password != "" {
		out = append(out, n.SMTP.Password)
	}
	for _, t := range n.Teams {
		if t.Webhook != "" {
			out = append(out, t.Webhook)
		}
	}
	return out
}

func (n *Notifications) expand(f func(string) string) {
	s := &n.SMTP
	s.Host, s.From, s.Username, s.Password, s.CAFile = f(s.Host), f(s.From), f(s.Username), f(s.Password), f(s.CAFile)
	for name, t := range n.Teams {
		t.Webhook = f(t.Webhook)
		for i := range t.Email {
			t.Email[i] = f(t.Email[i])
		}
		for i := range t.Lead {
			t.Lead[i] = f(t.Lead[i])
		}
		n.Teams[name] = t
	}
}

func (n *Notifications) finish() error {
	s := &n.SMTP
	switch s.TLS {
	case "":
		s.TLS = SMTPStartTLS
	case SMTPStartTLS, SMTPRequired, SMTPImplicit, SMTPNone:
	default:
		return fmt.Errorf("notifications.smtp.tls %q: want starttls, required, implicit or none", s.TLS)
	}
	if s.Port == 0 {
		s.Port = 587
		if s.TLS == SMTPImplicit {
			s.Port = 465
		}
	}
	if s.Timeout <= 0 {
		s.Timeout = 30 * time.Second
	}
	if n.MaxAttempts <= 0 {
		n.MaxAttempts = 12
	}
	if s.Host != "" {
		if s.Port < 1 || s.Port > 65535 {
			return fmt.Errorf("notifications.smtp.port %d: want 1-65535", s.Port)
		}
		if s.From == "" {
			return fmt.Errorf("notifications.smtp.from is required: the sender address of every message")
		}
		if _, err := mail.ParseAddress(s.From); err != nil {
			return fmt.Errorf("notifications.smtp.from %q: %v", s.From, err)
		}
		if s.Password != "" && s.Username == "" {
			return fmt.Errorf("notifications.smtp: a password needs a username")
		}
		if s.CAFile != "" {
			if _, err := os.Stat(s.CAFile); err != nil {
				return fmt.Errorf("notifications.smtp.ca_file: %w", err)
			}
		}
	}
	names := make([]string, 0, len(n.Teams))
	for name := range n.Teams {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := n.Teams[name]
		where := "notifications.teams." + name
		for _, l := range []struct {
			key   string
			addrs Addresses
		}{{"email", t.Email}, {"lead", t.Lead}} {
			for _, a := range l.addrs {
				if _, err := mail.ParseAddress(a); err != nil {
					return fmt.Errorf("%s.%s %q: %v", where, l.key, a, err)
				}
			}
			if len(l.addrs) > 0 && s.Host == "" {
				return fmt.Errorf("%s.%s: e-mail needs notifications.smtp.host", where, l.key)
			}
		}
		if t.Webhook != "" {
			// The URL holds a secret: the error names the key, not the value.
			u, err := url.Parse(t.Webhook)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("%s.webhook: not an http(s) URL (value not shown: it may hold a secret)", where)
			}
		}
	}
	return nil
}
