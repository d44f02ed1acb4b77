package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tango-iga/tango/bench/synth"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

// reviewsConfig: the CERT layout of the synthetic organisation, 10 apps,
// and one role giving everyone accounts in five of them (so items have a
// role origin, the other half none the policy explains).
const reviewsConfig = `
org: {name: Bench, timezone: UTC}
sources:
  - name: hris
    kind: file
    format: csv
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, team: team, manager: supervisor}
apps:
  - {name: app0, connector: manual, owner: it}
  - {name: app1, connector: manual, owner: it}
  - {name: app2, connector: manual, owner: it}
  - {name: app3, connector: manual, owner: it}
  - {name: app4, connector: manual, owner: it}
  - {name: app5, connector: manual, owner: it}
  - {name: app6, connector: manual, owner: it}
  - {name: app7, connector: manual, owner: it}
  - {name: app8, connector: manual, owner: it}
  - {name: app9, connector: manual, owner: it}
roles:
  - name: staff
    when: 'person.status == "active"'
    grants: [{app: app0}, {app: app1}, {app: app2}, {app: app3}, {app: app4}]
`

// grantsPerPerson: an account and one entitlement in each of 10 apps.
const grantsPerPerson = 20

// reviewsChildEnv names the store a child process starts the campaign in.
const reviewsChildEnv = "TANGO_BENCH_REVIEWS_STORE"

