package signin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/signin"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

const baseConfig = `
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
      employment_type: "'employee'"
    safeguards: {max_leavers: "2"}
authorization:
  roles:
    hr: {groups: [tango-hr]}
    admin: {people: [E001]}
signin:
  session: {idle: 30m, absolute: 2h}
  local: {max_failures: 3, lockout: 15m, totp_key: test-totp-key-0123456789abcdefghijklmnop}
`

const header = "user_id,employee_name,email,role,department,supervisor\n"

const snapshot = header +
	"E001,Alice Boss,alice@example.com,CEO,Exec,\n" +
	"E002,Bob Lead,bob@example.com,Lead,Eng,E001\n" +
	"E003,Carol Dev,carol@example.com,Engineer,Eng,E002\n"

// clock is the tests' settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t     *testing.T
	st    store.Store
	cfg   *config.Config
	m     *signin.Manager
	clock *clock
	url   string
	idp   *testenv.OIDCProvider
}

type opts struct {
	oidc    map[string]testenv.OIDCUser // start a provider with these users
	baseURL string
	extra   string // appended to signin.oidc
}

func newFixture(t *testing.T, o opts) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	var h http.Handler
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	f.url = "http://" + hs.Listener.Addr().String()
	yaml := baseConfig
	if o.oidc != nil {
		f.idp = testenv.StartOIDCProvider(t, f.url+"/auth/oidc/callback", o.oidc)
		yaml += fmt.Sprintf("  oidc:\n    issuer: %s\n    client_id: %s\n    client_secret: %s\n    redirect_url: %s/auth/oidc/callback\n    scopes: [email, profile, groups]\n%s",
			f.idp.Issuer, f.idp.ClientID, f.idp.ClientSecret, f.url, o.extra)
	}
	if f.cfg, err = config.Parse([]byte(yaml), "test.yaml"); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	f.m = signin.New(signin.Options{Store: st, Config: f.cfg, Logger: log, Now: f.clock.now, BaseURL: o.baseURL})
	h = api.New(api.Options{Store: st, Config: f.cfg, Logger: log, Now: f.clock.now, Sessions: f.m, SignIn: f.m.Handler()})
	hs.Start()
	t.Cleanup(hs.Close)
	f.importCSV(snapshot)
	return f
}

func (f *fixture) importCSV(csv string) hr.Result {
	f.t.Helper()
	src, _ := f.cfg.Source("hris")
	res, err := hr.ImportFile(context.Background(), f.st, f.cfg, src, "s.csv", []byte(csv), hr.Options{Actor: "test", Now: f.clock.now})
	if err != nil || res.Status != store.ImportApplied {
		f.t.Fatalf("import: %+v, %v", res, err)
	}
	return res
}

