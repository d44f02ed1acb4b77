package web_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tango-iga/tango/internal/signin"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

const browserPW = "correct horse battery"

// navigate opens a URL and returns the status of the document the browser
// ends on (after redirects).
func (b *browser) navigate(u string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("navigating to %s: %v", u, err)
	}
	return resp.Status
}

// submit runs steps that submit a form (a click) and returns the status
// of the document the browser ends on.
func (b *browser) submit(steps ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		b.t.Fatalf("submitting a form: %v", err)
	}
	return resp.Status
}

// location is the browser's URL.
func (b *browser) location() *url.URL {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// sessionCookie is the browser's Tango session cookie ("" without one).
func (b *browser) sessionCookie() string {
	b.t.Helper()
	cs, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.f.url}})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range cs.Cookies {
		if c.Name == signin.CookieName {
			return c.Value
		}
	}
	return ""
}

// passwordSignIn answers Tango's /login form the browser is on.
func (b *browser) passwordSignIn(username, password string) int64 {
	b.t.Helper()
	return b.submit(
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
}

// wantLogin: the browser is on /login, asked to go on to next.
func (b *browser) wantLogin(next string) {
	b.t.Helper()
	u := b.location()
	if u.Path != "/login" || u.Query().Get("next") != next {
		b.t.Fatalf("the browser is on %s, want /login?next=%s", u, next)
	}
	if h := b.text("h1"); h != "Sign in to Tango" {
		b.t.Fatalf("/login heading %q", h)
	}
}

func (f *fixture) setPassword(person string) {
	f.t.Helper()
	if err := f.m.SetPassword(context.Background(), person, browserPW, "test"); err != nil {
		f.t.Fatal(err)
	}
}

// A person signs in with a local password in a real browser: a protected
// page sends them to /login and back, the header names them, "Sign out"
// ends the session.
func TestBrowserPasswordSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixtureWith(t, fixtureOptions{signIn: true})
	f.setPassword(employee)
	b := newBrowser(t, f)

	if st := b.navigate(f.url + "/me"); st != http.StatusOK {
		t.Fatalf("/me without a session ended on %d", st)
	}
	b.wantLogin("/me")
	if strings.Contains(b.text("main"), "organisation's account") {
		t.Error("/login offers the organisation's account without signin.oidc")
	}
	b.shot("signin-login")

	if st := b.passwordSignIn("carol@example.com", browserPW); st != http.StatusOK {
		t.Fatalf("after signing in: status %d", st)
	}
	if u := b.location(); u.Path != "/me" {
		t.Fatalf("after signing in the browser is on %s, want /me", u)
	}
	b.do(chromedp.WaitVisible(chromedp.ID("attributes")))
	if attrs := b.text("#attributes"); !strings.Contains(attrs, "carol@example.com") {
		t.Errorf("/me after signing in shows: %s", attrs)
	}
	if who := b.text("form.who"); !strings.HasPrefix(who, employee) {
		t.Errorf("the header names %q, want %s first", who, employee)
	}
	if b.sessionCookie() == "" {
		t.Fatal("no session cookie after signing in")
	}
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "signin.success", Subject: employee})
	if err != nil || len(es) != 1 || !strings.Contains(string(es[0].After), `"local"`) {
		t.Errorf("signin.success entries %+v, %v", es, err)
	}
	b.shot("signin-me")

	// Sign out: the layout's button posts /logout.
	if st := b.submit(chromedp.Click(chromedp.CSS("form.who button"))); st != http.StatusOK {
		t.Fatalf("after signing out: status %d", st)
	}
	if u := b.location(); u.Path != "/login" {
		t.Fatalf("after signing out the browser is on %s, want /login", u)
	}
	if c := b.sessionCookie(); c != "" {
		t.Error("the session cookie outlived signing out")
	}
	if es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "signin.logout", Subject: employee}); err != nil || len(es) != 1 {
		t.Errorf("signin.logout entries %+v, %v", es, err)
	}
	b.navigate(f.url + "/me")
	b.wantLogin("/me")
}

