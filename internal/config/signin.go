package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// SignIn is the `signin:` section: how people sign in to Tango's web
// interface and API from a browser, with the organisation's OpenID
// Connect provider or with a local account (a first admin, break-glass).
type SignIn struct {
	OIDC    OIDC          `yaml:"oidc"`
	Session SessionConfig `yaml:"session"`
	Local   LocalSignIn   `yaml:"local"`
}

// OIDC is an OpenID Connect provider people sign in with (authorization
// code flow with PKCE). Empty issuer: no OpenID Connect sign-in.
type OIDC struct {
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret authenticates Tango to the provider; give it as
	// ${env:NAME} or ${file:PATH}. It is never logged.
	ClientSecret string `yaml:"client_secret"`
	// RedirectURL is Tango's callback as registered with the provider:
	// https://tango.example.com/auth/oidc/callback.
	RedirectURL string `yaml:"redirect_url"`
	// Scopes asked for besides openid; default email, profile.
	Scopes []string   `yaml:"scopes"`
	Claims OIDCClaims `yaml:"claims"`
}

// OIDCClaims map the ID token's claims to a person of the workforce and
// their groups.
type OIDCClaims struct {
	// Person is the claim that names the person: email (default), sub, or
	// another claim's name.
	Person string `yaml:"person"`
	// Match is the person field the claim's value is compared with: email
	// (default) or employee_id.
	Match string `yaml:"match"`
	// Groups is the claim holding the person's IdP groups (default
	// groups), given to authorization.roles.*.groups.
	Groups string `yaml:"groups"`
}

// SessionConfig bounds browser sessions.
type SessionConfig struct {
	// Idle ends a session not used for this long (default 30m).
	Idle time.Duration `yaml:"idle"`
	// Absolute ends a session this long after sign-in (default 12h).
	Absolute time.Duration `yaml:"absolute"`
}

// LocalSignIn configures local accounts (`tango users set-password`).
type LocalSignIn struct {
	// Enabled: the /login form accepts local accounts (default true).
	Enabled *bool `yaml:"enabled"`
	// MaxFailures wrong sign-ins in a row lock an account (default 5)...
	MaxFailures int `yaml:"max_failures"`
	// ...for Lockout (default 15m).
	Lockout time.Duration `yaml:"lockout"`
	// TOTPKey encrypts the TOTP secrets of local accounts in the database
	// (AES-256-GCM, bound to the account): whoever reads the database
	// alone cannot make codes. At least 32 random characters, given as
	// ${file:PATH} or ${env:NAME}; never logged. Required to enable TOTP.
	TOTPKey string `yaml:"totp_key"`
}

// On reports whether local sign-in is enabled.
func (l LocalSignIn) On() bool { return l.Enabled == nil || *l.Enabled }

// OIDCOn reports whether an OpenID Connect provider is configured.
func (s SignIn) OIDCOn() bool { return s.OIDC.Issuer != "" }

var claimNameRE = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,128}$`)

func (s *SignIn) expand(f func(string) string) {
	s.OIDC.ClientSecret = f(s.OIDC.ClientSecret)
	s.OIDC.ClientID = f(s.OIDC.ClientID)
	s.Local.TOTPKey = f(s.Local.TOTPKey)
}

// finish fills defaults and checks the section.
func (s *SignIn) finish() error {
	errs := &Errors{}
	bad := func(format string, args ...any) { errs.Add(fmt.Errorf(format, args...)) }
	if s.Session.Idle == 0 {
		s.Session.Idle = 30 * time.Minute
	}
	if s.Session.Absolute == 0 {
		s.Session.Absolute = 12 * time.Hour
	}
	if s.Session.Idle < 0 || s.Session.Absolute < 0 {
		bad("signin.session: idle %s and absolute %s must be positive", s.Session.Idle, s.Session.Absolute)
	} else if s.Session.Idle > s.Session.Absolute {
		bad("signin.session: idle %s is longer than absolute %s", s.Session.Idle, s.Session.Absolute)
	}
	if s.Local.MaxFailures == 0 {
		s.Local.MaxFailures = 5
	}
	if s.Local.MaxFailures < 0 {
		bad("signin.local.max_failures %d: want 1 or more", s.Local.MaxFailures)
	}
	if s.Local.Lockout == 0 {
		s.Local.Lockout = 15 * time.Minute
	}
	if s.Local.Lockout < 0 {
		bad("signin.local.lockout %s: want a positive duration", s.Local.Lockout)
	}
	if k := s.Local.TOTPKey; k != "" && len(k) < 32 {
		bad("signin.local.totp_key: %d characters, want at least 32 random ones (for example `head -c 32 /dev/urandom | base64` in a file, given as ${file:PATH})", len(k))
	}
	o := &s.OIDC
	if o.Issuer == "" {
		if o.ClientID != "" || o.RedirectURL != "" {
			bad("signin.oidc: issuer is required when client_id or redirect_url is given")
		}
		return errs.Err()
	}
	if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("signin.oidc.issuer %q: want an http(s) URL", o.Issuer)
	}
	if o.ClientID == "" {
		bad("signin.oidc.client_id is required")
	}
	if u, err := url.Parse(o.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("signin.oidc.redirect_url %q: want an http(s) URL ending in /auth/oidc/callback", o.RedirectURL)
	} else if !strings.HasSuffix(u.Path, "/auth/oidc/callback") {
		bad("signin.oidc.redirect_url %q: Tango's callback is /auth/oidc/callback", o.RedirectURL)
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{"email", "profile"}
	}
	if o.Claims.Person == "" {
		o.Claims.Person = "email"
	}
	if !claimNameRE.MatchString(o.Claims.Person) {
		bad("signin.oidc.claims.person %q: want email, sub or a claim name", o.Claims.Person)
	}
	switch o.Claims.Match {
	case "":
		o.Claims.Match = "email"
	case "email", "employee_id":
	default:
		bad("signin.oidc.claims.match %q: want email or employee_id", o.Claims.Match)
	}
	if o.Claims.Groups == "" {
		o.Claims.Groups = "groups"
	}
	if !claimNameRE.MatchString(o.Claims.Groups) {
		bad("signin.oidc.claims.groups %q: want a claim name", o.Claims.Groups)
	}
	return errs.Err()
}
