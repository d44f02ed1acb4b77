package provision_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/webhook"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	taskrule "github.com/tango-iga/tango/internal/task"
	"github.com/tango-iga/tango/internal/testenv"
)

const adminGroup = "cn=it-admins,ou=groups,dc=dtaa,dc=com"

func ldapApp(s *testenv.Slapd) string {
	return fmt.Sprintf(`
  - name: directory
    connector: ldap
    owner: it
    url: %s
    bind_dn: %s
    bind_password: %s
    base_dn: %s
    group_base_dn: %s
    page_size: 200
    account:
      dn: '"uid=" + dn.escape(person.employee_id) + ",%s"'
      object_classes: [top, person, organizationalPerson, inetOrgPerson]
      attributes: {uid: person.employee_id, cn: person.display_name, sn: person.display_name, mail: person.email, employeeNumber: person.employee_id, title: person.title}
    correlate: {account_attribute: employeeNumber, person: person.employee_id}
    disable: {replace: {employeeType: [disabled]}}
    drift: report
`, s.URL, s.BindDN, s.Password, s.People(), s.Groups(), s.People())
}

type env struct {
	st  store.Store
	cfg *config.Config
	eng *provision.Engine
}

func setup(t *testing.T, appsYAML string) *env {
	t.Helper()
	ctx := context.Background()
	doc := `
org: {name: DTAA, timezone: America/New_York}
sources:
  - name: hris
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, team: team, business_unit: business_unit, manager: supervisor, projects: projects}
    safeguards: {max_leavers: "5%"}
apps:` + appsYAML + `
roles:
  - {name: staff, when: 'person.status == "active"', grants: [` + grantsFor(appsYAML) + `]}
  - {name: it-admins, when: 'person.title == "ITAdmin"', grants: [{app: directory, entitlements: ["` + adminGroup + `"]}]}
`
	cfg, err := config.Parse([]byte(doc), "tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pol, err := policy.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := app.LoadApps(cfg, st, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	eng := provision.New(st, pol, apps, provision.Options{Poll: 20 * time.Millisecond, BackoffBase: 50 * time.Millisecond, BackoffCeiling: time.Second, QuarantineFor: 300 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	t.Cleanup(eng.Close)
	return &env{st: st, cfg: cfg, eng: eng}
}

func grantsFor(apps string) string {
	var g []string
	for _, line := range strings.Split(apps, "\n") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), "- name: "); ok {
			g = append(g, "{app: "+n+"}")
		}
	}
	return strings.Join(g, ", ")
}

