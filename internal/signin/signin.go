// Package signin lets people sign in to Tango from a browser: with the
// organisation's OpenID Connect provider (authorization code flow with
// PKCE, state and nonce) or with a local account (password, optionally
// TOTP) for a first admin and break-glass. A sign-in starts a session kept
// server-side (only a hash of its secret is stored) and bounded by idle
// and absolute timeouts; the Manager tells the API who a browser is
// (api.Sessions), so one authorization layer decides what they may do.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// CookieName is the session cookie.
const CookieName = "tango_session"

// touchEvery is how often a session's last use is written: idle timeouts
// are this precise.
const touchEvery = time.Minute

// Options configure a Manager.
type Options struct {
	Store  store.Store
	Config *config.Config
	Logger *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// BaseURL is where people reach Tango; an https one makes cookies
	// Secure even behind a proxy that ends TLS. Empty: the one of
	// signin.oidc.redirect_url, if any.
	BaseURL string
	// HTTPClient calls the OpenID Connect provider; nil: one with a 30 s
	// timeout.
	HTTPClient *http.Client
}

// Manager runs sign-in and sessions.
type Manager struct {
	st      store.Store
	cfg     *config.Config
	log     *slog.Logger
	now     func() time.Time
	secure  bool
	client  *http.Client
	limiter *limiter
	oidc    *oidcClient // nil without signin.oidc

	dummyOnce sync.Once
	dummy     string
}

// New makes a Manager. The OpenID Connect provider is asked for its
// configuration on the first sign-in, not here, so Tango starts while the
// provider is down.
func New(o Options) *Manager {
	m := &Manager{st: o.Store, cfg: o.Config, log: o.Logger, now: o.Now, client: o.HTTPClient}
	if m.cfg == nil {
		m.cfg = config.Default()
	}
	base := o.BaseURL
	if base == "" {
		base = m.cfg.SignIn.OIDC.RedirectURL
	}
	m.secure = strings.HasPrefix(strings.ToLower(base), "https://")
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.client == nil {
		m.client = &http.Client{Timeout: 30 * time.Second}
	}
	m.limiter = newLimiter(loginsPerMinute, maxTrackedIPs)
	if m.cfg.SignIn.OIDCOn() {
		m.oidc = &oidcClient{cfg: m.cfg.SignIn.OIDC}
	}
	return m
}

func (m *Manager) at() time.Time { return m.now().UTC().Truncate(time.Microsecond) }

// Handler serves GET and POST /login, POST /logout, GET /auth/oidc/start
// and GET /auth/oidc/callback (api.SignInPaths).
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", m.loginForm)
	mux.HandleFunc("POST /login", m.login)
	mux.HandleFunc("POST /logout", m.logout)
	mux.HandleFunc("GET /auth/oidc/start", m.oidcStart)
	mux.HandleFunc("GET /auth/oidc/callback", m.oidcCallback)
	return mux
}

// Identify implements api.Sessions: the live session of the request's
// cookie. A revoked, expired or idle session, or none, is not ok.
func (m *Manager) Identify(r *http.Request) (api.Identity, bool, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return api.Identity{}, false, nil
	}
	s, err := m.st.SessionByHash(r.Context(), hashSecret(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return api.Identity{}, false, nil
	}
	if err != nil {
		return api.Identity{}, false, err
	}
	now := m.at()
	if !m.live(s, now) {
		return api.Identity{}, false, nil
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if err := m.st.TouchSession(r.Context(), s.ID, now); err != nil {
			return api.Identity{}, false, err
		}
	}
	return api.Identity{Person: s.Person, Groups: s.Groups, Via: "session:" + s.ID}, true, nil
}

// live: not revoked, before its absolute end, used within the idle time.
func (m *Manager) live(s store.Session, now time.Time) bool {
	return s.Revoked.IsZero() && now.Before(s.ExpiresAt) && now.Sub(s.LastSeen) < m.cfg.SignIn.Session.Idle
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clientIP is the request's peer address (a proxy's X-Forwarded-For is not
// trusted: anyone could set it).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// startSession records a session for a person and its audit entry in one
// transaction and sets the cookie.
func (m *Manager) startSession(w http.ResponseWriter, r *http.Request, p store.Person, groups []string, method string, clearFailures bool) error {
	secret, s, err := m.open(r.Context(), p, groups, method, clientIP(r), clearFailures)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: secret, Path: "/", HttpOnly: true,
		Secure: m.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode, Expires: s.ExpiresAt})
	return nil
}

