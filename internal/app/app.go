// Package app wires Tango together for the command line and the server:
// it opens the store named by a DSN and loads the config.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/tango-iga/tango/internal/authz"
	"os"
	"strings"
	"time"

	"log/slog"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/scim"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/postgres"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/store/sqlstore"
	"github.com/tango-iga/tango/internal/workflow"
)

// Defaults from the public contract.
const (
	DefaultDSN    = "sqlite:./tango.db"
	DefaultConfig = "./tango.yaml"
)

// DSN returns the flag value, else $TANGO_DB, else the default.
func DSN(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv("TANGO_DB"); v != "" {
		return v
	}
	return DefaultDSN
}

// ConfigPath returns the flag value, else $TANGO_CONFIG, else the default.
func ConfigPath(flag string) (path string, explicit bool) {
	if flag != "" {
		return flag, true
	}
	if v := os.Getenv("TANGO_CONFIG"); v != "" {
		return v, true
	}
	return DefaultConfig, false
}

// OpenStore opens and migrates the store a DSN names: sqlite:PATH or postgres://….
func OpenStore(ctx context.Context, dsn string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	}
	return nil, fmt.Errorf("database %q: want sqlite:PATH or postgres://…", redactDSN(dsn))
}

// OpenExistingStore opens the store a DSN names for a command that only
// reads: a database that does not exist (or holds no Tango schema) is an
// error naming it and how to create one, and nothing is created.
func OpenExistingStore(ctx context.Context, dsn string) (store.Store, error) {
	var st store.Store
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		st, err = sqlite.OpenExisting(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		st, err = postgres.OpenExisting(ctx, dsn)
	default:
		return OpenStore(ctx, dsn)
	}
	if errors.Is(err, sqlstore.ErrNoDatabase) {
		what := "holds no Tango schema"
		if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
			if _, serr := os.Stat(strings.TrimPrefix(path, "//")); serr != nil {
				what = "does not exist"
			}
		}
		return nil, fmt.Errorf("database %s %s: a command that writes creates it (`tango hr import FILE` or `tango serve`); check --db and $TANGO_DB", redactDSN(dsn), what)
	}
	return st, err
}

// LoadConfig loads the config and runs CheckConfig on it; a missing
// default file means the built-in default.
func LoadConfig(flag string) (*config.Config, error) {
	cfg, _, err := CheckConfig(flag)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// CheckConfig is the one check of a config every command runs: the file
// itself (keys, values, references, secrets), the SCIM sources' mappings,
// the roles' conditions, the apps' connectors and expressions, and the
// playbooks. The error is a *config.Errors listing every problem at once.
// path is the file read ("" for the built-in config).
func CheckConfig(flag string) (*config.Config, string, error) {
	path, explicit := ConfigPath(flag)
	cfg, err := config.LoadCheck(path, !explicit)
	if cfg == nil {
		return nil, path, err
	}
	if !explicit && cfg.Path() == "" {
		path = ""
	}
	errs := &config.Errors{File: path}
	errs.Add(err)
	errs.Add(scim.CheckConfig(cfg))
	for _, r := range cfg.Roles {
		// Compile one role at a time so that each bad one is reported.
		one := *cfg
		one.Roles, one.SoD = []config.Role{r}, nil
		if _, err := policy.Compile(&one); err != nil && !strings.Contains(err.Error(), "grants unknown app") {
			errs.Add(err)
		}
	}
	errs.Add(CheckApps(cfg)...)
	errs.Add(workflow.Check(cfg))
	if _, err := authz.NewResolver(cfg, nil, time.Now); err != nil {
		for _, e := range unjoin(err) {
			errs.Add(e)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, path, err
	}
	return cfg, path, nil
}

// unjoin splits an errors.Join error into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		return "…" + dsn[i:]
	}
	return dsn
}

// Engine builds the provisioning engine for the config's apps and roles.
// A config without apps gets one too: every applied event is still
// planned for (with nothing to do) and marked so, which is what tells the
// playbooks' automated steps that there is no account to wait for. log
// and now (the clock) are required.
func Engine(st store.Store, cfg *config.Config, log *slog.Logger, now func() time.Time) (*provision.Engine, error) {
	pol, err := policy.Compile(cfg)
	if err != nil {
		return nil, err
	}
	apps, err := LoadApps(cfg, st, now)
	if err != nil {
		return nil, err
	}
	return provision.New(st, pol, apps, provision.Options{Log: log, Now: now, MoverGrace: cfg.Provisioning.MoverGrace, ReconcileTimeout: cfg.Provisioning.ReconcileTimeout}), nil
}

// Imports builds the import service every path that brings HR data in
// uses (hr import and approve/reject, POST /api/v1/imports, SCIM pushes).
// With eng, what is applied is planned for provisioning in the same
// transaction; now, the clock, is required.
func Imports(st store.Store, cfg *config.Config, eng *provision.Engine, now func() time.Time) *hr.Service {
	o := hr.ServiceOptions{Now: now}
	if eng != nil {
		o.Provision = eng.ForImport
	}
	return hr.NewService(st, cfg, o)
}
