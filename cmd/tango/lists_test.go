package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A rejected feed is listed by `tango hr imports --status rejected` with its
// errors; `tango audit list` reads the trail by action and actor; `tango
// findings list` and `tango apps list` show what the API shows.
func TestReadOnlyListsCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	good, bad := filepath.Join(dir, "good.csv"), filepath.Join(dir, "bad.csv")
	os.WriteFile(good, []byte("employee_name,user_id,email\nAnn Boss,E1,ann@dtaa.com\n"), 0o600)
	os.WriteFile(bad, []byte("employee_name,user_id,email\nBob,E2,not-an-email\n"), 0o600)
	os.WriteFile(cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email}}
apps:
  - {name: console, connector: manual, owner: it}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: console}]}
`), 0o600)
	if _, stderr, code := tango(t, "--db", db, "--config", cfg, "hr", "import", good); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	_, stderr, code := tango(t, "--db", db, "--config", cfg, "hr", "import", bad)
	if code != exitFail || !strings.Contains(stderr, "as import imp_") {
		t.Fatalf("bad import: %d %s", code, stderr)
	}
	out, _, code := tango(t, "--db", db, "hr", "imports", "--status", "rejected", "--json")
	var imps []struct {
		ID     string `json:"import_id"`
		Status string
		Errors []struct {
			Row     int
			Column  string
			Message string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &imps) != nil || len(imps) != 1 || imps[0].Status != "rejected" ||
		len(imps[0].Errors) != 1 || imps[0].Errors[0].Row != 2 || imps[0].Errors[0].Column != "email" {
		t.Fatalf("hr imports --status rejected: %d %s", code, out)
	}
	out, _, _ = tango(t, "--db", db, "hr", "imports")
	if !strings.Contains(out, "rejected") || !strings.Contains(out, "applied") || !strings.Contains(out, imps[0].ID+": row 2:") {
		t.Errorf("hr imports table:\n%s", out)
	}
	if _, _, code := tango(t, "--db", db, "hr", "imports", "--status", "bogus"); code != exitUsage {
		t.Errorf("--status bogus: exit %d, want %d", code, exitUsage)
	}

	out, _, code = tango(t, "--db", db, "audit", "list", "--action", "hr.import", "--json")
	var ents []struct {
		Seq      int64
		Action   string
		ImportID string `json:"import_id"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &ents) != nil || len(ents) != 2 || ents[0].Action != "hr.import.applied" ||
		ents[1].Action != "hr.import.rejected" || ents[1].ImportID != imps[0].ID {
		t.Fatalf("audit list --action hr.import: %d %s", code, out)
	}
	out, _, _ = tango(t, "--db", db, "audit", "list", "--actor", "nobody", "--json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("audit list of an unknown actor: %q, want []", out)
	}
	out, _, _ = tango(t, "--db", db, "audit", "list", "--since", "1h", "--action", "hr")
	if !strings.Contains(out, "hr.joiner") || !strings.Contains(out, "hr.import.rejected") {
		t.Errorf("audit list table:\n%s", out)
	}
	out, _, code = tango(t, "--db", db, "audit", "list", "--subject", "E1", "--source", "hris", "--json")
	var about []struct{ Subject, Source, Action string }
	if code != 0 || json.Unmarshal([]byte(out), &about) != nil || len(about) == 0 {
		t.Fatalf("audit list --subject E1: %d %s", code, out)
	}
	for _, e := range about {
		if e.Subject != "E1" || e.Source != "hris" {
			t.Fatalf("audit list --subject E1 --source hris let through %+v", e)
		}
	}
	if _, _, code := tango(t, "--db", db, "audit", "list", "--since", "yesterday"); code != exitUsage {
		t.Errorf("--since yesterday: exit %d, want %d", code, exitUsage)
	}

	// The manual app has no accounts file: reconcile finds it unreadable,
	// its operations become tasks; apps list shows them done.
	tango(t, "--db", db, "--config", cfg, "reconcile")
	out, _, code = tango(t, "--db", db, "--config", cfg, "apps", "list")
	if code != 0 || !strings.Contains(out, "console") || !strings.Contains(out, "manual") {
		t.Errorf("apps list: %d\n%s", code, out)
	}
	out, _, code = tango(t, "--db", db, "--config", cfg, "apps", "list", "--json")
	var apps []struct{ Name string }
	if code != 0 || json.Unmarshal([]byte(out), &apps) != nil || len(apps) != 1 || apps[0].Name != "console" {
		t.Errorf("apps list --json: %d %s", code, out)
	}
	out, _, code = tango(t, "--db", db, "findings", "list", "--team", "security", "--state", "open", "--json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("findings list: %d %s", code, out)
	}
	if _, _, code := tango(t, "--db", db, "findings", "list", "--state", "bogus"); code != exitUsage {
		t.Errorf("findings --state bogus: exit %d, want %d", code, exitUsage)
	}
}
