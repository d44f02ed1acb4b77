package request_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

// ClockConfig is Config with approval deadlines and notifications by
// e-mail (the SMTP server's port is filled in by tests that deliver).
const ClockConfig = Config + `
notifications:
  smtp: {host: 127.0.0.1, port: 2525, from: tango@dtaa.com, tls: none}
  reminder_before: 24h
  teams:
    security: {email: soc@dtaa.com, lead: ciso@dtaa.com}
`

// clockConfig sets requests.approval_deadline (and for Security's step a
// lead) in ClockConfig.
func clockConfig(deadline, lead string) string {
	return strings.Replace(ClockConfig, "requests: {security_approvers: [S1]}",
		"requests: {security_approvers: [S1], approval_deadline: "+deadline+", security_lead: "+lead+"}", 1)
}

func outbox(t *testing.T, st store.Store, id int64, kind string) []store.Notification {
	t.Helper()
	ns, err := st.Notifications(context.Background(), store.NotificationFilter{Request: id, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(ns) // oldest first
	return ns
}

func addresses(ns []store.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Address)
	}
	slices.Sort(out)
	return out
}

// An approval step has a deadline: its approver is told when it becomes
// current and reminded before the deadline; past it the step escalates to
// the approver's manager, who may then approve it. The requester and
// beneficiary hear the decision. Every message is in the outbox, written
// with the change.
func TestApprovalStepRemindedThenEscalatedToTheApproversManager(t *testing.T) {
	ctx := context.Background()
	f := newFixtureWith(t, clockConfig("72h", "E0"))
	r := f.create(t, "A1", request.New{App: "erp", Entitlement: "payments-approve"})
	if !r.StepSince.Equal(t0) || !r.Due.Equal(t0.Add(72*time.Hour)) || r.NextStep() != store.StepManager {
		t.Fatalf("new request: step %q since %v due %v; want manager since %v due +72h", r.NextStep(), r.StepSince, r.Due, t0)
	}
	pend := outbox(t, f.st, r.ID, store.NotifyRequestPending)
	if got := addresses(pend); !slices.Equal(got, []string{"m1@dtaa.com"}) {
		t.Fatalf("pending notice to %v, want the manager m1@dtaa.com", got)
	}
	if want := "request " + itoa(r.ID); !strings.Contains(pend[0].Subject, want) || strings.Contains(pend[0].Body, store.RequestIDPlaceholder) {
		t.Fatalf("pending notice does not name %q: %q\n%s", want, pend[0].Subject, pend[0].Body)
	}

	// 47h in: not within 24h of the deadline yet; 49h in: reminded once.
	if n, err := f.svc.Remind(ctx, t0.Add(47*time.Hour)); err != nil || n != 0 {
		t.Fatalf("remind at 47h: %d, %v; want 0", n, err)
	}
	if n, err := f.svc.Remind(ctx, t0.Add(49*time.Hour)); err != nil || n != 1 {
		t.Fatalf("remind at 49h: %d, %v; want 1", n, err)
	}
	if n, _ := f.svc.Remind(ctx, t0.Add(50*time.Hour)); n != 0 {
		t.Fatalf("reminded twice")
	}
	rem := outbox(t, f.st, r.ID, store.NotifyRequestReminder)
	if len(rem) != 1 || rem[0].Address != "m1@dtaa.com" || !strings.Contains(rem[0].Subject, "due in 23h0m0s") {
		t.Fatalf("reminders %+v", rem)
	}

	// Before the deadline the manager's manager may not approve.
	if _, err := f.svc.Approve(ctx, f.caller(t, "E0"), r.ID, ""); !errors.Is(err, request.ErrForbidden) {
		t.Fatalf("E0 before escalation: %v, want forbidden", err)
	}
	if n, err := f.svc.Escalate(ctx, t0.Add(72*time.Hour)); err != nil || n != 0 {
		t.Fatalf("escalate at the deadline: %d, %v; want 0", n, err)
	}
	f.now = t0.Add(73 * time.Hour)
	if n, err := f.svc.Escalate(ctx, f.now); err != nil || n != 1 {
		t.Fatalf("escalate at 73h: %d, %v; want 1", n, err)
	}
	if n, _ := f.svc.Escalate(ctx, f.now.Add(time.Hour)); n != 0 {
		t.Fatal("escalated twice")
	}
	got, _ := f.st.Request(ctx, r.ID)
	if got.EscalatedTo != "E0" || !got.EscalatedAt.Equal(f.now) || !got.Overdue(f.now) {
		t.Fatalf("after escalation: to %q at %v", got.EscalatedTo, got.EscalatedAt)
	}
	esc := outbox(t, f.st, r.ID, store.NotifyRequestEscalated)
	if got := addresses(esc); !slices.Equal(got, []string{"e0@dtaa.com"}) || !strings.Contains(esc[0].Body, "waiting for M1") {
		t.Fatalf("escalation notices %v %+v", got, esc)
	}
	mine, _ := f.svc.AwaitingApprover(ctx, []store.Request{got}, "E0")
	if len(mine) != 1 {
		t.Fatalf("E0's pending list after escalation: %+v", mine)
	}

	// The manager's manager approves the step; the owner's step starts a
	// new clock and the owner is told.
	r = f.approve(t, "E0", r.ID)
	if a := r.Approvals[0]; a.By != "E0" || !a.Escalated || a.InsteadOf != "M1" || a.Step != store.StepManager {
		t.Fatalf("approval %+v, want E0 escalated instead of M1", a)
	}
	if r.NextStep() != store.StepOwner || !r.StepSince.Equal(f.now) || !r.Due.Equal(f.now.Add(72*time.Hour)) || r.EscalatedTo != "" {
		t.Fatalf("owner step: %q since %v due %v escalated to %q", r.NextStep(), r.StepSince, r.Due, r.EscalatedTo)
	}
	if got := addresses(outbox(t, f.st, r.ID, store.NotifyRequestPending)); !slices.Equal(got, []string{"m1@dtaa.com", "o1@dtaa.com"}) {
		t.Fatalf("pending notices %v, want the manager's then the owner's", got)
	}
	// M1, whose step it was, may not approve the owner's step.
	if _, err := f.svc.Approve(ctx, f.caller(t, "M1"), r.ID, ""); !errors.Is(err, request.ErrForbidden) {
		t.Fatalf("M1 on the owner step: %v", err)
	}

	// Owner approves; Security's step, overdue, escalates to the security
	// lead E0 and Security's lead address hears too.
	r = f.approve(t, "O1", r.ID)
	f.now = f.now.Add(80 * time.Hour)
	if n, err := f.svc.Escalate(ctx, f.now); err != nil || n != 1 {
		t.Fatalf("escalate Security's step: %d, %v", n, err)
	}
	var sec []store.Notification
	for _, n := range outbox(t, f.st, r.ID, store.NotifyRequestEscalated) {
		if strings.Contains(n.Body, "security approval") {
			sec = append(sec, n)
		}
	}
	// The lead E0 approved the manager step already (four eyes): B0, above E0.
	if got := addresses(sec); !slices.Equal(got, []string{"b0@dtaa.com", "ciso@dtaa.com"}) {
		t.Fatalf("Security escalation to %v, want B0 (the lead E0 approved the manager step) and ciso@dtaa.com", got)
	}
	if _, err := f.svc.Approve(ctx, f.caller(t, "E0"), r.ID, ""); !errors.Is(err, request.ErrForbidden) || !strings.Contains(err.Error(), "four eyes") {
		t.Fatalf("E0 on a second step: %v", err)
	}
	r = f.approve(t, "B0", r.ID)
	if r.State != store.RequestApproved || !r.Approvals[2].Escalated || r.Approvals[2].InsteadOf != "S1" {
		t.Fatalf("after Security's escalated approval: %s %+v", r.State, r.Approvals)
	}
	if got := addresses(outbox(t, f.st, r.ID, store.NotifyRequestDecided)); !slices.Equal(got, []string{"a1@dtaa.com"}) {
		t.Fatalf("decision told to %v, want the requester (and beneficiary) a1@dtaa.com", got)
	}
}

