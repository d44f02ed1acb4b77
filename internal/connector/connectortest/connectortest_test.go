package connectortest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/connectortest"
)

// fake is an in-memory app. bug names one defect to inject; the suite must
// catch every one of them.
type fake struct {
	mu       sync.Mutex
	bug      string
	pageSize int
	accounts map[string]*connector.Account // by key
	order    []string
	nextID   int
	revoked  map[string]int // sessions revoked, by key
}

func (f *fake) RevokesSessions() bool { return f.bug != "sessions-not-offered" }

func (f *fake) RevokeSessions(_ context.Context, a connector.Account) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bug == "sessions-needs-id" && a.ID == "" {
		return errors.New("no ID")
	}
	s, ok := f.accounts[a.Key]
	if !ok {
		return connector.ErrNotFound
	}
	switch f.bug {
	case "sessions-noop":
		return nil
	case "sessions-twice-errors":
		if f.revoked[a.Key] > 0 {
			return errors.New("already")
		}
	case "sessions-all":
		for k := range f.accounts {
			f.revoked[k]++
		}
		return nil
	case "sessions-enable":
		s.Disabled = false
	}
	f.revoked[a.Key]++
	return nil
}

func (f *fake) sessionsRevoked(_ *testing.T, a connector.Account) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revoked[a.Key] > 0
}

func (f *fake) Create(_ context.Context, a connector.Account) (connector.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.accounts[a.Key]; ok && f.bug != "create-duplicates" {
		if f.bug == "create-twice-errors" {
			return a, errors.New("exists")
		}
		if f.bug != "create-twice-keeps-old" {
			old.Attributes = clone(a.Attributes)
		}
		a.ID = old.ID
		return a, nil
	}
	f.nextID++
	stored := a
	stored.ID = fmt.Sprint("id-", f.nextID)
	stored.Attributes = clone(a.Attributes)
	stored.Entitlements = nil
	key := a.Key
	if f.bug == "create-duplicates" {
		key = fmt.Sprint(a.Key, "#", f.nextID)
	}
	f.accounts[key] = &stored
	f.order = append(f.order, key)
	if f.bug == "create-no-id" {
		return a, nil
	}
	a.ID = stored.ID
	return a, nil
}

func (f *fake) find(a connector.Account) (*connector.Account, error) {
	if f.bug == "update-needs-id" && a.ID == "" {
		return nil, errors.New("no ID")
	}
	if s, ok := f.accounts[a.Key]; ok {
		return s, nil
	}
	return nil, connector.ErrNotFound
}

func (f *fake) Update(_ context.Context, a connector.Account) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.find(a)
	if err != nil || f.bug == "update-noop" {
		return err
	}
	s.Attributes = clone(a.Attributes)
	return nil
}

func (f *fake) setDisabled(a connector.Account, v bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.find(a)
	if err != nil {
		return err
	}
	switch {
	case v && f.bug == "disable-noop", !v && f.bug == "enable-noop":
		return nil
	case s.Disabled == v && f.bug == "toggle-twice-errors":
		return errors.New("already")
	case v && f.bug == "disable-drops-attrs":
		s.Attributes = nil
	}
	s.Disabled = v
	return nil
}

func (f *fake) Disable(_ context.Context, a connector.Account) error { return f.setDisabled(a, true) }
func (f *fake) Enable(_ context.Context, a connector.Account) error  { return f.setDisabled(a, false) }

func (f *fake) Grant(_ context.Context, a connector.Account, e string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.find(a)
	if err != nil {
		return err
	}
	if slices.Contains(s.Entitlements, e) {
		switch f.bug {
		case "grant-twice-errors":
			return errors.New("already")
		case "grant-duplicates":
		default:
			return nil
		}
	}
	if f.bug == "grant-all" {
		for _, o := range f.accounts {
			o.Entitlements = append(o.Entitlements, e)
		}
		return nil
	}
	s.Entitlements = append(s.Entitlements, e)
	return nil
}

func (f *fake) Revoke(_ context.Context, a connector.Account, e string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.find(a)
	if err != nil {
		return err
	}
	if !slices.Contains(s.Entitlements, e) && f.bug == "revoke-twice-errors" {
		return errors.New("not held")
	}
	switch f.bug {
	case "revoke-noop":
	case "revoke-all":
		s.Entitlements = nil
	default:
		s.Entitlements = slices.DeleteFunc(s.Entitlements, func(x string) bool { return x == e })
	}
	return nil
}

