package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tango-iga/tango/bench/synth"
	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/testenv"
)

// BenchmarkLeaverLatency measures, for 100 leavers one after another, the
// time from the HR event reaching `tango serve` (a snapshot POSTed to
// /api/v1/imports without the leaver) to the leaver's account being
// disabled in both slapd and the independent SCIM server, observed by
// polling both apps. It reports p50, p99 and max.
func BenchmarkLeaverLatency(b *testing.B) {
	const people, leavers = 300, 100
	ctx := context.Background()
	sl := testenv.StartSlapd(b)
	sc := testenv.StartSCIMServer(b)
	doc := fmt.Sprintf(`
org: {name: Bench, timezone: UTC}
sources:
  - name: hris
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, team: team, manager: supervisor}
    safeguards: {max_leavers: "5"}
apps:
  - name: directory
    connector: ldap
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
  - name: crm
    connector: scim
    url: %s
    token: %s
    account:
      attributes: {userName: person.email, externalId: person.employee_id, displayName: person.display_name}
    correlate: {account_attribute: externalId, person: person.employee_id}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: directory}, {app: crm}]}
`, sl.URL, sl.BindDN, sl.Password, sl.People(), sl.Groups(), sl.People(), sc.URL, sc.Token)
	cfg, err := config.Parse([]byte(doc), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(b.TempDir(), "t.db"))
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
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	r, err := runner.New(log, time.After, eng.Job())
	if err != nil {
		b.Fatal(err)
	}
	go r.Run(runCtx, ctx)
	srv := httptest.NewServer(api.New(api.Options{Store: st, Config: cfg, Logger: log, Now: time.Now, Engine: eng}))
	defer srv.Close()
	tok, _, err := auth.CreateFor(ctx, st, "bench", "api", "", time.Now(), "hr", "it")
	if err != nil {
		b.Fatal(err)
	}
	post := func(org *synth.Org) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/imports?source=hris", bytes.NewReader(org.CSV()))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("import: %d %s", resp.StatusCode, body)
		}
	}
	org := synth.Generate(people, 7)
	post(org)
	dir, crm := eng.Apps()["directory"].Conn, eng.Apps()["crm"].Conn
	deadline := time.Now().Add(3 * time.Minute)
	for {
		n := 0
		_ = crm.List(ctx, func(connector.Account) error { n++; return nil })
		if n == people {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("initial provisioning: %d of %d accounts in the SCIM app", n, people)
		}
		time.Sleep(50 * time.Millisecond) // waiting for the initial load, not measured
	}
	// Leavers: people without reports, one per import.
	managers := map[string]bool{}
	for _, p := range org.Persons {
		managers[p.Supervisor] = true
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < leavers; i++ {
		idx := slices.IndexFunc(org.Persons, func(p synth.Person) bool { return !managers[p.Name] })
		if idx < 0 {
			b.Fatal("no leaver left")
		}
		gone := org.Persons[idx]
		org.Persons = slices.Delete(org.Persons, idx, idx+1)
		start := time.Now()
		post(org)
		for {
			a, errA := dir.Get(ctx, gone.UserID)
			c, errC := crm.Get(ctx, gone.UserID)
			if errA == nil && errC == nil && a.Disabled && c.Disabled {
				break
			}
			if time.Since(start) > time.Minute {
				b.Fatalf("leaver %s not disabled after a minute (ldap %v %v, scim %v %v)", gone.UserID, a.Disabled, errA, c.Disabled, errC)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Milliseconds()) }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
}
