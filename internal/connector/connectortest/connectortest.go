// Package connectortest is the conformance suite every connector.Connector
// passes against a real app started by its tests.
package connectortest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/connector"
)

// Options adapts the suite to one app.
type Options struct {
	// NewAccount returns test account number n (n >= 1), with the
	// attributes the app requires. Distinct n must give distinct Key and
	// Name. Required.
	NewAccount func(n int) connector.Account
	// UpdateAttribute is a single-valued attribute of NewAccount's accounts
	// that the update tests change. Required.
	UpdateAttribute string
	// Entitlements are two entitlement names valid in the app (group DNs
	// for LDAP, group names for SCIM). Required unless NoEntitlements.
	Entitlements []string
	// SameEntitlement compares an entitlement given to Grant with one
	// reported by Get or List; default strings.EqualFold.
	SameEntitlement func(granted, reported string) bool
	// PageSize is the page size newConn configured the connector with; the
	// List test creates more than three pages of accounts (30 when 0).
	PageSize int
	// UnknownKey is a key no account has; default "tango-no-such-key".
	UnknownKey string
	// NoDisable and NoEntitlements skip the tests of capabilities the app
	// does not have.
	NoDisable      bool
	NoEntitlements bool
	// SessionsRevoked, for an app whose connector offers session revocation
	// (connector.RevokerOf), reports from the app itself, not through the
	// connector, whether it was asked to end the sessions and tokens of
	// the account (as Create returned it). Nil: the connector must not
	// offer the revocation, and the suite checks that it does not.
	SessionsRevoked func(t *testing.T, a connector.Account) bool
	// Timeout bounds each test; default 2 minutes.
	Timeout time.Duration
}

// Run runs the conformance suite. newConn is called once per subtest and
// returns a connector to an app; subtests use distinct accounts (distinct n
// for NewAccount), so newConn may return connectors to one shared app.
func Run(t *testing.T, newConn func(t *testing.T) connector.Connector, opts Options) {
	t.Helper()
	if opts.NewAccount == nil || opts.UpdateAttribute == "" {
		t.Fatal("connectortest: Options.NewAccount and Options.UpdateAttribute are required")
	}
	if !opts.NoEntitlements && len(opts.Entitlements) < 2 {
		t.Fatal("connectortest: Options.Entitlements needs two entitlements (or set NoEntitlements)")
	}
	if opts.SameEntitlement == nil {
		opts.SameEntitlement = strings.EqualFold
	}
	if opts.UnknownKey == "" {
		opts.UnknownKey = "tango-no-such-key"
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	s := &suite{opts: opts}
	tests := []struct {
		name string
		skip bool
		f    func(*testing.T, *env)
	}{
		{"CreateGet", false, s.createGet},
		{"CreateTwiceIsUpdate", false, s.createTwice},
		{"Update", false, s.update},
		{"GetUnknown", false, s.getUnknown},
		{"DisableEnable", opts.NoDisable, s.disableEnable},
		{"GrantRevoke", opts.NoEntitlements, s.grantRevoke},
		{"ListPages", false, s.list},
		{"ListStopsOnError", false, s.listStops},
		{"RevokeSessions", false, s.revokeSessions},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip {
				t.Skip("capability not supported by this app")
			}
			ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
			defer cancel()
			c := newConn(t)
			t.Cleanup(func() { _ = c.Close() })
			// Each subtest owns account numbers [first, first+10000).
			tc.f(t, &env{s: s, c: c, ctx: ctx, next: (i + 1) * 10000})
		})
	}
}

type suite struct {
	opts Options
}

type env struct {
	s    *suite
	c    connector.Connector
	ctx  context.Context
	next int
}

// account returns a fresh test account.
func (e *env) account(t *testing.T) connector.Account {
	t.Helper()
	e.next++
	a := e.s.opts.NewAccount(e.next)
	if a.Key == "" || a.Name == "" {
		t.Fatalf("connectortest: NewAccount(%d) has an empty Key or Name", e.next)
	}
	if len(a.Attributes[e.s.opts.UpdateAttribute]) != 1 {
		t.Fatalf("connectortest: NewAccount(%d) must set one value of %s", e.next, e.s.opts.UpdateAttribute)
	}
	return a
}