// browser is an HTTP client with a cookie jar that stops at redirects
// unless follow.
func (f *fixture) browser(follow bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func (f *fixture) get(c *http.Client, path string) (int, string) {
	f.t.Helper()
	resp, err := c.Get(f.url + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *fixture) login(c *http.Client, username, password, code string) *http.Response {
	f.t.Helper()
	resp, err := c.PostForm(f.url+"/login", url.Values{"username": {username}, "password": {password}, "totp": {code}})
	if err != nil {
		f.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func (f *fixture) setPassword(person, pw string) {
	f.t.Helper()
	if err := f.m.SetPassword(context.Background(), person, pw, "test"); err != nil {
		f.t.Fatal(err)
	}
}

// audits returns the audit entries of an action.
func (f *fixture) audits(action string) []audit.Entry {
	f.t.Helper()
	es, err := f.st.AuditQuery(context.Background(), store.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

func sessionCookie(c *http.Client, base string) *http.Cookie {
	u, _ := url.Parse(base)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == signin.CookieName {
			return k
		}
	}
	return nil
}

const goodPW = "correct horse battery"

func TestOIDCSignIn(t *testing.T) {
	f := newFixture(t, opts{oidc: map[string]testenv.OIDCUser{
		"u-alice":   {Email: "Alice@Example.com", EmailVerified: true, Name: "Alice", Groups: []string{"staff", "tango-hr"}},
		"u-bob":     {Email: "bob@example.com", EmailVerified: true},
		"u-mallory": {Email: "mallory@example.com", EmailVerified: true},
		"u-unverif": {Email: "carol@example.com", EmailVerified: false},
	}})
	signIn := func(user string) (*http.Client, int, string) {
		t.Helper()
		c := f.browser(true)
		resp, err := c.Get(f.url + "/auth/oidc/start")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(resp.Request.URL.String(), f.idp.Issuer) {
			t.Fatalf("/auth/oidc/start led to %s, not the provider", resp.Request.URL)
		}
		end := f.idp.Login(t, c, resp, user)
		defer end.Body.Close()
		b, _ := io.ReadAll(end.Body)
		return c, end.StatusCode, string(b)
	}

	// Alice: by e-mail (any case), hr from her IdP group.
	c, status, body := signIn("u-alice")
	if status != http.StatusOK || !strings.Contains(body, "Tango") {
		t.Fatalf("after the callback: %d %.300s", status, body)
	}
	if sessionCookie(c, f.url) == nil {
		t.Fatal("no session cookie after signing in")
	}
	if code, body := f.get(c, "/api/v1/persons/E001"); code != http.StatusOK || !strings.Contains(body, `"E001"`) {
		t.Fatalf("GET own person record with the session: %d %s", code, body)
	}
	if code, body := f.get(c, "/api/v1/imports"); code != http.StatusOK {
		t.Fatalf("GET /api/v1/imports (hr, from the groups claim): %d %s", code, body)
	}
	ok := f.audits("signin.success")
	if len(ok) != 1 || ok[0].Subject != "E001" || !strings.Contains(string(ok[0].After), `"oidc"`) {
		t.Fatalf("signin.success entries %+v", ok)
	}

	// Bob: signed in, but without the group no hr.
	c, status, _ = signIn("u-bob")
	if status != http.StatusOK {
		t.Fatalf("bob's sign-in: %d", status)
	}
	if code, _ := f.get(c, "/api/v1/imports"); code != http.StatusForbidden {
		t.Fatalf("GET /api/v1/imports without the hr group: %d, want 403", code)
	}

	// Nobody of the workforce, and an unverified address: refused, audited.
	for user, reason := range map[string]string{"u-mallory": "not a person of the workforce", "u-unverif": "not verified"} {
		c, status, body = signIn(user)
		if status != http.StatusForbidden || !strings.Contains(body, reason) || sessionCookie(c, f.url) != nil {
			t.Fatalf("%s: %d, cookie %v, %.300s; want 403 %q", user, status, sessionCookie(c, f.url), body, reason)
		}
	}
	fails := f.audits("signin.failure")
	if len(fails) != 2 || !strings.Contains(string(fails[0].After)+string(fails[1].After), "not a person of the workforce") {
		t.Fatalf("signin.failure entries %+v", fails)
	}

	// A callback this browser did not start is refused.
	c = f.browser(false)
	if code, body := f.get(c, "/auth/oidc/callback?state=forged&code=x"); code != http.StatusBadRequest || !strings.Contains(body, "state") {
		t.Fatalf("callback without the flow cookie: %d %.200s", code, body)
	}
}

func TestOIDCSignInByEmployeeID(t *testing.T) {
	f := newFixture(t, opts{
		oidc:  map[string]testenv.OIDCUser{"E002": {Email: "someone@else.example", EmailVerified: true}},
		extra: "    claims: {person: sub, match: employee_id}\n",
	})
	c := f.browser(true)
	resp, err := c.Get(f.url + "/auth/oidc/start")
	if err != nil {
		t.Fatal(err)
	}
	end := f.idp.Login(t, c, resp, "E002")
	end.Body.Close()
	if code, body := f.get(c, "/api/v1/persons/E002"); end.StatusCode != http.StatusOK || code != http.StatusOK {
		t.Fatalf("sub → employee ID: callback %d, GET %d %s", end.StatusCode, code, body)
	}
}

func TestLocalSignIn(t *testing.T) {
	f := newFixture(t, opts{})
	ctx := context.Background()
	if err := f.m.SetPassword(ctx, "E002", "short", "test"); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("short password: %v", err)
	}
	if err := f.m.SetPassword(ctx, "E999", goodPW, "test"); err == nil {
		t.Fatal("a password for somebody not in the workforce was set")
	}
	f.setPassword("E002", goodPW)

	// The form.
	c := f.browser(false)
	if code, body := f.get(c, "/login"); code != http.StatusOK || !strings.Contains(body, `name="password"`) || strings.Contains(body, "/auth/oidc/start") {
		t.Fatalf("GET /login: %d %.300s", code, body)
	}
	if code, body := f.get(c, "/login?next=/api/v1/tasks"); code != http.StatusOK || !strings.Contains(body, `action="/login?next=%2fapi%2fv1%2ftasks"`) {
		t.Fatalf("GET /login?next=: %d %.600s", code, body)
	}
	if _, body := f.get(c, "/login?next=//evil.example"); strings.Contains(body, "evil") {
		t.Fatalf("GET /login?next=//evil.example keeps it: %.600s", body)
	}
	// Wrong password: refused, audited with the reason and never the password.
	if r := f.login(c, "E002", "wrong password 123", ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	if r := f.login(c, "nobody@example.com", "whatever password", ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", r.StatusCode)
	}
	fails := f.audits("signin.failure")
	if len(fails) != 2 || fails[0].Subject != "E002" || !strings.Contains(string(fails[0].After), "wrong password") ||
		!strings.Contains(string(fails[1].After), "unknown user") {
		t.Fatalf("failures %+v", fails)
	}
	for _, e := range fails {
		if strings.Contains(string(e.After), "wrong password 123") || strings.Contains(string(e.After), "whatever password") {
			t.Fatalf("a password is in the audit trail: %s", e.After)
		}
	}
	// Right password, by e-mail: a session, with the cookie's attributes.
	r := f.login(c, "BOB@example.com", goodPW, "")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("right password: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	sc := r.Header.Get("Set-Cookie")
	for _, want := range []string{signin.CookieName + "=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Fatalf("Set-Cookie %q is Secure over plain http without an https base URL", sc)
	}
	if code, body := f.get(c, "/api/v1/persons/E002"); code != http.StatusOK {
		t.Fatalf("GET own record: %d %s", code, body)
	}
	// Only the hash of the cookie is stored.
	ss, _ := f.m.Sessions(ctx)
	if len(ss) != 1 || ss[0].Person != "E002" || ss[0].Method != "local" || strings.Contains(ss[0].Hash, sessionCookie(c, f.url).Value) {
		t.Fatalf("sessions %+v", ss)
	}

	// Logout ends the session.
	resp, err := c.Post(f.url+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if ss, _ := f.m.Sessions(ctx); len(ss) != 0 {
		t.Fatalf("sessions after logout: %+v", ss)
	}
}

func TestLocalSignInSecureCookieBehindHTTPS(t *testing.T) {
	f := newFixture(t, opts{baseURL: "https://tango.example.com"})
	f.setPassword("E002", goodPW)
	r := f.login(f.browser(false), "E002", goodPW, "")
	if sc := r.Header.Get("Set-Cookie"); r.StatusCode != http.StatusSeeOther || !strings.Contains(sc, "Secure") {
		t.Fatalf("https base URL: %d, Set-Cookie %q, want Secure", r.StatusCode, sc)
	}
	// ?next= (a local path) is where the browser goes after signing in.
	resp, err := f.browser(false).PostForm(f.url+"/login?next=%2Fapi%2Fv1%2Ftasks", url.Values{"username": {"E002"}, "password": {goodPW}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/v1/tasks" {
		t.Fatalf("POST /login?next=/api/v1/tasks: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestLockoutAndRateLimit(t *testing.T) {
	f := newFixture(t, opts{})
	f.setPassword("E002", goodPW)
	c := f.browser(false)
	for range 3 {
		if r := f.login(c, "E002", "not the password", ""); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.StatusCode)
		}
	}
	if n := len(f.audits("signin.locked")); n != 1 {
		t.Fatalf("%d signin.locked entries after 3 failures, want 1", n)
	}
	// Locked: even the right password fails, for 15 minutes.
	if r := f.login(c, "E002", goodPW, ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("right password while locked: %d, want 401", r.StatusCode)
	}
	fails := f.audits("signin.failure")
	if last := fails[len(fails)-1]; !strings.Contains(string(last.After), "locked until") {
		t.Fatalf("failure while locked: %s", last.After)
	}
	f.clock.add(16 * time.Minute)
	if r := f.login(c, "E002", goodPW, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password after the lockout: %d", r.StatusCode)
	}

	// Rate limit: 10 attempts a minute from one address.
	f.clock.add(time.Minute)
	codes := map[int]int{}
	for range 11 {
		codes[f.login(c, "E003", "not the password", "").StatusCode]++
	}
	codes[f.login(c, "E003", "not the password", "").StatusCode]++
	if codes[http.StatusTooManyRequests] != 2 || codes[http.StatusUnauthorized] != 10 {
		t.Fatalf("12 attempts in a minute: %v, want 10×401 and 2×429", codes)
	}
	n := 0
	for _, e := range f.audits("signin.failure") {
		if strings.Contains(string(e.After), "rate limited") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d rate-limit audit entries for 2 refusals, want 1 per address and minute", n)
	}
	// The next minute lets the address try again.
	f.clock.add(time.Minute)
	if r := f.login(c, "E002", goodPW, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the next minute: %d", r.StatusCode)
	}
}

func TestTOTP(t *testing.T) {
	f := newFixture(t, opts{})
	ctx := context.Background()
	if _, err := f.m.EnableTOTP(ctx, "E002", "test"); err == nil {
		t.Fatal("TOTP enabled for a person without a local account")
	}
	f.setPassword("E002", goodPW)
	key, err := f.m.EnableTOTP(ctx, "E002", "test")
	if err != nil || !strings.HasPrefix(key.URL(), "otpauth://totp/") {
		t.Fatalf("EnableTOTP: %v %v", key, err)
	}
	c := f.browser(false)
	if r := f.login(c, "E002", goodPW, ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a code: %d", r.StatusCode)
	}
	if r := f.login(c, "E002", goodPW, "000000"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", r.StatusCode)
	}
	fails := f.audits("signin.failure")
	if len(fails) != 2 || !strings.Contains(string(fails[0].After), "TOTP code missing") || !strings.Contains(string(fails[1].After), "wrong TOTP code") {
		t.Fatalf("failures %+v", fails)
	}
	code, err := totp.GenerateCode(key.Secret(), f.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	if r := f.login(c, "E002", goodPW, code); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("right code: %d", r.StatusCode)
	}
	// The same code again (seen over a shoulder): refused.
	if r := f.login(f.browser(false), "E002", goodPW, code); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a used code again: %d, want 401", r.StatusCode)
	}
	if fails := f.audits("signin.failure"); !strings.Contains(string(fails[len(fails)-1].After), "TOTP code already used") {
		t.Fatalf("replay's failure: %s", fails[len(fails)-1].After)
	}
	// The next step's code works.
	f.clock.add(30 * time.Second)
	next, _ := totp.GenerateCode(key.Secret(), f.clock.now())
	if r := f.login(f.browser(false), "E002", goodPW, next); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the next code: %d", r.StatusCode)
	}
	// Disabled: the password alone suffices again.
	if err := f.m.DisableTOTP(ctx, "E002", "test"); err != nil {
		t.Fatal(err)
	}
	if r := f.login(f.browser(false), "E002", goodPW, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after disabling TOTP: %d", r.StatusCode)
	}
}

// TOTP secrets are stored encrypted with signin.local.totp_key, bound to
// the account: the database alone makes no codes, a changed key refuses
// the sign-in (audited, the secret nowhere), and without a key TOTP is
// not enabled. A secret stored in the clear before the key still works.
func TestTOTPSecretsEncryptedAtRest(t *testing.T) {
	f := newFixture(t, opts{})
	ctx := context.Background()
	f.setPassword("E002", goodPW)
	f.setPassword("E003", goodPW)
	key, err := f.m.EnableTOTP(ctx, "E002", "test")
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.st.LocalAccount(ctx, "E002")
	if err != nil || !strings.HasPrefix(a.TOTPSecret, "v1:") || strings.Contains(a.TOTPSecret, key.Secret()) {
		t.Fatalf("stored TOTP secret %q (%v): want it encrypted", a.TOTPSecret, err)
	}
	// Copied onto another account, it does not open there.
	if err := f.st.InTx(ctx, func(tx store.Tx) error { _, err := tx.SetLocalTOTP("E003", a.TOTPSecret, f.clock.now()); return err }); err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(key.Secret(), f.clock.now())
	if r := f.login(f.browser(false), "E003", goodPW, code); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("E002's sealed secret on E003's account: %d, want 401", r.StatusCode)
	}
	// Another key: refused, and the audit entry says why without the secret.
	good := f.cfg.SignIn.Local.TOTPKey
	f.cfg.SignIn.Local.TOTPKey = "another-key-0123456789abcdefghijklmnopqrst"
	if r := f.login(f.browser(false), "E002", goodPW, code); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("with another key: %d, want 401", r.StatusCode)
	}
	fails := f.audits("signin.failure")
	last := string(fails[len(fails)-1].After)
	if !strings.Contains(last, "signin.local.totp_key missing or changed") || strings.Contains(last, key.Secret()) || strings.Contains(last, good) {
		t.Fatalf("failure entry %s", last)
	}
	f.cfg.SignIn.Local.TOTPKey = good
	if r := f.login(f.browser(false), "E002", goodPW, code); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("with the key back: %d", r.StatusCode)
	}
	// No key: TOTP is not enabled, the error names the setting.
	f.cfg.SignIn.Local.TOTPKey = ""
	if _, err := f.m.EnableTOTP(ctx, "E003", "test"); err == nil || !strings.Contains(err.Error(), "signin.local.totp_key is not set") {
		t.Fatalf("EnableTOTP without a key: %v", err)
	}
	f.cfg.SignIn.Local.TOTPKey = good
	// A secret stored in the clear (before the key existed) still signs in.
	plain, _ := totp.Generate(totp.GenerateOpts{Issuer: "Tango", AccountName: "E003"})
	if err := f.st.InTx(ctx, func(tx store.Tx) error { _, err := tx.SetLocalTOTP("E003", plain.Secret(), f.clock.now()); return err }); err != nil {
		t.Fatal(err)
	}
	f.clock.add(30 * time.Second)
	code3, _ := totp.GenerateCode(plain.Secret(), f.clock.now())
	if r := f.login(f.browser(false), "E003", goodPW, code3); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a secret stored in the clear: %d", r.StatusCode)
	}
}

func TestSessionTimeouts(t *testing.T) {
	f := newFixture(t, opts{})
	f.setPassword("E002", goodPW)
	c := f.browser(false)
	f.login(c, "E002", goodPW, "")
	me := func() int { code, _ := f.get(c, "/api/v1/persons/E002"); return code }
	// Used every 25 minutes, it lives until its absolute end (2h).
	for range 4 {
		f.clock.add(25 * time.Minute)
		if code := me(); code != http.StatusOK {
			t.Fatalf("at +%s: %d", 25*time.Minute, code)
		}
	}
	f.clock.add(21 * time.Minute) // 2h01m after sign-in
	if code := me(); code != http.StatusUnauthorized {
		t.Fatalf("after the absolute timeout: %d, want 401", code)
	}

	// Idle: 30 minutes without use end it.
	c = f.browser(false)
	f.login(c, "E002", goodPW, "")
	f.clock.add(29 * time.Minute)
	if code := me(); code != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d", code)
	}
	f.clock.add(30 * time.Minute)
	if code := me(); code != http.StatusUnauthorized {
		t.Fatalf("after 30 idle minutes: %d, want 401", code)
	}
}

func TestRevokeAndLeaver(t *testing.T) {
	f := newFixture(t, opts{})
	ctx := context.Background()
	f.setPassword("E002", goodPW)
	f.setPassword("E003", goodPW)
	b1, b2, b3 := f.browser(false), f.browser(false), f.browser(false)
	f.login(b1, "E002", goodPW, "")
	f.login(b2, "E002", goodPW, "")
	f.login(b3, "E003", goodPW, "")
	ss, _ := f.m.Sessions(ctx)
	if len(ss) != 3 {
		t.Fatalf("sessions %+v", ss)
	}
	var b1ID string
	for _, x := range ss {
		if x.Hash == sha(sessionCookie(b1, f.url).Value) {
			b1ID = x.ID
		}
	}
	if err := f.m.Revoke(ctx, b1ID, "test"); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.get(b1, "/api/v1/persons/E002"); code != http.StatusUnauthorized {
		t.Fatalf("revoked session: %d", code)
	}
	if code, _ := f.get(b2, "/api/v1/persons/E002"); code != http.StatusOK {
		t.Fatalf("the other session: %d", code)
	}
	if err := f.m.Revoke(ctx, b1ID, "test"); err == nil {
		t.Fatal("revoking twice succeeded")
	}
	if ids, err := f.m.RevokePerson(ctx, "E002", "test"); err != nil || len(ids) != 1 {
		t.Fatalf("RevokePerson: %v %v", ids, err)
	}
	if code, _ := f.get(b2, "/api/v1/persons/E002"); code != http.StatusUnauthorized {
		t.Fatalf("session after RevokePerson: %d", code)
	}
	if n := len(f.audits("session.revoked")); n != 2 {
		t.Fatalf("%d session.revoked entries, want 2", n)
	}

	// E003 leaves in the next import: their session ends with the leave.
	if code, _ := f.get(b3, "/api/v1/persons/E003"); code != http.StatusOK {
		t.Fatalf("E003 before leaving: %d", code)
	}
	f.importCSV(header + "E001,Alice Boss,alice@example.com,CEO,Exec,\nE002,Bob Lead,bob@example.com,Lead,Eng,E001\n")
	if code, _ := f.get(b3, "/api/v1/persons/E003"); code != http.StatusUnauthorized {
		t.Fatalf("leaver's session after the import: %d, want 401", code)
	}
	// Even a session the leave did not revoke is refused, and a leaver
	// cannot sign in.
	if err := f.st.InTx(ctx, func(tx store.Tx) error {
		now := f.clock.now()
		return tx.InsertSession(store.Session{ID: "stale", Hash: sha("stale-secret"), Person: "E003", Method: "local", CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	c := f.browser(false)
	u, _ := url.Parse(f.url)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: signin.CookieName, Value: "stale-secret"}})
	if code, body := f.get(c, "/api/v1/persons/E003"); code != http.StatusUnauthorized || !strings.Contains(body, "left") {
		t.Fatalf("unrevoked session of a leaver: %d %s", code, body)
	}
	if r := f.login(f.browser(false), "E003", goodPW, ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("leaver signing in: %d", r.StatusCode)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	f := newFixture(t, opts{})
	f.setPassword("E002", goodPW)
	for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}} {
		for _, path := range []string{"/login", "/logout", "/api/v1/imports"} {
			req, _ := http.NewRequest("POST", f.url+path, strings.NewReader(url.Values{"username": {"E002"}, "password": {goodPW}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range h {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("POST %s with %v: %d, want 403", path, h, resp.StatusCode)
			}
		}
	}
	if n := len(f.audits("signin.success")); n != 0 {
		t.Fatalf("a cross-site POST signed in (%d)", n)
	}
	// Same-origin browsers and API clients without those headers pass.
	req, _ := http.NewRequest("POST", f.url+"/login", strings.NewReader(url.Values{"username": {"E002"}, "password": {goodPW}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := f.browser(false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST /login: %d", resp.StatusCode)
	}
	// Tango's public origin (the redirect URL's) is trusted even when a
	// proxy changed the Host header.
	cfg, err := config.Parse([]byte(baseConfig+"  oidc: {issuer: \"https://idp.example\", client_id: x, redirect_url: \"https://tango.example/auth/oidc/callback\"}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := signin.New(signin.Options{Store: f.st, Config: cfg})
	h := api.New(api.Options{Store: f.st, Config: cfg, Logger: slog.New(slog.DiscardHandler), Now: f.clock.now, Sessions: m, SignIn: m.Handler()})
	for origin, want := range map[string]int{"https://tango.example": http.StatusSeeOther, "https://evil.example": http.StatusForbidden} {
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080/login", strings.NewReader(url.Values{"username": {"E002"}, "password": {goodPW}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Fatalf("POST /login from %s behind a proxy: %d, want %d", origin, w.Code, want)
		}
	}
	resp, err = http.Post(f.url+"/api/v1/imports", "text/csv", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /api/v1/imports without a token or headers: %d, want 401 (not the cross-origin 403)", resp.StatusCode)
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// An https redirect URL says Tango is reached over https: cookies are
// Secure even when a proxy in front ends TLS.
func TestSecureFromRedirectURL(t *testing.T) {
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Parse([]byte(baseConfig+"  oidc: {issuer: \"https://idp.example\", client_id: x, redirect_url: \"https://tango.example/auth/oidc/callback\"}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := signin.New(signin.Options{Store: st, Config: cfg})
	src, _ := cfg.Source("hris")
	if _, err := hr.ImportFile(ctx, st, cfg, src, "s.csv", []byte(snapshot), hr.Options{Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetPassword(ctx, "E002", goodPW, "t"); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"username": {"E002"}, "password": {goodPW}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, r)
	if sc := w.Header().Get("Set-Cookie"); w.Code != http.StatusSeeOther || !strings.Contains(sc, "Secure") {
		t.Fatalf("POST /login with an https redirect URL: %d, Set-Cookie %q", w.Code, sc)
	}
}
