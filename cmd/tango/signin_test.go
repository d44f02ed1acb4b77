package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/store"
)

// tangoIn is tango with stdin.
func tangoIn(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	root := newRoot()
	root.SetIn(strings.NewReader(stdin))
	var out, errb strings.Builder
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code := 0
	if err := root.Execute(); err != nil {
		code = exitFail
		if ee, ok := err.(*exitError); ok {
			code = ee.code
		}
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

// tango users and tango sessions: a password from stdin (too short
// refused), TOTP enabled once and disabled, sessions listed and revoked.
func TestUsersAndSessionsCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	csv := filepath.Join(dir, "hris.csv")
	os.WriteFile(csv, []byte("employee_name,user_id,email,role,department,supervisor\nAnn Boss,E1,ann@dtaa.com,CEO,Exec,\n"), 0o600)
	os.WriteFile(cfg, []byte(`org: {name: T, timezone: UTC}
sources:
  - name: hris
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor, employment_type: "'employee'"}
`), 0o600)
	g := []string{"--db", db, "--config", cfg}
	if _, stderr, code := tango(t, append(g, "hr", "import", csv)...); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	// Without signin.local.totp_key TOTP is not enabled, naming the key.
	if _, stderr, code := tangoIn(t, "", append(g, "users", "totp", "enable", "E1")...); code != exitFail || !strings.Contains(stderr, "signin.local.totp_key is not set") {
		t.Fatalf("totp without a key: %d %s", code, stderr)
	}
	keyFile := filepath.Join(dir, "totp.key")
	os.WriteFile(keyFile, []byte("0123456789abcdefghijklmnopqrstuvwxyz\n"), 0o600)
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "signin:\n  local: {totp_key: \"${file:%s}\"}\n", keyFile)
	f.Close()
	if _, stderr, code := tangoIn(t, "short\n", append(g, "users", "set-password", "E1")...); code != exitFail || !strings.Contains(stderr, "at least 12") {
		t.Fatalf("short password: %d %s", code, stderr)
	}
	if _, stderr, code := tangoIn(t, "a long enough password\n", append(g, "users", "set-password", "E9")...); code != exitFail || !strings.Contains(stderr, "E9") {
		t.Fatalf("unknown person: %d %s", code, stderr)
	}
	if _, stderr, code := tangoIn(t, "", append(g, "users", "totp", "enable", "E1")...); code != exitFail || !strings.Contains(stderr, "set a password first") {
		t.Fatalf("totp without an account: %d %s", code, stderr)
	}
	out, stderr, code := tangoIn(t, "a long enough password\n", append(g, "users", "set-password", "E1")...)
	if code != 0 || !strings.Contains(out, "password of E1 set") || strings.Contains(out+stderr, "a long enough password") {
		t.Fatalf("set-password: %d %q %s", code, out, stderr)
	}
	out, _, code = tangoIn(t, "", append(g, "users", "totp", "enable", "E1")...)
	if code != 0 || !strings.Contains(out, "otpauth://totp/Tango:E1?") || !strings.HasPrefix(out, "secret ") {
		t.Fatalf("totp enable: %d %q", code, out)
	}
	if out, _, code = tangoIn(t, "", append(g, "users", "totp", "disable", "E1")...); code != 0 || !strings.Contains(out, "TOTP disabled") {
		t.Fatalf("totp disable: %d %q", code, out)
	}

	// Sessions: made as the sign-in does, listed, revoked by ID and person.
	st, err := app.OpenStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, id := range []string{"aaa111", "bbb222", "ccc333"} {
		if err := st.InTx(t.Context(), func(tx store.Tx) error {
			return tx.InsertSession(store.Session{ID: id, Hash: "h" + id, Person: "E1", Method: "local", CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	out, _, code = tango(t, append(g, "sessions", "list", "--json")...)
	var ss []store.Session
	if code != 0 || json.Unmarshal([]byte(out), &ss) != nil || len(ss) != 3 || strings.Contains(out, "haaa111") {
		t.Fatalf("sessions list --json: %d %s", code, out)
	}
	if out, stderr, code = tango(t, append(g, "sessions", "revoke", "aaa111")...); code != 0 || !strings.Contains(out, "session aaa111 ended") {
		t.Fatalf("revoke: %d %s %s", code, out, stderr)
	}
	if _, stderr, code = tango(t, append(g, "sessions", "revoke", "aaa111")...); code != exitFail || !strings.Contains(stderr, "no live session") {
		t.Fatalf("revoke twice: %d %s", code, stderr)
	}
	if out, _, code = tango(t, append(g, "sessions", "revoke", "--person", "E1")...); code != 0 || !strings.Contains(out, "2 session(s) of E1 ended") {
		t.Fatalf("revoke --person: %d %s", code, out)
	}
	if out, _, code = tango(t, append(g, "sessions", "list")...); code != 0 || strings.Contains(out, "E1") {
		t.Fatalf("sessions list after revoking: %d %s", code, out)
	}
	if _, stderr, code = tango(t, append(g, "sessions", "revoke", "x", "--person", "E1")...); code != exitFail || !strings.Contains(stderr, "not both") {
		t.Fatalf("revoke with both: %d %s", code, stderr)
	}
}