func (e *env) create(t *testing.T, a connector.Account) connector.Account {
	t.Helper()
	got, err := e.c.Create(e.ctx, a)
	if err != nil {
		t.Fatalf("Create(%s): %v", a.Key, err)
	}
	if got.ID == "" {
		t.Fatalf("Create(%s) returned no ID", a.Key)
	}
	return got
}

func (e *env) get(t *testing.T, key string) connector.Account {
	t.Helper()
	got, err := e.c.Get(e.ctx, key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return got
}

// checkAccount compares what the app reports with what was sent: Key, Name,
// and every attribute sent (the app may report more).
func checkAccount(t *testing.T, what string, got, want connector.Account) {
	t.Helper()
	if got.Key != want.Key {
		t.Errorf("%s: Key = %q, want %q", what, got.Key, want.Key)
	}
	if got.Name != want.Name {
		t.Errorf("%s: Name = %q, want %q", what, got.Name, want.Name)
	}
	if got.ID == "" {
		t.Errorf("%s: empty ID", what)
	}
	for name, vals := range want.Attributes {
		have, ok := attr(got.Attributes, name)
		if !ok {
			t.Errorf("%s: attribute %s missing (have %v)", what, name, got.Attributes)
			continue
		}
		if !sameSet(have, vals) {
			t.Errorf("%s: attribute %s = %q, want %q", what, name, have, vals)
		}
	}
}

func (s *suite) checkEntitlements(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	ok := len(got) == len(want)
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if !used[i] && s.opts.SameEntitlement(w, g) {
				used[i], found = true, true
				break
			}
		}
		ok = ok && found
	}
	if !ok {
		t.Errorf("%s: entitlements = %q, want %q", what, got, want)
	}
}

// ---------------------------------------------------------------- tests

func (s *suite) createGet(t *testing.T, e *env) {
	a := e.account(t)
	created := e.create(t, a)
	if created.Key != a.Key || created.Name != a.Name {
		t.Errorf("Create returned Key %q Name %q, want %q %q", created.Key, created.Name, a.Key, a.Name)
	}
	got := e.get(t, a.Key)
	checkAccount(t, "Get after Create", got, a)
	if got.ID != created.ID {
		t.Errorf("Get ID = %q, Create returned %q", got.ID, created.ID)
	}
	if got.Disabled {
		t.Error("new account reported disabled")
	}
	s.checkEntitlements(t, "new account", got.Entitlements)
}