// Escalation never goes to the requester or the beneficiary: past them,
// the chain goes on up.
func TestEscalationSkipsRequesterAndBeneficiary(t *testing.T) {
	ctx := context.Background()
	// X1 owns tickets and reports to A1, who asks for them for themselves.
	cfgText := strings.Replace(clockConfig("24h", "E0"), "      - {entitlement: reports, owner: M1, risk: medium}",
		"      - {entitlement: reports, owner: M1, risk: medium}\n      - {entitlement: tickets, owner: X1, risk: low}", 1)
	f := newFixtureWith(t, cfgText, [3]string{"X1", "A1", "active"})
	r := f.create(t, "A1", request.New{App: "erp", Entitlement: "tickets"})
	r = f.approve(t, "M1", r.ID)
	f.now = f.now.Add(25 * time.Hour)
	if n, err := f.svc.Escalate(ctx, f.now); err != nil || n != 1 {
		t.Fatalf("escalate: %d, %v", n, err)
	}
	got, _ := f.st.Request(ctx, r.ID)
	if got.EscalatedTo != "E0" {
		t.Fatalf("owner X1's step escalated to %q; want E0 (X1's manager A1 is the requester, A1's manager M1 approved the manager step)", got.EscalatedTo)
	}
	if _, err := f.svc.Approve(ctx, f.caller(t, "A1"), r.ID, ""); !errors.Is(err, request.ErrForbidden) {
		t.Fatalf("requester approving their own request: %v", err)
	}
	if _, err := f.svc.Approve(ctx, f.caller(t, "M1"), r.ID, ""); !errors.Is(err, request.ErrForbidden) {
		t.Fatalf("M1 approving a second step: %v", err)
	}
	if r := f.approve(t, "E0", r.ID); r.State != store.RequestApproved {
		t.Fatalf("E0 as escalated approver: %s", r.State)
	}
}

