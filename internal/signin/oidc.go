package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// flowCookie holds a sign-in's state, nonce and PKCE verifier between
// /auth/oidc/start and the callback.
const flowCookie = "tango_oidc"

// maxGroups bounds the groups kept from a token.
const maxGroups = 1000

// oidcClient is the provider, discovered on first use.
type oidcClient struct {
	cfg config.OIDC

	mu       sync.Mutex
	provider *oidc.Provider
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (c *oidcClient) get(ctx context.Context, client *http.Client) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), c.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("signin.oidc.issuer %s: %w", c.cfg.Issuer, err)
		}
		c.provider = p
		c.oauth = &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, c.cfg.Scopes...)}
		c.verifier = p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID})
	}
	return c.oauth, c.verifier, nil
}

func (m *Manager) oidcStart(w http.ResponseWriter, r *http.Request) {
	if m.oidc == nil {
		m.render(w, r, http.StatusNotFound, pageData{Error: "No OpenID Connect provider is configured (signin.oidc)."})
		return
	}
	oc, _, err := m.oidc.get(r.Context(), m.client)
	if err != nil {
		m.log.Error("OpenID Connect provider unavailable", "err", err)
		m.render(w, r, http.StatusBadGateway, pageData{Error: "Your organisation's sign-in service cannot be reached; try again later."})
		return
	}
	state, nonce, verifier := randomString(24), randomString(24), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: state + "." + nonce + "." + verifier, Path: "/auth/oidc/",
		HttpOnly: true, Secure: m.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

func (m *Manager) oidcCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if m.oidc == nil {
		m.render(w, r, http.StatusNotFound, pageData{Error: "No OpenID Connect provider is configured (signin.oidc)."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/auth/oidc/", HttpOnly: true,
		Secure: m.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	fail := func(status int, who, reason string) {
		m.failure(ctx, r, "oidc", who, reason)
		m.render(w, r, status, pageData{Error: "Signing in with your organisation's account failed: " + reason + "."})
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		fail(http.StatusUnauthorized, "", "the provider answered "+truncate(e, 64))
		return
	}
	c, err := r.Cookie(flowCookie)
	parts := []string{}
	if err == nil {
		parts = strings.Split(c.Value, ".")
	}
	if len(parts) != 3 || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		fail(http.StatusBadRequest, "", "state does not match the sign-in this browser started")
		return
	}
	nonce, verifier := parts[1], parts[2]
	oc, ver, err := m.oidc.get(ctx, m.client)
	if err != nil {
		m.log.Error("OpenID Connect provider unavailable", "err", err)
		m.render(w, r, http.StatusBadGateway, pageData{Error: "Your organisation's sign-in service cannot be reached; try again later."})
		return
	}
	cctx := oidc.ClientContext(ctx, m.client)
	tok, err := oc.Exchange(cctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		m.log.Warn("OpenID Connect code exchange failed", "err", err)
		fail(http.StatusUnauthorized, "", "the code could not be exchanged")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		fail(http.StatusUnauthorized, "", "the provider sent no ID token")
		return
	}
	idt, err := ver.Verify(cctx, raw)
	if err != nil {
		m.log.Warn("OpenID Connect ID token refused", "err", err)
		fail(http.StatusUnauthorized, "", "the ID token is not valid")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		fail(http.StatusUnauthorized, idt.Subject, "the ID token's nonce does not match")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		fail(http.StatusUnauthorized, idt.Subject, "the ID token's claims cannot be read")
		return
	}
	p, groups, reason, err := m.mapClaims(ctx, claims)
	if err != nil {
		m.log.Error("OpenID Connect sign-in failed", "err", err)
		m.render(w, r, http.StatusInternalServerError, pageData{Error: "Signing in failed; try again."})
		return
	}
	if reason != "" {
		who, _ := claims[m.cfg.SignIn.OIDC.Claims.Person].(string)
		if who == "" {
			who = idt.Subject
		}
		fail(http.StatusForbidden, who, reason)
		return
	}
	if err := m.startSession(w, r, p, groups, "oidc", false); err != nil {
		m.log.Error("OpenID Connect sign-in failed", "err", err)
		m.render(w, r, http.StatusInternalServerError, pageData{Error: "Signing in failed; try again."})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// mapClaims finds the active person an ID token's claims name, and their
// groups; reason says why none.
func (m *Manager) mapClaims(ctx context.Context, claims map[string]any) (store.Person, []string, string, error) {
	cc := m.cfg.SignIn.OIDC.Claims
	v, _ := claims[cc.Person].(string)
	if strings.TrimSpace(v) == "" {
		return store.Person{}, nil, fmt.Sprintf("the ID token has no %s claim", cc.Person), nil
	}
	if cc.Person == "email" {
		if verified, ok := claims["email_verified"].(bool); ok && !verified {
			return store.Person{}, nil, "the provider has not verified the e-mail address", nil
		}
	}
	p, err := m.findPerson(ctx, v, cc.Match == "email")
	if cc.Match == "email" && !strings.Contains(v, "@") {
		err = fmt.Errorf("%q is no e-mail address: %w", v, store.ErrNotFound)
	}
	if errors.Is(err, store.ErrNotFound) {
		return p, nil, "not a person of the workforce", nil
	}
	if err != nil {
		return p, nil, "", err
	}
	if p.Status == store.StatusLeft {
		return p, nil, "the person has left", nil
	}
	var groups []string
	switch g := claims[cc.Groups].(type) {
	case string:
		groups = []string{g}
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok && len(groups) < maxGroups {
				groups = append(groups, truncate(s, 512))
			}
		}
	}
	return p, groups, "", nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
