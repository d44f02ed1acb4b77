package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/scheduler"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/web"
)

const testConfig = `
org: {name: Testco, timezone: UTC}
sources:
  - name: hris
    kind: file
    key: user_id
    mapping:
      display_name: employee_name
      email: email
      title: role
      department: department
      manager: supervisor
      start_date: start_date
      employment_type: "'employee'"
    safeguards: {max_leavers: "1"}
  - name: pushed
    kind: scim
`

const header = "user_id,employee_name,email,role,department,supervisor,start_date\n"

// The first snapshot: five people active at once, one (E006) starting in 2999.
const snapshot1 = header +
	"E001,Alice Boss,alice@example.com,CEO,Exec,,\n" +
	"E002,Bob Lead,bob@example.com,Lead,Eng,Alice Boss,\n" +
	"E003,Carol Dev,carol@example.com,Engineer,Eng,E002,\n" +
	"E004,Dan Sales,dan@example.com,Seller,Sales,Alice Boss,\n" +
	"E005,Eve Dev,eve@example.com,Engineer,Eng,E002,\n" +
	"E006,Fay Future,fay@example.com,Seller,Sales,E004,2999-01-01\n"

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	t     *testing.T
	st    store.Store
	cfg   *config.Config
	srv   *api.Server
	sched *scheduler.Scheduler
	url   string
	logs  *syncBuffer
	token string // scope api
	admin string // scope admin
	scim  string // scope scim
	old   string // revoked
}

type fixtureOpts struct {
	now      func() time.Time
	maxBytes int64
}

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte(testConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, cfg: cfg, logs: &syncBuffer{}}
	now := time.Now()
	mk := func(name, scope string) string {
		tok, _, err := auth.CreateFor(ctx, st, name, scope, "", now, allRoles...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	f.token, f.admin, f.scim, f.old = mk("reader", "api"), mk("root", "admin"), mk("idp", "scim"), mk("old", "api")
	if err := auth.RevokeToken(ctx, st, "old", now); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	clock := o.now
	if clock == nil {
		clock = time.Now
	}
	f.srv = api.New(api.Options{Store: st, Config: cfg, Now: clock, MaxImportBytes: o.maxBytes, Logger: log})
	f.sched = scheduler.New(st, nil, nil, log, clock)
	hs := httptest.NewServer(f.srv)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

// seed imports snapshot1 the way the CLI does.
func (f *fixture) seed() hr.Result {
	f.t.Helper()
	src, err := f.cfg.Source("hris")
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := hr.ImportFile(context.Background(), f.st, f.cfg, src, "s1.csv", []byte(snapshot1), hr.Options{Actor: "test"})
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Status != store.ImportApplied || res.Joiners != 6 || res.Scheduled != 1 {
		f.t.Fatalf("seed import: %+v", res)
	}
	return res
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (f *fixture) do(method, path, token string, body io.Reader, hdr ...string) resp {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp{r.StatusCode, r.Header, b}
}

func (f *fixture) get(path, token string) resp { return f.do("GET", path, token, nil) }

// getJSON GETs path, wants the status and decodes the body into v.
func (f *fixture) getJSON(path, token string, want int, v any) {
	f.t.Helper()
	r := f.get(path, token)
	if r.status != want {
		f.t.Fatalf("GET %s: status %d, want %d; body %s", path, r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.t.Fatalf("GET %s: Content-Type %q, want JSON", path, ct)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		f.t.Fatalf("GET %s: %v; body %s", path, err, r.body)
	}
}

type personPage struct {
	Items []store.Person `json:"items"`
	Next  string         `json:"next"`
}

type eventPage struct {
	Items []store.Event `json:"items"`
	Next  string        `json:"next"`
}

func ids(ps []store.Person) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.EmployeeID)
	}
	return out
}

func TestAuth(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.seed()
	for _, c := range []struct {
		name, header string
		want         int
	}{
		{"no token", "", 401},
		{"unknown token", "Bearer tango_api_nope", 401},
		{"revoked token", "Bearer " + f.old, 401},
		{"scim-only token", "Bearer " + f.scim, 401},
		{"token without Bearer scheme", f.token, 401},
		{"api token", "Bearer " + f.token, 200},
		{"lower-case scheme", "bearer " + f.token, 200},
		{"admin token", "Bearer " + f.admin, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r resp
			if c.header == "" {
				r = f.get("/api/v1/persons", "")
			} else {
				r = f.do("GET", "/api/v1/persons", "", nil, "Authorization", c.header)
			}
			if r.status != c.want {
				t.Fatalf("status %d, want %d; body %s", r.status, c.want, r.body)
			}
			if c.want == 401 {
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want Bearer", r.header.Get("WWW-Authenticate"))
				}
				var e api.Error
				if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
					t.Errorf("401 body %s: want a JSON error (%v)", r.body, err)
				}
			}
		})
	}
	// Every authenticated route refuses a request without a token.
	for _, rt := range api.Routes {
		if rt.Perm == authz.Public {
			continue
		}
		r := f.do(rt.Method, strings.ReplaceAll(rt.Path, "{id}", "x"), "", nil)
		if r.status != 401 {
			t.Errorf("%s %s without a token: status %d, want 401", rt.Method, rt.Path, r.status)
		}
	}
}

