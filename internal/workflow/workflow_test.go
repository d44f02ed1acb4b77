package workflow

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type fixture struct {
	st   store.Store
	cfg  *config.Config
	wf   *Engine
	prov *provision.Engine
	clk  *clock
}

func newFixture(t *testing.T, playbooks string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	cfg.Apps = []config.App{
		{Name: "crm", Connector: "scim", Owner: "crm-owners", Settings: map[string]any{"retention": "keep 90 days"}},
		{Name: "payroll", Connector: "manual", Owner: "finance"},
	}
	if playbooks != "" {
		if err := yaml.Unmarshal([]byte(playbooks), &cfg.Playbooks); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	wf, err := New(st, cfg, Options{Now: clk.Now, Poll: 20 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Compile(&config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// No connectors: planning only marks events provisioned.
	prov := provision.New(st, pol, nil, provision.Options{Now: clk.Now, Log: log})
	return &fixture{st: st, cfg: cfg, wf: wf, prov: prov, clk: clk}
}

func (f *fixture) importMonth(t *testing.T, month string) hr.Result {
	t.Helper()
	name := filepath.Join("..", "..", "testdata", "cert-r5.2-ldap", month+".csv")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := f.cfg.Source("")
	res, err := hr.ImportFile(context.Background(), f.st, f.cfg, src, name, data, hr.Options{Actor: "test", Now: f.clk.Now})
	if err != nil || res.Status != store.ImportApplied {
		t.Fatalf("import %s: %+v, %v", month, res, err)
	}
	return res
}

// evidenceFor gives the evidence a task of the kind needs.
func evidenceFor(kind string) string {
	switch kind {
	case store.EvidenceAttestation:
		return "I attest that the leaver holds no company data and returned everything"
	case store.EvidenceReference:
		return "CHG-1042"
	case store.EvidenceFile:
		return "file:x.pdf sha256:" + strings.Repeat("ab", 32)
	}
	return "no hold needed: no litigation pending"
}

func stepsOf(ts []store.CaseTask) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Step)
	}
	slices.Sort(out)
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func TestCERTOffboarding(t *testing.T) {
	if testing.Short() {
		t.Skip("imports CERT months")
	}
	ctx := context.Background()
	assets := filepath.Join(t.TempDir(), "assets.csv")
	if err := os.WriteFile(assets, []byte("asset_tag,type,serial,assigned_to\nA-100,laptop,SN100,ADL1898\nA-101,phone,SN101,ADL1898\nA-200,laptop,SN200,MMK1532\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "assets: {file: "+assets+"}\nteam_leads: {security: ZZZ0001}\n")

	f.importMonth(t, "2009-12")
	if n, err := f.wf.OpenCases(ctx); err != nil || n != 0 {
		t.Fatalf("initial load opened %d cases (%v); want none", n, err)
	}
	f.importMonth(t, "2010-01")
	if _, err := f.wf.OpenCases(ctx); err != nil {
		t.Fatal(err)
	}
	if cs, _ := f.st.Cases(ctx, store.CaseFilter{Kind: store.CaseLeaver}); len(cs) != 0 {
		t.Fatalf("2010-01 has no leaver; cases %+v", cs)
	}
	// ADL1898 has accounts in two apps.
	at := f.clk.Now()
	var put []store.GrantRow
	for _, app := range []string{"crm", "payroll"} {
		put = append(put, store.GrantRow{App: app, Source: "hris", EmployeeID: "ADL1898", State: "active", Reason: "test", UpdatedAt: at})
	}
	if err := f.st.QueueOps(ctx, store.ProvisionBatch{Put: put}); err != nil {
		t.Fatal(err)
	}

	res := f.importMonth(t, "2010-02")
	if res.Leavers != 13 {
		t.Fatalf("2010-02 leavers %d, want 13", res.Leavers)
	}
	runCtx, stop := context.WithCancel(ctx)
	r, err := runner.New(slog.New(slog.DiscardHandler), time.After, f.wf.Job(), f.prov.Job())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(runCtx, ctx) }()
	defer func() { stop(); wg.Wait() }()

	var cases []store.Case
	waitFor(t, 10*time.Second, "13 offboarding cases", func() bool {
		cases, _ = f.st.Cases(ctx, store.CaseFilter{})
		return len(cases) >= 13
	})
	leavers := 0
	for _, c := range cases {
		if c.Kind == store.CaseLeaver {
			leavers++
		}
	}
	if leavers != 13 {
		t.Fatalf("%d leaver cases, want 13: %+v", leavers, cases)
	}
	base := []string{"disable-accounts", "hr-attestation", "legal-hold", "notify-manager", "revoke-sessions", "transfer-data"}
	var adl store.Case
	for _, c := range cases {
		if c.Kind != store.CaseLeaver {
			continue
		}
		ts, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Case: c.ID})
		want := base
		if c.Person == "ADL1898" {
			adl = c
			want = []string{"data-retention", "data-retention", "disable-accounts", "hr-attestation", "legal-hold", "notify-manager",
				"reclaim-licence", "reclaim-licence", "recover-asset", "recover-asset", "revoke-sessions", "transfer-data"}
		}
		if got := stepsOf(ts); !slices.Equal(got, want) {
			t.Fatalf("case of %s: steps %v, want %v", c.Person, got, want)
		}
	}
	if adl.ID == 0 {
		t.Fatal("no case for ADL1898")
	}
	adlTasks, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Case: adl.ID})
	for _, tk := range adlTasks {
		switch tk.Step {
		case "reclaim-licence", "data-retention":
			if want := map[string]string{"crm": "crm-owners", "payroll": "finance"}[tk.App]; tk.Team != want {
				t.Fatalf("%s task for %s owned by %q, want %q", tk.Step, tk.App, tk.Team, want)
			}
			if tk.Step == "data-retention" && tk.App == "crm" && !strings.Contains(tk.Detail, "keep 90 days") {
				t.Fatalf("retention task without the app's rule: %+v", tk)
			}
		case "recover-asset":
			if !strings.Contains(tk.Title, "A-10") || tk.EvidenceKind != store.EvidenceReference {
				t.Fatalf("asset task %+v", tk)
			}
		case "transfer-data":
			if tk.Team != TeamManager || tk.Assignee == "" {
				t.Fatalf("transfer task not with the manager: %+v", tk)
			}
		}
	}

	// Automated steps: done within seconds for everyone but ADL1898, whose
	// accounts are still active; once provisioning disables them, done too.
	elapsed := waitFor(t, 5*time.Second, "automated steps of the 12 leavers without accounts", func() bool {
		open, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Kind: store.TaskAuto, Status: store.TaskOpen})
		return len(open) == 2 && open[0].Person == "ADL1898" && open[1].Person == "ADL1898"
	})
	t.Logf("automated steps done in %s", elapsed)
	// The others have no account in crm or payroll: done at once, saying so.
	if ts, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Kind: store.TaskAuto, Status: store.TaskDone}); len(ts) == 0 {
		t.Fatal("no automated step done")
	} else {
		for _, tk := range ts {
			want := map[string]string{"disable-accounts": "no account in any configured app",
				"revoke-sessions": "no account in any configured app: no session to revoke"}[tk.Step]
			if want != "" && tk.Evidence != want {
				t.Fatalf("%s of %s: evidence %q, want %q", tk.Step, tk.Person, tk.Evidence, want)
			}
		}
	}
	var ops []store.Operation
	for _, app := range []string{"crm", "payroll"} {
		ops = append(ops, store.Operation{App: app, Kind: store.OpDisable, Source: "hris", EmployeeID: "ADL1898", State: store.OpDone,
			Priority: store.PriorityDisable, NotBefore: at, CreatedAt: at, UpdatedAt: at})
		put[len(ops)-1].State = "disabled"
	}
	if err := f.st.QueueOps(ctx, store.ProvisionBatch{Ops: ops, Put: put}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "ADL1898's accounts disabled", func() bool {
		open, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Kind: store.TaskAuto, Status: store.TaskOpen})
		return len(open) == 0
	})
	dis, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Case: adl.ID, Kind: store.TaskAuto})
	for _, tk := range dis {
		if tk.Step == "disable-accounts" && tk.Evidence != "accounts disabled: crm, payroll" {
			t.Fatalf("disable evidence %q", tk.Evidence)
		}
	}
	stop()
	wg.Wait()

	// Evidence kinds and dependencies.
	var attest, transfer, legal store.CaseTask
	for _, tk := range adlTasks {
		switch tk.Step {
		case "hr-attestation":
			attest = tk
		case "transfer-data":
			transfer = tk
		case "legal-hold":
			legal = tk
		}
	}
	now := f.clk.Now()
	if _, err := Complete(ctx, f.st, attest.ID, "", "hr-1", now); !errors.Is(err, ErrEvidence) {
		t.Fatalf("empty attestation: %v, want ErrEvidence", err)
	}
	if _, err := Complete(ctx, f.st, attest.ID, evidenceFor(store.EvidenceAttestation), "hr-1", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("attestation before assets and data transfer: %v, want ErrConflict (blocked)", err)
	}
	if _, err := Complete(ctx, f.st, transfer.ID, "done it", "mgr", now); !errors.Is(err, ErrEvidence) {
		t.Fatalf("a reference task with free text: %v, want ErrEvidence", err)
	}
	if _, err := Complete(ctx, f.st, dis[0].ID, "x", "someone", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("completing an automated task by hand: %v", err)
	}

	// Clocks: past the legal-hold deadline (3 days), Security's lead is told;
	// the manager's 7-day task is not yet overdue.
	f.clk.Set(now.Add(4 * 24 * time.Hour))
	n, err := f.wf.Escalate(ctx, f.clk.Now())
	if err != nil || n != 13 {
		t.Fatalf("escalated %d (%v), want the 13 legal-hold tasks", n, err)
	}
	legal, _ = f.st.CaseTask(ctx, legal.ID)
	if legal.EscalatedTo != "ZZZ0001" || legal.EscalatedAt.IsZero() {
		t.Fatalf("legal hold after its deadline: %+v", legal)
	}
	if tr, _ := f.st.CaseTask(ctx, transfer.ID); tr.EscalatedTo != "" {
		t.Fatalf("transfer escalated before its deadline: %+v", tr)
	}
	if n, _ := f.wf.Escalate(ctx, f.clk.Now()); n != 0 {
		t.Fatalf("escalated %d again", n)
	}
	f.clk.Set(now.Add(8 * 24 * time.Hour))
	if _, err := f.wf.Escalate(ctx, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	tr, _ := f.st.CaseTask(ctx, transfer.ID)
	mgr, _ := f.st.Person(ctx, "hris", tr.Assignee)
	if mgr.ManagerID == "" || tr.EscalatedTo != "person:"+mgr.ManagerID {
		t.Fatalf("manager task escalated to %q, want the manager's manager %q", tr.EscalatedTo, mgr.ManagerID)
	}

	// Completing every task with its evidence closes every case.
	for round := 0; ; round++ {
		open, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Status: store.TaskOpen})
		if len(open) == 0 {
			break
		}
		if round > 10 {
			t.Fatalf("tasks never unblocked: %+v", open)
		}
		for _, tk := range open {
			if tk.Blocked {
				continue
			}
			if _, err := Complete(ctx, f.st, tk.ID, evidenceFor(tk.EvidenceKind), "tester", f.clk.Now()); err != nil {
				t.Fatalf("complete %s of %s: %v", tk.Step, tk.Person, err)
			}
		}
	}
	cases, _ = f.st.Cases(ctx, store.CaseFilter{Kind: store.CaseLeaver})
	for _, c := range cases {
		if c.Status != store.CaseClosed || c.ClosedAt == nil {
			t.Fatalf("case %+v still open", c)
		}
	}
	ents, _ := f.st.AuditEntries(ctx, 0, 1<<20)
	count := map[string]int{}
	for _, e := range ents {
		count[e.Action]++
	}
	if count["case.closed"] < 13 || count["task.escalated"] < 14 || count["case.opened"] < 13 {
		t.Fatalf("audit actions %v", count)
	}

	// 2010-03: one ITAdmin (CDO0684) leaves; only that case gets the Security review.
	f.importMonth(t, "2010-03")
	if _, err := f.wf.OpenCases(ctx); err != nil {
		t.Fatal(err)
	}
	mar, _ := f.st.Cases(ctx, store.CaseFilter{Kind: store.CaseLeaver, Status: store.CaseOpen})
	if len(mar) != 12 {
		t.Fatalf("2010-03 leaver cases %d, want 12", len(mar))
	}
	for _, c := range mar {
		ts, _ := f.st.CaseTasks(ctx, store.CaseTaskFilter{Case: c.ID})
		has := slices.Contains(stepsOf(ts), "security-review")
		if has != (c.Person == "CDO0684") {
			t.Fatalf("case of %s: security review %v", c.Person, has)
		}
	}
	if p, _ := f.st.Person(ctx, "hris", "CDO0684"); p.Title != "ITAdmin" {
		t.Fatalf("CDO0684 is %q, not an ITAdmin", p.Title)
	}
}

