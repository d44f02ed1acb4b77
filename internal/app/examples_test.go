package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/workflow"
)

var envRef = regexp.MustCompile(`\$\{env:([^}]*)\}`)

// TestExamplesLoad: every examples/*.yaml loads as tango's commands load
// it (config, SCIM source mappings, roles, apps and their connector
// settings, playbooks, access requests, notifications), with a value for
// each ${env:NAME} it names.
func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("examples: %v, want at least tango.yaml and quickstart.yaml", files)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range envRef.FindAllStringSubmatch(string(b), -1) {
				t.Setenv(m[1], "example-secret")
			}
			cfg, err := app.LoadConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Sources) == 0 {
				t.Fatal("no HR source")
			}
			ctx := context.Background()
			st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			eng, err := app.Engine(st, cfg, log, time.Now)
			if err != nil {
				t.Fatalf("apps and roles: %v", err)
			}
			if eng != nil {
				eng.Close()
			}
			if _, err := workflow.New(st, cfg, workflow.Options{Log: log, Now: time.Now}); err != nil {
				t.Fatalf("playbooks: %v", err)
			}
			if _, err := request.NewService(st, cfg, time.Now); err != nil {
				t.Fatalf("access requests: %v", err)
			}
			if _, err := notify.NewWorker(st, cfg.Notifications, notify.Options{Log: log, Now: time.Now}); err != nil {
				t.Fatalf("notifications: %v", err)
			}
		})
	}
}
