package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/testenv"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// chatReceiver is a chat tool's incoming webhook: it records the JSON
// bodies posted to its secret path and answers with the armed statuses.
type chatReceiver struct {
	*httptest.Server
	Path string

	mu       sync.Mutex
	got      []Chat
	statuses []int
}

func newChatReceiver(t *testing.T) *chatReceiver {
	r := &chatReceiver{Path: "/hooks/T000/B000/XOXB-SECRET-" + strings.Repeat("z", 8)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != r.Path || req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var c Chat
		dec := json.NewDecoder(req.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil || c.Text == "" {
			http.Error(w, "want {\"text\": …}", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.statuses) > 0 {
			st := r.statuses[0]
			r.statuses = r.statuses[1:]
			w.WriteHeader(st)
			return
		}
		r.got = append(r.got, c)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *chatReceiver) URL() string { return r.Server.URL + r.Path }
func (r *chatReceiver) fail(statuses ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, statuses...)
}
func (r *chatReceiver) messages() []Chat {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Chat(nil), r.got...)
}

type fixture struct {
	st   store.Store
	smtp *testenv.SMTPServer
	chat *chatReceiver
	cfg  config.Notifications
	clk  *clock
	logs *bytes.Buffer
	w    *Worker
}

func newFixture(t *testing.T, o testenv.SMTPOptions, tlsMode string) *fixture {
	t.Helper()
	f := &fixture{st: openStore(t), smtp: testenv.StartSMTPServer(t, o), chat: newChatReceiver(t), clk: newClock(), logs: &bytes.Buffer{}}
	f.cfg = config.Notifications{
		SMTP: config.SMTP{Host: "127.0.0.1", Port: f.smtp.Port, From: "Tango <tango@dtaa.com>", Username: f.smtp.User,
			Password: f.smtp.Password, TLS: tlsMode, CAFile: f.smtp.CAFile, Timeout: 10 * time.Second},
		Teams:       map[string]config.TeamContact{"it": {Email: config.Addresses{"it-ops@dtaa.com"}, Webhook: f.chat.URL()}},
		MaxAttempts: 3,
	}
	var err error
	f.w, err = NewWorker(f.st, f.cfg, Options{Now: f.clk.Now, Log: slog.New(slog.NewTextHandler(f.logs, nil)), Backoff: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) queue(t *testing.T, ns ...store.Notification) []store.Notification {
	t.Helper()
	for i := range ns {
		ns[i].CreatedAt = f.clk.Now()
	}
	q, err := f.st.QueueNotifications(context.Background(), ns)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// drain runs the worker until nothing is due (bounded).
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	for range 10 {
		n, err := f.w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the worker kept finding due messages")
}

func (f *fixture) get(t *testing.T, id int64) store.Notification {
	t.Helper()
	ns, err := f.st.Notifications(context.Background(), store.NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("notification %d not found", id)
	return store.Notification{}
}

// assertNoSecret fails when a configured secret shows in any of texts.
func (f *fixture) assertNoSecret(t *testing.T, where string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, secret := range []string{f.cfg.SMTP.Password, f.chat.Path, "XOXB-SECRET"} {
			if secret != "" && strings.Contains(s, secret) {
				t.Errorf("%s holds a secret (%q): %s", where, secret, s)
			}
		}
	}
}

func decodeBody(t *testing.T, raw string) (headers, body string) {
	t.Helper()
	h, b, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no header/body separator in %q", raw)
	}
	dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	return h, string(dec)
}

func TestEmailAndChatDelivered(t *testing.T) {
	f := newFixture(t, testenv.SMTPOptions{Auth: true, TLS: true}, config.SMTPStartTLS)
	// A body that (wrongly) quotes the secrets: they must not leave Tango.
	leaky := "Laptop for Zoë Ångström (E1).\nDebug: password=" + f.cfg.SMTP.Password + " hook=" + f.chat.URL() + "\n"
	q := f.queue(t,
		store.Notification{Kind: store.NotifyAssigned, Channel: store.ChannelEmail, Recipient: "team:it", Address: "it-ops@dtaa.com",
			Subject: "[Tango] 1 new task(s): Zoë Ångström (E1) leaves", Body: leaky},
		store.Notification{Kind: store.NotifyAssigned, Channel: store.ChannelWebhook, Recipient: "team:it", Address: webhookKey("it"),
			Subject: "[Tango] 1 new task(s): Zoë Ångström (E1) leaves", Body: leaky})
	f.drain(t)
	ms := f.smtp.WaitMessages(t, 1, 10*time.Second)
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1", len(ms))
	}
	m := ms[0]
	if m.From != "tango@dtaa.com" || len(m.To) != 1 || m.To[0] != "it-ops@dtaa.com" || !m.Secure || m.User != f.smtp.User {
		t.Fatalf("envelope %+v: want from tango@dtaa.com to it-ops@dtaa.com over STARTTLS as %s", m, f.smtp.User)
	}
	headers, body := decodeBody(t, m.Raw)
	var subject string
	for _, l := range strings.Split(headers, "\r\n") {
		if v, ok := strings.CutPrefix(l, "Subject: "); ok {
			subject, _ = new(mime.WordDecoder).DecodeHeader(v)
		}
	}
	if subject != "[Tango] 1 new task(s): Zoë Ångström (E1) leaves" {
		t.Errorf("subject %q", subject)
	}
	if !strings.Contains(headers, "Message-ID: <tango-notification-") || !strings.Contains(headers, "Auto-Submitted: auto-generated") {
		t.Errorf("headers %q", headers)
	}
	if !strings.Contains(body, "Laptop for Zoë Ångström (E1).") || !strings.Contains(body, "[redacted]") {
		t.Errorf("body %q", body)
	}
	f.assertNoSecret(t, "the e-mail", m.Raw, body)
	chats := f.chat.messages()
	if len(chats) != 1 || !strings.HasPrefix(chats[0].Text, "[Tango] 1 new task(s): Zoë Ångström (E1) leaves\nLaptop for") {
		t.Fatalf("chat messages %+v", chats)
	}
	f.assertNoSecret(t, "the chat message", chats[0].Text)
	for _, n := range q {
		got := f.get(t, n.ID)
		if got.State != store.NotifySent || got.Attempts != 1 || !got.SentAt.Equal(f.clk.Now()) {
			t.Errorf("notification %d: %+v, want sent after 1 attempt", n.ID, got)
		}
	}
	f.assertNoSecret(t, "the log", f.logs.String())
}

func TestOutboxKeepsMessagesWhileSMTPIsDown(t *testing.T) {
	f := newFixture(t, testenv.SMTPOptions{Auth: true, TLS: true}, config.SMTPRequired)
	f.smtp.Stop(t)
	q := f.queue(t, store.Notification{Kind: store.NotifyReminder, Channel: store.ChannelEmail, Recipient: "person:M1",
		Address: "m1@dtaa.com", Subject: "[Tango] Due in 24h0m0s: Attest", Body: "Task 7: Attest\n"})
	f.drain(t)
	n := f.get(t, q[0].ID)
	if n.State != store.NotifyPending || n.Attempts != 1 || !strings.Contains(n.LastError, "connection refused") ||
		!n.NotBefore.Equal(f.clk.Now().Add(time.Minute)) {
		t.Fatalf("while the server is down: %+v; want pending, retried in 1m with the error", n)
	}
	// Not due again before its backoff passed.
	if k, _ := f.w.RunOnce(context.Background()); k != 0 {
		t.Fatalf("tried again %d message(s) before the backoff passed", k)
	}
	f.smtp.Start(t)
	f.clk.Add(time.Minute)
	f.drain(t)
	ms := f.smtp.WaitMessages(t, 1, 10*time.Second)
	if len(ms) != 1 || ms[0].To[0] != "m1@dtaa.com" || !ms[0].Secure {
		t.Fatalf("after the server came back: %+v", ms)
	}
	if n := f.get(t, q[0].ID); n.State != store.NotifySent || n.Attempts != 2 {
		t.Fatalf("after delivery: %+v", n)
	}
	f.assertNoSecret(t, "the log", f.logs.String())
}

func TestRefusalsRetryOrGiveUp(t *testing.T) {
	f := newFixture(t, testenv.SMTPOptions{}, config.SMTPStartTLS) // no TLS offered, no AUTH: plain delivery
	f.cfg.SMTP.Username, f.cfg.SMTP.Password = "", ""
	mail := func(subject string) store.Notification {
		return store.Notification{Kind: store.NotifyStep, Channel: store.ChannelEmail, Recipient: "team:it", Address: "it-ops@dtaa.com", Subject: subject, Body: "x\n"}
	}
	// 451: try later; then it goes through.
	f.smtp.Fail(t, 451, 1)
	a := f.queue(t, mail("A"))[0]
	f.drain(t)
	if n := f.get(t, a.ID); n.State != store.NotifyPending || !strings.Contains(n.LastError, "451") {
		t.Fatalf("after 451: %+v", n)
	}
	f.clk.Add(time.Minute)
	f.drain(t)
	if n := f.get(t, a.ID); n.State != store.NotifySent {
		t.Fatalf("after the retry: %+v", n)
	}
	if ms := f.smtp.Messages(t); len(ms) != 1 || ms[0].Secure {
		t.Fatalf("messages %+v: want one, in clear (no STARTTLS offered)", ms)
	}
	// 550: given up at once.
	f.smtp.Fail(t, 550, 1)
	b := f.queue(t, mail("B"))[0]
	f.drain(t)
	if n := f.get(t, b.ID); n.State != store.NotifyFailed || n.Attempts != 1 || !strings.Contains(n.LastError, "550") {
		t.Fatalf("after 550: %+v", n)
	}
	// A webhook answering 500 is retried up to max_attempts, a 404 given up.
	f.chat.fail(500, 500, 500)
	c := f.queue(t, store.Notification{Kind: store.NotifyStep, Channel: store.ChannelWebhook, Recipient: "team:it", Address: webhookKey("it"), Subject: "C", Body: "c"})[0]
	for i := range 3 {
		f.drain(t)
		f.clk.Add(time.Duration(1<<i) * time.Minute)
	}
	if n := f.get(t, c.ID); n.State != store.NotifyFailed || n.Attempts != 3 || n.LastError != "notifications.teams.it.webhook: HTTP 500" {
		t.Fatalf("after 3 answers of 500: %+v", n)
	}
	f.chat.fail(404)
	d := f.queue(t, store.Notification{Kind: store.NotifyStep, Channel: store.ChannelWebhook, Recipient: "team:it", Address: webhookKey("it"), Subject: "D", Body: "d"})[0]
	f.drain(t)
	if n := f.get(t, d.ID); n.State != store.NotifyFailed || n.Attempts != 1 {
		t.Fatalf("after 404: %+v", n)
	}
	// A team whose webhook left the config: given up, naming the key.
	e := f.queue(t, store.Notification{Kind: store.NotifyStep, Channel: store.ChannelWebhook, Recipient: "team:hr", Address: webhookKey("hr"), Subject: "E", Body: "e"})[0]
	f.drain(t)
	if n := f.get(t, e.ID); n.State != store.NotifyFailed || n.LastError != "notifications.teams.hr.webhook is not configured" {
		t.Fatalf("unconfigured webhook: %+v", n)
	}
	all, _ := f.st.Notifications(context.Background(), store.NotificationFilter{})
	for _, n := range all {
		f.assertNoSecret(t, "notification "+n.LastError, n.LastError)
	}
	f.assertNoSecret(t, "the log", f.logs.String())
}

func TestCredentialsNeverSentInClear(t *testing.T) {
	// The server offers no STARTTLS; with a username, Tango refuses to
	// send rather than authenticate in clear.
	f := newFixture(t, testenv.SMTPOptions{}, config.SMTPStartTLS)
	f.cfg.SMTP.Username, f.cfg.SMTP.Password = "tango", "pw-"+strings.Repeat("s", 12)
	w, err := NewWorker(f.st, f.cfg, Options{Now: f.clk.Now, Log: slog.New(slog.NewTextHandler(f.logs, nil)), Backoff: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	q := f.queue(t, store.Notification{Kind: store.NotifyStep, Channel: store.ChannelEmail, Recipient: "team:it", Address: "it-ops@dtaa.com", Subject: "S", Body: "b"})
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := f.get(t, q[0].ID)
	if n.State != store.NotifyPending || !strings.Contains(n.LastError, "does not offer STARTTLS") || strings.Contains(n.LastError, f.cfg.SMTP.Password) {
		t.Fatalf("without STARTTLS: %+v", n)
	}
	if ms := f.smtp.Messages(t); len(ms) != 0 {
		t.Fatalf("delivered in clear: %+v", ms)
	}
}

func TestScrub(t *testing.T) {
	if got := Scrub("a hunter22 b https://x/y", []string{"hunter22", "https://x/y", "ab"}); got != "a [redacted] b [redacted]" {
		t.Fatalf("scrub: %q", got)
	}
}
