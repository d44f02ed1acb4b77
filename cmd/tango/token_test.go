package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A scim token made while the config has no source of kind scim is still
// created, with a warning on stderr that nothing can use it yet; with a
// scim source there is no warning.
func TestTokenCreateWarnsWithoutSCIMSource(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "t.db")
	none := filepath.Join(dir, "none.yaml")
	withSrc := filepath.Join(dir, "scim.yaml")
	os.WriteFile(none, []byte("org: {name: T, timezone: UTC}\n"), 0o600)
	os.WriteFile(withSrc, []byte("org: {name: T, timezone: UTC}\nsources:\n  - {name: workday, kind: scim}\n"), 0o600)

	out, stderr, code := tango(t, "--db", db, "--config", none, "token", "create", "--scope", "scim", "--name", "x")
	if code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("token create: %d %q %s", code, out, stderr)
	}
	if !strings.Contains(stderr, "warning: "+none+" has no source with `kind: scim`") || !strings.Contains(stderr, "404") {
		t.Fatalf("no warning for a scim token without a scim source: %s", stderr)
	}
	_, stderr, code = tango(t, "--db", db, "--config", withSrc, "token", "create", "--scope", "scim", "--name", "y")
	if code != 0 || strings.Contains(stderr, "warning") {
		t.Fatalf("token create with a scim source: %d %s", code, stderr)
	}
	_, stderr, code = tango(t, "--db", db, "--config", none, "token", "create", "--scope", "api", "--name", "z")
	if code != 1 || !strings.Contains(stderr, "give at least one --role") {
		t.Fatalf("a service token without a role: %d %s, want exit 1 naming --role", code, stderr)
	}
	_, stderr, code = tango(t, "--db", db, "--config", none, "token", "create", "--scope", "api", "--name", "z", "--role", "hr-feed")
	if code != 0 || strings.Contains(stderr, "warning") {
		t.Fatalf("api token: %d %s", code, stderr)
	}
	_, stderr, code = tango(t, "--db", db, "--config", none, "token", "create", "--scope", "api", "--name", "w", "--role", "superuser")
	if code != 1 || !strings.Contains(stderr, `role "superuser"`) {
		t.Fatalf("an unknown role: %d %s, want exit 1 naming it", code, stderr)
	}
}
