// Package app wires Tango together for the command line and the server:
// it opens the store named by a DSN and loads the config.
package app

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"log/slog"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/scim"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/postgres"
	"github.com/tango-iga/tango/internal/store/sqlite"
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

// LoadConfig loads the config; a missing default file means the built-in default.
func LoadConfig(flag string) (*config.Config, error) {
	path, explicit := ConfigPath(flag)
	cfg, err := config.Load(path, !explicit)
	if err != nil {
		return nil, err
	}
	if err := scim.CheckConfig(cfg); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		return "…" + dsn[i:]
	}
	return dsn
}

// Engine builds the provisioning engine for the config's apps and roles;
// nil (and no error) when the config has no apps.
func Engine(st store.Store, cfg *config.Config, log *slog.Logger) (*provision.Engine, error) {
	if len(cfg.Apps) == 0 {
		return nil, nil
	}
	pol, err := policy.Compile(cfg)
	if err != nil {
		return nil, err
	}
	apps, err := provision.LoadApps(cfg, st)
	if err != nil {
		return nil, err
	}
	return provision.New(st, pol, apps, provision.Options{Log: log, Now: time.Now, MoverGrace: cfg.Provisioning.MoverGrace}), nil
}