// A wrong password in the browser: the refusal, no session, and a
// signin.failure entry in the audit trail.
func TestBrowserWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixtureWith(t, fixtureOptions{signIn: true})
	f.setPassword(employee)
	b := newBrowser(t, f)
	b.navigate(f.url + "/login")
	if st := b.passwordSignIn(employee, "not the password"); st != http.StatusUnauthorized {
		t.Errorf("a wrong password answered %d, want 401", st)
	}
	if msg := b.text(`[role=alert]`); !strings.Contains(msg, "Wrong username, password or code") {
		t.Errorf("the refusal reads %q", msg)
	}
	if v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`input[name=username]`))); err != nil || v != employee {
		t.Errorf("the form kept the username %q (%v), want %s", v, err, employee)
	}
	if b.sessionCookie() != "" {
		t.Error("a session cookie after a wrong password")
	}
	b.shot("signin-refused")
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "signin.failure", Subject: employee})
	if err != nil || len(es) != 1 || !strings.Contains(string(es[0].After), "wrong password") {
		t.Fatalf("signin.failure entries %+v, %v", es, err)
	}
	if strings.Contains(string(es[0].After), "not the password") {
		t.Error("the audit entry holds the typed password")
	}
	if es, _ := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "signin.success"}); len(es) != 0 {
		t.Errorf("signin.success after a wrong password: %+v", es)
	}
}

// A person signs in in a real browser through the organisation's OpenID
// provider (an independent one: the npm oidc-provider): its login form,
// back to Tango as the person of the e-mail address it sends, with the hr
// role from its group claim (authorization.roles.hr.groups).
func TestBrowserOIDCSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser and an OpenID provider")
	}
	var idp *testenv.OIDCProvider
	f := newFixtureWith(t, fixtureOptions{signIn: true, config: func(base string) string {
		idp = testenv.StartOIDCProvider(t, base+"/auth/oidc/callback", map[string]testenv.OIDCUser{
			"u-carol": {Email: "Carol@Example.com", EmailVerified: true, Name: "Carol", Groups: []string{"staff", "tango-hr"}},
		})
		return fmt.Sprintf("signin:\n  oidc:\n    issuer: %s\n    client_id: %s\n    client_secret: %s\n    redirect_url: %s/auth/oidc/callback\n    scopes: [email, profile, groups]\n",
			idp.Issuer, idp.ClientID, idp.ClientSecret, base)
	}})
	b := newBrowser(t, f)

	b.navigate(f.url + "/imports")
	b.wantLogin("/imports")
	b.do(chromedp.WaitVisible(chromedp.CSS(`a[href="/auth/oidc/start"]`)))
	if link := b.text(`a[href="/auth/oidc/start"]`); link != "Sign in with your organisation's account" {
		t.Errorf("the provider's link reads %q", link)
	}
	b.shot("signin-login-oidc")

	// The provider's development login form.
	if st := b.submit(chromedp.Click(chromedp.CSS(`a[href="/auth/oidc/start"]`))); st != http.StatusOK {
		t.Fatalf("the provider's login page: status %d", st)
	}
	if u := b.location(); !strings.HasPrefix(u.String(), idp.Issuer+"/") {
		t.Fatalf("the link led to %s, not the provider %s", u, idp.Issuer)
	}
	b.do(chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	b.shot("signin-provider")
	st := b.submit(
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "u-carol"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "any"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	// A consent page, if the provider asks: confirm it.
	if u := b.location(); strings.HasPrefix(u.String(), idp.Issuer+"/") {
		b.shot("signin-provider-consent")
		st = b.submit(chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	}
	if u := b.location(); st != http.StatusOK || !strings.HasPrefix(u.String(), f.url+"/") {
		t.Fatalf("after the provider the browser is on %s (status %d), want Tango", u, st)
	}
	if who := b.text("form.who"); !strings.HasPrefix(who, employee) || !strings.Contains(who, "hr") {
		t.Errorf("the header names %q, want %s first, with hr", who, employee)
	}
	b.shot("signin-oidc-inbox")
	if st := b.navigate(f.url + "/imports"); st != http.StatusOK {
		t.Fatalf("/imports with the hr group: status %d, want 200", st)
	}
	if h := b.text("h1"); h != "HR imports" {
		t.Errorf("/imports heading %q", h)
	}
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "signin.success", Subject: employee})
	if err != nil || len(es) != 1 || !strings.Contains(string(es[0].After), `"oidc"`) {
		t.Errorf("signin.success entries %+v, %v", es, err)
	}
}

