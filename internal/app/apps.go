package app

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/ldap"
	"github.com/tango-iga/tango/internal/connector/manual"
	"github.com/tango-iga/tango/internal/connector/scim"
	"github.com/tango-iga/tango/internal/connector/webhook"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/store"
)

// appEnv is what building an app's connector may need beyond its
// settings. Every field is nil when the config is only checked.
type appEnv struct {
	st      store.Store
	planner *notify.Planner // tells a manual app's team of its tasks
	now     func() time.Time
}

// connectorKind reads one kind of connector's settings and builds it.
type connectorKind struct {
	// nameAttribute is the account attribute holding the login.
	nameAttribute string
	// decode reads the kind's settings from an app's keys and validates
	// them; unknown are the keys it does not read. It returns the settings
	// for build.
	decode func(m map[string]any) (s any, unknown []string, errs []error)
	// build makes the connector; it does not connect.
	build func(ca config.App, s any, env appEnv) (connector.Connector, error)
}

// kind makes the connectorKind of settings type S.
func kind[S interface{ Validate() error }, C connector.Connector](nameAttribute string, build func(ca config.App, s S, env appEnv) (C, error)) connectorKind {
	return connectorKind{
		nameAttribute: nameAttribute,
		decode: func(m map[string]any) (any, []string, []error) {
			var s S
			unknown, errs := config.DecodeSettings(m, &s)
			if len(errs) == 0 {
				if err := s.Validate(); err != nil {
					errs = append(errs, err)
				}
			}
			return s, unknown, errs
		},
		build: func(ca config.App, s any, env appEnv) (connector.Connector, error) {
			c, err := build(ca, s.(S), env)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	}
}

// connectors are the connector kinds an app may name.
var connectors = map[string]connectorKind{
	"ldap": kind("uid", func(_ config.App, s ldap.Settings, _ appEnv) (*ldap.Connector, error) {
		return ldap.New(s)
	}),
	"scim": kind("userName", func(_ config.App, s scim.Settings, _ appEnv) (*scim.Connector, error) {
		return scim.New(s)
	}),
	"webhook": kind("name", func(ca config.App, s webhook.Settings, _ appEnv) (*webhook.Connector, error) {
		return webhook.New(s, ca.Name)
	}),
	"manual": kind("", func(ca config.App, s manual.Settings, env appEnv) (*manual.Connector, error) {
		a := manual.App{Name: ca.Name, Owner: ca.Owner, Tasks: env.st, Now: env.now}
		if env.planner != nil {
			a.Notify = env.planner.ManualTask
		}
		return manual.New(s, a)
	}),
}

func connectorKinds() []string {
	k := make([]string, 0, len(connectors))
	for n := range connectors {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// LoadApps reads every app of the config, builds its connector (which
// connects lazily) and compiles it for provisioning. The error names the
// app and the setting. now is the clock of the apps that need one (manual).
func LoadApps(cfg *config.Config, st store.Store, now func() time.Time) (map[string]*provision.App, error) {
	apps := map[string]*provision.App{}
	env := appEnv{st: st, planner: notify.NewPlanner(st, cfg), now: now}
	for _, ca := range cfg.Apps {
		a, errs := loadApp(ca, &env)
		if len(errs) > 0 {
			for _, b := range apps {
				b.Conn.Close()
			}
			return nil, errors.Join(errs...)
		}
		apps[a.Name] = a
	}
	return apps, nil
}

// CheckApps checks every app of cfg as LoadApps reads it (its keys, its
// connector's settings, its CEL expressions) without building any
// connector, and returns every problem of every app, each naming the app.
func CheckApps(cfg *config.Config) []error {
	var errs []error
	for _, ca := range cfg.Apps {
		_, e := loadApp(ca, nil)
		errs = append(errs, e...)
	}
	return errs
}

// loadApp reads one app; env nil: check only, no connector is built.
func loadApp(ca config.App, env *appEnv) (*provision.App, []error) {
	var errs []error
	bad := func(err error) { errs = append(errs, fmt.Errorf("app %q: %w", ca.Name, err)) }
	spec := provision.AppSpec{Config: ca}
	unknown, decodeErrs := config.DecodeSettings(ca.Settings, &spec.Settings)
	for _, err := range decodeErrs {
		bad(err)
	}
	k, known := connectors[ca.Connector]
	var settings any
	if known {
		spec.NameAttribute = k.nameAttribute
		var unk []string
		settings, unk, decodeErrs = k.decode(ca.Settings)
		unknown = intersect(unknown, unk)
		for _, err := range decodeErrs {
			bad(err)
		}
	} else {
		bad(fmt.Errorf("connector %q is not available (known: %s)", ca.Connector, strings.Join(connectorKinds(), ", ")))
	}
	if _, ok := ca.Settings["revoke_sessions_path"]; ok && ca.Connector != "scim" && known {
		bad(fmt.Errorf("revoke_sessions_path is for connector scim (webhook and manual apps always revoke sessions, ldap cannot)"))
	}
	// A key another kind of connector reads is let through, as it always was.
	for _, n := range connectorKinds() {
		_, unk, _ := connectors[n].decode(ca.Settings)
		unknown = intersect(unknown, unk)
	}
	for _, key := range unknown {
		bad(fmt.Errorf("unknown key %q", key))
	}
	if len(errs) > 0 || env == nil {
		_, e := provision.NewApp(spec)
		return nil, append(errs, e...)
	}
	conn, err := k.build(ca, settings, *env)
	if err != nil {
		return nil, []error{fmt.Errorf("app %q: %w", ca.Name, err)}
	}
	spec.Conn = conn
	a, e := provision.NewApp(spec)
	if len(e) > 0 {
		conn.Close()
		return nil, e
	}
	return a, nil
}

// intersect returns the elements of a (sorted) also in b.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