func (f *fake) Get(_ context.Context, key string) (connector.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.accounts[key]
	if !ok {
		if f.bug == "get-unknown-empty" {
			return connector.Account{}, nil
		}
		if f.bug == "get-unknown-temporary" {
			return connector.Account{}, &connector.TemporaryError{Err: connector.ErrNotFound}
		}
		return connector.Account{}, connector.ErrNotFound
	}
	out := *s
	out.Attributes = clone(s.Attributes)
	out.Entitlements = slices.Clone(s.Entitlements)
	if f.bug == "get-wrong-name" {
		out.Name += "x"
	}
	return out, nil
}

func (f *fake) List(_ context.Context, fn func(connector.Account) error) error {
	f.mu.Lock()
	keys := slices.Clone(f.order)
	var accs []connector.Account
	for _, k := range keys {
		a := *f.accounts[k]
		a.Entitlements = slices.Clone(a.Entitlements)
		if f.bug == "list-no-entitlements" {
			a.Entitlements = nil
		}
		if f.bug == "list-no-disabled" {
			a.Disabled = false
		}
		accs = append(accs, a)
	}
	f.mu.Unlock()
	if f.bug == "list-first-page" && len(accs) > f.pageSize {
		accs = accs[:f.pageSize]
	}
	if f.bug == "list-sorted-drops-last" && len(accs) > 0 {
		sort.Slice(accs, func(i, j int) bool { return accs[i].Key < accs[j].Key })
		accs = accs[:len(accs)-1]
	}
	for _, a := range accs {
		if err := fn(a); err != nil && f.bug != "list-ignores-error" {
			return err
		}
	}
	return nil
}

func (f *fake) Close() error { return nil }

func clone(m map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

func runFake(t *testing.T, bug string) {
	f := &fake{bug: bug, pageSize: 10, accounts: map[string]*connector.Account{}, revoked: map[string]int{}}
	revoked := f.sessionsRevoked
	if bug == "sessions-unchecked" {
		revoked = nil // offered, but the test does not say how to check it
	}
	connectortest.Run(t, func(*testing.T) connector.Connector { return f }, connectortest.Options{
		SessionsRevoked: revoked,
		NewAccount: func(n int) connector.Account {
			return connector.Account{Key: fmt.Sprint("K", n), Name: fmt.Sprint("user", n),
				Attributes: map[string][]string{"title": {"t"}, "mail": {fmt.Sprint(n, "@x")}}}
		},
		UpdateAttribute: "title",
		Entitlements:    []string{"g0", "g1"},
		PageSize:        f.pageSize,
	})
}

// TestFake: the suite passes a correct connector (and, with
// CONNECTORTEST_BUG set by TestSuiteCatchesBugs, runs a broken one).
func TestFake(t *testing.T) {
	runFake(t, os.Getenv("CONNECTORTEST_BUG"))
}

// TestSuiteCatchesBugs runs the suite against the fake with each defect in
// turn, in a child process, and expects it to fail.
func TestSuiteCatchesBugs(t *testing.T) {
	if os.Getenv("CONNECTORTEST_BUG") != "" {
		t.Skip("child process")
	}
	bugs := []string{
		"create-duplicates", "create-twice-errors", "create-twice-keeps-old", "create-no-id",
		"update-needs-id", "update-noop",
		"disable-noop", "enable-noop", "toggle-twice-errors", "disable-drops-attrs",
		"grant-twice-errors", "grant-duplicates", "grant-all",
		"revoke-twice-errors", "revoke-noop", "revoke-all",
		"get-unknown-empty", "get-unknown-temporary", "get-wrong-name",
		"list-no-entitlements", "list-no-disabled", "list-first-page", "list-sorted-drops-last", "list-ignores-error",
		"sessions-noop", "sessions-twice-errors", "sessions-all", "sessions-enable", "sessions-needs-id",
		"sessions-not-offered", "sessions-unchecked",
	}
	for _, bug := range bugs {
		t.Run(bug, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFake$", "-test.count=1")
			cmd.Env = append(os.Environ(), "CONNECTORTEST_BUG="+bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a connector with bug %q", bug)
			}
			if !strings.Contains(string(out), "--- FAIL") {
				t.Fatalf("child did not fail a test:\n%s", out)
			}
		})
	}
}
