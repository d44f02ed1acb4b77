package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tango-iga/tango/bench/synth"
	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/signin"
	"github.com/tango-iga/tango/internal/store"
)

// readsConfig is config.Default's CERT layout with Tango's own roles
// given by title, so that persons of the synthetic organisation sign in
// with the roles the workspace's personas have.
const readsConfig = `
org: {name: Bench, timezone: America/New_York}
sources:
  - name: hris
    kind: file
    format: csv
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, team: team, manager: supervisor}
    safeguards: {max_leavers: "5%%"}
apps: [{name: erp, connector: manual, owner: it}]
authorization:
  roles:
    hr: {when: 'person.title == "HumanResourceSpecialist"'}
    security: {when: 'person.title == "ITAdmin"'}
    it: {when: 'person.title == "ITAdmin"'}
roles:
  - name: power-user
    when: person.employee_id == "%s"
    grants: [{app: erp, entitlements: [%s]}]
`

// readsFixture is one SQLite store holding the 100,000 persons, built
// once per process, and a server over it.
var readsFixture struct {
	once  sync.Once
	dir   string
	st    store.Store
	cfg   *config.Config
	org   *synth.Org
	power string // the person with 30 grants
	err   error
}

func readsSetup(b *testing.B) {
	b.Helper()
	readsFixture.once.Do(func() {
		f := &readsFixture
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "tango-reads-")
		if err != nil {
			f.err = err
			return
		}
		f.dir = dir
		f.org = synth.Generate(persons, seed)
		// The person with 30 grants: someone with no reports, halfway down.
		f.power = f.org.Persons[len(f.org.Persons)/2].UserID
		ents := make([]string, 30)
		for i := range ents {
			ents[i] = fmt.Sprintf("e%02d", i)
		}
		if f.cfg, f.err = config.Parse([]byte(fmt.Sprintf(readsConfig, f.power, strings.Join(ents, ", "))), "reads.yaml"); f.err != nil {
			return
		}
		if f.st, f.err = app.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "reads.db")); f.err != nil {
			return
		}
		log := slog.New(slog.DiscardHandler)
		eng, err := app.Engine(f.st, f.cfg, log, time.Now)
		if err != nil {
			f.err = err
			return
		}
		defer eng.Close()
		src, err := f.cfg.Source("hris")
		if err != nil {
			f.err = err
			return
		}
		res, err := app.Imports(f.st, f.cfg, eng, time.Now).Import(ctx, hr.File{Source: src, Name: "m0.csv", Data: f.org.CSV(), Actor: "bench"})
		if err != nil {
			f.err = err
			return
		}
		if res.Status != store.ImportApplied {
			f.err = fmt.Errorf("loading the organisation: %s", res.Status)
		}
	})
	if readsFixture.err != nil {
		b.Fatal(readsFixture.err)
	}
}

// readTarget is one kind of request the benchmark makes: a path for the
// i-th request, made as a caller (an Authorization or Cookie header).
type readTarget struct {
	name   string
	path   func(i int) string
	header func(i int) (string, string)
}

// timed wraps a handler to record its server time per target.
type timed struct {
	next http.Handler
	mu   sync.Mutex
	durs map[string][]time.Duration
	size map[string]int
}

func (t *timed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w}
	start := time.Now()
	t.next.ServeHTTP(cw, r)
	d := time.Since(start)
	name := r.Header.Get("X-Bench-Target")
	t.mu.Lock()
	t.durs[name] = append(t.durs[name], d)
	t.size[name] = max(t.size[name], cw.n)
	t.mu.Unlock()
}

