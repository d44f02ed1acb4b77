package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

// routeCall is one real call of a route against the seeded server. In
// path and body, {import}, {task}, {task2}, {request} and {request2} stand
// for records the seed made.
type routeCall struct {
	path   string // with its query
	as     string // the token: "api", "admin", or an employee ID (a token acting for them)
	ctype  string
	body   string
	status int
}

// routeCalls has one call per route of api.Routes, made in the order of
// api.Routes. Every answer must be in openapi.json: its status, a JSON
// schema the body fits, and an example that fits the schema too.
//
// A NEW ROUTE needs: (1) an entry here, a call that succeeds on the
// seeded server (seed more in seedForDoc if it lists nothing); (2) its
// path and method in openapi.json, with the call's status, a response
// schema ("content": {"application/json": {"schema": …, "example": …}})
// and an example; (3) a 401 response when it needs a token.
var routeCalls = map[string]routeCall{
	"GET /api/v1/openapi.json":           {path: "/api/v1/openapi.json", status: 200},
	"GET /api/v1/persons":                {path: "/api/v1/persons?limit=2", as: "api", status: 200},
	"GET /api/v1/persons/{id}":           {path: "/api/v1/persons/E003", as: "api", status: 200},
	"GET /api/v1/imports":                {path: "/api/v1/imports", as: "api", status: 200},
	"POST /api/v1/imports":               {path: "/api/v1/imports?source=hris", as: "api", ctype: "text/csv", body: snapshot2, status: 201},
	"GET /api/v1/imports/{id}":           {path: "/api/v1/imports/{import}", as: "api", status: 200},
	"GET /api/v1/events":                 {path: "/api/v1/events?limit=2", as: "api", status: 200},
	"GET /api/v1/apps":                   {path: "/api/v1/apps", as: "api", status: 200},
	"GET /api/v1/operations":             {path: "/api/v1/operations", as: "api", status: 200},
	"POST /api/v1/operations/{id}/retry": {path: "/api/v1/operations/{failed}/retry", as: "api", status: 200},
	"POST /api/v1/apps/{name}/release":   {path: "/api/v1/apps/erp/release", as: "api", status: 200},
	"GET /api/v1/findings":               {path: "/api/v1/findings", as: "api", status: 200},
	"GET /api/v1/audit":                  {path: "/api/v1/audit?action=hr&limit=2", as: "api", status: 200},
	"GET /api/v1/cases":                  {path: "/api/v1/cases", as: "api", status: 200},
	"GET /api/v1/tasks":                  {path: "/api/v1/tasks", as: "api", status: 200},
	"POST /api/v1/tasks/{id}/complete":   {path: "/api/v1/tasks/{task}/complete", as: "api", ctype: "application/json", body: `{"evidence": "I attest that E009 returned <every> device & keeps no data"}`, status: 200},
	"POST /api/v1/tasks/{id}/reassign":   {path: "/api/v1/tasks/{task2}/reassign", as: "api", ctype: "application/json", body: `{"team": "it"}`, status: 200},
	"GET /api/v1/notifications":          {path: "/api/v1/notifications", as: "api", status: 200},
	"GET /api/v1/metrics/lifecycle":      {path: "/api/v1/metrics/lifecycle", as: "api", status: 200},
	"GET /api/v1/requests":               {path: "/api/v1/requests", as: "api", status: 200},
	"POST /api/v1/requests":              {path: "/api/v1/requests", as: "E002", ctype: "application/json", body: `{"app": "erp", "entitlement": "payments-create", "justification": "month-end close", "duration": "2h"}`, status: 201},
	"POST /api/v1/requests/{id}/approve": {path: "/api/v1/requests/{request}/approve", as: "E002", ctype: "application/json", body: `{"note": "ok"}`, status: 200},
	"POST /api/v1/requests/{id}/reject":  {path: "/api/v1/requests/{request2}/reject", as: "E002", ctype: "application/json", body: `{"note": "not <needed> now"}`, status: 200},
	"PUT /api/v1/persons/{id}/away":      {path: "/api/v1/persons/E002/away", as: "E002", ctype: "application/json", body: `{"until": "2999-01-02"}`, status: 200},

	// Access reviews.
	"GET /api/v1/reviews":                    {path: "/api/v1/reviews", as: "api", status: 200},
	"POST /api/v1/reviews":                   {path: "/api/v1/reviews", as: "api", ctype: "application/json", body: `{"kind": "app", "app": "erp", "due": "7d"}`, status: 201},
	"GET /api/v1/reviews/{id}":               {path: "/api/v1/reviews/{campaign}", as: "api", status: 200},
	"GET /api/v1/reviews/{id}/items":         {path: "/api/v1/reviews/{campaign}/items", as: "api", status: 200},
	"POST /api/v1/reviews/items/{id}/decide": {path: "/api/v1/reviews/items/{item}/decide", as: "E002", ctype: "application/json", body: `{"decision": "revoke", "reason": "moved to <sales>"}`, status: 200},
	"POST /api/v1/reviews/{id}/close":        {path: "/api/v1/reviews/{campaign}/close", as: "api", status: 200},
}

