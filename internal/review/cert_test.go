package review_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/evidence"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/testenv"
)

const adminGroup = "cn=it-admins,ou=groups,dc=dtaa,dc=com"

// certConfig provisions the CERT organisation into slapd: everyone
// active has an account, ITAdmins are in the it-admins group by role (a
// birthright grant), and the directory is owned by the it team.
func certConfig(s *testenv.Slapd) string {
	return fmt.Sprintf(`
org: {name: DTAA, timezone: America/New_York}
sources:
  - name: hris
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, team: team, business_unit: business_unit, manager: supervisor}
apps:
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
      dn: '"uid=" + person.employee_id + ",%s"'
      object_classes: [top, person, organizationalPerson, inetOrgPerson]
      attributes: {uid: person.employee_id, cn: person.display_name, sn: person.display_name, mail: person.email, employeeNumber: person.employee_id, title: person.title}
    correlate: {account_attribute: employeeNumber, person: person.employee_id}
    disable: {replace: {employeeType: [disabled]}}
    drift: report
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: directory}]}
  - {name: it-admins, when: 'person.title == "ITAdmin"', grants: [{app: directory, entitlements: ["%s"]}]}
`, s.URL, s.BindDN, s.Password, s.People(), s.Groups(), s.People(), adminGroup)
}

