package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

const staffHeader = "user_id,employee_name,email,role,department,team,business_unit,functional_unit,projects,supervisor\n"

func (f *fixture) importCSV(t *testing.T, name, rows string) {
	t.Helper()
	src, _ := f.cfg.Source("")
	res, err := hr.ImportFile(context.Background(), f.st, f.cfg, src, name, []byte(staffHeader+rows), hr.Options{Actor: "test", Now: f.clk.Now})
	if err != nil || res.Status != store.ImportApplied {
		t.Fatalf("import %s: %+v, %v", name, res, err)
	}
}

// TestNotificationsOfALeaverCase follows one leaver: the case's owners are
// told by e-mail and chat in the case's own transaction, the manager's
// notify step is done only once its message was delivered (not while the
// mail server is down), an owner is reminded before a deadline and the
// team lead told at escalation; no secret is in any message.
func TestNotificationsOfALeaverCase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	smtp := testenv.StartSMTPServer(t, testenv.SMTPOptions{Auth: true, TLS: true})
	var mu sync.Mutex
	var chats []string
	hookPath := "/services/T1/B2/SECRET-hook-token"
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Text string `json:"text"`
		}
		if r.URL.Path != hookPath || json.NewDecoder(r.Body).Decode(&body) != nil || body.Text == "" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		mu.Lock()
		chats = append(chats, body.Text)
		mu.Unlock()
	}))
	defer chat.Close()

	f.cfg.Sources[0].Safeguards.MaxLeavers = "50%"
	f.cfg.Notifications = config.Notifications{
		SMTP: config.SMTP{Host: "127.0.0.1", Port: smtp.Port, From: "tango@dtaa.com", Username: smtp.User, Password: smtp.Password,
			TLS: config.SMTPRequired, CAFile: smtp.CAFile, Timeout: 10 * time.Second},
		Teams: map[string]config.TeamContact{
			"security": {Email: config.Addresses{"soc@dtaa.com"}, Webhook: chat.URL + hookPath, Lead: config.Addresses{"ciso@dtaa.com"}},
			"hr":       {Email: config.Addresses{"hr@dtaa.com"}},
		},
		MaxAttempts: 5,
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var err error
	if f.wf, err = New(f.st, f.cfg, Options{Now: f.clk.Now, Log: log}); err != nil {
		t.Fatal(err)
	}
	worker, err := notify.NewWorker(f.st, f.cfg.Notifications, notify.Options{Now: f.clk.Now, Log: log, Backoff: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	drain := func() {
		t.Helper()
		for range 10 {
			if n, err := worker.RunOnce(ctx); err != nil {
				t.Fatal(err)
			} else if n == 0 {
				return
			}
		}
	}
	step := func() {
		t.Helper()
		if _, err := f.prov.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.wf.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}

	f.importCSV(t, "jan.csv", "M0,Mia Zero,m0@dtaa.com,CEO,Board,T0,BU,FU,P,\n"+
		"M1,Max One,m1@dtaa.com,Manager,Eng,T1,BU,FU,P,M0\n"+
		"E1,Zoë Ångström,e1@dtaa.com,Engineer,Eng,T1,BU,FU,P,M1\n")
	f.importCSV(t, "feb.csv", "M0,Mia Zero,m0@dtaa.com,CEO,Board,T0,BU,FU,P,\n"+
		"M1,Max One,m1@dtaa.com,Manager,Eng,T1,BU,FU,P,M0\n")

	// The mail server is down when the case opens.
	smtp.Stop(t)
	step()
	cs, _ := f.st.Cases(ctx, store.CaseFilter{Person: "E1"})
	if len(cs) != 1 || cs[0].Kind != store.CaseLeaver {
		t.Fatalf("cases of E1: %+v", cs)
	}
	c := cs[0]
	notes, _ := f.st.Notifications(ctx, store.NotificationFilter{Case: c.ID})
	byAddr := map[string][]store.Notification{}
	for _, n := range notes {
		byAddr[n.Address] = append(byAddr[n.Address], n)
	}
	if len(byAddr["m1@dtaa.com"]) != 2 || len(byAddr["soc@dtaa.com"]) != 1 || len(byAddr["hr@dtaa.com"]) != 1 ||
		len(byAddr["notifications.teams.security.webhook"]) != 1 || len(notes) != 5 {
		t.Fatalf("notifications of the case by address: %v", byAddr)
	}
	drain()
	if pending, _ := f.st.Notifications(ctx, store.NotificationFilter{State: store.NotifyPending}); len(pending) != 4 {
		t.Fatalf("%d notifications waiting for the mail server, want the 4 e-mails", len(pending))
	}
	f.clk.Set(f.clk.Now().Add(30 * time.Second))
	step()
	ts, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Case: c.ID})
	var notifyTask, legal, transfer store.CaseTask
	for _, x := range ts {
		switch x.Step {
		case "notify-manager":
			notifyTask = x
		case "legal-hold":
			legal = x
		case "transfer-data":
			transfer = x
		}
	}
	if notifyTask.Status != store.TaskOpen || !notifyTask.EscalatedAt.IsZero() {
		t.Fatalf("notify step while its e-mail waits: %+v; want open and not escalated", notifyTask)
	}

	smtp.Start(t)
	f.clk.Set(f.clk.Now().Add(time.Minute))
	drain()
	step()
	notifyTask, _ = f.st.CaseTask(ctx, notifyTask.ID)
	if notifyTask.Status != store.TaskDone || !strings.Contains(notifyTask.Evidence, "sent email m1@dtaa.com") {
		t.Fatalf("notify step after delivery: %+v", notifyTask)
	}
	ms := smtp.WaitMessages(t, 4, 10*time.Second)
	got := map[string][]string{}
	for _, m := range ms {
		got[m.To[0]] = append(got[m.To[0]], m.Raw)
		if !m.Secure || m.User != smtp.User {
			t.Errorf("message to %v not over TLS with AUTH: %+v", m.To, m)
		}
	}
	if len(got["m1@dtaa.com"]) != 2 || len(got["soc@dtaa.com"]) != 1 || len(got["hr@dtaa.com"]) != 1 {
		t.Fatalf("e-mails by recipient: %d/%d/%d", len(got["m1@dtaa.com"]), len(got["soc@dtaa.com"]), len(got["hr@dtaa.com"]))
	}
	if soc := got["soc@dtaa.com"][0]; !strings.Contains(soc, "legal hold") || !strings.Contains(soc, "tasks list --person E1") {
		t.Errorf("security's e-mail does not list its task: %s", soc)
	}
	mu.Lock()
	if len(chats) != 1 || !strings.Contains(chats[0], "legal hold") {
		t.Errorf("chat messages %q", chats)
	}
	mu.Unlock()

	// A day before legal-hold's deadline: security is reminded, once.
	f.clk.Set(legal.Due.Add(-23 * time.Hour))
	step()
	step()
	rem, _ := f.st.Notifications(ctx, store.NotificationFilter{Kind: store.NotifyReminder})
	if len(rem) != 2 || rem[0].Task != legal.ID || rem[1].Task != legal.ID {
		t.Fatalf("reminders %+v; want e-mail and chat for task %d", rem, legal.ID)
	}
	// Past it: escalated to the security lead, and the team's channel hears.
	f.clk.Set(legal.Due.Add(time.Hour))
	step()
	esc, _ := f.st.Notifications(ctx, store.NotificationFilter{Kind: store.NotifyEscalated, Task: legal.ID})
	if len(esc) != 2 || esc[1].Address != "ciso@dtaa.com" || esc[1].Recipient != "lead:security" {
		t.Fatalf("escalation notifications %+v", esc)
	}
	// The manager's task escalates to the manager's manager.
	f.clk.Set(transfer.Due.Add(time.Hour))
	step()
	if esc, _ := f.st.Notifications(ctx, store.NotificationFilter{Kind: store.NotifyEscalated, Task: transfer.ID}); len(esc) != 1 || esc[0].Address != "m0@dtaa.com" {
		t.Fatalf("manager task escalation %+v; want m0@dtaa.com", esc)
	}
	drain()
	ms = smtp.Messages(t)
	var ciso string
	for _, m := range ms {
		if m.To[0] == "ciso@dtaa.com" {
			ciso = m.Raw
		}
	}
	if !strings.Contains(ciso, "Overdue") || !strings.Contains(ciso, "escalated") {
		t.Fatalf("no escalation e-mail to the CISO: %q", ciso)
	}
	all, _ := f.st.Notifications(ctx, store.NotificationFilter{})
	for _, n := range all {
		if n.State != store.NotifySent {
			t.Errorf("notification %d to %s: %s (%s)", n.ID, n.Address, n.State, n.LastError)
		}
	}
	// No secret anywhere: messages, chat, the outbox, the log.
	doc, _ := json.Marshal(all)
	texts := []string{string(doc), logs.String()}
	for _, m := range ms {
		texts = append(texts, m.Raw)
	}
	mu.Lock()
	texts = append(texts, chats...)
	mu.Unlock()
	for _, s := range texts {
		if strings.Contains(s, smtp.Password) || strings.Contains(s, "SECRET-hook-token") {
			t.Fatalf("a secret leaked: %s", s)
		}
	}
}
