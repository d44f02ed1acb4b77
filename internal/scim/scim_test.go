package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/postgres"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/testenv"
)

const testConfig = `
org: {name: T, timezone: UTC}
sources:
  - name: workday
    kind: scim
    safeguards: {max_leavers: "10"}
`

type env struct {
	t     *testing.T
	st    store.Store
	h     *Handler
	srv   http.Handler
	token string
}

func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), "tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := auth.Create(context.Background(), st, "entra-prov", "scim", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := New(Options{Store: st, Config: cfg, Logger: slog.New(slog.DiscardHandler), Now: time.Now, BaseURL: "http://tango.test"})
	t.Cleanup(h.Flush)
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", h)
	return &env{t: t, st: st, h: h, srv: mux, token: tok}
}

func sqliteStore(t *testing.T) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func (e *env) do(method, path string, body any, hdr ...string) (int, map[string]any, http.Header) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, "http://tango.test"+Prefix+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", ContentType)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	var m map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			e.t.Fatalf("%s %s: response is not JSON: %s", method, path, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != ContentType {
			e.t.Fatalf("%s %s: content type %q", method, path, ct)
		}
	}
	return rec.Code, m, rec.Header()
}

// subset reports where got does not contain want.
func subset(want, got any, at string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", at, got)
		}
		for k, v := range w {
			if d := subset(v, g[k], at+"."+k); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d values %v", at, got, len(w), w)
		}
		for i := range w {
			if d := subset(w[i], g[i], fmt.Sprintf("%s[%d]", at, i)); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Sprintf("%s: got %#v, want %#v", at, got, want)
		}
	}
	return ""
}

type step struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Body    json.RawMessage   `json:"body"`
	Status  int               `json:"status"`
	Expect  json.RawMessage   `json:"expect"`
	Absent  []string          `json:"absent"`
	Capture map[string]string `json:"capture"`
}

// replay runs a fixture's request sequence and returns captured values.
func (e *env) replay(file string) map[string]string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		e.t.Fatal(err)
	}
	var fx struct{ Steps []step }
	if err := json.Unmarshal(b, &fx); err != nil {
		e.t.Fatalf("%s: %v", file, err)
	}
	vars := map[string]string{}
	sub := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "${"+k+"}", v)
		}
		return s
	}
	for i, s := range fx.Steps {
		var body any
		if len(s.Body) > 0 {
			body = []byte(sub(string(s.Body)))
		}
		code, got, _ := e.do(s.Method, sub(s.Path), body)
		where := fmt.Sprintf("%s step %d (%s %s)", file, i, s.Method, s.Path)
		if code != s.Status {
			e.t.Fatalf("%s: status %d, want %d: %v", where, code, s.Status, got)
		}
		if len(s.Expect) > 0 {
			var want any
			if err := json.Unmarshal([]byte(sub(string(s.Expect))), &want); err != nil {
				e.t.Fatalf("%s: expect: %v", where, err)
			}
			if d := subset(want, any(got), "$"); d != "" {
				e.t.Fatalf("%s: %s\nresponse: %v", where, d, got)
			}
		}
		for _, a := range s.Absent {
			if _, ok := got[a]; ok {
				e.t.Fatalf("%s: %s present: %v", where, a, got[a])
			}
		}
		for name, key := range s.Capture {
			v, _ := got[key].(string)
			if v == "" {
				e.t.Fatalf("%s: nothing to capture at %s", where, key)
			}
			vars[name] = v
		}
	}
	return vars
}