// reviewsReport is what the child prints.
type reviewsReport struct {
	Items      int     `json:"items"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	Campaign   int64   `json:"campaign"`
}

// loadReviews fills a store with the 100,000 persons, their 2 million
// grants and the last use of their million accounts (outside the
// measurement).
func loadReviews(b testing.TB, dsn string) {
	b.Helper()
	ctx := context.Background()
	cfg, err := config.Parse([]byte(reviewsConfig), "reviews.yaml")
	if err != nil {
		b.Fatal(err)
	}
	st, err := app.OpenStore(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	src, _ := cfg.Source("hris")
	org := synth.Generate(persons, seed)
	res, err := hr.ImportFile(ctx, st, cfg, src, "m0.csv", org.CSV(), hr.Options{Actor: "bench"})
	if err != nil || res.Status != store.ImportApplied {
		b.Fatalf("loading the organisation: %v %v", res.Status, err)
	}
	const chunk = 10_000 // persons per batch
	at := time.Now()
	for lo := 0; lo < len(org.Persons); lo += chunk {
		var put []store.GrantRow
		var acts []store.AccountActivity
		for i, p := range org.Persons[lo:min(lo+chunk, len(org.Persons))] {
			for a := range grantsPerPerson / 2 {
				name := fmt.Sprintf("app%d", a)
				put = append(put,
					store.GrantRow{App: name, Source: "hris", EmployeeID: p.UserID, State: "active", Reason: "bench", UpdatedAt: at},
					store.GrantRow{App: name, Source: "hris", EmployeeID: p.UserID, Entitlement: fmt.Sprintf("e%d", a), State: "active", Reason: "bench", UpdatedAt: at})
				// Every account's last use, as reconcile records it (1 to
				// 200 days ago): the campaign's start reads them all.
				acts = append(acts, store.AccountActivity{App: name, Source: "hris", EmployeeID: p.UserID,
					LastActivity: at.Add(-time.Duration(1+(lo+i+a)%200) * 24 * time.Hour), ReadAt: at})
			}
		}
		if err := st.QueueOps(ctx, store.ProvisionBatch{Put: put}); err != nil {
			b.Fatal(err)
		}
		if err := st.PutAccountActivity(ctx, acts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReviewsLoad fills the store $TANGO_BENCH_REVIEWS_LOAD names with
// the benchmark's persons and grants, for profiling the child by hand
// (bench/README.md). Without it, it does nothing.
func TestReviewsLoad(t *testing.T) {
	dsn := os.Getenv("TANGO_BENCH_REVIEWS_LOAD")
	if dsn == "" {
		t.Skip("loads a store for profiling by hand")
	}
	loadReviews(t, dsn)
}

// TestReviewsStartChild is the child of BenchmarkReviews100k: it starts a
// manager campaign in the store $TANGO_BENCH_REVIEWS_STORE names and
// prints what it took. Without it, it does nothing.
func TestReviewsStartChild(t *testing.T) {
	dsn := os.Getenv(reviewsChildEnv)
	if dsn == "" {
		t.Skip("the child of BenchmarkReviews100k")
	}
	ctx := context.Background()
	cfg, err := config.Parse([]byte(reviewsConfig), "reviews.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := app.OpenStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := review.New(st, cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if prof := os.Getenv("TANGO_BENCH_REVIEWS_CPUPROFILE"); prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuSeconds()
	start := time.Now()
	c, _, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Actor: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	if prof := os.Getenv("TANGO_BENCH_REVIEWS_MEMPROFILE"); prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			t.Fatal(err)
		}
	}
	r := reviewsReport{Items: c.Items, Seconds: time.Since(start).Seconds(), CPUSeconds: cpuSeconds() - cpu0,
		PeakRSSMB: vmHWM(), Campaign: c.ID}
	out, _ := json.Marshal(r)
	fmt.Printf("REVIEWS %s\n", out)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// vmHWM is the process's peak resident memory in MB (Linux).
func vmHWM() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kb, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var n float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), "%f", &n)
			return n / 1024
		}
	}
	return 0
}

// BenchmarkReviews100k: 100,000 persons with 20 grants each (2 million).
// Starting a manager campaign over all of them runs in a child process
// (this test binary, TestReviewsStartChild), so that its peak memory is
// its own: ns/op is the Start call, start-cpu-s its CPU time (PostgreSQL's
// not included), peakRSS-MB the child's VmHWM. Then 1,000 reviewers'
// pages (the items a manager reviews, as GET
// /api/v1/reviews/{id}/items?reviewer= reads them): page-p50-ms,
// page-p99-ms. Goals (issue 13): start under 20 s and 1 GB, a page's p99
// under 50 ms.
func BenchmarkReviews100k(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var start, cpu, rss float64
			var pages []time.Duration
			for range b.N {
				b.StopTimer()
				dsn := "sqlite:" + filepath.Join(b.TempDir(), "tango.db")
				if kind == "postgres" {
					dsn = testenv.PostgresDSN(b)
				}
				loadReviews(b, dsn)
				cmd := exec.Command(os.Args[0], "-test.run", "^TestReviewsStartChild$", "-test.count", "1")
				cmd.Env = append(os.Environ(), reviewsChildEnv+"="+dsn)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					b.Fatalf("child: %v\n%s%s", err, stderr.Bytes(), stdout.Bytes())
				}
				var r reviewsReport
				for _, line := range strings.Split(stdout.String(), "\n") {
					if j, ok := strings.CutPrefix(line, "REVIEWS "); ok {
						if err := json.Unmarshal([]byte(j), &r); err != nil {
							b.Fatal(err)
						}
					}
				}
				if r.Items != persons*grantsPerPerson {
					b.Fatalf("campaign of %d items, want %d\n%s", r.Items, persons*grantsPerPerson, stdout.Bytes())
				}
				b.Logf("%s: %+v", kind, r)
				start += r.Seconds
				cpu += r.CPUSeconds
				rss = max(rss, r.PeakRSSMB)
				pages = append(pages, reviewerPages(b, dsn, r.Campaign)...)
			}
			slices.Sort(pages)
			b.ReportMetric(start*1e9/float64(b.N), "ns/op")
			b.ReportMetric(cpu/float64(b.N), "start-cpu-s")
			b.ReportMetric(rss, "peakRSS-MB")
			b.ReportMetric(float64(quantile(pages, 0.5).Microseconds())/1000, "page-p50-ms")
			b.ReportMetric(float64(quantile(pages, 0.99).Microseconds())/1000, "page-p99-ms")
		})
	}
}

// reviewerPages reads the items of 1,000 reviewers picked at random
// (every reviewer has their own items listed; a team lead about 40
// persons × 20), timing each.
func reviewerPages(b *testing.B, dsn string, campaign int64) []time.Duration {
	b.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ps, err := st.Persons(ctx, store.PersonFilter{})
	if err != nil {
		b.Fatal(err)
	}
	reviewers := map[string]bool{}
	for _, p := range ps {
		if p.ManagerID != "" {
			reviewers[p.ManagerID] = true
		}
	}
	ids := make([]string, 0, len(reviewers))
	for id := range reviewers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rng := rand.New(rand.NewPCG(seed, 2))
	var out []time.Duration
	for range 1000 {
		id := ids[rng.IntN(len(ids))]
		t0 := time.Now()
		items, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: campaign, Reviewer: id})
		d := time.Since(t0)
		if err != nil || len(items) == 0 {
			b.Fatalf("reviewer %s: %d items, %v", id, len(items), err)
		}
		out = append(out, d)
	}
	return out
}