func TestPersons(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.seed()

	var all personPage
	f.getJSON("/api/v1/persons", f.token, 200, &all)
	if got, want := ids(all.Items), []string{"E001", "E002", "E003", "E004", "E005", "E006"}; !slices.Equal(got, want) || all.Next != "" {
		t.Fatalf("all persons = %v next %q, want %v and no next", got, all.Next, want)
	}

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"status=prehire", []string{"E006"}},
		{"status=active", []string{"E001", "E002", "E003", "E004", "E005"}},
		{"status=left", []string{}},
		{"department=Eng", []string{"E002", "E003", "E005"}},
		{"manager=E002", []string{"E003", "E005"}},
		{"manager=E001", []string{"E002", "E004"}},
		{"department=Sales&status=active", []string{"E004"}},
		{"source=hris&department=Exec", []string{"E001"}},
		{"source=other", []string{}},
	} {
		var p personPage
		f.getJSON("/api/v1/persons?"+c.query, f.token, 200, &p)
		if got := ids(p.Items); !slices.Equal(got, c.want) {
			t.Errorf("persons?%s = %v, want %v", c.query, got, c.want)
		}
	}

	// Paging by employee ID: three pages of two, no gaps, no repeats.
	var seen []string
	after, pages := "", 0
	for {
		var p personPage
		f.getJSON("/api/v1/persons?limit=2&after="+after, f.token, 200, &p)
		pages++
		if len(p.Items) > 2 {
			t.Fatalf("page %d has %d items, limit 2", pages, len(p.Items))
		}
		seen = append(seen, ids(p.Items)...)
		if p.Next == "" {
			break
		}
		if p.Next != p.Items[len(p.Items)-1].EmployeeID {
			t.Fatalf("next %q is not the last item's ID %q", p.Next, p.Items[len(p.Items)-1].EmployeeID)
		}
		after = p.Next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if want := ids(all.Items); !slices.Equal(seen, want) || pages != 3 {
		t.Fatalf("paged through %v in %d pages, want %v in 3", seen, pages, want)
	}

	for _, q := range []string{"limit=0", "limit=x", "limit=-3", "status=gone"} {
		r := f.get("/api/v1/persons?"+q, f.token)
		var e api.Error
		if r.status != 400 || json.Unmarshal(r.body, &e) != nil || e.Error == "" {
			t.Errorf("persons?%s: status %d body %s, want 400 with a JSON error", q, r.status, r.body)
		}
	}

	// Detail with its event history.
	var d api.PersonDetail
	f.getJSON("/api/v1/persons/E002?source=hris", f.token, 200, &d)
	if d.EmployeeID != "E002" || d.DisplayName != "Bob Lead" || d.ManagerID != "E001" || d.Status != store.StatusActive {
		t.Errorf("person E002 = %+v", d.Person)
	}
	if len(d.Events) != 1 || d.Events[0].Type != store.EventJoiner || d.Events[0].EmployeeID != "E002" || d.Events[0].State != store.EventApplied {
		t.Errorf("events of E002 = %+v, want one applied joiner", d.Events)
	}
	f.getJSON("/api/v1/persons/E006", f.token, 200, &d)
	if d.Status != store.StatusPrehire || len(d.Events) != 1 || d.Events[0].State != store.EventScheduled {
		t.Errorf("E006 = %s with events %+v, want prehire with one scheduled joiner", d.Status, d.Events)
	}
	var e api.Error
	f.getJSON("/api/v1/persons/NOPE", f.token, 404, &e)
	if !strings.Contains(e.Error, "NOPE") {
		t.Errorf("404 error %q does not name the person", e.Error)
	}
	f.getJSON("/api/v1/persons/E002?source=other", f.token, 404, &e)
}