func (e *env) importMonth(t *testing.T, month string) hr.Result {
	t.Helper()
	data, err := os.ReadFile("../../testdata/cert-r5.2-ldap/" + month + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := e.cfg.Source("hris")
	res, err := hr.ImportFile(context.Background(), e.st, e.cfg, src, month+".csv", data, hr.Options{Actor: "test", Provision: e.eng.ForImport})
	if err != nil || res.Status != store.ImportApplied {
		t.Fatalf("import %s: %v %+v", month, err, res.Errors)
	}
	return res
}

func (e *env) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.eng.Drain(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func accounts(t *testing.T, c connector.Connector) map[string]connector.Account {
	t.Helper()
	out := map[string]connector.Account{}
	if err := c.List(context.Background(), func(a connector.Account) error { out[a.Key] = a; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCERTIntoSlapd(t *testing.T) {
	s := testenv.StartSlapd(t)
	e := setup(t, ldapApp(s))
	ctx := context.Background()
	e.importMonth(t, "2009-12")
	e.drain(t)
	dir := e.eng.Apps()["directory"].Conn
	acc := accounts(t, dir)
	if len(acc) != 2000 {
		t.Fatalf("%d accounts in slapd, want 2000", len(acc))
	}
	persons, _ := e.st.Persons(ctx, store.PersonFilter{})
	admins := 0
	for _, p := range persons {
		a := acc[p.EmployeeID]
		isAdmin := len(a.Entitlements) == 1 && strings.EqualFold(a.Entitlements[0], adminGroup)
		if a.Disabled || (p.Title == "ITAdmin") != isAdmin {
			t.Fatalf("%s (%s): account %+v", p.EmployeeID, p.Title, a)
		}
		if isAdmin {
			admins++
		}
	}
	if admins != 80 {
		t.Fatalf("%d in the admin group, want 80", admins)
	}
	e.importMonth(t, "2010-01")
	res := e.importMonth(t, "2010-02")
	if res.Leavers != 13 {
		t.Fatalf("2010-02: %d leavers", res.Leavers)
	}
	e.drain(t)
	after := accounts(t, dir)
	var disabled []string
	for k, a := range after {
		if a.Disabled {
			disabled = append(disabled, k)
		}
		if !a.Disabled && len(a.Entitlements) != len(acc[k].Entitlements) {
			t.Fatalf("%s: entitlements changed from %v to %v", k, acc[k].Entitlements, a.Entitlements)
		}
	}
	if len(after) != 2000 || len(disabled) != 13 {
		t.Fatalf("after 2010-02: %d accounts, %d disabled; want 2000 and 13", len(after), len(disabled))
	}
	for _, k := range disabled {
		if p, _ := e.st.Person(ctx, "hris", k); p.Status != store.StatusLeft {
			t.Fatalf("%s disabled but %s", k, p.Status)
		}
		if len(after[k].Entitlements) != 0 {
			t.Fatalf("leaver %s keeps %v", k, after[k].Entitlements)
		}
	}
	// an account made directly in slapd is an orphan
	s.AddLDIF(t, "dn: uid=intruder,"+s.People()+"\nobjectClass: inetOrgPerson\nuid: intruder\ncn: Intruder\nsn: Intruder\nemployeeNumber: X0000\n")
	rep, err := e.eng.Reconcile(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Apps[0]
	if r.Accounts != 2001 || r.Orphans != 1 || r.Drift != 0 || r.LeaverActive != 0 || r.Failed != 0 {
		t.Fatalf("reconcile: %+v", r)
	}
	fs, _ := e.st.Findings(ctx, "orphan-account", "directory", "open")
	if len(fs) != 1 || !strings.Contains(fs[0].Subject, "intruder") {
		t.Fatalf("orphan findings %+v", fs)
	}
	// every operation is on the audit trail with its reason
	ents, _ := e.st.AuditEntries(ctx, 0, 1<<20)
	disables := 0
	for _, en := range ents {
		if en.Action == "provision.disable" {
			disables++
			if !strings.Contains(string(en.After), "person left") {
				t.Fatalf("disable audited without its reason: %s", en.After)
			}
		}
	}
	if disables != 13 {
		t.Fatalf("%d disables audited, want 13", disables)
	}
}

func scimApp(s *testenv.SCIMServer) string {
	return fmt.Sprintf(`
  - name: crm
    connector: scim
    owner: sales-ops
    url: %s
    token: %s
    page_size: 100
    account:
      attributes: {userName: person.email, externalId: person.employee_id, displayName: person.display_name, title: person.title}
    correlate: {account_attribute: externalId, person: person.employee_id}
`, s.URL, s.Token)
}

// The proof: slapd and an independent SCIM server as two apps.
func TestCERTIntoSlapdAndSCIM(t *testing.T) {
	s := testenv.StartSlapd(t)
	sc := testenv.StartSCIMServer(t)
	e := setup(t, ldapApp(s)+scimApp(sc))
	ctx := context.Background()
	e.importMonth(t, "2009-12")
	e.drain(t)
	dir, crm := e.eng.Apps()["directory"].Conn, e.eng.Apps()["crm"].Conn
	if n := len(accounts(t, crm)); n != 2000 {
		t.Fatalf("%d accounts in the SCIM app, want 2000", n)
	}
	if n := len(accounts(t, dir)); n != 2000 {
		t.Fatalf("%d accounts in slapd, want 2000", n)
	}
	e.importMonth(t, "2010-01")
	e.drain(t)
	// The SCIM app is down while the 13 leavers of 2010-02 arrive.
	sc.Stop(t)
	res := e.importMonth(t, "2010-02")
	if res.Leavers != 13 {
		t.Fatalf("%d leavers", res.Leavers)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	if err := e.eng.Drain(dctx, []string{"directory"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	disabled := func(c connector.Connector) int {
		n := 0
		for _, a := range accounts(t, c) {
			if a.Disabled {
				n++
			}
		}
		return n
	}
	if n := disabled(dir); n != 13 {
		t.Fatalf("slapd: %d disabled while the SCIM app is down, want 13", n)
	}
	pending, _ := e.st.Ops(ctx, store.OpFilter{App: "crm", State: store.OpPending})
	if len(pending) < 13 {
		t.Fatalf("%d SCIM operations waiting, want at least the 13 disables", len(pending))
	}
	states, _ := e.st.AppStates(ctx)
	failing := false
	for _, st := range states {
		failing = failing || (st.App == "crm" && st.Failures > 0 && st.LastError != "")
	}
	if !failing {
		t.Fatalf("the SCIM app's failures are not visible: %+v", states)
	}
	sc.Start(t)
	e.drain(t)
	if n := disabled(crm); n != 13 {
		t.Fatalf("SCIM app: %d disabled after it came back, want 13", n)
	}
	if n := disabled(dir); n != 13 {
		t.Fatalf("slapd: %d disabled, want 13", n)
	}
	failed, _ := e.st.Ops(ctx, store.OpFilter{State: store.OpFailed})
	if len(failed) != 0 {
		t.Fatalf("%d operations failed for good: %+v", len(failed), failed[0])
	}
}

func TestManualAppMakesTasks(t *testing.T) {
	e := setup(t, `
  - name: directory
    connector: manual
    owner: it
`)
	ctx := context.Background()
	e.importMonth(t, "2009-12")
	e.drain(t)
	tasks, err := e.st.Tasks(ctx, store.TaskFilter{App: "directory", Team: "it"})
	if err != nil {
		t.Fatal(err)
	}
	creates, grants := 0, 0
	for _, tk := range tasks {
		switch {
		case strings.HasPrefix(tk.Title, "Create the account of"):
			creates++
		case strings.HasPrefix(tk.Title, "Grant "+adminGroup):
			grants++
		}
	}
	if creates != 2000 || grants != 80 {
		t.Fatalf("%d create tasks and %d grant tasks, want 2000 and 80", creates, grants)
	}
	rep, err := e.eng.Reconcile(ctx, nil)
	if err != nil || len(rep.Apps) != 1 || !rep.Apps[0].Unreadable || rep.Apps[0].Error != "" {
		t.Fatalf("reconcile of a manual app without an export: %+v, %v", rep, err)
	}
}

func TestWebhookAppSignedDeliveries(t *testing.T) {
	var mu sync.Mutex
	byType := map[string]int{}
	bad := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify("s3cret-hmac", r.Header.Get("X-Tango-Timestamp"), string(body), r.Header.Get("X-Tango-Signature"), time.Minute); err != nil {
			bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var d struct{ Type string }
		if err := json.Unmarshal(body, &d); err != nil {
			bad++
		}
		byType[d.Type]++
	}))
	defer srv.Close()
	e := setup(t, `
  - name: directory
    connector: webhook
    url: `+srv.URL+`
    secret: s3cret-hmac
`)
	e.importMonth(t, "2009-12")
	e.importMonth(t, "2010-01")
	e.importMonth(t, "2010-02")
	e.drain(t)
	mu.Lock()
	defer mu.Unlock()
	if bad != 0 || byType["account.created"] != 2000 || byType["entitlement.granted"] != 80 || byType["account.disabled"] != 13 {
		t.Fatalf("deliveries %v, %d bad", byType, bad)
	}
	if byType["entitlement.revoked"] != 0 { // none of 2010-02's 13 leavers is an ITAdmin
		t.Fatalf("entitlements revoked from people who keep them: %v", byType)
	}
}

// A worker that dies mid-run (its context cut while operations are
// leased and in flight) loses nothing: another engine takes the expired
// leases over and every account ends up made exactly once.
func TestKilledWorkerLosesNothing(t *testing.T) {
	s := testenv.StartSlapd(t)
	e := setup(t, ldapApp(s))
	ctx := context.Background()
	pol, _ := policy.Compile(e.cfg)
	e.importMonth(t, "2009-12")
	first := provision.New(e.st, pol, e.eng.Apps(), provision.Options{Lease: 500 * time.Millisecond, Poll: 10 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	runCtx, kill := context.WithCancel(ctx)
	r, err := runner.New(slog.New(slog.DiscardHandler), time.After, first.Job())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); r.Run(runCtx, ctx) }()
	deadline := time.Now().Add(time.Minute)
	for {
		ops, _ := e.st.Ops(ctx, store.OpFilter{App: "directory", State: store.OpDone})
		if len(ops) >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first worker made only %d operations", len(ops))
		}
		time.Sleep(5 * time.Millisecond) // polling the queue while the worker runs
	}
	kill() // mid-run: operations are leased and in flight
	<-done
	running, _ := e.st.Ops(ctx, store.OpFilter{State: store.OpRunning})
	pending, _ := e.st.Ops(ctx, store.OpFilter{State: store.OpPending})
	if len(pending)+len(running) == 0 {
		t.Fatal("the worker finished everything before it was killed: the test proves nothing")
	}
	second := provision.New(e.st, pol, e.eng.Apps(), provision.Options{Lease: 500 * time.Millisecond, Poll: 10 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := second.Drain(dctx, nil); err != nil {
		t.Fatal(err)
	}
	all, _ := e.st.Ops(ctx, store.OpFilter{})
	for _, o := range all {
		if o.State != store.OpDone {
			t.Fatalf("operation %d is %s after the second worker: %+v", o.ID, o.State, o)
		}
	}
	acc := accounts(t, e.eng.Apps()["directory"].Conn)
	admins := 0
	for _, a := range acc {
		if len(a.Entitlements) > 1 {
			t.Fatalf("%s holds %v", a.Key, a.Entitlements)
		}
		admins += len(a.Entitlements)
	}
	if len(acc) != 2000 || admins != 80 {
		t.Fatalf("%d accounts and %d admin memberships after the crash, want 2000 and 80", len(acc), admins)
	}
	t.Logf("killed with %d pending and %d running operations", len(pending), len(running))
}

func (e *env) importCSV(t *testing.T, csv string) hr.Result {
	t.Helper()
	src, _ := e.cfg.Source("hris")
	res, err := hr.ImportFile(context.Background(), e.st, e.cfg, src, "hris.csv", []byte(csv), hr.Options{Actor: "test", Provision: e.eng.ForImport})
	if err == nil && res.Status == store.ImportHeld {
		// A small org trips the 5% safeguard: approve it, as HR would; the
		// approval plans its events as the import would have.
		_, err = hr.Decide(context.Background(), e.st, res.ImportID, true, hr.Options{Actor: "hr-lead", Provision: e.eng.ForImport})
		if evs, uerr := e.st.Unprovisioned(context.Background(), 10); err == nil && (uerr != nil || len(evs) > 0) {
			t.Fatalf("approved events not planned for: %+v %v", evs, uerr)
		}
		res.Status = store.ImportApplied
	}
	if err != nil || res.Status != store.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	return res
}

const smallOrg = "employee_name,user_id,email,role,projects,business_unit,functional_unit,department,team,supervisor\n" +
	"Ann Boss,E1,ann@dtaa.com,CEO,,1,1,1 - Exec,,\n" +
	"Bob Admin,E2,bob@dtaa.com,ITAdmin,,1,1,2 - IT,,Ann Boss\n" +
	"Cat Clerk,E3,cat@dtaa.com,Clerk,,1,1,3 - Ops,,Ann Boss\n"

// A mover gains new access at once and loses the old only after the grace
// period; a leaver loses everything at once, account first.
func TestMoverGraceAndLeaverOrder(t *testing.T) {
	s := testenv.StartSlapd(t)
	e := setup(t, ldapApp(s))
	ctx := context.Background()
	e.importCSV(t, smallOrg)
	e.drain(t)
	// Bob moves out of IT; Cat leaves.
	moved := strings.Replace(smallOrg, "Bob Admin,E2,bob@dtaa.com,ITAdmin", "Bob Admin,E2,bob@dtaa.com,Engineer", 1)
	moved = strings.Replace(moved, "Cat Clerk,E3,cat@dtaa.com,Clerk,,1,1,3 - Ops,,Ann Boss\n", "", 1)
	before := time.Now()
	res := e.importCSV(t, moved)
	if res.Movers != 1 || res.Leavers != 1 {
		t.Fatalf("%+v", res)
	}
	ops, _ := e.st.Ops(ctx, store.OpFilter{State: store.OpPending})
	var revoke, disable *store.Operation
	for i, o := range ops {
		switch {
		case o.EmployeeID == "E2" && o.Kind == store.OpRevoke:
			revoke = &ops[i]
		case o.EmployeeID == "E3" && o.Kind == store.OpDisable:
			disable = &ops[i]
		}
	}
	if revoke == nil || revoke.NotBefore.Before(before.Add(7*24*time.Hour-time.Minute)) || !strings.Contains(revoke.Reason, "grace") {
		t.Fatalf("the mover's old group is not kept for the grace period: %+v", revoke)
	}
	if disable == nil || disable.Priority != store.PriorityDisable || !strings.Contains(disable.Reason, "person left") {
		t.Fatalf("the leaver's disable: %+v", disable)
	}
	e.drain(t)
	bob, _ := e.eng.Apps()["directory"].Conn.Get(ctx, "E2")
	if len(bob.Entitlements) != 1 {
		t.Fatalf("the mover lost the admin group before the grace period: %+v", bob)
	}
	cat, _ := e.eng.Apps()["directory"].Conn.Get(ctx, "E3")
	if !cat.Disabled {
		t.Fatalf("the leaver is not disabled: %+v", cat)
	}
}

// An app that keeps failing is quarantined and visible; the others go on;
// once it answers again its operations complete.
func TestQuarantineThenRecovery(t *testing.T) {
	s := testenv.StartSlapd(t)
	sc := testenv.StartSCIMServer(t)
	e := setup(t, ldapApp(s)+scimApp(sc))
	ctx := context.Background()
	sc.Fail(t, 503, 0, 1000)
	e.importCSV(t, smallOrg)
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	if err := e.eng.Drain(dctx, []string{"directory"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if n := len(accounts(t, e.eng.Apps()["directory"].Conn)); n != 3 {
		t.Fatalf("slapd has %d accounts while the SCIM app fails, want 3", n)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		e.eng.RunOnce(ctx)
		states, _ := e.st.AppStates(ctx)
		q := false
		for _, st := range states {
			q = q || (st.App == "crm" && st.QuarantinedUntil.After(time.Now()) && strings.Contains(st.LastError, "503"))
		}
		if q {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failing app was never quarantined: %+v", states)
		}
		time.Sleep(20 * time.Millisecond) // retries back off; poll until the quarantine shows
	}
	sc.Fail(t, 503, 0, 0)
	e.drain(t)
	if n := len(accounts(t, e.eng.Apps()["crm"].Conn)); n != 3 {
		t.Fatalf("the SCIM app has %d accounts after recovery, want 3", n)
	}
}

// drift: remediate takes away what nothing grants and disables leavers
// still active.
func TestDriftRemediate(t *testing.T) {
	s := testenv.StartSlapd(t)
	e := setup(t, strings.Replace(ldapApp(s), "drift: report", "drift: remediate", 1))
	ctx := context.Background()
	e.importCSV(t, smallOrg)
	e.drain(t)
	// Someone adds Cat to the admin group by hand.
	conn := s.Conn(t)
	cat, _ := e.eng.Apps()["directory"].Conn.Get(ctx, "E3")
	if err := conn.Modify(modifyAdd(adminGroup, "member", cat.ID)); err != nil {
		t.Fatal(err)
	}
	rep, err := e.eng.Reconcile(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Apps[0].Drift != 1 || rep.Apps[0].Updated < 1 {
		t.Fatalf("reconcile: %+v", rep.Apps[0])
	}
	cat, _ = e.eng.Apps()["directory"].Conn.Get(ctx, "E3")
	if len(cat.Entitlements) != 0 {
		t.Fatalf("drift not remediated: %+v", cat)
	}
	fs, _ := e.st.Findings(ctx, "entitlement-drift", "directory", "open")
	if len(fs) != 1 || !strings.Contains(fs[0].Detail, "granted by nothing") {
		t.Fatalf("findings %+v", fs)
	}
}

func modifyAdd(dn, attr, value string) *goldap.ModifyRequest {
	m := goldap.NewModifyRequest(dn, nil)
	m.Add(attr, []string{value})
	return m
}

// A leaver whose account someone re-enabled by hand is reported, and with
// drift: remediate disabled again.
func TestLeaverStillActiveRemediated(t *testing.T) {
	s := testenv.StartSlapd(t)
	e := setup(t, strings.Replace(ldapApp(s), "drift: report", "drift: remediate", 1))
	ctx := context.Background()
	e.importCSV(t, smallOrg)
	e.drain(t)
	e.importCSV(t, strings.Replace(smallOrg, "Cat Clerk,E3,cat@dtaa.com,Clerk,,1,1,3 - Ops,,Ann Boss\n", "", 1))
	e.drain(t)
	dir := e.eng.Apps()["directory"].Conn
	cat, _ := dir.Get(ctx, "E3")
	if !cat.Disabled {
		t.Fatalf("leaver not disabled: %+v", cat)
	}
	if err := dir.Enable(ctx, cat); err != nil { // by hand, behind Tango's back
		t.Fatal(err)
	}
	rep, err := e.eng.Reconcile(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Apps[0].LeaverActive != 1 || rep.Apps[0].Disabled != 1 {
		t.Fatalf("reconcile: %+v", rep.Apps[0])
	}
	if cat, _ = dir.Get(ctx, "E3"); !cat.Disabled {
		t.Fatalf("leaver still active after remediation: %+v", cat)
	}
	fs, _ := e.st.Findings(ctx, "leaver-active", "directory", "open")
	if len(fs) != 1 || fs[0].Subject != "E3" || fs[0].Team != "security" {
		t.Fatalf("findings %+v", fs)
	}
}

// A grant that would break a separation-of-duties rule is not made and
// becomes a finding.
func TestSoDWithheldIsAFinding(t *testing.T) {
	e := setup(t, `
  - name: directory
    connector: manual
    owner: it
separation_of_duties:
  - {name: admin-and-ceo, entitlements: ["directory:`+adminGroup+`", "directory:board"]}
`)
	// the CEO gets "board" by a role added here; Bob the ITAdmin too
	e.cfg.Roles = append(e.cfg.Roles, config.Role{Name: "board", When: `person.title == "CEO" || person.display_name == "Bob Admin"`,
		Grants: []config.Grant{{App: "directory", Entitlements: []string{"board"}}}})
	pol, err := policy.Compile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.eng = provision.New(e.st, pol, e.eng.Apps(), provision.Options{Poll: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	ctx := context.Background()
	e.importCSV(t, smallOrg)
	e.drain(t)
	tasks, _ := e.st.Tasks(ctx, store.TaskFilter{Person: "E2"})
	for _, tk := range tasks {
		if strings.Contains(tk.Title, "board") {
			t.Fatalf("the withheld grant was made: %s", tk.Title)
		}
	}
	fs, _ := e.st.Findings(ctx, "sod-violation", "", "open")
	if len(fs) != 1 || !strings.Contains(fs[0].Detail, "admin-and-ceo") || !strings.Contains(fs[0].Detail, "board") {
		t.Fatalf("findings %+v", fs)
	}
}

// A leaver's accounts are disabled, then their sessions revoked in every
// app whose connector offers it (webhook, manual, SCIM with a revocation
// endpoint), never in the others (LDAP, SCIM without one), and nobody
// else's; each revocation runs after the disable, with its audit entry.
func TestLeaverSessionsRevokedAfterDisable(t *testing.T) {
	s := testenv.StartSlapd(t)
	sc := testenv.StartSCIMServer(t)
	var mu sync.Mutex
	var seen []string // "type key", in the order the hook received them
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify("s3cret-hmac", r.Header.Get("X-Tango-Timestamp"), string(body), r.Header.Get("X-Tango-Signature"), time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var d struct {
			Type    string
			Account struct{ Key string }
		}
		json.Unmarshal(body, &d)
		mu.Lock()
		seen = append(seen, d.Type+" "+d.Account.Key)
		mu.Unlock()
	}))
	defer hook.Close()
	scimWith := func(name, extra string) string {
		return fmt.Sprintf(`
  - name: %s
    connector: scim
    url: %s
    token: %s
    account:
      attributes: {userName: person.employee_id, displayName: person.display_name}%s
`, name, sc.URL, sc.Token, extra)
	}
	e := setup(t, ldapApp(s)+`
  - name: chat
    connector: webhook
    url: `+hook.URL+`
    secret: s3cret-hmac
  - name: payroll
    connector: manual
    owner: finance
`+scimWith("wiki", "")+scimWith("sso", "\n    revoke_sessions_path: /Users/{id}/revokeSessions\n    drift: remediate"))
	ctx := context.Background()
	want := map[string]bool{"directory": false, "chat": true, "payroll": true, "wiki": false, "sso": true}
	for app, offers := range want {
		if got := e.eng.RevokesSessions(app); got != offers {
			t.Errorf("RevokesSessions(%s) = %v, want %v", app, got, offers)
		}
	}
	e.importCSV(t, smallOrg)
	e.drain(t)
	// The payroll team makes the joiners' accounts: their operations wait
	// for those tasks until then.
	joined, _ := e.st.Ops(ctx, store.OpFilter{App: "payroll", State: store.OpWaiting})
	if len(joined) != 3 {
		t.Fatalf("payroll operations waiting for the joiners' tasks: %+v, want 3", joined)
	}
	for _, o := range joined {
		if _, err := taskrule.Complete(ctx, e.st, o.TaskID, "made in the payroll console", "finance-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// Cat (E3) leaves; Bob (E2) moves, and so loses access too.
	moved := strings.Replace(smallOrg, "Bob Admin,E2,bob@dtaa.com,ITAdmin", "Bob Admin,E2,bob@dtaa.com,Engineer", 1)
	moved = strings.Replace(moved, "Cat Clerk,E3,cat@dtaa.com,Clerk,,1,1,3 - Ops,,Ann Boss\n", "", 1)
	e.importCSV(t, moved)
	ops, err := e.st.Ops(ctx, store.OpFilter{})
	if err != nil {
		t.Fatal(err)
	}
	disable, sessions := map[string]store.Operation{}, map[string]store.Operation{}
	for _, o := range ops {
		switch {
		case o.Kind == store.OpRevokeSessions && o.EmployeeID != "E3":
			t.Errorf("sessions revoked for %s, who did not leave: %+v", o.EmployeeID, o)
		case o.Kind == store.OpRevokeSessions:
			if _, dup := sessions[o.App]; dup {
				t.Errorf("two revoke_sessions operations in %s", o.App)
			}
			sessions[o.App] = o
		case o.Kind == store.OpDisable && o.EmployeeID == "E3":
			disable[o.App] = o
		}
	}
	for app, offers := range want {
		d, ok := disable[app]
		if !ok {
			t.Fatalf("no disable of the leaver in %s", app)
		}
		r, ok := sessions[app]
		if ok != offers {
			t.Errorf("%s: revoke_sessions queued = %v, want %v", app, ok, offers)
			continue
		}
		if offers && (r.ID < d.ID || r.Priority != store.PrioritySessions || r.State != store.OpPending || !strings.Contains(r.Reason, "person left")) {
			t.Errorf("%s: revoke_sessions %+v, want after disable %d, priority %d, pending, for the person leaving", app, r, d.ID, store.PrioritySessions)
		}
	}
	e.drain(t)
	// The payroll team's tasks: the operations wait for them, then are done.
	waiting, _ := e.st.Ops(ctx, store.OpFilter{EmployeeID: "E3", App: "payroll", State: store.OpWaiting})
	if len(waiting) != 2 {
		t.Fatalf("payroll operations of E3 waiting for their tasks: %+v, want the disable and the session revocation", waiting)
	}
	for _, o := range waiting {
		if _, err := taskrule.Complete(ctx, e.st, o.TaskID, "done in the payroll console", "finance-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := e.st.Ops(ctx, store.OpFilter{EmployeeID: "E3"})
	done := 0
	for _, o := range all {
		if o.State != store.OpDone {
			t.Errorf("operation %d (%s %s) is %s: %s", o.ID, o.Kind, o.App, o.State, o.LastError)
		}
		if o.Kind == store.OpRevokeSessions {
			done++
		}
	}
	if done != 3 {
		t.Fatalf("%d revoke_sessions operations done, want 3", done)
	}
	// The apps got them, after the disable.
	mu.Lock()
	var cat []string
	for _, s := range seen {
		if strings.HasSuffix(s, " E3") {
			cat = append(cat, s)
		}
	}
	mu.Unlock()
	if strings.Join(cat, ", ") != "account.created E3, account.disabled E3, account.sessions_revoked E3" {
		t.Errorf("chat received for E3: %q, want the disable then the session revocation", cat)
	}
	tasks, _ := e.st.Tasks(ctx, store.TaskFilter{App: "payroll", Person: "E3"})
	var titles []string
	for _, tk := range tasks {
		titles = append(titles, tk.Title)
	}
	if len(titles) != 3 || !strings.HasPrefix(titles[1], "Disable the account of") || !strings.HasPrefix(titles[2], "End every session and token of") {
		t.Errorf("payroll tasks for E3: %q, want create, disable, end sessions", titles)
	}
	ssoAcc, err := e.eng.Apps()["sso"].Conn.Get(ctx, "E3")
	if err != nil || !ssoAcc.Disabled {
		t.Fatalf("sso account of E3: %+v, %v", ssoAcc, err)
	}
	revoked := sc.SessionRevocations(t)
	if len(revoked) != 1 || revoked[ssoAcc.ID] != 1 {
		t.Errorf("SCIM server revocations %v, want one, for E3's sso User %s (none for wiki)", revoked, ssoAcc.ID)
	}
	// Enabled again behind Tango's back: reconcile disables the leaver and
	// revokes the sessions again.
	if err := e.eng.Apps()["sso"].Conn.Enable(ctx, ssoAcc); err != nil {
		t.Fatal(err)
	}
	rep, err := e.eng.Reconcile(ctx, []string{"sso"})
	if err != nil || len(rep.Apps) != 1 || rep.Apps[0].LeaverActive != 1 || rep.Apps[0].Disabled != 1 || rep.Apps[0].SessionsRevoked != 1 {
		t.Fatalf("reconcile of sso: %+v, %v", rep, err)
	}
	if n := sc.SessionRevocations(t)[ssoAcc.ID]; n != 2 {
		t.Errorf("after remediation %d revocations of E3's sessions in sso, want 2", n)
	}
	entries, _ := e.st.AuditEntries(ctx, 0, 100000)
	audited := map[string]bool{}
	for _, en := range entries {
		if en.Action == "provision.revoke_sessions" && en.Subject == "E3" {
			var after struct{ App string }
			json.Unmarshal(en.After, &after)
			audited[after.App] = true
		}
	}
	if len(audited) != 3 || !audited["chat"] || !audited["payroll"] || !audited["sso"] {
		t.Errorf("audited session revocations in %v, want chat, payroll and sso", audited)
	}
}

// revoke_sessions_path belongs to SCIM apps and must name the User's id.
func TestRevokeSessionsPathConfig(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct{ app, want string }{
		{`{name: dir, connector: ldap, url: "ldap://127.0.0.1:1", revoke_sessions_path: "/Users/{id}/revokeSessions"}`, `app "dir": revoke_sessions_path is for connector scim`},
		{`{name: hook, connector: webhook, url: "http://127.0.0.1:1", secret: s, revoke_sessions_path: "/x/{id}"}`, `app "hook": revoke_sessions_path is for connector scim`},
		{`{name: idp, connector: scim, url: "http://127.0.0.1:1/scim/v2", token: t, revoke_sessions_path: "/Users/revokeSessions"}`, `app "idp": scim: RevokeSessionsPath`},
	} {
		cfg, err := config.Parse([]byte("apps: ["+tc.app+"]"), "tango.yaml")
		if err != nil {
			t.Fatal(err)
		}
		apps, err := app.LoadApps(cfg, st, time.Now)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadApps = %v, %v; want an error containing %q", tc.app, apps, err, tc.want)
		}
	}
}

// A manual app's team hears of each task its connector makes: the message
// is stored with the task, names it by its ID, and waits in the outbox.
func TestManualTaskNotifiesTheTeam(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Parse([]byte(`
sources: [{name: hris, key: id, mapping: {display_name: name}}]
apps:
  - {name: badge-system, connector: manual, owner: facilities}
notifications:
  smtp: {host: 127.0.0.1, port: 2525, from: tango@dtaa.com, tls: none}
  teams:
    facilities: {email: facilities@dtaa.com}
`), "tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	apps, err := app.LoadApps(cfg, st, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var handed *connector.HandedOff
	if _, err := apps["badge-system"].Conn.Create(ctx, connector.Account{Key: "E7", Name: "e7"}); !errors.As(err, &handed) {
		t.Fatalf("a manual change returned %v, want it handed to a task", err)
	}
	tasks, err := st.Tasks(ctx, store.TaskFilter{App: "badge-system"})
	if err != nil || len(tasks) != 1 || tasks[0].Team != "facilities" {
		t.Fatalf("tasks %+v, %v", tasks, err)
	}
	ns, err := st.Notifications(ctx, store.NotificationFilter{Task: tasks[0].ID})
	if err != nil || len(ns) != 1 {
		t.Fatalf("notifications of task %d: %+v, %v", tasks[0].ID, ns, err)
	}
	n := ns[0]
	want := fmt.Sprintf("tango tasks complete %d ", tasks[0].ID)
	if n.Address != "facilities@dtaa.com" || n.State != store.NotifyPending || !strings.Contains(n.Body, want) ||
		strings.Contains(n.Body+n.Subject, store.TaskIDPlaceholder) || !strings.Contains(n.Subject, "badge-system") && !strings.Contains(n.Body, "badge-system") {
		t.Fatalf("notification %+v", n)
	}
}

// A pre-hire's accounts are made before the start date, disabled, with
// the first day's access; the start date's joiner event enables them.
func TestPrehireReadyBeforeStartEnabledOnIt(t *testing.T) {
	s := testenv.StartSlapd(t)
	e := setup(t, ldapApp(s))
	e.cfg.Sources[0].Mapping["start_date"] = "start_date"
	ctx := context.Background()
	start := time.Now().AddDate(0, 0, 3).Format("2006-01-02")
	org := "employee_name,user_id,email,role,projects,business_unit,functional_unit,department,team,supervisor,start_date\n" +
		"Ann Boss,E1,ann@dtaa.com,CEO,,1,1,1 - Exec,,,2020-01-01\n" +
		"Dan New,E9,dan@dtaa.com,ITAdmin,,1,1,2 - IT,,Ann Boss," + start + "\n"
	res := e.importCSV(t, org)
	if res.Joiners != 2 || res.Scheduled != 1 {
		t.Fatalf("import: %+v", res)
	}
	e.drain(t)
	dir := e.eng.Apps()["directory"].Conn
	dan, err := dir.Get(ctx, "E9")
	if err != nil || !dan.Disabled || !slices.Contains(dan.Entitlements, adminGroup) {
		t.Fatalf("the pre-hire's account before the start date: %+v, %v; want it there, disabled, with the admin group", dan, err)
	}
	if ann, err := dir.Get(ctx, "E1"); err != nil || ann.Disabled {
		t.Fatalf("an active joiner's account: %+v, %v", ann, err)
	}
	// The start date comes: the scheduled joiner is applied and planned.
	due, err := hr.ApplyDue(ctx, e.st, time.Now().AddDate(0, 0, 4), "scheduler")
	if err != nil || len(due) != 1 || due[0].EmployeeID != "E9" || due[0].Type != store.EventJoiner {
		t.Fatalf("due events %+v, %v", due, err)
	}
	if _, err := e.eng.PlanPending(ctx); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if dan, err = dir.Get(ctx, "E9"); err != nil || dan.Disabled {
		t.Fatalf("the account on the start date: %+v, %v; want it enabled", dan, err)
	}
	ops, _ := e.st.Ops(ctx, store.OpFilter{EmployeeID: "E9"})
	var kinds []string
	for _, o := range ops {
		kinds = append(kinds, o.Kind)
		if o.Kind == store.OpEnable && !strings.Contains(o.Reason, "start date") {
			t.Fatalf("enable reason %q", o.Reason)
		}
	}
	if got := strings.Join(kinds, ","); !strings.HasPrefix(got, "create,disable,") || !strings.Contains(got, "enable") {
		t.Fatalf("operations of the pre-hire: %s", got)
	}
}

// A manual app's operation is done when a person completes its task, or
// when the app's accounts export shows the change, not when the task is
// made: until then it is waiting, and so is the joiner's access clock.
func TestManualOperationDoneWhenItsTaskIs(t *testing.T) {
	export := filepath.Join(t.TempDir(), "badge.csv")
	if err := os.WriteFile(export, []byte("key,name,disabled,entitlements\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := setup(t, `
  - name: directory
    connector: manual
    owner: it
    accounts_file: `+export+`
`)
	ctx := context.Background()
	e.importCSV(t, smallOrg)
	e.drain(t) // returns: operations waiting for people are not due
	ops, err := e.st.Ops(ctx, store.OpFilter{App: "directory"})
	if err != nil || len(ops) != 4 {
		t.Fatalf("operations %+v, %v: want 3 creates and Bob's grant", ops, err)
	}
	taskOf := map[string]int64{}
	for _, o := range ops {
		if o.Kind != store.OpCreate {
			continue
		}
		if o.State != store.OpWaiting || o.TaskID == 0 {
			t.Fatalf("operation %+v: want waiting for its task", o)
		}
		taskOf[o.EmployeeID] = o.TaskID
	}
	waitingClocks := func() int {
		cs, err := e.st.LifecycleClocks(ctx, time.Now().Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range cs {
			if c.Kind == store.ClockAccess && c.Waiting > 0 {
				n++
			}
		}
		return n
	}
	if n := waitingClocks(); n != 3 {
		t.Fatalf("%d joiners waiting for access, want 3 (their tasks are open)", n)
	}
	// IT completes Ann's task.
	if _, err := taskrule.Complete(ctx, e.st, taskOf["E1"], "badge printed", "it-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	// Bob's account shows in the export without anyone closing the task.
	if err := os.WriteFile(export, []byte("key,name,disabled,entitlements\nE2,Bob Admin,false,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := e.eng.SettleWaiting(ctx); err != nil || n != 1 {
		t.Fatalf("settled %d from the export, %v: want Bob's", n, err)
	}
	state := map[string]string{}
	ops, _ = e.st.Ops(ctx, store.OpFilter{App: "directory"})
	for _, o := range ops {
		if o.Kind == store.OpCreate {
			state[o.EmployeeID] = o.State
		}
	}
	if state["E1"] != store.OpDone || state["E2"] != store.OpDone || state["E3"] != store.OpWaiting {
		t.Fatalf("states %v: want E1 and E2 done, E3 waiting", state)
	}
	tasks, _ := e.st.Tasks(ctx, store.TaskFilter{App: "directory", Person: "E2"})
	if len(tasks) != 2 || tasks[0].Status != store.TaskDone || !strings.Contains(tasks[0].Evidence, "accounts export of directory shows it") ||
		tasks[1].Status != store.TaskOpen {
		t.Fatalf("Bob's tasks %+v: want the create done, with the export as evidence, the grant open (the export does not show it)", tasks)
	}
	if n := waitingClocks(); n != 2 {
		t.Fatalf("%d joiners waiting for access, want 2 (Bob's grant, Cat)", n)
	}
}

// An app that cannot be reached: its operations are retrying, with their
// attempts, error and next try, and are tried again when that comes.
func TestUnreachableAppRetries(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	e := setup(t, `
  - name: directory
    connector: scim
    url: `+url+`/scim/v2
    token: t
    account:
      attributes: {userName: person.email, externalId: person.employee_id}
`)
	ctx := context.Background()
	e.importCSV(t, smallOrg)
	if _, err := e.eng.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	ops, _ := e.st.Ops(ctx, store.OpFilter{App: "directory"})
	if len(ops) != 4 {
		t.Fatalf("operations %+v: want 3 creates and Bob's grant", ops)
	}
	for _, o := range ops {
		if o.Kind != store.OpCreate {
			continue
		}
		if o.State != store.OpRetrying || o.Attempts != 1 || o.LastError == "" || !o.NotBefore.After(o.UpdatedAt) {
			t.Fatalf("operation %+v: want retrying after 1 attempt, with its error and a later next try", o)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := e.eng.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		ops, _ = e.st.Ops(ctx, store.OpFilter{App: "directory", State: store.OpRetrying})
		if len(ops) > 0 && ops[0].Attempts >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no second attempt: %+v", ops)
		}
		time.Sleep(20 * time.Millisecond) // poll until the backoff has passed
	}
}

// failingFindings is a store whose findings cannot be recorded.
type failingFindings struct {
	store.Store
	err error
}

func (s failingFindings) AddFinding(context.Context, store.Finding) error { return s.err }

// A separation-of-duties finding that cannot be recorded fails the
// planning that found it.
func TestSoDFindingThatCannotBeRecordedFailsThePlan(t *testing.T) {
	e := setup(t, `
  - name: directory
    connector: manual
    owner: it
separation_of_duties:
  - {name: admin-and-ceo, entitlements: ["directory:`+adminGroup+`", "directory:board"]}
`)
	e.cfg.Roles = append(e.cfg.Roles, config.Role{Name: "board", When: `person.display_name == "Bob Admin"`,
		Grants: []config.Grant{{App: "directory", Entitlements: []string{"board"}}}})
	pol, err := policy.Compile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.eng = provision.New(e.st, pol, e.eng.Apps(), provision.Options{Poll: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	e.importCSV(t, smallOrg)
	broken := errors.New("findings table unavailable")
	eng := provision.New(failingFindings{Store: e.st, err: broken}, pol, e.eng.Apps(), provision.Options{Poll: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	if _, err := eng.PlanAll(context.Background()); !errors.Is(err, broken) || !strings.Contains(err.Error(), "board") {
		t.Fatalf("PlanAll with a failing findings store: %v, want the failure naming the withheld grant", err)
	}
}
