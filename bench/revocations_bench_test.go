package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/tango-iga/tango/bench/synth"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/ldap"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/scheduler"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

// The revocation benchmark's sizes: revoked of the entitlement's holders
// are revoked by reviewers; the others (the reviewers among them) keep it.
// $TANGO_BENCH_REVOKED changes the number revoked (a quick check: 500).
var (
	revoked = envInt("TANGO_BENCH_REVOKED", 10_000)
	holders = revoked + 50
)

const (
	reviewers  = 5
	benchGroup = "cn=bench-users,ou=groups,dc=dtaa,dc=com"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// revocationsConfig: one LDAP app (slapd), an account for everyone
// active and the bench-users group for everyone active (a birthright
// grant, so a revocation must hold against the role).
func revocationsConfig(s *testenv.Slapd) string {
	return fmt.Sprintf(`
org: {name: Bench, timezone: UTC}
sources:
  - name: hris
    kind: file
    format: csv
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, team: team, manager: supervisor}
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
      dn: '"uid=" + dn.escape(person.employee_id) + ",%s"'
      attributes: {uid: person.employee_id, cn: person.display_name, sn: person.display_name, mail: person.email, employeeNumber: person.employee_id}
    correlate: {account_attribute: employeeNumber, person: person.employee_id}
    disable: {replace: {employeeType: [disabled]}}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: directory}]}
  - {name: users, when: 'person.status == "active"', grants: [{app: directory, entitlements: ["%s"]}]}
`, s.URL, s.BindDN, s.Password, s.People(), s.Groups(), s.People(), benchGroup)
}

// BenchmarkReviewRevocations10k is the issue's goal "10,000 revocations
// decided → all removed in slapd and verified by reconcile in under 2
// minutes". An organisation of holders persons is in a real slapd, each
// with an account and the bench-users group; an entitlement campaign on
// the group is open. Then, with the background jobs of `tango serve`
// running (the provisioning job and the scheduler, at their defaults),
// reviewers of the owning team decide revoke on 10,000 items through the
// review service as the API's decide handler does (Decide, then plan the
// revocation), an admin closes the campaign, and the clock runs until
// the campaign is complete (every revoked item read back from slapd and
// verified). Finally slapd itself is asked who is in the group.
//
// Metrics: decide-s (the 10,000 decisions), applied-s (from the first
// decision until every removal operation is done), verified-s (from then
// until the campaign is complete), total-s (first decision to complete;
// also ns/op), after-decided-s (last decision to complete), peakRSS-MB
// (this process's VmHWM over the measured part) and slapdRSS-MB.
func BenchmarkReviewRevocations10k(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var sum revocationsRun
			for range b.N {
				r := runRevocations(b, kind)
				b.Logf("%s: decide %.1f s, applied %.1f s, verified %.1f s, total %.1f s (%.1f s after the last decision); peak RSS %.0f MB, slapd %.0f MB; load before %s, after %s",
					kind, r.decide, r.applied, r.verified, r.total, r.afterDecided, r.rss, r.slapdRSS, r.loadBefore, r.loadAfter)
				sum.decide += r.decide
				sum.applied += r.applied
				sum.verified += r.verified
				sum.total += r.total
				sum.afterDecided += r.afterDecided
				sum.rss = max(sum.rss, r.rss)
				sum.slapdRSS = max(sum.slapdRSS, r.slapdRSS)
			}
			n := float64(b.N)
			b.ReportMetric(sum.total*1e9/n, "ns/op")
			b.ReportMetric(sum.decide/n, "decide-s")
			b.ReportMetric(sum.applied/n, "applied-s")
			b.ReportMetric(sum.verified/n, "verified-s")
			b.ReportMetric(sum.total/n, "total-s")
			b.ReportMetric(sum.afterDecided/n, "after-decided-s")
			b.ReportMetric(sum.rss, "peakRSS-MB")
			b.ReportMetric(sum.slapdRSS, "slapdRSS-MB")
		})
	}
}

// revocationsRun is what one run measured, in seconds and MB.
type revocationsRun struct {
	decide, applied, verified, total, afterDecided float64
	rss, slapdRSS                                  float64
	loadBefore, loadAfter                          string
}

