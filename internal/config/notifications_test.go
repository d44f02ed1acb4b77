package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNotificationsConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook"), []byte("https://chat.example/hooks/T1/SECRET-FROM-FILE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TANGO_TEST_SMTP_PW", "smtp-pw-from-env")
	doc := `
notifications:
  smtp: {host: mail.dtaa.com, from: "Tango <tango@dtaa.com>", username: tango, password: '${env:TANGO_TEST_SMTP_PW}'}
  reminder_before: 6h
  teams:
    it: {email: it@dtaa.com, webhook: '${file:hook}', lead: [it-lead@dtaa.com, cio@dtaa.com]}
    hr: {email: [hr@dtaa.com, people@dtaa.com]}
`
	c, err := Parse([]byte(doc), filepath.Join(dir, "tango.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notifications
	if n.SMTP.Password != "smtp-pw-from-env" || n.SMTP.Port != 587 || n.SMTP.TLS != SMTPStartTLS || n.MaxAttempts != 12 {
		t.Fatalf("smtp %+v", n.SMTP)
	}
	if n.Teams["it"].Webhook != "https://chat.example/hooks/T1/SECRET-FROM-FILE" || len(n.Teams["it"].Lead) != 2 || len(n.Teams["hr"].Email) != 2 || n.Teams["it"].Email[0] != "it@dtaa.com" {
		t.Fatalf("teams %+v", n.Teams)
	}
	if !n.Enabled() || n.Reminder() != 6*time.Hour || len(n.Secrets()) != 2 {
		t.Fatalf("enabled %v, reminder %v, secrets %d", n.Enabled(), n.Reminder(), len(n.Secrets()))
	}
	off, err := Parse([]byte(`notifications: {reminder_before: 0s}`), "t.yaml")
	if err != nil || off.Notifications.Reminder() != 0 || off.Notifications.Enabled() {
		t.Fatalf("reminders off: %+v, %v", off.Notifications, err)
	}
	if d := Default().Notifications; d.Enabled() || d.Reminder() != DefaultReminderBefore {
		t.Fatalf("default: %+v", d)
	}
}

func TestNotificationsErrorsNameTheKeyNotTheSecret(t *testing.T) {
	cases := map[string]string{
		`notifications: {smtp: {host: m, from: x@y.z, tls: maybe}}`:                 `notifications.smtp.tls "maybe"`,
		`notifications: {smtp: {host: m}}`:                                          `notifications.smtp.from is required`,
		`notifications: {smtp: {host: m, from: "not an address"}}`:                  `notifications.smtp.from "not an address"`,
		`notifications: {smtp: {host: m, from: a@b.c, password: pw}}`:               `a password needs a username`,
		`notifications: {teams: {it: {email: it@dtaa.com}}}`:                        `notifications.teams.it.email: e-mail needs notifications.smtp.host`,
		`notifications: {smtp: {host: m, from: a@b.c}, teams: {hr: {lead: "bad"}}}`: `notifications.teams.hr.lead "bad"`,
		`notifications: {teams: {it: {webhook: "ftp://x/TOPSECRET"}}}`:              `notifications.teams.it.webhook: not an http(s) URL`,
	}
	for doc, want := range cases {
		_, err := Parse([]byte(doc), "tango.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", doc, err, want)
			continue
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%s: the error shows the webhook URL: %v", doc, err)
		}
	}
}