// With no notifications configured, escalation still happens (visible in
// the lists) and nothing is queued; with approval_deadline 0s there is no
// deadline.
func TestNoDeadlineNoEscalation(t *testing.T) {
	ctx := context.Background()
	f := newFixtureWith(t, strings.Replace(Config, "requests: {security_approvers: [S1]}",
		"requests: {security_approvers: [S1], approval_deadline: 0s}", 1))
	r := f.create(t, "A1", request.New{App: "erp", Entitlement: "reports"})
	if !r.Due.IsZero() {
		t.Fatalf("due %v with no deadline", r.Due)
	}
	if n, err := f.svc.Escalate(ctx, t0.Add(1000*time.Hour)); err != nil || n != 0 {
		t.Fatalf("escalated %d, %v", n, err)
	}
	if _, err := config.Parse([]byte(strings.Replace(Config, "requests: {security_approvers: [S1]}",
		"requests: {security_approvers: [S1], approval_deadline: soon}", 1)), "bad.yaml"); err == nil ||
		!strings.Contains(err.Error(), "requests.approval_deadline") {
		t.Fatalf("bad deadline: %v", err)
	}
}

// The messages of a request reach a real SMTP server.
func TestRequestNotificationsDeliveredOverSMTP(t *testing.T) {
	ctx := context.Background()
	smtp := testenv.StartSMTPServer(t, testenv.SMTPOptions{})
	f := newFixtureWith(t, strings.Replace(clockConfig("72h", "E0"), "port: 2525", "port: "+itoa(int64(smtp.Port)), 1))
	r := f.create(t, "A1", request.New{App: "erp", Entitlement: "reports"})
	f.now = t0.Add(73 * time.Hour)
	if n, err := f.svc.Escalate(ctx, f.now); err != nil || n != 1 {
		t.Fatalf("escalate: %d, %v", n, err)
	}
	w, err := notify.NewWorker(f.st, f.cfg.Notifications, notify.Options{Now: func() time.Time { return f.now }, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := smtp.WaitMessages(t, 2, 10*time.Second)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
		if !strings.Contains(m.Raw, "request "+itoa(r.ID)) && !strings.Contains(m.Raw, "Request "+itoa(r.ID)) {
			t.Errorf("message to %v does not name request %d:\n%s", m.To, r.ID, m.Raw)
		}
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"e0@dtaa.com", "m1@dtaa.com"}) {
		t.Fatalf("delivered to %v, want the manager (pending) and their manager (escalated)", to)
	}
	for _, n := range outbox(t, f.st, r.ID, "") {
		if n.State != store.NotifySent {
			t.Fatalf("notification %d to %s is %s", n.ID, n.Address, n.State)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