func runRevocations(b *testing.B, kind string) revocationsRun {
	b.StopTimer()
	ctx := context.Background()
	sl := testenv.StartSlapd(b)
	cfg, err := config.Parse([]byte(revocationsConfig(sl)), "revocations.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dsn := "sqlite:" + filepath.Join(b.TempDir(), "tango.db")
	if kind == "postgres" {
		dsn = testenv.PostgresDSN(b)
	}
	st, err := app.OpenStore(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := app.Engine(st, cfg, log, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	org := synth.Generate(holders, seed)
	loadDirectory(b, st, cfg, eng, sl, org)

	svc, err := review.New(st, cfg, review.Options{Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	c, _, err := svc.Start(ctx, review.StartOptions{Kind: "entitlement", App: "directory", Entitlement: benchGroup, Actor: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	items, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if err != nil || len(items) != holders {
		b.Fatalf("campaign of %d items (%v), want %d", len(items), err, holders)
	}
	// The reviewers are members of the owning team it; nobody decides
	// their own item, so theirs (and a few others) stay undecided and are
	// kept at the close.
	slices.SortFunc(items, func(x, y store.ReviewItem) int { return strings.Compare(x.EmployeeID, y.EmployeeID) })
	who := make([]authz.Principal, reviewers)
	for i := range who {
		who[i] = authz.Principal{Person: items[i].EmployeeID, Source: "hris", Roles: []authz.Role{authz.IT, authz.Employee}, Teams: []string{"it"}, Via: "bench"}
	}
	toRevoke := items[holders-revoked:]

	// The background jobs of `tango serve` with apps: the scheduler (which
	// closes due campaigns and verifies closed ones) every
	// scheduler.DefaultEvery, and the provisioning job at its defaults.
	sched := scheduler.New(st, nil, eng, log, time.Now).WithReviews(scheduler.Reviews{Service: svc, Reader: eng})
	run, err := runner.New(log, time.After,
		runner.Job{Name: "scheduler", RunOnce: sched.RunOnce, Poll: scheduler.DefaultEvery}, eng.Job())
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- run.Run(runCtx, ctx) }()
	defer func() {
		stop()
		if err := <-ran; err != nil {
			b.Error(err)
		}
	}()

	r := revocationsRun{loadBefore: loadavg()}
	resetHWM()
	b.StartTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, reviewers)
	for i, p := range who {
		wg.Go(func() {
			for j := i; j < len(toRevoke); j += reviewers {
				it, err := svc.Decide(ctx, p, toRevoke[j].ID, store.DecisionRevoke, "access review: no longer needs the bench-users group")
				if err != nil || it.State != store.ItemRevoking {
					errs <- fmt.Errorf("%s revoking item %d: %+v %v", p.Person, toRevoke[j].ID, it, err)
					return
				}
				// What the API's decide handler does next.
				if _, err := eng.PlanRevocations(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	t1 := time.Now()
	if _, err := svc.Close(ctx, c.ID, "person:"+who[0].Person); err != nil {
		b.Fatal(err)
	}
	// Poll the store until every removal has run (each decision queued
	// its own), then until the campaign is complete: reads through
	// indexes, so that polling takes little from the work measured.
	deadline := t0.Add(15 * time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var t2 time.Time
	some := func(state string) bool {
		ops, err := st.Ops(ctx, store.OpFilter{State: state, Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		return len(ops) > 0
	}
	for {
		if t2.IsZero() {
			if some(store.OpFailed) {
				b.Fatal("a removal operation failed")
			}
			if !some(store.OpPending) && !some(store.OpRetrying) && !some(store.OpRunning) {
				t2 = time.Now()
			}
		}
		cur, err := st.Campaign(ctx, c.ID)
		if err != nil {
			b.Fatal(err)
		}
		if cur.State == store.CampaignComplete {
			if t2.IsZero() {
				t2 = time.Now()
			}
			break
		}
		if time.Now().After(deadline) {
			counts, _ := st.OpCounts(ctx)
			b.Fatalf("campaign %d is %s after %s; operations %v", c.ID, cur.State, time.Since(t0).Round(time.Second), counts)
		}
		<-tick.C
	}
	t3 := time.Now()
	b.StopTimer()
	r.decide, r.applied, r.verified = t1.Sub(t0).Seconds(), t2.Sub(t0).Seconds(), t3.Sub(t2).Seconds()
	r.total, r.afterDecided = t3.Sub(t0).Seconds(), t3.Sub(t1).Seconds()
	r.rss, r.slapdRSS, r.loadAfter = vmHWM(), slapdHWM(sl), loadavg()

	// What the store says and what slapd says.
	after, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if err != nil {
		b.Fatal(err)
	}
	verified, kept := 0, 0
	for _, it := range after {
		switch {
		case it.Decision == store.DecisionRevoke && it.State == store.ItemVerified && it.Operation != 0 && !it.VerifiedAt.IsZero():
			verified++
		case it.State == store.ItemKept:
			kept++
		}
	}
	if verified != revoked || kept != holders-revoked {
		b.Fatalf("%d items verified and %d kept, want %d and %d", verified, kept, revoked, holders-revoked)
	}
	members := groupMemberSet(b, sl)
	for _, it := range toRevoke {
		if members["uid="+strings.ToLower(it.EmployeeID)+","+sl.People()] {
			b.Fatalf("slapd still lists %s in %s", it.EmployeeID, benchGroup)
		}
	}
	if len(members) != holders-revoked {
		b.Fatalf("slapd lists %d members of %s, want %d", len(members), benchGroup, holders-revoked)
	}
	return r
}

// loadDirectory brings the organisation in (outside the measurement):
// the HR import, the accounts and the group in slapd written in bulk,
// and the grants Tango records for them, so that the plan has nothing
// left to do (checked).
func loadDirectory(b *testing.B, st store.Store, cfg *config.Config, eng *provision.Engine, sl *testenv.Slapd, org *synth.Org) {
	b.Helper()
	ctx := context.Background()
	src, _ := cfg.Source("hris")
	res, err := hr.ImportFile(ctx, st, cfg, src, "m0.csv", org.CSV(), hr.Options{Actor: "bench"})
	if err != nil || res.Status != store.ImportApplied {
		b.Fatalf("loading the organisation: %v %v", res.Status, err)
	}
	persons, err := st.Persons(ctx, store.PersonFilter{})
	if err != nil || len(persons) != holders {
		b.Fatalf("%d persons (%v), want %d", len(persons), err, holders)
	}
	dir := eng.Apps()["directory"]
	now := time.Now()
	accounts := make([]connector.Account, 0, len(persons))
	grants := make([]store.GrantRow, 0, 2*len(persons))
	group := goldap.NewAddRequest(benchGroup, nil)
	group.Attribute("objectClass", []string{"top", "groupOfNames"})
	group.Attribute("cn", []string{"bench-users"})
	var members []string
	for i := range persons {
		p := &persons[i]
		a, err := dir.Account(policy.Input{Person: p}, now)
		if err != nil {
			b.Fatal(err)
		}
		accounts = append(accounts, a)
		members = append(members, a.ID)
		grants = append(grants,
			store.GrantRow{App: "directory", Source: p.Source, EmployeeID: p.EmployeeID, State: "active", Reason: "role staff", UpdatedAt: now},
			store.GrantRow{App: "directory", Source: p.Source, EmployeeID: p.EmployeeID, Entitlement: benchGroup, State: "active", Reason: "role users", UpdatedAt: now})
	}
	group.Attribute("member", members)
	if n, err := dir.Conn.(*ldap.Connector).Load(ctx, accounts); err != nil || n != len(accounts) {
		b.Fatalf("loading slapd: %d accounts, %v", n, err)
	}
	conn := sl.Conn(b)
	if err := conn.Add(group); err != nil {
		b.Fatalf("adding %s: %v", benchGroup, err)
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Put: grants}); err != nil {
		b.Fatal(err)
	}
	// The import's events: planned now, with nothing to do.
	if n, err := eng.PlanPending(ctx); err != nil || n != 0 {
		b.Fatalf("planning the import: %d operations, %v; want none", n, err)
	}
	if n, err := eng.PlanAll(ctx); err != nil || n != 0 {
		b.Fatalf("plan after loading: %d operations, %v; want none", n, err)
	}
}

// groupMemberSet asks slapd who is in the benchmark's group (lower-cased
// DNs; the placeholder of an empty groupOfNames left out).
func groupMemberSet(b *testing.B, sl *testenv.Slapd) map[string]bool {
	b.Helper()
	res, err := sl.Conn(b).Search(goldap.NewSearchRequest(benchGroup, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"member"}, nil))
	if err != nil || len(res.Entries) != 1 {
		b.Fatalf("reading %s: %v", benchGroup, err)
	}
	out := map[string]bool{}
	for _, dn := range res.Entries[0].GetAttributeValues("member") {
		if dn != "" {
			out[strings.ToLower(dn)] = true
		}
	}
	return out
}

// resetHWM resets this process's peak resident memory (VmHWM) to its
// current size, so that vmHWM reports the peak of what follows (Linux).
func resetHWM() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	runtime.GC()
}

// slapdHWM is slapd's peak resident memory in MB.
func slapdHWM(sl *testenv.Slapd) float64 {
	pid, err := os.ReadFile(filepath.Join(sl.Dir, "slapd.pid"))
	if err != nil {
		return 0
	}
	status, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 64)
			return n / 1024
		}
	}
	return 0
}

// loadavg is the 1-minute load average.
func loadavg() string {
	s, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(s))[0]
}
