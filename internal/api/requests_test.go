package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/scheduler"
	"github.com/tango-iga/tango/internal/store"
)

const requestsConfig = `
sources: [{name: hris, key: id, mapping: {display_name: name}}]
requests: {security_approvers: [S1]}
authorization: {roles: {security: {people: [S1]}}}
apps:
  - name: erp
    connector: manual
    owner: it
    requestable:
      - {entitlement: payments-create, owner: O1, risk: low, max_duration: 30d}
      - {entitlement: payments-approve, owner: O1, risk: high, max_duration: 7d}
separation_of_duties:
  - {name: create-vs-approve-payments, entitlements: ["erp:payments-create", "erp:payments-approve"]}
`

type reqFixture struct {
	t      *testing.T
	st     store.Store
	srv    *api.Server
	sched  *scheduler.Scheduler
	url    string
	tokens map[string]string // employee ID (or "service") -> token
	mu     sync.Mutex
	now    time.Time
}

func newReqFixture(t *testing.T) *reqFixture {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte(requestsConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &reqFixture{t: t, st: st, tokens: map[string]string{}, now: time.Now().UTC()}
	var ps []store.Person
	for _, p := range [][2]string{{"E0", ""}, {"M1", "E0"}, {"A1", "M1"}, {"O1", "E0"}, {"S1", "E0"}} {
		ps = append(ps, store.Person{Source: "hris", EmployeeID: p[0], DisplayName: "Person " + p[0], ManagerID: p[1], Status: store.StatusActive, Period: 1, UpdatedAt: f.now})
	}
	imp := store.Import{ID: "imp-1", Source: "hris", Status: store.ImportApplied, Actor: "test", Rows: len(ps), CreatedAt: f.now}
	if err := st.ApplyImport(ctx, imp, ps, nil, []audit.Entry{store.ImportEntry(imp, "hr.import.applied", "test", f.now)}, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"E0", "M1", "A1", "O1", "S1", ""} {
		name := "person-" + id
		var roles []string
		if id == "" {
			name, roles = "service", allRoles
		}
		tok, _, err := auth.CreateFor(ctx, st, name, "api", id, f.now, roles...)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[id] = tok
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := app.Engine(st, cfg, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	f.srv = api.New(api.Options{Store: st, Config: cfg, Logger: log, Engine: eng, Now: f.clock})
	svc, err := request.NewService(st, cfg, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.sched = scheduler.New(st, svc, eng, log, f.clock)
	hs := httptest.NewServer(f.srv)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

func (f *reqFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *reqFixture) call(method, path, as, body string) (int, string) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+f.tokens[as])
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	var c bytes.Buffer
	if json.Compact(&c, b) == nil {
		b = c.Bytes()
	}
	return r.StatusCode, string(b)
}

func (f *reqFixture) want(method, path, as, body string, status int, contains string) string {
	f.t.Helper()
	code, got := f.call(method, path, as, body)
	if code != status || !strings.Contains(got, contains) {
		f.t.Fatalf("%s %s as %q: %d %s; want %d containing %q", method, path, as, code, got, status, contains)
	}
	return got
}

func TestRequestsAPI(t *testing.T) {
	f := newReqFixture(t)
	ctx := context.Background()
	// Identity comes from the token only.
	f.want("POST", "/api/v1/requests", "", `{"app":"erp","entitlement":"payments-approve","justification":"x"}`, 403, "needs the permission requests.act")
	f.want("POST", "/api/v1/requests", "A1", `{"requester":"M1","app":"erp","entitlement":"payments-approve","justification":"x"}`, 400, "unknown field")
	// Duration over the maximum is refused, naming it.
	f.want("POST", "/api/v1/requests", "A1", `{"app":"erp","entitlement":"payments-approve","justification":"close","duration":"8d"}`, 422, "longer than the maximum")
	body := f.want("POST", "/api/v1/requests", "A1", `{"app":"erp","entitlement":"payments-approve","justification":"close","duration":"2d"}`, 201, `"state":"pending"`)
	var r store.Request
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Requester != "A1" || strings.Join(r.Chain, ",") != "manager,owner,security" {
		t.Fatalf("created %+v %v", r, err)
	}
	// M1 asks for their report; an approver of the current step (E0 stands
	// in for M1, the requester) rejects it; O1, not on that step, may not.
	f.want("POST", "/api/v1/requests", "M1", `{"beneficiary":"A1","app":"erp","entitlement":"payments-create","justification":"cover"}`, 201, `"id":2`)
	f.want("POST", "/api/v1/requests/2/reject", "O1", `{"note":"no"}`, 403, "manager decision of E0")
	f.want("POST", "/api/v1/requests/2/reject", "E0", `{"note":"use the shared queue"}`, 200, `"reason":"use the shared queue"`)
	path := "/api/v1/requests/1/approve"
	f.want("POST", path, "A1", "", 403, "A1 made request 1")
	f.want("POST", path, "O1", "", 403, "waits for the manager approval of M1")
	var page api.Page[store.Request]
	if err := json.Unmarshal([]byte(f.want("GET", "/api/v1/requests?state=pending&approver=M1", "S1", "", 200, "")), &page); err != nil || len(page.Items) != 1 {
		t.Fatalf("pending for M1: %+v %v", page, err)
	}
	f.want("POST", path, "M1", `{"note":"ok for month end"}`, 200, `"step":1`)
	f.want("POST", path, "S1", "", 403, "waits for the owner approval of O1")
	f.want("POST", path, "O1", "", 200, `"step":2`)
	f.want("POST", path, "S1", "", 200, `"state":"approved"`)
	f.want("POST", path, "S1", "", 409, "not pending")
	f.want("GET", "/api/v1/requests?state=bogus", "S1", "", 400, "state")
	f.want("GET", "/api/v1/requests?state=pending", "S1", "", 200, `"items":[]`)
	// The approval queued the grant.
	ops, _ := f.st.Ops(ctx, store.OpFilter{EmployeeID: "A1"})
	if len(ops) != 2 || ops[1].Kind != store.OpGrant || ops[1].Entitlement != "payments-approve" {
		t.Fatalf("operations after approval: %+v", ops)
	}
	// A request that would break the SoD rule is refused, naming it.
	f.want("POST", "/api/v1/requests", "A1", `{"app":"erp","entitlement":"payments-create","justification":"x"}`, 409, `separation-of-duties rule \"create-vs-approve-payments\"`)
	f.want("GET", "/metrics", "", "", 200, "tango_request_approval_seconds_count 1")
	// The grant ends after 2 days: the scheduler expires it and queues the revoke.
	f.mu.Lock()
	f.now = f.now.Add(49 * time.Hour)
	f.mu.Unlock()
	if n, err := f.sched.ExpireRequests(ctx); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	ops, _ = f.st.Ops(ctx, store.OpFilter{EmployeeID: "A1"})
	if last := ops[len(ops)-1]; last.Kind != store.OpRevoke || last.Entitlement != "payments-approve" || !strings.Contains(last.Reason, "request #1 expired") {
		t.Fatalf("operations after expiry: %+v", ops)
	}
}

// Away over the API: only the person, their manager or an admin token may
// set it; while M1 is away, M1's manager E0 approves A1's request in M1's place.
func TestAwayAPI(t *testing.T) {
	f := newReqFixture(t)
	ctx := context.Background()
	f.want("PUT", "/api/v1/persons/M1/away", "A1", `{"until":"2099-01-01"}`, 403, "may not mark M1 away")
	f.want("PUT", "/api/v1/persons/M1/away", "M1", `{"until":"next week"}`, 400, `next week`)
	f.want("PUT", "/api/v1/persons/ZZ9/away", "M1", `{"until":"2099-01-01"}`, 404, "ZZ9")
	f.want("PUT", "/api/v1/persons/M1/away", "M1", `{"until":"2099-01-01"}`, 200, `"away_until":"2099-01-01"`)
	if until, err := f.st.AwayUntil(ctx, "M1"); err != nil || until.Year() != 2099 {
		t.Fatalf("M1 away until %v, %v", until, err)
	}
	body := f.want("POST", "/api/v1/requests", "A1", `{"app":"erp","entitlement":"payments-create","justification":"close"}`, 201, `"state":"pending"`)
	var r store.Request
	json.Unmarshal([]byte(body), &r)
	f.want("POST", "/api/v1/requests/"+itoa(r.ID)+"/approve", "M1", ``, 403, "")
	f.want("POST", "/api/v1/requests/"+itoa(r.ID)+"/approve", "E0", ``, 200, `"step":1`)
	// An admin token may mark anyone back.
	admin, _, err := auth.CreateFor(ctx, f.st, "ops", "admin", "", f.now, "admin")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["admin"] = admin
	f.want("PUT", "/api/v1/persons/M1/away", "admin", `{"until":""}`, 200, `"employee_id":"M1"`)
	if until, _ := f.st.AwayUntil(ctx, "M1"); !until.IsZero() {
		t.Fatalf("M1 still away until %v", until)
	}
}
