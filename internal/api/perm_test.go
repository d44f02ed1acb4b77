package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
)

// permConfig gives each of Tango's configurable roles to one person; O1
// owns the catalogue's entitlement (app-owner), M1 manages E1 and X1's
// manager is Z1, so X1 is "someone else" to every caller.
const permConfig = `
org: {name: Perm, timezone: UTC}
sources: [{name: hris, kind: file, key: id, mapping: {display_name: name}}]
apps:
  - name: erp
    connector: manual
    owner: it
    requestable:
      - {entitlement: reports, owner: O1, risk: low}
      - {entitlement: exports, owner: O1, risk: low}
      - {entitlement: dashboards, owner: O1, risk: low}
authorization:
  roles:
    hr: {people: [H1]}
    it: {people: [I1]}
    security: {people: [S1]}
    auditor: {people: [AU1]}
    admin: {people: [AD1]}
`

// callers of the matrix: a token bound to a person of each role, and a
// service token carrying only hr-feed.
var permCallers = []struct{ name, person string }{
	{"hr", "H1"}, {"it", "I1"}, {"security", "S1"}, {"auditor", "AU1"}, {"admin", "AD1"},
	{"app-owner", "O1"}, {"manager", "M1"}, {"employee", "E1"}, {"hr-feed", ""},
}

// permWant: the callers each route lets through (2xx), every other
// caller gets 403. "persons" is every caller acting as a person.
var permWant = map[string][]string{
	"GET /api/v1/openapi.json":           {"all"},
	"GET /api/v1/persons":                {"hr", "security", "auditor"},
	"GET /api/v1/persons/{id}":           {"hr", "security", "auditor"},
	"GET /api/v1/imports":                {"hr", "auditor", "hr-feed"},
	"POST /api/v1/imports":               {"hr", "hr-feed"},
	"GET /api/v1/imports/{id}":           {"hr", "auditor", "hr-feed"},
	"GET /api/v1/events":                 {"hr", "security", "auditor"},
	"GET /api/v1/audit":                  {"security", "auditor"},
	"GET /api/v1/apps":                   {"it", "security", "auditor"},
	"GET /api/v1/operations":             {"it", "security", "auditor"},
	"POST /api/v1/operations/{id}/retry": {"it"},
	"POST /api/v1/apps/{name}/release":   {"it"},
	"GET /api/v1/findings":               {"it", "security", "auditor"},
	"GET /api/v1/cases":                  {"hr", "it", "security", "auditor"},
	"GET /api/v1/tasks":                  {"hr", "it", "security", "auditor"},
	"POST /api/v1/tasks/{id}/complete":   {"hr"},
	"POST /api/v1/tasks/{id}/reassign":   {"hr"},
	"GET /api/v1/notifications":          {"auditor", "admin"},
	"GET /api/v1/metrics/lifecycle":      {"hr", "it", "security", "auditor", "admin"},
	"GET /api/v1/requests":               {"security", "auditor"},
	"POST /api/v1/requests":              {"persons"},
	"POST /api/v1/requests/{id}/approve": {"manager"},
	"POST /api/v1/requests/{id}/reject":  {"manager", "employee"}, // E1 withdraws their own
	"PUT /api/v1/persons/{id}/away":      {"hr", "admin"},
	"GET /metrics":                       {"hr", "it", "security", "auditor", "admin"},

	// Access reviews: Security manages, auditors read; E1's item is
	// decided by their manager M1 (never by E1: four eyes).
	"GET /api/v1/reviews":                    {"security", "auditor"},
	"POST /api/v1/reviews":                   {"security"},
	"GET /api/v1/reviews/{id}":               {"security", "auditor"},
	"GET /api/v1/reviews/{id}/items":         {"security", "auditor"},
	"POST /api/v1/reviews/items/{id}/decide": {"manager"},
	"POST /api/v1/reviews/{id}/close":        {"security"},
}

// permFixture is a fresh server and database for one caller: calls that
// change something (complete a task, approve) see the same state for all.
type permFixture struct {
	t     *testing.T
	url   string
	st    store.Store
	token string
	ids   map[string]string // {id} of each route's call
}