func TestUrgentLeaverAndConfig(t *testing.T) {
	f := newFixture(t, `
urgent: 'person.department == "Fired"'
leaver.urgent:
  steps:
    - {name: disable-accounts, title: "Disable {name} now", action: disable, team: it, due: 15m}
    - {name: security-review, title: "Review {name}", team: security, due: 1d, after: [disable-accounts], evidence: file}
`)
	ctx := context.Background()
	p := &store.Person{Source: "hris", EmployeeID: "X1", DisplayName: "X One", Department: "Fired", Status: store.StatusLeft, Title: "Clerk"}
	ev := store.Event{Source: "hris", EmployeeID: "X1", Type: store.EventLeaver, State: store.EventApplied, Effective: f.clk.Now(), After: p}
	kind, err := f.wf.kindOf(ctx, ev)
	if err != nil || kind != store.CaseLeaverUrgent {
		t.Fatalf("kind %q, %v; want leaver.urgent", kind, err)
	}
	c, ts, err := f.wf.Plan(ctx, kind, ev)
	if err != nil || len(ts) != 2 || ts[1].EvidenceKind != store.EvidenceFile || !ts[0].Due.Equal(f.clk.Now().Add(15*time.Minute)) || ts[0].Kind != store.TaskAuto {
		t.Fatalf("plan %+v %+v %v", c, ts, err)
	}
	p.Department = "Sales"
	if kind, _ := f.wf.kindOf(ctx, ev); kind != store.CaseLeaver {
		t.Fatalf("ordinary leaver got %q", kind)
	}
	// The default leaver playbook still applies (not configured here):
	// a privileged leaver gets the Security review.
	p.Title = "ITAdmin"
	if _, ts, _ := f.wf.Plan(ctx, store.CaseLeaver, ev); !slices.Contains(stepsOf(ts), "security-review") {
		t.Fatalf("ITAdmin without security review: %v", stepsOf(ts))
	}
	p.Title = "Clerk"
	if _, ts, _ := f.wf.Plan(ctx, store.CaseLeaver, ev); slices.Contains(stepsOf(ts), "security-review") {
		t.Fatalf("clerk with a security review: %v", stepsOf(ts))
	}
	// File evidence.
	path := filepath.Join(t.TempDir(), "review.txt")
	os.WriteFile(path, []byte("no findings"), 0o600)
	e, err := FileEvidence(path)
	if err != nil || CheckEvidence(store.EvidenceFile, e) != nil || CheckEvidence(store.EvidenceFile, "review.txt") == nil {
		t.Fatalf("file evidence %q %v", e, err)
	}

	for _, bad := range []string{
		"leaver:\n  steps:\n    - {name: a, title: A, team: it, after: [b]}\n",
		"leaver:\n  steps:\n    - {name: a, title: A, team: it, action: fly}\n",
		"leaver:\n  steps:\n    - {name: a, title: A, team: it, when: 'person.nope('}\n",
		"leaver:\n  steps:\n    - {name: a, title: A, team: it, after: [b]}\n    - {name: b, title: B, team: it, after: [a]}\n",
		"leaver:\n  steps:\n    - {name: a, title: A, team: it, evidence: selfie}\n",
		"leaver:\n  steps:\n    - {name: a, title: A, team: it, due: soon}\n",
		"unknown_key: 1\n",
	} {
		cfg := config.Default()
		if err := yaml.Unmarshal([]byte(bad), &cfg.Playbooks); err != nil {
			t.Fatal(err)
		}
		if _, err := New(f.st, cfg, Options{Log: slog.New(slog.DiscardHandler), Now: time.Now}); err == nil {
			t.Fatalf("accepted bad playbooks:\n%s", bad)
		}
	}
}

