package config

import (
	"strings"
	"testing"
	"time"
)

func TestSignInDefaultsAndSecret(t *testing.T) {
	t.Setenv("TANGO_TEST_OIDC_SECRET", "s3cret")
	c, err := Parse([]byte(`
signin:
  oidc: {issuer: "https://login.example.com", client_id: tango, client_secret: '${env:TANGO_TEST_OIDC_SECRET}',
         redirect_url: "https://tango.example.com/auth/oidc/callback"}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := c.SignIn
	if s.OIDC.ClientSecret != "s3cret" || !s.OIDCOn() || s.OIDC.Claims.Person != "email" || s.OIDC.Claims.Match != "email" ||
		s.OIDC.Claims.Groups != "groups" || len(s.OIDC.Scopes) != 2 {
		t.Fatalf("oidc %+v", s.OIDC)
	}
	if s.Session.Idle != 30*time.Minute || s.Session.Absolute != 12*time.Hour || !s.Local.On() || s.Local.MaxFailures != 5 || s.Local.Lockout != 15*time.Minute {
		t.Fatalf("defaults %+v", s)
	}
	if d := Default(); d.SignIn.OIDCOn() || !d.SignIn.Local.On() {
		t.Fatalf("default config: %+v", d.SignIn)
	}
	off, err := Parse([]byte("signin: {local: {enabled: false}}"), "t.yaml")
	if err != nil || off.SignIn.Local.On() {
		t.Fatalf("local.enabled false: %+v %v", off.SignIn.Local, err)
	}
}

func TestSignInErrorsNameTheKey(t *testing.T) {
	cases := map[string]string{
		`signin: {oidc: {client_id: x}}`: "issuer is required",
		`signin: {oidc: {issuer: "ftp://x", client_id: x, redirect_url: "https://t/auth/oidc/callback"}}`:                            `signin.oidc.issuer "ftp://x"`,
		`signin: {oidc: {issuer: "https://x", redirect_url: "https://t/auth/oidc/callback"}}`:                                        "signin.oidc.client_id is required",
		`signin: {oidc: {issuer: "https://x", client_id: x, redirect_url: "https://t/callback"}}`:                                    "/auth/oidc/callback",
		`signin: {oidc: {issuer: "https://x", client_id: x, redirect_url: "https://t/auth/oidc/callback", claims: {match: phone}}}`:  `signin.oidc.claims.match "phone"`,
		`signin: {oidc: {issuer: "https://x", client_id: x, redirect_url: "https://t/auth/oidc/callback", claims: {person: "a b"}}}`: `signin.oidc.claims.person "a b"`,
		`signin: {session: {idle: 2h, absolute: 1h}}`:                                                                                "idle 2h0m0s is longer than absolute 1h0m0s",
		`signin: {session: {idle: -1m}}`:            "must be positive",
		`signin: {local: {max_failures: -1}}`:       "signin.local.max_failures -1",
		`signin: {local: {lockout: -1m}}`:           "signin.local.lockout -1m0s",
		`signin: {local: {totp_key: short-secret}}`: "signin.local.totp_key: 12 characters, want at least 32",
		`signin: {oidc: {issuer: "https://x", client_id: x, redirect_url: "https://t/auth/oidc/callback", extra: 1}}`: "field extra not found",
	}
	for doc, want := range cases {
		_, err := Parse([]byte(doc), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "short-secret") {
			t.Errorf("%s: the error quotes the secret: %v", doc, err)
		}
	}
}