func newPermFixture(t *testing.T, person string) *permFixture {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte(permConfig), "perm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var ps []store.Person
	for _, p := range [][2]string{{"H1", ""}, {"I1", ""}, {"S1", ""}, {"AU1", ""}, {"AD1", ""}, {"O1", ""}, {"M1", ""}, {"E1", "M1"}, {"Z1", ""}, {"X1", "Z1"}} {
		ps = append(ps, store.Person{Source: "hris", EmployeeID: p[0], DisplayName: "Person " + p[0], ManagerID: p[1], Status: store.StatusActive, Period: 1, UpdatedAt: now})
	}
	imp := store.Import{ID: "imp-1", Source: "hris", Status: store.ImportApplied, Actor: "test", Rows: len(ps), CreatedAt: now}
	if err := st.ApplyImport(ctx, imp, ps, nil, []audit.Entry{store.ImportEntry(imp, "hr.import.applied", "test", now)}, nil); err != nil {
		t.Fatal(err)
	}
	f := &permFixture{t: t, st: st, ids: map[string]string{}}
	roles := []string(nil)
	if person == "" {
		roles = []string{"hr-feed"}
	}
	if f.token, _, err = auth.CreateFor(ctx, st, "caller", "api", person, now, roles...); err != nil {
		t.Fatal(err)
	}
	// Two HR tasks about X1: one to complete, one to hand on.
	for _, name := range []string{"complete", "reassign"} {
		tk, err := task.Create(ctx, st, store.Task{Source: "hris", Person: "X1", Team: "hr", Title: "check " + name, Status: store.TaskOpen, Kind: store.TaskHuman, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		f.ids["POST /api/v1/tasks/{id}/"+name] = fmt.Sprint(tk.ID)
	}
	srv := api.New(api.Options{Store: st, Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	// Two requests of E1's, each waiting for its manager M1.
	e1, _, err := auth.CreateFor(ctx, st, "e1", "api", "E1", now)
	if err != nil {
		t.Fatal(err)
	}
	for name, ent := range map[string]string{"approve": "reports", "reject": "exports"} {
		status, body := f.call("POST", "/api/v1/requests", e1, `{"app":"erp","entitlement":"`+ent+`","justification":"month end"}`)
		if status != 201 {
			t.Fatalf("E1's request: %d %s", status, body)
		}
		var id int64
		fmt.Sscanf(body[strings.Index(body, `"id":`)+5:], "%d", &id)
		f.ids["POST /api/v1/requests/{id}/"+name] = fmt.Sprint(id)
	}
	f.ids["GET /api/v1/imports/{id}"] = "imp-1"
	// A failed operation to retry, and erp quarantined to release.
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{{App: "erp", Kind: store.OpCreate, Source: "hris", EmployeeID: "X1",
		Account: `{"key":"X1"}`, Priority: store.PriorityNormal, State: store.OpFailed, Attempts: 10, LastError: "503", NotBefore: now,
		Reason: "role staff", CreatedAt: now, UpdatedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	failed, err := st.Ops(ctx, store.OpFilter{State: store.OpFailed})
	if err != nil || len(failed) != 1 {
		t.Fatalf("seeding a failed operation: %+v %v", failed, err)
	}
	f.ids["POST /api/v1/operations/{id}/retry"] = fmt.Sprint(failed[0].ID)
	if err := st.PutAppState(ctx, store.AppState{App: "erp", Failures: 5, QuarantinedUntil: now.Add(time.Hour), LastError: "503"}); err != nil {
		t.Fatal(err)
	}
	// A manager review of E1's access (reviewer M1).
	if err := st.QueueOps(ctx, store.ProvisionBatch{Put: []store.GrantRow{{App: "erp", Source: "hris", EmployeeID: "E1",
		Entitlement: "reports", State: "active", Reason: "imported", UpdatedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	rsvc, err := review.New(st, cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	camp, items, err := rsvc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Actor: "test"})
	if err != nil || len(items) != 1 || items[0].Reviewer != "M1" {
		t.Fatalf("seeding a review: %+v %v", items, err)
	}
	for _, k := range []string{"GET /api/v1/reviews/{id}", "GET /api/v1/reviews/{id}/items", "POST /api/v1/reviews/{id}/close"} {
		f.ids[k] = fmt.Sprint(camp.ID)
	}
	f.ids["POST /api/v1/reviews/items/{id}/decide"] = fmt.Sprint(items[0].ID)
	return f
}

func (f *permFixture) call(method, path, token, body string) (int, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if strings.HasSuffix(path, "dry_run=true") {
		req.Header.Set("Content-Type", "text/csv")
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// permCall is the call made for a route: about X1 where it names a person.
func permCall(key string, ids map[string]string) (method, path, body string) {
	method, path, _ = strings.Cut(key, " ")
	id := ids[key]
	if id == "" {
		id = "X1"
	}
	path = strings.ReplaceAll(path, "{id}", id)
	path = strings.ReplaceAll(path, "{name}", "erp")
	switch key {
	case "POST /api/v1/imports":
		path += "?dry_run=true"
		body = "id,name\nH1,Person H1\n"
	case "POST /api/v1/tasks/{id}/complete":
		body = `{"evidence":"checked"}`
	case "POST /api/v1/tasks/{id}/reassign":
		body = `{"team":"hr"}`
	case "POST /api/v1/requests":
		body = `{"app":"erp","entitlement":"dashboards","justification":"month end"}`
	case "POST /api/v1/requests/{id}/reject":
		body = `{"note":"not needed"}`
	case "PUT /api/v1/persons/{id}/away":
		body = `{"until":"2099-01-01"}`
	case "POST /api/v1/reviews":
		body = `{"kind":"manager"}`
	case "POST /api/v1/reviews/items/{id}/decide":
		body = `{"decision":"keep"}`
	}
	return method, path, body
}

// Every route names a permission, and the one middleware enforces it for
// every route × role: the allowed callers get a 2xx answer, every other
// one 403 (and an audit entry), a caller without credentials 401.
func TestRoutePermissionMatrix(t *testing.T) {
	keys := []string{"GET /metrics"}
	for _, rt := range api.Routes {
		key := rt.Method + " " + rt.Path
		if !slices.Contains(authz.Permissions, rt.Perm) {
			t.Errorf("%s names no known permission (%q): every route says what it needs", key, rt.Perm)
		}
		if _, ok := permWant[key]; !ok {
			t.Errorf("%s is not in permWant: say which roles may call it", key)
		}
		keys = append(keys, key)
	}
	results := map[string][]string{}
	for _, c := range permCallers {
		f := newPermFixture(t, c.person)
		for _, key := range keys {
			allowed := permWant[key]
			want := slices.Contains(allowed, c.name) || slices.Contains(allowed, "all") ||
				(slices.Contains(allowed, "persons") && c.person != "")
			method, path, body := permCall(key, f.ids)
			status, resp := f.call(method, path, f.token, body)
			results[key] = append(results[key], fmt.Sprintf("%s=%d", c.name, status))
			switch {
			case want && (status < 200 || status > 299):
				t.Errorf("%s as %s: %d %s, want 2xx", key, c.name, status, resp)
			case !want && status != 403:
				t.Errorf("%s as %s: %d %s, want 403", key, c.name, status, resp)
			}
			if c.name == "employee" && !slices.Contains(allowed, "all") {
				if status, resp := f.call(method, path, "", body); status != 401 {
					t.Errorf("%s without credentials: %d %s, want 401", key, status, resp)
				}
			}
		}
		if c.name == "employee" {
			// Each refusal is in the audit trail, naming who and what.
			es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "access.denied", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 0 || !strings.Contains(es[0].Actor, "person:E1") {
				t.Errorf("refusals of E1 audited: %d entries %+v", len(es), es)
			}
		}
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("%-40s %s", k, strings.Join(results[k], " ")))
	}
	t.Log("route × role (status):\n" + strings.Join(lines, "\n"))
}