// The revoke-sessions step waits for the leaver's revoke_sessions
// operations (pending or failed: open) and its evidence names the apps
// where sessions were revoked, those that offer no revocation, and those
// that do but were not asked.
func TestRevokeSessionsEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("imports CERT months")
	}
	ctx := context.Background()
	f := newFixture(t, "")
	f.wf.opt.RevokesSessions = func(app string) bool { return app != "directory" }
	f.importMonth(t, "2009-12")
	f.importMonth(t, "2010-01")
	at := f.clk.Now()
	// Two leavers of 2010-02 with accounts: ADL1898 in crm, payroll and
	// directory; CTH1812 in crm, and in wiki, disabled before the leave.
	var put []store.GrantRow
	for _, g := range []struct{ who, app, state string }{
		{"ADL1898", "crm", "active"}, {"ADL1898", "payroll", "active"}, {"ADL1898", "directory", "active"},
		{"CTH1812", "crm", "active"}, {"CTH1812", "wiki", "disabled"},
	} {
		put = append(put, store.GrantRow{App: g.app, Source: "hris", EmployeeID: g.who, State: g.state, Reason: "test", UpdatedAt: at})
	}
	if err := f.st.QueueOps(ctx, store.ProvisionBatch{Put: put}); err != nil {
		t.Fatal(err)
	}
	f.importMonth(t, "2010-02")
	if _, err := f.prov.PlanPending(ctx); err != nil { // marks the events provisioned (no connectors)
		t.Fatal(err)
	}
	if _, err := f.wf.OpenCases(ctx); err != nil {
		t.Fatal(err)
	}
	// What provisioning queues for them: the disables (done), then the
	// revocations where the app offers them (pending).
	var ops []store.Operation
	var disabled []store.GrantRow
	op := func(who, app, kind, state string) {
		ops = append(ops, store.Operation{App: app, Kind: kind, Source: "hris", EmployeeID: who, State: state,
			Priority: store.PriorityDisable, NotBefore: at, CreatedAt: at, UpdatedAt: at})
	}
	for _, g := range put {
		if g.State == "active" {
			op(g.EmployeeID, g.App, store.OpDisable, store.OpDone)
			g.State = "disabled"
			disabled = append(disabled, g)
		}
	}
	op("ADL1898", "crm", store.OpRevokeSessions, store.OpDone)
	op("ADL1898", "payroll", store.OpRevokeSessions, store.OpPending)
	op("CTH1812", "crm", store.OpRevokeSessions, store.OpPending)
	if err := f.st.QueueOps(ctx, store.ProvisionBatch{Ops: ops, Put: disabled}); err != nil {
		t.Fatal(err)
	}
	step := func(who string) store.CaseTask {
		t.Helper()
		ts, err := f.st.CaseTasks(ctx, store.CaseTaskFilter{Person: who, Kind: store.TaskAuto})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			if tk.Step == "revoke-sessions" {
				return tk
			}
		}
		t.Fatalf("%s has no revoke-sessions step: %+v", who, ts)
		return store.CaseTask{}
	}
	advance := func() {
		t.Helper()
		for range 3 { // the disable step, then the steps after it
			if _, err := f.wf.AdvanceAuto(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	advance()
	for _, who := range []string{"ADL1898", "CTH1812"} {
		if tk := step(who); tk.Status != store.TaskOpen {
			t.Fatalf("%s: revoke-sessions %s (%q) while a revocation is pending", who, tk.Status, tk.Evidence)
		}
	}
	// Run the pending revocations: ADL1898's succeeds, CTH1812's fails for good.
	claimed, err := f.st.ClaimOps(ctx, "test", at, time.Minute, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range claimed {
		r := store.OpResult{State: store.OpDone}
		if o.EmployeeID == "CTH1812" {
			r = store.OpResult{State: store.OpFailed, Error: "HTTP 400"}
		}
		if err := f.st.FinishOp(ctx, o.ID, "test", at, r); err != nil {
			t.Fatal(err)
		}
	}
	if len(claimed) != 2 {
		t.Fatalf("claimed %d operations, want the 2 pending revocations", len(claimed))
	}
	advance()
	adl := step("ADL1898")
	want := "sessions and tokens revoked: crm, payroll; no revocation offered (sessions end with the disabled account): directory"
	if adl.Status != store.TaskDone || adl.Evidence != want {
		t.Errorf("ADL1898 revoke-sessions %s, evidence %q; want done, %q", adl.Status, adl.Evidence, want)
	}
	if mmk := step("CTH1812"); mmk.Status != store.TaskOpen {
		t.Errorf("CTH1812 revoke-sessions %s (%q) although its revocation failed", mmk.Status, mmk.Evidence)
	}
	// Without the failure, CTH1812's evidence names wiki as not asked.
	if got := f.wf.sessionsEvidence(put[3:], []string{"crm"}); got != "sessions and tokens revoked: crm; not revoked (account disabled before the leave): wiki" {
		t.Errorf("CTH1812 evidence %q", got)
	}
	// A leaver with no account.
	if got := f.wf.sessionsEvidence(nil, nil); got != "no account in any configured app: no session to revoke" {
		t.Errorf("evidence without accounts %q", got)
	}
}
