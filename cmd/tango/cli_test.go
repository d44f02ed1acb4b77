package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs the command line as main does (exit codes included) and
// returns stdout, stderr and the exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// A word that names no command is bad usage at every level, with cobra's
// suggestion; a command group alone still prints its help.
func TestUnknownCommandsAreUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args          []string
		word, suggest string
	}{
		{[]string{"hr", "imprt", "x.csv"}, "imprt", "import"},
		{[]string{"tasks", "reasign", "1"}, "reasign", "reassign"},
		{[]string{"audit", "verfy"}, "verfy", "verify"},
		{[]string{"imprt"}, "imprt", ""},
		{[]string{"hrr"}, "hrr", "hr"},
	} {
		out, stderr, code := cli(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, `unknown command "`+c.word+`"`) {
			t.Errorf("tango %s: exit %d, stdout %q, stderr %q; want exit 2 naming the word", strings.Join(c.args, " "), code, out, stderr)
		}
		if c.suggest != "" && !strings.Contains(stderr, "Did you mean this?\n\t"+c.suggest) {
			t.Errorf("tango %s: no suggestion of %q in %q", strings.Join(c.args, " "), c.suggest, stderr)
		}
	}
	out, _, code := cli(t, "hr")
	if code != exitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("tango hr: exit %d, %q; want its help", code, out)
	}
}

// Commands that only read refuse a database that does not exist, create
// nothing, and say how to create one.
func TestReadOnlyCommandsRefuseAMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nonexistent", "dir", "x.db")
	for _, args := range [][]string{
		{"audit", "verify"}, {"cases", "list"}, {"tasks", "list"}, {"token", "list"}, {"requests", "list"}, {"policy", "plan"}, {"ops", "list"},
		{"hr", "imports"}, {"audit", "list"}, {"findings", "list"}, {"apps", "list"},
	} {
		out, stderr, code := cli(t, append([]string{"--db", "sqlite:" + path}, args...)...)
		if code != exitFail || !strings.Contains(stderr, path+" does not exist") || !strings.Contains(stderr, "tango hr import") || strings.Contains(out, "intact") {
			t.Errorf("tango %s on a missing database: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexistent")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read-only command created the database's directory: %v", err)
	}
}

// One check of the config, run by every command, reports every error of
// the file at once; `tango config check` runs it alone.
func TestConfigCheckReportsEveryError(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`
sources:
  - {name: hris, format: tsv, key: user_id, mapping: {display_name: employee_name}}
apps:
  - {name: crm, connector: manul}
  - {name: wiki, connector: manual, drift: sometimes}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: crm}, {app: erp}]}
  - {name: admins, when: 'person.title ==', grants: [{app: wiki}]}
`), 0o600)
	wants := []string{
		`source "hris": format "tsv": want csv, json or xlsx`,
		`app "crm": connector "manul" is not available (known: ldap, manual, scim, webhook)`,
		`app "wiki": drift "sometimes": want report or remediate`,
		`role "staff": grants access to unknown app "erp"`,
		`role "admins"`,
		"5 errors",
	}
	for _, args := range [][]string{{"config", "check"}, {"policy", "plan"}} {
		out, stderr, code := cli(t, append([]string{"--config", bad, "--db", "sqlite:" + filepath.Join(dir, "t.db")}, args...)...)
		if code != exitFail || out != "" {
			t.Errorf("tango %s: exit %d, stdout %q; want 1 and nothing", strings.Join(args, " "), code, out)
		}
		for _, w := range wants {
			if !strings.Contains(stderr, w) {
				t.Errorf("tango %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, stderr)
			}
		}
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name}}
apps:
  - {name: wiki, connector: manual, owner: it}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: wiki}]}
`), 0o600)
	out, stderr, code := cli(t, "--config", good, "config", "check")
	if code != exitOK || !strings.Contains(out, "config "+good+" OK: 1 source(s), 1 app(s), 1 role(s)") {
		t.Fatalf("a good config: exit %d, %q %q", code, out, stderr)
	}
}