type countingWriter struct {
	http.ResponseWriter
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += n
	return n, err
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// runReads sends each target's requests from 50 concurrent clients and
// reports p50, p99 and the largest answer per target.
func runReads(b *testing.B, h http.Handler, targets []readTarget, perTarget int) {
	runReadsPaced(b, h, targets, perTarget, 0)
}

// runReadsPaced is runReads with each client pausing between requests, a
// random time between think/2 and 3*think/2 (a person reading the page
// before the next click); 0 is no pause (a closed loop that keeps every
// client's request in flight: saturation).
func runReadsPaced(b *testing.B, h http.Handler, targets []readTarget, perTarget int, think time.Duration) {
	b.Helper()
	tm := &timed{next: h, durs: map[string][]time.Duration{}, size: map[string]int{}}
	srv := httptest.NewServer(tm)
	defer srv.Close()
	const clients = 50
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	cpu := map[string]time.Duration{}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for _, tg := range targets {
			cpu0 := cpuTime()
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					rnd := rand.New(rand.NewPCG(uint64(c), 1))
					for i := c; i < perTarget; i += clients {
						if think > 0 {
							time.Sleep(think/2 + time.Duration(rnd.Int64N(int64(think))))
						}
						req, _ := http.NewRequest("GET", srv.URL+tg.path(i), nil)
						k, v := tg.header(i)
						req.Header.Set(k, v)
						req.Header.Set("X-Bench-Target", tg.name)
						resp, err := client.Do(req)
						if err != nil {
							errs <- err
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							errs <- fmt.Errorf("%s: GET %s: %d", tg.name, tg.path(i), resp.StatusCode)
							return
						}
					}
				}(c)
			}
			wg.Wait()
			cpu[tg.name] += cpuTime() - cpu0
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	for _, tg := range targets {
		ds := tm.durs[tg.name]
		b.ReportMetric(float64(quantile(ds, 0.50).Microseconds())/1000, tg.name+"-p50-ms")
		b.ReportMetric(float64(quantile(ds, 0.99).Microseconds())/1000, tg.name+"-p99-ms")
		b.ReportMetric(float64(tm.size[tg.name])/1024, tg.name+"-max-KB")
		// CPU of the whole process (server and the 50 clients) per request:
		// what a request costs, whatever else the machine is doing.
		b.ReportMetric(float64(cpu[tg.name].Microseconds())/1000/float64(len(ds)), tg.name+"-cpu-ms")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkAPIReads100k: the /api/v1 reads the workspace's pages stand
// beside, on 100,000 persons in SQLite, 50 concurrent callers, each a
// person acting through their own token (roles resolved per request).
func BenchmarkAPIReads100k(b *testing.B) {
	h, targets := apiSetup(b)
	runReads(b, h, targets, 2000)
}

// BenchmarkAPIReads100kSessions: the same reads, each of the 50 callers
// pausing about a second between requests (as BenchmarkPages100kSessions).
func BenchmarkAPIReads100kSessions(b *testing.B) {
	h, targets := apiSetup(b)
	runReadsPaced(b, h, targets, 500, time.Second)
}

// apiSetups numbers the tokens of each setup (their names are unique).
var apiSetups atomic.Int64

func apiSetup(b *testing.B) (http.Handler, []readTarget) {
	readsSetup(b)
	f := &readsFixture
	ctx := context.Background()
	var hrIDs, anyIDs []string
	for _, p := range f.org.Persons {
		if p.Role == "HumanResourceSpecialist" && len(hrIDs) < 50 {
			hrIDs = append(hrIDs, p.UserID)
		}
	}
	for i := 0; i < len(f.org.Persons); i += len(f.org.Persons) / 1000 {
		anyIDs = append(anyIDs, f.org.Persons[i].UserID)
	}
	if len(hrIDs) == 0 {
		b.Fatal("no HumanResourceSpecialist in the synthetic organisation")
	}
	tokens := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			tok, _, err := auth.CreateFor(ctx, f.st, fmt.Sprintf("bench-%s-%d", id, apiSetups.Add(1)), "api", id, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			out[i] = tok
		}
		return out
	}
	hrTok, selfTok := tokens(hrIDs), tokens(anyIDs[:50])
	bearer := func(toks []string) func(int) (string, string) {
		return func(i int) (string, string) { return "Authorization", "Bearer " + toks[i%len(toks)] }
	}
	h := api.New(api.Options{Store: f.st, Config: f.cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
	return h, []readTarget{
		{"persons-page", func(i int) string { return "/api/v1/persons?limit=50&after=" + anyIDs[i%len(anyIDs)] }, bearer(hrTok)},
		{"person", func(i int) string { return "/api/v1/persons/" + anyIDs[i%len(anyIDs)] }, bearer(hrTok)},
		{"own-person", func(i int) string { return "/api/v1/persons/" + anyIDs[i%50] }, bearer(selfTok)},
		{"own-tasks", func(i int) string { return "/api/v1/tasks?person=" + anyIDs[i%50] }, bearer(selfTok)},
	}
}

// BenchmarkPages100k: the workspace's pages on the same data and load as
// BenchmarkAPIReads100k, each caller a signed-in browser session (the
// session looked up by its hash, roles resolved per request): HR's people
// search and person page, the employee's /me (a person with 30 grants),
// a manager's inbox, and the lists of HR, IT and Security.
func BenchmarkPages100k(b *testing.B) {
	h, targets := pagesSetup(b)
	runReads(b, h, targets, 1000)
}

// BenchmarkPages100kSessions: the same pages, the same 50 signed-in
// sessions, each pausing about a second between requests as a person
// reading a page does (about 50 requests a second in all), instead of
// the closed loop of BenchmarkPages100k where all 50 always wait for an
// answer (about 2,000 requests a second on 2 cores: saturation).
func BenchmarkPages100kSessions(b *testing.B) {
	h, targets := pagesSetup(b)
	runReadsPaced(b, h, targets, 500, time.Second)
}

func pagesSetup(b *testing.B) (http.Handler, []readTarget) {
	readsSetup(b)
	f := &readsFixture
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	sign := signin.New(signin.Options{Store: f.st, Config: f.cfg, Logger: log})
	var hrIDs, itIDs, managers, anyIDs []string
	reports := map[string]int{}
	for _, p := range f.org.Persons {
		reports[p.Supervisor]++
	}
	for _, p := range f.org.Persons {
		switch {
		case p.Role == "HumanResourceSpecialist" && len(hrIDs) < 50:
			hrIDs = append(hrIDs, p.UserID)
		case p.Role == "ITAdmin" && len(itIDs) < 50:
			itIDs = append(itIDs, p.UserID)
		case reports[p.Name] >= 5 && len(managers) < 50:
			managers = append(managers, p.UserID)
		}
	}
	for i := 0; i < len(f.org.Persons); i += len(f.org.Persons) / 1000 {
		anyIDs = append(anyIDs, f.org.Persons[i].UserID)
	}
	if len(hrIDs) == 0 || len(itIDs) == 0 || len(managers) == 0 {
		b.Fatalf("personas missing: %d hr, %d it, %d managers", len(hrIDs), len(itIDs), len(managers))
	}
	sessions := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			p, err := f.st.Person(ctx, "hris", id)
			if err != nil {
				b.Fatal(err)
			}
			if out[i], err = sign.OpenSession(ctx, p, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		return out
	}
	hrS, itS, mgrS, powerS := sessions(hrIDs), sessions(itIDs), sessions(managers), sessions([]string{f.power})
	cookie := func(ss []string) func(int) (string, string) {
		return func(i int) (string, string) { return "Cookie", signin.CookieName + "=" + ss[i%len(ss)] }
	}
	words := []string{"smith", "eng", "sales", "anna", "a1", "research", "lee", "software"}
	h := api.New(api.Options{Store: f.st, Config: f.cfg, Logger: log, Now: time.Now, Sessions: sign})
	// As `tango serve` does: its search-index job at start and every 2 s,
	// its workspace job at start and every 30 s.
	ix, _ := f.st.(interface{ RefreshPeopleSearch(context.Context) error })
	refresh := func(workspace bool) error {
		if ix != nil {
			if err := ix.RefreshPeopleSearch(ctx); err != nil {
				return err
			}
		}
		if workspace {
			return h.Refresh(ctx)
		}
		return nil
	}
	if err := refresh(true); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = refresh(n%15 == 0)
			}
		}
	}()
	b.Cleanup(func() { close(stop); <-done })
	fixed := func(p string) func(int) string { return func(int) string { return p } }
	targets := []readTarget{
		{"people-search", func(i int) string { return "/people?q=" + words[i%len(words)] }, cookie(hrS)},
		{"person-page", func(i int) string { return "/people/" + anyIDs[i%len(anyIDs)] }, cookie(hrS)},
		{"me-30-grants", fixed("/me"), cookie(powerS)},
		{"inbox-manager", fixed("/"), cookie(mgrS)},
		{"people-manager", fixed("/people"), cookie(mgrS)},
		{"cases", fixed("/cases"), cookie(hrS)},
		{"imports", fixed("/imports"), cookie(hrS)},
		{"requests", fixed("/requests"), cookie(mgrS)},
		{"apps", fixed("/apps"), cookie(itS)},
		{"findings", fixed("/findings"), cookie(itS)},
		{"audit", fixed("/audit"), cookie(itS)},
		{"teams", fixed("/teams"), cookie(hrS)},
	}
	return h, targets
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