func TestImportsAndEvents(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	seed := f.seed()

	var list struct {
		Items []store.Import `json:"items"`
	}
	f.getJSON("/api/v1/imports", f.token, 200, &list)
	if len(list.Items) != 1 || list.Items[0].ID != seed.ImportID || list.Items[0].Joiners != 6 || list.Items[0].Actor != "test" {
		t.Fatalf("imports = %+v, want the seed import", list.Items)
	}
	f.getJSON("/api/v1/imports?source=other", f.token, 200, &list)
	if len(list.Items) != 0 {
		t.Errorf("imports of source other = %+v, want none", list.Items)
	}
	var d api.ImportDetail
	f.getJSON("/api/v1/imports/"+seed.ImportID, f.token, 200, &d)
	if d.ID != seed.ImportID || len(d.Events) != 6 {
		t.Errorf("import detail: id %q with %d events, want %q with 6", d.ID, len(d.Events), seed.ImportID)
	}
	var e api.Error
	f.getJSON("/api/v1/imports/imp_nope", f.token, 404, &e)

	var ev eventPage
	f.getJSON("/api/v1/events?type=joiner&state=scheduled", f.token, 200, &ev)
	if len(ev.Items) != 1 || ev.Items[0].EmployeeID != "E006" {
		t.Errorf("scheduled joiners = %+v, want E006", ev.Items)
	}
	f.getJSON("/api/v1/events?person=E003", f.token, 200, &ev)
	if len(ev.Items) != 1 || ev.Items[0].EmployeeID != "E003" {
		t.Errorf("events of E003 = %+v", ev.Items)
	}
	f.getJSON("/api/v1/events?import=imp_nope", f.token, 200, &ev)
	if len(ev.Items) != 0 {
		t.Errorf("events of an unknown import = %+v, want none", ev.Items)
	}
	f.getJSON("/api/v1/events?type=leaver", f.token, 200, &ev)
	if len(ev.Items) != 0 {
		t.Errorf("leavers = %+v, want none", ev.Items)
	}
	// Paging by event ID.
	var got []int64
	after := ""
	for i := 0; ; i++ {
		f.getJSON("/api/v1/events?limit=4&after="+after, f.token, 200, &ev)
		for _, x := range ev.Items {
			got = append(got, x.ID)
		}
		if ev.Next == "" {
			break
		}
		after = ev.Next
		if i > 5 {
			t.Fatal("event paging does not end")
		}
	}
	if len(got) != 6 || !slices.IsSorted(got) || slices.Compact(slices.Clone(got))[5] != got[5] {
		t.Errorf("paged event IDs %v, want 6 distinct ascending", got)
	}
	for _, q := range []string{"type=firing", "state=odd", "after=abc"} {
		if r := f.get("/api/v1/events?"+q, f.token); r.status != 400 {
			t.Errorf("events?%s: status %d, want 400", q, r.status)
		}
	}
}

