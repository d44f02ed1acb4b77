package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// OIDCUser is a user the test OpenID provider knows: its claims.
type OIDCUser struct {
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name,omitempty"`
	Groups        []string `json:"groups,omitempty"`
}

// OIDCProvider is a running independent OpenID Connect provider
// (testdata/oidc-provider: the npm package oidc-provider) started for one
// test, with one confidential client and the users it was given. Its
// development login form signs in a user by name; Login submits it.
type OIDCProvider struct {
	// Issuer is http://127.0.0.1:PORT.
	Issuer       string
	ClientID     string
	ClientSecret string
	node         nodeServer
}

// StartOIDCProvider starts the provider on a free loopback port for a
// client whose redirect URI is redirectURI (client ID "tango", a random
// secret) and returns once its discovery document answers. It is killed
// when the test ends. Without node or the provider's node_modules
// (scripts/test-deps.sh installs both) the test is skipped, or fails
// under CI=true.
func StartOIDCProvider(t testing.TB, redirectURI string, users map[string]OIDCUser) *OIDCProvider {
	t.Helper()
	p := &OIDCProvider{
		ClientID:     "tango",
		ClientSecret: randomHex(t, 16),
		node:         nodeServer{what: "OpenID provider", script: findNodeServer(t, "oidc-provider", "oidc-provider")},
	}
	us, err := json.Marshal(users)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	p.node.cleanup(t)
	p.node.retry(t, "start", func() error {
		port := freePorts(t, 1)[0]
		p.Issuer = fmt.Sprintf("http://127.0.0.1:%d", port)
		client := &http.Client{Timeout: time.Second}
		healthy := func() bool {
			resp, err := client.Get(p.Issuer + "/.well-known/openid-configuration")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}
		return p.node.run([]string{strconv.Itoa(port)}, []string{
			"OIDC_CLIENT_ID=" + p.ClientID,
			"OIDC_CLIENT_SECRET=" + p.ClientSecret,
			"OIDC_REDIRECT_URI=" + redirectURI,
			"OIDC_USERS=" + string(us),
			"OIDC_COOKIE_KEY=" + randomHex(t, 16),
		}, fmt.Sprintf("listening %d", port), healthy)
	})
	return p
}

var formActionRE = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)

// Login answers the provider's login page: resp is the response a browser
// (client, with a cookie jar) got on its way to the provider's
// authorization endpoint. It submits the development login form as user
// and returns the response the client ends on after following redirects
// (usually the relying party's callback's answer).
func (p *OIDCProvider) Login(t testing.TB, client *http.Client, resp *http.Response, user string) *http.Response {
	t.Helper()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		t.Fatalf("testenv: reading the provider's login page: %v", err)
	}
	m := formActionRE.FindSubmatch(body)
	if m == nil || !strings.Contains(string(body), `name="login"`) {
		t.Fatalf("testenv: no login form at %s (status %d): %.500s", resp.Request.URL, resp.StatusCode, body)
	}
	action, err := resp.Request.URL.Parse(strings.ReplaceAll(string(m[1]), "&amp;", "&"))
	if err != nil {
		t.Fatalf("testenv: login form action %q: %v", m[1], err)
	}
	out, err := client.PostForm(action.String(), url.Values{"prompt": {"login"}, "login": {user}, "password": {"any"}})
	if err != nil {
		t.Fatalf("testenv: submitting the provider's login form: %v", err)
	}
	return out
}