func (s *suite) createTwice(t *testing.T, e *env) {
	a := e.account(t)
	first := e.create(t, a)
	again := a
	again.Attributes = cloneAttrs(a.Attributes)
	again.Attributes[s.opts.UpdateAttribute] = []string{"changed by second create"}
	second, err := e.c.Create(e.ctx, again)
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if second.ID != first.ID {
		t.Errorf("second Create ID = %q, first %q", second.ID, first.ID)
	}
	checkAccount(t, "Get after second Create", e.get(t, a.Key), again)
	n := 0
	if err := e.c.List(e.ctx, func(got connector.Account) error {
		if got.Key == a.Key {
			n++
		}
		return nil
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	if n != 1 {
		t.Errorf("List reports %d accounts with key %s after creating it twice, want 1", n, a.Key)
	}
}

func (s *suite) update(t *testing.T, e *env) {
	a := e.account(t)
	created := e.create(t, a)
	// With the ID Create returned.
	created.Attributes = cloneAttrs(a.Attributes)
	created.Attributes[s.opts.UpdateAttribute] = []string{"updated once"}
	if err := e.c.Update(e.ctx, created); err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkAccount(t, "Get after Update", e.get(t, a.Key), created)
	// With only the correlation key, as after a restart.
	byKey := connector.Account{Key: a.Key, Name: a.Name, Attributes: cloneAttrs(created.Attributes)}
	byKey.Attributes[s.opts.UpdateAttribute] = []string{"updated twice"}
	if err := e.c.Update(e.ctx, byKey); err != nil {
		t.Fatalf("Update by key: %v", err)
	}
	checkAccount(t, "Get after Update by key", e.get(t, a.Key), byKey)
}

func (s *suite) getUnknown(t *testing.T, e *env) {
	got, err := e.c.Get(e.ctx, s.opts.UnknownKey)
	if !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("Get(unknown) = %+v, %v; want connector.ErrNotFound", got, err)
	}
	if connector.IsTemporary(err) {
		t.Errorf("Get(unknown) error is temporary: %v", err)
	}
}

func (s *suite) disableEnable(t *testing.T, e *env) {
	a := e.account(t)
	created := e.create(t, a)
	var ents []string
	if !s.opts.NoEntitlements {
		ents = s.opts.Entitlements[:1]
		if err := e.c.Grant(e.ctx, created, ents[0]); err != nil {
			t.Fatalf("Grant: %v", err)
		}
	}
	for i := 1; i <= 2; i++ {
		if err := e.c.Disable(e.ctx, created); err != nil {
			t.Fatalf("Disable #%d: %v", i, err)
		}
		got := e.get(t, a.Key)
		if !got.Disabled {
			t.Errorf("after Disable #%d: Get reports enabled", i)
		}
		checkAccount(t, fmt.Sprintf("Get after Disable #%d", i), got, a)
		s.checkEntitlements(t, fmt.Sprintf("Get after Disable #%d", i), got.Entitlements, ents...)
	}
	// The account as Tango kept it from Create (its ID may be stale if the
	// app moved it), then as Get reports it.
	for i, acc := range []connector.Account{created, e.get(t, a.Key)} {
		if err := e.c.Enable(e.ctx, acc); err != nil {
			t.Fatalf("Enable #%d: %v", i+1, err)
		}
		got := e.get(t, a.Key)
		if got.Disabled {
			t.Errorf("after Enable #%d: Get reports disabled", i+1)
		}
		checkAccount(t, fmt.Sprintf("Get after Enable #%d", i+1), got, a)
		s.checkEntitlements(t, fmt.Sprintf("Get after Enable #%d", i+1), got.Entitlements, ents...)
	}
}

func (s *suite) grantRevoke(t *testing.T, e *env) {
	a := e.account(t)
	other := e.account(t)
	created := e.create(t, a)
	createdOther := e.create(t, other)
	g0, g1 := s.opts.Entitlements[0], s.opts.Entitlements[1]
	step := func(what string, f func(connector.Account, string) error, acc connector.Account, g string, want ...string) {
		t.Helper()
		if err := f(acc, g); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		s.checkEntitlements(t, "after "+what, e.get(t, a.Key).Entitlements, want...)
	}
	grant := func(acc connector.Account, g string) error { return e.c.Grant(e.ctx, acc, g) }
	revoke := func(acc connector.Account, g string) error { return e.c.Revoke(e.ctx, acc, g) }

	step("Grant g0", grant, created, g0, g0)
	step("Grant g0 again", grant, created, g0, g0)
	step("Grant g1 to another account", grant, createdOther, g1, g0)
	step("Grant g1", grant, created, g1, g0, g1)
	step("Revoke g0", revoke, created, g0, g1)
	step("Revoke g0 again", revoke, created, g0, g1)
	step("Revoke g1", revoke, created, g1)
	step("Revoke g1 again", revoke, created, g1)
	s.checkEntitlements(t, "other account after revokes", e.get(t, other.Key).Entitlements, g1)
}

func (s *suite) list(t *testing.T, e *env) {
	n := 30
	if p := s.opts.PageSize; p > 0 {
		n = 3*p + p/2
	}
	type want struct {
		acc      connector.Account
		disabled bool
		ents     []string
	}
	wants := map[string]*want{}
	for i := 0; i < n; i++ {
		a := e.account(t)
		created := e.create(t, a)
		w := &want{acc: a}
		if !s.opts.NoEntitlements {
			for j, g := range s.opts.Entitlements[:2] {
				if i%(j+2) == 0 {
					if err := e.c.Grant(e.ctx, created, g); err != nil {
						t.Fatalf("Grant(%s, %s): %v", a.Key, g, err)
					}
					w.ents = append(w.ents, g)
				}
			}
		}
		// Disabled after the grants: entitlements survive disabling.
		if !s.opts.NoDisable && i%3 == 1 {
			if err := e.c.Disable(e.ctx, created); err != nil {
				t.Fatalf("Disable(%s): %v", a.Key, err)
			}
			w.disabled = true
		}
		wants[a.Key] = w
	}
	seen := map[string]int{}
	err := e.c.List(e.ctx, func(got connector.Account) error {
		w, ok := wants[got.Key]
		if !ok {
			return nil // another subtest's account, or the app's own
		}
		seen[got.Key]++
		checkAccount(t, "List "+got.Key, got, w.acc)
		if got.Disabled != w.disabled {
			t.Errorf("List %s: Disabled = %v, want %v", got.Key, got.Disabled, w.disabled)
		}
		s.checkEntitlements(t, "List "+got.Key, got.Entitlements, w.ents...)
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	missing := 0
	for key := range wants {
		switch seen[key] {
		case 1:
		case 0:
			missing++
		default:
			t.Errorf("List reported %s %d times", key, seen[key])
		}
	}
	if missing > 0 {
		t.Errorf("List missed %d of the %d accounts created (page size %d)", missing, n, s.opts.PageSize)
	}
}

func (s *suite) listStops(t *testing.T, e *env) {
	for range 3 {
		e.create(t, e.account(t))
	}
	stop := errors.New("stop here")
	calls := 0
	err := e.c.List(e.ctx, func(connector.Account) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("List called the callback %d times after it failed, want 1", calls)
	}
}

// revokeSessions: after the account's disable (as provisioning does for a
// leaver), revoking its sessions reaches the app for that account only,
// is idempotent, works with the key alone, and changes nothing else.
func (s *suite) revokeSessions(t *testing.T, e *env) {
	r := connector.RevokerOf(e.c)
	if s.opts.SessionsRevoked == nil {
		if r != nil {
			t.Fatalf("the connector offers session revocation (%T) but the test gives no Options.SessionsRevoked to check it", e.c)
		}
		return
	}
	if r == nil {
		t.Fatalf("Options.SessionsRevoked is set but connector.RevokerOf(%T) is nil", e.c)
	}
	a, other := e.account(t), e.account(t)
	created, createdOther := e.create(t, a), e.create(t, other)
	if s.opts.SessionsRevoked(t, created) {
		t.Fatal("the app reports the sessions of a new account revoked")
	}
	if !s.opts.NoDisable {
		if err := e.c.Disable(e.ctx, created); err != nil {
			t.Fatalf("Disable: %v", err)
		}
	}
	if err := r.RevokeSessions(e.ctx, created); err != nil {
		t.Fatalf("RevokeSessions: %v", err)
	}
	if !s.opts.SessionsRevoked(t, created) {
		t.Error("after RevokeSessions the app was not asked to end the account's sessions")
	}
	if s.opts.SessionsRevoked(t, createdOther) {
		t.Error("RevokeSessions of one account reached another account")
	}
	if err := r.RevokeSessions(e.ctx, created); err != nil {
		t.Fatalf("RevokeSessions again: %v", err)
	}
	byKey := connector.Account{Key: a.Key, Name: a.Name, Attributes: cloneAttrs(a.Attributes)}
	if err := r.RevokeSessions(e.ctx, byKey); err != nil {
		t.Fatalf("RevokeSessions by key: %v", err)
	}
	got := e.get(t, a.Key)
	checkAccount(t, "Get after RevokeSessions", got, a)
	if got.Disabled != !s.opts.NoDisable {
		t.Errorf("after Disable and RevokeSessions: Get reports Disabled = %v", got.Disabled)
	}
	if s.opts.SessionsRevoked(t, createdOther) {
		t.Error("RevokeSessions of one account reached another account")
	}
}

// ---------------------------------------------------------------- helpers

func attr(m map[string][]string, name string) ([]string, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func cloneAttrs(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}
