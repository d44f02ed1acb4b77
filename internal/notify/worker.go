// Package notify tells task owners about their work: it composes the
// messages the workflow writes to the store's outbox (Planner) and
// delivers them (Worker) by e-mail over SMTP and to chat webhooks, with
// retries and backoff. Several processes may run workers on one database:
// each message is leased to one of them, and a lease that expires (its
// worker died) makes it claimable again.
//
// No message, log line or error holds a secret: webhook URLs stay in the
// config (the outbox names their key), and the SMTP password and webhook
// URLs are scrubbed from anything stored or logged.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/store"
)

// Backoff of retries: from BaseBackoff, doubling, at most MaxBackoff.
const (
	BaseBackoff = 30 * time.Second
	MaxBackoff  = time.Hour
)

// Options tune a Worker.
type Options struct {
	Now   func() time.Time // the clock; required, as is Log
	Poll  time.Duration    // idle wait between passes; default 1 s
	Lease time.Duration    // how long a claimed message is ours; default 2 min
	Log   *slog.Logger
	HTTP  *http.Client // for webhooks; default a client with a 10 s timeout
	// Backoff overrides BaseBackoff (tests).
	Backoff time.Duration
}

// Worker delivers the outbox.
type Worker struct {
	st      Outbox
	cfg     config.Notifications
	mail    *Mailer
	opt     Options
	owner   string
	secrets []string
}

// NewWorker makes a worker for the notifications config.
func NewWorker(st Outbox, cfg config.Notifications, opt Options) (*Worker, error) {
	if opt.Log == nil {
		return nil, errors.New("notify.NewWorker: Options.Log is nil")
	}
	if opt.Now == nil {
		return nil, errors.New("notify.NewWorker: Options.Now is nil")
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Lease <= 0 {
		opt.Lease = 2 * time.Minute
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Backoff <= 0 {
		opt.Backoff = BaseBackoff
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 12
	}
	w := &Worker{st: st, cfg: cfg, opt: opt, secrets: cfg.Secrets()}
	if cfg.SMTP.Host != "" {
		m, err := NewMailer(cfg.SMTP)
		if err != nil {
			return nil, err
		}
		w.mail = m
	}
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	w.owner = fmt.Sprintf("notify:%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	return w, nil
}

// Job is the worker's background work for the runner: each pass claims
// the due messages and tries each once.
func (w *Worker) Job() runner.Job {
	return runner.Job{Name: "notify", RunOnce: w.RunOnce, Poll: w.opt.Poll, MaxBackoff: 30 * time.Second}
}

// RunOnce claims the due messages and tries each once; it returns how
// many it tried.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ns, err := w.st.ClaimNotifications(ctx, w.owner, w.opt.Now(), w.opt.Lease, 20)
	if err != nil {
		return 0, errors.New(w.Scrub(err.Error()))
	}
	var errs []error
	for _, n := range ns {
		r := w.attempt(ctx, n)
		switch r.State {
		case store.NotifySent:
			w.opt.Log.Info("notify: sent", "notification", n.ID, "kind", n.Kind, "channel", n.Channel, "recipient", n.Recipient, "address", n.Address)
		case store.NotifyFailed:
			w.opt.Log.Error("notify: given up", "notification", n.ID, "kind", n.Kind, "channel", n.Channel, "recipient", n.Recipient,
				"address", n.Address, "attempts", n.Attempts+1, "err", r.Error)
		default:
			w.opt.Log.Warn("notify: will retry", "notification", n.ID, "channel", n.Channel, "recipient", n.Recipient,
				"address", n.Address, "attempts", n.Attempts+1, "retry_at", r.NotBefore, "err", r.Error)
		}
		if err := Finish(ctx, w.st, n.ID, w.owner, w.opt.Now(), r); err != nil && !errors.Is(err, store.ErrConflict) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return len(ns), errors.New(w.Scrub(err.Error())) // the runner logs it
	}
	return len(ns), nil
}

// attempt tries one message and says how it ended.
func (w *Worker) attempt(ctx context.Context, n store.Notification) store.NotificationResult {
	err := w.deliver(ctx, n)
	if err == nil {
		return store.NotificationResult{State: store.NotifySent}
	}
	msg := w.Scrub(err.Error())
	attempts := n.Attempts + 1
	if Permanent(err) || attempts >= w.cfg.MaxAttempts {
		return store.NotificationResult{State: store.NotifyFailed, Error: msg}
	}
	wait := w.opt.Backoff << min(attempts-1, 20)
	if wait > MaxBackoff || wait <= 0 {
		wait = MaxBackoff
	}
	var ra retryAfterError
	if errors.As(err, &ra) && ra.after > wait {
		wait = min(ra.after, MaxBackoff)
	}
	return store.NotificationResult{State: store.NotifyPending, Error: msg, NotBefore: w.opt.Now().Add(wait)}
}

func (w *Worker) deliver(ctx context.Context, n store.Notification) error {
	switch n.Channel {
	case store.ChannelEmail:
		if w.mail == nil {
			return permanentError{errors.New("notifications.smtp.host is not configured")}
		}
		return w.mail.Send(ctx, Message{ID: fmt.Sprintf("tango-notification-%d", n.ID), To: n.Address,
			Subject: w.Scrub(n.Subject), Body: w.Scrub(n.Body), Date: w.opt.Now()})
	case store.ChannelWebhook:
		team, ok := webhookTeam(n.Address)
		url := w.cfg.Teams[team].Webhook
		if !ok || url == "" {
			return permanentError{fmt.Errorf("%s is not configured", n.Address)}
		}
		// HR data in the text (names, titles) must not ping, link or
		// format: the chat gets it escaped, the e-mail as written.
		return PostChat(ctx, w.opt.HTTP, n.Address, url, EscapeChat(w.Scrub(n.Subject+"\n"+n.Body)))
	}
	return permanentError{fmt.Errorf("channel %q: want email or webhook", n.Channel)}
}

// Scrub replaces every configured secret in s.
func (w *Worker) Scrub(s string) string { return Scrub(s, w.secrets) }

// Scrub replaces each secret in s with "[redacted]".
func Scrub(s string, secrets []string) string {
	for _, x := range secrets {
		if len(x) >= 4 {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	return s
}

const webhookPrefix, webhookSuffix = "notifications.teams.", ".webhook"

// webhookKey is the config key of a team's webhook, as the outbox names it.
func webhookKey(team string) string { return webhookPrefix + team + webhookSuffix }

func webhookTeam(key string) (string, bool) {
	t, ok := strings.CutPrefix(key, webhookPrefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(t, webhookSuffix)
}