func (e *env) events(employee string) string {
	e.t.Helper()
	evs, err := e.st.Events(context.Background(), store.EventFilter{Source: "workday", EmployeeID: employee})
	if err != nil {
		e.t.Fatal(err)
	}
	var s []string
	for _, ev := range evs {
		x := ev.Type
		if ev.Type == store.EventMover || ev.Type == store.EventChange {
			x += "(" + strings.Join(ev.Changed, ",") + ")"
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

func (e *env) person(employee string) store.Person {
	e.t.Helper()
	p, err := e.st.Person(context.Background(), "workday", employee)
	if err != nil {
		e.t.Fatalf("person %s: %v", employee, err)
	}
	return p
}

func checkEntra(t *testing.T, e *env) {
	e.replay("entra.json")
	p := e.person("E200")
	if p.Status != store.StatusLeft || p.Department != "Research" || p.ManagerID != "E100" || p.Email != "updatedEmail@microsoft.com" ||
		p.DisplayName != "Ada Family" || p.BusinessUnit != "R&D" || p.Attributes["organization"] != "Contoso" {
		t.Fatalf("person after the Entra sequence: %+v", p)
	}
	want := "joiner mover(email,manager_id,family_name) mover(display_name,department,given_name) leaver"
	if got := e.events("E200"); got != want {
		t.Fatalf("events:\n got %s\nwant %s", got, want)
	}
	if got := e.events("E100"); got != "joiner" {
		t.Fatalf("manager events %s", got)
	}
	e.h.Flush()
	ents, _ := e.st.AuditEntries(context.Background(), 0, 1000)
	actions := map[string]int{}
	for _, a := range ents {
		if strings.HasPrefix(a.Action, "scim.") {
			if a.Actor != "scim:entra-prov" {
				t.Fatalf("audit entry %s by %q", a.Action, a.Actor)
			}
			actions[a.Action]++
		}
	}
	if actions["scim.user.create"] != 2 || actions["scim.user.patch"] != 3 || actions["scim.group.delete"] != 1 || actions["scim.read"] < 4 {
		t.Fatalf("audit actions %v", actions)
	}
}

func TestEntraProvisioningSequence(t *testing.T) {
	checkEntra(t, newEnv(t, sqliteStore(t)))
}

func TestEntraProvisioningSequencePostgres(t *testing.T) {
	st, err := postgres.Open(context.Background(), testenv.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	checkEntra(t, newEnv(t, st))
}

func TestOktaSequence(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	e.replay("okta.json")
	p := e.person("00ujl29u0le5T6Aj10h7")
	if p.Status != store.StatusLeft || p.Title != "Senior Engineer" || p.Department != "Platform" || p.Period != 2 {
		t.Fatalf("person after the Okta sequence: %+v", p)
	}
	// PUT replaces: the externalId Okta leaves out of its PUT is gone.
	want := "joiner mover(display_name,title,department,employee_number,external_id,given_name) leaver rehire leaver"
	if got := e.events("00ujl29u0le5T6Aj10h7"); got != want {
		t.Fatalf("events:\n got %s\nwant %s", got, want)
	}
	// The password Okta sent is never stored.
	x, _, _ := e.st.SCIMResources(context.Background(), store.SCIMQuery{Type: store.SCIMUser})
	if len(x) != 1 || bytes.Contains(x[0].Doc, []byte("1mz050nq")) || bytes.Contains(x[0].Doc, []byte("password")) {
		t.Fatalf("stored doc %s", x[0].Doc)
	}
}

func TestEntraInboundBulk(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	e.replay("entra_inbound_bulk.json")
	b := e.person("701984")
	k := e.person("701985")
	if b.Department != "Guest Services" || b.ManagerID != "89607" || b.Status != store.StatusActive || b.Attributes["cost_center"] != "" {
		t.Fatalf("701984 %+v", b)
	}
	if k.Status != store.StatusLeft {
		t.Fatalf("701985 %+v", k)
	}
	evs, _ := e.st.Events(context.Background(), store.EventFilter{Source: "workday", EmployeeID: "701985"})
	if len(evs) == 0 || evs[0].After.ManagerID != "701984" {
		t.Fatalf("701985 joined without the manager given by bulkId: %+v", evs)
	}
	if got := e.events("701984"); got != "joiner mover(department,business_unit,employment_type,cost_center,family_name,given_name,organization)" {
		t.Fatalf("701984 events %s", got)
	}
	if got := e.events("701985"); !strings.HasPrefix(got, "joiner leaver") {
		t.Fatalf("701985 events %s", got)
	}
	// The custom CSV extension is not a schema Tango serves: not stored.
	xs, _, _ := e.st.SCIMResources(context.Background(), store.SCIMQuery{Type: store.SCIMUser, ExternalID: "701984"})
	if len(xs) != 1 || bytes.Contains(xs[0].Doc, []byte("HireDate")) {
		t.Fatalf("stored %+v", xs)
	}
}
