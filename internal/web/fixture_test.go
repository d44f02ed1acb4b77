package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/signin"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

// webConfig: Dan (E004) is HR, Ivy (E008) IT, Sam (E007) security; Bob
// (E002) manages Carol (E003) and Eve (E005). Engineering gets erp
// reports by a role; erp exports can be requested. A joiner's case has a
// step for the manager.
const webConfig = `
org: {name: Webco, timezone: Europe/Berlin}
sources:
  - name: hris
    kind: file
    format: csv
    key: user_id
    mapping:
      display_name: employee_name
      email: email
      title: role
      department: department
      manager: supervisor
      employment_type: "'employee'"
    safeguards: {max_leavers: "1"}
apps:
  - name: erp
    connector: manual
    owner: it
    requestable:
      - {entitlement: exports, owner: E001, risk: low}
roles:
  - name: engineering
    when: person.department == "Eng"
    grants: [{app: erp, entitlements: [reports]}]
authorization:
  roles:
    hr: {people: [E004], groups: [tango-hr]}
    it: {people: [E008]}
    security: {people: [E007]}
    auditor: {people: [E001]}
playbooks:
  joiner:
    steps:
      - {name: welcome, title: "Welcome {name} to the team", team: manager, due: 3d, evidence: text}
      - {name: contract, title: "File the signed contract of {name}", team: hr, due: 5d, evidence: file}
`

const csvHeader = "user_id,employee_name,email,role,department,supervisor\n"

// firstSnapshot is the workforce the fixture starts with.
const firstSnapshot = csvHeader +
	"E001,Alice Boss,alice@example.com,CEO,Exec,\n" +
	"E002,Bob Lead,bob@example.com,Lead,Eng,E001\n" +
	"E003,Carol Dev,carol@example.com,Engineer,Eng,E002\n" +
	"E004,Dan People,dan@example.com,HR partner,HR,E001\n" +
	"E005,Eve Dev,eve@example.com,Engineer,Eng,E002\n" +
	"E007,Sam Sec,sam@example.com,Security,Security,E001\n" +
	"E008,Ivy Ops,ivy@example.com,IT,IT,E001\n"

// personas: who each test signs in as.
const (
	employee  = "E003" // Carol
	manager   = "E002" // Bob, Carol's manager
	hrPerson  = "E004"
	itPerson  = "E008"
	secPerson = "E007"
)

// cookieSessions is the stub of the sign-in package: the cookie
// "tango_test" names the person signed in.
type cookieSessions struct{}

func (cookieSessions) Identify(r *http.Request) (api.Identity, bool, error) {
	c, err := r.Cookie("tango_test")
	if err != nil || c.Value == "" {
		return api.Identity{}, false, nil
	}
	return api.Identity{Person: c.Value, Via: "session:test-" + c.Value}, true, nil
}

type fixture struct {
	t   *testing.T
	st  store.Store
	cfg *config.Config
	url string
	// m signs people in when the fixture has real sign-in (newSignInFixture).
	m *signin.Manager
}

// fixtureOptions: the stub sessions (the zero value), or real sign-in.
type fixtureOptions struct {
	// signIn: the sign-in package's sessions and pages (/login, /logout,
	// /auth/oidc/...) instead of the stub cookie.
	signIn bool
	// config is added to webConfig; it gets Tango's URL (known before
	// Tango serves, for signin.oidc.redirect_url).
	config func(url string) string
	// yaml replaces webConfig when set.
	yaml string
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, fixtureOptions{}) }

// newFixtureConfig is newFixture with another config (webConfig and more).
func newFixtureConfig(t *testing.T, yaml string) *fixture {
	t.Helper()
	return newFixtureWith(t, fixtureOptions{yaml: yaml})
}

