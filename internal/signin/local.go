package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

// Rate limit of POST /login per client address.
const (
	loginsPerMinute = 10
	maxTrackedIPs   = 100_000
	maxFormBytes    = 16 << 10
)

// refused is what a failed sign-in shows, whatever the reason: it tells
// nobody which accounts exist.
const refused = "Wrong username, password or code, or the account is locked for a while."

var page = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Tango</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/tango.css"></head>
<body><main>
<h1>Sign in to Tango</h1>
{{if .Error}}<p role="alert" class="error">{{.Error}}</p>{{end}}
{{if .OIDC}}<p><a href="/auth/oidc/start">Sign in with your organisation's account</a></p>{{end}}
{{if .Local}}<form method="post" action="/login{{if .Next}}?next={{.Next}}{{end}}">
<label>Employee ID or e-mail <input name="username" autocomplete="username" required value="{{.Username}}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<label>Authenticator code (if enabled) <input name="totp" inputmode="numeric" autocomplete="one-time-code"></label>
<button type="submit">Sign in</button>
</form>{{end}}
</main></body></html>
`))

type pageData struct {
	Error, Username string
	// Next is where to go after signing in (a local path).
	Next        string
	OIDC, Local bool
}

func (m *Manager) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	d.OIDC, d.Local = m.oidc != nil, m.cfg.SignIn.Local.On()
	if n := next(r); n != "/" {
		d.Next = n
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = page.Execute(w, d)
}

func (m *Manager) loginForm(w http.ResponseWriter, r *http.Request) {
	m.render(w, r, http.StatusOK, pageData{})
}

// login checks a local account's password (and TOTP code) and starts a
// session. Every failure takes about as long as a wrong password.
func (m *Manager) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !m.cfg.SignIn.Local.On() {
		m.render(w, r, http.StatusNotFound, pageData{Error: "Local accounts are turned off (signin.local.enabled); sign in with your organisation's account."})
		return
	}
	if ok, first := m.limiter.allow(clientIP(r), m.now()); !ok {
		if first { // one entry per address and minute, not one per attempt
			m.failure(ctx, r, "local", "", "rate limited")
		}
		w.Header().Set("Retry-After", "60")
		m.render(w, r, http.StatusTooManyRequests, pageData{Error: "Too many sign-in attempts from your address; wait a minute."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		m.render(w, r, http.StatusBadRequest, pageData{Error: "The sign-in form could not be read."})
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	code := strings.TrimSpace(r.PostForm.Get("totp"))
	p, a, reason, err := m.checkLocal(ctx, username, password, code)
	if err != nil {
		m.log.Error("local sign-in failed", "err", err)
		m.render(w, r, http.StatusInternalServerError, pageData{Error: "Signing in failed; try again.", Username: username})
		return
	}
	if reason != "" {
		m.failure(ctx, r, "local", username, reason)
		m.render(w, r, http.StatusUnauthorized, pageData{Error: refused, Username: username})
		return
	}
	if err := m.startSession(w, r, p, nil, "local", a.Failures > 0); err != nil {
		m.log.Error("local sign-in failed", "err", err)
		m.render(w, r, http.StatusInternalServerError, pageData{Error: "Signing in failed; try again.", Username: username})
		return
	}
	http.Redirect(w, r, next(r), http.StatusSeeOther)
}

// next is where to go after signing in: a local path given as ?next=, or
// the home page.
func next(r *http.Request) string {
	n := r.URL.Query().Get("next")
	if u, err := url.Parse(n); err == nil && strings.HasPrefix(n, "/") && !strings.HasPrefix(n, "//") && !strings.HasPrefix(n, "/\\") && u.Host == "" && u.Scheme == "" {
		return n
	}
	return "/"
}

// checkLocal returns the person a username, password and code sign in,
// or the reason they do not (for the audit trail).
func (m *Manager) checkLocal(ctx context.Context, username, password, code string) (store.Person, store.LocalAccount, string, error) {
	if username == "" || len(username) > 256 {
		m.burn(password)
		return store.Person{}, store.LocalAccount{}, "no username", nil
	}
	p, err := m.findPerson(ctx, username, true)
	if errors.Is(err, store.ErrNotFound) {
		m.burn(password)
		return p, store.LocalAccount{}, "unknown user", nil
	}
	if err != nil {
		return p, store.LocalAccount{}, "", err
	}
	a, err := m.st.LocalAccount(ctx, p.EmployeeID)
	if errors.Is(err, store.ErrNotFound) {
		m.burn(password)
		return p, a, "no local account", nil
	}
	if err != nil {
		return p, a, "", err
	}
	now := m.at()
	if now.Before(a.LockedUntil) {
		m.burn(password)
		return p, a, fmt.Sprintf("locked until %s", a.LockedUntil.Format(time.RFC3339)), nil
	}
	reason := ""
	var step int64
	switch {
	case !VerifyPassword(a.PasswordHash, password):
		reason = "wrong password"
	case a.TOTPSecret != "" && code == "":
		reason = "TOTP code missing"
	case a.TOTPSecret != "":
		secret, err := m.openTOTP(p.EmployeeID, a.TOTPSecret)
		if err != nil {
			m.log.Error("local sign-in: the TOTP secret cannot be read", "person", p.EmployeeID, "err", err)
			reason = "TOTP secret unreadable (signin.local.totp_key missing or changed)"
			break
		}
		var ok bool
		if step, ok = totpStep(code, secret, now); !ok {
			reason = "wrong TOTP code"
		}
	}
	if reason == "" && p.Status == store.StatusLeft {
		return p, a, "person has left", nil
	}
	if reason == "" && a.TOTPSecret != "" {
		// A code works once: one seen on the way cannot sign in again.
		var fresh bool
		if err := m.st.InTx(ctx, func(tx store.Tx) (err error) { fresh, err = tx.UseTOTPStep(p.EmployeeID, step); return err }); err != nil {
			return p, a, "", err
		}
		if !fresh {
			reason = "TOTP code already used"
		}
	}
	if reason == "" {
		return p, a, "", nil
	}
	lc := m.cfg.SignIn.Local
	err = m.st.InTx(ctx, func(tx store.Tx) error {
		after, err := tx.AddSignInFailure(p.EmployeeID, lc.MaxFailures, now.Add(lc.Lockout))
		if err != nil {
			return err
		}
		if after.LockedUntil.After(now) && !a.LockedUntil.Equal(after.LockedUntil) {
			reason += fmt.Sprintf("; account locked until %s after %d failures", after.LockedUntil.Format(time.RFC3339), lc.MaxFailures)
			return tx.AppendAudit(audit.New(now, "system:signin", "signin.locked", p.Source, "", p.EmployeeID, nil,
				map[string]string{"until": after.LockedUntil.Format(time.RFC3339)}))
		}
		return nil
	})
	return p, a, reason, err
}

// burn spends the time checking a password takes, so that an unknown user
// answers like a wrong password.
func (m *Manager) burn(password string) {
	m.dummyOnce.Do(func() { m.dummy = HashPassword(randomString(24)) })
	VerifyPassword(m.dummy, password)
}

// findPerson finds a person by employee ID or (byEmail) e-mail address;
// store.ErrNotFound when nobody or more than one person has it.
func (m *Manager) findPerson(ctx context.Context, id string, byEmail bool) (store.Person, error) {
	if !byEmail || !strings.Contains(id, "@") {
		return request.FindPerson(ctx, m.st, m.cfg, id)
	}
	ps, err := m.st.Persons(ctx, store.PersonFilter{Email: id, Limit: 2})
	if err != nil {
		return store.Person{}, err
	}
	if len(ps) != 1 {
		return store.Person{}, fmt.Errorf("%d persons have the e-mail address %q: %w", len(ps), id, store.ErrNotFound)
	}
	return ps[0], nil
}

// totpStep finds the 30-second time step (now, one before or one after)
// whose code is code.
func totpStep(code, secret string, now time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	found, step := false, int64(0)
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		at := now.Add(d)
		want, err := totp.GenerateCodeCustom(secret, at, opts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, step = true, at.Unix()/30
		}
	}
	return step, found
}

// SetPassword gives a person of the workforce a local account with a new
// password (keeping its TOTP secret), audited with actor.
func (m *Manager) SetPassword(ctx context.Context, person, password, actor string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	p, err := request.FindPerson(ctx, m.st, m.cfg, person)
	if err != nil {
		return err
	}
	if p.Status == store.StatusLeft {
		return fmt.Errorf("%s has left; a leaver gets no local account", p.EmployeeID)
	}
	now := m.at()
	a := store.LocalAccount{Person: p.EmployeeID, PasswordHash: HashPassword(password), UpdatedAt: now}
	if old, err := m.st.LocalAccount(ctx, p.EmployeeID); err == nil {
		a.TOTPSecret = old.TOTPSecret
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return m.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutLocalAccount(a); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(now, actor, "signin.password.set", p.Source, "", p.EmployeeID, nil, nil))
	})
}

// EnableTOTP gives a person's local account a new TOTP secret and returns
// its otpauth:// URL (shown once).
func (m *Manager) EnableTOTP(ctx context.Context, person, actor string) (*otp.Key, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Tango", AccountName: person})
	if err != nil {
		return nil, err
	}
	p, err := request.FindPerson(ctx, m.st, m.cfg, person)
	if err != nil {
		return nil, err
	}
	sealed, err := m.sealTOTP(p.EmployeeID, key.Secret())
	if err != nil {
		return nil, err
	}
	return key, m.setTOTP(ctx, p.EmployeeID, sealed, actor, "signin.totp.enabled")
}

// DisableTOTP removes a person's TOTP secret.
func (m *Manager) DisableTOTP(ctx context.Context, person, actor string) error {
	return m.setTOTP(ctx, person, "", actor, "signin.totp.disabled")
}

func (m *Manager) setTOTP(ctx context.Context, person, secret, actor, action string) error {
	now := m.at()
	return m.st.InTx(ctx, func(tx store.Tx) error {
		ok, err := tx.SetLocalTOTP(person, secret, now)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s has no local account; set a password first (`tango users set-password %s`): %w", person, person, store.ErrNotFound)
		}
		return tx.AppendAudit(audit.New(now, actor, action, "", "", person, nil, nil))
	})
}

// limiter counts attempts per address in one-minute windows. It keeps at
// most max addresses: beyond, new ones wait for the next window.
type limiter struct {
	mu     sync.Mutex
	per    int
	max    int
	window time.Time
	counts map[string]int
}

func newLimiter(per, max int) *limiter {
	return &limiter{per: per, max: max, counts: map[string]int{}}
}

// allow counts an attempt from ip; first is true for the first refusal
// of the address in the window.
func (l *limiter) allow(ip string, now time.Time) (ok, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := now.Truncate(time.Minute)
	if !w.Equal(l.window) {
		l.window, l.counts = w, map[string]int{}
	}
	n, seen := l.counts[ip]
	if !seen && len(l.counts) >= l.max {
		return false, false
	}
	if n >= l.per {
		if n == l.per {
			l.counts[ip] = n + 1
			return false, true
		}
		return false, false
	}
	l.counts[ip] = n + 1
	return true, false
}