func TestPostImport(t *testing.T) {
	var logs *syncBuffer
	f := newFixture(t, fixtureOpts{})
	logs = f.logs
	f.seed()
	post := func(query, ctype, body string) (resp, hr.Result) {
		t.Helper()
		r := f.do("POST", "/api/v1/imports"+query, f.token, strings.NewReader(body), "Content-Type", ctype)
		var res hr.Result
		if r.status < 300 || r.status == 422 {
			if err := json.Unmarshal(r.body, &res); err != nil {
				t.Fatalf("POST %s: %v; body %s", query, err, r.body)
			}
		}
		return r, res
	}

	// Rejected: two invalid rows, nothing written.
	bad := header + "E001,Alice Boss,not-an-email,CEO,Exec,,\nE001,Alice Twin,a2@example.com,CEO,Exec,,\n"
	r, res := post("?source=hris", "text/csv", bad)
	if r.status != 422 || res.Status != store.ImportRejected || len(res.Errors) < 2 {
		t.Fatalf("invalid feed: status %d result %+v, want 422 rejected with 2 errors", r.status, res)
	}
	rows := map[int]bool{}
	for _, e := range res.Errors {
		rows[e.Row] = true
	}
	if !rows[2] || !rows[3] { // rows count from the header line
		t.Errorf("row errors %+v, want rows 2 and 3", res.Errors)
	}

	// Applied: one more joiner (as JSON), made by the token.
	more := []map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(snapshot1), "\n")[1:] {
		c := strings.Split(line, ",")
		more = append(more, map[string]string{"user_id": c[0], "employee_name": c[1], "email": c[2], "role": c[3], "department": c[4], "supervisor": c[5], "start_date": c[6]})
	}
	more = append(more, map[string]string{"user_id": "E007", "employee_name": "Gus New", "email": "gus@example.com", "role": "Engineer", "department": "Eng", "supervisor": "E002", "start_date": ""})
	body, _ := json.Marshal(more)
	r, res = post("", "application/json", string(body))
	if r.status != 201 || res.Status != store.ImportApplied || res.Joiners != 1 || res.Unchanged != 6 {
		t.Fatalf("applied import: status %d result %+v, want 201 with one joiner", r.status, res)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/imports/"+res.ImportID {
		t.Errorf("Location = %q", loc)
	}
	imp, err := f.st.Import(context.Background(), res.ImportID)
	if err != nil || imp.Actor != "token:reader" {
		t.Errorf("stored import actor %q (%v), want token:reader", imp.Actor, err)
	}
	if strings.Contains(logs.String(), f.token) {
		t.Error("the log contains the bearer token")
	}

	// ?format= wins over a wrong Content-Type; a dry run writes nothing.
	r, res = post("?format=csv&dry_run=true", "application/octet-stream", snapshot1)
	if r.status != 200 || res.Status != store.ImportDryRun || res.Leavers != 1 {
		t.Fatalf("dry run: status %d result %+v, want 200 dry-run with 1 leaver", r.status, res)
	}
	if r, _ := post("", "image/png", snapshot1); r.status != 415 {
		t.Errorf("image/png body: status %d, want 415", r.status)
	}
	if r, _ := post("?source=pushed", "text/csv", snapshot1); r.status != 400 {
		t.Errorf("import into a scim source: status %d, want 400", r.status)
	}
	if r, _ := post("?source=nope", "text/csv", snapshot1); r.status != 400 {
		t.Errorf("import into an unknown source: status %d, want 400", r.status)
	}

	// Held: four leavers exceed max_leavers 1.
	few := header + "E001,Alice Boss,alice@example.com,CEO,Exec,,\nE002,Bob Lead,bob@example.com,Lead,Eng,Alice Boss,\n"
	r, res = post("", "text/csv", few)
	if r.status != 202 || res.Status != store.ImportHeld || res.Leavers < 2 || res.Reason == "" {
		t.Fatalf("mass leave: status %d result %+v, want 202 held", r.status, res)
	}
	held := res.ImportID
	// While it is held, every further import is refused.
	r, _ = post("", "text/csv", snapshot1)
	var e api.Error
	if r.status != 409 || json.Unmarshal(r.body, &e) != nil || !strings.Contains(e.Error, held) {
		t.Fatalf("import while %s is held: status %d body %s, want 409 naming it", held, r.status, r.body)
	}
	var list struct {
		Items []store.Import `json:"items"`
	}
	f.getJSON("/api/v1/imports", f.token, 200, &list)
	if len(list.Items) != 4 || list.Items[0].ID != held || list.Items[0].Status != store.ImportHeld {
		t.Errorf("imports = %+v, want 4 (the rejected one too) with the held one first", list.Items)
	}
	// The rejected feed is kept with its row errors, and only those.
	f.getJSON("/api/v1/imports?status=rejected", f.token, 200, &list)
	if len(list.Items) != 1 || list.Items[0].Status != store.ImportRejected || len(list.Items[0].Errors) != 2 ||
		list.Items[0].Errors[0].Row != 2 || list.Items[0].Errors[0].Column != "email" || list.Items[0].Joiners != 0 {
		t.Errorf("rejected imports = %+v, want the one invalid feed with its 2 row errors", list.Items)
	}
	var bogus api.Error
	f.getJSON("/api/v1/imports?status=bogus", f.token, 400, &bogus)

	// The in-process histogram saw the two stored imports made through the API.
	m := f.get("/metrics", f.token)
	if !strings.Contains(string(m.body), "tango_import_duration_seconds_count 2\n") {
		t.Errorf("metrics lack tango_import_duration_seconds_count 2:\n%s", grep(m.body, "tango_import"))
	}
}