func newFixtureWith(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var h http.Handler
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	base := "http://" + hs.Listener.Addr().String()
	yaml := webConfig
	if o.yaml != "" {
		yaml = o.yaml
	}
	if o.config != nil {
		yaml += o.config(base)
	}
	cfg, err := config.Parse([]byte(yaml), filepath.Join(t.TempDir(), "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := app.Engine(st, cfg, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	imports := app.Imports(st, cfg, eng, time.Now)
	src, _ := cfg.Source("hris")
	// The first import of a source is its initial load (no cases); Carol
	// joins with the second.
	initial := strings.Replace(firstSnapshot, "E003,Carol Dev,carol@example.com,Engineer,Eng,E002\n", "", 1)
	for i, snap := range []string{initial, firstSnapshot} {
		if res, err := imports.Import(ctx, hr.File{Source: src, Name: fmt.Sprintf("s%d.csv", i+1), Data: []byte(snap), Actor: "test"}); err != nil || res.Status != store.ImportApplied {
			t.Fatalf("import %d: %+v %v", i+1, res, err)
		}
	}
	wf, err := workflow.New(st, cfg, workflow.Options{Now: time.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wf.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, cfg: cfg, url: base}
	ao := api.Options{Store: st, Config: cfg, Logger: log, Now: time.Now, Engine: eng, Imports: imports, Sessions: cookieSessions{}, Version: "test"}
	if o.signIn {
		f.m = signin.New(signin.Options{Store: st, Config: cfg, Logger: log, Now: time.Now})
		ao.Sessions, ao.SignIn = f.m, f.m.Handler()
	}
	h = api.New(ao)
	hs.Start()
	t.Cleanup(hs.Close)
	return f
}

type page struct {
	status int
	header http.Header
	body   string
}

// do sends a request as a person (empty: nobody), as a browser would.
func (f *fixture) do(method, path, person string, body io.Reader, contentType string, hdr ...string) page {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if person != "" {
		req.AddCookie(&http.Cookie{Name: "tango_test", Value: person})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, res.Header, string(b)}
}

func (f *fixture) get(path, person string) page { return f.do("GET", path, person, nil, "") }

func (f *fixture) post(path, person string, form url.Values, hdr ...string) page {
	return f.do("POST", path, person, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", hdr...)
}

// caseTask finds the open welcome task about a person.
func (f *fixture) caseTask(person string) store.CaseTask { return f.stepTask(person, "welcome") }

// stepTask finds the open task of a step about a person.
func (f *fixture) stepTask(person, step string) store.CaseTask {
	f.t.Helper()
	ts, err := f.st.CaseTasks(context.Background(), store.CaseTaskFilter{Person: person, Status: store.TaskOpen})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, t := range ts {
		if t.Step == step {
			return t
		}
	}
	f.t.Fatalf("no open %s task about %s in %v", step, person, ts)
	return store.CaseTask{}
}

var (
	inlineScript = regexp.MustCompile(`(?is)<script(?:\s[^>]*)?>\s*[^<\s]`)
	scriptTag    = regexp.MustCompile(`(?is)<script\b[^>]*>`)
	eventAttr    = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr    = regexp.MustCompile(`(?i)<[^>]+\sstyle\s*=`)
	h1           = regexp.MustCompile(`(?i)<h1[\s>]`)
	title        = regexp.MustCompile(`(?is)<title>[^<]+</title>`)
	control      = regexp.MustCompile(`(?is)<(input|select|textarea)\b[^>]*>`)
	idAttr       = regexp.MustCompile(`\sid="([^"]+)"`)
)

// checkPage asserts what every page keeps: the CSP and other headers, a
// title, one h1, no inline script, style or handler, scripts only from
// /static/, and a label for every visible control.
func checkPage(t *testing.T, path string, p page) {
	t.Helper()
	if got := p.header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || !strings.Contains(got, "frame-ancestors 'none'") || !strings.Contains(got, "form-action 'self'") || !strings.Contains(got, "style-src 'self'") {
		t.Errorf("%s: CSP %q", path, got)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Referrer-Policy") == "" {
		t.Errorf("%s: headers %v", path, p.header)
	}
	if !title.MatchString(p.body) || len(h1.FindAllString(p.body, -1)) != 1 {
		t.Errorf("%s: want a <title> and one <h1>:\n%s", path, p.body)
	}
	if inlineScript.MatchString(p.body) || eventAttr.MatchString(p.body) || styleAttr.MatchString(p.body) || strings.Contains(p.body, "<style") {
		t.Errorf("%s: inline script, handler or style:\n%s", path, p.body)
	}
	for _, s := range scriptTag.FindAllString(p.body, -1) {
		if !strings.Contains(s, `src="/static/`) {
			t.Errorf("%s: a script not from /static/: %s", path, s)
		}
	}
	for _, c := range control.FindAllString(p.body, -1) {
		if strings.Contains(c, `type="hidden"`) {
			continue
		}
		m := idAttr.FindStringSubmatch(c)
		if m == nil || !strings.Contains(p.body, `for="`+m[1]+`"`) {
			t.Errorf("%s: a control without a label: %s", path, c)
		}
	}
}