// The second snapshot: E003 changes title, E004 leaves.
const snapshot2 = header +
	"E001,Alice Boss,alice@example.com,CEO,Exec,,\n" +
	"E002,Bob Lead,bob@example.com,Lead,Eng,Alice Boss,\n" +
	"E003,Carol Dev,carol@example.com,Senior Engineer,Eng,E002,\n" +
	"E005,Eve Dev,eve@example.com,Engineer,Eng,E002,\n" +
	"E006,Fay Future,fay@example.com,Seller,Sales,E001,2999-01-01\n"

const docConfig = `
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
    safeguards: {max_leavers: "2"}
apps:
  - name: erp
    connector: manual
    owner: it
    requestable:
      - {entitlement: payments-create, owner: E004, risk: low, max_duration: 30d}
requests: {security_approvers: [E001]}
`

type docServer struct {
	t      *testing.T
	url    string
	tokens map[string]string
	ids    map[string]string // placeholders of routeCalls
}

func newDocServer(t *testing.T) (*docServer, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte(docConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	s := &docServer{t: t, tokens: map[string]string{}, ids: map[string]string{}}
	for name, scope := range map[string]string{"api": "api", "admin": "admin"} {
		tok, _, err := auth.CreateFor(ctx, st, name, scope, "", now, allRoles...)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[name] = tok
	}
	for _, id := range []string{"E002", "E003", "E005"} {
		tok, _, err := auth.CreateFor(ctx, st, "person-"+id, "api", id, now)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[id] = tok
	}
	srv := api.New(api.Options{Store: st, Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s, st
}

// seedForDoc fills the store so that every list answers with records:
// persons, an import and its events, operations (one with an account
// stored in the old Go-field-name form and no not_before), app health, a
// finding, a leaver case with tasks and notifications, access requests.
func (s *docServer) seed(st store.Store) {
	t := s.t
	ctx := context.Background()
	cfg, err := config.Parse([]byte(docConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := cfg.Source("hris")
	res, err := hr.ImportFile(ctx, st, cfg, src, "s1.csv", []byte(snapshot1), hr.Options{Actor: "test"})
	if err != nil || res.Status != store.ImportApplied {
		t.Fatalf("seed import: %+v %v", res, err)
	}
	s.ids["{import}"] = res.ImportID
	now := time.Now().UTC()
	acc, _ := json.Marshal(connector.Account{Key: "E003", Name: "carol", Attributes: map[string][]string{"mail": {"carol@example.com"}}})
	err = st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{
		{App: "erp", Kind: store.OpCreate, Source: "hris", EmployeeID: "E003", Account: string(acc), Priority: store.PriorityNormal,
			State: store.OpPending, NotBefore: now, Reason: "role staff", ImportID: res.ImportID, CreatedAt: now, UpdatedAt: now},
		// As stored before connector.Account had JSON tags, due at once.
		{App: "erp", Kind: store.OpDisable, Source: "hris", EmployeeID: "E004", Priority: store.PriorityDisable, State: store.OpPending,
			Account: `{"ID":"","Key":"E004","Name":"dan","Attributes":{"mail":["dan@example.com"]},"Entitlements":null,"Disabled":false}`,
			Reason:  "event leaver", CreatedAt: now, UpdatedAt: now},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// An operation that gave up, and erp quarantined: to retry and release.
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{{App: "erp", Kind: store.OpGrant, Source: "hris", EmployeeID: "E003",
		Entitlement: "payments-create", Account: string(acc), Priority: store.PriorityNormal, State: store.OpFailed, Attempts: 10,
		LastError: "503 <busy>", NotBefore: now, Reason: "role staff", CreatedAt: now, UpdatedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	failed, err := st.Ops(ctx, store.OpFilter{State: store.OpFailed})
	if err != nil || len(failed) != 1 {
		t.Fatalf("seeding a failed operation: %+v %v", failed, err)
	}
	s.ids["{failed}"] = strconv.FormatInt(failed[0].ID, 10)
	if err := st.PutAppState(ctx, store.AppState{App: "erp", Failures: 5, QuarantinedUntil: now.Add(time.Hour), LastError: "503 <busy>", LastSuccess: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddFinding(ctx, store.Finding{Kind: "orphan-account", App: "erp", Subject: "ghost", Detail: "no person <matches>", Team: "security",
		Status: "open", FirstSeen: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	_, tasks, err := workflow.OpenCase(ctx, st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E009", Status: store.CaseOpen, OpenedAt: now, Effective: now},
		[]store.CaseTask{
			{Person: "E009", Team: "hr", Title: "Attest that E009 holds no company data", Status: store.TaskOpen, Kind: store.TaskHuman, Due: now.Add(time.Hour), CreatedAt: now,
				Step: "attest", EvidenceKind: store.EvidenceAttestation},
			{Person: "E009", Team: "security", Title: "Review E009's recent access", Status: store.TaskOpen, Kind: store.TaskHuman, Due: now.Add(2 * time.Hour), CreatedAt: now,
				Step: "review", DependsOn: []string{"attest"}, EvidenceKind: store.EvidenceText},
		}, "test",
		store.Notification{Kind: store.NotifyAssigned, Channel: store.ChannelEmail, Recipient: "team:hr", Address: "hr@example.com",
			Subject: "[Tango] New task", Body: "Attest <now>", Step: "attest", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	s.ids["{task}"], s.ids["{task2}"] = strconv.FormatInt(tasks[0].ID, 10), strconv.FormatInt(tasks[1].ID, 10)
	for key, as := range map[string]string{"{request}": "E003", "{request2}": "E005"} {
		code, body := s.call("POST", "/api/v1/requests", as, "application/json",
			`{"app": "erp", "entitlement": "payments-create", "justification": "payroll"}`)
		if code != 201 {
			t.Fatalf("seeding a request: %d %s", code, body)
		}
		var r store.Request
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		s.ids[key] = strconv.FormatInt(r.ID, 10)
	}
	// An access review of E003's grant, reviewed by their manager E002.
	if err := st.QueueOps(ctx, store.ProvisionBatch{Put: []store.GrantRow{{App: "erp", Source: "hris", EmployeeID: "E003",
		Entitlement: "payments-create", State: "active", Reason: "imported", UpdatedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	rsvc, err := review.New(st, cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	camp, items, err := rsvc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Actor: "test"})
	if err != nil || len(items) != 1 {
		t.Fatalf("seeding a review: %+v %v", items, err)
	}
	s.ids["{campaign}"], s.ids["{item}"] = strconv.FormatInt(camp.ID, 10), strconv.FormatInt(items[0].ID, 10)
	id, _ := strconv.ParseInt(s.ids["{request}"], 10, 64)
	if _, err := st.QueueNotifications(ctx, []store.Notification{{Kind: store.NotifyRequestPending, Channel: store.ChannelEmail,
		Recipient: "person:E002", Address: "bob@example.com", Subject: "[Tango] Request " + s.ids["{request}"] + " awaits you",
		Body: "Approve or reject", Request: id, CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
}

func (s *docServer) call(method, path, as, ctype, body string) (int, []byte) {
	s.t.Helper()
	for k, v := range s.ids {
		path = strings.ReplaceAll(path, k, v)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[as])
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.t.Errorf("%s %s: Content-Type %q, want JSON", method, path, ct)
	}
	return r.StatusCode, b
}

// responseSchema finds the documented answer of an operation for a
// status: its JSON schema and example (nil when absent).
func (d oasDoc) response(op map[string]any, status int) (schema, example any, err error) {
	resps, _ := op["responses"].(map[string]any)
	r, ok := resps[strconv.Itoa(status)]
	if !ok {
		return nil, nil, fmt.Errorf("status %d is not documented", status)
	}
	rm, err := d.resolve(r)
	if err != nil {
		return nil, nil, err
	}
	content, _ := rm["content"].(map[string]any)
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("status %d has no application/json content", status)
	}
	if media["schema"] == nil {
		return nil, nil, fmt.Errorf("status %d has no schema", status)
	}
	return media["schema"], media["example"], nil
}

func (d oasDoc) operation(method, path string) (map[string]any, bool) {
	paths, _ := d["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	op, ok := item[strings.ToLower(method)].(map[string]any)
	return op, ok
}

// TestRoutesMatchOpenAPI calls every route of api.Routes on an empty store
// (the GETs) and on a seeded one, and checks each answer against its
// schema in openapi.json; and every example in the document against its
// schema.
func TestRoutesMatchOpenAPI(t *testing.T) {
	doc := parseDoc(t, api.OpenAPI)
	const howTo = "; a new route needs an entry in routeCalls (openapi_test.go) and, in internal/api/openapi.json, " +
		"its path and method with the status it answers, a response schema and an example"
	for _, rt := range api.Routes {
		key := rt.Method + " " + rt.Path
		if _, ok := routeCalls[key]; !ok {
			t.Errorf("%s is in api.Routes but not in routeCalls%s", key, howTo)
		}
		op, ok := doc.operation(rt.Method, rt.Path)
		if !ok {
			t.Errorf("%s is not in openapi.json%s", key, howTo)
			continue
		}
		if got, _ := op["x-permission"].(string); got != string(rt.Perm) {
			t.Errorf("%s: openapi.json says x-permission %q, the route table %q", key, got, rt.Perm)
		}
		if rt.Perm != authz.Public {
			if _, _, err := doc.response(op, 401); err != nil {
				t.Errorf("%s needs a caller: document its 401 (%v)", key, err)
			}
			if _, _, err := doc.response(op, 403); err != nil {
				t.Errorf("%s may be refused: document its 403 (%v)", key, err)
			}
		}
	}
	for key := range routeCalls {
		if !slices.ContainsFunc(api.Routes, func(r api.Route) bool { return r.Method+" "+r.Path == key }) {
			t.Errorf("routeCalls has %s, which api.Routes does not serve", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// checkAnswer validates one answer against the document.
	bodies := map[string][]byte{}
	checkAnswer := func(run, method, route string, status int, body []byte) {
		t.Helper()
		op, _ := doc.operation(method, route)
		schema, example, err := doc.response(op, status)
		if err != nil {
			t.Errorf("%s: %s %s answered %d: %v; body %.300s", run, method, route, status, err, body)
			return
		}
		if example == nil && status < 300 {
			t.Errorf("%s %s: the %d answer has no example in openapi.json", method, route, status)
		}
		v, err := decodeJSON(body)
		if err != nil {
			t.Errorf("%s: %s %s: the body is not JSON: %v", run, method, route, err)
			return
		}
		for _, e := range doc.validate(v, schema, "$") {
			t.Errorf("%s: %s %s (%d): %s", run, method, route, status, e)
		}
		if run == "seeded" && status < 300 && route != "/api/v1/openapi.json" {
			if n, ok := listLen(v); ok && n == 0 {
				t.Errorf("seeded: %s %s listed nothing: seed a record (seedForDoc) so the schema of its items is checked", method, route)
			}
		}
	}

	// An empty store: every GET answers something the document describes.
	empty, _ := newDocServer(t)
	for _, rt := range api.Routes {
		c := routeCalls[rt.Method+" "+rt.Path]
		if rt.Method != "GET" {
			continue
		}
		code, body := empty.call(rt.Method, c.path, c.as, c.ctype, "")
		checkAnswer("empty store", rt.Method, rt.Path, code, body)
	}

	// A seeded store: each call succeeds with the status it names.
	s, st := newDocServer(t)
	s.seed(st)
	for _, rt := range api.Routes {
		key := rt.Method + " " + rt.Path
		c := routeCalls[key]
		code, body := s.call(rt.Method, c.path, c.as, c.ctype, c.body)
		if code != c.status {
			t.Errorf("seeded: %s: status %d, want %d; body %.500s", key, code, c.status, body)
		}
		checkAnswer("seeded", rt.Method, rt.Path, code, body)
		bodies[key] = body
		// DUMP_BODIES=DIR writes each answer to DIR: a start for the example of a new route.
		if dir := os.Getenv("DUMP_BODIES"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_", "{", "", "}", "").Replace(key)+".json"), body, 0o644)
		}
	}
	// Errors are documented too.
	for _, c := range []struct {
		method, route, path, as string
		status                  int
	}{
		{"GET", "/api/v1/persons", "/api/v1/persons", "", 401},
		{"GET", "/api/v1/persons/{id}", "/api/v1/persons/nobody", "api", 404},
		{"GET", "/api/v1/events", "/api/v1/events?type=bogus", "api", 400},
	} {
		code, body := s.call(c.method, c.path, c.as, "", "")
		if code != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, code, c.status)
		}
		checkAnswer("seeded", c.method, c.route, code, body)
		bodies[fmt.Sprintf("%d %s %s", c.status, c.method, c.path)] = body
	}

	// Every example in the document fits its schema.
	examples := doc.examples()
	if len(examples) < len(api.Routes) {
		t.Errorf("openapi.json has %d examples, fewer than its routes: the walk is stale", len(examples))
	}
	for _, e := range examples {
		if e.schema == nil {
			t.Errorf("openapi.json %s: an example with no schema to check it against", e.where)
			continue
		}
		for _, msg := range doc.validate(e.example, e.schema, "example") {
			t.Errorf("openapi.json %s: %s", e.where, msg)
		}
	}

	t.Run("the old bugs are gone", func(t *testing.T) { oldBugsGone(t, bodies) })
}

// oldBugsGone checks the answers for what the API used to get wrong:
// Go's JSON (zero times, nanosecond durations, HTML escapes, an account as
// a string of Go field names).
func oldBugsGone(t *testing.T, bodies map[string][]byte) {
	keys := make([]string, 0, len(bodies))
	for k := range bodies {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b := string(bodies[k])
		if k == "GET /api/v1/openapi.json" {
			continue
		}
		for _, bad := range []string{"0001-01-01", "duration_ns", `\u003c`, `\u003e`, `\u0026`, `"ID"`, `"Key"`} {
			if strings.Contains(b, bad) {
				t.Errorf("%s: the answer contains %s:\n%.600s", k, bad, b)
			}
		}
	}
	if b := string(bodies["401 GET /api/v1/persons"]); !strings.Contains(b, "Authorization: Bearer <token>") {
		t.Errorf("the 401 message does not read `Bearer <token>`: %s", b)
	}
	if b := string(bodies["POST /api/v1/tasks/{id}/complete"]); !strings.Contains(b, "returned <every> device & keeps") {
		t.Errorf("the evidence did not come back as written: %s", b)
	}
	var ops struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(bodies["GET /api/v1/operations"], &ops); err != nil || len(ops.Items) != 3 {
		t.Fatalf("operations: %v %s", err, bodies["GET /api/v1/operations"])
	}
	for _, op := range ops.Items {
		acc, ok := op["account"].(map[string]any)
		if !ok {
			t.Errorf("operation %v: account is %T, want an object", op["id"], op["account"])
			continue
		}
		if acc["key"] != op["employee_id"] || acc["attributes"] == nil {
			t.Errorf("operation %v: account %v, want key %v and attributes", op["id"], acc, op["employee_id"])
		}
		if _, ok := op["not_before"]; ok && op["kind"] == store.OpDisable {
			t.Errorf("operation %v with no not_before shows one: %v", op["id"], op["not_before"])
		}
	}
	if b := string(bodies["POST /api/v1/operations/{id}/retry"]); !strings.Contains(b, `"state": "pending"`) || !strings.Contains(b, `"attempts": 0`) ||
		!strings.Contains(b, `"last_error": "503 <busy>"`) {
		t.Errorf("the retried operation is not pending with no attempt and its error as written: %s", b)
	}
	var req store.Request
	if err := json.Unmarshal(bodies["POST /api/v1/requests"], &req); err != nil || req.Duration.Std() != 2*time.Hour ||
		!strings.Contains(string(bodies["POST /api/v1/requests"]), `"duration": "2h"`) {
		t.Errorf("a request for 2h: %v %s", err, bodies["POST /api/v1/requests"])
	}
	if b := string(bodies["GET /api/v1/requests"]); !strings.Contains(b, `"duration": "30d"`) {
		t.Errorf("requests with the catalogue's 30d maximum: %s", b)
	}
	var imp struct {
		Duration string `json:"duration"`
	}
	if err := json.Unmarshal(bodies["GET /api/v1/imports/{id}"], &imp); err != nil {
		t.Fatal(err)
	}
	if _, err := duration.Parse(imp.Duration); err != nil {
		t.Errorf("import duration %q: %v", imp.Duration, err)
	}
}

// listLen is the length of a list answer: a JSON array, or the items of
// a page.
func listLen(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case map[string]any:
		if items, ok := x["items"].([]any); ok {
			return len(items), true
		}
	}
	return 0, false
}

type docExample struct {
	where           string
	schema, example any
}

// examples finds every example of the document with its schema: those of
// media types (responses and request bodies) and those inside schemas.
func (d oasDoc) examples() []docExample {
	var out []docExample
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch x := v.(type) {
		case map[string]any:
			if ex, ok := x["example"]; ok {
				if s, ok := x["schema"]; ok {
					out = append(out, docExample{where, s, ex})
				} else if slices.ContainsFunc([]string{"type", "$ref", "allOf", "oneOf", "properties"}, func(k string) bool { _, ok := x[k]; return ok }) {
					out = append(out, docExample{where, x, ex})
				} else {
					out = append(out, docExample{where, nil, ex})
				}
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if k != "example" {
					walk(x[k], where+"/"+k)
				}
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s/%d", where, i))
			}
		}
	}
	walk(map[string]any(d), "#")
	return out
}