// OpenSession starts a session for a person who was authenticated some
// other way (benchmarks and tests drive the workspace with it) and
// returns the cookie's value; it is audited like any sign-in.
func (m *Manager) OpenSession(ctx context.Context, p store.Person, method string) (string, error) {
	secret, _, err := m.open(ctx, p, nil, method, "", false)
	return secret, err
}

func (m *Manager) open(ctx context.Context, p store.Person, groups []string, method, ip string, clearFailures bool) (string, store.Session, error) {
	now := m.at()
	secret := randomString(32)
	s := store.Session{ID: randomHex(6), Hash: hashSecret(secret), Person: p.EmployeeID, Groups: groups,
		Method: method, IP: ip, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(m.cfg.SignIn.Session.Absolute)}
	err := m.st.InTx(ctx, func(tx store.Tx) error {
		if clearFailures {
			if err := tx.ClearSignInFailures(p.EmployeeID); err != nil {
				return err
			}
		}
		if err := tx.InsertSession(s); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(now, "person:"+p.EmployeeID, "signin.success", p.Source, "", p.EmployeeID, nil,
			map[string]string{"method": method, "session": s.ID, "ip": s.IP}))
	})
	if err != nil {
		return "", s, fmt.Errorf("starting a session for %s: %w", p.EmployeeID, err)
	}
	return secret, s, nil
}

// failure audits a refused sign-in. who is what the person typed or the
// provider's claim (never a password); reason says why.
func (m *Manager) failure(ctx context.Context, r *http.Request, method, who, reason string) {
	if len(who) > 128 {
		who = who[:128]
	}
	e := audit.New(m.at(), "anonymous", "signin.failure", "", "", who, nil,
		map[string]string{"method": method, "reason": reason, "ip": clientIP(r)})
	if err := m.st.AppendAudit(ctx, e); err != nil {
		m.log.Error("recording a refused sign-in in the audit trail failed", "err", err)
	}
}

func (m *Manager) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" && len(c.Value) <= 128 {
		if s, err := m.st.SessionByHash(r.Context(), hashSecret(c.Value)); err == nil && s.Revoked.IsZero() {
			now := m.at()
			err := m.st.InTx(r.Context(), func(tx store.Tx) error {
				if _, err := tx.RevokeSession(s.ID, now); err != nil {
					return err
				}
				return tx.AppendAudit(audit.New(now, "person:"+s.Person, "signin.logout", "", "", s.Person, nil, map[string]string{"session": s.ID}))
			})
			if err != nil {
				m.log.Error("ending a session failed", "session", s.ID, "err", err)
				http.Error(w, "signing out failed; try again", http.StatusInternalServerError)
				return
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: m.secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// Sessions lists the live sessions.
func (m *Manager) Sessions(ctx context.Context) ([]store.Session, error) {
	all, err := m.st.Sessions(ctx, m.at())
	if err != nil {
		return nil, err
	}
	now := m.at()
	out := all[:0]
	for _, s := range all {
		if m.live(s, now) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Revoke ends a session by ID, audited with actor.
func (m *Manager) Revoke(ctx context.Context, id, actor string) error {
	now := m.at()
	return m.st.InTx(ctx, func(tx store.Tx) error {
		ok, err := tx.RevokeSession(id, now)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no live session %q (see `tango sessions list`): %w", id, store.ErrNotFound)
		}
		return tx.AppendAudit(audit.New(now, actor, "session.revoked", "", "", id, nil, nil))
	})
}

// RevokePerson ends every session of a person, audited with actor, and
// returns their IDs.
func (m *Manager) RevokePerson(ctx context.Context, person, actor string) ([]string, error) {
	now := m.at()
	var ids []string
	err := m.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		ids, err = tx.RevokePersonSessions(person, now)
		if err != nil {
			return err
		}
		var es []audit.Entry
		for _, id := range ids {
			es = append(es, audit.New(now, actor, "session.revoked", "", "", id, nil, map[string]string{"person": person}))
		}
		return tx.AppendAudit(es...)
	})
	return ids, err
}