// groupMembers asks slapd itself who is in the admin group.
func groupMembers(t *testing.T, s *testenv.Slapd) []string {
	t.Helper()
	conn := s.Conn(t)
	res, err := conn.Search(goldap.NewSearchRequest(adminGroup, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"member"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, dn := range res.Entries[0].GetAttributeValues("member") {
		out = append(out, strings.ToLower(dn))
	}
	return out
}

// TestCERTReviewRevokesAdminsAndVerifies is issue 13's proof: the CERT
// organisation provisioned into slapd, an app campaign on the directory's
// admin group, the it team revoking two ITAdmins who changed jobs (the
// reviewer's knowledge: the HR feed still calls them ITAdmins, so their
// role keeps granting the group); after the close slapd no longer lists
// them in the group, the items carry the operation and the time it was
// verified, and the next plan does not give the birthright back.
func TestCERTReviewRevokesAdminsAndVerifies(t *testing.T) {
	s := testenv.StartSlapd(t)
	ctx := context.Background()
	cfg, err := config.Parse([]byte(certConfig(s)), "cert.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pol, err := policy.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := app.LoadApps(cfg, st, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	eng := provision.New(st, pol, apps, provision.Options{Poll: 20 * time.Millisecond, BackoffBase: 50 * time.Millisecond,
		BackoffCeiling: time.Second, QuarantineFor: 300 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	defer eng.Close()
	data, err := os.ReadFile("../../testdata/cert-r5.2-ldap/2009-12.csv")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := cfg.Source("hris")
	if res, err := hr.ImportFile(ctx, st, cfg, src, "2009-12.csv", data, hr.Options{Actor: "test", Provision: eng.ForImport}); err != nil || res.Status != store.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	drain := func() {
		t.Helper()
		dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := eng.Drain(dctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	drain()
	if n := len(groupMembers(t, s)); n != 80 {
		t.Fatalf("slapd lists %d in the admin group, want the 80 ITAdmins", n)
	}

	svc, err := review.New(st, cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewApp, App: "directory", Entitlement: adminGroup, Due: 14 * 24 * time.Hour, Actor: "person:OCW1127"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Items != 80 || len(items) != 80 || c.State != store.CampaignOpen || !strings.HasPrefix(c.Digest, "sha256:") {
		t.Fatalf("campaign %+v with %d items, want 80 open with a digest", c, len(items))
	}
	for _, it := range items {
		if it.Origin != store.OriginRole || it.Why != "role it-admins" || it.Team != "it" || !strings.HasPrefix(it.Recommendation, "keep:") {
			t.Fatalf("item %+v: want a birthright of role it-admins reviewed by team it", it)
		}
	}
	// The snapshot's digest is on the audit trail.
	ents, err := st.AuditQuery(ctx, store.AuditFilter{Action: "review.started"})
	if err != nil || len(ents) != 1 || !strings.Contains(string(ents[0].After), c.Digest) {
		t.Fatalf("review.started entries %v (%v), want one carrying %s", ents, err, c.Digest)
	}

	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.EmployeeID
	}
	slices.Sort(ids)
	moved := ids[:2]    // the two who changed jobs
	reviewer := ids[79] // an ITAdmin of the it team, reviewing the others
	as := func(id string) authz.Principal {
		return authz.Principal{Person: id, Source: "hris", Roles: []authz.Role{authz.IT, authz.Employee}, Teams: []string{"it"}, Via: "test"}
	}
	item := func(id string) store.ReviewItem {
		for _, it := range items {
			if it.EmployeeID == id {
				return it
			}
		}
		t.Fatalf("no item for %s", id)
		return store.ReviewItem{}
	}
	// Four eyes: the reviewer may not keep their own access.
	if _, err := svc.Decide(ctx, as(reviewer), item(reviewer).ID, store.DecisionKeep, "still an admin"); domain.KindOf(err) != domain.KindForbidden {
		t.Fatalf("deciding one's own item: %v, want forbidden", err)
	}
	// Someone outside the it team may not decide.
	outsider := authz.Principal{Person: "MMK1532", Source: "hris", Roles: []authz.Role{authz.Employee}, Via: "test"}
	if _, err := svc.Decide(ctx, outsider, item(moved[0]).ID, store.DecisionRevoke, "x"); domain.KindOf(err) != domain.KindForbidden {
		t.Fatalf("an outsider's decision: %v, want forbidden", err)
	}
	for _, id := range moved {
		it, err := svc.Decide(ctx, as(reviewer), item(id).ID, store.DecisionRevoke, "changed jobs: no longer administers the directory")
		if err != nil || it.State != store.ItemRevoking {
			t.Fatalf("revoke %s: %+v %v", id, it, err)
		}
	}
	if _, err := svc.Decide(ctx, as(reviewer), item(moved[0]).ID, store.DecisionKeep, ""); domain.KindOf(err) != domain.KindConflict {
		t.Fatalf("deciding twice: %v, want a conflict", err)
	}

	c, err = svc.Close(ctx, c.ID, "person:OCW1127")
	if err != nil || c.State != store.CampaignClosed {
		t.Fatalf("close: %+v %v", c, err)
	}
	// Nothing has run yet: the campaign is not complete.
	prs, err := svc.Verify(ctx, eng, c.ID, "test")
	if err != nil || len(prs) != 1 || prs[0].Campaign.State != store.CampaignClosed || prs[0].Revoked != 2 || prs[0].Verified != 0 {
		t.Fatalf("verify before the removal ran: %+v %v", prs, err)
	}

	// Reconcile: plan (the revocations at once), run, read everything back.
	rep, err := eng.Reconcile(ctx, nil)
	if err != nil || rep.Apps[0].Failed != 0 || rep.Apps[0].Drift != 0 {
		t.Fatalf("reconcile: %+v %v", rep, err)
	}
	prs, err = svc.Verify(ctx, eng, 0, "test")
	if err != nil || len(prs) != 1 || prs[0].Campaign.State != store.CampaignComplete || prs[0].Verified != 2 {
		t.Fatalf("verify after reconcile: %+v %v", prs, err)
	}

	members := groupMembers(t, s)
	if len(members) != 78 {
		t.Fatalf("slapd lists %d in the admin group, want 78", len(members))
	}
	for _, id := range moved {
		dn := strings.ToLower("uid=" + id + "," + s.People())
		if slices.Contains(members, dn) {
			t.Fatalf("slapd still lists %s in the admin group", id)
		}
	}
	after, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	kept, verified := 0, 0
	for _, it := range after {
		switch {
		case slices.Contains(moved, it.EmployeeID):
			op, err := st.Ops(ctx, store.OpFilter{App: "directory", EmployeeID: it.EmployeeID})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(op, func(o store.Operation) bool { return o.ID == it.Operation })
			if it.State != store.ItemVerified || it.VerifiedAt.IsZero() || i < 0 || op[i].Kind != store.OpRevoke ||
				op[i].State != store.OpDone || !strings.Contains(op[i].Reason, "changed jobs") || !strings.Contains(it.Evidence, "no longer holds") {
				t.Fatalf("revoked item %+v (operations %+v): want verified with its operation", it, op)
			}
			verified++
		case it.State == store.ItemKept && it.Automatic && it.DecidedBy == review.PolicyActor:
			kept++
		}
	}
	if verified != 2 || kept != 78 {
		t.Fatalf("%d verified, %d kept by the policy; want 2 and 78", verified, kept)
	}
	// The role still gives the group: the revocation holds at the next plan.
	if n, err := eng.PlanAll(ctx); err != nil || n != 0 {
		t.Fatalf("plan after the review: %d operations, %v; want none (the revocation holds)", n, err)
	}
	drain()
	if len(groupMembers(t, s)) != 78 {
		t.Fatal("the next plan gave the revoked admin group back")
	}

	// The auditor's evidence: every item with its verification, the
	// snapshot's digest; verified offline, and one changed CSV byte is
	// named.
	bundle, err := evidence.Campaign(ctx, st, c.ID, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bundle.Summary {
		if l.Label == "Complete (all removals verified)" && (l.Value == "" || strings.HasPrefix(l.Value, "not yet")) {
			t.Fatalf("the summary says the complete campaign is %q", l.Value)
		}
	}
	out := filepath.Join(t.TempDir(), "evidence")
	m, err := evidence.Write(out, bundle, time.Now())
	if err != nil || m.Rows["items"] != 80 || m.SnapshotDigest != c.Digest {
		t.Fatalf("export: %+v %v; want 80 items and the digest %s", m, err, c.Digest)
	}
	csv, _ := os.ReadFile(filepath.Join(out, "items.csv"))
	for _, id := range moved {
		if !strings.Contains(string(csv), id) || strings.Count(string(csv), ",revoke,") != 2 {
			t.Fatalf("items.csv lacks %s's revocation:\n%.2000s", id, csv)
		}
	}
	if _, err := evidence.Verify(out, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}
	csv[len(csv)/2] ^= 1
	os.WriteFile(filepath.Join(out, "items.csv"), csv, 0o600)
	if _, err := evidence.Verify(out, nil); err == nil || !strings.Contains(err.Error(), "items.csv") {
		t.Fatalf("verify of a changed items.csv: %v", err)
	}
}

// TestLastActivityFromSlapdToTheReview is the path of a sign-in into a
// review: the small organisation provisioned into a slapd running the
// lastbind overlay, Bob signs in to the directory, reconcile records when
// (authTimestamp), and a campaign started 143 days later shows his
// account inactive for 143 days, recommended for revocation; Cat, who
// never signed in, shows no last activity.
func TestLastActivityFromSlapdToTheReview(t *testing.T) {
	s := testenv.StartSlapdWith(t, testenv.SlapdOptions{LastBind: true})
	ctx := context.Background()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
org: {name: DTAA, timezone: UTC}
sources:
  - name: hris
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor}
apps:
  - name: directory
    connector: ldap
    owner: it
    url: %s
    bind_dn: %s
    bind_password: %s
    base_dn: %s
    group_base_dn: %s
    account:
      dn: '"uid=" + person.employee_id + ",%s"'
      object_classes: [top, person, organizationalPerson, inetOrgPerson]
      attributes: {uid: person.employee_id, cn: person.display_name, sn: person.display_name, employeeNumber: person.employee_id}
    correlate: {account_attribute: employeeNumber, person: person.employee_id}
    disable: {replace: {employeeType: [disabled]}}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: directory}]}
`, s.URL, s.BindDN, s.Password, s.People(), s.Groups(), s.People())), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pol, err := policy.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := app.LoadApps(cfg, st, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	eng := provision.New(st, pol, apps, provision.Options{Poll: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	defer eng.Close()
	src, _ := cfg.Source("hris")
	if res, err := hr.ImportFile(ctx, st, cfg, src, "org.csv", []byte(smallOrg), hr.Options{Actor: "test", Provision: eng.ForImport}); err != nil || res.Status != store.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	dctx, dcancel := context.WithTimeout(ctx, time.Minute)
	defer dcancel()
	if err := eng.Drain(dctx, nil); err != nil {
		t.Fatal(err)
	}
	// Bob gets a password (as the directory's own sign-up would) and signs in.
	root := s.Conn(t)
	bob := "uid=E2," + s.People()
	if err := root.Modify(&goldap.ModifyRequest{DN: bob, Changes: []goldap.Change{{Operation: goldap.ReplaceAttribute,
		Modification: goldap.PartialAttribute{Type: "userPassword", Vals: []string{"bob-secret"}}}}}); err != nil {
		t.Fatalf("Bob's password (is his account there?): %v", err)
	}
	signedIn := time.Now().UTC()
	conn, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(bob, "bob-secret"); err != nil {
		t.Fatalf("Bob signs in: %v", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := eng.Reconcile(rctx, nil); err != nil {
		t.Fatal(err)
	}
	acts, err := st.AccountActivities(ctx, "directory")
	if err != nil || len(acts) != 1 || acts[0].EmployeeID != "E2" || acts[0].LastActivity.Sub(signedIn).Abs() > 2*time.Second {
		t.Fatalf("activity after reconcile: %+v %v; want Bob's sign-in at about %v", acts, err, signedIn)
	}
	later := signedIn.Add(143*24*time.Hour + time.Hour)
	svc, err := review.New(st, cfg, review.Options{Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	_, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewApp, App: "directory", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := byPerson(items)
	if it := m["E2/"]; it.InactiveDays != 143 || !it.LastActivity.Equal(acts[0].LastActivity) || !strings.HasPrefix(it.Recommendation, "revoke: inactive for 143 days") {
		t.Errorf("Bob's item: %+v; want inactive for 143 days, recommended for revocation", it)
	}
	if it := m["E3/"]; !it.LastActivity.IsZero() || strings.Contains(it.Recommendation, "inactive") {
		t.Errorf("Cat's item (never signed in): %+v", it)
	}
}