// crossSite is a page of another origin with a form posting to Tango (no
// part of Tango: an attacker's page a signed-in person is lured to).
var crossSite = template.Must(template.New("x").Parse(`<!doctype html>
<html><head><title>Win a prize</title></head><body>
<form id="evil" method="post" action="{{.Action}}">
<input type="hidden" name="evidence" value="forged by another site">
<button type="submit">Claim</button>
</form></body></html>`))

// A form of another site posted by a signed-in browser is refused (403)
// and changes nothing: the task stays open, the session stays alive.
// The other site is another port of 127.0.0.1, so the browser even sends
// the session cookie (same site, SameSite=Lax lets it through): the
// cross-origin check alone refuses it.
func TestBrowserCrossSiteFormRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := newFixtureWith(t, fixtureOptions{signIn: true})
	f.setPassword(manager)
	tk := f.caseTask(employee)
	b := newBrowser(t, f)
	b.navigate(f.url + "/login")
	if st := b.passwordSignIn(manager, browserPW); st != http.StatusOK {
		t.Fatalf("signing in: status %d", st)
	}
	session := b.sessionCookie()
	if session == "" {
		t.Fatal("no session cookie after signing in")
	}

	targets := map[string]string{
		"task":   fmt.Sprintf("%s/tasks/%d/complete", f.url, tk.ID),
		"logout": f.url + "/logout",
	}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action, ok := targets[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = crossSite.Execute(w, struct{ Action string }{action})
	}))
	t.Cleanup(evil.Close)

	for _, name := range []string{"task", "logout"} {
		b.navigate(evil.URL + "/" + name)
		if st := b.submit(chromedp.Click(chromedp.CSS("#evil button"))); st != http.StatusForbidden {
			t.Errorf("the other site's form to %s: Tango answered %d, want 403", targets[name], st)
		}
		if u := b.location(); u.String() != targets[name] {
			t.Errorf("after the other site's form the browser is on %s, want Tango's answer from %s", u, targets[name])
		}
		if msg := b.text("main"); !strings.Contains(msg, "cross-origin requests are refused") {
			t.Errorf("Tango's refusal of the form to %s reads %q", name, msg)
		}
		b.shot("signin-cross-site-" + name)
	}

	got, err := f.st.CaseTask(context.Background(), tk.ID)
	if err != nil || got.Status != store.TaskOpen || got.Evidence != "" {
		t.Errorf("the task after the other site's form: %+v, %v; want it open without evidence", got, err)
	}
	if es, _ := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: "signin.logout"}); len(es) != 0 {
		t.Errorf("the other site's form signed out: %+v", es)
	}
	if c := b.sessionCookie(); c != session {
		t.Error("the session cookie changed after the other site's forms")
	}
	// The session still works: the case page, and the task's own form.
	if st := b.navigate(fmt.Sprintf("%s/cases/%d", f.url, tk.Case)); st != http.StatusOK {
		t.Fatalf("the case page after the other site's forms: status %d", st)
	}
	b.do(chromedp.WaitVisible(chromedp.ID(fmt.Sprintf("evidence-%d", tk.ID))))
	if who := b.text("form.who"); !strings.HasPrefix(who, manager) {
		t.Errorf("after the other site's forms the header names %q", who)
	}
}
