package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/tango-iga/tango/internal/store"
)

// The offboarding evidence of a leaver whose badge (a manual app) was
// disabled by IT: the bundle lists the leaver, the disable with its time,
// verifies offline, and a changed byte or an added file makes verify fail
// naming the file.
func TestEvidenceLeaversCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	feed := filepath.Join(dir, "hris.csv")
	key := filepath.Join(dir, "audit.key")
	if _, stderr, code := tango(t, "audit", "keygen", "--out", key); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	os.WriteFile(cfg, []byte(`
audit:
  checkpoint:
    signing_key: ${file:`+key+`}
    sink: {file: `+filepath.Join(dir, "checkpoints.jsonl")+`}
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor}, safeguards: {max_leavers: 5}}
apps:
  - {name: badge, connector: manual, owner: it}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: badge}]}
`), 0o600)
	run := func(args ...string) string {
		t.Helper()
		out, stderr, code := tango(t, append([]string{"--db", db, "--config", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("tango %v: exit %d: %s", args, code, stderr)
		}
		return out
	}
	completeWaiting := func() {
		t.Helper()
		var waiting []store.Operation
		if err := json.Unmarshal([]byte(run("ops", "list", "--state", "waiting", "--json")), &waiting); err != nil {
			t.Fatal(err)
		}
		for _, o := range waiting {
			run("tasks", "complete", strconv.FormatInt(o.TaskID, 10), "--evidence", "done by hand: "+o.Kind)
		}
	}
	head := "employee_name,user_id,email,role,department,supervisor\n"
	os.WriteFile(feed, []byte(head+"Ann Boss,E1,ann@dtaa.com,CEO,Exec,\nBob Admin,E2,bob@dtaa.com,ITAdmin,IT,Ann Boss\n=Eve Leaver,E3,eve@dtaa.com,Clerk,Ops,Ann Boss\n"), 0o600)
	run("hr", "import", feed)
	run("reconcile")
	completeWaiting()
	os.WriteFile(feed, []byte(head+"Ann Boss,E1,ann@dtaa.com,CEO,Exec,\nBob Admin,E2,bob@dtaa.com,ITAdmin,IT,Ann Boss\n"), 0o600)
	run("hr", "import", feed)
	run("reconcile")
	completeWaiting()

	out := filepath.Join(dir, "bundle")
	text := run("evidence", "export", "--leavers", "--since", "1d", "--out", out)
	if !strings.Contains(text, "1 leaver(s), 1 account operation(s)") {
		t.Fatalf("export said:\n%s", text)
	}
	rows := readCSV(t, filepath.Join(out, "leavers.csv"))
	if len(rows) != 2 || rows[1][1] != "E3" || rows[1][2] != "'=Eve Leaver" {
		t.Fatalf("leavers.csv: %q (want E3, its name kept from running as a formula)", rows)
	}
	col := func(name string) int {
		for i, h := range rows[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("leavers.csv has no column %s", name)
		return 0
	}
	if rows[1][col("accounts")] != "1" || rows[1][col("accounts_disabled")] != "1" || rows[1][col("time_to_disable_seconds")] == "" {
		t.Fatalf("E3's accounts: %q", rows[1])
	}
	acc := readCSV(t, filepath.Join(out, "accounts.csv"))
	if len(acc) != 2 || acc[1][2] != "badge" || acc[1][4] != "disable" || acc[1][7] != "done" {
		t.Fatalf("accounts.csv: %q", acc)
	}
	x, err := excelize.OpenFile(filepath.Join(out, "evidence.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := x.GetCellValue("leavers", "B2"); v != "E3" {
		t.Fatalf("evidence.xlsx leavers!B2 = %q", v)
	}
	x.Close()
	if pdf, _ := os.ReadFile(filepath.Join(out, "summary.pdf")); !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatal("summary.pdf is not a PDF")
	}
	if v := run("evidence", "verify", out); !strings.Contains(v, "intact") || !strings.Contains(v, "is signed by key") {
		t.Fatalf("verify with the config's key: %s", v)
	}
	t.Setenv("TANGO_CONFIG", "")
	t.Chdir(t.TempDir()) // no tango.yaml: no key
	if v, _, code := tango(t, "evidence", "verify", out); code != 0 || !strings.Contains(v, "was not checked") {
		t.Fatalf("verify without a key: exit %d %s", code, v)
	}
	// The manifest's checkpoint, forged: the signature no longer verifies.
	mp := filepath.Join(out, "manifest.json")
	orig, _ := os.ReadFile(mp)
	var m map[string]any
	json.Unmarshal(orig, &m)
	cp := m["checkpoint"].(map[string]any)
	cp["seq"] = cp["seq"].(float64) + 1
	forged, _ := json.Marshal(m)
	os.WriteFile(mp, forged, 0o600)
	if _, stderr, code := tango(t, "--config", cfg, "evidence", "verify", out); code != 1 || !strings.Contains(stderr, "checkpoint") {
		t.Fatalf("verify of a forged checkpoint: exit %d %s", code, stderr)
	}
	os.WriteFile(mp, orig, 0o600)
	if out, _, _ := tango(t, "--db", db, "--config", cfg, "audit", "list", "--action", "evidence.exported"); !strings.Contains(out, "evidence.exported") {
		t.Fatalf("no audit entry of the export:\n%s", out)
	}
	if _, stderr, code := tango(t, "evidence", "export", "--leavers", "--out", out, "--db", db, "--config", cfg); code != 1 || !strings.Contains(stderr, "already holds a bundle") {
		t.Fatalf("export over a bundle: exit %d %s", code, stderr)
	}

	// One byte changed in accounts.csv.
	p := filepath.Join(out, "accounts.csv")
	b, _ := os.ReadFile(p)
	b[len(b)-2] ^= 1
	os.WriteFile(p, b, 0o600)
	if _, stderr, code := tango(t, "evidence", "verify", out); code != 1 || !strings.Contains(stderr, "accounts.csv") {
		t.Fatalf("verify of a changed file: exit %d %s", code, stderr)
	}
	b[len(b)-2] ^= 1
	os.WriteFile(p, b, 0o600)
	os.WriteFile(filepath.Join(out, "extra.csv"), []byte("x\n"), 0o600)
	if _, stderr, code := tango(t, "evidence", "verify", out); code != 1 || !strings.Contains(stderr, "extra.csv not listed") {
		t.Fatalf("verify with an added file: exit %d %s", code, stderr)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}