func TestImportBodyLimit(t *testing.T) {
	f := newFixture(t, fixtureOpts{maxBytes: 100})
	r := f.do("POST", "/api/v1/imports", f.token, strings.NewReader(snapshot1), "Content-Type", "text/csv")
	if r.status != 413 {
		t.Fatalf("oversized snapshot: status %d, want 413; body %s", r.status, r.body)
	}
	if r := f.do("POST", "/api/v1/imports", f.token, strings.NewReader(""), "Content-Type", "text/csv"); r.status != 400 {
		t.Errorf("empty snapshot: status %d, want 400", r.status)
	}
}

func grep(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, fixtureOpts{now: func() time.Time { return time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }})
	f.seed()
	m := f.get("/metrics", f.token)
	if m.status != 200 {
		t.Fatalf("/metrics: status %d", m.status)
	}
	body := string(m.body)
	for _, want := range []string{
		`tango_events_total{type="joiner"} 5`,
		`tango_events_total{type="leaver"} 0`,
		`tango_persons{status="active"} 5`,
		`tango_persons{status="prehire"} 1`,
		`tango_imports_total{status="applied"} 1`,
		`tango_imports_total{status="held"} 0`,
		`tango_store_up 1`,
		`tango_import_duration_seconds_count 0`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, grep(m.body, "tango_"))
		}
	}
	if !regexp.MustCompile(`(?m)^tango_import_duration_seconds_total [0-9.e+-]+$`).MatchString(body) {
		t.Errorf("metrics lack tango_import_duration_seconds_total:\n%s", grep(m.body, "tango_"))
	}

	// The scheduler makes E006 a joiner on its start date; counts follow,
	// read from the store at scrape time.
	n, err := f.sched.ApplyDue(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("ApplyDue = %d, %v; want 1 event", n, err)
	}
	if !strings.Contains(f.logs.String(), "E006") {
		t.Errorf("the scheduler did not log what it applied:\n%s", f.logs.String())
	}
	var d api.PersonDetail
	f.getJSON("/api/v1/persons/E006", f.token, 200, &d)
	if d.Status != store.StatusActive || d.Events[0].State != store.EventApplied {
		t.Errorf("E006 after its start date: %s, %+v", d.Status, d.Events)
	}
	body = string(f.get("/metrics", f.token).body)
	for _, want := range []string{`tango_events_total{type="joiner"} 6`, `tango_persons{status="active"} 6`, `tango_persons{status="prehire"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("after the scheduler, metrics lack %q:\n%s", want, grep([]byte(body), "tango_"))
		}
	}
	// A second server on the same database reports the same counts.
	other := api.New(api.Options{Store: f.st, Config: f.cfg, Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	rec := httptest.NewRecorder()
	other.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `tango_events_total{type="joiner"} 6`) {
		t.Errorf("a second server reports other counts:\n%s", grep(rec.Body.Bytes(), "tango_events"))
	}
}

// The scheduler, run as serve runs it, applies a due joiner and stops
// when asked.
func TestRunScheduler(t *testing.T) {
	f := newFixture(t, fixtureOpts{now: func() time.Time { return time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }})
	f.seed()
	r, err := runner.New(slog.New(slog.DiscardHandler), time.After, runner.Job{Name: "scheduler", Poll: time.Hour, RunOnce: f.sched.RunOnce})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := f.st.Person(context.Background(), "hris", "E006")
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == store.StatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not apply the due joiner")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduler did not return after cancel")
	}
	evs, err := f.st.Events(context.Background(), store.EventFilter{EmployeeID: "E006"})
	if err != nil || len(evs) != 1 || evs[0].State != store.EventApplied {
		t.Fatalf("E006 events %+v (%v)", evs, err)
	}
	entries, err := f.st.AuditEntries(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(entries, func(e audit.Entry) bool { return e.Actor == scheduler.Actor }) {
		t.Errorf("no audit entry by %s", scheduler.Actor)
	}
}

func TestProbesPageAndHeaders(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.seed()
	if r := f.get("/healthz", ""); r.status != 200 || strings.TrimSpace(string(r.body)) != "ok" {
		t.Errorf("/healthz: %d %q", r.status, r.body)
	}
	if r := f.get("/readyz", ""); r.status != 200 {
		t.Errorf("/readyz: %d %q", r.status, r.body)
	}
	// The workspace needs a caller: a browser is sent to sign in and
	// comes back; anything else gets 401.
	if home := f.get("/", ""); home.status != 401 || !strings.HasPrefix(home.header.Get("Content-Type"), "text/html") {
		t.Errorf("/ without a caller: %d %s, want 401 as a page", home.status, home.header.Get("Content-Type"))
	}
	req, _ := http.NewRequest("GET", f.url+"/people?q=al", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 || res.Header.Get("Location") != "/login?next=%2Fpeople%3Fq%3Dal" {
		t.Errorf("a browser without a session: %d to %q, want 303 to /login?next=%%2Fpeople%%3Fq%%3Dal", res.StatusCode, res.Header.Get("Location"))
	}
	if r := f.get("/static/htmx.min.js", ""); r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "javascript") {
		t.Errorf("/static/htmx.min.js: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := f.get("/static/", ""); r.status != 404 {
		t.Errorf("/static/ lists the assets: %d", r.status)
	}
	if r := f.get("/static/tango.css", ""); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Errorf("/static/tango.css: %d %s", r.status, r.header.Get("Content-Type"))
	}
	for _, p := range []string{"/", "/healthz", "/readyz", "/metrics", "/api/v1/persons", "/api/v1/openapi.json", "/api/v1/nothing", "/nothing"} {
		r := f.get(p, "")
		if r.header.Get("Content-Security-Policy") != web.CSP || r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s (%d): CSP %q nosniff %q", p, r.status, r.header.Get("Content-Security-Policy"), r.header.Get("X-Content-Type-Options"))
		}
	}
	var e api.Error
	f.getJSON("/api/v1/nothing", f.token, 404, &e)

	// Not ready once the database is gone; errors then leak nothing.
	f.st.Close()
	if r := f.get("/readyz", ""); r.status != 503 {
		t.Errorf("/readyz with the database closed: %d, want 503", r.status)
	}
	r := f.get("/api/v1/persons", f.token)
	if r.status != 500 || json.Unmarshal(r.body, &e) != nil || strings.Contains(strings.ToLower(e.Error), "sql") || strings.Contains(string(r.body), "goroutine") {
		t.Errorf("store failure: %d %s, want 500 with a plain JSON error", r.status, r.body)
	}
	// Metrics on their own listen address need no database to let a
	// scraper in.
	rec := httptest.NewRecorder()
	f.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "tango_store_up 0") {
		t.Errorf("/metrics with the database closed: %d, want 200 with tango_store_up 0", rec.Code)
	}
}

func TestRequestLog(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	req := httptest.NewRequest("GET", "/api/v1/persons?access_token=secret-in-query", nil)
	req.Header.Set("Authorization", "Bearer "+f.old)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Fatalf("status %d, want 401", rec.Code)
	}
	var line string
	for _, l := range strings.Split(f.logs.String(), "\n") {
		if strings.Contains(l, "msg=request") {
			line = l
		}
	}
	for _, want := range []string{"method=GET", "path=/api/v1/persons", "status=401", "duration="} {
		if !strings.Contains(line, want) {
			t.Errorf("request log %q lacks %q", line, want)
		}
	}
	for _, secret := range []string{f.old, "secret-in-query", "Bearer"} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("the log contains %q:\n%s", secret, f.logs.String())
		}
	}
}

func TestOpenAPI(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	r := f.get("/api/v1/openapi.json", "") // no token needed
	if r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas         map[string]json.RawMessage `json:"schemas"`
			SecuritySchemes map[string]struct {
				Type   string `json:"type"`
				Scheme string `json:"scheme"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi = %q, want 3.0.x", doc.OpenAPI)
	}
	served := map[string]bool{}
	for _, rt := range api.Routes {
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("openapi.json does not describe %s %s", rt.Method, rt.Path)
			continue
		}
		var o struct {
			Security  *[]any           `json:"security"`
			Responses map[string]any   `json:"responses"`
			Params    []map[string]any `json:"parameters"`
		}
		if err := json.Unmarshal(op, &o); err != nil {
			t.Fatal(err)
		}
		if _, ok := o.Responses["200"]; !ok && rt.Method == "GET" {
			t.Errorf("%s %s: no 200 response documented", rt.Method, rt.Path)
		}
		if rt.Perm != authz.Public {
			if _, ok := o.Responses["401"]; !ok {
				t.Errorf("%s %s needs a token but documents no 401", rt.Method, rt.Path)
			}
		} else if o.Security == nil || len(*o.Security) != 0 {
			t.Errorf("%s %s is served without a token but the document does not say security: []", rt.Method, rt.Path)
		}
		served[rt.Path+" "+strings.ToLower(rt.Method)] = true
		// The mux serves the route: it is not the catch-all 404.
		path := strings.ReplaceAll(rt.Path, "{id}", "E001")
		got := f.do(rt.Method, path, f.token, strings.NewReader(""), "Content-Type", "text/csv")
		if strings.Contains(string(got.body), "no such endpoint") {
			t.Errorf("%s %s is listed in api.Routes but not served", rt.Method, path)
		}
	}
	// Nothing documented that the mux does not serve.
	for p, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" && !served[p+" "+m] {
				t.Errorf("openapi.json documents %s %s, which api.Routes does not serve", strings.ToUpper(m), p)
			}
		}
	}
	for _, s := range []string{"Person", "Event", "Import", "ImportResult", "Error"} {
		if _, ok := doc.Components.Schemas[s]; !ok {
			t.Errorf("schema %s missing", s)
		}
	}
	if b := doc.Components.SecuritySchemes["bearer"]; b.Type != "http" || b.Scheme != "bearer" {
		t.Errorf("bearer security scheme = %+v", b)
	}
	// Every $ref resolves.
	var whole struct {
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(r.body, &whole); err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`"\$ref": "#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(string(r.body), -1)
	if len(refs) == 0 {
		t.Error("no $ref found: the pattern is stale")
	}
	for _, m := range refs {
		if _, ok := whole.Components[m[1]][m[2]]; !ok {
			t.Errorf("dangling $ref %s/%s", m[1], m[2])
		}
	}
}

// GET /api/v1/audit reads the trail filtered by actor, action and time, a
// page at a time; following next visits every matching entry once.
func TestAuditList(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.seed()
	ctx := context.Background()
	base := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	var ents []audit.Entry
	for i := range 7 {
		ents = append(ents, audit.New(base.Add(time.Duration(i)*time.Hour), "cli:ann", "tasks.complete", "", "", fmt.Sprintf("T%d", i), nil, nil))
	}
	if err := f.st.AppendAudit(ctx, ents...); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Items []audit.Entry `json:"items"`
		Next  string        `json:"next"`
	}
	var all page
	f.getJSON("/api/v1/audit?limit=1000", f.token, 200, &all)
	if len(all.Items) < 8 || all.Next != "" {
		t.Fatalf("whole trail: %d entries, next %q", len(all.Items), all.Next)
	}
	var got []string
	next := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("next never ends")
		}
		var p page
		f.getJSON("/api/v1/audit?actor=cli:ann&action=tasks&limit=3&after="+next, f.token, 200, &p)
		for _, e := range p.Items {
			if e.Actor != "cli:ann" || e.Action != "tasks.complete" {
				t.Fatalf("filter let through %+v", e)
			}
			got = append(got, e.Subject)
		}
		if p.Next == "" {
			break
		}
		next = p.Next
	}
	if strings.Join(got, ",") != "T0,T1,T2,T3,T4,T5,T6" {
		t.Fatalf("paged entries: %v", got)
	}
	var recent page
	f.getJSON("/api/v1/audit?actor=cli:ann&since="+base.Add(5*time.Hour).Format(time.RFC3339), f.token, 200, &recent)
	if len(recent.Items) != 2 || recent.Items[0].Subject != "T5" {
		t.Fatalf("since: %+v", recent.Items)
	}
	var e api.Error
	f.getJSON("/api/v1/audit?since=yesterday", f.token, 400, &e)
	f.getJSON("/api/v1/audit?after=-1", f.token, 400, &e)
	if r := f.get("/api/v1/audit", ""); r.status != 401 {
		t.Errorf("without a token: %d, want 401", r.status)
	}
}

// allRoles are what the tests' service tokens carry.
var allRoles = []string{"hr", "it", "security", "auditor", "admin"}
